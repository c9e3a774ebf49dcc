"""What an importer of an official list holds while it works: the raw records it may change (edition
sources, state files of listings, jurisdictions), which files changed, and how they are written, all
or nothing. The 287(g) and detention importers share it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..rawwrite import plain
from ..reference import county_name
from ..scaffold import slugify


def same(value):
    """Records read from raw files and records made here, compared as their canonical texts would be."""
    return plain(value, without_empty=True)


def runs(order: list[str], present: set[str]) -> Iterable[dict]:
    """Maximal runs of consecutive editions in `present`: from the first, until the first without it."""
    start = None
    for sid in order:
        if sid in present and start is None:
            start = sid
        elif sid not in present and start is not None:
            yield {"from": start, "until": sid}
            start = None
    if start is not None:
        yield {"from": start}


@dataclass
class Report:
    """What an import found and did, for the command to print."""

    editions: list[str] = field(default_factory=list)  # source ids of the editions the files hold
    added_editions: list[str] = field(default_factory=list)
    added_listings: list[str] = field(default_factory=list)
    added_jurisdictions: list[str] = field(default_factory=list)
    completed_jurisdictions: list[str] = field(default_factory=list)  # existing ones given a county the Census list gives
    county_disagreements: list[str] = field(default_factory=list)  # existing ones whose county the Census list contradicts
    unreadable_rows: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # rows (as the list wrote them) with no jurisdiction, and why
    matches: list[str] = field(default_factory=list)  # listings joined to a group they were not first in, with why
    no_longer_listed: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


LOCAL_KINDS = ("city", "town", "village", "borough", "township")  # jurisdictions inside a county


class ListPlan:
    """Every edition and listing of one family of official lists, old and new, held in memory until all
    are placed. `states_table` is the table of its state files, whose listings are under `listings_key`."""

    def __init__(self, project, files: dict, states_table: str, listings_key: str, report):
        self.project, self.report = project, report
        self.states_table, self.listings_key = states_table, listings_key
        self.jurisdictions = {raw.data["jurisdiction_id"]: raw.data for raw in files["jurisdictions"] if raw.data.get("jurisdiction_id")}
        self.by_ocd = {data["ocd_id"]: jid for jid, data in self.jurisdictions.items() if data.get("ocd_id")}
        self.sources = {raw.data["source_id"]: raw.data for raw in files["sources"] if raw.data.get("source_id")}
        self.states = {raw.data["state_key"]: raw.data for raw in files[states_table] if raw.data.get("state_key")}
        self.listings: dict[str, dict] = {}  # listing id -> its raw record (in its state's file)
        for data in self.states.values():
            for listing in data.get(listings_key) or []:
                self.listings[listing["listing_id"]] = listing
        self.changed: dict[Path, tuple[str, dict]] = {}

    def set_source(self, source_id: str, owned: dict) -> None:
        """The edition's source record: the importer's fields are set from the edition; a curator's
        other fields (an access date, an archive URL) are kept."""
        record: dict = self.sources.get(source_id) or {}
        if not record:
            record = self.sources[source_id] = {"source_id": source_id}
            self.report.added_editions.append(source_id)
        if any(same(record.get(key)) != same(value) for key, value in owned.items()):
            record.update(owned)
            self.changed[self.project.path_of_record("sources", source_id)] = ("sources", record)

    def add_listing(self, record: dict) -> dict:
        """A new listing in its state's file (or the one already there with its id)."""
        known = self.listings.get(record["listing_id"])
        if known is not None:
            return known
        self.listings[record["listing_id"]] = record
        self.state_file(record["state"]).setdefault(self.listings_key, []).append(record)
        self.report.added_listings.append(record["listing_id"])
        self.mark(record["state"])
        return record

    def state_file(self, state: str) -> dict:
        key = state.lower()
        if key not in self.states:
            self.states[key] = {"state_key": key, self.listings_key: []}
        return self.states[key]

    def set(self, lid: str, key: str, value) -> None:
        record = self.listings[lid]
        if same(record.get(key)) != same(value):
            record[key] = value
            self.mark(record["state"])

    def mark(self, state: str) -> None:
        record = self.state_file(state)
        record[self.listings_key] = sorted(record[self.listings_key], key=self.reading_order)  # the same order however the editions came
        self.changed[self.project.path_of_record(self.states_table, state.lower())] = (self.states_table, record)

    def reading_order(self, listing: dict) -> tuple:
        raise NotImplementedError

    def add_editions(self, editions: list, registry) -> None:
        raise NotImplementedError

    def settle(self, decisions: dict) -> None:
        raise NotImplementedError

    def jurisdiction(self, record: dict) -> str | None:
        """The id of the jurisdiction `record` describes: an existing one (by OCD id, then id), or a
        new one written from the reference lists; None when its id is taken by another place."""
        known = self.by_ocd.get(record.get("ocd_id") or "") or (record["jurisdiction_id"] if record["jurisdiction_id"] in self.jurisdictions else None)
        if known:
            if not record.get("ocd_id") or self.jurisdictions[known].get("ocd_id") == record["ocd_id"]:
                self._complete_county(known, record)
                return known
            if not record.get("county_fips"):
                return None
            record = {**record, "jurisdiction_id": f"{record['jurisdiction_id']}-{slugify(county_name(record['county_fips']))}"}  # another place of that name
            if record["jurisdiction_id"] in self.jurisdictions:
                return record["jurisdiction_id"] if self.jurisdictions[record["jurisdiction_id"]].get("ocd_id") == record.get("ocd_id") else None
        jid = record["jurisdiction_id"]
        self.jurisdictions[jid] = dict(record)
        if record.get("ocd_id"):
            self.by_ocd[record["ocd_id"]] = jid
        self.report.added_jurisdictions.append(jid)
        self.changed[self.project.path_of_record("jurisdictions", jid)] = ("jurisdictions", self.jurisdictions[jid])
        return jid

    def complete_counties(self, registry) -> None:
        """Every city, town, village, borough or township whose file gives no county, or not where its
        county comes from, is completed from the Census list (or its GEOID), whether or not a listing
        names it; an existing county is never changed."""
        by_ocd = {place.ocd_id: place for place in registry.by_geoid.values()}
        for jid, data in sorted(self.jurisdictions.items()):
            place = by_ocd.get(data.get("ocd_id") or "")
            if data.get("kind") not in LOCAL_KINDS or data.get("county_basis") or place is None:
                continue
            if len(place.geoid) == 10:
                record = {"county_fips": place.geoid[:5], "county_basis": "subdivision_geoid"}
            else:
                lies_in = registry.place_counties.county_of(place.geoid, place.name, data["state"], None)
                record = {"county_fips": lies_in.county_fips, "county_basis": lies_in.basis, "other_counties": " | ".join(lies_in.others) or None}
            self._complete_county(jid, record)

    def _complete_county(self, jid: str, record: dict) -> None:
        """An existing place without a county gets the one the Census list gives (a value is never
        changed: where the file's county differs, the import says so for a curator)."""
        existing = self.jurisdictions[jid]
        basis = record.get("county_basis") or ""
        if not record.get("county_fips") or not basis.startswith(("place_", "subdivision_")):
            return
        if not existing.get("county_fips") or (existing["county_fips"] == record["county_fips"] and not existing.get("county_basis")):
            existing.update({key: record.get(key) for key in ("county_fips", "county_basis", "other_counties") if record.get(key)})
            self.changed[self.project.path_of_record("jurisdictions", jid)] = ("jurisdictions", existing)
            self.report.completed_jurisdictions.append(f"{jid}: county {record['county_fips']} ({basis})")
        elif existing["county_fips"] != record["county_fips"] and record["county_fips"] not in (record.get("other_counties") or "") \
                and existing.get("county_basis") != basis:
            line = (f"{jid}: its file gives county {existing['county_fips']}, the Census list of places by county "
                    f"{record['county_fips']}{' | ' + record['other_counties'] if record.get('other_counties') else ''}")
            if line not in self.report.county_disagreements:
                self.report.county_disagreements.append(line)

    def ordered_editions(self, kind: str) -> list[str]:
        """The editions of a list in raw/ (the archive's, old and new), in the order of their `as_of`
        (ICE's save time), or their date where there is none."""
        found = [(s.get("as_of") or s.get("published") or "", sid) for sid, s in self.sources.items() if s.get("edition_of") == kind]
        return [sid for _, sid in sorted(found)]


def run_import(project, family: str, books: list, registry_path: Path, make_plan: Callable[[dict], ListPlan],
               editions: Callable[[list], list], decisions: Callable[[], dict], write: bool):
    """An import of every archived edition of `family`: onto raw records that read cleanly, the plan
    places the editions and settles its groups (with a curator's `decisions`), then every changed file
    is written in one transaction, or none. Returns the plan's report."""
    from ..pipeline import read_raw
    from ..problems import ProblemError
    from ..rawwrite import changing
    from .jurisdictions import Registry
    from .places import place_counties
    from .sheets import ImportError_

    if not books:
        raise ImportError_(f"archive/ holds no {family} file; add ICE's workbooks with `etl archive {family} FILE --obtained-from URL`")
    registry = Registry(registry_path, place_counties(project))
    with changing(project) as changes:
        files, problems = read_raw(project)
        if problems:
            raise ProblemError(problems)  # never import onto raw records that do not read cleanly
        plan = make_plan(files)
        plan.add_editions(editions(books), registry)
        plan.complete_counties(registry)
        plan.report.unreadable_rows = sorted({*plan.report.unreadable_rows, *(problem for book in books for problem in book.problems)})
        plan.settle(decisions())
        plan.report.written = write_changes(project, changes, plan.changed, write)
    return plan.report


def write_changes(project, changes, changed: dict[Path, tuple[str, dict]], write: bool) -> list[str]:
    """Write the changed records' canonical texts through `changes` (a rawwrite transaction), only
    those whose text differs, after checking them as raw files; without `write`, only say which."""
    from ..canonical import dump
    from ..pipeline import check_texts
    from ..problems import ProblemError
    from ..rawfiles import require_canonical

    texts = {target: dump(project.schemas, table, record) for target, (table, record) in sorted(changed.items())}
    texts = {target: text for target, text in texts.items() if not target.exists() or target.read_text("utf-8") != text}
    problems = check_texts(project, {project.relative(target): text for target, text in texts.items()})
    if problems:
        raise ProblemError(problems)  # what the import would write must itself be valid
    if not write:
        return sorted(project.relative(target) for target in texts)
    for target, text in texts.items():
        read = require_canonical(project, target, changed[target][0])[0] if target.exists() else None
        changes.write(target, text, read)
    return changes.commit()
