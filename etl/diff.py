"""Comparing two builds of the dataset, table by table: rows added, removed and changed (by primary
key, with the fields that changed). A side is a folder holding a build (its `datapackage.json` and
`datasets/`) or a git revision of the project (its committed build)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .problems import CommandError


class DiffError(CommandError):
    """A side of the comparison cannot be read; the reason says which and why."""


@dataclass
class TableDiff:
    name: str
    key: list[str]
    rows_before: int = 0
    rows_after: int = 0
    added: list[tuple] = field(default_factory=list)
    removed: list[tuple] = field(default_factory=list)
    changed: dict[tuple, list[str]] = field(default_factory=dict)  # key -> the fields whose values differ
    values: dict[tuple, dict[str, tuple]] = field(default_factory=dict)  # key -> field -> (before, after)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    only_in: str | None = None  # "before" or "after" for a table one side lacks

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.changed or self.columns_added or self.columns_removed or self.only_in)


@dataclass
class Build:
    """One side: its package descriptor, and a reader of its tables."""

    label: str
    package: dict
    read: object  # Callable[[str], bytes]: a path inside the build -> its bytes

    def table(self, name: str):
        import pyarrow as pa
        import pyarrow.parquet as pq

        resource = next(r for r in self.package["resources"] if r["name"] == name)
        path = resource["path"].removesuffix(".csv") + ".parquet"
        return pq.read_table(pa.BufferReader(self.read(path)))  # type: ignore[operator]  # (a Python file object makes pyarrow abort at exit)

    def tables(self) -> dict[str, list[str]]:
        """Each table's name and primary key (the checksums resource has none, and is not data)."""
        names = {r["name"] for r in self.package["resources"]}
        return {r["name"]: list(r["schema"]["primaryKey"]) for r in self.package["resources"]
                if r.get("schema", {}).get("primaryKey") and f"{r['name']}-parquet" in names}


def open_build(root: Path, side: str) -> Build:
    """A folder holding a build, or a git revision of the repository at `root`."""
    folder = Path(side)
    if (folder / "datapackage.json").is_file():
        return Build(side, json.loads((folder / "datapackage.json").read_text("utf-8")), lambda path: (folder / path).read_bytes())
    found = git(root, "rev-parse", "--verify", "--quiet", f"{side}^{{commit}}")
    if found is None:
        raise DiffError(f"{side!r} is neither a folder with a datapackage.json nor a git revision of {root}")
    commit = found.decode().strip()
    package = git(root, "show", f"{commit}:datapackage.json")
    if package is None:
        raise DiffError(f"revision {side} ({commit[:12]}) has no committed datapackage.json")

    def read(path: str) -> bytes:
        found = git(root, "show", f"{commit}:{path}")
        if found is None:
            raise DiffError(f"revision {side} ({commit[:12]}) has no {path}")
        return found

    return Build(f"{side} ({commit[:12]})", json.loads(package), read)


def git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def compare(before: Build, after: Build) -> list[TableDiff]:
    """Every table of either build, compared by its primary key (the later build's, where both have it)."""
    keys_before, keys_after = before.tables(), after.tables()
    found = []
    for name in list(keys_after) + [n for n in keys_before if n not in keys_after]:
        if name not in keys_before or name not in keys_after:
            side = after if name in keys_after else before
            rows = side.table(name).num_rows
            found.append(TableDiff(name, keys_after.get(name) or keys_before[name], 0 if name in keys_after else rows,
                                   rows if name in keys_after else 0, only_in="after" if name in keys_after else "before"))
            continue
        found.append(_table_diff(name, keys_after[name], before.table(name), after.table(name)))
    return found


def _table_diff(name: str, key: list[str], old, new) -> TableDiff:
    result = TableDiff(name, key, old.num_rows, new.num_rows)
    result.columns_added = [c for c in new.column_names if c not in old.column_names]
    result.columns_removed = [c for c in old.column_names if c not in new.column_names]
    shared = [c for c in new.column_names if c in old.column_names]
    before = _by_key(old.to_pylist(), key)
    after = _by_key(new.to_pylist(), key)
    result.added = sorted(k for k in after if k not in before)
    result.removed = sorted(k for k in before if k not in after)
    for k in sorted(k for k in after if k in before):
        fields = [c for c in shared if before[k].get(c) != after[k].get(c)]
        if fields:
            result.changed[k] = fields
            result.values[k] = {c: (before[k].get(c), after[k].get(c)) for c in fields}
    return result


def _by_key(rows: list[dict], key: list[str]) -> dict[tuple, dict]:
    return {tuple(str(row[k]) for k in key): row for row in rows}


def summary(before: Build, after: Build, diffs: list[TableDiff], details: int = 0) -> str:
    """What changed, for a person: a line per table, and with `details` that many ids of each kind."""
    lines = [f"Comparing {before.label} with {after.label}"]
    for key in ("version", "created"):
        old, new = before.package.get(key), after.package.get(key)
        if old != new:
            lines.append(f"- the package's {key}: {old or '(none)'} -> {new or '(none)'}")
    changed = [d for d in diffs if not d.unchanged]
    if not changed:
        return "\n".join([*lines, "No table changed."])
    return _tables(lines, diffs, changed, details)


def _tables(lines: list[str], diffs: list[TableDiff], changed: list[TableDiff], details: int) -> str:
    for d in changed:
        if d.only_in:
            lines.append(f"- {d.name}: only in the {'later' if d.only_in == 'after' else 'earlier'} build ({max(d.rows_before, d.rows_after)} rows)")
            continue
        counts = f"{d.rows_before} -> {d.rows_after} rows: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed"
        lines.append(f"- {d.name}: {counts}")
        if d.columns_added or d.columns_removed:
            lines.append(f"  columns added: {', '.join(d.columns_added) or 'none'}; removed: {', '.join(d.columns_removed) or 'none'}")
        by_field: dict[str, int] = {}
        for fields in d.changed.values():
            for name in fields:
                by_field[name] = by_field.get(name, 0) + 1
        if by_field:
            lines.append("  changed fields: " + ", ".join(f"{name} ({count})" for name, count in sorted(by_field.items(), key=lambda i: (-i[1], i[0]))))
        for label, ids in (("added", d.added), ("removed", d.removed)):
            if details and ids:
                shown = ", ".join("/".join(k) for k in ids[:details])
                lines.append(f"  {label}: {shown}" + (f" and {len(ids) - details} more" if len(ids) > details else ""))
        for k in list(d.changed)[:details]:
            values = "; ".join(f"{name} {_short(old)} -> {_short(new)}" for name, (old, new) in d.values[k].items())
            lines.append(f"  changed {'/'.join(k)}: {values}")
        if details and len(d.changed) > details:
            lines.append(f"  and {len(d.changed) - details} more changed")
    unchanged = [d.name for d in diffs if d.unchanged]
    if unchanged:
        lines.append(f"Unchanged: {', '.join(unchanged)}")
    return "\n".join(lines)


def _short(value, width: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def as_data(diffs: list[TableDiff]) -> list[dict]:
    return [{"table": d.name, "key": d.key, "rows_before": d.rows_before, "rows_after": d.rows_after, "only_in": d.only_in,
             "added": ["/".join(k) for k in d.added], "removed": ["/".join(k) for k in d.removed],
             "changed": {"/".join(k): fields for k, fields in d.changed.items()},
             "values": {"/".join(k): {name: [str(old) if old is not None else None, str(new) if new is not None else None]
                                      for name, (old, new) in v.items()} for k, v in d.values.items()},
             "columns_added": d.columns_added, "columns_removed": d.columns_removed} for d in diffs]
