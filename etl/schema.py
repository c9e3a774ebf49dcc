"""Reads `schemas/` and derives every other form of it: raw layout, Frictionless and Arrow schemas,
pandera checks' inputs, the raw files' JSON Schema and the data dictionary. No field list lives here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .project import TABLES

CUSTOM_PREFIX = "x-"


@dataclass(frozen=True)
class TableSchema:
    descriptor: dict

    @property
    def name(self) -> str:
        return self.descriptor["name"]

    @property
    def fields(self) -> list[dict]:
        return self.descriptor["fields"]

    @cached_property
    def field_names(self) -> list[str]:
        return [field["name"] for field in self.fields]

    @property
    def primary_key(self) -> list[str]:
        return self.descriptor["primaryKey"]

    @property
    def foreign_keys(self) -> list[dict]:
        return self.descriptor.get("foreignKeys", [])

    @property
    def raw(self) -> dict:
        """How raw files hold the rows: a file per row, or a list nested in a parent row."""
        return self.descriptor["x-raw"]

    @cached_property
    def raw_fields(self) -> list[dict]:
        """The fields a curator writes, in canonical order."""
        return [field for field in self.fields if not field.get("x-derived")]

    def field(self, name: str) -> dict:
        return next(field for field in self.fields if field["name"] == name)

    def frictionless(self) -> dict:
        """The Table Schema as published: without this project's custom properties."""
        return _without_custom(self.descriptor, keep={"name", "title", "description"} | {"fields", "primaryKey", "foreignKeys"})


@dataclass(frozen=True)
class Schemas:
    tables: dict[str, TableSchema]
    package: dict

    def __getitem__(self, name: str) -> TableSchema:
        return self.tables[name]

    @cached_property
    def children(self) -> dict[str, list[TableSchema]]:
        """For each table, the tables whose rows are nested in its raw records."""
        nested: dict[str, list[TableSchema]] = {name: [] for name in self.tables}
        for table in self.tables.values():
            if "nested_in" in table.raw:
                nested[table.raw["nested_in"]].append(table)
        return nested

    def raw_keys(self, table: str) -> list[str]:
        """Keys allowed in a raw record of `table`, in canonical order: its fields, then nested lists."""
        return self._raw_keys[table]

    @cached_property
    def _raw_keys(self) -> dict[str, list[str]]:
        return {
            name: [f["name"] for f in table.raw_fields] + [child.raw["key"] for child in self.children[name]]
            for name, table in self.tables.items()
        }


def load_schemas(folder: Path) -> Schemas:
    tables = {name: TableSchema(json.loads((folder / f"{name}.schema.json").read_text("utf-8"))) for name in TABLES}
    package = json.loads((folder / "package.json").read_text("utf-8"))
    return Schemas(tables, package)


def _without_custom(descriptor: dict, keep: set[str]) -> dict:
    table = {key: value for key, value in descriptor.items() if key in keep}
    table["fields"] = [
        {key: value for key, value in field.items() if not key.startswith(CUSTOM_PREFIX)} for field in descriptor["fields"]
    ]
    return table


def full_pattern(pattern: str) -> str:
    """A Table Schema pattern matches the whole value; Python's re.match only anchors the start."""
    return f"(?:{pattern})\\Z"


def anchored_pattern(pattern: str) -> str:
    """The same for polars (Rust's regex), where `$` is the end of the text and `\\Z` is unknown."""
    return f"^(?:{pattern})$"


def enum_of(field: dict) -> list[str] | None:
    return field.get("constraints", {}).get("enum")


def definitions(field: dict) -> dict[str, str]:
    return {category["value"]: category["label"] for category in field.get("categories", [])}


# -- Arrow ------------------------------------------------------------------------------------------

def arrow_schema(table: TableSchema):
    import pyarrow as pa

    types = {"string": pa.string(), "date": pa.date32(), "boolean": pa.bool_(), "integer": pa.int64()}
    return pa.schema(
        [
            pa.field(
                field["name"],
                types[field["type"]],
                nullable=not field.get("constraints", {}).get("required", False),
                metadata={"description": field["description"], "title": field["title"]},
            )
            for field in table.fields
        ],
        metadata={"name": table.name, "description": table.descriptor["description"]},
    )


# -- JSON Schema for raw files ---------------------------------------------------------------------

def raw_json_schema(schemas: Schemas, table: str) -> dict:
    """A JSON Schema (draft 2020-12) for the raw file whose top-level record is a row of `table`."""
    title = {"jurisdictions": "A jurisdiction and its actions", "sources": "A cited source"}[table]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": f"Generated from schemas/*.schema.json by `etl docs`; do not edit. {schemas[table].descriptor['description']}",
        **_record_json_schema(schemas, table),
    }


def _record_json_schema(schemas: Schemas, table: str) -> dict:
    properties = {field["name"]: _field_json_schema(field) for field in schemas[table].raw_fields}
    for child in schemas.children[table]:
        properties[child.raw["key"]] = {
            "description": child.descriptor["description"],
            "type": "array",
            "items": _record_json_schema(schemas, child.name),
        }
    required = [f["name"] for f in schemas[table].raw_fields if f.get("constraints", {}).get("required")]
    required += [child.raw["key"] for child in schemas.children[table] if child.name == "citations"]
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


def _field_json_schema(field: dict) -> dict:
    constraints = field.get("constraints", {})
    schema: dict = {"description": field["description"], "type": "string"}
    if field["type"] == "date":
        schema["format"] = "date"
    if "pattern" in constraints:
        schema["pattern"] = f"^(?:{constraints['pattern']})$"
    if enum_of(field):
        schema["enum"] = enum_of(field)
        schema["description"] += " " + " ".join(f"`{value}`: {label}" for value, label in definitions(field).items())
    for ours, theirs in (("minLength", "minLength"), ("maxLength", "maxLength")):
        if ours in constraints:
            schema[theirs] = constraints[ours]
    return schema


# -- Data dictionary --------------------------------------------------------------------------------

def data_dictionary(schemas: Schemas) -> str:
    """Markdown describing every table, field and vocabulary term."""
    parts = []
    for table in schemas.tables.values():
        keys = ", ".join(f"`{key}`" for key in table.primary_key)
        parts.append(f"### `{table.name}`\n\n{table.descriptor['description']} Primary key: {keys}.\n")
        parts.append("| field | type | required | description |\n|---|---|---|---|")
        for field in table.fields:
            required = "yes" if field.get("constraints", {}).get("required") else ""
            description = field["description"] + (" *Derived.*" if field.get("x-derived") else "")
            parts.append(f"| `{field['name']}` | {field['type']} | {required} | {_cell(description)} |")
        parts.append("")
        for field in table.fields:
            if definitions(field):
                parts.append(f"`{table.name}.{field['name']}` takes one of:\n")
                parts.extend(f"- `{value}`: {label}" for value, label in definitions(field).items())
                parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
