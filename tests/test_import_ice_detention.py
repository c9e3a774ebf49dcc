"""`etl archive ice-detention` and `etl import ice-detention`: editions the tests make themselves, the
rules that make rows one facility and name its jurisdiction, and the real archived editions."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from conftest import REPO, make_project, run, run_readme_example
from test_import_ice_287g import raw_snapshot, set_saved, tables_of

from etl.importers import facilities
from etl.importers.jurisdictions import Registry, Resolved

TITLES = ["Name", "Address", "City", "State", "Zip", "AOR", "Type Detailed", "Male/Female", "FY26 ALOS", "Level A", "Level B", "Level C",
          "Level D", "Male Crim", "Male Non-Crim", "Female Crim", "Female Non-Crim", "ICE Threat Level 1", "ICE Threat Level 2",
          "ICE Threat Level 3", "No ICE Threat Level", "Mandatory", "Guaranteed Minimum", "Last Inspection Type",
          "Last Inspection End Date", "Last Inspection Standard", "Last Final Rating"]
REGISTRY = [("ocd-division/country:us/state:ca/county:contra_costa", "Contra Costa County", "place-06013"),
            ("ocd-division/country:us/state:ky/county:boone", "Boone County", "place-21015"),
            ("ocd-division/country:us/state:ky/county:bourbon", "Bourbon County", "place-21017"),
            ("ocd-division/country:us/state:va/place:roanoke", "Roanoke city", "place-5168000")]


def figures(level_a: float) -> list:
    return [2.5, level_a, 1.0, 0.5, 0.25, 3, 1, 0, 0.25, 0.5, 0.5, 1, 2.25, 1.5, None, "ODO", dt.datetime(2025, 1, 16), "NDS 2019", "Pass"]


def edition(path: Path, data_date: dt.date, rows: list[list], sheet: str = "Facilities FY26") -> Path:
    """A detention statistics workbook as ICE lays it out: a header sheet, then the facilities sheet
    with its heading (the data date), group titles and the column titles."""
    book = openpyxl.Workbook()
    book.active.title = "Header"
    facilities_sheet = book.create_sheet(sheet)
    facilities_sheet.append(["These statistics are made available to the public."])
    facilities_sheet.append([])
    facilities_sheet.append(["ICE Facilities Data, FY26"])
    facilities_sheet.append([f"Data Source: ICE Integrated Decision Support (IIDS), {data_date:%m/%d/%Y}"])
    facilities_sheet.append(["Facility Information"])
    facilities_sheet.append(TITLES)
    for row in rows:
        facilities_sheet.append(row)
    book.save(path)
    return set_saved(path, dt.datetime.combine(data_date + dt.timedelta(days=7), dt.time(15)))


def jail(name: str, city: str, state: str, zip_code, kind: str, level_a: float = 10.0, address: str = "1 MAIN STREET") -> list:
    return [name, address, city, state, zip_code, "CHI", kind, "Female/Male", *figures(level_a)]


FIRST = [jail("BOONE COUNTY JAIL", "BURLINGTON", "KY", 41005, "USMS IGA"),
         jail("BOURBON CO DET CENTER", "PARIS", "KY", "40361", "IGSA", address="2 MAIN ST"),
         jail("SOMEWHERE PROCESSING CENTER", "ADELANTO", "CA", 92301, "CDF"),
         jail("CONTRA COSTA COUNTY JAIL", "MARTINEZ", "CA", 94553, "IGSA")]
SECOND = [jail("BOONE COUNTY JAIL", "BURLINGTON", "KY", 41005, "IGSA", level_a=12.0),  # another type: the same facility
          jail("BOURBON COUNTY DETENTION CTR", "PARIS", "KY", "40361", "IGSA", address="2 MAIN STREET"),  # re-spelled
          jail("SOMEWHERE PROCESSING CENTER", "ADELANTO", " ", 92301, "CDF")]  # ICE left STATE empty


RESTART = """\
  - action_id: act-cccccccc
    date: 2025-11-01
    action: reinstate
    stage: in_effect
    arrangement: igsa_detention
    actor_role: sheriff
    actor_name: Sheriff Example
    initiated_by: local
    summary: The jail held people for ICE again.
    citations:
      - source_id: example-news
        claim: The contract was restored.
        locator: paragraph 3
"""


@pytest.fixture
def detention(tmp_path):
    root = make_project(tmp_path / "project")  # its county ended an IGSA in effect in November 2018
    registry = tmp_path / "registry.csv"
    with open(registry, "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "name", "census_geoid"), *REGISTRY])
    first = edition(tmp_path / "FY26_detentionStats_01082026.xlsx", dt.date(2025, 12, 26), FIRST)
    second = edition(tmp_path / "FY26_detentionStats_02022026.xlsx", dt.date(2026, 1, 22), SECOND)
    return root, registry, first, second


def archive_and_import(root: Path, registry: Path, *books: Path, check: bool = False):
    for book in books:
        archived = run(root, "archive", "ice-detention", str(book), "--obtained-from", "https://www.ice.gov/detain/detention-management")
        assert archived.exit_code == 0, archived.output
    return run(root, "import", "ice-detention", "--registry", str(registry), *(["--check"] if check else []))


def test_an_edition_imports_validates_and_a_second_import_changes_nothing(detention):
    root, registry, first, _ = detention
    result = archive_and_import(root, registry, first)
    assert result.exit_code == 0, result.output
    assert "1 editions (1 new); 4 new listings" in result.output
    assert run(root, "validate").exit_code == 0
    before = raw_snapshot(root)
    again = run(root, "import", "ice-detention", "--registry", str(registry))
    assert again.exit_code == 0 and "wrote 0 files" in again.output
    assert raw_snapshot(root) == before
    tables = tables_of(root)
    source = next(s for s in tables["sources"] if s["source_id"] == "ice-detention-2025-12-26")
    assert (source["data_date"], source["published"], source["rows"]) == (dt.date(2025, 12, 26), "2026-01-08", 4)
    assert "posted on the date in the file name FY26_detentionStats_01082026.xlsx" in source["date_basis"]
    listed = {f["name"]: f for f in tables["detention_facilities"]}
    assert listed["BOONE COUNTY JAIL"]["jurisdiction_id"] == "ky-boone-county" and listed["BOONE COUNTY JAIL"]["county_fips"] == "21015"
    assert listed["BOURBON CO DET CENTER"]["jurisdiction_id"] == "ky-bourbon-county"
    assert listed["SOMEWHERE PROCESSING CENTER"]["jurisdiction_id"] is None
    assert listed["SOMEWHERE PROCESSING CENTER"]["jurisdiction_note"].startswith("type CDF: A contract detention facility")
    assert {f["status"] for f in tables["detention_facilities"]} == {"listed"}
    boone = next(f for f in tables["detention_figures"] if f["listing_id"] == next(
        m["listing_id"] for m in tables["detention_listings"] if m["name"] == "BOONE COUNTY JAIL"))
    assert (boone["adp_level_a"], boone["alos_days"], boone["guaranteed_minimum"], boone["last_inspection_end"]) == (10.0, 2.5, None, dt.date(2025, 1, 16))
    assert boone["fiscal_year"] == 2026
    assert next(m for m in tables["detention_listings"] if m["name"] == "BOONE COUNTY JAIL")["zip"] == "41005"


def test_one_facility_across_editions_with_its_history_and_the_disagreement_report(detention):
    root, registry, first, second = detention
    assert archive_and_import(root, registry, first, second).exit_code == 0
    tables = tables_of(root)
    by_name = {m["name"]: m for m in tables["detention_listings"]}
    assert by_name["BOURBON COUNTY DETENTION CTR"]["facility_id"] == by_name["BOURBON CO DET CENTER"]["facility_id"]
    assert "same state, city and name once spelling is normalized" in by_name["BOURBON COUNTY DETENTION CTR"]["match"]
    blank = [m for m in tables["detention_listings"] if m["name"] == "SOMEWHERE PROCESSING CENTER" and m["state_note"]]
    assert blank and blank[0]["state"] == "CA"
    boone = next(f for f in tables["detention_facilities"] if f["name"] == "BOONE COUNTY JAIL")
    assert (boone["types"], boone["type_detailed"], boone["arrangement"], boone["editions"]) == (2, "IGSA", "igsa_detention", 2)
    runs = sorted((r["type_detailed"], r["from"], r["until"]) for r in tables["detention_facility_runs"] if r["facility_id"] == boone["facility_id"])
    assert runs == [("IGSA", dt.date(2026, 1, 22), None), ("USMS IGA", dt.date(2025, 12, 26), dt.date(2026, 1, 22))]
    contra_costa = next(f for f in tables["detention_facilities"] if f["name"] == "CONTRA COSTA COUNTY JAIL")
    assert (contra_costa["status"], contra_costa["not_listed_from"]) == ("no_longer_listed", dt.date(2026, 1, 22))
    editions = {e["data_date"]: e for e in tables["editions_detention"]}
    assert (editions[dt.date(2025, 12, 26)]["facilities"], editions[dt.date(2026, 1, 22)]["no_longer_listed"]) == (4, 1)
    assert editions[dt.date(2026, 1, 22)]["average_daily_population"] == pytest.approx((12.0 + 1.75) + 2 * (10.0 + 1.75))  # levels A to D of its three rows
    findings = {(f["kind"], f["action_id"], f["facility_id"], f["source_id"]) for f in tables["detention_consistency"]}
    assert findings == {("listed_after_end", "act-bbbbbbbb", contra_costa["facility_id"], "ice-detention-2025-12-26"),
                        ("listed_after_end_announced", "act-aaaaaaaa", contra_costa["facility_id"], "ice-detention-2025-12-26")}
    assert all("in 1 editions from 2025-12-26 to 2025-12-26, after 2018-" in f["ice_says"] for f in tables["detention_consistency"])
    county = root / "raw/jurisdictions/ca/contra-costa-county.yaml"  # a curated re-entry before that edition takes the ends back
    county.write_text(county.read_text("utf-8").replace("  - action_id: act-bbbbbbbb", RESTART + "  - action_id: act-bbbbbbbb"), "utf-8")
    assert run(root, "validate").exit_code == 0
    assert tables_of(root)["detention_consistency"] == []


def test_editions_in_either_order_give_the_same_records(detention, tmp_path):
    root, registry, first, second = detention
    other = make_project(tmp_path / "other")
    assert archive_and_import(root, registry, first, second).exit_code == 0
    assert archive_and_import(other, registry, second, first).exit_code == 0
    assert raw_snapshot(root) == raw_snapshot(other)


def test_a_curator_can_split_a_match_and_assign_a_facility(detention):
    root, registry, first, second = detention
    assert archive_and_import(root, registry, first, second).exit_code == 0
    respelled = next(m for m in tables_of(root)["detention_listings"] if m["name"] == "BOURBON COUNTY DETENTION CTR")
    (root / "imports").mkdir(exist_ok=True)
    (root / facilities.DECISIONS_FILE).write_text(
        f"decisions:\n  - listing_id: {respelled['listing_id']}\n    separate: 'yes'\n    note: a test\n"
        "facilities:\n  - state: CA\n    facility: SOMEWHERE PROCESSING CENTER\n    name: Somewhere Authority\n    note: a test\n")
    assert run(root, "import", "ice-detention", "--registry", str(registry)).exit_code == 0
    tables = tables_of(root)
    by_name = {m["name"]: m for m in tables["detention_listings"]}
    assert by_name["BOURBON COUNTY DETENTION CTR"]["facility_id"] != by_name["BOURBON CO DET CENTER"]["facility_id"]
    assert by_name["BOURBON COUNTY DETENTION CTR"]["match"] == "kept apart by a curator (a test)"
    assert by_name["SOMEWHERE PROCESSING CENTER"]["jurisdiction_id"] == "ca-somewhere-authority"
    assert "assigned by a curator in imports/ice-detention-facilities.yaml" in by_name["SOMEWHERE PROCESSING CENTER"]["jurisdiction_note"]


def test_a_workbook_without_a_facilities_sheet_is_refused_and_nothing_is_written(detention, tmp_path):
    root, registry, first, _ = detention
    wrong = edition(tmp_path / "FY26_detentionStats_03012026.xlsx", dt.date(2026, 2, 20), FIRST, sheet="Detention FY26")
    before = raw_snapshot(root)
    result = archive_and_import(root, registry, wrong)
    assert result.exit_code != 0 and "holds no sheet of the kind expected" in result.output and "Traceback" not in result.output
    assert raw_snapshot(root) == before


# -- the rules, one by one ------------------------------------------------------------------------

def listing(lid: str, name: str, editions: set[str], first: str, address: str = "1 MAIN ST", zip_code: str = "00001", city: str = "X"):
    return facilities.Listing(lid, "KY", name, address, city, zip_code, first, frozenset(editions))


def test_two_names_at_one_address_are_one_facility_only_when_never_listed_together():
    apart = facilities.group([listing("a", "OLD NAME JAIL", {"e1"}, "1"), listing("b", "NEW NAME CENTER", {"e2"}, "2")], {})
    assert apart["a"][0] == apart["b"][0] and apart["b"][1].startswith("at the same address as a")
    together = facilities.group([listing("a", "MAIN UNIT", {"e1"}, "1"), listing("b", "ANNEX UNIT", {"e1"}, "1")], {})
    assert together["a"][0] != together["b"][0]


def test_a_name_cut_short_is_the_same_facility_and_an_unrelated_name_is_not():
    cut = facilities.group([listing("a", "NORTH LAKE CORRECTIONAL F", {"e1"}, "1", address="A"),
                            listing("b", "NORTH LAKE CORRECTIONAL FACILITY", {"e2"}, "2", address="B")], {})
    assert cut["a"][0] == cut["b"][0] and "cut short" in cut["b"][1]
    other = facilities.group([listing("a", "NORTH JAIL", {"e1"}, "1", address="A"), listing("b", "SOUTH JAIL", {"e2"}, "2", address="B")], {})
    assert other["a"][0] != other["b"][0]


@pytest.fixture
def registry(tmp_path) -> Registry:
    path = tmp_path / "registry.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "name", "census_geoid"), *REGISTRY])
    return Registry(path)


@pytest.mark.parametrize(("state", "name", "kind", "expected"), [
    ("KY", "BOONE COUNTY JAIL", "USMS IGA", "ky-boone-county"),
    ("KY", "BOURBON CO DET CENTER", "IGSA", "ky-bourbon-county"),
    ("VA", "ROANOKE CITY JAIL", "USMS IGA", "va-roanoke"),
    ("FL", "BAKER CORRECTIONAL INSTITUTION", "STATE", "fl-florida"),
    ("KY", "BOONE COUNTY REGIONAL JAIL", "IGSA", "a regional facility"),
    ("KY", "BOONE COUNTY PROCESSING CENTER", "DIGSA", "type DIGSA: A dedicated"),
    ("WV", "DAVIESS COUNTY DETENTION", "IGSA", "not a county of WV"),
    ("KY", "SOMEWHERE DETENTION CENTER", "USMS IGA", "its name names no county or city"),
])
def test_whose_facility_comes_from_its_type_its_name_and_the_reference_lists(registry, state, name, kind, expected):
    from etl.project import Project

    labels = dict(Project(REPO).schemas.tables["detention_listings"].field("type_detailed").definitions)
    found = facilities.jurisdiction_of(state, name, kind, registry, {}, labels)
    if isinstance(found, Resolved):
        assert found.record["jurisdiction_id"] == expected
    else:
        assert expected in found


# -- the real archived editions ---------------------------------------------------------------------

def test_every_type_ice_uses_is_defined_and_maps_to_a_known_arrangement():
    from etl.project import Project

    schemas = Project(REPO).schemas
    field = schemas.tables["detention_listings"].field("type_detailed")
    arrangements = set(schemas.tables["actions"].field("arrangement").enum or ())
    assert set(dict(field.arrangements).values()) <= arrangements
    used = {row["type_detailed"] for row in _published("detention_listings")}
    assert used <= set(field.enum or ())
    assert dict(field.arrangements)["IGSA"] == "igsa_detention" and dict(field.arrangements)["USMS IGA"] == "usms_rider"


def test_every_facility_of_the_2026_04_02_edition_is_published_as_listed():
    from etl.importers.detention_sheets import read_detention_workbook

    book = read_detention_workbook(REPO / "archive/ice-detention/FY26_detentionStats_04092026.xlsx")
    listings = {m["listing_id"]: m for m in _published("detention_listings")}
    facility_of = {lid: m["facility_id"] for lid, m in listings.items()}
    status = {f["facility_id"]: f["status"] for f in _published("detention_facilities")}
    ids = [facility_of[facilities.listing_id(row.identity)] for row in book.rows]
    assert len(set(ids)) == len(book.rows) == 203
    assert {status[facility] for facility in ids} == {"listed"}
    assert sum(s == "listed" for s in status.values()) == 203


def test_nearly_every_county_named_igsa_or_usms_facility_belongs_to_its_county_and_the_rest_say_why():
    import re

    named = [f for f in _published("detention_facilities") if f["type_detailed"] in ("IGSA", "USMS IGA")
             and re.match(facilities.COUNTY_NAMED, f["name"])]
    matched = [f for f in named if f["jurisdiction_id"]]
    assert len(matched) >= 0.95 * len(named)
    for f in named:
        county = re.match(facilities.COUNTY_NAMED, f["name"]).group(1).lower().replace(".", "").replace(" ", "-")  # type: ignore[union-attr]
        if f["jurisdiction_id"]:
            assert county.split("-")[0] in f["jurisdiction_id"], f
        else:
            assert f["jurisdiction_note"], f


def _published(table: str) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(REPO / "datasets" / f"{table}.parquet").to_pylist()


def test_the_readmes_detention_import_example_runs_as_written_and_changes_nothing(tmp_path):
    run_readme_example(tmp_path, "To add a new edition, archive the workbook", "ice-detention")


# -- what the review found ------------------------------------------------------------------------------

def test_a_facility_back_after_a_gap_is_one_finding_and_an_earlier_start_does_not_take_an_end_back(detention, tmp_path):
    root, registry, first, second = detention
    third = edition(tmp_path / "FY26_detentionStats_02122026.xlsx", dt.date(2026, 2, 5), FIRST)  # Contra Costa's jail again, after a gap
    county = root / "raw/jurisdictions/ca/contra-costa-county.yaml"
    county.write_text(county.read_text("utf-8").replace("  - action_id: act-aaaaaaaa", RESTART.replace("act-cccccccc", "act-dddddddd")
                                                        .replace("2025-11-01", "2010-01-01") + "  - action_id: act-aaaaaaaa"), "utf-8")
    assert archive_and_import(root, registry, first, second, third).exit_code == 0
    tables = tables_of(root)
    ended = [f for f in tables["detention_consistency"] if f["action_id"] == "act-bbbbbbbb"]
    assert len(ended) == 1 and "in 2 editions from 2025-12-26 to 2026-02-05" in ended[0]["ice_says"]
    assert len({f["finding_id"] for f in tables["detention_consistency"]}) == len(tables["detention_consistency"])


def test_an_empty_facilities_sheet_is_refused(detention, tmp_path):
    root, registry, _, _ = detention
    empty = edition(tmp_path / "FY26_detentionStats_03012026.xlsx", dt.date(2026, 2, 20), [])
    before = raw_snapshot(root)
    result = archive_and_import(root, registry, empty)
    assert result.exit_code != 0 and "lists no facility" in result.output
    assert raw_snapshot(root) == before


def test_a_figure_that_is_not_a_number_is_left_empty_and_reported_and_the_row_kept(detention, tmp_path):
    root, registry, _, _ = detention
    odd = jail("BOONE COUNTY JAIL", "BURLINGTON", "KY", 41005, "USMS IGA")
    odd[9] = "N/A"  # Level A
    book = edition(tmp_path / "FY26_detentionStats_01082026.xlsx", dt.date(2025, 12, 26), [odd])
    result = archive_and_import(root, registry, book)
    assert result.exit_code == 0, result.output
    assert "row 7: Level A 'N/A' is not a number; that figure is left empty" in result.output
    [figures] = tables_of(root)["detention_figures"]
    assert figures["adp_level_a"] is None and figures["adp_level_b"] == 1.0


def test_a_second_content_with_the_same_data_date_leaves_the_first_editions_id(detention, tmp_path):
    root, registry, first, _ = detention
    assert archive_and_import(root, registry, first).exit_code == 0
    later = edition(tmp_path / "FY26_detentionStats_01092026.xlsx", dt.date(2025, 12, 26), FIRST[:2])  # saved the same day, other rows
    later = set_saved(later, dt.datetime(2026, 1, 3, 18))  # saved after the first
    assert archive_and_import(root, registry, later).exit_code == 0
    ids = sorted(s["source_id"] for s in tables_of(root)["sources"] if s["edition_of"] == "ice_detention_facilities")
    assert ids[0] == "ice-detention-2025-12-26" and len(ids) == 2 and ids[1].startswith("ice-detention-2025-12-26-")


def test_a_listing_the_archived_editions_no_longer_hold_is_removed_and_said(detention):
    root, registry, first, _ = detention
    assert archive_and_import(root, registry, first).exit_code == 0
    state = root / "raw/ice-detention/ky.yaml"
    text = state.read_text("utf-8")
    stale = text.split("  - listing_id: ", 2)[1]  # the first listing, as a second one that no row gives
    state.write_text(text + "  - listing_id: " + stale.replace(stale.split("\n", 1)[0], "dtl-aaaaaaaaaaaa", 1).replace("name: BO", "name: OLD BO", 1), "utf-8")
    assert run(root, "validate").exit_code == 0
    result = run(root, "import", "ice-detention", "--registry", str(registry))
    assert result.exit_code == 0 and "dtl-aaaaaaaaaaaa: OLD BO" in result.output
    assert "dtl-aaaaaaaaaaaa" not in state.read_text("utf-8")
