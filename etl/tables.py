"""Raw records -> the published tables, each row remembering where in `raw/` it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import dates
from .load import Mapping, RawFile, Sequence
from .problems import Problem
from .schema import Field, Nested, Schemas, TableSchema

NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")  # a number as raw files write it (never inf or nan)


@dataclass
class Where:
    """Where a row was written: its file, the line its record starts on, its path, and its keys' lines."""

    file: str
    line: int
    path: str
    lines: dict[str, int] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)  # fields already found wrong: later checks stay quiet

    def problem(self, field_name: str, message: str) -> Problem:
        path = f"{self.path}.{field_name}" if self.path else field_name
        return Problem(self.file, self.lines.get(field_name, self.line), path, message)


@dataclass
class Table:
    schema: TableSchema
    rows: list[dict] = field(default_factory=list)
    where: list[Where] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.schema.name

    def column(self, name: str) -> list:
        return [row[name] for row in self.rows]


def build_tables(schemas: Schemas, files: dict[str, list[RawFile]]):
    """Turn parsed raw files (by the table of their top-level record) into tables; return them with
    the problems of shape (unknown keys, text where a list belongs) and of value (dates that are no
    dates) found on the way."""
    builder = _Builder(schemas)
    for table in schemas.file_tables:
        for raw in files.get(table.name, []):
            builder.record(table.name, raw.data, Where(raw.name, raw.data.line, ""), parent=None)
    builder.derive()
    return builder.tables, builder.problems, builder.value_problems


def structure_problems(schemas: Schemas, table: str, raw: RawFile) -> list[Problem]:
    """Unknown keys and wrong shapes: what would lose data if the record were rewritten."""
    builder = _Builder(schemas)
    builder.record(table, raw.data, Where(raw.name, raw.data.line, ""), parent=None)
    return builder.problems


class _Builder:
    def __init__(self, schemas: Schemas):
        self.schemas = schemas
        self.tables = {name: Table(schema) for name, schema in schemas.tables.items()}
        self.problems: list[Problem] = []  # the record's shape
        self.value_problems: list[Problem] = []  # values that cannot be typed or derived

    def record(self, table_name: str, record: Mapping, where: Where, parent: tuple[str, str] | None) -> None:
        table = self.tables[table_name]
        where.lines = dict(record.lines)
        self._check_keys(table_name, record, where)
        row: dict[str, Any] = {name: None for name in table.schema.field_names}
        if parent:
            row[parent[0]] = parent[1]
        for spec in table.schema.raw_fields:
            row[spec.name] = self._value(spec, record.get(spec.name), where)
        table.rows.append(row)
        table.where.append(where)
        for child in self.schemas.children[table_name]:
            self._children(child, record, where, row)

    def _children(self, child: TableSchema, record: Mapping, where: Where, parent_row: dict) -> None:
        assert isinstance(child.layout, Nested)
        key = child.layout.key
        items = record.get(key)
        if items is None:
            return
        if not isinstance(items, Sequence):
            self.problems.append(where.problem(key, f"must be a list of records (- key: value), not {_kind(items)}"))
            where.reported.add(key)
            return
        parent_field = child.layout.parent_field
        for index, item in enumerate(items):
            path = f"{where.path}.{key}[{index}]" if where.path else f"{key}[{index}]"
            if not isinstance(item, Mapping):
                self.problems.append(Problem(where.file, items.lines[index], path, f"must be a record (key: value lines), not {_kind(item)}"))
                continue
            self.record(child.name, item, Where(where.file, item.line, path), (parent_field, parent_row[parent_field]))

    def _check_keys(self, table_name: str, record: Mapping, where: Where) -> None:
        allowed = self.schemas.raw_keys(table_name)
        for key in record:
            if key not in allowed:
                self.problems.append(where.problem(key, f"is not a known key (allowed: {', '.join(allowed)})"))

    def _value(self, spec: Field, value, where: Where):
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.append(where.problem(spec.name, f"must be text, not {_kind(value)}"))
            where.reported.add(spec.name)
            return None
        if spec.type == "integer":
            if value.isascii() and value.isdigit():
                return int(value)
            self.value_problems.append(where.problem(spec.name, f"{value!r} {spec.invalid or 'is not a whole number'}"))
            where.reported.add(spec.name)
            return None
        if spec.type == "number":
            if NUMBER.fullmatch(value):
                return float(value)
            self.value_problems.append(where.problem(spec.name, f"{value!r} {spec.invalid or 'is not a number'}"))
            where.reported.add(spec.name)
            return None
        if spec.type == "date":
            try:
                return dates.day(value)
            except ValueError:
                self.value_problems.append(where.problem(spec.name, f"{value!r} {spec.invalid or 'is not a date'}"))
                where.reported.add(spec.name)
                return None
        return value

    def derive(self) -> None:
        self._derive_action_dates()
        self._derive_disputed()
        self._derive_published()

    def _date_bounds(self, table_name: str, field_name: str):
        """(row, bounds) for each row whose date field reads as a date; the others become problems."""
        table = self.tables[table_name]
        invalid = table.schema.field(field_name).invalid
        for row, where in zip(table.rows, table.where, strict=True):
            if row[field_name] is None:
                continue
            try:
                yield row, dates.bounds(row[field_name])
            except ValueError:
                self.value_problems.append(where.problem(field_name, f"{row[field_name]!r} {invalid}"))

    def _derive_action_dates(self) -> None:
        for row in self.tables["actions"].rows:
            row["origin"] = "curated"  # actions live only in raw/jurisdictions/, written by curators; official lists have tables of their own
        for row, bounds in self._date_bounds("actions", "date"):
            row["date_precision"], row["date_start"], row["date_end"] = bounds

    def _derive_disputed(self) -> None:
        """An action's date is disputed when a citation states a date that cannot be the same day:
        `2025-03` agrees with `2025-03-10`; `2018-03-23` disputes `2018-05-23`."""
        stated: dict[str, list] = {}
        for citation in self.tables["citations"].rows:
            try:
                bounds = dates.bounds(citation["date_stated"]) if citation["date_stated"] else None
            except ValueError:
                continue  # reported by validation
            if bounds:
                stated.setdefault(citation["action_id"], []).append(bounds)
        for action in self.tables["actions"].rows:
            start, end = action["date_start"], action["date_end"]
            action["date_disputed"] = end is not None and any(
                (other_end < start if start else False) or (other_start is not None and other_start > end)
                for _, other_start, other_end in stated.get(action["action_id"], [])
            )

    def _derive_published(self) -> None:
        for row, (precision, _, _) in self._date_bounds("sources", "published"):
            row["published_precision"] = precision if precision in ("day", "month", "year") else None


def _kind(value) -> str:
    if isinstance(value, Mapping):
        return "a record (key: value lines)"
    if isinstance(value, Sequence):
        return "a list"
    return "text" if isinstance(value, str) else "nothing"
