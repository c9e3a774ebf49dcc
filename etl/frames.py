"""A table as Arrow columns whose rows remember where in `raw/` they came from.

Tables take this form once their rows have been checked on their own: the checks across rows and
tables, the derived tables and publishing all work on whole columns, and the cache keeps frames so
that a run reads again only the raw files that changed. Three columns follow the published fields:
the raw file, the row's position among the rows read with it (so a file's rows keep their order), and
its `Where` as JSON (decoded only for rows that a message must point at).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from functools import cache, cached_property

import pyarrow as pa

from . import arrow_ops as ops
from .schema import TableSchema
from .tables import Table, Where

FILE, POSITION, WHERE = "_file", "_position", "_where"
MAX_SHARDS = 16  # a table is kept in up to this many parts, by raw file name, so that a run rewrites only a few
FILES_PER_SHARD = 1000  # fewer files than this make one part: a small project reads and writes few cache files
MAX_CHUNKS = 8  # a rebuilt shard gains a chunk each time; past this many they are joined into one (filters slow down)
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

    def data(self) -> pa.Table:
        """The published columns only, typed and described as the schema says."""
        schema = self.schema.arrow_schema
        return pa.Table.from_arrays([self.arrow.column(f.name) for f in schema], schema=schema)

    def where(self, index: int) -> Where:
        file = self.arrow.column(FILE)[index].as_py()
        line, path, lines, reported = json.loads(self.arrow.column(WHERE)[index].as_py())
        return Where(file, line, path, lines, set(reported))

    def in_read_order(self, mask, fields: list[str]) -> list[dict]:
        """The rows that `mask` selects, as dicts of `fields`, in the order a full read gives (by file,
        then by position in the file)."""
        chosen = ops.filter_rows(self.arrow, ops.without_nulls(mask))
        return ops.take(chosen, ops.sort_indices(chosen, [FILE, POSITION])).select(fields).to_pylist()


@cache
def frame_schema(table: TableSchema) -> pa.Schema:
    """The frame's columns; every one may hold nulls, so that rows with problems can be kept."""
    fields = [pa.field(f.name, f.type) for f in table.arrow_schema]
    return pa.schema(fields + list(PROVENANCE))


def frame_of(table: Table) -> Frame:
    """A frame of rows built from raw records, in the order they were read."""
    schema = frame_schema(table.schema)
    data = [pa.array([row[name] for row in table.rows], type=schema.field(name).type) for name in table.schema.field_names]
    provenance = [
        pa.array([w.file for w in table.where], type=pa.string()),
        pa.array(range(len(table.rows)), type=pa.int64()),
        pa.array(_encoded(table.where), type=pa.string()),
    ]
    return Frame(table.schema, pa.Table.from_arrays(data + provenance, schema=schema))


def _encoded(places: list[Where]) -> list[str]:
    """Each row's Where as JSON; rows that share one Where object (a derived table's) share its text."""
    known: dict[int, str] = {}
    return [known.get(id(w)) or known.setdefault(id(w), json.dumps([w.line, w.path, w.lines, sorted(w.reported)])) for w in places]


def derived_frame(table: TableSchema, rows: list[dict], places: list[Where] | None = None) -> Frame:
    """A frame of rows that no raw record holds (a derived table), each pointing at `places` (the raw
    record it comes from), or else at the table's name."""
    return frame_of(Table(table, rows, places if places is not None else [Where("(derived)", 0, table.name)] * len(rows)))


@dataclass
class Shard:
    """The rows of one table from the raw files whose names hash to one shard; `stored` names the
    cache file that already holds exactly these rows."""

    arrow: pa.Table
    stored: str | None = None


def shard_count(files: int) -> int:
    """How many parts each table is kept in, for a project of this many raw files."""
    return min(MAX_SHARDS, files // FILES_PER_SHARD + 1)


def shard_of(file: str, count: int) -> int:
    return zlib.crc32(file.encode()) % count


def shards_of(frame: Frame, count: int) -> list[Shard]:
    if count == 1:
        return [Shard(frame.arrow)]
    encoded = ops.dictionary_encode(frame.arrow.column(FILE)).combine_chunks()
    shard_of_file = pa.array([shard_of(file, count) for file in encoded.dictionary.to_pylist()], type=pa.int32())
    shard = ops.take(shard_of_file, encoded.indices)
    return [Shard(ops.filter_rows(frame.arrow, ops.equal(shard, pa.scalar(number, pa.int32())))) for number in range(count)]


def merge(kept: list[Shard] | None, dropped: set[str], fresh: Frame, count: int) -> list[Shard]:
    """`count` shards: those of `kept` without the rows of the `dropped` files, plus the `fresh` rows.
    Only the shards that hold a dropped or fresh file are rebuilt (all of them when the count
    changed). Rows are in no particular order: whatever depends on order sorts (by primary key, or by
    file and position)."""
    if kept and len(kept) != count:
        rows = _without(pa.concat_tables([shard.arrow for shard in kept]), dropped)
        return shards_of(Frame(fresh.schema, pa.concat_tables([rows, fresh.arrow])), count)
    if not kept:
        return shards_of(fresh, count)
    arrived = shards_of(fresh, count) if len(fresh) else None
    touched = {shard_of(file, count) for file in dropped} | ({number for number, shard in enumerate(arrived) if shard.arrow.num_rows} if arrived else set())
    merged = []
    for number, shard in enumerate(kept):
        if number not in touched:
            merged.append(shard)
            continue
        arrow = _without(shard.arrow, dropped)
        if arrived:
            arrow = pa.concat_tables([arrow, arrived[number].arrow])
        merged.append(Shard(arrow.combine_chunks() if arrow.column(0).num_chunks > MAX_CHUNKS else arrow))
    return merged


def _without(arrow: pa.Table, dropped: set[str]) -> pa.Table:
    if not dropped:
        return arrow
    return ops.filter_rows(arrow, ops.invert(ops.is_in(arrow.column(FILE), pa.array(sorted(dropped), type=pa.string()))))


def whole(table: TableSchema, shards: list[Shard]) -> Frame:
    return Frame(table, pa.concat_tables([shard.arrow for shard in shards]))
