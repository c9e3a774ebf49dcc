"""Summaries of the validated tables for people: counts (`etl stats`) and one jurisdiction's
timeline with its sources (`etl show`)."""

from __future__ import annotations

from collections import Counter

from .derived import ENDING
from .tables import Table

BREAKDOWNS = {"state": "jurisdiction's state", "year": "year", "action": "action", "arrangement": "arrangement", "initiated_by": "initiating level"}


def stats(tables: dict[str, Table]) -> dict:
    actions = tables["actions"].rows
    state_of = {row["jurisdiction_id"]: row["state"] for row in tables["jurisdictions"].rows}
    sources_per_action = Counter(row["action_id"] for row in tables["citations"].rows)
    total = len(actions)
    by = {
        "state": Counter(state_of[a["jurisdiction_id"]] for a in actions),
        "year": Counter(str((a["date_start"] or a["date_end"]).year) for a in actions),
        "action": Counter(a["action"] for a in actions),
        "arrangement": Counter(a["arrangement"] for a in actions),
        "initiated_by": Counter(a["initiated_by"] for a in actions),
    }
    return {
        "jurisdictions": len(tables["jurisdictions"].rows),
        "jurisdictions_with_actions": len({a["jurisdiction_id"] for a in actions}),
        "actions": total,
        "sources": len(tables["sources"].rows),
        "citations": len(tables["citations"].rows),
        "share_day_precise": _share(sum(a["date_precision"] == "day" for a in actions), total),
        "share_multi_source": _share(sum(sources_per_action[a["action_id"]] > 1 for a in actions), total),
        "share_date_disputed": _share(sum(a["date_disputed"] for a in actions), total),
        "by": {name: dict(sorted(counter.items(), key=lambda item: (-item[1], item[0]))) for name, counter in by.items()},
        "stories": stories(tables),
        "ice_287g": {
            "editions": len(tables["editions_287g"].rows), "listings": len(tables["listings_287g"].rows),
            "agreements": dict(sorted(Counter(a["status"] for a in tables["agreements_287g"].rows).items())),
        },
        "ice_detention": {
            "editions": len(tables["editions_detention"].rows), "listings": len(tables["detention_listings"].rows),
            "facilities": dict(sorted(Counter(f["status"] for f in tables["detention_facilities"].rows).items())),
            "by_arrangement": dict(sorted(Counter(f["arrangement"] or "none (private, federal or undefined type)"
                                                  for f in tables["detention_facilities"].rows).items())),
            "with_jurisdiction": sum(bool(f["jurisdiction_id"]) for f in tables["detention_facilities"].rows),
            "disagreements": dict(sorted(Counter(r["kind"] for r in tables["detention_consistency"].rows).items())),
        },
    }


DETENTION = ("igsa_detention", "usms_rider")
BEFORE_EFFECT = ("announced", "approved", "notice_given")
NO_SOURCE = "no source read gives"  # the words a curator's note uses when no source says when an ending took effect


def stories(tables: dict[str, Table]) -> dict:
    """How complete the curated stories are: the targets of the coverage statement in the README."""
    actions, links = tables["actions"].rows, tables["action_links"].rows
    kind_of = {row["jurisdiction_id"]: row["kind"] for row in tables["jurisdictions"].rows}
    prompting = {link["related_action_id"] for link in links if link["relation"] == "prompted_by"}
    protests = [a for a in actions if a["action"] == "protest"]
    left = [a for a in tables["agreements_287g"].rows if a["not_listed_from"]]
    # an ending linked to an agreement explains its absence at any stage (an announced withdrawal too)
    ending = {a["agreement_id"] for a in actions if a["agreement_id"] and a["action"] in ENDING}
    stopped = _endings_before_effect(actions)
    return {
        "states_with_actions": len({a["jurisdiction_id"] for a in actions if kind_of[a["jurisdiction_id"]] == "state"}),
        "protests": len(protests),
        "protests_linked": sum(a["action_id"] in prompting for a in protests),
        "links": dict(sorted(Counter(link["relation"] for link in links).items())),
        "detention_endings_not_in_effect": sorted(stopped),
        "detention_endings_without_note": sorted(jid for jid, action in stopped.items() if NO_SOURCE not in (action["notes"] or "").lower()),
        "agreements_left_list": len(left),
        "agreements_left_list_explained": sum(bool(a["ended_action_id"]) or a["agreement_id"] in ending for a in left),
    }


def _endings_phrase(told: dict) -> str:
    """The detention endings that stop before they took effect, and those without a note, for people."""
    stopped, silent = told["detention_endings_not_in_effect"], told["detention_endings_without_note"]
    return (f"detention endings whose latest step is before it took effect: {len(stopped)}" + (f" ({', '.join(stopped)})" if stopped else "")
            + f"; of them without a note that no source read gives the day: {len(silent)}" + (f" ({', '.join(silent)})" if silent else ""))


def _endings_before_effect(actions: list[dict]) -> dict[str, dict]:
    """Jurisdictions whose latest detention ending stops before it took effect (announced, approved or
    notice given), with no in-effect ending or later re-entry, and that ending: each needs an action
    or a note saying that no source read gives the day (`NO_SOURCE` in its notes)."""
    latest: dict[tuple, dict] = {}
    for a in actions:
        if a["arrangement"] in DETENTION and a["action"] in ("terminate", "enter", "reinstate", "renew"):
            key = (a["jurisdiction_id"], a["arrangement"])
            if key not in latest or (a["date_end"], a["stage"] == "in_effect") >= (latest[key]["date_end"], latest[key]["stage"] == "in_effect"):
                latest[key] = a
    return {jid: a for (jid, _), a in sorted(latest.items()) if a["action"] == "terminate" and a["stage"] in BEFORE_EFFECT}


ARRANGEMENT_GROUPS = {  # the README's coverage table counts curated actions by these groups of `arrangement`
    "jail detention contracts": ("igsa_detention", "usms_rider", "immigration_detention"),
    "287(g) agreements and the campaigns around them": ("287g_jail_enforcement", "287g_task_force", "287g_warrant_service_officer", "287g_model_unspecified"),
    "detainer and cooperation policies and state laws": ("detainer_policy", "cooperation_policy", "task_force_mou"),
    "data sharing": ("arrest_data_sharing", "lpr_data_sharing"),
}
SOURCE_KINDS = {"news": "news", "republished": "republished copies", "government": "government", "advocacy": "advocacy",
                "legal": "legal", "press_release": "press releases", "dataset": "datasets", "blog": "blogs", "other": "other"}


def coverage_markdown(tables: dict[str, Table]) -> str:
    """The README's coverage table and the completeness of the stories, from the published tables."""
    summary = stats(tables)
    actions, sources = tables["actions"].rows, {s["source_id"]: s for s in tables["sources"].rows}
    state_of = {row["jurisdiction_id"]: row["state"] for row in tables["jurisdictions"].rows}
    cited = {c["source_id"] for c in tables["citations"].rows}
    kinds = Counter("ICE editions" if sources[s]["edition_of"] else SOURCE_KINDS[sources[s]["kind"]] for s in cited)
    arrangements = summary["by"]["arrangement"]
    groups = ", ".join(f"{name} ({sum(arrangements.get(v, 0) for v in values)})" for name, values in ARRANGEMENT_GROUPS.items())
    latest = max((a["date_end"] for a in actions), default=None)
    editions = sorted(e["published"] for e in tables["editions_287g"].rows)
    agreements = summary["ice_287g"]["agreements"]
    held = tables["editions_detention"].rows
    data_dates = sorted(e["data_date"] for e in held)
    last_held = max(held, key=lambda e: e["data_date"]) if held else None
    told = summary["stories"]
    rows = [
        "| layer | what | coverage | as of |",
        "|---|---|---|---|",
        f"| curated actions | {len(actions):,} dated actions (decisions, notices, changes in effect, protests) in "
        f"{summary['jurisdictions_with_actions']:,} jurisdictions of {_states_and_dc({state_of[a['jurisdiction_id']] for a in actions})}, "
        f"with {len(tables['citations'].rows):,} citations of {len(cited):,} sources ("
        + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items(), key=lambda item: (-item[1], item[0]))) + ") "
        f"| by arrangement: {groups} | the latest action is of {latest} |",
        f"| ICE's 287(g) lists | every edition archived, participating and pending: {len(editions)} editions, "
        f"{len(tables['listings_287g'].rows):,} distinct rows, {sum(agreements.values()):,} agreements "
        f"| from the edition of {editions[0] if editions else '-'} to that of {editions[-1] if editions else '-'}; "
        f"{agreements.get('listed', 0):,} agreements in the latest edition | edition of {editions[-1] if editions else '-'} |",
        f"| ICE's detention statistics | every facility of {len(held)} editions: {len(tables['detention_facilities'].rows)} facilities, "
        f"with each edition's population figures | data pulled from {data_dates[0] if held else '-'} to {data_dates[-1] if held else '-'}; "
        f"{last_held['facilities'] if last_held else 0} facilities in the latest edition | data of {data_dates[-1] if held else '-'} |",
        "",
        "How complete the stories are (`etl stats` prints the same numbers):",
        "",
        f"- state-level actions (laws, executive orders, rulings) in {told['states_with_actions']} of the 50 states and DC;",
        f"- {told['protests']} protests and campaigns, {told['protests_linked']} of them linked to a decision a source says they prompted;",
        "- links between actions: " + ", ".join(f"{relation.replace('_', ' ')} {n}" for relation, n in told["links"].items()) + ";",
        f"- 287(g) agreements that left ICE's list: {told['agreements_left_list']}, of which a curated action explains "
        f"{told['agreements_left_list_explained']};",
        f"- {_endings_phrase(told)}.",
    ]
    return "\n".join(rows) + "\n"


TERRITORIES = ("AS", "GU", "MP", "PR", "VI")  # the survey covers the 50 states and DC


def _states_and_dc(codes: set[str]) -> str:
    states = len(codes - {"DC"})
    return f"{states} states" + (" and DC" if "DC" in codes else "")


def survey_markdown(tables: dict[str, Table]) -> str:
    """The README's state-law survey: for the 50 states and DC, the state-level actions recorded and
    how the state's laws were searched (`jurisdictions.law_survey`)."""
    from . import reference

    states = {row["state"]: row for row in tables["jurisdictions"].rows if row["kind"] == "state"}
    state_of = {row["jurisdiction_id"]: usps for usps, row in states.items()}
    by_state: dict[str, list[dict]] = {}
    for a in tables["actions"].rows:
        if a["jurisdiction_id"] in state_of:
            by_state.setdefault(state_of[a["jurisdiction_id"]], []).append(a)
    names = {usps: name for usps, name in {**reference.state_names_by_usps(), "DC": "District of Columbia"}.items()  # the Census list writes D.C.
             if usps not in TERRITORIES}
    surveys = {usps: " ".join(((states.get(usps) or {}).get("law_survey") or "").split()) for usps in names}
    common = _common_first_sentence(list(surveys.values()))
    rows = [f"Every state: {common}", ""] if common else []
    rows += ["| state | state-level actions recorded | how its laws were searched, and what was found |", "|---|---|---|"]
    for usps, name in sorted(names.items(), key=lambda item: item[1]):
        found = by_state.get(usps, [])
        years = sorted({str((a["date_start"] or a["date_end"]).year) for a in found})
        recorded = f"{len(found)} ({years[0]}-{years[-1]})" if len(years) > 1 else f"{len(found)} ({years[0]})" if years else "none"
        survey = surveys[usps].removeprefix(common).strip() if common else surveys[usps]
        rows.append(f"| {name} | {recorded} | {survey or 'not yet surveyed'} |")
    return "\n".join(rows) + "\n"


def _common_first_sentence(texts: list[str]) -> str:
    """The first sentence, when every text starts with the same one (said once above the table)."""
    firsts = {text.split(". ", 1)[0] + "." for text in texts if ". " in text}
    return firsts.pop() if len(firsts) == 1 and all(". " in text for text in texts) else ""


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def stats_text(summary: dict) -> str:
    lines = [
        f"{summary['jurisdictions']} jurisdictions ({summary['jurisdictions_with_actions']} with actions), "
        f"{summary['actions']} curated actions, {summary['sources']} sources, {summary['citations']} citations",
        f"actions dated to the day: {summary['share_day_precise']:.1%}",
        f"actions with more than one source: {summary['share_multi_source']:.1%}",
        f"actions whose date a source disputes: {summary['share_date_disputed']:.1%}",
    ]
    told = summary["stories"]
    lines.append(f"stories: state-level actions in {told['states_with_actions']} states; {told['protests']} protests, "
                 f"{told['protests_linked']} linked to a decision they prompted; links "
                 + ", ".join(f"{relation} {count}" for relation, count in told["links"].items()))
    lines.append(f"287(g) agreements no longer listed: {told['agreements_left_list']}, of which a curated action explains "
                 f"{told['agreements_left_list_explained']}")
    lines.append(_endings_phrase(told))
    ice = summary["ice_287g"]
    lines.append(f"ICE's 287(g) lists: {ice['editions']} editions, {ice['listings']} listings, agreements "
                 + ", ".join(f"{status} {count}" for status, count in ice["agreements"].items()))
    held = summary["ice_detention"]
    lines.append(f"ICE's detention facility lists: {held['editions']} editions, {held['listings']} listings, facilities "
                 + ", ".join(f"{status} {count}" for status, count in held["facilities"].items())
                 + f"; {held['with_jurisdiction']} with a jurisdiction; by arrangement "
                 + ", ".join(f"{kind} {count}" for kind, count in held["by_arrangement"].items())
                 + "; curated actions that disagree with them: " + (", ".join(f"{k} {n}" for k, n in held["disagreements"].items()) or "none"))
    for name, counts in summary["by"].items():
        ordered = sorted(counts.items()) if name == "year" else counts.items()
        lines.append(f"\nactions by {BREAKDOWNS[name]}:")
        lines.extend(f"  {key:<32} {count:>6}" for key, count in ordered)
    return "\n".join(lines)


def timeline_text(record: dict) -> str:
    """A jurisdiction's record (see `records`) for people: its curated actions, then ICE's lists."""
    lines = [_heading(record["jurisdiction"])]
    for action in record["actions"]:
        lines += ["", *_action_lines(action)]
    if not record["actions"]:
        lines.append("(no curated actions recorded)")
    if record["agreements_287g"]:
        lines += ["", "In ICE's 287(g) lists (agreements_287g):"]
        lines += [_agreement_line(agreement) for agreement in record["agreements_287g"]]
    return "\n".join(lines + _facility_lines(record))


def _facility_lines(record: dict) -> list[str]:
    """The jurisdiction's facilities in ICE's detention lists, each with its runs (type, editions), and
    where its curated actions disagree with them."""
    if not record["detention_facilities"]:
        return []
    lines = ["", "In ICE's detention statistics (detention_facilities):"]
    for f in record["detention_facilities"]:
        status = "listed in the latest edition" if f["status"] == "listed" else f"not listed from {f['not_listed_from']}"
        lines.append(f"  {f['name']}, {f['city']}: {f['type_detailed']} ({f['arrangement'] or 'no local arrangement'}); "
                     f"listed {f['first_listed']} to {f['last_listed']} in {f['editions']} editions; {status}  [{f['facility_id']}]")
        lines += [f"    {r['type_detailed']} from {r['from']}" + (f" until {r['until']}" if r["until"] else "") + f" ({r['editions']} editions)"
                  for r in f["runs"]]
    if record["detention_consistency"]:
        lines += ["", "Where its curated actions and ICE's lists disagree (detention_consistency):"]
        lines += [f"  {r['kind']}: {r['action_id']} ({r['action_says']}); ICE: {r['ice_says']}" for r in record["detention_consistency"]]
    return lines


def _agreement_line(a: dict) -> str:
    signed = f"SIGNED {a['signed']}" + (" (ICE gave other dates too)" if a["signed_disputed"] else "") if a["signed"] else "no SIGNED day"
    status = {"listed": "listed in the latest edition", "ended": f"ended {a['ended'] or '(date not known)'} ({a['ended_action_id']})",
              "no_longer_listed": f"no longer listed from {a['not_listed_from']}"}[a["status"]]
    return (f"  {a['agency']}, {a['model']}, {signed}: listed {a['first_listed']} to {a['last_listed']} "
            f"in {a['editions']} editions; {status}  [{a['agreement_id']}]")


def _heading(j: dict) -> str:
    codes = ", ".join(f"{k} {j[k]}" for k in ("state_fips", "county_fips", "place_geoid") if j[k])
    return f"{j['name']} ({j['kind'].replace('_', ' ')}, {j['state']}) [{j['jurisdiction_id']}]\n{codes}; {j['ocd_id']}"


def _action_lines(action: dict) -> list[str]:
    disputed = "  [date disputed]" if action["date_disputed"] else ""
    lines = [
        f"{action['date']} ({action['date_precision']}){disputed}  {action['action']} / {action['stage']}  "
        f"{action['arrangement']}  [{action['action_id']}]",
        f"  {action['summary']}",
        f"  by {action['actor_name']} ({action['actor_role'].replace('_', ' ')}; {action['initiated_by']})",
    ]
    if action["notes"]:
        lines.append(f"  notes: {action['notes']}")
    lines += [f"  {link['relation'].replace('_', ' ')} {link['related_action_id']}" for link in action["links"]]
    for citation in action["citations"]:
        lines += _citation_lines(citation, citation["source"])
    return lines


def _citation_lines(citation: dict, source: dict) -> list[str]:
    title = f" \"{source['title']}\"" if source["title"] else ""
    stated = f" (gives the date as {citation['date_stated']})" if citation["date_stated"] else ""
    return [
        f"  - {source['publisher']}{title}, {source['published'] or 'undated'} ({source['kind']}){stated}",
        f"    {source['url']}",
        f"    claim: {citation['claim']}",
        f"    where: {citation['locator']}",
    ]


# -- finding a jurisdiction, and its whole record as data -----------------------------------------------

def find_jurisdictions(tables: dict[str, Table], query: str) -> list[dict]:
    """The jurisdictions `query` names: its id, its id without the state (`hudson-county`), or its name
    (`Hudson County`, any case; with the state as `Hudson County, NJ`); else every jurisdiction whose
    name or id contains it (`hudson`). Several when it is ambiguous."""
    from .scaffold import slugify

    rows = tables["jurisdictions"].rows
    wanted = query.strip().casefold()
    exact = [j for j in rows if j["jurisdiction_id"] == wanted]
    if exact:
        return exact
    name, _, state = wanted.rpartition(",") if "," in wanted else (wanted, "", "")
    slug, state = slugify(name), state.strip().upper()
    in_state = [j for j in rows if not state or j["state"] == state]
    whole = [j for j in in_state if j["jurisdiction_id"].split("-", 1)[1] == slug or slugify(j["name"]) == slug]
    if whole or not slug:
        return whole
    return [j for j in in_state if slug in j["jurisdiction_id"] or slug in slugify(j["name"])]  # part of a name or id: every match


def suggestions(tables: dict[str, Table], query: str, count: int = 5) -> list[str]:
    """Ids of jurisdictions whose names are close to `query`, for a query that names none."""
    from difflib import get_close_matches

    from .scaffold import slugify

    by_slug: dict[str, list[str]] = {}
    for j in tables["jurisdictions"].rows:
        by_slug.setdefault(slugify(j["name"]), []).append(j["jurisdiction_id"])
        by_slug.setdefault(j["jurisdiction_id"], []).append(j["jurisdiction_id"])
    close = get_close_matches(slugify(query), list(by_slug), n=count, cutoff=0.75)
    return list(dict.fromkeys(jid for slug in close for jid in by_slug[slug]))[:count]


def record_of(tables: dict[str, Table], jurisdiction_id: str) -> dict:
    """Everything published about one jurisdiction, as plain data (see `records`)."""
    return records(tables, {jurisdiction_id})[jurisdiction_id]


def records(tables: dict[str, Table], wanted: set[str] | None = None) -> dict[str, dict]:
    """Everything published about each jurisdiction (all, or those `wanted`), as plain data, in one
    pass over the tables: its row, its curated actions in date order (each with its links and
    citations, each citation with its source), its 287(g) agreements, its detention facilities with
    their runs, and where its actions and ICE's lists disagree."""
    def by(table: str, key: str, rows=None) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        for row in rows if rows is not None else tables[table].rows:
            found.setdefault(row[key], []).append(row)
        return found

    sources = {s["source_id"]: s for s in tables["sources"].rows}
    links, citations = by("action_links", "action_id"), by("citations", "action_id")
    runs = by("detention_facility_runs", "facility_id")
    actions, agreements = by("actions", "jurisdiction_id"), by("agreements_287g", "jurisdiction_id")
    facilities, disagreements = by("detention_facilities", "jurisdiction_id"), by("detention_consistency", "jurisdiction_id")
    result = {}
    for j in tables["jurisdictions"].rows:
        jid = j["jurisdiction_id"]
        if wanted is not None and jid not in wanted:
            continue
        result[jid] = {
            "jurisdiction": j,
            "actions": [{**a, "links": links.get(a["action_id"], []),
                         "citations": [{**c, "source": sources.get(c["source_id"])} for c in citations.get(a["action_id"], [])]}
                        for a in sorted(actions.get(jid, []), key=lambda a: (a["date_end"], a["date_start"] or a["date_end"], a["action_id"]))],
            "agreements_287g": sorted(agreements.get(jid, []), key=lambda a: (a["first_listed"], a["agreement_id"])),
            "detention_facilities": [{**f, "runs": sorted(runs.get(f["facility_id"], []), key=lambda r: r["from"])}
                                     for f in sorted(facilities.get(jid, []), key=lambda f: (f["first_listed"], f["facility_id"]))],
            "detention_consistency": disagreements.get(jid, []),
        }
    return result
