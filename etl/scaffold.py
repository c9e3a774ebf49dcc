"""Skeleton records with fresh stable ids, in canonical form, for `etl new`."""

from __future__ import annotations

import re
import secrets
import unicodedata

from . import reference

ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # no i, l, o, u: easy to read aloud and copy
TODO = "TODO"


def fresh_id(prefix: str, taken: set[str], length: int = 8) -> str:
    while True:
        candidate = f"{prefix}-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))
        if candidate not in taken:
            return candidate


def slugify(text: str) -> str:
    """`Doña Ana County` -> `dona-ana-county`: accents dropped, then anything but a-z and 0-9 a hyphen."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def jurisdiction(state: str, name: str, kind: str) -> dict:
    state = state.upper()
    record = {
        "jurisdiction_id": f"{state.lower()}-{slugify(name)}",
        "name": name,
        "kind": kind,
        "state": state,
        "state_fips": reference.state_fips_by_usps().get(state, TODO),
        "ocd_id": f"ocd-division/country:us/state:{state.lower()}" if kind == "state" else TODO,
    }
    if kind != "state":
        record["county_fips"] = TODO
    return record


def action(taken: set[str]) -> dict:
    return {
        "action_id": fresh_id("act", taken),
        "date": TODO,
        "action": TODO,
        "stage": TODO,
        "arrangement": TODO,
        "actor_role": TODO,
        "actor_name": TODO,
        "initiated_by": TODO,
        "summary": TODO,
        "citations": [{"source_id": TODO, "claim": TODO, "locator": TODO}],
    }


def source(taken: set[str], url: str, publisher: str, source_id: str | None = None) -> dict:
    return {
        "source_id": source_id or fresh_id("src", taken),
        "url": url,
        "publisher": publisher,
        "kind": TODO,
    }
