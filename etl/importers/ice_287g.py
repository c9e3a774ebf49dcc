"""ICE's 287(g) agency lists (spreadsheets overwritten without history) -> raw records.

One edition of the "participating agencies" or "pending agencies" list becomes:
- a source record for the edition (its date and time come from the file name);
- for each row, an action of the agency's jurisdiction: entering a 287(g) agreement of the row's model,
  `approved` on the SIGNED date (participating) or `requested` (pending), citing the edition's row.

Identity and precedence:
- An agreement's action id is derived from what ICE wrote (state, agency, model, SIGNED as written, or
  "pending"), so importing an edition twice adds nothing, and a curator's edits to the action's other
  fields survive later imports.
- The importer only adds: new jurisdictions (unless one with the same OCD id exists), new actions, and
  citations of a new edition to actions it already lists. It never changes or removes what is in raw/.
- Jurisdictions come from reference lists, never from guesses: county FIPS from the Census list that
  `addfips` ships; OCD ids and place GEOIDs from the OCD registry file the user names. A row that cannot
  be matched is reported and not imported; a curator can map its agency in `imports/ice-287g-agencies.yaml`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import reference
from ..problems import CommandError
from ..scaffold import ID_ALPHABET, slugify

ICE_287G_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
PUBLISHER = "U.S. Immigration and Customs Enforcement"
MODELS = {
    "jail enforcement model": "287g_jail_enforcement",
    "task force model": "287g_task_force",
    "warrant service officer": "287g_warrant_service_officer",
}
REQUIRED = {
    "ice_287g_participating": ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED"],
    "ice_287g_pending": ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"],
}
FILE_NAME = re.compile(r"(participating|pending)Agencies(\d{2})(\d{2})(\d{4})(am|pm)?", re.IGNORECASE)
NO_COUNTY = {"", "#N/A", "N/A", "#NA", "NA"}
EXCEL_EPOCH = dt.date(1899, 12, 30)


class ImportError_(CommandError):
    """The file is not an edition we can read; nothing was written."""


@dataclass(frozen=True)
class Edition:
    kind: str  # ice_287g_participating or ice_287g_pending
    published: dt.date
    time_of_day: str  # "am", "pm" or ""
    file_name: str

    @property
    def source_id(self) -> str:
        list_name = self.kind.removeprefix("ice_287g_")
        return f"ice-287g-{list_name}-{self.published.isoformat()}{'-' + self.time_of_day if self.time_of_day else ''}"

    @property
    def label(self) -> str:
        list_name = "participating agencies" if self.kind == "ice_287g_participating" else "pending agencies"
        when = self.published.isoformat() + (f" {self.time_of_day.upper()}" if self.time_of_day else "")
        return f"ICE's 287(g) {list_name} list, edition of {when}"


@dataclass
class Row:
    number: int  # the sheet's row number, header = 1
    state: str  # USPS code
    agency: str
    agency_type: str
    county: str
    model: str  # an arrangement value
    signed_text: str  # SIGNED as ICE wrote it ("" for pending)
    signed: dt.date | None


@dataclass
class Sheet:
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rows we could not read, with the reason


def edition_of(path: Path, kind: str | None = None, published: dt.date | None = None, time_of_day: str | None = None) -> Edition:
    """The edition's list and date, from the file name unless given."""
    match = FILE_NAME.search(path.name)
    if match:
        month, day, year = (int(g) for g in match.group(2, 3, 4))
        try:
            named = dt.date(year, month, day)
        except ValueError:
            named = None
        kind = kind or f"ice_287g_{match.group(1).lower()}"
        published = published or named
        time_of_day = time_of_day if time_of_day is not None else (match.group(5) or "").lower()
    if not kind or not published:
        raise ImportError_(
            f"{path.name}: cannot tell which list and edition this is from its name "
            "(ICE names them like participatingAgencies07182025pm.xlsx); pass --list and --published"
        )
    return Edition(kind, published, time_of_day or "", path.name)


def read_sheet(path: Path, edition: Edition) -> Sheet:
    """Read the edition's rows; refuse a file that is not such a list."""
    rows = _cells(path)
    header_at, header = _find_header(rows, edition, path)
    column = {name: header.index(name) for name in header if name}
    sheet = Sheet()
    states = {name.upper(): usps for usps, name in reference.state_names_by_usps().items()}
    for offset, values in enumerate(rows[header_at + 1:], start=header_at + 2):
        cell = {name: _text(values[index]) if index < len(values) else "" for name, index in column.items()}
        if not any(cell.values()):
            continue
        problem = _row_problem(cell, states)
        if problem:
            sheet.problems.append(f"row {offset}: {problem}")
            continue
        signed_value = values[column["SIGNED"]] if "SIGNED" in column and column["SIGNED"] < len(values) else None
        signed_text, signed = _signed(signed_value, edition.published) if edition.kind == "ice_287g_participating" else ("", None)
        sheet.rows.append(Row(
            offset, states[cell["STATE"].upper()], cell["LAW ENFORCEMENT AGENCY"], cell["TYPE"], cell["COUNTY"],
            MODELS[cell["SUPPORT TYPE"].lower()], signed_text, signed,
        ))
    if not sheet.rows:
        raise ImportError_(f"{path.name}: has the list's columns but no agency rows")
    return sheet


MAX_WORKBOOK_BYTES = 200 * 1024 * 1024  # ICE's largest edition expands to a few MB; a zip bomb to far more


def _cells(path: Path) -> list[tuple]:
    """The first sheet's rows; ImportError_ for anything that is not a readable, reasonable workbook
    (a truncated file, a zip that expands to too much, XML that cannot be parsed, no sheet)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportError_(f"{path.name}: is not an Excel workbook (.xlsx) that can be read ({type(error).__name__})") from None
    if expanded > MAX_WORKBOOK_BYTES:
        raise ImportError_(f"{path.name}: expands to {expanded:,} bytes, more than an ICE list ever holds ({MAX_WORKBOOK_BYTES:,}); refused")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise ImportError_(f"{path.name}: holds no sheet")
            return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    except ImportError_:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged file: each is a file we cannot read
        raise ImportError_(f"{path.name}: is not an Excel workbook (.xlsx) that can be read ({type(error).__name__})") from None


def _find_header(rows: list[tuple], edition: Edition, path: Path) -> tuple[int, list[str]]:
    required = REQUIRED[edition.kind]
    for index, values in enumerate(rows[:20]):
        header = [_text(v).upper() for v in values]
        if all(name in header for name in required):
            return index, header
    raise ImportError_(
        f"{path.name}: is not an ICE 287(g) {edition.kind.removeprefix('ice_287g_')} agencies list "
        f"(no header row with the columns {', '.join(required)})"
    )


def _row_problem(cell: dict, states: dict) -> str | None:
    if cell["STATE"].upper() not in states:
        return f"STATE {cell['STATE']!r} is not a US state"
    if not cell["LAW ENFORCEMENT AGENCY"]:
        return "LAW ENFORCEMENT AGENCY is empty"
    if cell["SUPPORT TYPE"].lower() not in MODELS:
        return f"SUPPORT TYPE {cell['SUPPORT TYPE']!r} is not a 287(g) model we know ({', '.join(m.title() for m in MODELS)})"
    return None


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _signed(value, edition_day: dt.date) -> tuple[str, dt.date | None]:
    """SIGNED as ICE wrote it, and the day it names when it names one unambiguously (and not after
    the edition itself: `5025-07-07` is kept as written, not read as a day)."""
    text, day = _signed_as_written(value)
    return (text, day) if day and day <= edition_day else (text, None)


def _signed_as_written(value) -> tuple[str, dt.date | None]:
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), value.date()
    if isinstance(value, dt.date):
        return value.isoformat(), value
    if isinstance(value, (int, float)) and 20000 < value < 80000:  # an Excel serial day number
        day = EXCEL_EPOCH + dt.timedelta(days=int(value))
        return day.isoformat(), day
    text = _text(value)
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match:
        try:
            day = dt.date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
            return text, day
        except ValueError:
            pass
    return text, None  # e.g. "7/72025": kept as written, never read as a day


# -- Ids -------------------------------------------------------------------------------------------

def agreement_id(row: Row) -> str:
    """Stable and content-derived: the same ICE row always gets the same id."""
    signed = row.signed_text or "pending"
    key = "|".join([row.state, row.agency.casefold(), row.model, signed])
    digest = int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16)
    letters = []
    for _ in range(12):
        digest, index = divmod(digest, len(ID_ALPHABET))
        letters.append(ID_ALPHABET[index])
    return "act-" + "".join(letters)


# -- Jurisdictions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    ocd_id: str
    name: str  # the registry's name, e.g. "Key West city"
    geoid: str


class Registry:
    """The Open Civic Data registry of US counties and places (id, name, census_geoid)."""

    def __init__(self, path: Path):
        import csv

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
    r"\b(police department|police dept\.?|police|department of public safety|public safety|"
    r"marshal'?s office|(state )?constables?'?s?'?s?( office)?|\w+ ward)\b.*$", re.IGNORECASE)


def _place_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", PLACE_SUFFIX.sub("", name.strip()).lower()).strip().replace("saint ", "st ")


def municipality_of(agency: str) -> str:
    """'Key West Police Department' -> 'key west'; 'City of Apopka Police' -> 'apopka'."""
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
        return _mapped(row, mapped, registry)
    if row.agency_type.lower().startswith("state"):
        return Resolved(state_record(row.state), "a state agency, per ICE's TYPE column")
    if row.agency_type.lower().startswith("county"):
        return _county(row, registry)
    if row.agency_type.lower().startswith("municipal"):
        return _municipality(row, registry)
    return f"TYPE {row.agency_type!r} is not County, Municipality or State Agency"


def _mapped(row: Row, entry: dict, registry: Registry) -> Resolved | str:
    """A curator's assignment: an OCD id, resolved through the registry, or a named special district."""
    how = f"assigned by a curator in {MAPPING_FILE} ({entry['note']})"
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
        return _county(Row(row.number, row.state, row.agency, "County", reference.county_name(place.geoid), row.model,
                           row.signed_text, row.signed), registry, how)
    key = _place_key(place.name)
    return _municipality(Row(row.number, row.state, key, "Municipality", row.county, row.model, row.signed_text, row.signed),
                         registry, how, only=place)


def state_record(usps: str) -> dict:
    name = reference.state_names_by_usps()[usps]
    return {
        "jurisdiction_id": f"{usps.lower()}-{slugify(name)}", "name": name, "kind": "state", "state": usps,
        "state_fips": reference.state_fips_by_usps()[usps], "ocd_id": f"ocd-division/country:us/state:{usps.lower()}",
    }


def _candidates(index: dict, state: str, key: str) -> list[Place]:
    return index.get((state, key)) or index.get((state, PLACE_SUFFIX.sub("", key))) or []


def _county(row: Row, registry: Registry, how: str | None = None) -> Resolved | str:
    """The county in ICE's COUNTY column or, where that names none, the county the agency's name names."""
    in_column = row.county if row.county.upper() not in NO_COUNTY else ""
    in_name = _county_in_name(row.agency)
    fips = reference.county_fips(in_column, row.state) if in_column else None
    named = in_column
    if not fips and in_name:
        fips, named = reference.county_fips(in_name, row.state), in_name
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


def _county_in_name(agency: str) -> str:
    match = re.search(r"^(.+?\b(County|Parish))\b", agency)
    return match.group(1) if match else ""


def _municipality(row: Row, registry: Registry, how: str | None = None, only: Place | None = None) -> Resolved | str:
    key = municipality_of(row.agency)
    county = reference.county_fips(row.county, row.state) if row.county.upper() not in NO_COUNTY else None
    candidates = [only] if only else _candidates(registry.places, row.state, key) or _candidates(registry.subdivisions, row.state, key)
    if county and len(candidates) > 1:  # ICE's COUNTY column tells same-named townships apart
        candidates = [p for p in candidates if len(p.geoid) == 10 and p.geoid[:5] == county] or candidates
    if len(candidates) != 1:
        found = "no place" if not candidates else f"{len(candidates)} places"
        return f"the municipality {key!r} (from the agency's name) matches {found} of {row.state} in the OCD registry"
    place = candidates[0]
    name = PLACE_SUFFIX.sub("", place.name)
    kind_word = PLACE_SUFFIX.search(place.name)
    kind = {"town": "town", "village": "village", "borough": "borough"}.get(kind_word.group(1).lower() if kind_word else "", "city")
    if len(place.geoid) == 10:  # a town or township: a county subdivision, whose GEOID starts with its county's
        kind = "township" if place.name.lower().endswith("township") else "town"
        record = {"county_fips": place.geoid[:5]}
    else:
        record = {"place_geoid": place.geoid}
    record.update({
        "jurisdiction_id": f"{row.state.lower()}-{slugify(name)}", "name": name, "kind": kind, "state": row.state,
        "state_fips": place.geoid[:2], "ocd_id": place.ocd_id,
    })
    if county:
        record["county_fips"] = county
    independent = reference.county_fips(f"{name} city", row.state) if row.state == "VA" else None
    if independent:
        record.update(kind="independent_city", county_fips=independent)
    return Resolved(record, how or f"place {place.name} (GEOID {place.geoid}) in the OCD registry, from the agency's name")


# -- Planning and writing raw records ---------------------------------------------------------------

MAPPING_FILE = "imports/ice-287g-agencies.yaml"
MODEL_WORDS = {
    "287g_jail_enforcement": "jail enforcement model",
    "287g_task_force": "task force model",
    "287g_warrant_service_officer": "warrant service officer model",
}


@dataclass
class Report:
    edition: Edition
    rows: int = 0
    added_actions: list[str] = field(default_factory=list)
    added_citations: list[str] = field(default_factory=list)
    added_jurisdictions: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    no_longer_listed: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def actor_role(row: Row) -> str:
    name = row.agency.lower()
    if row.agency_type.lower().startswith("state"):
        return "state_agency"
    for words, role in (("sheriff", "sheriff"), ("police", "police_department"), ("public safety", "police_department"),
                        ("constab", "constable"), ("district attorney", "prosecutor"), ("board of county", "county_board")):
        if words in name:
            return role
    return "corrections_department" if re.search(r"correct|detention|jail|criminal justice", name) else "sheriff"


def new_action(row: Row, edition: Edition, how: str) -> dict:
    words = MODEL_WORDS[row.model]
    notes = f"Imported from {edition.label}, sheet row {row.number}. Jurisdiction: {how}."
    if edition.kind == "ice_287g_pending":
        date, stage = f"../{edition.published.isoformat()}", "requested"
        summary = f"{row.agency} asked to join ICE's 287(g) program under the {words}; ICE lists the request as pending."
    else:
        date = row.signed.isoformat() if row.signed else f"../{edition.published.isoformat()}"
        stage = "approved"
        summary = f"{row.agency} signed a 287(g) agreement with ICE under the {words}."
        if not row.signed:
            notes += f" ICE's list gives SIGNED as {row.signed_text!r}, which is not a valid date, so the action is dated on or before the edition."
    return {
        "action_id": agreement_id(row), "date": date, "action": "enter", "stage": stage, "arrangement": row.model,
        "actor_role": actor_role(row), "actor_name": row.agency,
        "initiated_by": "state" if row.agency_type.lower().startswith("state") else "local",
        "summary": summary, "notes": notes, "citations": [],
    }


def citation(row: Row, edition: Edition) -> dict:
    if edition.kind == "ice_287g_pending":
        claim = f"The list names {row.agency} ({row.agency_type}) as pending for a {MODEL_WORDS[row.model]} agreement."
    else:
        claim = f"The list names {row.agency} ({row.agency_type}) with a {MODEL_WORDS[row.model]} agreement, SIGNED {row.signed_text or 'blank'}."
    record = {"source_id": edition.source_id, "claim": claim, "locator": f"sheet row {row.number}"}
    if row.signed:
        record["date_stated"] = row.signed.isoformat()
    return record


def source_record(edition: Edition) -> dict:
    return {
        "source_id": edition.source_id, "url": ICE_287G_PAGE, "publisher": PUBLISHER,
        "published": edition.published.isoformat(), "kind": "dataset", "edition_of": edition.kind,
        "notes": f"The spreadsheet {edition.file_name} from ICE's 287(g) page; ICE overwrites it without history. "
                 f"Its date{' and time of day' if edition.time_of_day else ''} come from the file name.",
    }


def import_edition(project, path: Path, registry_path: Path, kind=None, published=None, time_of_day=None) -> Report:
    """Add one edition's agreements to raw/; nothing is written unless the whole file was read."""
    from ..canonical import dump
    from ..pipeline import check_texts, read_raw
    from ..problems import ProblemError
    from ..rawfiles import require_canonical
    from ..rawwrite import changing

    edition = edition_of(path, kind, published, time_of_day)
    sheet = read_sheet(path, edition)
    registry = Registry(registry_path)
    schemas = project.schemas
    with changing(project) as changes:
        files, problems = read_raw(project)
        if problems:
            raise ProblemError(problems)  # never import onto raw records that do not read cleanly
        plan = _Plan(project, edition, files["jurisdictions"], files["sources"], _mapping(project))
        for row in sheet.rows:
            plan.add(row, registry)
        plan.report.rows = len(sheet.rows)
        plan.report.unmatched = sheet.problems + plan.report.unmatched
        plan.report.no_longer_listed = plan.absent()
        texts = {target: dump(schemas, table, record) for target, (table, record) in sorted(plan.changed.items())}
        problems = check_texts(project, {project.relative(target): text for target, text in texts.items()})
        if problems:
            raise ProblemError(problems)  # what the import would write must itself be valid
        for target, text in texts.items():
            read = require_canonical(project, target, plan.changed[target][0])[0] if target.exists() else None
            changes.write(target, text, read)
        plan.report.written = changes.commit()
    return plan.report


class _Plan:
    """What importing one edition adds to the raw records, held in memory until all rows are read."""

    def __init__(self, project, edition: Edition, jurisdiction_files, source_files, mapping):
        self.project, self.edition, self.mapping = project, edition, mapping
        self.report = Report(edition)
        self.files = {raw.path: raw.data for raw in jurisdiction_files}
        self.by_id = {data["jurisdiction_id"]: path for path, data in self.files.items() if data.get("jurisdiction_id")}
        self.by_ocd = {data["ocd_id"]: path for path, data in self.files.items() if data.get("ocd_id")}
        self.actions = {a["action_id"]: a for data in self.files.values() for a in data.get("actions") or [] if isinstance(a, dict)}
        self.file_of = {a["action_id"]: path for path, data in self.files.items() for a in data.get("actions") or [] if isinstance(a, dict)}
        self.sources = {raw.data.get("source_id"): raw.data for raw in source_files}
        self.changed: dict[Path, tuple[str, dict]] = {}
        self.listed: set[str] = set()

    def add(self, row: Row, registry: Registry) -> None:
        action_id = agreement_id(row)
        self.listed.add(action_id)
        if action_id in self.actions:
            self._cite(self.actions[action_id], row)
            return
        resolved = resolve(row, registry, self.mapping)
        if isinstance(resolved, str):
            self.report.unmatched.append(f"row {row.number}: {row.agency} ({row.state}): {resolved}")
            return
        path = self._jurisdiction_path(resolved, row)
        if path is None:
            return
        action = new_action(row, self.edition, resolved.how)
        self.files[path].setdefault("actions", []).append(action)
        self.actions[action_id] = action
        self.file_of[action_id] = path
        self.changed[path] = ("jurisdictions", self.files[path])
        self.report.added_actions.append(action_id)
        self._cite(action, row)

    def _cite(self, action: dict, row: Row) -> None:
        citations = action.setdefault("citations", [])
        existing = next((c for c in citations if c.get("source_id") == self.edition.source_id), None)
        if existing is None:
            citations.append(citation(row, self.edition))
            self.report.added_citations.append(action["action_id"])
        elif f"row {row.number}" not in existing["locator"] and action["action_id"] in self.report.added_citations:
            existing["locator"] += f", row {row.number}"  # the same agreement twice in one edition
        else:
            return
        self._touch_source()
        path = self.file_of[action["action_id"]]
        self.changed[path] = ("jurisdictions", self.files[path])

    def _touch_source(self) -> None:
        if self.edition.source_id not in self.sources:
            record = source_record(self.edition)
            self.sources[record["source_id"]] = record
            self.changed[self.project.path_of_record("sources", record["source_id"])] = ("sources", record)

    def _jurisdiction_path(self, resolved: Resolved, row: Row) -> Path | None:
        record = resolved.record
        path = self.by_ocd.get(record.get("ocd_id")) or self.by_id.get(record["jurisdiction_id"])
        if path is not None:
            if record.get("ocd_id") and self.files[path].get("ocd_id") != record["ocd_id"]:
                self.report.unmatched.append(
                    f"row {row.number}: {row.agency} ({row.state}): {record['jurisdiction_id']} exists with another OCD id")
                return None
            return path
        jid = record["jurisdiction_id"]
        path = self.project.path_of_record("jurisdictions", jid)
        self.files[path] = dict(record)
        self.by_id[jid] = path
        if record.get("ocd_id"):
            self.by_ocd[record["ocd_id"]] = path
        self.report.added_jurisdictions.append(jid)
        return path

    def absent(self) -> list[str]:
        """Agreements an earlier edition of this list named and this one does not (when it is the latest)."""
        same_list = {sid for sid, s in self.sources.items() if s.get("edition_of") == self.edition.kind}
        later = [sid for sid in same_list if (self.sources[sid].get("published") or "") > self.edition.published.isoformat()]
        if later:
            return []
        return sorted(
            f"{a['action_id']}: {a['actor_name']} ({a['arrangement']})"
            for a in self.actions.values()
            if a["action_id"] not in self.listed
            and any(c.get("source_id") in same_list for c in a.get("citations") or [])
        )


def _mapping(project) -> dict[tuple[str, str], dict]:
    """Curators' assignments of agencies the importer cannot match: {(USPS, agency): jurisdiction_id}."""
    from ..load import Sequence, read_raw_file
    from ..problems import Problem, ProblemError

    path = project.root / MAPPING_FILE
    if not path.exists():
        return {}
    raw, problems = read_raw_file(path, MAPPING_FILE)
    if raw is None:
        raise ProblemError(problems)
    entries = raw.data.get("agencies")
    if not isinstance(entries, Sequence):
        raise ProblemError([Problem(MAPPING_FILE, raw.data.line, "agencies", "must be a list of agencies (- state: ...)")])
    result = {}
    for index, entry in enumerate(entries):
        complete = isinstance(entry, dict) and all(entry.get(k) for k in ("state", "agency", "note")) and (entry.get("ocd_id") or entry.get("name"))
        if not complete:
            raise ProblemError([Problem(MAPPING_FILE, entries.lines[index], f"agencies[{index}]",
                                        "needs state, agency, note, and an ocd_id (or the name of a special district)")])
        result[(entry["state"].upper(), entry["agency"].casefold())] = entry
    return result
