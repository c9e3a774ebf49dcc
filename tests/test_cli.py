"""The commands, through Click's CliRunner, on small projects in temporary folders."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pyarrow.parquet as pq
import pytest
from conftest import JURISDICTION, make_project, run, write

from etl.cli import cli
from etl.load import read_raw_file

J = "raw/jurisdictions/ca/contra-costa-county.yaml"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every published file's bytes."""
    files = sorted((root / "datasets").glob("*")) + [root / "datapackage.json"]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files if p.exists()}


def all_commands(group: click.Group, path=()):
    for name, command in group.commands.items():
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, path + (name,))


@pytest.mark.parametrize("path, command", list(all_commands(cli)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help(path, command):
    assert command.help and len(command.help.strip()) > 20
    assert run(Path("."), *path, "--help").exit_code == 0


def test_validate_reports_valid_data(project):
    result = run(project, "validate")
    assert result.exit_code == 0
    assert result.stdout == ("valid: 1 jurisdictions, 2 actions, 2 citations, 1 action_links, 1 sources, 0 source_files, 0 ice_287g_states, "
                             "0 listings_287g, 0 listing_runs_287g, 0 agreements_287g, 0 editions_287g, 0 ice_detention_states, "
                             "0 detention_listings, 0 detention_listing_runs, 0 detention_figures, 0 detention_facilities, "
                             "0 detention_facility_runs, 0 editions_detention, 2 detention_consistency\n")


def test_validate_reports_every_problem_with_exit_1(project):
    text = JURISDICTION.replace("date: 2018-11\n", "date: 2018-13-01\n").replace("stage: announced", "stage: maybe")
    write(project / J, text)
    result = run(project, "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{J}:12: actions[0].stage: 'maybe' is not allowed (use one of: proposed, requested, announced, deferred, approved, notice_given, in_effect, occurred)",
        f"{J}:23: actions[1].date: '2018-13-01' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD, a span START/END, or ../END)",
    ]
    assert result.stderr == "2 problem(s) in 1 file(s)\n"
    assert "Traceback" not in result.output


def test_validate_json(project):
    write(project / J, JURISDICTION.replace("stage: announced", "stage: maybe"))
    result = run(project, "validate", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"problems": [{
        "file": J, "line": 12, "field": "actions[0].stage",
        "message": "'maybe' is not allowed (use one of: proposed, requested, announced, deferred, approved, notice_given, in_effect, occurred)",
    }]}


def test_usage_errors_exit_2(project):
    assert run(project, "validate", "--format", "xml").exit_code == 2
    assert run(project, "no-such-command").exit_code == 2
    assert run(project / "missing", "validate").exit_code == 2


def test_a_folder_without_schemas_is_a_clear_error(tmp_path):
    result = run(tmp_path, "validate")
    assert result.exit_code == 1
    assert result.stdout == "schemas/package.json: is missing; is this a project folder?\n"
    assert "Traceback" not in result.output


def test_build_publishes_every_table_in_both_formats(project):
    result = run(project, "build")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (project / "datasets").iterdir())
    tables = ["action_links", "actions", "agreements_287g", "citations", "detention_consistency", "detention_facilities",
              "detention_facility_runs", "detention_figures", "detention_listing_runs", "detention_listings", "editions_287g",
              "editions_detention", "ice_287g_states", "ice_detention_states", "jurisdictions", "listing_runs_287g", "listings_287g",
              "source_files", "sources"]
    assert names == sorted([f"{t}.csv" for t in tables] + [f"{t}.parquet" for t in tables] + ["checksums.csv"])
    assert not (project / ".etl-staging").exists()


def test_builds_are_byte_identical(tmp_path):
    first, second = make_project(tmp_path / "a"), make_project(tmp_path / "b")
    assert run(first, "build").exit_code == 0
    assert run(second, "build").exit_code == 0
    assert run(first, "build").exit_code == 0  # rebuilding in place changes nothing either
    assert snapshot(first) == snapshot(second)


def test_rows_are_sorted_by_primary_key(tmp_path):
    swapped = JURISDICTION.replace("act-aaaaaaaa", "act-zzzzzzzz")
    root = make_project(tmp_path / "p", jurisdiction=swapped)
    assert run(root, "build").exit_code == 0
    import csv

    with open(root / "datasets/actions.csv", newline="") as handle:
        ids = [row["action_id"] for row in csv.DictReader(handle)]
    assert ids == sorted(ids) == ["act-bbbbbbbb", "act-zzzzzzzz"]


def test_a_failing_build_changes_nothing(project):
    assert run(project, "build").exit_code == 0
    before = snapshot(project)
    write(project / J, JURISDICTION.replace("stage: announced", "stage: maybe"))
    result = run(project, "build")
    assert result.exit_code == 1
    assert snapshot(project) == before


def test_a_malformed_file_changes_nothing(project):
    assert run(project, "build").exit_code == 0
    before = snapshot(project)
    write(project / J, "jurisdiction_id: [\n")
    result = run(project, "build")
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{J}:2: is not valid YAML")
    assert snapshot(project) == before


def test_build_check_passes_when_current_and_fails_when_stale(project):
    assert run(project, "build").exit_code == 0
    assert run(project, "build", "--check").exit_code == 0
    write(project / J, JURISDICTION.replace("Sheriff Example", "Sheriff Other"))
    before = snapshot(project)
    result = run(project, "build", "--check")
    assert result.exit_code == 1
    assert "datasets/actions.csv" in result.stderr and "datapackage.json" in result.stderr
    assert snapshot(project) == before  # --check writes nothing


def test_build_check_flags_an_extra_published_file(project):
    assert run(project, "build").exit_code == 0
    (project / "datasets/leftover.csv").write_text("x\n")
    result = run(project, "build", "--check")
    assert result.exit_code == 1 and "datasets/leftover.csv" in result.stderr


def test_parquet_and_csv_hold_the_same_rows(project):
    import csv

    assert run(project, "build").exit_code == 0
    for table in ["jurisdictions", "actions", "citations", "action_links", "sources"]:
        parquet_rows = pq.read_table(project / f"datasets/{table}.parquet").to_pylist()
        with open(project / f"datasets/{table}.csv", newline="", encoding="utf-8") as handle:
            csv_rows = list(csv.DictReader(handle))
        as_text = [{k: _csv_text(v) for k, v in row.items()} for row in parquet_rows]
        assert as_text == csv_rows, table


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def test_parquet_fields_carry_the_schema_descriptions(project):
    assert run(project, "build").exit_code == 0
    schema = pq.read_schema(project / "datasets/actions.parquet")
    described = json.loads((project / "schemas/actions.schema.json").read_text())
    for field in described["fields"]:
        assert schema.field(field["name"]).metadata[b"description"].decode() == field["description"]


def test_fmt_rewrites_to_canonical_form_and_keeps_the_data(project):
    messy = JURISDICTION.replace("name: Contra Costa County\nkind: county\n", "kind: county\nname: 'Contra Costa County'\n")
    write(project / J, messy)
    before = read_raw_file(project / J, J)[0].data
    assert run(project, "fmt", "--check").exit_code == 1
    result = run(project, "fmt")
    assert result.exit_code == 0 and result.stdout == f"reformatted: {J}\n"
    assert read_raw_file(project / J, J)[0].data == before
    assert run(project, "fmt", "--check").exit_code == 0
    assert (project / J).read_text().startswith("jurisdiction_id: ca-contra-costa-county\nname: Contra Costa County\nkind: county\n")


def test_fmt_refuses_a_file_it_would_lose_data_from(project):
    write(project / J, JURISDICTION.replace("kind: county", "kind: county\ncolour: red"))
    before = (project / J).read_bytes()
    result = run(project, "fmt")
    assert result.exit_code == 1 and "colour: is not a known key" in result.stdout
    assert (project / J).read_bytes() == before


def test_new_source_jurisdiction_and_action(project):
    result = run(project, "new", "source", "--url", "https://example.org/2", "--publisher", "Example", "--id", "example-2")
    assert result.exit_code == 0 and result.stdout == "raw/sources/example-2.yaml\n"
    assert (project / "raw/sources/example-2.yaml").read_text() == (
        "source_id: example-2\nurl: https://example.org/2\npublisher: Example\nkind: TODO\n")
    result = run(project, "new", "jurisdiction", "--state", "VA", "--name", "Fairfax County", "--kind", "county")
    assert result.stdout == "raw/jurisdictions/va/fairfax-county.yaml\n"
    text = (project / "raw/jurisdictions/va/fairfax-county.yaml").read_text()
    assert text.startswith("jurisdiction_id: va-fairfax-county\nname: Fairfax County\nkind: county\nstate: VA\nstate_fips: '51'\n")
    result = run(project, "new", "action", "va-fairfax-county")
    action_id = result.stdout.strip()
    assert result.exit_code == 0 and action_id.startswith("act-") and len(action_id) == 12
    assert f"  - action_id: {action_id}\n    date: TODO\n" in (project / "raw/jurisdictions/va/fairfax-county.yaml").read_text()
    assert run(project, "fmt", "--check").exit_code == 0  # scaffolds are canonical
    problems = run(project, "validate").stdout
    assert "'TODO' is not allowed" in problems  # and the curator is told what to fill in


def test_new_refuses_to_overwrite(project):
    args = ["new", "source", "--url", "https://example.org/2", "--publisher", "Example", "--id", "example-news"]
    result = run(project, *args)
    assert result.exit_code == 1 and "already exists" in result.stdout


def test_an_internal_error_is_reported_without_a_traceback(project, monkeypatch):
    import etl.pipeline

    def explode(*_):
        raise RuntimeError("boom")

    monkeypatch.setattr(etl.pipeline, "load_dataset", explode)
    result = run(project, "validate")
    assert result.exit_code == 3
    assert "internal error: RuntimeError: boom" in result.stderr and "Traceback" not in result.output


def test_a_closed_pipe_ends_quietly(project, monkeypatch):
    import etl.cli

    def closed(*_, **__):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(etl.cli.click, "echo", closed)
    result = run(project, "show", "ca-contra-costa-county")
    assert result.exit_code == 141
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_new_jurisdiction_takes_its_codes_from_the_archived_reference_lists(importing, tmp_path):
    root, registry = importing
    ocd = tmp_path / "us_census_places.csv"
    ocd.write_bytes(registry.read_bytes())
    assert run(root, "archive", "ocd", str(ocd), "--obtained-from", "https://example.org/ocd").exit_code == 0
    assert run(root, "new", "jurisdiction", "--state", "NC", "--name", "Mecklenburg County", "--kind", "county").exit_code == 0
    text = (root / "raw/jurisdictions/nc/mecklenburg-county.yaml").read_text()
    assert "county_fips: '37119'\n" in text and "ocd_id: ocd-division/country:us/state:nc/county:mecklenburg\n" in text
    assert run(root, "new", "jurisdiction", "--state", "NC", "--name", "Nowhere County", "--kind", "county").exit_code == 0
    unknown = (root / "raw/jurisdictions/nc/nowhere-county.yaml").read_text()
    assert "county_fips: TODO\n" in unknown and "ocd_id: TODO\n" in unknown  # no list names it: nothing is guessed
