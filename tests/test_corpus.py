"""The corpus of malformed raw inputs (tests/corpus/cases/): each gets exit code 1, exactly its expected
problems (file, line, field, message), no traceback, and leaves the published outputs byte-for-byte
unchanged. tests/corpus/make_cases.py says how cases are written."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from conftest import make_project, run

CASES = Path(__file__).parent / "corpus" / "cases"
TARGETS = {
    "j": "raw/jurisdictions/ca/contra-costa-county.yaml",
    "s": "raw/sources/example-news.yaml",
    "j2": "raw/jurisdictions/ca/alameda-county.yaml",
    "s2": "raw/sources/second-source.yaml",
    "stray": "raw/jurisdictions/stray.yaml",
}
INPUTS = sorted(CASES.glob("*.yaml"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A valid project, built once; each case works on a copy."""
    root = make_project(tmp_path_factory.mktemp("corpus") / "project")
    assert run(root, "build").exit_code == 0
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    files = sorted((root / "datasets").iterdir()) + [root / "datapackage.json"]
    return {p.name: p.read_bytes() for p in files}


def place(case: Path, root: Path) -> None:
    name, target, _ = case.name.rsplit(".", 2)
    destination = root / TARGETS[target]
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(case.read_bytes())


def expected_of(case: Path) -> str:
    text = case.with_name(case.name.rsplit(".", 2)[0] + ".expected").read_text("utf-8")
    return text.replace("{today}", dt.date.today().isoformat())


def test_the_corpus_has_at_least_100_cases():
    assert len(INPUTS) >= 100
    for case in INPUTS:
        assert case.with_name(case.name.rsplit(".", 2)[0] + ".expected").exists(), case.name


@pytest.mark.parametrize("case", INPUTS, ids=[p.name.rsplit(".", 2)[0] for p in INPUTS])
def test_malformed_input(case: Path, built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root)
    before = snapshot(root)
    place(case, root)
    result = run(root, "build")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == expected_of(case)
    for line in result.stdout.splitlines():
        assert line.startswith("raw/") and ":" in line  # every problem names its file (and line, where there is one)
    assert snapshot(root) == before


def test_a_very_large_file(built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root)
    before = snapshot(root)
    (root / TARGETS["s2"]).write_bytes(b"notes: " + b"x" * (6 * 1024 * 1024) + b"\n")
    result = run(root, "build")
    assert result.exit_code == 1
    assert result.stdout == "raw/sources/second-source.yaml: is 6,291,464 bytes; a raw file may hold at most 5,242,880 (split it)\n"
    assert snapshot(root) == before


def test_a_huge_file_is_refused_unread(built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root)
    with open(root / TARGETS["s2"], "wb") as handle:
        handle.truncate(6 * 1024**3)  # 6 GB, sparse: reading it whole would take the memory
    result = run(root, "validate")
    assert result.exit_code == 1
    assert result.stdout == "raw/sources/second-source.yaml: is 6,442,450,944 bytes; a raw file may hold at most 5,242,880 (split it)\n"


def test_a_symbolic_link_out_of_raw(built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root)
    before = snapshot(root)
    outside = tmp_path / "outside.yaml"
    outside.write_text("source_id: second-source\n")
    os.symlink(outside, root / TARGETS["s2"])
    (root / "raw/jurisdictions/nv").symlink_to(tmp_path, target_is_directory=True)
    shutil.copy(outside, tmp_path / "elsewhere.yaml")
    result = run(root, "build")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "raw/jurisdictions/nv: is a symbolic link; raw files must be plain files inside raw/",
        "raw/jurisdictions/nv/elsewhere.yaml: lies outside raw/ (through a symbolic link); raw files must be plain files inside raw/",
        "raw/jurisdictions/nv/outside.yaml: lies outside raw/ (through a symbolic link); raw files must be plain files inside raw/",
        "raw/sources/second-source.yaml: is a link or not a regular file; raw files must be plain files inside raw/",
    ]
    assert snapshot(root) == before
