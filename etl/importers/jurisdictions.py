"""Which jurisdiction an agency in an official list belongs to, from reference lists, never guesses:
county FIPS from the Census list that `addfips` ships; OCD ids and place GEOIDs from the OCD registry
(archive/ocd/). A row that cannot be matched is reported; a curator can assign its agency in
`imports/ice-287g-agencies.yaml`, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from .. import reference
from ..names import NO_COUNTY
from ..scaffold import slugify
from .sheets import ImportError_, Row

MAPPING_FILE = "imports/ice-287g-agencies.yaml"


@dataclass(frozen=True)
class Place:
    ocd_id: str
    name: str  # the registry's name, e.g. "Key West city"
    geoid: str


class Registry:
    """The Open Civic Data registry of US counties and places (id, name, census_geoid)."""

    def __init__(self, path: Path, place_counties=None):
        import csv

        from .places import PlaceCounties

        self.place_counties = place_counties or PlaceCounties(None, None)  # the Census list of places by county
        self.by_geoid: dict[str, Place] = {}
        self.places: dict[tuple[str, str], list[Place]] = {}  # incorporated places (7-digit GEOID)
        self.subdivisions: dict[tuple[str, str], list[Place]] = {}  # towns and townships (10-digit GEOID)
        try:
            with open(path, newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    self._add(row)
        except (OSError, KeyError, UnicodeDecodeError) as error:
            raise ImportError_(f"{path}: cannot read the OCD registry ({error})") from None
        if not self.by_geoid:
            raise ImportError_(f"{path}: is not the OCD registry (columns id,name,census_geoid)")

    def _add(self, row: dict) -> None:
        ocd, geoid = row["id"], row["census_geoid"].removeprefix("place-")
        place = Place(ocd, row["name"], geoid)
        self.by_geoid.setdefault(geoid, place)
        match = re.fullmatch(r"ocd-division/country:us/state:([a-z]{2})(/county:[^/]+)?/place:[^/]+", ocd)
        if match and len(geoid) in (7, 10):
            index = self.places if len(geoid) == 7 else self.subdivisions
            index.setdefault((match.group(1).upper(), _place_key(row["name"])), []).append(place)


PLACE_SUFFIX = re.compile(r"\s+(city|town|village|borough|municipality|plantation|corporation)$", re.IGNORECASE)
AGENCY_WORDS = re.compile(
    r"\b(police department|police dept\.?|polce department|police|pd|dps|department of public safety|public safety|"
    r"marshal'?s office|(state )?constables?'?s?'?s?( office)?|\w+ ward)\b.*$", re.IGNORECASE)


def _place_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", PLACE_SUFFIX.sub("", name.strip()).lower()).strip().replace("saint ", "st ")


def municipality_of(agency: str) -> str:
    """'Key West Police Department' -> 'key west'; 'City of Apopka Police' -> 'apopka'."""
    agency = re.sub(r"\bTWP\b\.?", "Township", re.sub(r"^Ft\.? ", "Fort ", agency), flags=re.IGNORECASE)
    agency = re.sub(r",? PA (?=State Constable)", " ", agency)  # `Troy Township PA State Constable`
    name = AGENCY_WORDS.sub("", agency).strip(" ,-")
    name = re.sub(r"^(city|town|village|borough|office of constable) of\s+|^office of constable\s+", "", name, flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip().replace("saint ", "st ")


@dataclass
class Resolved:
    record: dict  # the jurisdiction's identity fields
    how: str  # how it was matched, for the action's notes


def resolve(row: Row, registry: Registry, mapping: dict[tuple[str, str], dict]) -> Resolved | str:
    """The jurisdiction of the row's agency, or the reason it could not be matched."""
    mapped = mapping.get((row.state, row.agency.casefold()))
    if mapped:
        return assigned(row, mapped, registry)
    kind, why = kind_of(row)
    if kind == "state":
        return Resolved(state_record(row.state), f"a state agency, {why}")
    if kind == "county":
        found = county_record(row, registry)
        return Resolved(found.record, f"{found.how}; {why}") if isinstance(found, Resolved) and why != TYPE_SAYS else found
    if kind == "municipality":
        return municipality_record(row, registry)
    return f"TYPE {row.agency_type!r} is not County, Municipality or State Agency, and the agency's name does not say which"


TYPE_SAYS = "per ICE's TYPE column"
COUNTY_OFFICE = re.compile(r"^(.+?) (County|Parish) (Sheriff|Constable|Police Department\b)", re.IGNORECASE)
STATE_OFFICE = re.compile(r"^(.+?) (State Police|State Patrol|Highway Patrol|Bureau of Investigation|Department of)\b", re.IGNORECASE)


def kind_of(row: Row) -> tuple[str | None, str]:
    """Whose agency the row names: a state's, a county's or a municipality's, and why. ICE's TYPE
    decides, except where the agency's name says otherwise: a county's sheriff, constable or county
    police listed as a municipality is the county's; a state's police, patrol or department (named
    for the state) is the state's. A misspelt or missing TYPE (`Muncipality`, `#NA`) is read from
    the name the same way."""
    typed = row.agency_type.lower()
    named_state = STATE_OFFICE.match(row.agency)
    if named_state and named_state.group(1).casefold() == reference.state_names_by_usps()[row.state].casefold():
        return "state", TYPE_SAYS if typed.startswith("state") else f"as its name says (ICE's TYPE column says {row.agency_type or 'nothing'})"
    county = COUNTY_OFFICE.match(row.agency)
    if county and "regional" not in row.agency.lower() and not typed.startswith("state"):
        return "county", TYPE_SAYS if typed.startswith("county") else f"as its name says (ICE's TYPE column says {row.agency_type or 'nothing'})"
    for word, kind in (("state", "state"), ("county", "county"), ("munic", "municipality"), ("muncip", "municipality")):
        if typed.startswith(word):
            return kind, TYPE_SAYS if typed.startswith(("state", "county", "municipal")) else f"reading ICE's TYPE {row.agency_type!r} as {kind}"
    if re.search(r"sheriff", row.agency, re.IGNORECASE):
        return "county", f"a sheriff's office (ICE's TYPE column says {row.agency_type or 'nothing'})"
    if re.search(r"\bpolice\b|\bPD$", row.agency, re.IGNORECASE):
        return "municipality", f"a police department (ICE's TYPE column says {row.agency_type or 'nothing'})"
    return None, ""


def assigned(row: Row, entry: dict, registry: Registry, file: str = MAPPING_FILE) -> Resolved | str:
    """A curator's assignment (in `file`): an OCD id, resolved through the registry, or a named special district."""
    how = f"assigned by a curator in {file} ({entry['note']})"
    ocd = entry.get("ocd_id")
    if not ocd:
        name = entry["name"]
        return Resolved({"jurisdiction_id": f"{row.state.lower()}-{slugify(name)}", "name": name, "kind": "special_district",
                         "state": row.state, "state_fips": reference.state_fips_by_usps()[row.state]}, how)
    if ocd == f"ocd-division/country:us/state:{row.state.lower()}":
        return Resolved(state_record(row.state), how)
    place = next((p for p in registry.by_geoid.values() if p.ocd_id == ocd), None)
    if place is None:
        return f"the curator's OCD id {ocd!r} is not in the OCD registry"
    if len(place.geoid) == 5:
        return county_record(replace(row, agency_type="County", county=reference.county_name(place.geoid)), registry, how)
    key = _place_key(place.name)
    return municipality_record(replace(row, agency=key, agency_type="Municipality"), registry, how, only=place)


def state_record(usps: str) -> dict:
    name = reference.state_names_by_usps()[usps]
    return {
        "jurisdiction_id": f"{usps.lower()}-{slugify(name)}", "name": name, "kind": "state", "state": usps,
        "state_fips": reference.state_fips_by_usps()[usps], "ocd_id": f"ocd-division/country:us/state:{usps.lower()}",
    }


def _candidates(index: dict, state: str, key: str) -> list[Place]:
    return index.get((state, key)) or index.get((state, PLACE_SUFFIX.sub("", key))) or []


def county_record(row: Row, registry: Registry, how: str | None = None) -> Resolved | str:
    """The county in ICE's COUNTY column or, where that names none, the county the agency's name names."""
    in_column = row.county if row.county.upper() not in NO_COUNTY else ""
    in_name = _county_in_name(row.agency)
    fips = _county_fips(in_column, row.state) if in_column else None
    named = in_column
    if not fips and in_name:
        fips, named = _county_fips(in_name, row.state), in_name
    if not fips:
        tried = " or ".join(repr(n) for n in dict.fromkeys((in_column, in_name)) if n) or "nothing (COUNTY is empty)"
        return f"{tried} is not a county of {row.state} in the Census list"
    place = registry.by_geoid.get(fips)
    if place is None:
        return f"county {fips} ({named}) is not in the OCD registry"
    census_name = reference.county_name(fips)
    kind = "independent_city" if census_name.endswith(" city") else "parish" if census_name.endswith(" Parish") else "county"
    record = {
        "jurisdiction_id": f"{row.state.lower()}-{slugify(census_name)}", "name": census_name, "kind": kind,
        "state": row.state, "state_fips": fips[:2], "county_fips": fips, "ocd_id": place.ocd_id,
    }
    if named == in_column:
        found_in = "ICE's COUNTY column"
    elif in_column:
        found_in = f"the agency's name (ICE's COUNTY column, {in_column!r}, names no county of {row.state})"
    else:
        found_in = "the agency's name (ICE's COUNTY column is empty)"
    return Resolved(record, how or f"county {census_name} (FIPS {fips}) from {found_in}")


def _county_fips(name: str, state: str) -> str | None:
    """The county FIPS of a county as ICE writes it, forgiving what people write differently: a
    possessive (`Lyon's County`), `St` without its point, `LaSalle` for `La Salle`, and `County` for a
    Louisiana parish."""
    tried = [name, re.sub(r"'s\b", "", name), re.sub(r"^St\b\.?", "St.", name), name.replace("LaSalle", "La Salle")]
    if state == "LA":
        tried.append(re.sub(r"\bCounty\b", "Parish", name))
    return next((fips for fips in (reference.county_fips(text, state) for text in tried) if fips), None)


def _county_in_name(agency: str) -> str:
    match = re.search(r"^(.+?\b(County|Parish))\b", agency)
    return match.group(1) if match else ""


def municipality_record(row: Row, registry: Registry, how: str | None = None, only: Place | None = None) -> Resolved | str:
    key = municipality_of(row.agency)
    county = _county_fips(row.county, row.state) if row.county.upper() not in NO_COUNTY else None
    candidates = [only] if only else _candidates(registry.places, row.state, key) or _candidates(registry.subdivisions, row.state, key)
    if county and len(candidates) > 1:  # ICE's COUNTY column tells same-named townships apart
        candidates = [p for p in candidates if len(p.geoid) == 10 and p.geoid[:5] == county] or candidates
    if county and len(candidates) == 1 and len(candidates[0].geoid) == 10 and candidates[0].geoid[:5] != county and not only:
        return (f"the township {candidates[0].name} (GEOID {candidates[0].geoid}) lies in {reference.county_name(candidates[0].geoid[:5])}, "
                f"not in {reference.county_name(county)} as ICE's COUNTY column says")
    if len(candidates) != 1:
        found = "no place" if not candidates else f"{len(candidates)} places"
        return f"the municipality {key!r} (from the agency's name) matches {found} of {row.state} in the OCD registry"
    place = candidates[0]
    name = PLACE_SUFFIX.sub("", place.name)
    kind_word = PLACE_SUFFIX.search(place.name)
    kind = {"town": "town", "village": "village", "borough": "borough"}.get(kind_word.group(1).lower() if kind_word else "", "city")
    record: dict = {}
    if len(place.geoid) == 10:  # a town or township: a county subdivision, whose GEOID starts with its county's
        kind = "township" if place.name.lower().endswith("township") else "town"
        record = {"county_fips": place.geoid[:5], "county_basis": "subdivision_geoid"}
    else:
        lies_in = registry.place_counties.county_of(place.geoid, place.name, row.state, county)
        record = {"place_geoid": place.geoid}
        if lies_in.county_fips:
            record.update(county_fips=lies_in.county_fips, county_basis=lies_in.basis, other_counties=" | ".join(lies_in.others) or None)
        elif county:
            record.update(county_fips=county, county_basis="official_list_county_column")
    record.update({
        "jurisdiction_id": f"{row.state.lower()}-{slugify(name)}", "name": name, "kind": kind, "state": row.state,
        "state_fips": place.geoid[:2], "ocd_id": place.ocd_id,
    })
    independent = reference.county_fips(f"{name} city", row.state) if row.state == "VA" else None
    if independent:
        record.update(kind="independent_city", county_fips=independent, county_basis=None, other_counties=None)
    return Resolved(record, how or f"place {place.name} (GEOID {place.geoid}) in the OCD registry, from the agency's name")


def mapping_of(project, file: str = MAPPING_FILE, key: str = "agencies", name_key: str = "agency") -> dict[tuple[str, str], dict]:
    """Curators' assignments of what an importer cannot match, by state and name as the official list
    writes it: {(USPS, name): entry}."""
    from ..problems import Problem, ProblemError
    from .curated import curated_list

    entries = curated_list(project, file, key, f"{key} (- state: ...)")
    result = {}
    for index, entry in enumerate(entries or []):
        complete = isinstance(entry, dict) and all(entry.get(k) for k in ("state", name_key, "note")) and (entry.get("ocd_id") or entry.get("name"))
        if not complete:
            raise ProblemError([Problem(file, entries.lines[index], f"{key}[{index}]",
                                        f"needs state, {name_key}, note, and an ocd_id (or the name of a special district)")])
        result[(entry["state"].upper(), entry[name_key].casefold())] = entry
    return result
