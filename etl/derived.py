"""Tables derived from the others rather than written in `raw/`: from ICE's 287(g) lists as imported
(editions as sources, listings with their runs), `agreements_287g` (one row per agreement, with what
the evidence says of it) and `editions_287g` (one row per edition, with its counts)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import arrow_ops as ops
from . import dates
from .frames import FILE, WHERE, Frame, derived_frame
from .names import NO_COUNTY
from .schema import TableSchema
from .tables import Where

PARTICIPATING = "ice_287g_participating"
ENDING = ("terminate", "suspend")
ENDED_STAGES = ("approved", "in_effect")
DAY = re.compile(r"\d{4}-\d\d-\d\d")  # a decision to end, or the end itself; an announcement is not an end


@dataclass
class _Record:
    """What the imported lists say, over every edition. A listing's editions are spans of positions in
    its list's `order` (start, end exclusive), as its runs give them."""

    order: dict[str, list[str]]  # list -> its editions (source ids) in the order ICE saved them
    published: dict[str, object]  # source id -> the edition's date
    sources: list[dict]  # the editions' source rows
    listings: list[dict]  # with "spans": [(start, end)] in its list's order
    by_agreement: dict[str, list[dict]] = field(default_factory=dict)
    when: dict[str, tuple] = field(default_factory=dict)  # source id -> when ICE saved it, for ordering across both lists

    def first(self, listing: dict) -> str:
        return self.order[listing["list"]][listing["spans"][0][0]]

    def last(self, listing: dict) -> str:
        return self.order[listing["list"]][listing["spans"][-1][1] - 1]


class LastRecord:
    """The record several derived tables read, made once from the frames it reads and kept while
    those same frames are passed (holding them, so that no other frame can take their ids)."""

    def __init__(self, tables: tuple[str, ...], make: Callable[[dict[str, Frame]], Any]):
        self.tables, self.make = tables, make
        self.inputs: tuple | None = None
        self.record: Any = None

    def __call__(self, frames: dict[str, Frame]) -> Any:
        inputs = tuple(frames[name] for name in self.tables)
        if self.inputs is None or any(new is not old for new, old in zip(inputs, self.inputs, strict=True)):
            self.inputs, self.record = inputs, self.make(frames)
        return self.record


def _read_record(frames: dict[str, Frame]) -> _Record:
    sources = frames["sources"]
    editions = rows_of(sources, ops.is_valid(sources.arrow.column("edition_of")), ["source_id", "edition_of", "published", "as_of", "rows", WHERE, FILE])
    lists = frames["listings_287g"].schema.field("list").enum or ()  # the 287(g) lists, not every list that has editions
    editions = [s for s in editions if s["edition_of"] in lists and s["published"] and len(s["published"]) == 10]
    order: dict[str, list[str]] = {}
    for source in sorted(editions, key=lambda s: (s["as_of"] or s["published"], s["source_id"])):
        order.setdefault(source["edition_of"], []).append(source["source_id"])
    position = {kind: {sid: index for index, sid in enumerate(sids)} for kind, sids in order.items()}
    listings_frame, runs_frame = frames["listings_287g"], frames["listing_runs_287g"]
    everything = ops.is_valid(listings_frame.arrow.column("listing_id"))
    listings = rows_of(listings_frame, everything, [*(f.name for f in listings_frame.schema.fields), WHERE, FILE])
    runs: dict[str, list[dict]] = {}
    for run in rows_of(runs_frame, ops.is_valid(runs_frame.arrow.column("listing_id")), ["listing_id", "from", "until"]):
        runs.setdefault(run["listing_id"], []).append(run)
    record = _Record(order, {s["source_id"]: dates.day(s["published"]) for s in editions}, editions, listings,
                     when={s["source_id"]: (s["as_of"] or s["published"], s["source_id"]) for s in editions})
    for listing in listings:
        where = position.get(listing["list"], {})
        listing["spans"] = sorted((where[run["from"]], where[run["until"]] if run["until"] else len(where))
                                  for run in runs.get(listing["listing_id"], [])
                                  if run["from"] in where and (not run["until"] or run["until"] in where))
        if listing["spans"] and listing["agreement_id"]:
            first, last = record.first(listing), record.last(listing)
            listing["first_key"] = (record.published[first], first)
            listing["last_key"] = (record.when[last], listing["listing_id"])
            record.by_agreement.setdefault(listing["agreement_id"], []).append(listing)
    return record


_record = LastRecord(("sources", "listings_287g", "listing_runs_287g"), _read_record)  # both 287(g) tables read it


def merged_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans joined where they touch or overlap: the runs of an agreement in one list."""
    found: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], end))
        else:
            found.append((start, end))
    return found


def _by_list(listings: list[dict]) -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for listing in listings:
        spans.setdefault(listing["list"], []).extend(listing["spans"])
    return {kind: merged_spans(found) for kind, found in spans.items()}


def rows_of(frame: Frame, mask, fields: list[str]) -> list[dict]:
    return frame.in_read_order(mask, fields)


def place_of(row: dict, table: TableSchema, key: str) -> Where:
    line, path, lines, _ = json.loads(row[WHERE])
    return Where(row[FILE], lines.get(key, line), f"{path} (its {table.name} row)")


# -- agreements_287g ----------------------------------------------------------------------------------

def agreements_287g(frames: dict[str, Frame], table: TableSchema) -> Frame:
    record = _record(frames)
    ends = _curated_ends(frames["actions"])
    jurisdictions = frames["jurisdictions"]
    counties = {row["jurisdiction_id"]: (row["kind"], row["county_fips"]) for row in
                rows_of(jurisdictions, ops.is_valid(jurisdictions.arrow.column("jurisdiction_id")), ["jurisdiction_id", "kind", "county_fips"])}
    rows, places = [], []
    for agreement_id, listings in sorted(record.by_agreement.items()):
        newest = max(listings, key=lambda m: m["last_key"])
        row = _agreement(agreement_id, listings, newest, record, ends)
        row["county_fips"], row["county_from"] = _county_of(row, listings, counties)
        rows.append(row)
        places.append(place_of(newest, table, "agreement_id"))
    return derived_frame(table, rows, places)


def _agreement(agreement_id: str, listings: list[dict], newest: dict, record: _Record, ends: dict) -> dict:
    runs = _by_list(listings)
    first = min(m["first_key"] for m in listings)[1]
    last_edition = record.last(newest)
    participating = [m for m in listings if m["list"] == PARTICIPATING]
    days = {m["signed"] for m in participating if m["signed"] and DAY.fullmatch(m["signed"])}
    with_day = [m for m in participating if m["signed"] in days]
    signed = max(with_day, key=lambda m: m["last_key"])["signed"] if with_day else None
    row = {
        "agreement_id": agreement_id, "jurisdiction_id": newest["jurisdiction_id"], "state": newest["state"],
        "agency": newest["agency"], "names": len({m["agency"] for m in listings}), "model": newest["model"],
        "signed": dates.day(signed) if signed else None, "signed_values": len({m["signed"] for m in participating if m["signed"]}),
        "signed_disputed": len(days) > 1, "first_listed": record.published[first],
        "first_listed_participating": min((record.published[record.first(m)] for m in participating), default=None),  # type: ignore[type-var]
        "last_listed": record.published[last_edition], "last_listed_source_id": last_edition,
        "editions": sum(end - start for spans in runs.values() for start, end in spans),
        "gaps": sum(len(spans) - 1 for spans in runs.values()),
        "status": "listed", "not_listed_from": None, "not_listed_from_source_id": None, "ended": None, "ended_action_id": None,
    }
    if not any(spans[-1][1] == len(record.order[kind]) for kind, spans in runs.items()):
        following = record.order[newest["list"]][newest["spans"][-1][1]]
        row.update(status="no_longer_listed", not_listed_from=record.published[following], not_listed_from_source_id=following)
    end = _end_of(agreement_id, listings, ends)
    if end:
        row.update(status="ended", ended=end["date_end"] if end["stage"] == "in_effect" else None, ended_action_id=end["action_id"])
    return row


def _county_of(row: dict, listings: list[dict], counties: dict) -> tuple[str | None, str | None]:
    """The agreement's county: its jurisdiction's, else the one ICE's COUNTY column names (latest first)."""
    from . import reference

    kind, fips = counties.get(row["jurisdiction_id"], (None, None))
    if fips:
        return fips, "jurisdiction"
    if kind == "state":
        return None, None
    for listing in sorted(listings, key=lambda m: m["last_key"], reverse=True):
        named = listing["county"] if listing["county"] and listing["county"].upper() not in NO_COUNTY else None
        found = reference.county_fips(named, listing["state"]) if named else None
        if found:
            return found, "ice_county_column"
    return None, None


def _curated_ends(actions: Frame) -> dict[tuple, list[dict]]:
    """Curated actions that end a 287(g) arrangement, by (jurisdiction, model)."""
    mask = ops.is_in(actions.arrow.column("action"), strings(ENDING))
    found: dict[tuple, list[dict]] = {}
    for action in rows_of(actions, mask, ["action_id", "jurisdiction_id", "arrangement", "actor_name", "stage", "date_end", "agreement_id"]):
        if action["stage"] in ENDED_STAGES and (action["arrangement"] or "").startswith("287g"):
            key = ("agreement", action["agreement_id"]) if action["agreement_id"] else (action["jurisdiction_id"], action["arrangement"])
            found.setdefault(key, []).append(action)
    return found


def _end_of(agreement_id: str, listings: list[dict], ends: dict) -> dict | None:
    """The curated ending a curator linked to the agreement (`actions.agreement_id`), else one that
    names the agreement's agency and model (its actor is the agency)."""
    from .names import normalized

    candidates = ends.get(("agreement", agreement_id), [])
    if not candidates:
        names = {normalized(m["agency"]) for m in listings}
        candidates = [action for m in listings for action in ends.get((m["jurisdiction_id"], m["model"]), [])
                      if normalized(action["actor_name"] or "") in names]
    return max(candidates, key=lambda a: (a["stage"] == "in_effect", a["date_end"] or dt.date.min, a["action_id"]), default=None)


def strings(values):
    import pyarrow as pa

    return pa.array(list(values), type=pa.string())


# -- editions_287g ---------------------------------------------------------------------------------

def editions_287g(frames: dict[str, Frame], table: TableSchema) -> Frame:
    record = _record(frames)
    counts = {kind: [0] * len(order) for kind, order in record.order.items()}
    left = {kind: [0] * len(order) for kind, order in record.order.items()}
    newly: dict[str, int] = {}
    for listings in record.by_agreement.values():
        for kind, spans in _by_list(listings).items():
            for start, end in spans:
                counts[kind][start] += 1
                if end < len(counts[kind]):
                    counts[kind][end] -= 1
                    left[kind][end] += 1
        first = min(m["first_key"] for m in listings)[1]
        newly[first] = newly.get(first, 0) + 1
    source_of = {s["source_id"]: s for s in record.sources}
    rows, places = [], []
    for kind, order in record.order.items():
        listed = 0
        for index, sid in enumerate(order):
            listed += counts[kind][index]
            source = source_of[sid]
            rows.append({"source_id": sid, "list": kind, "published": record.published[sid], "as_of": source["as_of"],
                         "rows": source["rows"] or 0, "agreements": listed, "first_listed": newly.get(sid, 0),
                         "no_longer_listed": left[kind][index]})
            places.append(place_of(source, table, "source_id"))
    return derived_frame(table, rows, places)


@dataclass(frozen=True)
class Derivation:
    """How a derived table is made, and what it reads: for each input table, the columns it reads
    (None: all, with each row's place). Its rows are kept in the cache under a digest of exactly these."""

    make: Callable[[dict[str, Frame], TableSchema], Frame]
    reads: dict[str, tuple[str, ...] | None]
    only: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # table -> (column, values): the rows it reads


ICE_LISTS: dict[str, tuple[str, ...] | None] = {"sources": None, "listings_287g": None, "listing_runs_287g": None}
DERIVATIONS = {  # each table marked derived in schemas/, and how
    "agreements_287g": Derivation(agreements_287g, {
        **ICE_LISTS, "actions": ("action_id", "jurisdiction_id", "action", "stage", "arrangement", "actor_name", "date_end"),
        "jurisdictions": ("jurisdiction_id", "kind", "county_fips")}, only={"actions": ("action", ENDING)}),
    "editions_287g": Derivation(editions_287g, ICE_LISTS),
}
