"""Which rows of ICE's 287(g) lists are one agreement: the rules, applied to every listing at once.

A listing is a row as ICE wrote it. Two listings are the same agreement when:
1. same name: the same state and model, and the same agency once spelling is normalized (case,
   punctuation, `Dept`/`Department`, `Sheriff Office`/`Sheriff's Office`, a leading `City of`, ...),
   whatever their TYPE, COUNTY, SIGNED or list (pending, then participating). A changed SIGNED is the
   same agreement with SIGNED corrected: `agreements_287g.signed_disputed` says so.
2. re-spelled: the same state and model, one stops being listed before the other is first listed
   (never both in one edition), their SIGNED days do not differ, and one name is the other cut short
   (`Berrian County Sheriff's Offic`), or the other with words before it (`Department of Corrections`,
   `Alaska Department of Corrections`), or they differ by a few letters; also two such names that ICE
   used in turns (never both in one edition) with one SIGNED day (`Green Forks`/`Greens Fork`) (`Lake Clark Shores`/`Lake
   Clarke Shores`, 90% alike).
3. renamed: the same state, model, COUNTY (or none) and SIGNED day, and the new name is first listed
   in the first edition without the old one, the only such pair in that change of edition.
   Two alike names listed together in one edition are two agreements (`Hale`/`Hall County`).
4. model corrected: the same agency (as in 1) and SIGNED day under another model, the new model first
   listed in the first edition without the old one. A change of model with another SIGNED day is a
   new agreement (ICE signs a memorandum of agreement per model).
Everything else is a separate agreement. Every match is written in the listing's `match`, for a
curator to confirm or undo in imports/ice-287g-agreements.yaml (`join` another listing's agreement,
or stand `separate`), which decides over the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from ..names import NO_COUNTY, normalized, stable_id

DECISIONS_FILE = "imports/ice-287g-agreements.yaml"
ALIKE = 0.9
SHORTEST_CUT = 12  # a name cut short must keep at least this many characters


@dataclass(frozen=True)
class Listing:
    listing_id: str
    list: str
    state: str
    agency: str
    county: str
    model: str
    signed: str  # as written
    first: str  # ICE's save time of the first edition listing it (sortable text)
    last: str
    after_last: str | None  # the first edition of its list after `last`, if any
    editions: frozenset[str]

    @property
    def signed_day(self) -> str:
        return self.signed if re.fullmatch(r"\d{4}-\d\d-\d\d", self.signed) else ""


class _Group:
    """Listings taken to be one agreement so far; what the rules compare is kept up to date as groups
    absorb others (the rules compare every pair of groups of a state)."""

    def __init__(self, members: list[Listing]):
        self.members: list[Listing] = []
        self.first, self.last = "\uffff", ""
        self.editions: frozenset[str] = frozenset()
        self.signed_days: set[str] = set()
        self.add(members)

    def add(self, members: list[Listing]) -> None:
        self.members += members
        if not self.members:  # a group left empty when a curator moved its only listing away
            return
        self.first = min(self.first, *(m.first for m in members)) if members else self.first
        self.last = max(self.last, *(m.last for m in members)) if members else self.last
        self.editions = self.editions.union(*(m.editions for m in members))
        self.signed_days |= {m.signed_day for m in members if m.signed_day}
        self.newest = max(self.members, key=lambda m: (m.last, m.listing_id))
        self.oldest = min(self.members, key=lambda m: (m.first, m.listing_id))
        self.after_last = min((m.after_last for m in self.members if m.last == self.last and m.after_last), default=None)

    def remove(self, member: Listing) -> None:
        rest = [m for m in self.members if m is not member]
        self.__init__(rest)  # type: ignore[misc]


def group(listings: list[Listing], decisions: dict) -> dict[str, tuple[str, str | None]]:
    """For each listing: its agreement id, and why it belongs there (None for the first listing)."""
    reasons: dict[str, str] = {}
    groups = _same_name([m for m in listings if m.listing_id not in decisions.get("separate", {})], reasons)
    groups = _successions(groups, reasons)
    return decided(groups, listings, decisions, reasons, _Group, "agreement", lambda found: found.oldest)


def decided(groups: list, listings: list, decisions: dict, reasons: dict[str, str], make_group: Callable[[list], Any],
            what: str, founder_of: Callable[[Any], Any]) -> dict[str, tuple[str, str | None]]:
    """The rules' groups with a curator's decisions applied (listings kept `separate` stand alone, then
    each `join`): for each listing, its group's id (`agr-` or `fac-`, from the group's founding listing)
    and why it belongs there (None for the founder, unless a curator placed it)."""
    separate = decisions.get("separate", {})
    groups = groups + [make_group([m]) for m in listings if m.listing_id in separate]
    for listing, note in separate.items():
        reasons[listing] = f"kept apart by a curator ({note})"
    groups = joined(groups, decisions.get("join", {}), reasons, what)
    result = {}
    for found in groups:
        founder = founder_of(found)
        group_id = stable_id(what[:3], founder.listing_id)
        for member in found.members:
            reason = reasons.get(member.listing_id)
            if member is founder and not (reason or "").startswith(("kept apart", "joined")):
                reason = None
            result[member.listing_id] = (group_id, reason)
    return result


def _same_name(listings: list[Listing], reasons: dict[str, str]) -> list[_Group]:
    by_key: dict[tuple, list[Listing]] = {}
    for listing in sorted(listings, key=lambda m: (m.first, m.listing_id)):
        by_key.setdefault((listing.state, normalized(listing.agency), listing.model), []).append(listing)
    for members in by_key.values():
        for before, listing in zip(members, members[1:], strict=False):
            reasons[listing.listing_id] = "the same agreement as " + _differences(before, listing)
    return [_Group(members) for members in by_key.values()]


def _differences(before: Listing, after: Listing) -> str:
    """What ICE wrote differently in `after` than in `before` (same state, model and normalized name)."""
    said = [f"{before.listing_id}"]
    changes = []
    if before.agency != after.agency:
        changes.append(f"the name re-spelled from {before.agency!r} (the same once spelling is normalized)")
    if before.signed != after.signed:
        changes.append(f"SIGNED {before.signed or 'blank'!s} changed to {after.signed or 'blank'}")
    if before.county != after.county:
        changes.append(f"COUNTY {before.county or 'blank'!r} changed to {after.county or 'blank'!r}")
    if before.list != after.list:
        changes.append("moved from the pending to the participating list" if after.list.endswith("participating") else "moved to the pending list")
    if not changes:
        changes.append("its TYPE changed")
    return f"{said[0]}, with {'; '.join(changes)}"


def _successions(groups: list[_Group], reasons: dict[str, str]) -> list[_Group]:
    """Rules 2 to 4, state by state: each group, in order of its first listing, joins the group that
    it succeeds, if any (which then ends later, for the groups after it)."""
    by_state: dict[str, list[_Group]] = {}
    for found in groups:
        by_state.setdefault(found.oldest.state, []).append(found)
    result = []
    for state_groups in by_state.values():
        alive: list[_Group] = []
        for later in sorted(state_groups, key=lambda g: (g.first, g.oldest.listing_id)):
            earlier, why = _predecessor(alive, later, state_groups)
            if earlier is None:
                alive.append(later)
                continue
            reasons[later.oldest.listing_id] = why
            earlier.add(later.members)
        result += alive
    return result


def _predecessor(alive: list[_Group], later: _Group, everyone: list[_Group]) -> tuple[_Group | None, str]:
    new = later.oldest
    apart = [g for g in alive if not (g.editions & later.editions)]  # never listed in the same edition
    before = [g for g in apart if g.last < later.first]
    for earlier in sorted(before, key=lambda g: g.last, reverse=True):
        old = earlier.newest
        days = earlier.signed_days | later.signed_days
        if old.model == new.model and len(days) <= 1 and _alike(normalized(old.agency), normalized(new.agency)):
            return earlier, f"re-spelled: {old.agency!r} ({old.listing_id}) is no longer listed before {new.agency!r} is"
    day = new.signed_day
    for other in apart:  # two spellings that ICE used in turns, never together, with one SIGNED day
        old = other.newest
        if day and old.model == new.model and other.signed_days == later.signed_days == {day} and _alike(normalized(old.agency), normalized(new.agency)):
            return other, f"re-spelled: ICE listed {old.agency!r} ({old.listing_id}) and {new.agency!r} in turns, never in one edition, both SIGNED {day}"
    adjacent = [g for g in before if g.after_last == later.first]
    day = new.signed_day
    renamed = [g for g in adjacent if g.newest.model == new.model and day and g.signed_days == {day}
               and _county(g.newest) == _county(new)]
    newcomers = [g for g in everyone if g.first == later.first and g.oldest.model == new.model and g.oldest.signed_day == day
                 and _county(g.oldest) == _county(new)]
    if len(renamed) == 1 and len(newcomers) == 1:
        old = renamed[0].newest
        return renamed[0], (f"renamed: {old.agency!r} ({old.listing_id}) left the list in the edition where {new.agency!r} appeared, "
                            f"with the same COUNTY and SIGNED {day}")
    remodelled = [g for g in adjacent if g.newest.model != new.model and day and g.signed_days == {day}
                  and normalized(g.newest.agency) == normalized(new.agency)]
    if len(remodelled) == 1:
        old = remodelled[0].newest
        return remodelled[0], (f"model corrected: ICE listed {old.agency!r} under {old.model} ({old.listing_id}) until the edition "
                               f"that lists it under {new.model}, with the same SIGNED {day}")
    return None, ""


def _county(listing: Listing) -> str:
    return "" if listing.county.upper() in NO_COUNTY else listing.county.casefold()


def _alike(one: str, other: str) -> bool:
    short, long = sorted((one, other), key=len)
    if len(short) >= SHORTEST_CUT and (long.startswith(short) or long.endswith(f" {short}")):
        return True  # cut short, or the state's name put before it ("Department of Corrections")
    return SequenceMatcher(None, one, other).ratio() >= ALIKE


def joined(groups: list, joins: dict[str, tuple[str, str]], reasons: dict[str, str], what: str) -> list:
    """A curator's `join`: the listing goes to the other listing's group (its agreement or facility:
    `what`), or confirms that it is there. Groups have `members`, `add` and `remove`."""
    for listing, (other, note) in joins.items():
        home = next((g for g in groups if any(m.listing_id == listing for m in g.members)), None)
        target = next((g for g in groups if any(m.listing_id == other for m in g.members)), None)
        if home is None or target is None:
            continue
        if home is target:
            reasons[listing] = f"{reasons.get(listing) or 'the same ' + what} (confirmed by a curator: {note})"
            continue
        moved = next(m for m in home.members if m.listing_id == listing)
        home.remove(moved)
        target.add([moved])
        reasons[listing] = f"joined to {other}'s {what} by a curator ({note})"
        if not home.members:
            groups.remove(home)
    return groups


def decisions_of(project, file: str = DECISIONS_FILE) -> dict:
    """A curator's decisions in `file` (imports/ice-287g-agreements.yaml): {"join": {listing: (other, note)},
    "separate": {listing: note}}."""
    from ..problems import Problem, ProblemError
    from .curated import curated_list

    entries = curated_list(project, file, "decisions", "decisions (- listing_id: ...)")
    found: dict = {"join": {}, "separate": {}}
    for index, entry in enumerate(entries or []):
        keys = set(entry) if isinstance(entry, dict) else set()
        complete = isinstance(entry, dict) and entry.get("listing_id") and entry.get("note") and (
            (entry.get("join") and "separate" not in keys) or (entry.get("separate") == "yes" and "join" not in keys))
        if not complete or keys - {"listing_id", "join", "separate", "note"}:
            raise ProblemError([Problem(file, entries.lines[index], f"decisions[{index}]",
                                        "needs listing_id, note, and either join (another listing id) or separate: 'yes'")])
        if entry.get("join"):
            found["join"][entry["listing_id"]] = (entry["join"], entry["note"])
        else:
            found["separate"][entry["listing_id"]] = entry["note"]
    return found
