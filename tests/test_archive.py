"""The archive keeps every official input once, by content, and lists every name it was obtained under."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from conftest import REPO, make_project, run

from etl.archive import MANIFEST, read_manifest
from etl.project import Project


def origin(folder: Path, files: dict[str, bytes], absent: dict[str, bytes] | None = None) -> Path:
    """A folder of files and a manifest of their origin; `absent` names are listed but not present."""
    folder.mkdir(parents=True)
    rows = []
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
        rows.append({"file": name, "sha256": hashlib.sha256(blob).hexdigest(), "obtained_from": f"example@1:{name}", "note": ""})
    for name, blob in (absent or {}).items():
        rows.append({"file": name, "sha256": hashlib.sha256(blob).hexdigest(), "obtained_from": f"example@1:{name}", "note": ""})
    with open(folder / "MANIFEST.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "sha256", "obtained_from", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return folder / "MANIFEST.csv"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "archive").rglob("*")) if p.is_file()}


def test_each_content_is_kept_once_and_every_name_is_listed(tmp_path):
    root = make_project(tmp_path / "project")
    manifest = origin(tmp_path / "in", {"a.xlsx": b"one", "b.xlsx": b"two", "c.xlsx": b"one"}, absent={"d.xlsx": b"two"})
    result = run(root, "archive", "ice-287g", str(tmp_path / "in"), "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    assert "archived 2 files and 4 names" in result.output
    assert sorted(p.name for p in (root / "archive/ice-287g").iterdir()) == ["a.xlsx", "b.xlsx"]
    rows = {row["file"]: row for row in read_manifest(Project(root))}
    assert rows["c.xlsx"]["archived_as"] == "archive/ice-287g/a.xlsx" and rows["c.xlsx"]["note"] == "same bytes as a.xlsx"
    assert rows["d.xlsx"]["archived_as"] == "archive/ice-287g/b.xlsx" and rows["d.xlsx"]["bytes"] == "3"
    before = snapshot(root)
    again = run(root, "archive", "ice-287g", str(tmp_path / "in"), "--manifest", str(manifest))
    assert "archived 0 files and 0 names; 4 names were already archived" in again.output
    assert snapshot(root) == before


def test_a_file_whose_bytes_differ_from_its_manifest_is_refused_and_nothing_written(tmp_path):
    root = make_project(tmp_path / "project")
    manifest = origin(tmp_path / "in", {"a.xlsx": b"one", "b.xlsx": b"two"})
    (tmp_path / "in/b.xlsx").write_bytes(b"changed")
    result = run(root, "archive", "ice-287g", str(tmp_path / "in"), "--manifest", str(manifest))
    assert result.exit_code == 1
    assert "b.xlsx: its bytes hash to" in result.output and "Traceback" not in result.output
    assert not (root / "archive").exists()


def test_an_archived_name_never_changes_its_bytes(tmp_path):
    root = make_project(tmp_path / "project")
    (tmp_path / "in").mkdir()
    (tmp_path / "in/a.xlsx").write_bytes(b"one")
    assert run(root, "archive", "ice-287g", str(tmp_path / "in/a.xlsx"), "--obtained-from", "https://www.ice.gov/").exit_code == 0
    before = snapshot(root)
    (tmp_path / "in/a.xlsx").write_bytes(b"other")
    result = run(root, "archive", "ice-287g", str(tmp_path / "in/a.xlsx"), "--obtained-from", "https://www.ice.gov/")
    assert result.exit_code == 1 and "is archived with other bytes" in result.output
    assert snapshot(root) == before


def test_where_files_came_from_must_be_said(tmp_path):
    root = make_project(tmp_path / "project")
    (tmp_path / "a.xlsx").write_bytes(b"one")
    result = run(root, "archive", "ice-287g", str(tmp_path / "a.xlsx"))
    assert result.exit_code == 1 and "--obtained-from" in result.output


def test_the_repositorys_archive_matches_its_manifest():
    rows = read_manifest(Project(REPO))
    assert rows, "the repository archives the official files it imports"
    for row in rows:
        blob = (REPO / row["archived_as"]).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == row["sha256"] and len(blob) == int(row["bytes"]), row["file"]
    kept = {row["archived_as"] for row in rows}
    on_disk = {str(p.relative_to(REPO)) for p in (REPO / "archive").rglob("*") if p.is_file()} - {MANIFEST}
    assert on_disk == kept, "every archived file is named in the manifest, and only once by content"


def test_the_manifest_is_valid_against_its_schema():
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(frictionless.Resource(path=MANIFEST, schema="schemas/archive/manifest.schema.json", basepath=str(REPO)))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])[:5]
