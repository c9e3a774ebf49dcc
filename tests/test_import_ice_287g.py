"""`etl archive ice-287g` and `etl import ice-287g` on editions the tests make themselves."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import run, write

from etl.files import is_temporary
from etl.pipeline import load_dataset
from etl.project import Project

HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA", "ADDENDUM"]
PENDING_HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]
EDITION = "participatingAgencies01022026am.xlsx"  # a date no real edition has
SAVED = dt.datetime(2026, 1, 2, 14, 30)


def workbook(path: Path, header: list[str], rows: list[list], saved: dt.datetime = SAVED) -> Path:
    """An edition as ICE writes it, saved (by its own properties) at `saved`, UTC."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    sheet.append([None] * len(header))  # trailing empty rows, as ICE's files have
    book.save(path)
    return set_saved(path, saved)


def set_saved(path: Path, saved: dt.datetime) -> Path:
    """openpyxl stamps the time of saving; ICE's files carry ICE's."""
    with zipfile.ZipFile(path) as old:
        members = {item.filename: old.read(item.filename) for item in old.infolist()}
    core = members["docProps/core.xml"].decode()
    members["docProps/core.xml"] = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{saved:%Y-%m-%dT%H:%M:%SZ}", core).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in members.items():
            new.writestr(name, data)
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


def do_import(root: Path, registry: Path, *sheets: Path, check: bool = False):
    """Archive the workbooks in the project, then import every archived edition."""
    for sheet in sheets:
        archived = run(root, "archive", "ice-287g", str(sheet), "--obtained-from", "https://www.ice.gov/identify-and-arrest/287g")
        if archived.exit_code != 0:
            return archived
    return run(root, "import", "ice-287g", "--registry", str(registry), *(["--check"] if check else []))


def raw_snapshot(root: Path) -> dict[str, bytes]:
    """What raw/ says: its files but a killed command's temporaries."""
    files = sorted(p for p in (root / "raw").rglob("*") if p.is_file() and not is_temporary(p.name)) if (root / "raw").exists() else []
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def tables_of(root: Path) -> dict[str, list[dict]]:
    return {name: table.to_pylist() for name, table in ((n, f.arrow) for n, f in load_dataset(Project(root), use_cache=False).tables.items())}


def by(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


def test_an_edition_becomes_valid_raw_records(importing, tmp_path):
    root, registry = importing
    result = do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1()))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("1 editions (1 new); 6 new listings, 5 new jurisdictions;")
    assert "Nowhere Police Department (AL, Municipality, #N/A): the municipality 'nowhere' (from the agency's name) matches no place" in result.stdout
    tables = tables_of(root)
    jurisdictions = by(tables["jurisdictions"], "jurisdiction_id")
    assert set(jurisdictions) == {"al-cherokee-county", "fl-key-west", "fl-florida", "nc-mecklenburg-county", "va-mecklenburg-county"}
    assert jurisdictions["al-cherokee-county"]["county_fips"] == "01019"
    assert jurisdictions["fl-key-west"]["place_geoid"] == "1236550" and jurisdictions["fl-key-west"]["kind"] == "city"
    listings = by(tables["listings_287g"], "agency")
    assert listings["Key West Police Department"]["signed"] == "2025-03-05" and listings["Key West Police Department"]["jurisdiction_id"] == "fl-key-west"
    assert listings["Nowhere Police Department"]["jurisdiction_id"] is None and "matches no place" in listings["Nowhere Police Department"]["unmatched"]
    source = tables["sources"][0]
    assert (source["published"], source["as_of"], source["edition_of"], source["rows"]) == ("2026-01-02", "2026-01-02T14:30:00Z", "ice_287g_participating", 6)
    assert source["date_basis"].startswith(f"the date in the file name {EDITION}; ICE saved the workbook at 2026-01-02 14:30 UTC")
    assert [f["file"] for f in tables["source_files"]] == [EDITION]
    agreements = by(tables["agreements_287g"], "agency")
    assert len(tables["agreements_287g"]) == 6  # every row is one agreement, matched to a jurisdiction or not
    assert agreements["Key West Police Department"]["status"] == "listed"
    assert agreements["Key West Police Department"]["signed"] == dt.date(2025, 3, 5)
    assert (agreements["Key West Police Department"]["county_fips"], agreements["Cherokee County Sheriff's Office"]["county_fips"],
            agreements["Cherokee County Sheriff's Office"]["county_from"]) == (None, "01019", "jurisdiction")  # ICE's COUNTY is #N/A
    assert agreements["Florida Department of Corrections"]["county_fips"] is None
    mecklenburg = [a for a in tables["agreements_287g"] if a["state"] == "NC"][0]
    assert mecklenburg["signed"] is None and mecklenburg["signed_values"] == 1  # '7/72025' is kept as written, never read as a day
    assert run(root, "build").exit_code == 0


def test_importing_again_changes_nothing(importing, tmp_path):
    root, registry = importing
    sheet = workbook(tmp_path / EDITION, HEADER, rows_v1())
    assert do_import(root, registry, sheet).exit_code == 0
    before = raw_snapshot(root)
    result = do_import(root, registry, sheet)
    assert "1 editions (0 new); 0 new listings, 0 new jurisdictions" in result.stdout and "wrote 0 files" in result.stdout
    assert raw_snapshot(root) == before
    assert do_import(root, registry, check=True).exit_code == 0


def history(tmp_path: Path) -> list[Path]:
    """Three editions: a re-spelling, a corrected SIGNED, an agreement that leaves and one that comes back."""
    first = rows_v1()
    second = [row[:] for row in first]
    second[0][1] = "Cherokee County Sheriff's Offic"  # cut short, as ICE's cells sometimes are
    second[1][5] = dt.datetime(2025, 3, 6)  # SIGNED corrected
    del second[4]  # Mecklenburg VA leaves
    third = [row[:] for row in second] + [first[4]]  # and comes back
    return [workbook(tmp_path / name, HEADER, rows, saved) for name, rows, saved in (
        (EDITION, first, SAVED),
        ("participatingAgencies02022026am.xlsx", second, dt.datetime(2026, 2, 2, 14)),
        ("participatingAgencies03022026am.xlsx", third, dt.datetime(2026, 3, 2, 14)))]


def test_one_agreement_across_editions_and_its_history(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, *history(tmp_path)).exit_code == 0
    tables = tables_of(root)
    agreements = {(a["state"], a["model"], a["agency"][:24]): a for a in tables["agreements_287g"]}
    cherokee = agreements[("AL", "287g_warrant_service_officer", "Cherokee County Sheriff'")]
    assert (cherokee["agency"], cherokee["names"], cherokee["editions"]) == ("Cherokee County Sheriff's Offic", 2, 3)
    key_west = agreements[("FL", "287g_task_force", "Key West Police Departme")]
    assert (key_west["signed"], key_west["signed_values"], key_west["signed_disputed"]) == (dt.date(2025, 3, 6), 2, True)
    virginia = [a for a in tables["agreements_287g"] if a["state"] == "VA"][0]
    assert (virginia["gaps"], virginia["editions"], virginia["status"]) == (1, 2, "listed")
    matches = [listing["match"] for listing in tables["listings_287g"] if listing["match"]]
    assert any(m.startswith("re-spelled: \"Cherokee County Sheriff's Office\"") or m.startswith("the same agreement as") for m in matches)
    assert len(tables["agreements_287g"]) == 6
    editions = tables["editions_287g"]
    assert [(e["published"].isoformat(), e["agreements"], e["first_listed"], e["no_longer_listed"]) for e in editions] == [
        ("2026-01-02", 6, 6, 0), ("2026-02-02", 5, 0, 1), ("2026-03-02", 6, 0, 0)]


def test_editions_imported_in_any_order_give_the_same_records(importing, tmp_path):
    root, registry = importing
    other = tmp_path / "other"
    shutil.copytree(root, other)
    sheets = history(tmp_path)
    assert do_import(root, registry, *sheets).exit_code == 0
    assert do_import(other, registry, sheets[2]).exit_code == 0
    assert do_import(other, registry, sheets[0]).exit_code == 0
    assert do_import(other, registry, sheets[1]).exit_code == 0
    assert raw_snapshot(other) == raw_snapshot(root)


def test_an_agreement_no_longer_listed_says_since_when_and_not_that_it_ended(importing, tmp_path):
    root, registry = importing
    sheets = history(tmp_path)[:2]
    assert do_import(root, registry, *sheets).exit_code == 0
    virginia = [a for a in tables_of(root)["agreements_287g"] if a["state"] == "VA"][0]
    assert (virginia["status"], virginia["last_listed"], virginia["not_listed_from"]) == ("no_longer_listed", dt.date(2026, 1, 2), dt.date(2026, 2, 2))
    assert virginia["ended"] is None


def test_a_pending_request_that_is_signed_is_one_agreement(importing, tmp_path):
    root, registry = importing
    pending = workbook(tmp_path / "pendingAgencies01022026am.xlsx", PENDING_HEADER, [r[:5] for r in rows_v1()[:1]], SAVED)
    signed = workbook(tmp_path / "participatingAgencies02022026am.xlsx", HEADER, rows_v1()[:1], dt.datetime(2026, 2, 2, 14))
    assert do_import(root, registry, pending, signed).exit_code == 0
    [agreement] = tables_of(root)["agreements_287g"]
    assert (agreement["first_listed"], agreement["first_listed_participating"], agreement["status"]) == (
        dt.date(2026, 1, 2), dt.date(2026, 2, 2), "listed")


def test_a_curator_can_split_a_match_or_join_listings(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, *history(tmp_path)).exit_code == 0
    listings = tables_of(root)["listings_287g"]
    cut = next(m for m in listings if m["agency"] == "Cherokee County Sheriff's Offic")
    write(root / "imports/ice-287g-agreements.yaml", f"""\
        decisions:
          - listing_id: {cut['listing_id']}
            separate: 'yes'
            note: a test says so
        """)
    assert do_import(root, registry).exit_code == 0
    after = by(tables_of(root)["listings_287g"], "listing_id")
    assert after[cut["listing_id"]]["agreement_id"] != cut["agreement_id"]
    assert after[cut["listing_id"]]["match"] == "kept apart by a curator (a test says so)"
    original = next(m for m in after.values() if m["agency"] == "Cherokee County Sheriff's Office")
    write(root / "imports/ice-287g-agreements.yaml", f"""\
        decisions:
          - listing_id: {cut['listing_id']}
            join: {original['listing_id']}
            note: confirmed by a test
        """)
    assert do_import(root, registry).exit_code == 0
    joined = by(tables_of(root)["listings_287g"], "listing_id")[cut["listing_id"]]
    assert joined["agreement_id"] == cut["agreement_id"] and "(confirmed by a curator: confirmed by a test)" in joined["match"]


def test_a_bad_decision_is_a_problem_with_its_line(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1())).exit_code == 0
    write(root / "imports/ice-287g-agreements.yaml", "decisions:\n  - listing_id: lst-x\n    note: no decision\n")
    result = do_import(root, registry)
    assert result.exit_code == 1
    assert "imports/ice-287g-agreements.yaml:2: decisions[0]: needs listing_id, note, and either join" in result.output


def test_an_edition_date_comes_from_evidence(importing, tmp_path):
    root, registry = importing
    misnamed = workbook(tmp_path / "participatingAgencies01022025am.xlsx", HEADER, rows_v1())  # saved in 2026, named 2025
    mislabelled = workbook(tmp_path / "pendingAgencies02022026am.xlsx", HEADER, rows_v1()[:2], dt.datetime(2026, 2, 2, 14))
    assert do_import(root, registry, misnamed, mislabelled).exit_code == 0
    sources = by(tables_of(root)["sources"], "as_of")
    first, second = sources["2026-01-02T14:30:00Z"], sources["2026-02-02T14:00:00Z"]
    assert first["published"] == "2026-01-02"
    assert "the name participatingAgencies01022025am.xlsx says 2025-01-02, but ICE saved the workbook on 2026-01-02" in first["date_basis"]
    assert second["edition_of"] == "ice_287g_participating"
    assert "pendingAgencies02022026am.xlsx is named for the other list, but its sheet has SIGNED" in second["date_basis"]


def test_ices_misspellings_are_read_and_unreadable_rows_reported(importing, tmp_path):
    root, registry = importing
    rows = rows_v1()
    rows[0][4] = "Warrant Services Officer"
    rows[1][4] = "Courthouse Model"
    result = do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows))
    assert result.exit_code == 0, result.output
    assert f"{EDITION} row 3: SUPPORT TYPE 'Courthouse Model' is not a 287(g) model we know" in result.stdout
    cherokee = next(m for m in tables_of(root)["listings_287g"] if m["state"] == "AL" and m["agency"].startswith("Cherokee"))
    assert cherokee["model"] == "287g_warrant_service_officer"


def test_an_end_is_derived_only_from_a_curated_action_naming_the_agency(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1())).exit_code == 0
    path = root / "raw/jurisdictions/al/cherokee-county.yaml"
    ending = """\
        actions:
          - action_id: act-endended1
            date: 2026-01-20
            action: terminate
            stage: in_effect
            arrangement: 287g_warrant_service_officer
            actor_role: sheriff
            actor_name: {actor}
            initiated_by: local
            summary: The sheriff's office ended its agreement.
            citations:
              - source_id: example-news
                claim: The sheriff's office ended the agreement.
                locator: paragraph 1
        """
    write(root / "raw/sources/example-news.yaml", "source_id: example-news\nurl: https://example.org/news/1\npublisher: Example News\nkind: news\n")
    base = path.read_text()
    path.write_text(base + textwrap.dedent(ending).format(actor="The County Commission"))
    cherokee = next(a for a in tables_of(root)["agreements_287g"] if a["state"] == "AL" and a["agency"].startswith("Cherokee"))
    assert cherokee["status"] == "listed"  # an action of another actor does not end it
    path.write_text(base + textwrap.dedent(ending).format(actor="Cherokee County Sheriff's Office"))
    cherokee = next(a for a in tables_of(root)["agreements_287g"] if a["state"] == "AL" and a["agency"].startswith("Cherokee"))
    assert (cherokee["status"], cherokee["ended"], cherokee["ended_action_id"]) == ("ended", dt.date(2026, 1, 20), "act-endended1")


def test_an_ending_linked_by_agreement_id_ends_that_agreement_whoever_acted(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1())).exit_code == 0
    cherokee = next(a for a in tables_of(root)["agreements_287g"] if a["state"] == "AL" and a["agency"].startswith("Cherokee"))
    path = root / "raw/jurisdictions/al/cherokee-county.yaml"
    ending = """\
        actions:
          - action_id: act-linkedend1
            date: 2026-02
            action: terminate
            stage: approved
            arrangement: 287g_warrant_service_officer
            actor_role: county_board
            actor_name: The County Commission
            initiated_by: local
            summary: The commission voted to end the sheriff's agreement.
            agreement_id: {agreement}
            citations:
              - source_id: example-news
                claim: The commission voted to end the agreement.
                locator: paragraph 1
        """
    write(root / "raw/sources/example-news.yaml", "source_id: example-news\nurl: https://example.org/news/1\npublisher: Example News\nkind: news\n")
    base = path.read_text()
    path.write_text(base + textwrap.dedent(ending).format(agreement=cherokee["agreement_id"]))
    linked = next(a for a in tables_of(root)["agreements_287g"] if a["agreement_id"] == cherokee["agreement_id"])
    assert (linked["status"], linked["ended"], linked["ended_action_id"]) == ("ended", None, "act-linkedend1")
    path.write_text(base + textwrap.dedent(ending).format(agreement="agr-000000000000"))
    result = run(root, "validate")
    assert result.exit_code == 1
    assert "actions[0].agreement_id: 'agr-000000000000' is not an agreement in ICE's 287(g) record" in result.output


def test_a_file_that_is_not_such_a_list_is_refused_and_nothing_is_written(importing, tmp_path):
    root, registry = importing
    other = workbook(tmp_path / EDITION, ["NAME", "ADDRESS"], [["x", "y"]])
    result = do_import(root, registry, other)
    assert result.exit_code == 1
    assert "is not an ICE 287(g) agencies list (no header row with the columns STATE" in result.output
    assert not (root / "raw").exists()


def _rewritten(source: Path, target: Path, replace: dict[str, bytes | None]) -> Path:
    """A copy of the workbook `source` with some members replaced (or, for None, left out)."""
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
    import etl.importers.sheets as sheets

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
        monkeypatch.setattr(sheets, "MAX_WORKBOOK_BYTES", 1_000_000)
        _rewritten(good, sheet, {"xl/media/padding.bin": b"\0" * 2_000_000})
    result = do_import(root, registry, sheet)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.startswith(f"Error: {EDITION}: ")
    assert not (root / "raw").exists()


def test_a_problem_in_a_derived_row_points_at_the_listing_it_comes_from(importing, tmp_path, monkeypatch):
    import etl.derived
    from etl.problems import ProblemError

    root, registry = importing
    assert do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1())).exit_code == 0
    real = etl.derived._agreement
    monkeypatch.setattr(etl.derived, "_agreement", lambda *args: {**real(*args), "status": "bogus"})
    with pytest.raises(ProblemError) as caught:
        load_dataset(Project(root), use_cache=False)
    places = {(p.file, p.field) for p in caught.value.problems}
    assert ("raw/ice-287g/al.yaml", "listings[0] (its agreements_287g row).status") in places
    assert all(p.file.startswith("raw/ice-287g/") and p.line > 0 for p in caught.value.problems)


def test_spellings_used_in_turns_are_one_agreement_but_names_listed_together_are_two(importing, tmp_path):
    root, registry = importing
    signed = dt.datetime(2025, 4, 10)

    def rows(spelling: str) -> list[list]:
        return [["ALABAMA", spelling, "County", "Cherokee County", "Task Force Model", signed, "link", None],
                ["ALABAMA", "Hale County Sheriff's Office", "County", "Hale County", "Task Force Model", signed, "link", None],
                ["ALABAMA", "Hall County Sheriff's Office", "County", "Hall County", "Task Force Model", signed, "link", None]]

    spellings = ["Cherokee County Sheriff's Ofice", "Cherokee County Sheriff's Office", "Cherokee County Sheriff's Ofice"]
    sheets = [workbook(tmp_path / f"participatingAgencies0{month}022026am.xlsx", HEADER, rows(spelling), dt.datetime(2026, month, 2, 14))
              for month, spelling in zip((1, 2, 3), spellings, strict=True)]
    assert do_import(root, registry, *sheets).exit_code == 0
    agreements = tables_of(root)["agreements_287g"]
    assert sorted(a["agency"][:4] for a in agreements) == ["Cher", "Hale", "Hall"]
    cherokee = next(a for a in agreements if a["agency"].startswith("Cher"))
    assert (cherokee["names"], cherokee["editions"], cherokee["gaps"]) == (2, 3, 0)


def test_show_and_stats_tell_what_ices_lists_say(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, *history(tmp_path)[:2]).exit_code == 0
    shown = run(root, "show", "va-mecklenburg-county").stdout
    assert "In ICE's 287(g) lists (agreements_287g):" in shown
    assert "Mecklenburg County Sheriff's Office, 287g_jail_enforcement, SIGNED 2025-05-01: listed 2026-01-02 to 2026-01-02" in shown
    assert "no longer listed from 2026-02-02" in shown
    stats = run(root, "stats").stdout
    assert "ICE's 287(g) lists: 2 editions, 8 listings, agreements listed 5, no_longer_listed 1" in stats


def test_a_curator_can_join_a_listing_that_stands_alone(importing, tmp_path):
    root, registry = importing
    assert do_import(root, registry, workbook(tmp_path / EDITION, HEADER, rows_v1())).exit_code == 0
    listings = by(tables_of(root)["listings_287g"], "agency")
    alone, other = listings["Nowhere Police Department"], listings["Key West Police Department"]
    write(root / "imports/ice-287g-agreements.yaml", f"""\
        decisions:
          - listing_id: {alone['listing_id']}
            join: {other['listing_id']}
            note: a test joins them
        """)
    result = do_import(root, registry)
    assert result.exit_code == 0, result.output
    assert by(tables_of(root)["listings_287g"], "agency")["Nowhere Police Department"]["agreement_id"] == other["agreement_id"]


def without_properties(path: Path) -> Path:
    """A workbook without docProps/core.xml: no save time."""
    with zipfile.ZipFile(path) as old:
        members = {item.filename: old.read(item.filename) for item in old.infolist() if item.filename != "docProps/core.xml"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in members.items():
            new.writestr(name, data)
    return path


def test_an_edition_without_a_save_time_is_ordered_by_its_date_everywhere(importing, tmp_path):
    root, registry = importing
    sheets = history(tmp_path)
    middle = without_properties(workbook(tmp_path / "participatingAgencies02152026.xlsx", HEADER, rows_v1()))
    assert do_import(root, registry, sheets[0], middle, sheets[2]).exit_code == 0
    tables = tables_of(root)
    editions = tables["editions_287g"]
    assert [e["published"].isoformat() for e in editions] == ["2026-01-02", "2026-02-15", "2026-03-02"]
    assert all(e["agreements"] >= 0 for e in editions)
    key_west = next(a for a in tables["agreements_287g"] if a["agency"] == "Key West Police Department")
    assert (key_west["editions"], key_west["first_listed"]) == (3, dt.date(2026, 1, 2))


def test_an_edition_with_no_believable_date_is_refused_clearly(importing, tmp_path):
    root, registry = importing
    undated = without_properties(workbook(tmp_path / "participatingAgencies.xlsx", HEADER, rows_v1()))
    result = do_import(root, registry, undated)
    assert result.exit_code == 1 and "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert "neither its name nor the workbook's properties give a believable date" in result.output


def test_an_archived_name_is_never_a_path(importing, tmp_path):
    from test_archive import origin

    root, _ = importing
    manifest = origin(tmp_path / "in", {"a.xlsx": b"one"})
    manifest.write_text(manifest.read_text().replace("a.xlsx,", "../../raw/a.xlsx,"))
    result = run(root, "archive", "ice-287g", str(tmp_path / "in"), "--manifest", str(manifest))
    assert result.exit_code == 1 and "is not a file name this archive keeps" in result.output
    assert not (root / "archive").exists() and not (root / "raw/a.xlsx").exists()


def test_an_announced_withdrawal_linked_to_an_agreement_explains_its_absence_without_ending_it(importing, tmp_path):
    import json

    root, registry = importing
    assert do_import(root, registry, *history(tmp_path)[:2]).exit_code == 0
    virginia = [a for a in tables_of(root)["agreements_287g"] if a["state"] == "VA"][0]
    before = json.loads(run(root, "stats", "--format", "json").stdout)["stories"]
    assert (before["agreements_left_list"], before["agreements_left_list_explained"]) == (1, 0)
    path = root / f"raw/jurisdictions/va/{virginia['jurisdiction_id'].removeprefix('va-')}.yaml"
    write(root / "raw/sources/example-news.yaml", "source_id: example-news\nurl: https://example.org/news/1\npublisher: Example News\nkind: news\n")
    path.write_text(path.read_text() + textwrap.dedent(f"""\
        actions:
          - action_id: act-withdrawn1
            date: 2026-01-20
            action: terminate
            stage: announced
            arrangement: {virginia['model']}
            actor_role: sheriff
            actor_name: The sheriff
            initiated_by: local
            summary: The sheriff said the office would withdraw from its 287(g) agreement.
            agreement_id: {virginia['agreement_id']}
            citations:
              - source_id: example-news
                claim: The sheriff announced the withdrawal.
                locator: paragraph 1
        """))
    after = json.loads(run(root, "stats", "--format", "json").stdout)["stories"]
    assert (after["agreements_left_list"], after["agreements_left_list_explained"]) == (1, 1)
    linked = next(a for a in tables_of(root)["agreements_287g"] if a["agreement_id"] == virginia["agreement_id"])
    assert linked["status"] == "no_longer_listed"  # announced, not approved or in effect: ICE's absence is explained, not an end
