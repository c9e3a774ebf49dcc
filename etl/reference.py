"""Maintained reference lists: the Census states and counties that the `addfips` package ships."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

OCD_REGISTRY = "us_census_places.csv"  # the Open Civic Data registry file (archive/ocd/) that jurisdictions are matched with


def _rows(name: str) -> list[dict]:
    header, *rows = _table(name)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _table(name: str) -> list[list[str]]:
    return list(csv.reader(_lines(name)))


def _lines(name: str) -> list[str]:
    return resources.files("addfips").joinpath("data", name).read_text("utf-8").splitlines()


@cache
def state_fips_by_usps() -> dict[str, str]:
    """{'VA': '51', ...} for the states, DC and territories."""
    return {row["postal"]: row["fips"] for row in _rows("states.csv")}


def is_county(fips: str) -> bool:
    """Whether `fips` is a county in any Census edition addfips ships; the 2020 list, which almost
    every code is in, is read first and the older ones only for a code it lacks."""
    return fips in county_names() or fips in county_fips_codes()


@cache
def county_fips_codes() -> frozenset[str]:
    """Every five-digit county FIPS code in any Census edition addfips ships (2000 to 2020)."""
    codes: set[str] = set()
    for name in ("counties_2000.csv", "counties_2010.csv", "counties_2015.csv", "counties_2020.csv"):
        codes.update(_county_names(name))
    return frozenset(codes)


@cache
def state_names_by_usps() -> dict[str, str]:
    """{'VA': 'Virginia', ...}"""
    return {row["postal"]: row["name"] for row in _rows("states.csv")}


@cache
def county_names() -> dict[str, str]:
    """{'51059': 'Fairfax County', ...} from the 2020 Census list."""
    return _county_names("counties_2020.csv")


def _county_names(name: str) -> dict[str, str]:
    header, *rows = _table(name)
    state, county, county_name = header.index("statefp"), header.index("countyfp"), header.index("name")
    return {row[state] + row[county]: row[county_name] for row in rows}


def county_name(fips: str) -> str:
    return county_names()[fips]


def county_fips(name: str, usps: str) -> str | None:
    """The county FIPS code of a county named as people write it ('Cherokee County', 'Cherokee'), or None."""
    return _addfips().get_county_fips(name, state=usps)


@cache
def _addfips():
    import addfips

    return addfips.AddFIPS()
