"""Tables derived from the others rather than written in `raw/`: from ICE's 287(g) lists as imported
(editions as sources, listings with their runs), `agreements_287g` (one row per agreement, with what
the evidence says of it) and `editions_287g` (one row per edition, with its counts)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from . import arrow_ops as ops
from . import dates
from .frames import FILE, WHERE, Frame, derived_frame
from .schema import TableSchema
from .tables import Where

PARTICIPATING = "ice_287g_participating"
ENDING = ("terminate", "suspend")
ENDED_STAGES = ("approved", "in_effect")  # a decision to end, or the end itself; an announcement is not an end


@dataclass
class _Record:
    """What the imported lists say, over every edition."""

    order: dict[str, list[str]]  # list -> its editions (source ids) in the order ICE saved them
    published: dict[str, object]  # source id -> the edition's date
    sources: list[dict]  # the editions' source rows
    listings: list[dict]  # with "editions": the set of source ids holding each
    by_agreement: dict[str, list[dict]] = field(default_factory=dict)
    when: dict[str, tuple] = field(default_factory=dict)  # source id -> when ICE saved it, for ordering across both lists

    @property
    def latest(self) -> set[str]:
        return {order[-1] for order in self.order.values() if order}


def _record(frames: dict[str, Frame]) -> _Record:
    sources = frames["sources"]
    editions = _rows(sources, ops.is_valid(sources.arrow.column("edition_of")), ["source_id", "edition_of", "published", "as_of", "rows", WHERE, FILE])
    lists = frames["sources"].schema.field("edition_of").enum or ()
    editions = [s for s in editions if s["edition_of"] in lists and s["published"] and len(s["published"]) == 10]
    order: dict[str, list[str]] = {}
    for source in sorted(editions, key=lambda s: (s["as_of"] or s["published"], s["source_id"])):
        order.setdefault(source["edition_of"], []).append(source["source_id"])
    listings_frame, runs_frame = frames["listings_287g"], frames["listing_runs_287g"]
    everything = ops.is_valid(listings_frame.arrow.column("listing_id"))
    listings = _rows(listings_frame, everything, [*(f.name for f in listings_frame.schema.fields), WHERE, FILE])
    runs: dict[str, list[dict]] = {}
    for run in _rows(runs_frame, ops.is_valid(runs_frame.arrow.column("listing_id")), ["listing_id", "from", "until"]):
        runs.setdefault(run["listing_id"], []).append(run)
    record = _Record(order, {s["source_id"]: dates.day(s["published"]) for s in editions}, editions, listings,
                     when={s["source_id"]: (s["as_of"] or s["published"], s["source_id"]) for s in editions})
    for listing in listings:
        listing["editions"] = _covered(order.get(listing["list"], []), runs.get(listing["listing_id"], []))
        if listing["editions"] and listing["agreement_id"]:
            record.by_agreement.setdefault(listing["agreement_id"], []).append(listing)
    return record


def _covered(order: list[str], runs: list[dict]) -> set[str]:
    position = {sid: index for index, sid in enumerate(order)}
    found: set[str] = set()
    for run in runs:
        if run["from"] in position and (not run["until"] or run["until"] in position):
            found.update(order[position[run["from"]]: position[run["until"]] if run["until"] else len(order)])
    return found


def _rows(frame: Frame, mask, fields: list[str]) -> list[dict]:
    return frame.in_read_order(mask, fields)


def _where(row: dict, table: TableSchema, key: str) -> Where:
    line, path, lines, _ = json.loads(row[WHERE])
    return Where(row[FILE], lines.get(key, line), f"{path} (its {table.name} row)")


# -- agreements_287g ----------------------------------------------------------------------------------

def agreements_287g(frames: dict[str, Frame], table: TableSchema) -> Frame:
    record = _record(frames)
    position = {sid: (kind, index) for kind, order in record.order.items() for index, sid in enumerate(order)}
    ends = _curated_ends(frames["actions"])
    rows, places = [], []
    for agreement_id, listings in sorted(record.by_agreement.items()):
        rows.append(_agreement(agreement_id, listings, record, position, ends))
        places.append(_where(_newest(listings, record.when), table, "agreement_id"))
    return derived_frame(table, rows, places)


def _newest(listings: list[dict], when: dict[str, tuple]) -> dict:
    """The listing last seen (by ICE's save times, across both lists)."""
    return max(listings, key=lambda m: (max(when[sid] for sid in m["editions"]), m["listing_id"]))


def _agreement(agreement_id: str, listings: list[dict], record: _Record, position: dict, ends: dict) -> dict:
    editions = set().union(*(m["editions"] for m in listings))
    by_time = sorted(editions, key=lambda sid: (record.published[sid], sid))
    newest = _newest(listings, record.when)
    last_edition = max(newest["editions"], key=lambda sid: record.when[sid])
    participating = [m for m in listings if m["list"] == PARTICIPATING]
    days = {m["signed"] for m in participating if m["signed"] and re.fullmatch(r"\d{4}-\d\d-\d\d", m["signed"])}
    with_day = [m for m in participating if m["signed"] in days]
    signed = _newest(with_day, record.when)["signed"] if with_day else None
    row = {
        "agreement_id": agreement_id, "jurisdiction_id": newest["jurisdiction_id"], "state": newest["state"],
        "agency": newest["agency"], "names": len({m["agency"] for m in listings}), "model": newest["model"],
        "signed": dates.day(signed) if signed else None, "signed_values": len({m["signed"] for m in participating if m["signed"]}),
        "signed_disputed": len(days) > 1, "first_listed": record.published[by_time[0]],
        "first_listed_participating": min((record.published[sid] for m in participating for sid in m["editions"]), default=None),  # type: ignore[type-var]
        "last_listed": record.published[last_edition], "last_listed_source_id": last_edition, "editions": len(editions),
        "gaps": sum(_gaps(record.order[kind], {sid for m in listings if m["list"] == kind for sid in m["editions"]}) for kind in record.order),
        "status": "listed", "not_listed_from": None, "not_listed_from_source_id": None, "ended": None, "ended_action_id": None,
    }
    if not editions & record.latest:
        kind, index = position[last_edition]
        following = record.order[kind][index + 1]
        row.update(status="no_longer_listed", not_listed_from=record.published[following], not_listed_from_source_id=following)
    end = _end_of(listings, ends)
    if end:
        row.update(status="ended", ended=end["date_end"] if end["stage"] == "in_effect" else None, ended_action_id=end["action_id"])
    return row


def _gaps(order: list[str], present: set[str]) -> int:
    """How many times the agreement left its list and came back."""
    runs = sum(1 for index, sid in enumerate(order) if sid in present and (index == 0 or order[index - 1] not in present))
    return max(runs - 1, 0)


def _curated_ends(actions: Frame) -> dict[tuple, list[dict]]:
    """Curated actions that end a 287(g) arrangement, by (jurisdiction, model)."""
    mask = ops.is_in(actions.arrow.column("action"), _strings(ENDING))
    found: dict[tuple, list[dict]] = {}
    for action in _rows(actions, mask, ["action_id", "jurisdiction_id", "arrangement", "actor_name", "stage", "date_end"]):
        if action["stage"] in ENDED_STAGES and (action["arrangement"] or "").startswith("287g"):
            found.setdefault((action["jurisdiction_id"], action["arrangement"]), []).append(action)
    return found


def _end_of(listings: list[dict], ends: dict) -> dict | None:
    """A curated action that names the agreement's agency and model (its actor is the agency)."""
    from .names import normalized

    names = {normalized(m["agency"]) for m in listings}
    candidates = [action for m in listings for action in ends.get((m["jurisdiction_id"], m["model"]), [])
                  if normalized(action["actor_name"] or "") in names]
    return max(candidates, key=lambda a: (a["stage"] == "in_effect", a["date_end"], a["action_id"]), default=None)


def _strings(values):
    import pyarrow as pa

    return pa.array(list(values), type=pa.string())


# -- editions_287g ---------------------------------------------------------------------------------

def editions_287g(frames: dict[str, Frame], table: TableSchema) -> Frame:
    record = _record(frames)
    holding: dict[str, set[str]] = {}
    for agreement_id, listings in record.by_agreement.items():
        for listing in listings:
            for sid in listing["editions"]:
                holding.setdefault(sid, set()).add(agreement_id)
    first_seen: dict[str, str] = {}
    everything = sorted(record.published, key=lambda sid: (record.published[sid], sid))
    for sid in everything:
        for agreement_id in holding.get(sid, set()):
            first_seen.setdefault(agreement_id, sid)
    source_of = {s["source_id"]: s for s in record.sources}
    rows, places = [], []
    for kind, order in record.order.items():
        for index, sid in enumerate(order):
            listed = holding.get(sid, set())
            before = holding.get(order[index - 1], set()) if index else set()
            source = source_of[sid]
            rows.append({
                "source_id": sid, "list": kind, "published": record.published[sid], "as_of": source["as_of"],
                "rows": source["rows"] or 0, "agreements": len(listed),
                "first_listed": sum(1 for agreement_id in listed if first_seen[agreement_id] == sid),
                "no_longer_listed": len(before - listed),
            })
            places.append(_where(source, table, "source_id"))
    return derived_frame(table, rows, places)


DERIVATIONS = {"agreements_287g": agreements_287g, "editions_287g": editions_287g}  # each table marked derived in schemas/, and how
