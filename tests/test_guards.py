"""What a command refuses about the project itself (issue 12): no raw records, outputs that are not
the last build's, files in datasets/ that etl did not write, and links where etl's own files go."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import run


def test_a_project_without_raw_records_is_an_error(project):
    shutil.rmtree(project / "raw")
    result = run(project, "build")
    assert result.exit_code == 1 and result.stdout.startswith("raw: holds no raw records")
    assert not (project / "datasets").exists()
    (project / "raw").write_text("not a folder")
    result = run(project, "validate")
    assert result.exit_code == 1 and result.stdout.startswith("raw: is not a folder")


def test_raw_may_not_be_a_link_to_elsewhere(project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (project / "raw").rename(elsewhere)
    (project / "raw").symlink_to(elsewhere)
    result = run(project, "validate")
    assert result.exit_code == 1 and result.stdout.startswith("raw: is not a folder (a link or a file)")


def test_outputs_checked_out_from_an_older_build_are_rebuilt(project):
    assert run(project, "build").exit_code == 0
    older = {path: (project / path).read_bytes() for path in ("datapackage.json", *(f"datasets/{p.name}" for p in (project / "datasets").iterdir()))}
    text = (project / "raw/sources/example-news.yaml").read_text()
    (project / "raw/sources/example-news.yaml").write_text(text.replace("An example story", "Another example story"))
    assert run(project, "build").exit_code == 0
    newer = (project / "datapackage.json").read_bytes()
    for path, blob in older.items():  # as `git checkout -- datasets datapackage.json` would leave them
        (project / path).write_bytes(blob)
    result = run(project, "build")
    assert result.exit_code == 0 and result.stdout.startswith("published")
    assert (project / "datapackage.json").read_bytes() == newer


def test_links_where_etls_own_files_go_are_refused_and_nothing_is_written_outside(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.arrow").write_bytes(b"not etl's")
    for name in (".etl-staging", "datasets"):
        (project / name).symlink_to(outside)
        result = run(project, "build")
        assert result.exit_code == 1 and f"{name} is a symbolic link" in result.output, result.output
        (project / name).unlink()
    shutil.rmtree(project / ".etl-cache", ignore_errors=True)
    (project / ".etl-cache").symlink_to(outside)
    assert run(project, "build").exit_code == 0  # a linked cache is not used
    (project / ".etl.lock").unlink()
    (project / ".etl.lock").symlink_to(outside / "lock")
    assert run(project, "build").exit_code == 1
    assert sorted(p.name for p in outside.iterdir()) == ["keep.arrow"]


def test_raw_files_reached_through_a_linked_folder_are_not_rewritten(project, tmp_path):
    elsewhere = tmp_path / "ca"
    (project / "raw/jurisdictions/ca").rename(elsewhere)
    (project / "raw/jurisdictions/ca").symlink_to(elsewhere)
    text = (elsewhere / "contra-costa-county.yaml").read_text()
    (elsewhere / "contra-costa-county.yaml").write_text(text.replace("kind: county", "kind:  county"))
    before = (elsewhere / "contra-costa-county.yaml").read_bytes()
    result = run(project, "fmt")
    assert result.exit_code == 1 and "through a symbolic link" in result.output, result.output
    assert (elsewhere / "contra-costa-county.yaml").read_bytes() == before


def test_a_pipe_in_datasets_does_not_hang_a_build(project):
    assert run(project, "build").exit_code == 0
    os.mkfifo(project / "datasets/pipe.csv")
    result = run(project, "build")
    assert result.exit_code == 1 and "datasets/pipe.csv is not a file etl publishes" in result.output


def test_a_folder_that_cannot_be_read_is_a_problem_not_a_crash(project, monkeypatch):
    import etl.project

    real = etl.project.os.scandir
    locked = project / "raw/jurisdictions/ca"

    def scandir(path):
        if isinstance(path, (str, os.PathLike)) and Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(etl.project.os, "scandir", scandir)
    result = run(project, "validate")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "raw/jurisdictions/ca: is a folder that cannot be read (no permission)" in result.stdout


def test_outputs_that_cannot_be_replaced_are_a_clear_error(project, monkeypatch):
    import etl.publish

    assert run(project, "build").exit_code == 0
    write_source = (project / "raw/sources/example-news.yaml")
    write_source.write_text(write_source.read_text().replace("An example story", "Another story"))

    def immutable(a, b):
        raise PermissionError(1, "Operation not permitted", str(b))

    monkeypatch.setattr(etl.publish, "_exchange", immutable)
    result = run(project, "build")
    assert result.exit_code == 1 and "cannot replace the published outputs (Operation not permitted" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("when, says", [("before", "published outputs are unchanged"), ("after", "the new outputs were published")])
def test_ctrl_c_says_truly_whether_the_outputs_changed(when, says, project, monkeypatch):
    import etl.api
    import etl.publish

    monkeypatch.setattr(etl.publish, "committed", False)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if when == "before":
        monkeypatch.setattr(etl.publish, "render", interrupt)
    else:
        monkeypatch.setattr(etl.api, "remember", interrupt)  # right after the outputs were swapped in
    result = run(project, "build")
    assert result.exit_code == 130 and result.stderr == f"etl: interrupted; {says}\n"
    assert (project / "datapackage.json").exists() == (when == "after")


def test_a_raw_folder_etl_cannot_write_is_a_clear_error(project, monkeypatch):
    import etl.rawwrite

    def unwritable(path, blob, sync=False, like=None):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(etl.rawwrite, "write_atomically", unwritable)
    result = run(project, "new", "source", "--url", "https://example.org/2", "--publisher", "P", "--id", "second")
    assert result.exit_code == 1 and "cannot write" in result.output and "nothing was changed" in result.output
    assert "Traceback" not in result.output and not (project / "raw/sources/second.yaml").exists()
