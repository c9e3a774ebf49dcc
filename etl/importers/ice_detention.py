"""ICE's detention statistics, every edition -> raw records, in proportion to what changed.

- Each edition (one content of the workbook, whatever names archivists gave it) is a source record in
  raw/sources/ice-detention-<data date>.yaml, with the day its data were pulled (the facilities
  sheet's heading), when it was posted (the date in the file's name, checked against ICE's save time),
  its fiscal year, its row count and the files that hold it (archive/MANIFEST.csv).
- Each distinct row ICE has written (state, name, address, city, ZIP, AOR, type, exactly as written)
  is a listing in raw/ice-detention/<state>.yaml, with the runs of editions it stood in and the figures
  each edition gave for it. A new edition adds its source, a figures entry per row it lists and the
  runs that change; no record is rewritten per edition.
- Listings are grouped into facilities (`facility_id`, `match`) by the rules in facilities.py, over
  every listing at once, so that importing the editions in any order gives the same records.

It changes only what ICE's lists decide: the listings and edition sources, and new jurisdictions (from
the reference lists). It never touches curated actions or sources.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from . import facilities
from .detention_sheets import DetentionBook, FacilityRow, read_detention_workbook
from .jurisdictions import Registry, Resolved, mapping_of
from .plan import ListPlan, run_import, runs
from .plan import Report as BaseReport
from .sheets import ImportError_

DETENTION_PAGE = "https://www.ice.gov/detain/detention-management"
PUBLISHER = "U.S. Immigration and Customs Enforcement"
FAMILY = "ice-detention"  # in archive/
KIND = "ice_detention_facilities"  # sources.edition_of
STATES, LISTINGS, RUNS, FIGURES = "ice_detention_states", "listings", "listed", "figures"
POSTED_WITHIN = dt.timedelta(days=30)  # a file name's date after the data date, at most this much, is when it was posted


@dataclass
class Report(BaseReport):
    removed_listings: list[str] = field(default_factory=list)  # listings the archived editions no longer hold, though they are all there


@dataclass
class Edition:
    books: list[DetentionBook]
    source_id: str
    published: dt.date
    date_basis: str

    @property
    def book(self) -> DetentionBook:
        return self.books[0]


def archived_books(project) -> list[DetentionBook]:
    from .archived import archived_books as books_of

    here = Path(__file__).parent
    return books_of(project, FAMILY, read_detention_workbook,
                    [here / "detention_sheets.py", here / "sheets.py", here.parent / "reference.py", here / "archived.py"])


def editions_of(books: list[DetentionBook]) -> list[Edition]:
    """One edition per content, named by its data date, in data-date order."""
    by_content: dict[str, list[DetentionBook]] = {}
    for book in sorted(books, key=lambda b: b.name):
        by_content.setdefault(book.sha256, []).append(book)
    by_day: dict[dt.date, list[list[DetentionBook]]] = {}
    for group in by_content.values():
        by_day.setdefault(group[0].data_date, []).append(group)
    found = []
    for day, groups in by_day.items():  # two contents with one data date: the one ICE saved first keeps the plain id
        ordered = sorted(groups, key=lambda g: (g[0].saved or dt.datetime.max.replace(tzinfo=dt.UTC), g[0].name))
        for index, group in enumerate(ordered):
            source_id = f"ice-detention-{day.isoformat()}" + (f"-{group[0].sha256[:8]}" if index else "")
            found.append(Edition(group, source_id, *_published(group)))
    return sorted(found, key=lambda e: (e.book.data_date, e.source_id))


def _published(books: list[DetentionBook]) -> tuple[dt.date, str]:
    book = books[0]
    basis = f"data pulled on {book.data_date.isoformat()}, as the facilities sheet's heading says"
    named = sorted((b.named_date, b.name) for b in books if b.named_date and book.data_date <= b.named_date <= book.data_date + POSTED_WITHIN)
    doubted = [b.name for b in books if b.named_date and (b.named_date, b.name) not in named]
    if named:
        day, how = named[0][0], f"posted on the date in the file name {named[0][1]}"
    elif book.saved:
        day, how = book.saved.date(), f"no file name gives a believable date; ICE saved the workbook on {book.saved.date().isoformat()}"
    else:
        raise ImportError_(f"{book.name}: neither its name nor the workbook's properties say when it was posted")
    doubts = "".join(f"; the date in {name} is not within {POSTED_WITHIN.days} days after the data date" for name in doubted)
    saved = f"; ICE saved the workbook at {book.saved:%Y-%m-%d %H:%M} UTC" if book.saved else ""
    return day, f"{basis}; {how}{saved}{doubts}."


def import_editions(project, registry_path: Path, write: bool = True) -> Report:
    """Make raw/ say what every archived edition of ICE's detention statistics says (or, without
    `write`, only say which files would change). Nothing is written unless all is read and valid."""
    mapping = mapping_of(project, facilities.DECISIONS_FILE, "facilities", "facility")
    return run_import(project, FAMILY, archived_books(project), registry_path, lambda files: _Plan(project, files, mapping),
                      editions_of, lambda: facilities.facility_decisions(project), write)


class _Plan(ListPlan):
    def __init__(self, project, files: dict, mapping: dict):
        super().__init__(project, files, STATES, LISTINGS, Report())
        self.mapping = mapping
        self.type_labels = dict(project.schemas.tables["detention_listings"].field("type_detailed").definitions)
        self.present: dict[str, dict[str, list[FacilityRow]]] = {}  # listing id -> {edition: the rows it gave (ICE repeats a few)}
        self.data_date: dict[str, str] = {}
        self.fiscal_year: dict[str, str] = {}

    def reading_order(self, listing: dict) -> tuple:
        return (listing["name"].casefold(), listing["city"] or "", listing["listing_id"])

    def add_editions(self, editions: list[Edition], registry: Registry) -> None:
        rows: dict[str, FacilityRow] = {}
        for edition in editions:
            self.report.editions.append(edition.source_id)
            self.data_date[edition.source_id] = edition.book.data_date.isoformat()
            self.fiscal_year[edition.source_id] = str(edition.book.fiscal_year)
            self._add_source(edition)
            for row in edition.book.rows:
                lid = facilities.listing_id(row.identity)
                rows.setdefault(lid, row)
                self.present.setdefault(lid, {}).setdefault(edition.source_id, []).append(row)
        states = self._states_of_blank(rows)
        for lid, row in sorted(rows.items()):
            self._place(lid, row, states.get((row.name.casefold(), row.city.casefold())), registry)

    def _add_source(self, edition: Edition) -> None:
        book = edition.book
        self.set_source(edition.source_id, {
            "url": DETENTION_PAGE, "publisher": PUBLISHER, "kind": "dataset", "edition_of": KIND,
            "title": f"ICE detention statistics, FY{book.fiscal_year % 100:02d}: facilities (data of {book.data_date.isoformat()})",
            "published": edition.published.isoformat(), "as_of": book.saved.strftime("%Y-%m-%dT%H:%M:%SZ") if book.saved else None,
            "data_date": book.data_date.isoformat(), "date_basis": edition.date_basis,
            "rows": str(len(book.rows)), "files": [{"file": b.name, "sha256": b.sha256} for b in edition.books],
            "notes": "An edition of ICE's detention statistics workbook, of which the facilities sheet is imported. ICE replaces the "
                     "workbook on its page; the files are kept in archive/ (see archive/MANIFEST.csv).",
        })

    @staticmethod
    def _states_of_blank(rows: dict[str, FacilityRow]) -> dict[tuple[str, str], str]:
        """Where ICE left STATE empty: the state of the same name and city in other rows, when only one."""
        found: dict[tuple[str, str], set[str]] = {}
        for row in rows.values():
            if row.state:
                found.setdefault((row.name.casefold(), row.city.casefold()), set()).add(row.state)
        return {key: next(iter(states)) for key, states in found.items() if len(states) == 1}

    def _place(self, lid: str, row: FacilityRow, inferred_state: str | None, registry: Registry) -> None:
        state, state_note = row.state, None
        if not state:
            if not inferred_state:
                self.report.unreadable_rows.append(f"{row.name} ({row.city}): STATE is empty and no other row of that name and city gives one")
                return
            state, state_note = inferred_state, "ICE left STATE empty in this row; the state is that of the same name and city in its other rows"
        record = self.add_listing({"listing_id": lid, "state": state, "state_note": state_note, "name": row.name, "address": row.address or None,
                                   "city": row.city or None, "zip": row.zip or None, "aor": row.aor or None,
                                   "type_detailed": row.type_detailed, RUNS: [], FIGURES: []})
        resolved = facilities.jurisdiction_of(state, row.name, row.type_detailed, registry, self.mapping, self.type_labels)
        jurisdiction_id, note = None, resolved if isinstance(resolved, str) else resolved.how
        if isinstance(resolved, Resolved):
            jurisdiction_id = self.jurisdiction(resolved.record)
            note = note if jurisdiction_id else f"{resolved.record['jurisdiction_id']} exists with another OCD id"
        if jurisdiction_id is None and row.type_detailed in facilities.LOCAL_TYPES:
            self.report.unmatched.append(f"{row.name} ({state}, {row.type_detailed}): {note}")
        self.set(lid, "jurisdiction_id", jurisdiction_id)
        self.set(lid, "jurisdiction_note", note)
        self.set(lid, "city_county_fips", registry.place_counties.county_of_city(state, row.city) if row.city else None)
        figures = [{"source_id": sid, "row": str(given.number), "fiscal_year": self.fiscal_year[sid], **dict(given.figures)}
                   for sid, rows in self.present[lid].items() for given in rows]
        kept = [f for f in record.get(FIGURES) or [] if f["source_id"] not in self.present[lid]]  # editions no longer archived
        self.set(lid, FIGURES, sorted([*kept, *figures], key=lambda f: (self.sources.get(f["source_id"], {}).get("data_date") or "", int(f["row"]))))

    def settle(self, decisions: dict) -> None:
        order = [sid for _, sid in sorted((s.get("data_date") or "", sid) for sid, s in self.sources.items() if s.get("edition_of") == KIND)]
        for lid in self.listings:
            if lid in self.present:
                self.set(lid, RUNS, list(runs(order, set(self.present[lid]))))
        facts = [facilities.Listing(lid, r["state"], r["name"], r.get("address") or "", r.get("city") or "", r.get("zip") or "",
                                    min(self.data_date[sid] for sid in self.present[lid]), frozenset(self.present[lid]))
                 for lid, r in self.listings.items() if lid in self.present]
        grouped = facilities.group(facts, decisions)
        for lid, (facility_id, match) in grouped.items():
            self.set(lid, "facility_id", facility_id)
            self.set(lid, "match", match)
            if match:
                self.report.matches.append(f"{lid} ({self.listings[lid]['name']}, {self.listings[lid]['state']}): {match}")
        latest = order[-1] if order else None
        listed_now = {grouped[lid][0] for lid, editions in self.present.items() if lid in grouped and latest in editions}
        newest: dict[str, tuple[str, str]] = {}
        for lid in sorted(grouped, key=lambda lid: max(self.data_date[sid] for sid in self.present[lid])):
            newest[grouped[lid][0]] = (self.listings[lid]["name"], self.listings[lid]["state"])
        self.report.no_longer_listed = sorted(f"{fid}: {name} ({state})" for fid, (name, state) in newest.items() if fid not in listed_now)
        self._drop_contradicted()

    def _drop_contradicted(self) -> None:
        """A listing that no archived edition holds, though every edition it claims is archived (the
        reader now reads those rows otherwise), would count its rows twice: it is removed, and said."""
        for lid, record in list(self.listings.items()):
            claimed = {run["from"] for run in record.get(RUNS) or []} | {f["source_id"] for f in record.get(FIGURES) or []}
            if lid in self.present or not claimed or not claimed <= set(self.data_date):
                continue
            state = self.state_file(record["state"])
            state[LISTINGS] = [listing for listing in state[LISTINGS] if listing["listing_id"] != lid]
            del self.listings[lid]
            self.report.removed_listings.append(f"{lid}: {record['name']} ({record['state']})")
            self.mark(record["state"])
