"""A table as Arrow columns whose rows remember where in `raw/` they came from.

Tables take this form once their rows have been checked on their own: the checks across rows and
tables, the derived tables and publishing all work on whole columns, and the cache keeps frames so
that a run reads again only the raw files that changed. Three columns follow the published fields:
the raw file, the row's position in that file, and its `Where` as JSON (decoded only for rows that a
message must point at).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from .schema import TableSchema, arrow_schema
from .tables import Table, Where

FILE, POSITION, WHERE = "_file", "_position", "_where"
MAX_CHUNKS = 32  # merged frames gain a chunk per run; past this many they are joined into one
PROVENANCE = (pa.field(FILE, pa.string()), pa.field(POSITION, pa.int64()), pa.field(WHERE, pa.string()))


@dataclass
class Frame:
    schema: TableSchema
    arrow: pa.Table  # the table's fields, then the provenance columns

    @property
    def name(self) -> str:
        return self.schema.name

    def __len__(self) -> int:
        return self.arrow.num_rows

    @cached_property
    def rows(self) -> list[dict]:
        return self.data().to_pylist()

    def column(self, name: str) -> list:
        return self.arrow.column(name).to_pylist()

    def data(self) -> pa.Table:
        """The published columns only, typed and described as the schema says."""
        schema = arrow_schema(self.schema)
        return pa.Table.from_arrays([self.arrow.column(f.name) for f in schema], schema=schema)

    def where(self, index: int) -> Where:
        file = self.arrow.column(FILE)[index].as_py()
        line, path, lines, reported = json.loads(self.arrow.column(WHERE)[index].as_py())
        return Where(file, line, path, lines, set(reported))

    def in_read_order(self, mask, fields: list[str]) -> list[dict]:
        """The rows that `mask` selects, as dicts of `fields`, in the order a full read gives (by file,
        then by position in the file)."""
        chosen = self.arrow.filter(pc.fill_null(mask, False))
        order = pc.sort_indices(chosen, sort_keys=[(FILE, "ascending"), (POSITION, "ascending")])
        return chosen.take(order).select(fields).to_pylist()


def frame_schema(table: TableSchema) -> pa.Schema:
    """The frame's columns; every one may hold nulls, so that rows with problems can be kept."""
    fields = [pa.field(f.name, f.type) for f in arrow_schema(table)]
    return pa.schema(fields + list(PROVENANCE))


def frame_of(table: Table) -> Frame:
    """A frame of rows built from raw records, in the order they were read."""
    schema = frame_schema(table.schema)
    data = [pa.array([row[name] for row in table.rows], type=schema.field(name).type) for name in table.schema.field_names]
    provenance = [
        pa.array([w.file for w in table.where], type=pa.string()),
        pa.array(range(len(table.rows)), type=pa.int64()),
        pa.array([json.dumps([w.line, w.path, w.lines, sorted(w.reported)]) for w in table.where], type=pa.string()),
    ]
    return Frame(table.schema, pa.Table.from_arrays(data + provenance, schema=schema))


def derived_frame(table: TableSchema, rows: list[dict]) -> Frame:
    """A frame of rows that no raw record holds (a derived table): they point at the table's name."""
    return frame_of(Table(table, rows, [Where("(derived)", 0, table.name)] * len(rows)))


def merge(table: TableSchema, kept: Frame | None, dropped: set[str], fresh: Frame) -> Frame:
    """`kept` without the rows of the `dropped` files, plus `fresh`. Rows are in no particular order:
    whatever depends on order sorts (by primary key, or by file and position)."""
    if kept is None or not len(kept):
        return fresh
    if dropped:
        keep = pc.invert(pc.is_in(kept.arrow.column(FILE), value_set=pa.array(sorted(dropped), type=pa.string())))
        kept = Frame(table, kept.arrow.filter(keep))
    merged = pa.concat_tables([kept.arrow, fresh.arrow]) if len(fresh) else kept.arrow
    return Frame(table, merged.combine_chunks() if merged.column(0).num_chunks > MAX_CHUNKS else merged)
