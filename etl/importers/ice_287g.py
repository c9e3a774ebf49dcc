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

from pathlib import Path

from ..names import NO_COUNTY, stable_id
from . import agreements
from .editions import Edition, editions_of
from .jurisdictions import Registry, mapping_of, resolve
from .plan import ListPlan, Report, run_import, runs
from .sheets import PARTICIPATING, PENDING, ImportError_, Row, Workbook, read_workbook

ICE_287G_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
PUBLISHER = "U.S. Immigration and Customs Enforcement"
FAMILY = "ice-287g"  # in archive/
STATES, LISTINGS, RUNS = "ice_287g_states", "listings", "listed"  # the state files' table, and the keys of their lists (schemas/)
__all__ = ["ImportError_", "Report", "archived_books", "import_editions"]


def listing_id(kind: str, row: Row) -> str:
    """Stable and content-derived: the same row as ICE wrote it always gets the same id."""
    return stable_id("lst", "|".join([kind, row.state, row.agency, row.agency_type, row.county, row.model, row.signed_text]))


def archived_books(project) -> list[Workbook]:
    """Every 287(g) workbook in archive/, under each name it was obtained under."""
    from .archived import archived_books as books_of

    here = Path(__file__).parent
    return books_of(project, FAMILY, read_workbook, [here / "sheets.py", here.parent / "reference.py", here / "archived.py"])


def import_editions(project, registry_path: Path, write: bool = True) -> Report:
    """Make raw/ say what every archived edition of ICE's 287(g) lists says (or, without `write`,
    only say which files would change, in `written`). Nothing is written unless every file was read
    and the result is valid."""
    return run_import(project, FAMILY, archived_books(project), registry_path, lambda files: _Plan(project, files, mapping_of(project)),
                      editions_of, lambda: agreements.decisions_of(project), write)


class _Plan(ListPlan):
    """Every edition and listing, old and new, held in memory until all are placed."""

    def __init__(self, project, files: dict, mapping):
        super().__init__(project, files, STATES, LISTINGS, Report())
        self.mapping = mapping
        self.present: dict[str, set[str]] = {}  # listing id -> the editions that hold it
        self.rows: dict[str, tuple[str, Row]] = {}  # listing id -> (list, row) as ICE wrote it
        self.seen: set[str] = set()  # the editions the archive holds

    def reading_order(self, listing: dict) -> tuple:
        return (listing["agency"].casefold(), listing["model"], listing["list"], listing["listing_id"])

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
        self.set_source(edition.source_id, {
            "url": ICE_287G_PAGE, "publisher": PUBLISHER, "published": edition.published.isoformat(), "kind": "dataset",
            "edition_of": edition.kind, "as_of": edition.saved.strftime("%Y-%m-%dT%H:%M:%SZ") if edition.saved else None,
            "date_basis": edition.date_basis, "rows": str(len(edition.rows)),
            "files": [{"file": book.name, "sha256": book.sha256} for book in edition.books],
            "notes": "An edition of ICE's 287(g) list; ICE replaces the list on its page without keeping earlier ones. "
                     "The files are kept in archive/ (see archive/MANIFEST.csv).",
        })

    def _place(self, lid: str, kind: str, row: Row, registry: Registry) -> None:
        """The listing's record, in its state's file, with its jurisdiction (matched again each time,
        so that a curator's assignment in imports/ takes effect)."""
        self.add_listing({"listing_id": lid, "list": kind, "state": row.state, "agency": row.agency,
                          "agency_type": row.agency_type or None, "county": row.county or None, "model": row.model,
                          "signed": row.signed_text or None, RUNS: []})
        resolved = resolve(row, registry, self.mapping)
        jurisdiction_id, unmatched = None, None
        if isinstance(resolved, str):
            unmatched = resolved
        else:
            jurisdiction_id = self.jurisdiction(resolved.record)
            unmatched = None if jurisdiction_id else f"{resolved.record['jurisdiction_id']} exists with another OCD id"
        if unmatched:
            self.report.unmatched.append(f"{row.agency} ({row.state}, {row.agency_type or 'no TYPE'}, {row.county or 'no COUNTY'}): {unmatched}")
        self.set(lid, "jurisdiction_id", jurisdiction_id)
        self.set(lid, "unmatched", unmatched)

    # -- runs and agreements ------------------------------------------------------------------------

    def settle(self, decisions: dict) -> None:
        """Runs from presence, agreements from every listing; mark the files whose records changed."""
        orders = {kind: self.ordered_editions(kind) for kind in (PARTICIPATING, PENDING)}
        for lid, record in self.listings.items():
            if lid in self.present:  # a listing no archived edition holds is left as it is
                self.set(lid, RUNS, list(runs(orders[record["list"]], self.present[lid])))
        grouped = agreements.group(self._facts(orders), decisions)
        for lid, (agreement_id, match) in grouped.items():
            self.set(lid, "agreement_id", agreement_id)
            self.set(lid, "match", match)
            if match:
                self.report.matches.append(f"{lid} ({self.listings[lid]['agency']}, {self.listings[lid]['state']}): {match}")
        self.report.no_longer_listed = self._no_longer_listed(orders, grouped)
        for lid in self.report.added_listings:
            self.mark(self.listings[lid]["state"])

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
