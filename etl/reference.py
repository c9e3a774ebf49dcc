"""Maintained reference lists: the Census states and counties that the `addfips` package ships."""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources


def _rows(name: str) -> list[dict]:
    text = resources.files("addfips").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=None)
def state_fips_by_usps() -> dict[str, str]:
    """{'VA': '51', ...} for the states, DC and territories."""
    return {row["postal"]: row["fips"] for row in _rows("states.csv")}


@lru_cache(maxsize=None)
def county_fips_codes() -> frozenset[str]:
    """Every five-digit county FIPS code in any Census edition addfips ships (2000 to 2020)."""
    editions = ("counties_2000.csv", "counties_2010.csv", "counties_2015.csv", "counties_2020.csv")
    return frozenset(row["statefp"] + row["countyfp"] for name in editions for row in _rows(name))
