"""The inputs cache: identical inputs skip the work; any change, however small, never does."""

from __future__ import annotations

import os

from conftest import JURISDICTION, run, write

J = "raw/jurisdictions/ca/contra-costa-county.yaml"


def test_a_rebuild_with_nothing_changed_writes_nothing(project):
    assert run(project, "build").exit_code == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in (project / "datasets").iterdir()}
    result = run(project, "build")
    assert result.exit_code == 0 and result.stdout.startswith("outputs are current")
    assert {p.name: p.stat().st_mtime_ns for p in (project / "datasets").iterdir()} == stamps


def test_one_changed_byte_rebuilds(project):
    assert run(project, "build").exit_code == 0
    write(project / J, JURISDICTION.replace("Sheriff Example", "Sheriff Examplf"))
    result = run(project, "build")
    assert result.stdout.startswith("published")
    assert "Sheriff Examplf" in (project / "datasets/actions.csv").read_text()


def test_tampered_outputs_are_rebuilt(project):
    assert run(project, "build").exit_code == 0
    good = (project / "datasets/actions.csv").read_bytes()
    (project / "datasets/actions.csv").write_bytes(good.replace(b"Sheriff Example", b"Sheriff Tampered"))
    assert run(project, "build").stdout.startswith("published")
    assert (project / "datasets/actions.csv").read_bytes() == good


def test_an_extra_file_in_datasets_is_not_current_and_is_never_deleted(project):
    assert run(project, "build").exit_code == 0
    (project / "datasets/extra.csv").write_text("x\n")
    result = run(project, "build")
    assert result.exit_code == 1 and "datasets/extra.csv is not a file etl publishes; move it out of datasets/" in result.output
    assert (project / "datasets/extra.csv").read_text() == "x\n"


def test_validate_never_trusts_the_cache_after_an_edit(project):
    assert run(project, "validate").exit_code == 0
    assert run(project, "validate").exit_code == 0  # from the cache
    write(project / J, JURISDICTION.replace("stage: announced", "stage: maybe"))
    result = run(project, "validate")
    assert result.exit_code == 1 and "'maybe' is not allowed" in result.stdout


def test_a_corrupt_or_missing_cache_is_ignored(project):
    assert run(project, "build").exit_code == 0
    cached = [entry for entry in (project / ".etl-cache").rglob("*") if entry.is_file()]
    assert any(entry.parent.name == "derived" for entry in cached)
    for entry in cached:
        entry.write_text("{not json")
    assert run(project, "build").stdout.startswith("published")
    for entry in (project / ".etl-cache").rglob("*"):
        if entry.is_file():
            os.remove(entry)
    assert run(project, "validate").exit_code == 0


def test_build_check_never_uses_the_cache(project):
    assert run(project, "build").exit_code == 0
    (project / "datasets/actions.csv").write_text("tampered\n")
    result = run(project, "build", "--check")
    assert result.exit_code == 1 and "datasets/actions.csv" in result.stderr


def test_a_derived_table_is_made_again_exactly_when_what_it_reads_changed(project, monkeypatch):
    import etl.derived
    from etl.pipeline import load_dataset
    from etl.project import Project

    made = []
    real = etl.derived.DERIVATIONS["agreements_287g"]
    monkeypatch.setitem(etl.derived.DERIVATIONS, "agreements_287g",
                        etl.derived.Derivation(lambda frames, table: made.append(1) or real.make(frames, table), real.reads))
    write(project / "raw/jurisdictions/ca/yuba-county.yaml", "jurisdiction_id: ca-yuba-county\nname: Yuba County\nkind: county\n"
          "state: CA\nstate_fips: '06'\ncounty_fips: '06115'\nocd_id: ocd-division/country:us/state:ca/county:yuba\n")
    load_dataset(Project(project))
    load_dataset(Project(project))
    assert len(made) == 1  # the second run took it from the cache
    path = project / "raw/jurisdictions/ca/contra-costa-county.yaml"
    path.write_text(path.read_text() + "# a comment: the file's rows are read again, and come after the other file's\n")
    load_dataset(Project(project))
    assert len(made) == 1  # the same rows in another order are the same input
    path.write_text(path.read_text().replace("The jail stopped holding people for ICE.", "The jail stopped holding ICE detainees."))
    load_dataset(Project(project))
    assert len(made) == 1  # a summary is not among what the derivation reads
    path.write_text(path.read_text().replace("actor_name: Sheriff Example", "actor_name: Sheriff Other", 1))
    load_dataset(Project(project))
    assert len(made) == 2  # an actor's name is
    load_dataset(Project(project), use_cache=False)
    assert len(made) == 3  # and a run without the cache never uses it
