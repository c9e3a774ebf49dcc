"""Which rows of ICE's detention facility lists are one facility, and whose facility it is.

A listing is a row as ICE wrote it (state, name, address, city, ZIP, AOR, type). Two listings are the
same facility when:
1. same name: the same state and city, and the same name once spelling is normalized (case,
   punctuation, `CTR`/`CENTER`, `DET`/`DETENTION`, `CO`/`COUNTY`, ...), whatever their address, ZIP,
   AOR or type. A change of type (IGSA, then USMS IGA) is the same facility under another agreement
   type: `detention_facility_runs` shows it.
2. same address: the same state and ZIP, and the same street address once spelling is normalized,
   under another name, when ICE never lists both in one edition (two names listed together at one
   address, such as the units of one complex, are two facilities).
3. cut short: the same state and city, one name the other cut short (`NORTH LAKE CORRECTIONAL F`),
   never both in one edition.
Everything else is a separate facility. Every match is written in the listing's `match`, for a
curator to confirm or undo in imports/ice-detention-facilities.yaml (`join` another listing's
facility, or stand `separate`), which decides over the rules.

Whose facility it is comes from its type and name, and the reference lists, never from memory: a
type that is a local arrangement (IGSA, USMS IGA, JUVENILE) named for a county (`BOONE COUNTY JAIL`,
`BOURBON CO DET CENTER`) is the county's; `... CITY JAIL` is the city's; ICE's type STATE is the
state's. A regional jail, a facility named for no county or city, a DIGSA (which ICE says a
contractor typically runs for a local government it does not name), and private and federal types
name no jurisdiction, and say why. A curator can assign any facility, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..names import stable_id
from .agreements import decided, decisions_of
from .jurisdictions import Registry, Resolved, assigned, county_record, municipality_record, state_record
from .sheets import Row

DECISIONS_FILE = "imports/ice-detention-facilities.yaml"  # `decisions` (join, separate) and `facilities` (assignments)
SHORTEST_CUT = 12
LOCAL_TYPES = ("IGSA", "USMS IGA", "JUVENILE")  # a government's own facility, or one it holds the agreement for
NAME_WORDS = {"ctr": "center", "cntr": "center", "det": "detention", "corr": "correctional", "co": "county", "fac": "facility",
              "faciliti": "facility", "inst": "institution", "fed": "federal", "proces": "processing", "processsing": "processing",
              "pen": "penitentiary", "spc": "service processing center", "ipc": "ice processing center", "the": ""}
ADDRESS_WORDS = {"street": "st", "road": "rd", "avenue": "ave", "av": "ave", "highway": "hwy", "drive": "dr", "boulevard": "blvd",
                 "lane": "ln", "parkway": "pkwy", "route": "rt", "rte": "rt", "court": "ct", "place": "pl", "circle": "cir",
                 "north": "n", "south": "s", "east": "e", "west": "w", "suite": "ste", "post": "po", "box": "box"}
COUNTY_NAMED = re.compile(r"^(.+?) (COUNTY|CO\.?|PARISH)(?=\s|$)", re.IGNORECASE)
CITY_NAMED = re.compile(r"^(?:CITY OF (.+?) (?:JAIL|DETENTION|CORRECTION)|(.+?) CITY (?:JAIL|DETENTION|CORRECTION))", re.IGNORECASE)


@dataclass(frozen=True)
class Listing:
    listing_id: str
    state: str
    name: str
    address: str
    city: str
    zip: str
    first: str  # the data date of the first edition listing it (sortable text)
    editions: frozenset[str]


def listing_id(identity: tuple[str, ...]) -> str:
    """Stable and content-derived: the same row as ICE wrote it always gets the same id."""
    return stable_id("dtl", "|".join(identity))


def normalized_name(name: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", name.casefold().replace("&", " and ")).split()
    return " ".join(w for w in (NAME_WORDS.get(word, word) for word in words) if w)


def normalized_address(address: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", address.casefold()).split()
    return " ".join(ADDRESS_WORDS.get(word, word) for word in words)


class _Group:
    def __init__(self, members: list[Listing]):
        self.members = sorted(members, key=lambda m: (m.first, m.listing_id))
        self.editions = frozenset().union(*(m.editions for m in members)) if members else frozenset()

    def add(self, members: list[Listing]) -> None:
        self.__init__([*self.members, *members])  # type: ignore[misc]

    def remove(self, member: Listing) -> None:
        self.__init__([m for m in self.members if m is not member])  # type: ignore[misc]

    @property
    def founder(self) -> Listing:
        return self.members[0]


def group(listings: list[Listing], decisions: dict) -> dict[str, tuple[str, str | None]]:
    """For each listing: its facility id, and why it belongs there (None for the first listing)."""
    separate = decisions.get("separate", {})
    reasons: dict[str, str] = {}
    by_name: dict[tuple, list[Listing]] = {}
    for listing in sorted(listings, key=lambda m: (m.first, m.listing_id)):
        if listing.listing_id not in separate:
            by_name.setdefault((listing.state, listing.city.casefold(), normalized_name(listing.name)), []).append(listing)
    for members in by_name.values():
        for before, listing in zip(members, members[1:], strict=False):
            reasons[listing.listing_id] = f"the same facility as {before.listing_id}: {_differences(before, listing)}"
    groups = _successions([_Group(members) for members in by_name.values()], reasons)
    return decided(groups, listings, decisions, reasons, _Group, "facility", lambda found: found.founder)


def _differences(before: Listing, after: Listing) -> str:
    changes = [f"{label} {getattr(before, key)!r} -> {getattr(after, key)!r}" for key, label in
               (("name", "name"), ("address", "address"), ("zip", "ZIP")) if getattr(before, key) != getattr(after, key)]
    return "same state, city and name once spelling is normalized" + (f" ({'; '.join(changes)})" if changes else " (another AOR or type)")


def _successions(groups: list[_Group], reasons: dict[str, str]) -> list[_Group]:
    """Rules 2 and 3: each group, in order of its first listing, joins an earlier one it never stood
    beside in an edition, at the same address or under a longer name."""
    alive: list[_Group] = []
    for later in sorted(groups, key=lambda g: (g.founder.first, g.founder.listing_id)):
        new = later.founder
        earlier, why = None, ""
        for candidate in alive:
            if candidate.editions & later.editions or candidate.founder.state != new.state:
                continue
            old = candidate.members[-1]
            if new.zip and old.zip == new.zip and new.address and normalized_address(old.address) == normalized_address(new.address):
                earlier = candidate
                why = (f"at the same address as {old.listing_id} ({old.address!r}, ZIP {old.zip}), never listed in one edition with it: "
                       f"name {old.name!r} -> {new.name!r}")
                break
            short, long = sorted((normalized_name(old.name), normalized_name(new.name)), key=len)
            if old.city.casefold() == new.city.casefold() and len(short) >= SHORTEST_CUT and long.startswith(short) and short != long:
                earlier, why = candidate, f"one name cut short: {old.name!r} ({old.listing_id}) and {new.name!r}, in one city, never in one edition"
                break
        if earlier is None:
            alive.append(later)
            continue
        reasons[new.listing_id] = why
        alive[alive.index(earlier)] = _Group([*earlier.members, *later.members])
    return alive


def facility_decisions(project) -> dict:
    return decisions_of(project, DECISIONS_FILE)


# -- whose facility ---------------------------------------------------------------------------------

def jurisdiction_of(state: str, name: str, type_detailed: str, registry: Registry, mapping: dict, type_labels: dict[str, str]) -> Resolved | str:
    """The jurisdiction of a facility as ICE lists it, or why it names none."""
    as_row = Row(state, name, "", "", "", "", None)
    entry = mapping.get((state, name.casefold()))
    if entry:
        return assigned(as_row, entry, registry, DECISIONS_FILE)
    if type_detailed == "STATE":
        return Resolved(state_record(state), "ICE's type STATE, read as a facility of its state")
    county = COUNTY_NAMED.match(name)
    if type_detailed not in LOCAL_TYPES:
        named = f" (its name names {county.group(1).title()} County)" if county else ""
        label = type_labels.get(type_detailed, "not a type ICE defines")
        return f"type {type_detailed}: {label}; the sheet names no government that holds an agreement for it{named}"
    if re.search(r"\bREGIONAL\b", name, re.IGNORECASE):
        named = f" (its name names {county.group(1).title()} County, but a regional facility may serve more than one government)" if county else ""
        return f"a regional facility: the authority that runs it is not in the reference lists; a curator can assign it{named}"
    if county:
        return _county(county.group(1), county.group(2), state, registry)
    city = CITY_NAMED.match(name)
    if city:
        found = municipality_record(Row(state, (city.group(1) or city.group(2)).strip(), "Municipality", "", "", "", None), registry)
        if isinstance(found, Resolved):
            return Resolved(found.record, f"named for the city: {found.how}")
        return found
    return "its name names no county or city, and the sheet does not say whose facility it is; a curator can assign it"


def _county(named: str, word: str, state: str, registry: Registry) -> Resolved | str:
    county = f"{named.title()} {'Parish' if word.upper() == 'PARISH' else 'County'}"
    found = county_record(Row(state, county, "County", county, "", "", None), registry)
    if isinstance(found, str):
        return f"named for {county}: {found}"
    return Resolved(found.record, f"named for {found.record['name']} (FIPS {found.record['county_fips']}): a county's jail")
