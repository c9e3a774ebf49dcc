"""The published package: Frictionless-valid, verifiable, and swapped in all at once."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest
from conftest import JURISDICTION, run, write
from frictionless import Package

from etl.files import exclusive
from etl.problems import CommandError
from etl.project import STAGING, Project
from etl.publish import recover


def test_frictionless_validates_the_package(project):
    assert run(project, "build").exit_code == 0
    report = Package(str(project / "datapackage.json")).validate()
    assert report.valid, report.flatten(["title", "message"])
    assert len(report.tasks) == 2 * len(Project(project).schemas.tables) + 1  # every table as CSV and as Parquet, and the checksums


def test_package_metadata(project):
    assert run(project, "build").exit_code == 0
    package = json.loads((project / "datapackage.json").read_text())
    for key in ("name", "title", "description", "version", "licenses", "sources", "contributors", "keywords"):
        assert package[key], key
    assert {license["name"] for license in package["licenses"]} == {"CC-BY-4.0", "MIT"}
    for resource in package["resources"]:
        assert resource["hash"].startswith("sha256:")


def test_every_published_file_can_be_verified(project):
    assert run(project, "build").exit_code == 0
    package = json.loads((project / "datapackage.json").read_text())
    for resource in package["resources"]:
        blob = (project / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(blob).hexdigest()
        if "bytes" in resource:
            assert resource["bytes"] == len(blob)
    with open(project / "datasets/checksums.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["path"] for row in rows} == {r["path"] for r in package["resources"]} - {"datasets/checksums.csv"}
    for row in rows:
        blob = (project / row["path"]).read_bytes()
        assert int(row["bytes"]) == len(blob) and row["sha256"] == hashlib.sha256(blob).hexdigest()


def test_primary_and_foreign_keys_are_declared(project):
    assert run(project, "build").exit_code == 0
    resources = {r["name"]: r for r in json.loads((project / "datapackage.json").read_text())["resources"]}
    assert resources["actions"]["schema"]["primaryKey"] == ["action_id"]
    assert resources["citations"]["schema"]["foreignKeys"][1]["reference"] == {"resource": "sources", "fields": ["source_id"]}
    assert resources["citations-parquet"]["schema"]["foreignKeys"][1]["reference"]["resource"] == "sources-parquet"
    assert not any(key.startswith("x-") for r in resources.values() for f in r["schema"]["fields"] for key in f)


def test_an_interrupted_publish_is_completed_by_the_next_command(project):
    """A build killed after its outputs were complete, between the two renames, is rolled forward."""
    assert run(project, "build").exit_code == 0
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", JURISDICTION.replace("Sheriff Example", "Sheriff Other"))
    assert run(project, "build").exit_code == 0
    new = {p.name: p.read_bytes() for p in (project / "datasets").iterdir()} | {"datapackage.json": (project / "datapackage.json").read_bytes()}
    # Recreate the state between the renames: new datasets/ live, old datapackage.json still in place.
    staging = project / STAGING
    staging.mkdir()
    (staging / "datapackage.json").write_bytes(new["datapackage.json"])
    (staging / "COMPLETE").write_bytes(b"")
    (project / "datapackage.json").write_text("{}")
    recover(Project(project))
    assert (project / "datapackage.json").read_bytes() == new["datapackage.json"]
    assert not staging.exists()


def test_an_incomplete_staging_folder_is_discarded(project):
    assert run(project, "build").exit_code == 0
    before = (project / "datapackage.json").read_bytes()
    (project / STAGING / "datasets").mkdir(parents=True)
    (project / STAGING / "datasets" / "actions.csv").write_text("half")
    recover(Project(project))
    assert not (project / STAGING).exists()
    assert (project / "datapackage.json").read_bytes() == before


def test_a_second_build_at_the_same_time_is_refused(project):
    lock = Project(project).lock_file
    with exclusive(lock):
        with pytest.raises(CommandError, match="another etl command is changing this project"), exclusive(lock):
            pass
        result = run(project, "build")
    assert result.exit_code == 1 and "another etl command is changing this project" in result.output


def test_an_unwritable_output_folder_is_a_clear_error_and_loses_nothing(project):
    assert run(project, "build").exit_code == 0
    before = (project / "datapackage.json").read_bytes()
    (project / STAGING).write_text("a file where the staging folder goes")  # cannot be made a folder
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", JURISDICTION.replace("Sheriff Example", "Sheriff Other"))
    result = run(project, "build")
    assert result.exit_code == 1 and "cannot write the outputs" in result.output and "Traceback" not in result.output
    assert (project / "datapackage.json").read_bytes() == before
