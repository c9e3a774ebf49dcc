"""`etl import ice-287g` on editions the tests make themselves, and on the real editions in ../shared/."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import REPO, SHARED, run, write

from etl.pipeline import load_dataset
from etl.project import Project

HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA", "ADDENDUM"]
EDITION = "participatingAgencies01022026am.xlsx"  # a date no real edition has


def workbook(path: Path, header: list[str], rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    sheet.append([None] * len(header))  # trailing empty rows, as ICE's files have
    book.save(path)
    return path


def rows_v1() -> list[list]:
    return [
        ["ALABAMA", "Cherokee County Sheriff's Office", "County", "Cherokee County", "Warrant Service Officer", dt.datetime(2025, 6, 25), "link", None],
        ["FLORIDA", "Key West Police Department ", "Municipality", "#N/A", "Task Force Model ", 45721, "link", None],  # Excel serial 2025-03-05
        ["FLORIDA", "Florida Department of Corrections", "State Agency", "#N/A", "Jail Enforcement Model", dt.datetime(2025, 2, 1), "link", None],
        ["NORTH CAROLINA", "Mecklenburg County Sheriff's Office", "County", "Mecklenburg County", "Jail Enforcement Model", "7/72025", "link", None],
        ["VIRGINIA", "Mecklenburg County Sheriff's Office", "County", "Mecklenburg County", "Jail Enforcement Model", dt.datetime(2025, 5, 1), "link", None],
        ["ALABAMA", "Nowhere Police Department", "Municipality", "#N/A", "Task Force Model", dt.datetime(2025, 5, 1), "link", None],
    ]


def do_import(root: Path, registry: Path, sheet: Path, *extra: str):
    return run(root, "import", "ice-287g", str(sheet), "--registry", str(registry), *extra)


def raw_snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "raw").rglob("*.yaml"))}


def test_an_edition_becomes_valid_raw_records(importing, tmp_path):
    root, registry = importing
    result = do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1()))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "ICE's 287(g) participating agencies list, edition of 2026-01-02 AM: 6 rows; added 5 actions, "
        "5 citations, 5 jurisdictions; wrote 6 files")
    assert "row 7: Nowhere Police Department (AL): the municipality 'nowhere' (from the agency's name) matches no place of AL" in result.stdout
    tables = load_dataset(Project(root)).tables
    jurisdictions = {j["jurisdiction_id"]: j for j in tables["jurisdictions"].rows}
    assert set(jurisdictions) == {"al-cherokee-county", "fl-key-west", "fl-florida", "nc-mecklenburg-county", "va-mecklenburg-county"}
    assert jurisdictions["al-cherokee-county"]["county_fips"] == "01019"
    assert jurisdictions["va-mecklenburg-county"]["ocd_id"] == "ocd-division/country:us/state:va/county:mecklenburg"
    assert jurisdictions["fl-key-west"]["place_geoid"] == "1236550" and jurisdictions["fl-key-west"]["kind"] == "city"
    actions = {a["actor_name"] + " " + a["jurisdiction_id"]: a for a in tables["actions"].rows}
    key_west = actions["Key West Police Department fl-key-west"]
    assert (key_west["date"], key_west["arrangement"], key_west["actor_role"]) == ("2025-03-05", "287g_task_force", "police_department")
    assert actions["Florida Department of Corrections fl-florida"]["initiated_by"] == "state"
    unreadable = actions["Mecklenburg County Sheriff's Office nc-mecklenburg-county"]
    assert unreadable["date"] == "../2026-01-02"  # '7/72025' is kept as written, never read as a day
    assert "ICE's list gives SIGNED as '7/72025'" in unreadable["notes"]
    citation = next(c for c in tables["citations"].rows if c["action_id"] == key_west["action_id"])
    assert (citation["source_id"], citation["locator"], citation["date_stated"]) == ("ice-287g-participating-2026-01-02-am", "sheet row 3", "2025-03-05")
    source = tables["sources"].rows[0]
    assert (source["url"], source["kind"], source["edition_of"], source["published"]) == (
        "https://www.ice.gov/identify-and-arrest/287g", "dataset", "ice_287g_participating", "2026-01-02")


def test_importing_the_same_edition_again_changes_nothing(importing, tmp_path):
    root, registry = importing
    sheet = workbook(tmp_path / EDITION, HEADER, rows_v1())
    assert do_import(root, registry, sheet).exit_code == 0
    before = raw_snapshot(root)
    result = do_import(root, registry, sheet)
    assert "added 0 actions, 0 citations, 0 jurisdictions; wrote 0 files" in result.stdout
    assert raw_snapshot(root) == before


def test_a_newer_edition_adds_what_is_new_and_reports_what_it_no_longer_lists(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1())).exit_code == 0
    newer = [row for row in rows_v1() if "Cherokee" not in row[1]] + [
        ["ALABAMA", "Cherokee County Sheriff's Office", "County", "Cherokee County", "Task Force Model", dt.datetime(2025, 12, 1), "link", "link"],
    ]
    result = do_import(root, registry, workbook(tmp_path / "participatingAgencies03042026pm.xlsx", HEADER, newer))
    assert result.exit_code == 0
    assert "added 1 actions, 5 citations, 0 jurisdictions" in result.stdout
    assert "1 listed before but not in this edition (evidence, not proof, of an end):" in result.stdout
    assert "Cherokee County Sheriff's Office (287g_warrant_service_officer)" in result.stdout
    assert run(root, "build").exit_code == 0
    with open(root / "datasets/agreements_287g.csv", newline="") as handle:
        status = {(r["jurisdiction_id"], r["arrangement"]): r for r in csv.DictReader(handle)}
    dropped = status[("al-cherokee-county", "287g_warrant_service_officer")]
    assert (dropped["status"], dropped["first_listed"], dropped["last_listed"], dropped["status_date"]) == (
        "not_in_latest_list", "2026-01-02", "2026-01-02", "2026-03-04")
    kept = status[("fl-key-west", "287g_task_force")]
    assert (kept["status"], kept["first_listed"], kept["last_listed"], kept["signed"]) == ("participating", "2026-01-02", "2026-03-04", "2025-03-05")


def test_a_pending_edition_records_requests(importing, tmp_path):
    root, registry = importing
    header = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]
    sheet = workbook(tmp_path / "pendingAgencies01022026pm.xlsx", header, [
        ["ALABAMA", "Cherokee County Sheriff's Office", "County ", "Cherokee County", "Task Force Model"]])
    assert do_import(root, registry, sheet).exit_code == 0
    action = load_dataset(Project(root)).tables["actions"].rows[0]
    assert (action["action"], action["stage"], action["date"]) == ("enter", "requested", "../2026-01-02")
    assert run(root, "build").exit_code == 0
    assert "pending" in (root / "datasets/agreements_287g.csv").read_text()


def test_a_curators_correction_survives_the_next_import(importing, tmp_path):
    root, registry = importing
    sheet = workbook(tmp_path / EDITION, HEADER, rows_v1())
    assert do_import(root, registry, sheet).exit_code == 0
    path = root / "raw/jurisdictions/al/cherokee-county.yaml"
    corrected = path.read_text().replace("summary: Cherokee County Sheriff's Office signed", "summary: The Cherokee County Sheriff's Office signed")
    path.write_text(corrected)
    assert do_import(root, registry, sheet).exit_code == 0
    assert path.read_text() == corrected


def test_a_file_that_is_not_such_a_list_is_refused_and_nothing_is_written(importing, tmp_path):
    root, registry = importing
    other = workbook(tmp_path / EDITION, ["NAME", "VALUE"], [["a", 1]])
    result = do_import(root, registry, other)
    assert result.exit_code == 1
    assert "is not an ICE 287(g) participating agencies list (no header row with the columns STATE" in result.output
    not_excel = write(tmp_path / "participatingAgencies01022026am.csv", "STATE,AGENCY\n")
    result = do_import(root, registry, not_excel)
    assert result.exit_code == 1 and "is not an Excel workbook (.xlsx) that can be read" in result.output
    assert not (root / "raw").exists()


def test_an_edition_whose_name_has_no_date_needs_it_said(importing, tmp_path):
    root, registry = importing
    sheet = workbook(tmp_path / "download.xlsx", HEADER, rows_v1())
    result = do_import(root, registry, sheet)
    assert result.exit_code == 1 and "pass --list and --published" in result.output
    result = do_import(root, registry, sheet, "--list", "participating", "--published", "2026-01-02")
    assert result.exit_code == 0 and "edition of 2026-01-02:" in result.stdout


def test_an_unknown_model_is_reported_for_its_row(importing, tmp_path):
    root, registry = importing
    rows = rows_v1()[:1] + [["ALABAMA", "Cherokee County Sheriff's Office", "County", "Cherokee County", "Courthouse Model", None, "link", None]]
    result = do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows))
    assert "row 3: SUPPORT TYPE 'Courthouse Model' is not a 287(g) model we know" in result.stdout


EDITIONS = SHARED / "reference/ice-287g"
needs_editions = pytest.mark.skipif(not EDITIONS.exists(), reason=f"{EDITIONS} is absent (a lone clone without ../shared/)")


@needs_editions
def test_the_real_editions_import_completely_and_idempotently(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "imports", root / "imports")
    registry = SHARED / "reference/ocd/us_census_places.csv"
    for name in ("participatingAgencies05162025am.xlsx", "participatingAgencies07182025pm.xlsx", "pendingAgencies07182025pm.xlsx"):
        result = do_import(root, registry, EDITIONS / name)
        assert result.exit_code == 0, result.output
        assert "not imported" not in result.stdout, result.stdout
    before = raw_snapshot(root)
    for name in ("participatingAgencies07182025pm.xlsx", "pendingAgencies07182025pm.xlsx"):
        assert "added 0 actions, 0 citations, 0 jurisdictions" in do_import(root, registry, EDITIONS / name).stdout
    assert raw_snapshot(root) == before
    tables = load_dataset(Project(root)).tables
    july = [c for c in tables["citations"].rows if c["source_id"] == "ice-287g-participating-2025-07-18-pm"]
    assert len(july) == 832 - 0  # one citation per agreement row of the edition
    assert len(tables["agreements_287g"].rows) >= 832


def _rewritten(source: Path, target: Path, replace: dict[str, bytes | None]) -> Path:
    """A copy of the workbook `source` with some members replaced (or, for None, left out)."""
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            if item.filename in replace and replace[item.filename] is None:
                continue
            new.writestr(item, replace.get(item.filename) or old.read(item.filename))
        for name, data in replace.items():
            if data is not None and name not in old.namelist():
                new.writestr(name, data)
    return target


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
                  + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
                  '<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>').encode()


@pytest.mark.parametrize("damage", ["truncated", "entity bomb", "no sheet", "zip bomb"])
def test_a_damaged_or_hostile_workbook_is_refused_clearly(damage, importing, tmp_path, monkeypatch):
    import etl.importers.ice_287g as importer

    root, registry = importing
    good = workbook(tmp_path / "good.xlsx", HEADER, rows_v1())
    sheet = tmp_path / EDITION
    if damage == "truncated":
        sheet.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "entity bomb":
        _rewritten(good, sheet, {"xl/worksheets/sheet1.xml": BILLION_LAUGHS})
    elif damage == "no sheet":
        _rewritten(good, sheet, {"xl/worksheets/sheet1.xml": None, "xl/workbook.xml": None})
    else:
        monkeypatch.setattr(importer, "MAX_WORKBOOK_BYTES", 1_000_000)
        _rewritten(good, sheet, {"xl/media/padding.bin": b"\0" * 2_000_000})
    result = do_import(root, registry, sheet)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.startswith(f"Error: {EDITION}: ")
    assert not (root / "raw").exists()


def test_a_problem_in_a_derived_row_points_at_the_action_it_comes_from(importing, tmp_path, monkeypatch):
    import etl.derived
    from etl.problems import ProblemError

    root, registry = importing
    assert do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1())).exit_code == 0
    real = etl.derived._agreement
    monkeypatch.setattr(etl.derived, "_agreement", lambda *args: {**real(*args), "status": "bogus"})
    with pytest.raises(ProblemError) as caught:
        load_dataset(Project(root), use_cache=False)
    places = {(p.file, p.field) for p in caught.value.problems}
    assert ("raw/jurisdictions/al/cherokee-county.yaml", "actions[0] (its agreements_287g row).status") in places
    assert all(p.file.startswith("raw/jurisdictions/") and p.line > 0 for p in caught.value.problems)
