"""The one schema model: `schemas/` read, checked and typed. Every other form of it is derived here:
the raw file layout, Arrow and Frictionless schemas, the raw files' JSON Schemas and the data
dictionary (the pandera checks are built from it in `validate.py`). No field, table or path is named
in code: they are all read from the schema files.

The files are Frictionless Table Schemas with a few custom properties (each checked, as every other
key is: a misspelt one is an error with its file, line and path):
- `package.json` `x-tables`: the tables, in the order they are published;
- a table's `x-raw`: where its rows live in raw files: a file per row (`file`, a path template whose
  placeholders make up `id_from_path`, the row's key), a list nested in a parent row (`nested_in`,
  `key`, `parent_field`, and `min_items` with the `missing` message), or `derived` (computed);
- a table's `x-referenced-by`: another table that must refer to every row (an uncited source);
- a field's `x-derived` (computed, not written by curators), `x-multiline` (its text may hold line
  breaks: only notes) and `x-invalid` (the message for a value that has not the field's form); a
  foreign key's `x-invalid` (for a value that refers to nothing); a category's `x-arrangement` (the
  `actions.arrangement` value that a term of an official list is) and `x-operator` (who runs a
  facility of that type, as the definition's source says).
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .problems import Problem, ProblemError

PACKAGE_FILE = "package.json"
TABLE_FILE = "{name}.schema.json"
FIELD_TYPES = ("string", "date", "boolean", "integer", "number")
PACKAGE_KEYS = ("name", "title", "description", "version", "keywords", "licenses", "contributors", "sources",
                "homepage", "created", "x-tables")
TABLE_KEYS = ("name", "title", "description", "fields", "primaryKey", "foreignKeys", "x-raw", "x-referenced-by")
FIELD_KEYS = ("name", "title", "description", "type", "constraints", "categories", "x-derived", "x-invalid", "x-multiline")
CONSTRAINT_KEYS = ("required", "unique", "pattern", "enum", "minLength", "maxLength")
FOREIGN_KEY_KEYS = ("fields", "reference", "x-invalid")
REFERENCE_KEYS = ("resource", "fields")
RAW_KEYS = {
    "file": ("file", "id_from_path", "json_schema", "title"),
    "nested_in": ("nested_in", "key", "parent_field", "min_items", "missing"),
    "derived": ("derived",),
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


# -- The model --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    description: str
    required: bool = False
    unique: bool = False
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    min_length: int | None = None
    max_length: int | None = None
    derived: bool = False
    invalid: str | None = None  # what to say of a value without the field's form
    multiline: bool = False  # whether the text may hold line breaks (only notes)
    definitions: tuple[tuple[str, str], ...] = ()  # each vocabulary term with its definition
    arrangements: tuple[tuple[str, str], ...] = ()  # a term of an official list -> the `actions.arrangement` it is (x-arrangement)
    operators: tuple[tuple[str, str], ...] = ()  # a facility type -> who runs such a facility, as the source defining it says (x-operator)

    def well_formed(self, value: str | None) -> bool:
        """True when `value` has the field's form, so that rules about its meaning are worth checking."""
        if value is None or (self.max_length is not None and len(value) > self.max_length):
            return False
        return self.pattern is None or re.match(full_pattern(self.pattern), value) is not None


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]
    invalid: str | None = None  # a template with {value}: what to say of a value that refers to nothing


@dataclass(frozen=True)
class FileLayout:
    """A raw file per row: `path` is a template such as raw/sources/{source_id}.yaml, and `key` says how
    the row's key is made of the path's placeholders."""

    path: str
    key: str
    json_schema: str
    title: str

    def matches(self, name: str) -> bool:
        return self._path_pattern.match(name) is not None

    def path_for(self, key: str) -> str | None:
        """Where the row whose key is `key` lives, or None when the key has not the key's shape."""
        found = self._key_pattern.match(key)
        return None if found is None else self.path.format(**found.groupdict())

    def folders(self) -> tuple[str, list[re.Pattern[str]]]:
        """The fixed folder the files lie under, and a pattern for each further path segment."""
        parts = self.path.split("/")
        fixed = [part for part in parts if "{" not in part]
        base = parts[: len(fixed)]
        return "/".join(base), [_segment_pattern(part) for part in parts[len(base):]]

    @cached_property
    def _path_pattern(self) -> re.Pattern[str]:
        return _template_pattern(self.path, "[^/]+")

    @cached_property
    def _key_pattern(self) -> re.Pattern[str]:
        return _template_pattern(self.key, "[^/]+?", last="[^/]+")


@dataclass(frozen=True)
class Nested:
    """Rows written as a list under `key` in each row of the `parent` table."""

    parent: str
    key: str
    parent_field: str
    min_items: int = 0
    missing: str | None = None  # what to say of a parent row with fewer than min_items


@dataclass(frozen=True)
class Derived:
    """Rows computed from the other tables."""


@dataclass(frozen=True)
class ReferencedBy:
    resource: str
    fields: tuple[str, ...]
    invalid: str
    unless: str | None = None  # a field of the table: rows where it has a value need no reference ("unless")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per table and load
class TableSchema:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    layout: FileLayout | Nested | Derived
    referenced_by: ReferencedBy | None
    descriptor: dict  # as written, for the published (Frictionless) form

    @cached_property
    def field_names(self) -> list[str]:
        return [field.name for field in self.fields]

    @cached_property
    def raw_fields(self) -> list[Field]:
        """The fields a curator writes, in canonical order."""
        return [field for field in self.fields if not field.derived]

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {field.name: field for field in self.fields}

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def frictionless(self) -> dict:
        """The Table Schema as published: without this project's custom properties."""
        return without_custom({key: value for key, value in self.descriptor.items() if key != "name"})

    @cached_property
    def arrow_schema(self) -> Any:
        """The Arrow schema of the published table: types, nullability and descriptions."""
        import pyarrow as pa

        types = {"string": pa.string(), "date": pa.date32(), "boolean": pa.bool_(), "integer": pa.int64(), "number": pa.float64()}
        return pa.schema(
            [pa.field(f.name, types[f.type], nullable=not f.required, metadata={"description": f.description, "title": f.title})
             for f in self.fields],
            metadata={"name": self.name, "description": self.description},
        )


@dataclass(frozen=True, eq=False)
class Schemas:
    tables: dict[str, TableSchema]  # in the order they are published
    package: dict  # the package's metadata, as written

    def __getitem__(self, name: str) -> TableSchema:
        return self.tables[name]

    @cached_property
    def file_tables(self) -> list[TableSchema]:
        """The tables whose rows are raw files of their own, in reading order."""
        return [table for table in self.tables.values() if isinstance(table.layout, FileLayout)]

    @cached_property
    def raw_tables(self) -> list[TableSchema]:
        """The tables written in raw files (all but the derived ones)."""
        return [table for table in self.tables.values() if not isinstance(table.layout, Derived)]

    @cached_property
    def children(self) -> dict[str, list[TableSchema]]:
        """For each table, the tables whose rows are nested in its raw records."""
        nested: dict[str, list[TableSchema]] = {name: [] for name in self.tables}
        for table in self.tables.values():
            if isinstance(table.layout, Nested):
                nested[table.layout.parent].append(table)
        return nested

    def table_of_file(self, name: str) -> TableSchema | None:
        """The table whose rows live in files named like `name` (relative to the project root)."""
        return next((table for table in self.file_tables if table.layout.matches(name)), None)  # type: ignore[union-attr]

    def layout_of(self, table: str) -> FileLayout:
        layout = self.tables[table].layout
        assert isinstance(layout, FileLayout), table
        return layout

    def where_records_live(self) -> str:
        return " or ".join(layout.path.replace("{", "<").replace("}", ">")
                           for layout in (self.layout_of(t.name) for t in self.file_tables))

    def raw_keys(self, table: str) -> list[str]:
        """Keys allowed in a raw record of `table`, in canonical order: its fields, then nested lists."""
        return self._raw_keys[table]

    @cached_property
    def _raw_keys(self) -> dict[str, list[str]]:
        return {
            name: [f.name for f in table.raw_fields] + [child.layout.key for child in self.children[name]]  # type: ignore[union-attr]
            for name, table in self.tables.items()
        }


def _template_pattern(template: str, part: str, last: str | None = None) -> re.Pattern[str]:
    names = PLACEHOLDER.findall(template)
    pattern = re.escape(template)
    for index, name in enumerate(names):
        group = last if last and index == len(names) - 1 else part
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{group})", 1)
    return re.compile(pattern + r"\Z")


def _segment_pattern(segment: str) -> re.Pattern[str]:
    return _template_pattern(segment, ".+")


def without_custom(value: Any) -> Any:
    """`value` without this project's custom (`x-`) properties, at any depth."""
    if isinstance(value, dict):
        return {key: without_custom(item) for key, item in value.items() if not key.startswith("x-")}
    if isinstance(value, list):
        return [without_custom(item) for item in value]
    return value


def full_pattern(pattern: str) -> str:
    """A Table Schema pattern matches the whole value; Python's re.match only anchors the start."""
    return f"(?:{pattern})\\Z"


def anchored_pattern(pattern: str) -> str:
    """The same for polars (Rust's regex) and JSON Schema, where `$` is the end of the text."""
    return f"^(?:{pattern})$"


# -- Reading and checking the schema files ---------------------------------------------------------

class _Located(dict):
    """A JSON object that remembers the offsets of its text."""

    start = 0
    end = 0


def _parse_json(text: str) -> Any:
    """JSON whose objects remember where they stand, so that a problem can name its line."""
    decoder: Any = json.JSONDecoder()
    scanner: Any = json.scanner

    def parse_object(state, *args):
        start = state[1] - 1
        result, end = json.decoder.JSONObject(state, *args)
        located = _Located(result)
        located.start, located.end = start, end
        return located, end

    decoder.parse_object = parse_object
    decoder.scan_once = scanner.py_make_scanner(decoder)  # the pure-Python scanner calls parse_object
    return decoder.decode(text)


class _Reader:
    """Checks one schema file's keys and values, collecting a Problem for each thing wrong."""

    def __init__(self, name: str, text: str):
        self.name, self.text = name, text
        self.problems: list[Problem] = []

    def problem(self, where: Any, path: str, message: str, key: str | None = None) -> None:
        line = 0
        if isinstance(where, _Located):
            at = self.text.find(json.dumps(key), where.start, where.end) if key else -1
            line = self.text.count("\n", 0, at if at >= 0 else where.start) + 1
        self.problems.append(Problem(self.name, line, path, message))

    def keys(self, obj: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(obj, dict):
            self.problem(obj, path, "must be a JSON object")
            return {}
        for key in obj:
            if key not in allowed:
                self.problem(obj, _join(path, key), f"is not a known property (allowed: {', '.join(allowed)})", key)
        for key in required:
            if key not in obj:
                self.problem(obj, path, f"must have the property {key!r}")
        return obj

    def text_of(self, obj: dict, key: str, path: str, default: str | None = None) -> str:
        value = obj.get(key, default)
        if not isinstance(value, str):
            if key in obj or default is None:
                self.problem(obj, _join(path, key), "must be text", key)
            return ""
        return value

    def names(self, obj: dict, key: str, path: str) -> tuple[str, ...]:
        value = obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(obj, _join(path, key), "must be a list of names", key)
            return ()
        return tuple(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def load_schemas(folder: Path, shown_as: str = "schemas") -> Schemas:
    """Read and check every schema file; raise ProblemError naming each thing wrong in them."""
    package_text = _read(folder / PACKAGE_FILE, f"{shown_as}/{PACKAGE_FILE}")
    reader = _Reader(f"{shown_as}/{PACKAGE_FILE}", package_text)
    package = _decode(reader, package_text)
    if package is not None:
        reader.keys(package, "", PACKAGE_KEYS, required=("name", "x-tables"))
    problems = reader.problems
    tables: dict[str, TableSchema] = {}
    for name in reader.names(package, "x-tables", "") if isinstance(package, dict) else ():
        shown = f"{shown_as}/{TABLE_FILE.format(name=name)}"
        table_reader = _Reader(shown, _read(folder / TABLE_FILE.format(name=name), shown))
        table = _table(table_reader, name)
        problems += table_reader.problems
        if table is not None:
            tables[name] = table
    listed = {TABLE_FILE.format(name=name) for name in tables}
    for path in sorted(folder.glob(TABLE_FILE.format(name="*"))):
        if path.name not in listed and not problems:
            problems.append(Problem(f"{shown_as}/{path.name}", 0, "", f"is not listed in {shown_as}/{PACKAGE_FILE} x-tables"))
    if not problems:
        problems += _cross_problems(tables, shown_as)
    if problems:
        raise ProblemError(problems)
    return Schemas(tables, dict(package))


def _read(path: Path, shown: str) -> str:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise ProblemError([Problem(shown, 0, "", "is missing; is this a project folder?")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProblemError([Problem(shown, 0, "", f"cannot be read ({error})")]) from None


def _decode(reader: _Reader, text: str) -> Any:
    try:
        return _parse_json(text)
    except json.JSONDecodeError as error:
        reader.problems.append(Problem(reader.name, error.lineno, "", f"is not valid JSON: {error.msg}"))
        return None


def _table(reader: _Reader, name: str) -> TableSchema | None:
    descriptor = _decode(reader, reader.text)
    if descriptor is None:
        return None
    obj = reader.keys(descriptor, "", TABLE_KEYS, required=("name", "title", "description", "fields", "primaryKey", "x-raw"))
    if not obj:
        return None
    if obj.get("name") != name:
        reader.problem(obj, "name", f"must be {name!r}, the name its file and x-tables give", "name")
    raw_fields = obj.get("fields")
    if not isinstance(raw_fields, list):
        reader.problem(obj, "fields", "must be a list of fields", "fields")
        return None
    fields = tuple(_field(reader, item, f"fields[{index}]") for index, item in enumerate(raw_fields))
    foreign = obj.get("foreignKeys", [])
    foreign_keys = tuple(_foreign_key(reader, item, f"foreignKeys[{index}]") for index, item in enumerate(foreign if isinstance(foreign, list) else []))
    table = TableSchema(
        name=name, title=reader.text_of(obj, "title", ""), description=reader.text_of(obj, "description", ""),
        fields=fields, primary_key=reader.names(obj, "primaryKey", ""), foreign_keys=foreign_keys,
        layout=_layout(reader, obj.get("x-raw")), referenced_by=_referenced_by(reader, obj.get("x-referenced-by")),
        descriptor=dict(obj),
    )
    known = set(table.field_names)
    for key_name in table.primary_key:
        if key_name not in known:
            reader.problem(obj, "primaryKey", f"names {key_name!r}, which is not a field", "primaryKey")
    for index, key in enumerate(table.foreign_keys):
        for field_name in key.fields:
            if field_name not in known:
                reader.problem(obj, f"foreignKeys[{index}].fields", f"names {field_name!r}, which is not a field", "foreignKeys")
    return table


def _field(reader: _Reader, obj: Any, path: str) -> Field:
    obj = reader.keys(obj, path, FIELD_KEYS, required=("name", "type", "title", "description"))
    constraints = reader.keys(obj.get("constraints", {}), _join(path, "constraints"), CONSTRAINT_KEYS)
    field_type = reader.text_of(obj, "type", path)
    if field_type and field_type not in FIELD_TYPES:
        reader.problem(obj, _join(path, "type"), f"{field_type!r} is not a type this project uses (use one of: {', '.join(FIELD_TYPES)})", "type")
    categories = obj.get("categories", [])
    definitions = tuple((c.get("value", ""), c.get("label", "")) for c in categories if isinstance(c, dict))
    for index, category in enumerate(categories):
        reader.keys(category, f"{path}.categories[{index}]", ("value", "label", "x-arrangement", "x-operator"), required=("value", "label"))
    arrangements = tuple((c["value"], c["x-arrangement"]) for c in categories if isinstance(c, dict) and c.get("x-arrangement"))
    operators = tuple((c["value"], c["x-operator"]) for c in categories if isinstance(c, dict) and c.get("x-operator"))
    enum = constraints.get("enum")
    if categories and (enum is None or [value for value, _ in definitions] != enum):
        reader.problem(obj, _join(path, "categories"), "must define exactly the values of constraints.enum, in the same order", "categories")
    for key, kind in (("required", bool), ("unique", bool), ("pattern", str), ("minLength", int), ("maxLength", int)):
        if key in constraints and not isinstance(constraints[key], kind):
            reader.problem(constraints, f"{path}.constraints.{key}", f"must be {kind.__name__}", key)
    for flag in ("x-derived", "x-multiline"):
        if not isinstance(obj.get(flag, False), bool):
            reader.problem(obj, _join(path, flag), "must be true or false", flag)
    return Field(
        name=reader.text_of(obj, "name", path), type=field_type, title=reader.text_of(obj, "title", path),
        description=reader.text_of(obj, "description", path),
        required=constraints.get("required") is True, unique=constraints.get("unique") is True,
        pattern=constraints.get("pattern"), enum=tuple(enum) if isinstance(enum, list) else None,
        min_length=constraints.get("minLength"), max_length=constraints.get("maxLength"),
        derived=obj.get("x-derived") is True, invalid=obj.get("x-invalid"), definitions=definitions,
        multiline=obj.get("x-multiline") is True, arrangements=arrangements, operators=operators,
    )


def _foreign_key(reader: _Reader, obj: Any, path: str) -> ForeignKey:
    obj = reader.keys(obj, path, FOREIGN_KEY_KEYS, required=("fields", "reference"))
    reference = reader.keys(obj.get("reference", {}), _join(path, "reference"), REFERENCE_KEYS, required=REFERENCE_KEYS)
    return ForeignKey(reader.names(obj, "fields", path), reader.text_of(reference, "resource", _join(path, "reference")),
                      reader.names(reference, "fields", _join(path, "reference")), obj.get("x-invalid"))


def _layout(reader: _Reader, obj: Any) -> FileLayout | Nested | Derived:
    kind = next((kind for kind in RAW_KEYS if isinstance(obj, dict) and kind in obj), None)
    if kind is None:
        reader.problem(obj, "x-raw", f"must say where the rows live: with one of {', '.join(RAW_KEYS)}")
        return Derived()
    obj = reader.keys(obj, "x-raw", RAW_KEYS[kind], required=RAW_KEYS[kind][:3])
    if kind == "file":
        return FileLayout(*(reader.text_of(obj, key, "x-raw") for key in RAW_KEYS["file"]))
    if kind == "nested_in":
        min_items = obj.get("min_items", 0)
        if not isinstance(min_items, int) or (min_items and "missing" not in obj):
            reader.problem(obj, "x-raw.min_items", "must be a whole number, with a `missing` message when above 0", "min_items")
        parent, key, parent_field = (reader.text_of(obj, key, "x-raw") for key in RAW_KEYS["nested_in"][:3])
        return Nested(parent, key, parent_field, min_items=min_items, missing=obj.get("missing"))
    if obj.get("derived") is not True:
        reader.problem(obj, "x-raw.derived", "must be true", "derived")
    return Derived()


def _referenced_by(reader: _Reader, obj: Any) -> ReferencedBy | None:
    if obj is None:
        return None
    obj = reader.keys(obj, "x-referenced-by", ("resource", "fields", "x-invalid", "unless"), required=("resource", "fields", "x-invalid"))
    return ReferencedBy(reader.text_of(obj, "resource", "x-referenced-by"), reader.names(obj, "fields", "x-referenced-by"),
                        reader.text_of(obj, "x-invalid", "x-referenced-by"), obj.get("unless"))


def _cross_problems(tables: dict[str, TableSchema], shown_as: str) -> list[Problem]:
    """What the tables say of each other: every table and field they name exists."""
    problems = []

    def check(table: TableSchema, path: str, other: str, fields: tuple[str, ...] = ()) -> None:
        file = f"{shown_as}/{TABLE_FILE.format(name=table.name)}"
        if other not in tables:
            problems.append(Problem(file, 0, path, f"names the table {other!r}, which is not in x-tables"))
            return
        for name in fields:
            if name not in tables[other].field_names:
                problems.append(Problem(file, 0, path, f"names {other}.{name}, which is not a field"))

    for table in tables.values():
        for index, key in enumerate(table.foreign_keys):
            check(table, f"foreignKeys[{index}].reference", key.resource, key.reference_fields)
        if isinstance(table.layout, Nested):
            check(table, "x-raw.nested_in", table.layout.parent, (table.layout.parent_field,))
        if table.referenced_by:
            check(table, "x-referenced-by", table.referenced_by.resource, table.referenced_by.fields)
            if table.referenced_by.unless:
                check(table, "x-referenced-by.unless", table.name, (table.referenced_by.unless,))
    return problems


# -- JSON Schema for raw files ---------------------------------------------------------------------

def raw_json_schema(schemas: Schemas, table: str) -> dict:
    """A JSON Schema (draft 2020-12) for the raw file whose top-level record is a row of `table`."""
    layout = schemas.layout_of(table)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": layout.title,
        "description": f"Generated from schemas/*.schema.json by `etl docs`; do not edit. {schemas[table].description}",
        **_record_json_schema(schemas, table),
    }


def _record_json_schema(schemas: Schemas, table: str) -> dict:
    properties = {field.name: _field_json_schema(field) for field in schemas[table].raw_fields}
    required = [f.name for f in schemas[table].raw_fields if f.required]
    for child in schemas.children[table]:
        assert isinstance(child.layout, Nested)
        properties[child.layout.key] = {
            "description": child.description,
            "type": "array",
            "items": _record_json_schema(schemas, child.name),
        }
        if child.layout.min_items:
            properties[child.layout.key]["minItems"] = child.layout.min_items
            required.append(child.layout.key)
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


def _field_json_schema(field: Field) -> dict:
    schema: dict = {"description": field.description, "type": "string"}
    if field.type == "date":
        schema["format"] = "date"
    if field.type == "number":
        schema["pattern"] = "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"
    if field.pattern is not None:
        schema["pattern"] = anchored_pattern(field.pattern)
    if field.enum:
        schema["enum"] = list(field.enum)
        schema["description"] += " " + " ".join(f"`{value}`: {label}" for value, label in field.definitions)
    if field.min_length is not None:
        schema["minLength"] = field.min_length
    if field.max_length is not None:
        schema["maxLength"] = field.max_length
    return schema


# -- Data dictionary --------------------------------------------------------------------------------

def data_dictionary(schemas: Schemas) -> str:
    """Markdown describing every table, field and vocabulary term."""
    parts = []
    for table in schemas.tables.values():
        keys = ", ".join(f"`{key}`" for key in table.primary_key)
        parts.append(f"### `{table.name}`\n\n{table.description} Primary key: {keys}.\n")
        parts.append("| field | type | required | description |\n|---|---|---|---|")
        for field in table.fields:
            description = field.description + (" *Derived.*" if field.derived else "")
            parts.append(f"| `{field.name}` | {field.type} | {'yes' if field.required else ''} | {_cell(description)} |")
        parts.append("")
        for field in table.fields:
            if field.definitions:
                parts.append(f"`{table.name}.{field.name}` takes one of:\n")
                arrangement = dict(field.arrangements)
                parts.extend(f"- `{value}`: {label}" + (f" (arrangement `{arrangement[value]}`)" if value in arrangement else "")
                             for value, label in field.definitions)
                parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
