"""Tables derived from ICE's detention statistics as imported (editions as sources, facility listings
with their runs and figures): `detention_facilities` (one row per facility), `detention_facility_runs`
(its history: runs of editions under one type), `editions_detention` (one row per edition, with its
counts) and `detention_consistency` (where curated actions and ICE's lists disagree)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import arrow_ops as ops
from .derived import ENDING, Derivation, LastRecord, merged_spans, place_of, rows_of, strings
from .frames import FILE, WHERE, Frame, derived_frame
from .names import stable_id
from .schema import TableSchema

KIND = "ice_detention_facilities"
DETENTION_ARRANGEMENTS = ("igsa_detention", "usms_rider")
STARTING = ("enter", "renew", "reinstate")
LEVELS = ("adp_level_a", "adp_level_b", "adp_level_c", "adp_level_d")


@dataclass
class _Record:
    order: list[str]  # editions (source ids) by data date
    editions: dict[str, dict]  # source id -> its source row
    listings: list[dict]  # with "spans": [(start, end)] in `order`
    by_facility: dict[str, list[dict]] = field(default_factory=dict)

    def day(self, index: int):
        return self.editions[self.order[index]]["data_date"]


def _read_record(frames: dict[str, Frame]) -> _Record:
    sources = frames["sources"]
    editions = [s for s in rows_of(sources, ops.is_valid(sources.arrow.column("data_date")),
                                 ["source_id", "edition_of", "data_date", WHERE, FILE]) if s["edition_of"] == KIND]
    order = [s["source_id"] for s in sorted(editions, key=lambda s: (s["data_date"], s["source_id"]))]
    position = {sid: index for index, sid in enumerate(order)}
    listings_frame, runs_frame = frames["detention_listings"], frames["detention_listing_runs"]
    listings = rows_of(listings_frame, ops.is_valid(listings_frame.arrow.column("listing_id")),
                     [*(f.name for f in listings_frame.schema.fields), WHERE, FILE])
    runs: dict[str, list[dict]] = {}
    for run in rows_of(runs_frame, ops.is_valid(runs_frame.arrow.column("listing_id")), ["listing_id", "from", "until"]):
        runs.setdefault(run["listing_id"], []).append(run)
    record = _Record(order, {s["source_id"]: s for s in editions}, listings)
    for listing in listings:
        listing["spans"] = sorted((position[run["from"]], position[run["until"]] if run["until"] else len(order))
                                  for run in runs.get(listing["listing_id"], [])
                                  if run["from"] in position and (not run["until"] or run["until"] in position))
        if listing["spans"] and listing["facility_id"]:
            record.by_facility.setdefault(listing["facility_id"], []).append(listing)
    return record


_record = LastRecord(("sources", "detention_listings", "detention_listing_runs"), _read_record)  # every detention table reads it


def _newest(listings: list[dict]) -> dict:
    return max(listings, key=lambda m: (m["spans"][-1][1], m["spans"][-1][0], m["listing_id"]))


# -- detention_facilities ------------------------------------------------------------------------------

def detention_facilities(frames: dict[str, Frame], table: TableSchema) -> Frame:
    record = _record(frames)
    arrangement = dict(frames["detention_listings"].schema.field("type_detailed").arrangements)
    jurisdictions = frames["jurisdictions"]
    county_of = {row["jurisdiction_id"]: row["county_fips"] for row in
                 rows_of(jurisdictions, ops.is_valid(jurisdictions.arrow.column("jurisdiction_id")), ["jurisdiction_id", "county_fips"])}
    rows, places = [], []
    operator = dict(frames["detention_listings"].schema.field("type_detailed").operators)
    for facility_id, listings in sorted(record.by_facility.items()):
        newest = _newest(listings)
        matched = max((m for m in listings if m["jurisdiction_id"]), key=lambda m: (m["spans"][-1][1], m["listing_id"]), default=newest)
        spans = merged_spans([span for m in listings for span in m["spans"]])
        first, last = spans[0][0], spans[-1][1] - 1
        earliest = sorted(listings, key=lambda m: (m["spans"][0][0], m["listing_id"]))
        others = list(dict.fromkeys(m["name"] for m in earliest if m["name"] != newest["name"]))
        row = {
            "facility_id": facility_id, "name": newest["name"], "names": len({m["name"] for m in listings}),
            "other_names": " | ".join(others) or None, "operator": operator.get(newest["type_detailed"]),
            "address": newest["address"], "city": newest["city"], "state": newest["state"], "zip": newest["zip"], "aor": newest["aor"],
            "type_detailed": newest["type_detailed"], "types": len({m["type_detailed"] for m in listings}),
            "arrangement": arrangement.get(newest["type_detailed"]), "jurisdiction_id": matched["jurisdiction_id"],
            "jurisdiction_note": matched["jurisdiction_note"], **_county(county_of.get(matched["jurisdiction_id"] or ""), newest),
            "first_listed": record.day(first), "first_listed_source_id": record.order[first],
            "last_listed": record.day(last), "last_listed_source_id": record.order[last],
            "editions": sum(end - start for start, end in spans), "gaps": len(spans) - 1,
            "status": "listed", "not_listed_from": None, "not_listed_from_source_id": None,
        }
        if spans[-1][1] < len(record.order):
            row.update(status="no_longer_listed", not_listed_from=record.day(spans[-1][1]), not_listed_from_source_id=record.order[spans[-1][1]])
        rows.append(row)
        places.append(place_of(newest, table, "facility_id"))
    return derived_frame(table, rows, places)


def _county(of_jurisdiction: str | None, newest: dict) -> dict:
    if of_jurisdiction:
        return {"county_fips": of_jurisdiction, "county_from": "jurisdiction"}
    city = newest.get("city_county_fips")
    return {"county_fips": city, "county_from": "facility_city" if city else None}


# -- detention_facility_runs ------------------------------------------------------------------------------

def facility_runs(record: _Record) -> list[tuple[str, str, int, int, dict]]:
    """(facility, type, start, end, a listing of it): runs of consecutive editions under one type."""
    found = []
    for facility_id, listings in sorted(record.by_facility.items()):
        by_type: dict[str, list[tuple[int, int]]] = {}
        sample: dict[str, dict] = {}
        for listing in listings:
            by_type.setdefault(listing["type_detailed"], []).extend(listing["spans"])
            sample.setdefault(listing["type_detailed"], listing)
        for kind, spans in by_type.items():
            found += [(facility_id, kind, start, end, sample[kind]) for start, end in merged_spans(spans)]
    return sorted(found, key=lambda run: (run[0], run[2], run[1]))


def detention_facility_runs(frames: dict[str, Frame], table: TableSchema) -> Frame:
    record = _record(frames)
    rows, places = [], []
    for facility_id, kind, start, end, listing in facility_runs(record):
        ended = end < len(record.order)
        rows.append({"facility_id": facility_id, "type_detailed": kind, "from": record.day(start), "from_source_id": record.order[start],
                     "until": record.day(end) if ended else None, "until_source_id": record.order[end] if ended else None,
                     "editions": end - start})
        places.append(place_of(listing, table, "facility_id"))
    return derived_frame(table, rows, places)


# -- editions_detention ------------------------------------------------------------------------------

def editions_detention(frames: dict[str, Frame], table: TableSchema) -> Frame:
    record = _record(frames)
    arrangement = dict(frames["detention_listings"].schema.field("type_detailed").arrangements)
    size = len(record.order)
    listed: list[set[str]] = [set() for _ in range(size)]
    typed: list[dict[str, int]] = [{} for _ in range(size)]
    for facility_id, kind, start, end, _ in facility_runs(record):
        for index in range(start, end):
            listed[index].add(facility_id)
            typed[index][arrangement.get(kind, "")] = typed[index].get(arrangement.get(kind, ""), 0) + 1
    population = [0.0] * size
    fiscal_year = [0] * size
    figures = frames["detention_figures"]
    position = {sid: index for index, sid in enumerate(record.order)}
    for row in rows_of(figures, ops.is_valid(figures.arrow.column("listing_id")), ["source_id", "fiscal_year", *LEVELS]):
        if row["source_id"] in position:
            population[position[row["source_id"]]] += sum(row[level] or 0.0 for level in LEVELS)
            fiscal_year[position[row["source_id"]]] = row["fiscal_year"] or 0
    rows, places = [], []
    seen: set[str] = set()
    for index, sid in enumerate(record.order):
        source = record.editions[sid]
        before = listed[index - 1] if index else set()
        rows.append({"source_id": sid, "data_date": source["data_date"], "fiscal_year": fiscal_year[index],
                     "facilities": len(listed[index]), "igsa_detention": typed[index].get("igsa_detention", 0),
                     "usms_rider": typed[index].get("usms_rider", 0), "first_listed": len(listed[index] - seen),
                     "no_longer_listed": len(before - listed[index]), "average_daily_population": round(population[index], 6)})
        seen |= listed[index]
        places.append(place_of(source, table, "source_id"))
    return derived_frame(table, rows, places)


# -- detention_consistency ------------------------------------------------------------------------------

def detention_consistency(frames: dict[str, Frame], table: TableSchema) -> Frame:
    """Curated ends of jail detention arrangements next to what ICE's lists say of the same jurisdiction.
    An end is taken back by a later curated start (enter, renew, reinstate) of that arrangement."""
    record = _record(frames)
    arrangement = dict(frames["detention_listings"].schema.field("type_detailed").arrangements)
    actions = frames["actions"]
    mask = ops.is_in(actions.arrow.column("action"), strings((*ENDING, *STARTING)))
    held: dict[str, list[tuple[str, str, int, int]]] = {}
    for facility_id, kind, start, end, listing in facility_runs(record):
        if listing["jurisdiction_id"] and arrangement.get(kind):
            held.setdefault(listing["jurisdiction_id"], []).append((facility_id, kind, start, end))
    names = {facility_id: _newest(listings)["name"] for facility_id, listings in record.by_facility.items()}
    found = rows_of(actions, mask, ["action_id", "jurisdiction_id", "action", "arrangement", "stage", "date", "date_end", WHERE, FILE])
    found = [a for a in found if a["arrangement"] in DETENTION_ARRANGEMENTS and a["action_id"] and a["jurisdiction_id"] and a["date_end"]]
    starts: dict[tuple, list] = {}
    for a in found:
        if a["action"] in STARTING:
            starts.setdefault((a["jurisdiction_id"], a["arrangement"]), []).append(a["date_end"])
    rows, places, seen = [], [], set()
    for action in found:
        if action["action"] not in ENDING or action["action_id"] in seen:
            continue  # a repeated action id is reported by its own check
        seen.add(action["action_id"])
        later = [day for day in starts.get((action["jurisdiction_id"], action["arrangement"]), []) if day > action["date_end"]]
        findings = _findings(action, held.get(action["jurisdiction_id"], []), record, arrangement, names, min(later, default=None))
        rows += findings
        places += [place_of(action, table, "action_id")] * len(findings)
    return derived_frame(table, rows, places)


def _findings(action: dict, held: list[tuple[str, str, int, int]], record: _Record, arrangement: dict[str, str], names: dict, restarted) -> list[dict]:
    if not held:
        span = f"{record.day(0)} to {record.day(len(record.order) - 1)}" if record.order else "none imported"
        return [_finding(action, "end_never_listed", None, None,
                         f"no imported edition ({span}) lists a facility of this jurisdiction under an IGSA-type or USMS agreement")]
    in_effect = action["stage"] == "in_effect"
    listed: dict[str, dict[int, str]] = {}  # facility -> {edition index after the end (and before a restart): its type then}
    for facility_id, kind, start, end in held:
        if in_effect and arrangement[kind] != action["arrangement"]:
            continue
        for index in range(start, end):
            if record.day(index) > action["date_end"] and not (restarted and restarted <= record.day(index)):
                listed.setdefault(facility_id, {})[index] = kind
    found = []
    for facility_id, editions in sorted(listed.items()):
        first, last = min(editions), max(editions)
        kinds = sorted(set(editions.values()))
        other = "" if all(arrangement[k] == action["arrangement"] for k in kinds) else f" (not only the action's {action['arrangement']})"
        found.append(_finding(action, "listed_after_end" if in_effect else "listed_after_end_announced", facility_id, record.order[first],
                              f"{names[facility_id]} listed as {' and '.join(kinds)}{other} in {len(editions)} editions from {record.day(first)} "
                              f"to {record.day(last)}, after {action['date_end']}, with no later curated start of the arrangement before them"))
    return found


def _finding(action: dict, kind: str, facility_id: str | None, source_id: str | None, ice_says: str) -> dict:
    return {"finding_id": stable_id("fnd", f"{action['action_id']}|{action['jurisdiction_id']}|{kind}|{facility_id or ''}"), "action_id": action["action_id"],
            "kind": kind, "jurisdiction_id": action["jurisdiction_id"], "arrangement": action["arrangement"],
            "action_date": action["date_end"],
            "action_says": f"{action['action']} ({action['stage']}) of its {action['arrangement']} arrangement, dated {action['date']}",
            "facility_id": facility_id, "source_id": source_id, "ice_says": ice_says}


DETENTION_LISTS: dict[str, tuple[str, ...] | None] = {"sources": None, "detention_listings": None, "detention_listing_runs": None}
DERIVATIONS = {
    "detention_facilities": Derivation(detention_facilities, {**DETENTION_LISTS, "jurisdictions": ("jurisdiction_id", "county_fips")}),
    "detention_facility_runs": Derivation(detention_facility_runs, DETENTION_LISTS),
    "editions_detention": Derivation(editions_detention, {**DETENTION_LISTS, "detention_figures": ("listing_id", "source_id", "fiscal_year", *LEVELS)}),
    "detention_consistency": Derivation(detention_consistency, {
        **DETENTION_LISTS, "actions": ("action_id", "jurisdiction_id", "action", "arrangement", "stage", "date", "date_end")},
        only={"actions": ("action", (*ENDING, *STARTING))}),
}
