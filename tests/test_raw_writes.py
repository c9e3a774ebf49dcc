"""Every write to raw/ (fmt, new, import) is all or nothing, locked, never over a file that changed
since it was read, never losing a comment or a value, and keeps the file's permissions. Kills land at
named checkpoints (etl/checkpoints.py), so the tests wait for a state, never a time."""

from __future__ import annotations

import datetime as dt
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import JURISDICTION, REPO, run, write
from test_import_ice_287g import EDITION, HEADER, SAVED, do_import, raw_snapshot, rows_v1, workbook

from etl.checkpoints import VARIABLE
from etl.files import exclusive
from etl.project import Project
from etl.rawwrite import JOURNAL, comment_lines

J = "raw/jurisdictions/ca/contra-costa-county.yaml"


def etl(root: Path, *args: str, checkpoint: str | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **({VARIABLE: checkpoint} if checkpoint else {})}
    return subprocess.run([sys.executable, "-m", "etl", "--root", str(root), *args], cwd=REPO, env=environment,
                          capture_output=True, text=True)


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "raw").rglob("*") if p.name.endswith(".tmp")) + ([JOURNAL] if (root / JOURNAL).exists() else [])


@pytest.mark.parametrize("checkpoint", ["raw.staged:kill", "raw.journaled:kill", "raw.renamed:kill:1", "raw.renamed:kill:3"])
def test_an_import_killed_at_any_step_is_all_or_nothing_after_the_next_command(checkpoint, importing, tmp_path):
    root, registry = importing
    sheet = workbook(tmp_path / EDITION, HEADER, rows_v1())
    whole = tmp_path / "whole"
    import shutil

    shutil.copytree(root, whole)
    assert do_import(whole, registry, sheet).exit_code == 0
    assert run(root, "archive", "ice-287g", str(sheet), "--obtained-from", "https://www.ice.gov/").exit_code == 0
    killed = etl(root, "import", "ice-287g", "--registry", str(registry), checkpoint=checkpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert leftovers(root)  # the kill left temporary files, and perhaps a journal
    after = run(root, "validate")  # the next command: finishes a journaled import, ignores the rest
    if checkpoint == "raw.staged:kill":
        assert raw_snapshot(root) == {}  # nothing was imported
        assert run(root, "fmt").exit_code == 0  # a command that changes raw/ deletes the leftovers
    else:
        assert after.exit_code == 0, after.output
        assert raw_snapshot(root) == raw_snapshot(whole)  # everything was imported
    assert leftovers(root) == []


def test_a_stray_temporary_file_blocks_nothing_and_is_removed(project):
    write(project / "raw/jurisdictions/ca/.contra-costa-county.yaml.abcd1234.tmp", "half")
    assert run(project, "validate").exit_code == 0
    assert run(project, "new", "source", "--url", "https://example.org/2", "--publisher", "P", "--id", "second").exit_code == 0
    assert leftovers(project) == []


def test_fmt_refuses_to_drop_a_comment(project):
    text = JURISDICTION.replace("kind: county\n", "kind: county   # checked with the Census list\n").replace("name: Contra", "name:  Contra")
    write(project / J, text)
    before = (project / J).read_bytes()
    result = run(project, "fmt")
    assert result.exit_code == 1
    assert result.stdout == f"{J}:3: has a comment, which a rewrite would drop; move it into a notes field or remove it\n"
    assert (project / J).read_bytes() == before


def test_comments_are_told_from_hashes_inside_values():
    text = "a: 'x # y'\nb: x#y\n# whole line\nc: |\n  # in a block\nd: v  # trailing\n"
    assert comment_lines(text) == [3, 6]


def test_fmt_keeps_every_value_even_line_breaks_yaml_would_fold(project):
    write(project / J, JURISDICTION.replace("name: Contra Costa County", 'name: "Contra Costa\\NCounty"', 1).replace("kind: county", "kind:  county"))
    assert run(project, "fmt").exit_code == 0
    text = (project / J).read_text()
    assert 'name: "Contra Costa\\NCounty"' in text and "\x85" not in text  # the escape, never the raw character
    from etl.load import read_raw_file

    raw, _ = read_raw_file(project / J, J)
    assert raw is not None and raw.data["name"] == "Contra Costa\x85County"


def test_fmt_refuses_a_rewrite_that_would_read_otherwise(project, monkeypatch):
    import etl.canonical

    write(project / J, JURISDICTION.replace("kind: county", "kind:  county"))
    before = (project / J).read_bytes()
    real = etl.canonical.dump
    monkeypatch.setattr(etl.canonical, "dump", lambda schemas, table, record: real(schemas, table, record).replace("Sheriff Example", "Sheriff"))
    result = run(project, "fmt")
    assert result.exit_code == 1 and "would read differently once rewritten" in result.output
    assert (project / J).read_bytes() == before


def test_new_action_refuses_a_file_it_cannot_write_back_exactly(project):
    assert run(project, "fmt").exit_code == 0
    for text in (JURISDICTION.replace("kind: county\n", "kind: county  # a comment\n"), JURISDICTION + "nmae: typo\n"):
        write(project / J, text)
        before = (project / J).read_bytes()
        result = run(project, "new", "action", "ca-contra-costa-county")
        assert result.exit_code == 1, result.output
        assert (project / J).read_bytes() == before


def test_a_file_changed_while_fmt_works_is_not_overwritten(project, monkeypatch):
    import etl.rawfiles

    write(project / J, JURISDICTION.replace("kind: county", "kind:  county"))
    real = etl.rawfiles._rewrites

    def and_an_editor_saves(project_, paths):
        found = real(project_, paths)
        (project / J).write_text(JURISDICTION.replace("Sheriff Example", "Sheriff Edited"))
        return found

    monkeypatch.setattr(etl.rawfiles, "_rewrites", and_an_editor_saves)
    result = run(project, "fmt")
    assert result.exit_code == 1 and "changed while etl was working on it; nothing was written" in result.output
    assert "Sheriff Edited" in (project / J).read_text()


def test_writers_take_the_projects_lock(project):
    with exclusive(Project(project).lock_file):
        for args in (("fmt",), ("new", "action", "ca-contra-costa-county"), ("build",),
                     ("new", "source", "--url", "https://example.org/2", "--publisher", "P", "--id", "second")):
            result = run(project, *args)
            assert result.exit_code == 1 and "another etl command is changing this project" in result.output, args
    assert not (project / "raw/sources/second.yaml").exists()


def test_rewrites_keep_permissions_and_new_files_get_the_usual_ones(project):
    write(project / J, JURISDICTION.replace("kind: county", "kind:  county"))
    (project / J).chmod(0o640)
    assert run(project, "fmt").exit_code == 0
    assert stat.S_IMODE((project / J).stat().st_mode) == 0o640
    assert run(project, "new", "action", "ca-contra-costa-county").exit_code == 0
    assert stat.S_IMODE((project / J).stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        assert run(project, "new", "source", "--url", "https://example.org/2", "--publisher", "P", "--id", "second").exit_code == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((project / "raw/sources/second.yaml").stat().st_mode) == 0o644


@pytest.mark.parametrize("args", [
    ("new", "action", "va-../../../imports/ice-287g-agencies"),
    ("new", "source", "--url", "https://example.org/x", "--publisher", "P", "--id", "../../../x"),
    ("new", "jurisdiction", "--state", "../..", "--name", "Somewhere", "--kind", "county"),
    ("new", "jurisdiction", "--state", "VA", "--name", "!!!", "--kind", "county"),
])
def test_ids_and_names_from_the_command_line_make_no_path_outside_the_layout(args, project):
    before = sorted(p.relative_to(project).as_posix() for p in project.rglob("*"))
    result = run(project, *args)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.name != ".etl.lock") == before


@pytest.mark.parametrize("change, saved", [
    (lambda rows: rows[0].__setitem__(1, "@SUM(A1:A9) Sheriff's Office"), SAVED),  # '=' would be a formula, read as empty
    (lambda rows: rows[0].__setitem__(1, "Cherokee County Sheriff's Office " + "x" * 300), SAVED),
    (lambda rows: None, dt.datetime(2999, 1, 1)),  # an edition dated after today
])
def test_an_import_that_would_write_invalid_records_writes_nothing(change, saved, importing, tmp_path):
    root, registry = importing
    rows = rows_v1()
    change(rows)
    result = do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows, saved))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert raw_snapshot(root) == {} and leftovers(root) == []


@pytest.mark.parametrize("checkpoint", ["raw.staged:kill", "raw.journaled:kill", "raw.renamed:kill:1"])
def test_fmt_and_new_killed_at_any_step_are_all_or_nothing(checkpoint, project):
    source = project / "raw/sources/example-news.yaml"
    write(project / J, JURISDICTION.replace("kind: county", "kind:  county"))
    source.write_text(source.read_text().replace("kind: news", "kind:   news"))
    before = raw_snapshot(project)
    assert etl(project, "fmt", checkpoint=checkpoint).returncode == -signal.SIGKILL
    assert run(project, "validate").exit_code == 0
    after = raw_snapshot(project)
    changed = [name for name in before if after[name] != before[name]]
    assert len(changed) in (0, 2), f"fmt rewrote {changed}, one file of two"
    assert (len(changed) == 2) == (checkpoint != "raw.staged:kill")
    killed = etl(project, "new", "source", "--url", "https://example.org/2", "--publisher", "P", "--id", "second", checkpoint=checkpoint)
    assert killed.returncode == -signal.SIGKILL
    assert run(project, "validate").exit_code in (0, 1)  # the new source is uncited: a problem, as it should be
    assert (project / "raw/sources/second.yaml").exists() == (checkpoint != "raw.staged:kill")
    assert leftovers(project) == [] or checkpoint == "raw.staged:kill"


def test_an_import_refuses_to_rewrite_a_file_that_is_not_canonical(importing, tmp_path):
    root, registry = importing
    sheet = workbook(tmp_path / EDITION, HEADER, rows_v1())
    assert do_import(root, registry, sheet).exit_code == 0
    target = root / "raw/ice-287g/al.yaml"
    target.write_text(target.read_text().replace("state_key: al\n", "state_key: al  # checked\n"))
    before = raw_snapshot(root)
    newer = [row[:5] + [row[5]] + row[6:] for row in rows_v1()] + [
        ["ALABAMA", "Cherokee County Sheriff's Office", "County", "Cherokee County", "Task Force Model", dt.datetime(2025, 12, 1), "link", None]]
    result = do_import(root, registry, workbook(tmp_path / "participatingAgencies02012026am.xlsx", HEADER, newer, dt.datetime(2026, 2, 1, 14)))
    assert result.exit_code == 1 and "is not in canonical form" in result.output, result.output
    assert raw_snapshot(root) == before
