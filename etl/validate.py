"""Checks the tables: pandera for each table's fields (generated from `schemas/`), then the rules that
span fields, rows and tables. Every failure becomes a Problem pointing at the raw file and line."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache
from typing import Any

import pyarrow as pa

from . import arrow_ops as ops
from . import dates, reference
from .frames import Frame
from .load import CONTROL_CHARACTERS, character_name
from .problems import Problem
from .schema import Field, Nested, Schemas, TableSchema, anchored_pattern
from .tables import Table

STATE_KIND = "state"
COUNTY_KINDS = ("county", "parish", "independent_city", "consolidated_city_county")  # each is, or has, a county
NAMED_AS_CENSUS = {  # kinds whose name is the Census name of their county_fips (given a jurisdiction's name)
    "county": lambda name: name, "parish": lambda name: name, "independent_city": lambda name: f"{name} city",
}


def ocd_slug(name: str, kind: str) -> str:
    """The last part of a county's or parish's OCD id, from its name: `St. Mary's County` -> `st_mary~s`,
    `Doña Ana County` -> `dona_ana` (compared with the id's accents dropped: the registry writes `doña_ana`)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return plain.lower().removesuffix(f" {kind}").replace(".", "").replace("'", "~").replace(" ", "_")


def check_rows(schemas: Schemas, tables: dict[str, Table], frames: dict[str, Frame], today: dt.date) -> list[Problem]:
    """The problems each row has on its own: checked again only when its raw file changes."""
    problems: list[Problem] = []
    for frame in frames.values():
        problems += check_fields(frame, across=False)
    problems += check_geography(tables["jurisdictions"])
    problems += check_paths(schemas, tables)
    problems += check_dates(tables, today)
    return problems


def check_across(schemas: Schemas, frames: dict[str, Frame], complete: bool = True) -> list[Problem]:
    """The problems between rows and tables, over every row. When some raw files could not be read
    (`complete` false), references between tables are not checked: a missing file would make every
    reference to it look wrong."""
    problems: list[Problem] = []
    for frame in frames.values():
        problems += check_fields(frame, each=False)
    if complete:
        problems += check_references(schemas, frames)
    return problems


# -- Field checks with pandera ---------------------------------------------------------------------

REQUIRED, UNIQUE, KEY = "required", "unique", "key"
_SEPARATOR = "\x1f"  # between a field and a rule in the name of a verdict column


def check_fields(frame: Frame, each: bool = True, across: bool = True) -> list[Problem]:
    """pandera's checks of the frame's fields: those of `each` value on its own, and those `across`
    rows (unique ids and keys). Where a row fails, which rules it broke is worked out afterwards."""
    if not len(frame):
        return []
    import pandera.polars as pa
    import polars as pl

    schema = pandera_schema(frame.schema, each, across)
    data = pl.DataFrame(frame.arrow.select(list(schema.columns)))
    try:
        schema.validate(data, lazy=True)
    except pa.errors.SchemaErrors as errors:
        checks = set(errors.failure_cases.get_column("check").to_list())
        if checks != {RULES_CHECK}:  # a check that could not run must never pass for one that found nothing
            raise RuntimeError(f"pandera could not check {frame.name}: {sorted(map(str, checks))}") from errors
        return _problems_of_verdicts(frame, data.select(verdicts(frame.schema, each, across)))
    return []


RULES_CHECK = "rules from schemas/"


@cache
def pandera_schema(table: TableSchema, each: bool = True, across: bool = True) -> Any:
    """The pandera schema of a table's checks `each` and `across` (see check_fields): its columns, and
    one check that every field's rules hold in every row.

    The rules are one check over the whole table, which answers for the table as a whole, because
    pandera runs each check, and each column's null and uniqueness tests, as a pass of its own and
    post-processes row-by-row results: one pass with one answer makes a check of a few changed rows
    cost a sixth as much. Failures are rare; which rows broke which rules is worked out after."""
    import pandera.polars as pa
    import polars as pl

    columns = {
        spec.name: pa.Column(pl.Boolean if each and spec.type == "boolean" else None, nullable=True)
        for spec in table.fields if each or spec.unique or spec.name in table.primary_key
    }

    rules = verdicts(table, each, across)

    def rules_hold(data: Any) -> bool:  # one answer for the table: pandera's row-by-row output costs more than the rules
        return bool(data.lazyframe.select(pl.all_horizontal(rules).all()).collect().item())

    return pa.DataFrameSchema(columns, checks=[pa.Check(rules_hold, name=RULES_CHECK)], strict=True)


def verdicts(table: TableSchema, each: bool, across: bool) -> list[Any]:
    """One polars expression per field and rule, named FIELD<US>RULE: whether each row passes it."""
    import polars as pl

    found = []
    for spec in table.fields:
        column = pl.col(spec.name)
        if each:
            found += [(column.is_null() | rule(column)).alias(spec.name + _SEPARATOR + kind) for kind, rule in value_rules(spec)]
            if spec.required and not spec.derived:  # a derived value is missing only where a problem was reported
                found.append(column.is_not_null().alias(spec.name + _SEPARATOR + REQUIRED))
        if across and spec.unique:
            found.append((column.is_null() | ~column.is_duplicated()).alias(spec.name + _SEPARATOR + UNIQUE))
    if across and len(table.primary_key) > 1:
        found.append((~pl.struct(list(table.primary_key)).is_duplicated()).alias(table.primary_key[0] + _SEPARATOR + KEY))
    return found


def value_rules(spec: Field) -> list[tuple[str, Any]]:
    """A field's rules about each value, from its schema: plain text, pattern, vocabulary, length."""
    rules: list[tuple[str, Any]] = []
    if spec.type == "string":
        not_plain = NOT_PLAIN_LINES if spec.multiline else NOT_PLAIN
        rules.append(("text", lambda column: ~column.str.contains(not_plain)))
    if spec.pattern is not None:
        pattern = anchored_pattern(spec.pattern)
        rules.append(("pattern", lambda column: column.str.contains(pattern)))
    if spec.enum:
        allowed = list(spec.enum)
        rules.append(("enum", lambda column: column.is_in(allowed)))
    if spec.min_length is not None or spec.max_length is not None:
        shortest, longest = spec.min_length or 0, spec.max_length or 2**31
        rules.append(("length", lambda column: column.str.len_chars().is_between(shortest, longest)))
    return rules


CONTROL = re.compile(CONTROL_CHARACTERS)
FORMULA = "=+-@"  # what a spreadsheet runs when a cell (or a line of one) starts with it
NOT_PLAIN = r"^$|^\s|\s$|^[=+\-@]|[\t\n]|" + CONTROL_CHARACTERS  # empty, spaced, a formula, a tab, a line break or control
NOT_PLAIN_LINES = r"^$|^\s|\s$|^[=+\-@]|\n[=+\-@]|\t|" + CONTROL_CHARACTERS  # the same, but line breaks allowed


def _problems_of_verdicts(frame: Frame, verdict: Any) -> list[Problem]:
    """The curator's messages for every rule that a row broke."""
    import polars as pl

    failing = verdict.with_row_index("_row").filter(~pl.all_horizontal(pl.exclude("_row")))
    problems = []
    for row in failing.iter_rows(named=True):
        index = row.pop("_row")
        broken = [name.split(_SEPARATOR) for name, passed in row.items() if not passed]
        problems += [problem for column, kind in broken for problem in _problems_of_failure(frame, column, kind, index)]
    return problems


def _problems_of_failure(frame: Frame, column: str, kind: str, index: int) -> list[Problem]:
    """The curator's message for one broken rule; none when another message already covers it."""
    where = frame.where(index)
    key = frame.schema.primary_key
    if kind == KEY:  # one message per repeated row, on its first key field
        row = {name: frame.arrow.column(name)[index].as_py() for name in key}
        listed = ", ".join(f"{name} {shown(value)}" for name, value in row.items())
        return [where.problem(key[0], f"repeats the {frame.name} row with {listed}; each may appear once")]
    if column in where.reported:
        return []
    value = frame.arrow.column(column)[index].as_py()
    if kind == REQUIRED:
        return [where.problem(column, "is required but missing or empty")]
    if kind == UNIQUE:
        return [where.problem(column, f"{shown(value)} is used more than once; {frame.name} ids must be unique ({_elsewhere(frame, column, value, index)})")]
    message = _rule_message(kind, frame.schema.field(column), value)
    return [where.problem(column, message)] if message else []


def _rule_message(kind: str, spec: Field, value: str) -> str | None:
    if kind == "text":
        return _text_message(value, spec)
    if kind == "pattern":
        return f"{shown(value)} {spec.invalid or 'does not have the required form'}"
    if kind == "enum":
        return f"{shown(value)} is not allowed (use one of: {', '.join(spec.enum or ())})"
    if not value:
        return None  # an empty text: the text check says so
    return f"is {len(value)} characters long (allowed: {spec.min_length or 0} to {spec.max_length if spec.max_length is not None else 'any number of'})"


def _text_message(value: str, spec: Field) -> str:
    if not value:
        return "is empty; write it" if spec.required else "is empty; leave the key out instead"
    if value != value.strip():
        return "has leading or trailing spaces; remove them"
    control = CONTROL.search(value) or re.search("\t" if spec.multiline else "[\t\n]", value)
    if control and control.group() == "\n":
        return "has a line break; only notes may hold several lines"
    if control:
        return f"has {character_name(control.group())}; remove it"
    if value[0] in FORMULA:
        return f"starts with {value[0]!r}, which a spreadsheet would run as a formula; reword it"
    line = next(line for line in value.split("\n") if line[:1] in tuple(FORMULA))
    return f"has a line that starts with {line[0]!r}, which a spreadsheet would run as a formula; reword it"


def _elsewhere(frame: Frame, column: str, value, index: int) -> str:
    same = ops.indices(ops.equal(frame.arrow.column(column), pa.scalar(value, frame.arrow.schema.field(column).type)))
    others = sorted((w.file, w.lines.get(column, w.line)) for w in (frame.where(i) for i in same if i != index))
    return "also at " + ", ".join(f"{file}:{line}" for file, line in others)


def well_formed(table: Table, field_name: str, value) -> bool:
    """True when `value` has its field's form, so that rules about its meaning are worth checking;
    a malformed value is reported once, by the field checks."""
    return table.schema.field(field_name).well_formed(value)


def shown(value) -> str:
    """A value as quoted in a message: in full when short, cut in the middle when long."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:50]}…{text[-20:]} ({len(value):,} characters)"


# -- Paths ----------------------------------------------------------------------------------------

def check_paths(schemas: Schemas, tables: dict[str, Table]) -> list[Problem]:
    """Each record with a file of its own lies where its layout puts its key."""
    problems = []
    for schema in schemas.file_tables:
        key_field, table = schema.primary_key[0], tables[schema.name]
        for row, where in zip(table.rows, table.where, strict=True):
            key = row[key_field]
            if key_field in where.reported or not well_formed(table, key_field, key):
                continue
            expected = schemas.layout_of(schema.name).path_for(key)
            if expected != where.file:
                problems.append(where.problem(key_field, f"{shown(key)} belongs in {expected}, not in {where.file}"))
    return problems


# -- References between tables ----------------------------------------------------------------------

def check_references(schemas: Schemas, frames: dict[str, Frame]) -> list[Problem]:
    """The schemas' foreign keys, lists that must not be empty, and rows that others must refer to."""
    problems = []
    for name, frame in frames.items():
        schema = schemas[name]
        for key in schema.foreign_keys:
            for index, value in _not_in(frame, key.fields[0], frames[key.resource], key.reference_fields[0]):
                message = key.invalid.format(value=value) if key.invalid else f"is not among {key.resource}.{key.reference_fields[0]}"
                problems.append(frame.where(index).problem(key.fields[0], f"{shown(value)} {message}"))
        if isinstance(schema.layout, Nested) and schema.layout.min_items:
            problems += _too_few(frames[schema.layout.parent], frame, schema.layout)
        if schema.referenced_by:
            referring = schema.referenced_by
            exempt = frame.arrow.column(referring.unless).to_pylist() if referring.unless else None
            for index, value in _not_in(frame, schema.primary_key[0], frames[referring.resource], referring.fields[0]):
                if not (exempt and exempt[index]):
                    problems.append(frame.where(index).problem(schema.primary_key[0], f"{shown(value)} {referring.invalid}"))
    return problems + _self_links(frames["action_links"]) + _link_problems(frames["actions"], frames["action_links"])


def _too_few(parents: Frame, children: Frame, layout: Nested) -> list[Problem]:
    counts = ops.value_counts(children.arrow.column(layout.parent_field)).to_pylist()
    enough = pa.array([c["values"] for c in counts if c["counts"] >= layout.min_items], type=pa.string())
    found = ops.without_nulls(ops.is_in(parents.arrow.column(layout.parent_field), enough, skip_nulls=False))
    problems = []
    for index in ops.indices(ops.invert(found)):
        where = parents.where(index)
        if layout.key not in where.reported:
            problems.append(where.problem(layout.key, layout.missing or f"needs at least {layout.min_items} {layout.key}"))
    return problems


BACKWARD = ("reverses", "carries_out", "prompted_by")  # relations whose related action came first


def _link_problems(actions: Frame, links: Frame) -> list[Problem]:
    """A reversal, a carrying out or a prompt names an action that came before (or at the same time),
    and links never go round in a circle. The dates of both ends are compared as whole columns."""
    if not len(links):
        return []
    ids = actions.arrow.column("action_id")
    own = ops.index_in(links.arrow.column("action_id"), ids)
    related = ops.index_in(links.arrow.column("related_action_id"), ids)
    own_start, own_end = (ops.take(actions.arrow.column(name), own) for name in ("date_start", "date_end"))
    related_start, related_end = (ops.take(actions.arrow.column(name), related) for name in ("date_start", "date_end"))
    backward = ops.is_in(links.arrow.column("relation"), pa.array(BACKWARD, pa.string()))
    problems = []
    for index in ops.indices(ops.and_(backward, ops.greater(related_start, own_end))):
        relation = links.arrow.column("relation")[index].as_py().replace("_", " ")
        target = links.arrow.column("related_action_id")[index].as_py()
        message = f"{shown(target)} is later than this action; a {relation} link names an earlier action"
        problems.append(links.where(index).problem("related_action_id", message))
    # a circle needs a link to an action that did not end before this one began: look only from those
    suspects = ops.indices(ops.invert(ops.without_nulls(ops.less(related_end, own_start))))
    return problems + (_cycles(links, suspects) if suspects else [])


def _cycles(links: Frame, suspects: list[int]) -> list[Problem]:
    """One problem for each link that closes a circle of links (A -> B -> A); every circle holds
    one of the `suspects` (a link that does not go back in time), so only those are followed."""
    sources, targets = links.arrow.column("action_id").to_pylist(), links.arrow.column("related_action_id").to_pylist()
    following: dict[str, list[str]] = {}
    for source, target in zip(sources, targets, strict=True):
        if source is not None and target is not None and source != target:  # a link to itself: _self_links says so
            following.setdefault(source, []).append(target)
    problems = []
    for index in suspects:
        start, first = sources[index], targets[index]
        path = _path(following, first, start)
        if start is not None and first is not None and start != first and path is not None:
            circle = " -> ".join([start, *path])
            problems.append(links.where(index).problem("related_action_id", f"closes a circle of links ({circle}); links name earlier actions"))
    return problems


def _path(following: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """Actions from `start` to `goal` along links, if there is such a way."""
    came_from: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        action = frontier.pop()
        if action == goal:
            steps = [action]
            while (previous := came_from[steps[-1]]) is not None:
                steps.append(previous)
            return steps[::-1]
        for target in following.get(action, []):
            if target not in came_from:
                came_from[target] = action
                frontier.append(target)
    return None


def _self_links(links: Frame) -> list[Problem]:
    same = ops.equal(links.arrow.column("related_action_id"), links.arrow.column("action_id"))
    return [links.where(index).problem("related_action_id", "links the action to itself; name an earlier action") for index in ops.indices(same)]


def _not_in(frame: Frame, column: str, other: Frame, other_column: str, nulls: bool = False) -> list[tuple[int, object]]:
    """(index, value) of the rows whose `column` is not among `other_column`'s values; empty values
    are skipped unless `nulls`."""
    values = frame.arrow.column(column)
    found = ops.is_in(values, ops.unique(other.arrow.column(other_column)), skip_nulls=False)
    if not nulls:
        found = ops.or_(found, ops.is_null(values))
    return [(i, values[i].as_py()) for i in ops.indices(ops.invert(found))]



# -- Geography ------------------------------------------------------------------------------------

def check_geography(jurisdictions: Table) -> list[Problem]:
    problems = []
    for row, where in zip(jurisdictions.rows, jurisdictions.where, strict=True):
        formed = {name: row[name] if well_formed(jurisdictions, name, row[name]) else None
                  for name in ("state", "state_fips", "county_fips", "place_geoid", "ocd_id", "name")}
        given = {name for name in ("county_fips", "ocd_id") if row[name]}
        problems += _geography_of({**row, **formed}, where, given) + _id_in_state(jurisdictions, row, where) + _survey_of(row, where)
    return problems


def _survey_of(row: dict, where) -> list[Problem]:
    """Only a state (or DC) says how its laws were searched."""
    if row["kind"] in (STATE_KIND, None) or not row.get("law_survey"):
        return []
    return [where.problem("law_survey", f"must be empty for a {row['kind'].replace('_', ' ')}: it says how a state's laws were searched")]


def _id_in_state(jurisdictions: Table, row: dict, where) -> list[Problem]:
    """A jurisdiction's id starts with its state's code (its file's path is checked after)."""
    jid, state = row["jurisdiction_id"], row["state"]
    if not well_formed(jurisdictions, "jurisdiction_id", jid) or state not in reference.state_fips_by_usps():
        return []
    if jid.startswith(f"{state.lower()}-"):
        return []
    where.reported.add("jurisdiction_id")
    return [where.problem("jurisdiction_id", f"{shown(jid)} must start with the state code {state.lower()!r} and a hyphen")]


def _geography_of(row: dict, where, given: set[str]) -> list[Problem]:
    """Codes that agree with the state; each code is checked only when it is well formed, and
    `given` names the codes written at all (a malformed one is reported, not missing)."""
    states = reference.state_fips_by_usps()
    state, state_fips, county, place = row["state"], row["state_fips"], row["county_fips"], row["place_geoid"]
    if state not in states:
        return [where.problem("state", f"{shown(state)} is not a USPS state code (e.g. VA, CA, DC, PR)")] if state else []
    expected = states[state]
    problems = []
    if state_fips and state_fips != expected:
        problems.append(where.problem("state_fips", f"{shown(state_fips)} is not the FIPS code of {state} (use {expected!r})"))
    if county and not county.startswith(expected):
        problems.append(where.problem("county_fips", f"{shown(county)} is not in {state} (a county there starts with {expected!r})"))
    elif county and not reference.is_county(county):
        problems.append(where.problem("county_fips", f"{shown(county)} is not a county in the Census county list"))
    if place and not place.startswith(expected):
        problems.append(where.problem("place_geoid", f"{shown(place)} is not in {state} (a place there starts with {expected!r})"))
    ocd_state = f"ocd-division/country:us/state:{state.lower()}"
    ocd = row["ocd_id"] or ""
    if ocd and not (ocd == ocd_state or ocd.startswith(ocd_state + "/")):
        problems.append(where.problem("ocd_id", f"{shown(ocd)} is not in {state} (it must start with {ocd_state!r})"))
    if row["kind"] == STATE_KIND and (county or place):
        problems.append(where.problem("county_fips" if county else "place_geoid", "must be empty for a state"))
    if row["kind"] == STATE_KIND and ocd and ocd != ocd_state:
        problems.append(where.problem("ocd_id", f"{shown(ocd)} is not a state's id (use {ocd_state!r})"))
    named = isinstance(row["name"], str) and not re.search(NOT_PLAIN, row["name"])  # else its field check says so
    census = reference.county_names().get(county) if county and not problems else None
    if named and census and row["kind"] in NAMED_AS_CENSUS and census != NAMED_AS_CENSUS[row["kind"]](row["name"]):
        problems.append(where.problem("county_fips", f"{shown(county)} is {census} in the Census list, not {row['name']}; fix the code or the name"))
    ocd_kind, _, ocd_name = ocd.rpartition("/")[2].partition(":")
    divisional = named and ocd.startswith(ocd_state + "/") and row["kind"] in ("county", "parish")
    slug = ocd_slug(row["name"], row["kind"]) if divisional else ""
    ocd_name = unicodedata.normalize("NFKD", ocd_name).encode("ascii", "ignore").decode()
    if divisional and (ocd_kind != row["kind"] or ocd_name not in (slug, slug.replace("_", ""))):  # the registry writes `lasalle` for La Salle
        expected = f"{row['kind']}:{ocd_slug(row['name'], row['kind'])}"
        problems.append(where.problem("ocd_id", f"{shown(ocd)} does not name {row['name']} (its last part would be {expected!r})"))
    if row["kind"] in COUNTY_KINDS and "county_fips" not in given:
        problems.append(where.problem("county_fips", f"is required for a {row['kind'].replace('_', ' ')}"))
    if "ocd_id" not in given and row["kind"] not in (None, "special_district"):
        problems.append(where.problem("ocd_id", f"is required for a {row['kind'].replace('_', ' ')} (only a special district has none)"))
    return problems


# -- Dates ------------------------------------------------------------------------------------------

def check_dates(tables: dict[str, Table], today: dt.date) -> list[Problem]:
    problems = []
    for row, where in zip(tables["actions"].rows, tables["actions"].where, strict=True):
        start, end = row["date_start"], row["date_end"]
        if start and end and start > end:
            problems.append(where.problem("date", f"{shown(row['date'])} ends before it starts"))
        elif end and dates.earliest_end(row["date"]) > today:
            problems.append(where.problem("date", _after_today(row["date"], today)))
    citations = tables["citations"]
    invalid = citations.schema.field("date_stated").invalid or "is not a date"
    for row, where in zip(citations.rows, citations.where, strict=True):
        problems += _stated_date_problems(row, where, invalid, today)
    for row, where in zip(tables["sources"].rows, tables["sources"].where, strict=True):
        problems += _source_date_problems(row, where, today)
    return problems


def latest_checked_dates(tables: dict[str, Table]) -> dict[str, dt.date]:
    """For each raw file, the latest of its dates that check_dates compares with today."""
    latest: dict[str, dt.date] = {}
    found = [(where.file, row["date_start"]) for row, where in zip(tables["actions"].rows, tables["actions"].where, strict=True)]
    found += [(where.file, row["date_end"]) for row, where in zip(tables["actions"].rows, tables["actions"].where, strict=True)]
    for row, where in zip(tables["sources"].rows, tables["sources"].where, strict=True):
        found += [(where.file, row["accessed"]), (where.file, _first_day(row["published"]))]
    for row, where in zip(tables["citations"].rows, tables["citations"].where, strict=True):
        found.append((where.file, _earliest_end(row["date_stated"])))
    for file, day in found:
        if day and (file not in latest or day > latest[file]):
            latest[file] = day
    return latest


def _after_today(text: str, today: dt.date) -> str:
    return f"{shown(text)} {'ends' if '/' in text else 'is'} after today ({today.isoformat()})"


def _earliest_end(stated: str | None) -> dt.date | None:
    try:
        return dates.earliest_end(stated) if stated else None
    except ValueError:
        return None  # reported where the table was built


def _first_day(published: str | None) -> dt.date | None:
    try:
        return dates.bounds(published)[1] if published else None
    except ValueError:
        return None  # reported where the table was built


def _stated_date_problems(row: dict, where, invalid: str, today: dt.date) -> list[Problem]:
    stated = row["date_stated"]
    if not stated:
        return []
    try:
        start, end = dates.bounds(stated)[1:]
    except ValueError:
        return [where.problem("date_stated", f"{shown(stated)} {invalid}")]
    if start and start > end:
        return [where.problem("date_stated", f"{shown(stated)} ends before it starts")]
    if dates.earliest_end(stated) > today:
        return [where.problem("date_stated", _after_today(stated, today))]
    return []


def _source_date_problems(row: dict, where, today: dt.date) -> list[Problem]:
    accessed, first_published = row["accessed"], _first_day(row["published"])
    problems = []
    if first_published and first_published > today:
        problems.append(where.problem("published", f"{shown(row['published'])} is after today ({today.isoformat()})"))
    if accessed and accessed > today:
        problems.append(where.problem("accessed", f"'{accessed.isoformat()}' is after today ({today.isoformat()})"))
    if accessed and first_published and first_published > accessed:
        problems.append(where.problem("published", f"{shown(row['published'])} is after the date accessed ({accessed.isoformat()})"))
    return problems
