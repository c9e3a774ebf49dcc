"""Remembers what earlier runs found, so that a run reads again only the raw files that changed.

Everything lives in `.etl-cache/` in the project (not committed; deleting it is always safe):
- `digests.json`: each raw file's SHA-256 with the size, times, inode and device it had when it was
  hashed; a file whose status is unchanged is not read again to learn its digest (as git does; see
  `_hash_or_recall` for why that is safe). `etl build --check` hashes every file regardless.
- `valid.json` and `published.json`: the inputs digest of the last clean validation and of the last
  publication. A command whose inputs have not changed at all skips its work.
- `derived/`: each derived table as last made, under a digest of the code and of the columns it
  read (so a table is made again only when something it reads changed).
- the snapshot (`snapshot.json`, pointing at Arrow files): for every raw file, the SHA-256 of its
  bytes, the problems found in it on its own, and its rows (each table in shards by file name). A run
  parses, builds and checks again only the files whose bytes changed, and rewrites only the shards
  that hold them; the checks across rows and tables always cover every row.

Why reuse is safe: nothing is reused unless the code key is identical (this package's source, the
versions of the libraries that read, check and write, and `schemas/`); a file is reused only when its
bytes have the same SHA-256; a file holding a date later than the day it was checked, or than today,
is checked again (its "after today" problems depend on the day); cache files are never changed once
written (each has a new name) and one rename of `snapshot.json` makes a new snapshot current, so a
run that is killed or races another leaves the old snapshot or the new one, never a mix; and a cache
that cannot be read counts as no cache.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checkpoints, dates
from .files import regular_file_bytes, write_atomically
from .problems import Problem
from .project import MAX_RAW_FILE_BYTES, SCHEMAS, Project

LIBRARIES = ("addfips", "pandera", "polars", "pyarrow", "pyyaml")
POINTER = "snapshot.json"
MEMO = "digests.json"  # raw file -> SHA-256, with the file's status when it was hashed (JSON: no Arrow to import)
RACY_NS = 2_000_000_000


# -- Inputs ----------------------------------------------------------------------------------------

@dataclass
class Inputs:
    """What decides the outputs: the code key, every path under raw/, and each raw file's SHA-256
    (None when it cannot be read as a plain file)."""

    code_key: str
    listing: list[str]
    digests: dict[str, str | None]
    record_names: list[str]  # where raw records live (Project.record_names), in reading order
    blobs: dict[str, bytes] = field(default_factory=dict)  # the bytes of the files hashed by this run, as hashed

    def digest(self, digests: dict[str, str | None] | None = None) -> str:
        """One SHA-256 over all of it; `digests` replaces the raw files' digests (by those read)."""
        summary = hashlib.sha256(self.code_key.encode())
        summary.update("\0".join(self.listing).encode())
        for name, sha in sorted((digests or self.digests).items()):
            summary.update(f"\0{name}\0{sha}".encode())
        return summary.hexdigest()


def read_inputs(project: Project, trust_stat: bool = True) -> Inputs:
    """The inputs, hashing each raw file unless the digest memo knows it (see `_hash_or_recall`)."""
    root = str(project.root)
    memo = _recall_memo(project) if trust_stat else {}
    names = project.record_names()
    digests, settled, blobs = {}, {}, {}
    for name in names:
        known = memo.get(name)
        digests[name], entry, blob = _hash_or_recall(f"{root}/{name}", known)
        if entry:
            settled[name] = entry
        if blob is not None:
            blobs[name] = blob
    if trust_stat and (len(settled) != len(memo) or any(settled[name] is not memo.get(name) for name in settled)):
        _remember_memo(project, settled)
    return Inputs(code_key(project), project.listing(), digests, names, blobs)


def _hash_or_recall(path: str, known: tuple | None) -> tuple[str | None, tuple | None, bytes | None]:
    """The file's SHA-256, the memo entry for it: (size, mtime, ctime, inode, device, sha), and the
    bytes hashed when they were read (a file that must be hashed will be parsed: it is read once).

    The memo's digest is used only when all five of those are as they were when it was hashed, as git
    does. The ctime cannot be set by programs: any write changes it. It is remembered only for files
    last changed more than RACY_NS before they were hashed, so that a write in the same tick of the
    file system's clock, which would leave the times as they were, cannot go unnoticed."""
    try:
        info = os.lstat(path)
    except OSError:
        return None, None, None
    key = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
    if known and known[:5] == key:
        return known[5], known, None
    hashed_at = time.time_ns()
    blob = regular_file_bytes(path, MAX_RAW_FILE_BYTES)
    sha = hashlib.sha256(blob).hexdigest() if blob is not None else None
    settled = sha is not None and info.st_ctime_ns < hashed_at - RACY_NS and info.st_mtime_ns < hashed_at - RACY_NS
    return sha, (*key, sha) if settled else None, blob


def _recall_memo(project: Project) -> dict[str, tuple]:
    if not usable(project):
        return {}
    try:
        memo = json.loads((project.cache / MEMO).read_text("utf-8"))
        return {name: tuple(entry) for name, entry in memo.items() if isinstance(entry, list) and len(entry) == 6}
    except (OSError, ValueError, AttributeError):
        return {}


def _remember_memo(project: Project, memo: dict[str, tuple]) -> None:
    remember(project, MEMO.removesuffix(".json"), {name: list(memo[name]) for name in sorted(memo)})


def code_key(project: Project) -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        _add(digest, path.relative_to(package).as_posix(), path.read_bytes())
    for library, version in library_versions().items():
        _add(digest, library, version.encode())
    for path in sorted((project.root / SCHEMAS).glob("*.json")):
        _add(digest, path.name, path.read_bytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """The installed version of each library in LIBRARIES, from the names of their `.dist-info`
    folders (importlib.metadata would take a fifth of a run that finds nothing to do)."""
    wanted = {library.replace("-", "_").lower() for library in LIBRARIES}
    found: dict[str, str] = {}
    for folder in sys.path:
        for entry in _names(folder):
            name, _, rest = entry.partition("-")
            if entry.endswith(".dist-info") and name.lower() in wanted and name.lower() not in found:
                found[name.lower()] = rest.removesuffix(".dist-info")
    return {library: found.get(library.replace("-", "_").lower(), "absent") for library in LIBRARIES}


def _names(folder: str) -> list[str]:
    try:
        return os.listdir(folder or ".")
    except OSError:
        return []


def _add(digest, name: str, blob: bytes) -> None:
    digest.update(name.encode() + b"\0" + len(blob).to_bytes(8, "big") + blob)


# -- Records of whole runs -------------------------------------------------------------------------

def usable(project: Project) -> bool:
    """The cache is used only as a plain folder of the project's: a link could make etl read, write
    or delete files elsewhere."""
    return not project.cache.is_symlink()


def recall(project: Project, what: str) -> dict | None:
    if not usable(project):
        return None
    try:
        return json.loads((project.cache / f"{what}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def remember(project: Project, what: str, record: dict) -> None:
    """Best effort: a cache that cannot be written only costs time later."""
    if not usable(project):
        return
    with contextlib.suppress(OSError):
        write_atomically(project.cache / f"{what}.json", json.dumps(record).encode())


# -- The snapshot ----------------------------------------------------------------------------------

@dataclass(slots=True)
class FileRecord:
    """What one raw file gave when it was last read: its problems on its own, whether it could be
    read and shaped (`complete`) and its values typed (`typed`), and the latest date in it that is
    compared with the day of checking."""

    sha: str | None
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True
    typed: bool = True
    latest: dt.date | None = None
    checked_on: dt.date = field(default_factory=dates.today)

    def reusable(self, sha: str | None, today: dt.date) -> bool:
        return sha is not None and sha == self.sha and (self.latest is None or self.latest <= min(today, self.checked_on))


@dataclass
class Snapshot:
    code_key: str
    files: dict[str, FileRecord]
    shards: dict  # table name -> list of frames.Shard: the rows of every file in `files`


FILE_COLUMNS = ("name", "sha", "complete", "typed", "latest", "checked_on")
PROBLEM_COLUMNS = ("file", "line", "field", "message")


def recall_snapshot(project: Project, key: str, schemas) -> Snapshot | None:
    """The last snapshot, when it was made by the same code and schemas and is whole; else None."""
    import pyarrow as pa

    from .frames import Shard, frame_schema

    folder = project.cache
    if not usable(project):
        return None
    try:
        pointer = json.loads((folder / POINTER).read_text("utf-8"))
        if pointer["code_key"] != key:
            return None
        shards = {}
        for name, stored in pointer["shards"].items():
            shards[name] = [Shard(_read_arrow(folder / file), file) for file in stored]
            if not stored or any(not s.arrow.schema.equals(frame_schema(schemas[name])) for s in shards[name]):
                return None
        files = _read_arrow(folder / pointer["files"]).to_pydict()
        problems = _read_arrow(folder / pointer["problems"]).to_pydict()
        records = {name: FileRecord(sha, [], complete, typed, latest, checked_on)
                   for name, sha, complete, typed, latest, checked_on in zip(*(files[column] for column in FILE_COLUMNS), strict=True)}
        for file, line, field_name, message in zip(*(problems[column] for column in PROBLEM_COLUMNS), strict=True):
            records[file].problems.append(Problem(file, line, field_name, message))
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None
    return Snapshot(key, records, shards)


def remember_snapshot(project: Project, snapshot: Snapshot) -> None:
    """Write the shards that changed and the file records under new names, then the pointer to them
    in one rename, then delete what no longer belongs to it. Best effort, as `remember`."""
    import pyarrow as pa

    folder = project.cache
    if not usable(project):
        return
    token = secrets.token_hex(8)
    names = sorted(snapshot.files)
    records = [snapshot.files[name] for name in names]
    files = pa.table({
        "name": pa.array(names, pa.string()), "sha": pa.array([r.sha for r in records], pa.string()),
        "complete": pa.array([r.complete for r in records], pa.bool_()), "typed": pa.array([r.typed for r in records], pa.bool_()),
        "latest": pa.array([r.latest for r in records], pa.date32()), "checked_on": pa.array([r.checked_on for r in records], pa.date32()),
    })
    problems = [p for r in records for p in r.problems]
    problems = pa.table({column: [getattr(p, column) for p in problems] for column in PROBLEM_COLUMNS},
                        schema=pa.schema([("file", pa.string()), ("line", pa.int64()), ("field", pa.string()), ("message", pa.string())]))
    try:
        pointer: dict[str, Any] = {"code_key": snapshot.code_key, "files": f"files-{token}.arrow", "problems": f"problems-{token}.arrow", "shards": {}}
        _write_arrow(folder / pointer["files"], files)
        _write_arrow(folder / pointer["problems"], problems)
        for name, shards in snapshot.shards.items():
            for number, shard in enumerate(shards):
                if shard.stored is None:
                    shard.stored = f"frame-{name}-{number}-{token}.arrow"
                    _write_arrow(folder / shard.stored, shard.arrow)
            pointer["shards"][name] = [shard.stored for shard in shards]
        checkpoints.reached("cache.written")
        write_atomically(folder / POINTER, json.dumps(pointer).encode())
        kept = {pointer["files"], pointer["problems"], *(file for stored in pointer["shards"].values() for file in stored)}
        for path in folder.glob("*.arrow"):
            if path.name not in kept:
                path.unlink(missing_ok=True)
    except (OSError, pa.ArrowException):
        pass


# -- Derived tables --------------------------------------------------------------------------------

DERIVED = "derived"  # a folder of its own: remember_snapshot deletes the Arrow files it does not name


def derived_key(code_key: str, name: str, frames: dict, reads: dict[str, tuple[str, ...] | None],
                only: dict[str, tuple[str, tuple[str, ...]]] | None = None) -> str:
    """A digest of everything a derivation reads: the code, and the columns (and, where `only` says,
    the rows) of its input tables."""
    import pyarrow as pa

    from . import arrow_ops as ops
    from .frames import FILE, POSITION

    digest = hashlib.sha256(f"{code_key}\0{name}".encode())
    for table, columns in sorted(reads.items()):
        arrow = frames[table].arrow
        if only and table in only:
            column, values = only[table]
            arrow = ops.filter_rows(arrow, ops.without_nulls(ops.is_in(arrow.column(column), pa.array(list(values), type=pa.string()))))
        arrow = ops.take(arrow, ops.sort_indices(arrow, [FILE, POSITION]))  # shards keep rows in no fixed order
        arrow = arrow if columns is None else arrow.select(list(columns))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, arrow.schema) as writer:
            writer.write_table(arrow)
        digest.update(table.encode() + b"\0" + sink.getvalue().to_pybytes())
    return digest.hexdigest()


def recall_derived(project: Project, table, key: str):
    """The derived table made from inputs with this digest, if the cache holds it intact."""
    import pyarrow as pa

    from .frames import Frame, frame_schema

    if not usable(project):
        return None
    try:
        arrow = _read_arrow(project.cache / DERIVED / f"{table.name}-{key}.arrow")
    except (OSError, pa.ArrowException):
        return None
    return Frame(table, arrow) if arrow.schema.equals(frame_schema(table)) else None


def remember_derived(project: Project, name: str, key: str, frame) -> None:
    """Best effort, as `remember`; older copies of the table are deleted."""
    import pyarrow as pa

    if not usable(project):
        return
    folder = project.cache / DERIVED
    with contextlib.suppress(OSError, pa.ArrowException):
        _write_arrow(folder / f"{name}-{key}.arrow", frame.arrow)
        for path in folder.glob(f"{name}-*.arrow"):
            if path.name != f"{name}-{key}.arrow":
                path.unlink(missing_ok=True)


def _read_arrow(path: Path):
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _write_arrow(path: Path, table: Any) -> None:
    import pyarrow as pa

    def write(stream):
        with pa.ipc.new_file(stream, table.schema) as writer:
            writer.write_table(table)

    write_atomically(path, write)
