"""ICE's 287(g) agency lists, every edition -> raw records, in proportion to what changed.

- Each edition (see editions.py) is a source record in raw/sources/, with its date, how the date was
  established, ICE's save time, its row count and the files that hold it (archive/MANIFEST.csv).
- Each distinct row ICE has written (list, state, agency, type, county, model, SIGNED, exactly as
  written) is a listing in the file of its agency's jurisdiction, with the runs of editions it stood
  in (`from` the first of a run `until` the first edition of that list without it). A new edition
  that repeats the last one changes nothing but adding its source; no record is rewritten per edition.
- Listings are grouped into agreements (`agreement_id`, `match`) by the rules in agreements.py, over
  every listing at once, so that importing the editions in any order gives the same records.

The importer changes only what ICE's lists decide: the listings and edition sources, and new
jurisdictions (from the reference lists). It never touches curated actions or sources. A row whose
jurisdiction cannot be matched is imported with `unmatched` saying why, and reported.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..names import NO_COUNTY, stable_id
from ..rawwrite import plain
from ..reference import county_name
from ..scaffold import slugify
from . import agreements
from .editions import Edition, editions_of
from .jurisdictions import Registry, mapping_of, resolve
from .sheets import PARTICIPATING, PENDING, ImportError_, Row, Workbook, read_workbook

ICE_287G_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
PUBLISHER = "U.S. Immigration and Customs Enforcement"
FAMILY = "ice-287g"  # in archive/
STATES, LISTINGS, RUNS = "ice_287g_states", "listings", "listed"  # the state files' table, and the keys of their lists (schemas/)
__all__ = ["ImportError_", "Report", "archived_books", "import_editions"]


@dataclass
class Report:
    editions: list[str] = field(default_factory=list)  # source ids of the editions the files hold
    added_editions: list[str] = field(default_factory=list)
    added_listings: list[str] = field(default_factory=list)
    added_jurisdictions: list[str] = field(default_factory=list)
    unreadable_rows: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # rows (as ICE wrote them) with no jurisdiction, and why
    matches: list[str] = field(default_factory=list)  # listings joined to an agreement they were not first in, with why
    no_longer_listed: list[str] = field(default_factory=list)  # agreements listed before, not in the latest edition of their list
    written: list[str] = field(default_factory=list)


def listing_id(kind: str, row: Row) -> str:
    """Stable and content-derived: the same row as ICE wrote it always gets the same id."""
    return stable_id("lst", "|".join([kind, row.state, row.agency, row.agency_type, row.county, row.model, row.signed_text]))


def archived_books(project) -> list[Workbook]:
    """Every 287(g) workbook in archive/, under each name it was obtained under. A workbook is read
    once: what it holds is kept in the cache by the SHA-256 of its bytes (and this code)."""
    from ..archive import read_manifest

    rows = [row for row in read_manifest(project) if row["family"] == FAMILY]
    kept = sorted({row["archived_as"]: row["sha256"] for row in rows}.items())
    read = dict(zip((sha for _, sha in kept), _cached(project, [(project.root / path, sha) for path, sha in kept]), strict=True))
    books = []
    for row in rows:
        book = read[row["sha256"]]
        books.append(Workbook(row["file"], book.sha256, book.kind, book.saved, book.rows, [p.replace(book.name, row["file"], 1) for p in book.problems]))
    return books


def _cached(project, files: list[tuple[Path, str]]) -> list[Workbook]:
    import pickle

    from ..cache import usable
    from ..files import write_atomically

    folder = project.cache / "workbooks"
    readers = [Path(__file__).parent / "sheets.py", Path(__file__).parent.parent / "reference.py"]  # what reads a workbook
    code = hashlib.sha256(b"".join(path.read_bytes() for path in readers)).hexdigest()[:16]
    found: dict[str, Workbook | None] = {}
    for _, sha in files:
        with contextlib.suppress(Exception):  # no usable copy (missing, damaged, from other code): read the workbook again
            found[sha] = pickle.loads((folder / f"{sha}-{code}.pickle").read_bytes()) if usable(project) else None
    missing = [(path, sha) for path, sha in files if found.get(sha) is None]
    for (_, sha), book in zip(missing, read_books([path for path, _ in missing]), strict=True):
        found[sha] = book
        if usable(project):
            write_atomically(folder / f"{sha}-{code}.pickle", pickle.dumps(book))
    return [found[sha] for _, sha in files]  # type: ignore[misc]


def read_books(paths: list[Path]) -> list[Workbook]:
    """Read workbooks, on both cores when there are many (ICE's files take ~0.1 s each)."""
    if len(paths) < 8:
        return [read_workbook(path) for path in paths]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(read_workbook, paths, chunksize=8))


def import_editions(project, registry_path: Path, write: bool = True) -> Report:
    """Make raw/ say what every archived edition of ICE's 287(g) lists says (or, without `write`,
    only say which files would change, in `written`). Nothing is written unless every file was read
    and the result is valid."""
    from ..canonical import dump
    from ..pipeline import check_texts, read_raw
    from ..problems import ProblemError
    from ..rawfiles import require_canonical
    from ..rawwrite import changing

    books = archived_books(project)
    if not books:
        raise ImportError_(f"archive/ holds no {FAMILY} file; add ICE's workbooks with `etl archive {FAMILY} FILE --obtained-from URL`")
    registry = Registry(registry_path)
    schemas = project.schemas
    with changing(project) as changes:
        files, problems = read_raw(project)
        if problems:
            raise ProblemError(problems)  # never import onto raw records that do not read cleanly
        plan = _Plan(project, files, mapping_of(project))
        plan.add_editions(editions_of(books), registry)
        plan.report.unreadable_rows = sorted({problem for book in books for problem in book.problems})
        plan.settle(agreements.decisions_of(project))
        texts = {target: dump(schemas, table, record) for target, (table, record) in sorted(plan.changed.items())}
        texts = {target: text for target, text in texts.items() if not target.exists() or target.read_text("utf-8") != text}
        problems = check_texts(project, {project.relative(target): text for target, text in texts.items()})
        if problems:
            raise ProblemError(problems)  # what the import would write must itself be valid
        if not write:
            plan.report.written = sorted(project.relative(target) for target in texts)
            return plan.report
        for target, text in texts.items():
            read = require_canonical(project, target, plan.changed[target][0])[0] if target.exists() else None
            changes.write(target, text, read)
        plan.report.written = changes.commit()
    return plan.report


class _Plan:
    """Every edition and listing, old and new, held in memory until all are placed."""

    def __init__(self, project, files: dict, mapping):
        self.project, self.mapping = project, mapping
        self.report = Report()
        self.jurisdictions = {raw.data["jurisdiction_id"]: raw.data for raw in files["jurisdictions"] if raw.data.get("jurisdiction_id")}
        self.by_ocd = {data["ocd_id"]: jid for jid, data in self.jurisdictions.items() if data.get("ocd_id")}
        self.sources = {raw.data["source_id"]: raw.data for raw in files["sources"] if raw.data.get("source_id")}
        self.states = {raw.data["state_key"]: raw.data for raw in files[STATES] if raw.data.get("state_key")}
        self.listings: dict[str, dict] = {}  # listing id -> its raw record (in its state's file)
        for data in self.states.values():
            for listing in data.get(LISTINGS) or []:
                self.listings[listing["listing_id"]] = listing
        self.present: dict[str, set[str]] = {}  # listing id -> the editions that hold it
        self.rows: dict[str, tuple[str, Row]] = {}  # listing id -> (list, row) as ICE wrote it
        self.changed: dict[Path, tuple[str, dict]] = {}
        self.seen: set[str] = set()  # the editions the archive holds

    def ordered_editions(self, kind: str) -> list[str]:
        """The editions of a list in raw/ (the archive's, old and new), in the order ICE saved them, as
        derived.py orders them: by save time, or the edition's date where there is none."""
        found = [(s.get("as_of") or s.get("published") or "", sid) for sid, s in self.sources.items() if s.get("edition_of") == kind]
        return [sid for _, sid in sorted(found)]

    # -- editions ---------------------------------------------------------------------------------

    def add_editions(self, editions: list[Edition], registry: Registry) -> None:
        ids: dict[tuple, str] = {}  # a row as ICE wrote it -> its listing id: most rows recur in every edition
        for edition in editions:
            source_id = edition.source_id
            self.report.editions.append(source_id)
            self.seen.add(source_id)
            self._add_source(edition)
            for row in edition.rows:
                said = (edition.kind, row.state, row.agency, row.agency_type, row.county, row.model, row.signed_text)
                lid = ids.get(said) or ids.setdefault(said, listing_id(edition.kind, row))
                self.rows.setdefault(lid, (edition.kind, row))
                self.present.setdefault(lid, set()).add(source_id)
        # a jurisdiction is written from the first listing that names it: those that give a COUNTY first,
        # so that what it records does not depend on which edition came first
        for lid, (kind, row) in sorted(self.rows.items(), key=lambda item: (item[1][1].county.upper() in NO_COUNTY, item[0])):
            self._place(lid, kind, row, registry)

    def _add_source(self, edition: Edition) -> None:
        """The edition's source record: the importer's fields are set from the edition; a curator's
        other fields (an access date, an archive URL) are kept."""
        record: dict = self.sources.get(edition.source_id) or {}
        if not record:
            record = self.sources[edition.source_id] = {"source_id": edition.source_id}
            self.report.added_editions.append(edition.source_id)
        owned: dict = {
            "url": ICE_287G_PAGE, "publisher": PUBLISHER, "published": edition.published.isoformat(), "kind": "dataset",
            "edition_of": edition.kind, "as_of": edition.saved.strftime("%Y-%m-%dT%H:%M:%SZ") if edition.saved else None,
            "date_basis": edition.date_basis, "rows": str(len(edition.rows)),
            "files": [{"file": book.name, "sha256": book.sha256} for book in edition.books],
            "notes": "An edition of ICE's 287(g) list; ICE replaces the list on its page without keeping earlier ones. "
                     "The files are kept in archive/ (see archive/MANIFEST.csv).",
        }
        if any(same(record.get(key)) != same(value) for key, value in owned.items()):
            record.update(owned)
            self.changed[self.project.path_of_record("sources", edition.source_id)] = ("sources", record)

    def _place(self, lid: str, kind: str, row: Row, registry: Registry) -> None:
        """The listing's record, in its state's file, with its jurisdiction (matched again each time,
        so that a curator's assignment in imports/ takes effect)."""
        record = self.listings.get(lid)
        if record is None:
            record = {"listing_id": lid, "list": kind, "state": row.state, "agency": row.agency,
                      "agency_type": row.agency_type or None, "county": row.county or None, "model": row.model,
                      "signed": row.signed_text or None, RUNS: []}
            self.listings[lid] = record
            self._state_file(row.state).setdefault(LISTINGS, []).append(record)
            self.report.added_listings.append(lid)
        resolved = resolve(row, registry, self.mapping)
        jurisdiction_id, unmatched = None, None
        if isinstance(resolved, str):
            unmatched = resolved
        else:
            jurisdiction_id = self._jurisdiction(resolved.record)
            unmatched = None if jurisdiction_id else f"{resolved.record['jurisdiction_id']} exists with another OCD id"
        if unmatched:
            self.report.unmatched.append(f"{row.agency} ({row.state}, {row.agency_type or 'no TYPE'}, {row.county or 'no COUNTY'}): {unmatched}")
        self._set(lid, "jurisdiction_id", jurisdiction_id)
        self._set(lid, "unmatched", unmatched)

    def _state_file(self, state: str) -> dict:
        key = state.lower()
        if key not in self.states:
            self.states[key] = {"state_key": key, LISTINGS: []}
        return self.states[key]

    def _jurisdiction(self, record: dict) -> str | None:
        """The id of the jurisdiction `record` describes: an existing one (by OCD id, then id), or a
        new one written from the reference lists; None when its id is taken by another place."""
        known = self.by_ocd.get(record.get("ocd_id") or "") or (record["jurisdiction_id"] if record["jurisdiction_id"] in self.jurisdictions else None)
        if known:
            if not record.get("ocd_id") or self.jurisdictions[known].get("ocd_id") == record["ocd_id"]:
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

    # -- runs and agreements ------------------------------------------------------------------------

    def settle(self, decisions: dict) -> None:
        """Runs from presence, agreements from every listing; mark the files whose records changed."""
        orders = {kind: self.ordered_editions(kind) for kind in (PARTICIPATING, PENDING)}
        for lid, record in self.listings.items():
            if lid in self.present:  # a listing no archived edition holds is left as it is
                self._set(lid, RUNS, list(_runs(orders[record["list"]], self.present[lid])))
        grouped = agreements.group(self._facts(orders), decisions)
        for lid, (agreement_id, match) in grouped.items():
            self._set(lid, "agreement_id", agreement_id)
            self._set(lid, "match", match)
            if match:
                self.report.matches.append(f"{lid} ({self.listings[lid]['agency']}, {self.listings[lid]['state']}): {match}")
        self.report.no_longer_listed = self._no_longer_listed(orders, grouped)
        for lid in self.report.added_listings:
            self._mark(self.listings[lid]["state"])

    def _set(self, lid: str, key: str, value) -> None:
        record = self.listings[lid]
        if same(record.get(key)) != same(value):
            record[key] = value
            self._mark(record["state"])

    def _mark(self, state: str) -> None:
        key = state.lower()
        record = self.states[key]
        record[LISTINGS] = sorted(record[LISTINGS], key=_reading_order)  # the same order however the editions came
        self.changed[self.project.path_of_record(STATES, key)] = (STATES, record)

    def _facts(self, orders: dict[str, list[str]]) -> list[agreements.Listing]:
        as_of = {sid: s.get("as_of") or s.get("published") or "" for sid, s in self.sources.items()}
        position = {sid: index for order in orders.values() for index, sid in enumerate(order)}
        found = []
        for lid, record in self.listings.items():
            editions = sorted(self.present.get(lid, set()), key=lambda sid: position[sid])
            if not editions:
                continue
            order = orders[record["list"]]
            after = position[editions[-1]] + 1
            found.append(agreements.Listing(
                lid, record["list"], record["state"], record["agency"], record.get("county") or "", record["model"],
                record.get("signed") or "", as_of[editions[0]], as_of[editions[-1]],
                as_of[order[after]] if after < len(order) else None, frozenset(editions)))
        return found

    def _no_longer_listed(self, orders: dict[str, list[str]], grouped: dict) -> list[str]:
        latest = {kind: order[-1] for kind, order in orders.items() if order}
        listed_now = {grouped[lid][0] for lid, editions in self.present.items() if lid in grouped and editions & set(latest.values())}
        gone = {}
        for lid, record in self.listings.items():
            agreement_id = grouped.get(lid, (None,))[0]
            if agreement_id and agreement_id not in listed_now:
                gone[agreement_id] = f"{agreement_id}: {record['agency']} ({record['state']}, {record['model']})"
        return sorted(gone.values())


def same(value):
    """Records read from raw files and records made here, compared as their canonical texts would be."""
    return plain(value, without_empty=True)


def _reading_order(listing: dict) -> tuple:
    return (listing["agency"].casefold(), listing["model"], listing["list"], listing["listing_id"])


def _runs(order: list[str], present: set[str]) -> Iterable[dict]:
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
