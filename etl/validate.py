"""Checks the tables: pandera for each table's fields (generated from `schemas/`), then the rules that
span fields, rows and tables. Every failure becomes a Problem pointing at the raw file and line."""

from __future__ import annotations

import datetime as dt
import re

from . import dates, reference
from .problems import Problem
from .schema import TableSchema, enum_of, full_pattern
from .tables import Table

STATE_KIND = "state"
COUNTY_KINDS = ("county", "parish", "independent_city", "consolidated_city_county")  # each is, or has, a county


def validate(tables: dict[str, Table], today: dt.date | None = None, complete: bool = True) -> list[Problem]:
    """Every problem in the tables. When some raw files could not be read (`complete` false), references
    between tables are not checked: a missing file would make every reference to it look wrong."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    for table in tables.values():
        problems += check_fields(table)
    problems += check_paths(tables)
    if complete:
        problems += check_references(tables)
    problems += check_geography(tables["jurisdictions"])
    problems += check_dates(tables, today)
    return problems


# -- Field checks with pandera ---------------------------------------------------------------------

def check_fields(table: Table) -> list[Problem]:
    if not table.rows:
        return []
    import pandas as pd
    import pandera.pandas as pa

    schema, kinds = pandera_schema(table.schema)
    frame = pd.DataFrame(table.rows, columns=table.schema.field_names)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        problems = (_problem_of_failure(table, kinds, case) for case in cases.itertuples(index=False))
        return [problem for problem in problems if problem]
    return []


def pandera_schema(table: TableSchema):
    """The pandera schema of a table, and for each column the kind of each of its checks, in order."""
    import pandera.pandas as pa

    columns, kinds = {}, {}
    for spec in table.fields:
        constraints = spec.get("constraints", {})
        checks, names = [], []
        if spec["type"] == "string":
            checks.append(pa.Check(_plain_text, ignore_na=True))
            names.append("text")
        if "pattern" in constraints:
            checks.append(pa.Check.str_matches(full_pattern(constraints["pattern"])))
            names.append("pattern")
        if enum_of(spec):
            checks.append(pa.Check.isin(enum_of(spec)))
            names.append("enum")
        if "minLength" in constraints or "maxLength" in constraints:
            checks.append(pa.Check.str_length(constraints.get("minLength"), constraints.get("maxLength")))
            names.append("length")
        columns[spec["name"]] = pa.Column(
            bool if spec["type"] == "boolean" else None,
            checks=checks,
            nullable=not constraints.get("required", False),
            unique=constraints.get("unique", False),
        )
        kinds[spec["name"]] = names
    key = table.primary_key
    return pa.DataFrameSchema(columns, strict=True, unique=key if len(key) > 1 else None), kinds


CONTROL_CHARACTERS = "[\x00-\x08\x0b-\x1f\x7f]"  # YAML escapes can write these; tab and newline may stay
CONTROL = re.compile(CONTROL_CHARACTERS)
NOT_PLAIN = r"^$|^\s|\s$|^[=+\-@]|" + CONTROL_CHARACTERS  # empty, spaced, a spreadsheet formula, or control


def _plain_text(values):
    return ~values.str.contains(NOT_PLAIN, regex=True)


def _problem_of_failure(table: Table, kinds: dict, case) -> Problem | None:
    """The curator's message for one pandera failure; None when another message already covers it."""
    index = int(case.index)
    where = table.where[index]
    value = case.failure_case
    spec = table.schema.field(case.column)
    if case.column in where.reported:
        return None
    if case.check == "not_nullable":
        return None if spec.get("x-derived") else where.problem(case.column, "is required but missing or empty")
    if case.check == "field_uniqueness":
        return where.problem(case.column, f"{shown(value)} is used more than once; {table.name} ids must be unique ({_elsewhere(table, case.column, value, index)})")
    if case.check == "multiple_fields_uniqueness":
        if case.column != table.schema.primary_key[0]:
            return None  # one message per repeated row, on its first key field
        row = table.rows[index]
        key = ", ".join(f"{name} {shown(row[name])}" for name in table.schema.primary_key)
        return where.problem(case.column, f"repeats the {table.name} row with {key}; each may appear once")
    kind = kinds[case.column][int(case.check_number)]
    if kind == "text":
        return where.problem(case.column, _text_message(value, spec.get("constraints", {}).get("required", False)))
    if kind == "pattern":
        return where.problem(case.column, f"{shown(value)} {spec.get('x-invalid', 'does not have the required form')}")
    if kind == "enum":
        return where.problem(case.column, f"{shown(value)} is not allowed (use one of: {', '.join(enum_of(spec))})")
    if not value:
        return None  # an empty text: the text check says so
    constraints = spec["constraints"]
    return where.problem(
        case.column,
        f"is {len(value)} characters long (allowed: {constraints.get('minLength', 0)} to {constraints.get('maxLength', 'any number of')})",
    )


def _text_message(value: str, required: bool) -> str:
    if not value:
        return "is empty; write it" if required else "is empty; leave the key out instead"
    if value != value.strip():
        return "has leading or trailing spaces; remove them"
    control = CONTROL.search(value)
    if control:
        return f"has the control character U+{ord(control.group()):04X}; remove it"
    return f"starts with {value[0]!r}, which a spreadsheet would run as a formula; reword it"


def _elsewhere(table: Table, column: str, value, index: int) -> str:
    others = [w for i, (row, w) in enumerate(zip(table.rows, table.where)) if row[column] == value and i != index]
    return "also at " + ", ".join(f"{w.file}:{w.lines.get(column, w.line)}" for w in others)


def well_formed(table: Table, field_name: str, value) -> bool:
    """True when `value` has its field's form, so that rules about its meaning are worth checking;
    a malformed value is reported once, by the field checks."""
    constraints = table.schema.field(field_name).get("constraints", {})
    pattern, longest = constraints.get("pattern"), constraints.get("maxLength", float("inf"))
    return value is not None and len(value) <= longest and (pattern is None or re.match(full_pattern(pattern), value) is not None)


def shown(value) -> str:
    """A value as quoted in a message: in full when short, cut in the middle when long."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:50]}…{text[-20:]} ({len(value):,} characters)"


# -- Paths ----------------------------------------------------------------------------------------

def check_paths(tables: dict[str, Table]) -> list[Problem]:
    problems = []
    jurisdictions = tables["jurisdictions"]
    for row, where in zip(jurisdictions.rows, jurisdictions.where):
        jid, state = row["jurisdiction_id"], row["state"]
        if not well_formed(jurisdictions, "jurisdiction_id", jid) or state not in reference.state_fips_by_usps():
            continue
        expected = f"raw/jurisdictions/{state.lower()}/{jid[3:]}.yaml" if jid[:3] == f"{state.lower()}-" else None
        if expected is None:
            problems.append(where.problem("jurisdiction_id", f"{shown(jid)} must start with the state code {state.lower()!r} and a hyphen"))
        elif not where.file.endswith(expected):
            problems.append(where.problem("jurisdiction_id", f"{shown(jid)} belongs in {expected}, not in {where.file}"))
    for row, where in zip(tables["sources"].rows, tables["sources"].where):
        sid = row["source_id"]
        if well_formed(tables["sources"], "source_id", sid) and not where.file.endswith(f"raw/sources/{sid}.yaml"):
            problems.append(where.problem("source_id", f"{shown(sid)} belongs in raw/sources/{sid}.yaml, not in {where.file}"))
    return problems


# -- References between tables ----------------------------------------------------------------------

def check_references(tables: dict[str, Table]) -> list[Problem]:
    actions, citations, links, sources = (tables[name] for name in ("actions", "citations", "action_links", "sources"))
    action_ids = set(actions.column("action_id"))
    source_ids = set(sources.column("source_id"))
    cited_actions = set(citations.column("action_id"))
    cited_sources = set(citations.column("source_id"))
    problems = []
    for row, where in zip(citations.rows, citations.where):
        if row["source_id"] and row["source_id"] not in source_ids:
            problems.append(where.problem("source_id", f"{shown(row['source_id'])} is not a source (there is no raw/sources/{row['source_id']}.yaml)"))
    for row, where in zip(links.rows, links.where):
        target = row["related_action_id"]
        if target == row["action_id"]:
            problems.append(where.problem("related_action_id", "links the action to itself; name an earlier action"))
        elif target and target not in action_ids:
            problems.append(where.problem("related_action_id", f"{shown(target)} is not an action in the dataset"))
    for row, where in zip(actions.rows, actions.where):
        if row["action_id"] not in cited_actions and "citations" not in where.reported:
            problems.append(where.problem("citations", "has no citation; cite at least one source with a claim and a locator"))
    for row, where in zip(sources.rows, sources.where):
        if row["source_id"] and row["source_id"] not in cited_sources:
            problems.append(where.problem("source_id", f"{shown(row['source_id'])} is cited by no action; cite it or delete the file"))
    return problems


# -- Geography ------------------------------------------------------------------------------------

def check_geography(jurisdictions: Table) -> list[Problem]:
    problems = []
    for row, where in zip(jurisdictions.rows, jurisdictions.where):
        formed = {name: row[name] if well_formed(jurisdictions, name, row[name]) else None
                  for name in ("state", "state_fips", "county_fips", "place_geoid", "ocd_id")}
        given = {name for name in ("county_fips", "ocd_id") if row[name]}
        problems += _geography_of({**row, **formed}, where, given)
    return problems


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
    elif county and county not in reference.county_fips_codes():
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
    if row["kind"] in COUNTY_KINDS and "county_fips" not in given:
        problems.append(where.problem("county_fips", f"is required for a {row['kind'].replace('_', ' ')}"))
    if "ocd_id" not in given and row["kind"] not in (None, "special_district"):
        problems.append(where.problem("ocd_id", f"is required for a {row['kind'].replace('_', ' ')} (only a special district has none)"))
    return problems


# -- Dates ------------------------------------------------------------------------------------------

def check_dates(tables: dict[str, Table], today: dt.date) -> list[Problem]:
    problems = []
    for row, where in zip(tables["actions"].rows, tables["actions"].where):
        start, end = row["date_start"], row["date_end"]
        if start and end and start > end:
            problems.append(where.problem("date", f"{shown(row['date'])} ends before it starts"))
        elif (start or end) and (start or end) > today:
            problems.append(where.problem("date", f"{shown(row['date'])} is after today ({today.isoformat()})"))
    citations = tables["citations"]
    invalid = citations.schema.field("date_stated")["x-invalid"]
    for row, where in zip(citations.rows, citations.where):
        problems += _stated_date_problems(row, where, invalid)
    for row, where in zip(tables["sources"].rows, tables["sources"].where):
        problems += _source_date_problems(row, where, today)
    return problems


def _stated_date_problems(row: dict, where, invalid: str) -> list[Problem]:
    stated = row["date_stated"]
    if not stated:
        return []
    try:
        start, end = dates.bounds(stated)[1:]
    except ValueError:
        return [where.problem("date_stated", f"{shown(stated)} {invalid}")]
    return [where.problem("date_stated", f"{shown(stated)} ends before it starts")] if start and start > end else []


def _source_date_problems(row: dict, where, today: dt.date) -> list[Problem]:
    accessed = row["accessed"]
    try:
        first_published = dates.bounds(row["published"])[1] if row["published"] else None
    except ValueError:
        first_published = None  # reported where the table was built
    problems = []
    if first_published and first_published > today:
        problems.append(where.problem("published", f"{shown(row['published'])} is after today ({today.isoformat()})"))
    if accessed and accessed > today:
        problems.append(where.problem("accessed", f"'{accessed.isoformat()}' is after today ({today.isoformat()})"))
    if accessed and first_published and first_published > accessed:
        problems.append(where.problem("published", f"{shown(row['published'])} is after the date accessed ({accessed.isoformat()})"))
    return problems
