"""Tables derived from the others rather than written in `raw/`: `agreements_287g`, one row per
agreement that an imported edition of ICE's 287(g) lists names, with its status."""

from __future__ import annotations

import json

from . import arrow_ops as ops
from . import dates
from .frames import FILE, WHERE, Frame, derived_frame
from .schema import TableSchema
from .tables import Where


def agreements_287g(frames: dict[str, Frame], table: TableSchema) -> Frame:
    """The derived table, from only the rows that bear on it: editions, their citations, and the
    287(g) actions of the jurisdictions they list."""
    sources, citations, actions = frames["sources"], frames["citations"], frames["actions"]
    editions = _rows(sources, ops.is_valid(sources.arrow.column("edition_of")), ["source_id", "edition_of", "published"])
    cited = _rows(citations, ops.is_in(citations.arrow.column("source_id"), _values(editions, "source_id")),
                  ["action_id", "source_id"])
    listed = ops.is_in(actions.arrow.column("action_id"), _values(cited, "action_id"))
    places = ops.unique(ops.filter_rows(actions.arrow.column("jurisdiction_id"), listed))
    bearing = ops.or_(listed, ops.and_(ops.starts_with(actions.arrow.column("arrangement"), "287g"),
                                       ops.is_in(actions.arrow.column("jurisdiction_id"), places)))
    fields = ["action_id", "jurisdiction_id", "actor_name", "arrangement", "action", "stage", "date_precision", "date_start", "date_end"]
    bearing_rows = _rows(actions, bearing, [*fields, WHERE, FILE])
    rows = derive_agreements(editions, cited, bearing_rows)
    return derived_frame(table, rows, _places(table, rows, bearing_rows))


def _places(table: TableSchema, rows: list[dict], actions: list[dict]) -> list[Where]:
    """Each derived row points at the action that names its agreement, so that a problem in it
    says which raw record to look at."""
    where_of = {action["action_id"]: (action[FILE], action[WHERE]) for action in actions}
    places = []
    for row in rows:
        file, encoded = where_of[row["action_id"]]
        line, path, lines, _ = json.loads(encoded)
        places.append(Where(file, lines.get("action_id", line), f"{path} (its {table.name} row)"))
    return places


def _rows(frame: Frame, mask, fields: list[str]) -> list[dict]:
    return frame.in_read_order(mask, fields)  # the first approved action of an agreement names it


def _values(rows: list[dict], field: str):
    import pyarrow as pa

    return pa.array(sorted({row[field] for row in rows if row[field] is not None}), type=pa.string())


ENDING, STARTING = ("terminate", "suspend"), ("enter", "renew", "reinstate")


def derive_agreements(sources: list[dict], citations: list[dict], actions: list[dict]) -> list[dict]:
    """One row per (jurisdiction, agency, model) that an imported edition of ICE's lists names."""
    editions = {
        s["source_id"]: (s["edition_of"], dates.day(s["published"]))
        for s in sources
        if s["edition_of"] and s["published"] and len(s["published"]) == 10
    }
    if not editions:
        return []
    latest = {kind: max(day for k, day in editions.values() if k == kind) for kind, _ in editions.values()}
    listed_in: dict[str, list[tuple[str, object]]] = {}
    for citation in citations:
        if citation["source_id"] in editions:
            listed_in.setdefault(citation["action_id"], []).append(editions[citation["source_id"]])
    groups: dict[tuple, list[dict]] = {}
    for action in actions:
        if action["action_id"] in listed_in:
            groups.setdefault((action["jurisdiction_id"], action["actor_name"], action["arrangement"]), []).append(action)
    curated: dict[str, list[dict]] = {}
    for action in actions:
        if action["action_id"] not in listed_in and action["arrangement"].startswith("287g"):
            curated.setdefault(action["jurisdiction_id"], []).append(action)
    return [_agreement(key, actions, listed_in, latest, curated.get(key[0], [])) for key, actions in sorted(groups.items())]


def _agreement(key: tuple, actions: list[dict], listed_in: dict, latest: dict, curated: list[dict]) -> dict:
    jurisdiction_id, agency, arrangement = key
    seen = [entry for action in actions for entry in listed_in[action["action_id"]]]
    days = [day for _, day in seen]
    signed = next((a for a in actions if a["stage"] == "approved"), None)
    row = {
        "jurisdiction_id": jurisdiction_id, "agency": agency, "arrangement": arrangement,
        "signed": signed["date_start"] if signed and signed["date_precision"] == "day" else None,
        "first_listed": min(days), "last_listed": max(days),
        "action_id": (signed or actions[0])["action_id"], "status_action_id": None,
    }
    if ("ice_287g_participating", latest.get("ice_287g_participating")) in seen:
        row["status"], row["status_date"] = "participating", latest["ice_287g_participating"]
    elif ("ice_287g_pending", latest.get("ice_287g_pending")) in seen and not signed:
        row["status"], row["status_date"] = "pending", latest["ice_287g_pending"]
    else:
        kinds = {kind for kind, _ in seen}
        row["status"], row["status_date"] = "not_in_latest_list", max(latest[kind] for kind in kinds)
    later = [
        a for a in curated
        if a["date_end"] > row["last_listed"]
        and a["action"] in ENDING + STARTING and a["stage"] in ("approved", "in_effect", "notice_given")
        and a["arrangement"] in (arrangement, "287g_model_unspecified")
    ]
    if later:
        evidence = max(later, key=lambda a: (a["date_end"], a["action_id"]))
        row["status"] = "ended" if evidence["action"] in ENDING else "restored"
        row["status_date"], row["status_action_id"] = evidence["date_end"], evidence["action_id"]
    return row


DERIVATIONS = {"agreements_287g": agreements_287g}  # each table marked derived in schemas/, and how
