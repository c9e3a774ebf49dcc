"""The library API under the CLI, and what each command imports: a command that finds nothing to do
never imports the heavy libraries, and `etl --help` imports none."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import JURISDICTION, REPO, write

from etl import api
from etl.files import write_atomically
from etl.problems import ProblemError
from etl.project import Project

HEAVY = ("pandera", "polars", "pyarrow", "pandas")
PROBE = """
import sys
from etl.cli import cli
try:
    cli(sys.argv[1:], prog_name="etl")
except SystemExit as end:
    assert not end.code, end.code
print("imported:" + ",".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[0].split(",")))))
"""


def imported(*args: str) -> set[str]:
    """The heavy libraries that a fresh process running `etl ARGS` imported."""
    result = subprocess.run([sys.executable, "-c", PROBE.replace("sys.argv[0]", repr(",".join(HEAVY))), *args],
                            capture_output=True, text=True, cwd=REPO, check=True)
    line = next(line for line in result.stdout.splitlines() if line.startswith("imported:"))
    return set(filter(None, line.removeprefix("imported:").split(",")))


def test_validate_and_build_through_the_api(project):
    root = Project(project)
    assert api.validate(root) == {"jurisdictions": 1, "actions": 2, "citations": 2, "action_links": 1, "sources": 1, "source_files": 0,
                                  "ice_287g_states": 0, "listings_287g": 0, "listing_runs_287g": 0, "agreements_287g": 0, "editions_287g": 0,
                                  "ice_detention_states": 0, "detention_listings": 0, "detention_listing_runs": 0, "detention_figures": 0,
                                  "detention_facilities": 0, "detention_facility_runs": 0, "editions_detention": 0, "detention_consistency": 2}
    built = api.build(root)
    assert built.files == 40 and not built.current
    assert api.build(root).current
    assert api.stale_outputs(root) == ([], 40)
    assert "act-aaaaaaaa" in (api.show(root, "ca-contra-costa-county").text or "")
    assert api.show(root, "contra-costa-county").record["jurisdiction"]["jurisdiction_id"] == "ca-contra-costa-county"  # type: ignore[index]
    assert api.stats(root)["actions"] == 2


def test_the_api_raises_problems_with_their_places(project):
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", JURISDICTION.replace("stage: announced", "stage: maybe"))
    with pytest.raises(ProblemError) as caught:
        api.validate(Project(project))
    assert [(p.file, p.line, p.field) for p in caught.value.problems] == [("raw/jurisdictions/ca/contra-costa-county.yaml", 12, "actions[0].stage")]


def test_help_imports_no_heavy_library():
    assert imported("--help") == set()


def test_validate_with_nothing_changed_imports_no_heavy_library(project):
    assert imported("--root", str(project), "validate") >= {"pandera", "polars", "pyarrow"}  # the first run checks
    assert imported("--root", str(project), "validate") == set()
    assert imported("--root", str(project), "build") >= {"pyarrow"}
    assert imported("--root", str(project), "build") == set()


def test_an_atomic_write_keeps_the_files_permissions_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "record.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomically(path, b"new\n")
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.yaml"
    umask = os.umask(0o022)
    try:
        write_atomically(fresh, b"x\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.yaml", "record.yaml"]


def test_a_failed_atomic_write_leaves_the_old_bytes(tmp_path: Path):
    path = tmp_path / "record.yaml"
    path.write_text("old\n")

    def fail(stream):
        stream.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomically(path, fail)
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["record.yaml"]
