"""Remembers what earlier runs found, so that a run reads again only the raw files that changed.

Everything lives in `.etl-cache/` in the project (not committed; deleting it is always safe):
- `valid.json` and `published.json`: the inputs digest of the last clean validation and of the last
  publication. A command whose inputs have not changed at all skips its work.
- the snapshot (`files.json` and one `frame-<table>.arrow` per raw table): for every raw file, the
  SHA-256 of its bytes, the problems found in it on its own, and its rows. A run parses, builds and
  checks again only the files whose bytes changed; the checks across rows and tables always cover
  every row.

Why reuse is safe: nothing is reused unless the code key is identical (this package's source, the
versions of the libraries that read, check and write, and `schemas/`); a file is reused only when its
bytes have the same SHA-256; a file holding a date later than the day it was checked, or than today,
is checked again (its "after today" problems depend on the day); the index and the frames carry one
generation token and are used together only when the tokens agree; and a cache that cannot be read
counts as no cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .problems import Problem
from .project import Project

CACHE_DIR = ".etl-cache"
LIBRARIES = ("addfips", "pandera", "polars", "pyarrow", "pyyaml")
INDEX = "files.json"
GENERATION = b"etl-generation"


# -- Inputs ----------------------------------------------------------------------------------------

@dataclass
class Inputs:
    """What decides the outputs: the code key, every path under raw/, and each raw file's SHA-256
    (None when it cannot be read as a plain file)."""

    code_key: str
    listing: list[str]
    digests: dict[str, str | None]

    def digest(self, digests: dict[str, str | None] | None = None) -> str:
        """One SHA-256 over all of it; `digests` replaces the raw files' digests (by those read)."""
        summary = hashlib.sha256(self.code_key.encode())
        summary.update("\0".join(self.listing).encode())
        for name, sha in sorted((digests or self.digests).items()):
            summary.update(f"\0{name}\0{sha}".encode())
        return summary.hexdigest()


def read_inputs(project: Project) -> Inputs:
    root = str(project.root)
    digests = {name: file_digest(os.path.join(root, name)) for name in project.record_names()}
    return Inputs(code_key(project), project.listing(), digests)


def file_digest(path: str) -> str | None:
    """The SHA-256 of a regular file's bytes; None for a link, a folder, a device or an unreadable file."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            return None
        digest = hashlib.sha256()
        while chunk := os.read(handle, max(info.st_size, 65536)):
            digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None
    finally:
        os.close(handle)


def code_key(project: Project) -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        _add(digest, path.relative_to(package).as_posix(), path.read_bytes())
    for library in LIBRARIES:
        _add(digest, library, metadata.version(library).encode())
    for path in sorted(project.schemas.glob("*.json")):
        _add(digest, path.name, path.read_bytes())
    return digest.hexdigest()


def _add(digest, name: str, blob: bytes) -> None:
    digest.update(name.encode() + b"\0" + len(blob).to_bytes(8, "big") + blob)


# -- Records of whole runs -------------------------------------------------------------------------

def recall(project: Project, what: str) -> dict | None:
    try:
        return json.loads((project.root / CACHE_DIR / f"{what}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def remember(project: Project, what: str, record: dict) -> None:
    """Best effort: a cache that cannot be written only costs time later."""
    try:
        _write(project.root / CACHE_DIR / f"{what}.json", lambda stream: stream.write(json.dumps(record).encode()))
    except OSError:
        pass


# -- The snapshot ----------------------------------------------------------------------------------

@dataclass
class FileRecord:
    """What one raw file gave when it was last read: its problems on its own, whether it could be
    read and shaped (`complete`) and its values typed (`typed`), and the latest date in it that is
    compared with the day of checking."""

    sha: str | None
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True
    typed: bool = True
    latest: dt.date | None = None
    checked_on: dt.date = field(default_factory=dt.date.today)

    def reusable(self, sha: str | None, today: dt.date) -> bool:
        return sha is not None and sha == self.sha and (self.latest is None or self.latest <= min(today, self.checked_on))

    def encode(self) -> list:
        problems = [[p.line, p.field, p.message] for p in self.problems]
        return [self.sha, self.complete, self.typed, _iso(self.latest), _iso(self.checked_on), problems]

    @classmethod
    def decode(cls, name: str, encoded: list) -> FileRecord:
        sha, complete, typed, latest, checked_on, problems = encoded
        return cls(sha, [Problem(name, *p) for p in problems], complete, typed, _day(latest), _day(checked_on))


@dataclass
class Snapshot:
    code_key: str
    files: dict[str, FileRecord]
    frames: dict  # table name -> Frame, the rows of every file in `files`


def recall_snapshot(project: Project, key: str, schemas) -> Snapshot | None:
    """The last snapshot, when it was made by the same code and schemas and is whole; else None."""
    import pyarrow as pa

    from .frames import Frame, frame_schema

    folder = project.root / CACHE_DIR
    try:
        index = json.loads((folder / INDEX).read_text("utf-8"))
        if index["code_key"] != key:
            return None
        frames = {}
        for name in index["tables"]:
            with pa.memory_map(str(folder / f"frame-{name}.arrow")) as source:
                arrow = pa.ipc.open_file(source).read_all()
            expected = frame_schema(schemas[name])
            if (arrow.schema.metadata or {}).get(GENERATION) != index["generation"].encode() or not arrow.schema.equals(expected):
                return None
            frames[name] = Frame(schemas[name], arrow)
        files = {name: FileRecord.decode(name, encoded) for name, encoded in index["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None
    return Snapshot(key, files, frames)


def remember_snapshot(project: Project, snapshot: Snapshot) -> None:
    """Write the frames, then the index that names their generation. Best effort, as `remember`."""
    import pyarrow as pa

    folder = project.root / CACHE_DIR
    generation = secrets.token_hex(16)
    try:
        for name, frame in snapshot.frames.items():
            arrow = frame.arrow.replace_schema_metadata({GENERATION: generation})

            def write_frame(stream, arrow=arrow):
                with pa.ipc.new_file(stream, arrow.schema) as writer:
                    writer.write_table(arrow)

            _write(folder / f"frame-{name}.arrow", write_frame)
        index = {
            "code_key": snapshot.code_key, "generation": generation, "tables": sorted(snapshot.frames),
            "files": {name: record.encode() for name, record in sorted(snapshot.files.items())},
        }
        _write(folder / INDEX, lambda stream: stream.write(json.dumps(index, separators=(",", ":")).encode()))
    except OSError:
        pass


def _write(path: Path, write) -> None:
    """Call `write` with a binary stream on a temporary file, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None
