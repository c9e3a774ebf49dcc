"""The official files the project imports, kept inside the repository so that a lone clone can run
every import again.

`archive/<family>/<file>` holds each distinct content once, under the first name it was obtained
under; `archive/MANIFEST.csv` (layout: schemas/archive/manifest.schema.json) lists every name, with its
SHA-256, size, the copy that holds its bytes and where it was obtained. Archiving only adds: a name
already listed must have the same bytes, and nothing is ever rewritten or removed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .files import exclusive, regular_file_bytes, write_atomically
from .problems import CommandError
from .project import ARCHIVE, SCHEMAS, Project

MANIFEST = f"{ARCHIVE}/MANIFEST.csv"
MANIFEST_SCHEMA = f"{SCHEMAS}/archive/manifest.schema.json"
# ICE's 287(g) lists; ICE's detention statistics; the Open Civic Data registry (CC0); the Census Bureau's places by
# county (public domain); GeoNames' places (CC BY 4.0), for a place's main county; county shapes for the site (ISC)
FAMILIES = ("ice-287g", "ice-detention", "ocd", "census", "geonames", "us-atlas")
MAX_FILE_BYTES = 50 * 1024 * 1024
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # as schemas/archive/manifest.schema.json allows: never a path  # an official list is a few hundred kB


class ArchiveError(CommandError):
    """Nothing was archived: the reason says which file and why."""


@dataclass
class Obtained:
    """A file to archive: its path, the name it was obtained under, and where from."""

    path: Path
    name: str
    obtained_from: str
    note: str = ""
    sha256: str | None = None  # as a manifest of the files' origin states it, checked against the bytes


@dataclass
class Archived:
    added_files: list[str] = field(default_factory=list)  # copies written under archive/
    added_names: list[str] = field(default_factory=list)  # manifest rows added
    known: int = 0  # names already listed with the same bytes


@cache
def manifest_fields(root: Path) -> tuple[str, ...]:
    schema = json.loads((root / MANIFEST_SCHEMA).read_text("utf-8"))
    return tuple(spec["name"] for spec in schema["fields"])


@cache
def _file_pattern(root: Path) -> str:
    """The form of an archived file's name, from the manifest's schema: a name, never a path."""
    schema = json.loads((root / MANIFEST_SCHEMA).read_text("utf-8"))
    return next(spec["constraints"]["pattern"] for spec in schema["fields"] if spec["name"] == "file")


def read_manifest(project: Project) -> list[dict[str, str]]:
    """The manifest's rows; a manifest with other columns than its schema's is refused."""
    path = project.root / MANIFEST
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != manifest_fields(project.root):
            raise ArchiveError(f"{MANIFEST}: its columns are {reader.fieldnames}, not those of {MANIFEST_SCHEMA}")
        return list(reader)


def archived_path(project: Project, family: str, name: str) -> Path | None:
    """The kept copy of the bytes obtained as `name`, or None when the name is not in the manifest."""
    row = next((row for row in read_manifest(project) if row["family"] == family and row["file"] == name), None)
    return project.root / row["archived_as"] if row else None


def obtained_in(folder: Path, manifest: Path | None, obtained_from: str | None) -> list[Obtained]:
    """The files to archive from `folder` (or one file): with a manifest of their origin (columns
    file, sha256, obtained_from, note), every file it names; otherwise every file, obtained from
    `obtained_from`."""
    if manifest is not None:
        with open(manifest, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        missing = {"file", "sha256", "obtained_from"} - set(rows[0] if rows else {})
        if missing:
            raise ArchiveError(f"{manifest}: has no column {', '.join(sorted(missing))}")
        base = folder if folder.is_dir() else folder.parent
        return [Obtained(base / row["file"], row["file"], row["obtained_from"], row.get("note") or "", row["sha256"])
                for row in rows]
    if not obtained_from:
        raise ArchiveError("say where the files were obtained (--obtained-from) or give their manifest (--manifest)")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")) if folder.is_dir() else [folder]
    return [Obtained(path, path.name, obtained_from) for path in paths]


def archive(project: Project, family: str, files: list[Obtained]) -> Archived:
    """Add `files` to the archive: a copy of each new content, a manifest row for each new name.
    Every file is read and checked before anything is written."""
    if family not in FAMILIES:
        raise ArchiveError(f"{family!r} is not a family of official files ({', '.join(FAMILIES)})")
    with exclusive(project.lock_file):
        rows = read_manifest(project)
        listed = {(row["family"], row["file"]): row for row in rows}
        kept = {row["sha256"]: row["archived_as"] for row in rows}
        done = Archived()
        copies: dict[str, bytes] = {}
        present = [item for item in files if item.path.exists() or item.path.is_symlink()]
        absent = [item for item in files if item not in present]  # a name whose bytes a manifest says were obtained under another
        file_name = re.compile(_file_pattern(project.root))
        for item in files:
            if not file_name.fullmatch(item.name):
                raise ArchiveError(f"{item.name!r} is not a file name this archive keeps (letters, digits, '.', '_' and '-', no folders)")
        for item in present + absent:
            blob = _read(item) if item in present or item.sha256 not in kept else None
            sha = hashlib.sha256(blob).hexdigest() if blob is not None else str(item.sha256)
            if (family, item.name) in listed:
                if listed[(family, item.name)]["sha256"] != sha:
                    raise ArchiveError(f"{item.path}: {item.name} is archived with other bytes; an archived name never changes")
                done.known += 1
                continue
            if sha not in kept and blob is not None:
                kept[sha] = f"{ARCHIVE}/{family}/{item.name}"
                copies[kept[sha]] = blob
            note = item.note or ("" if kept[sha].endswith(f"/{item.name}") else f"same bytes as {kept[sha].rpartition('/')[2]}")
            size = str(len(blob)) if blob is not None else next(row["bytes"] for row in listed.values() if row["sha256"] == sha)
            listed[(family, item.name)] = {"family": family, "file": item.name, "sha256": sha, "bytes": size,
                                           "archived_as": kept[sha], "obtained_from": item.obtained_from, "note": note}
            done.added_names.append(item.name)
        for target, blob in sorted(copies.items()):  # the copies first: a kill leaves files the manifest will name on the next run
            _keep(project, target, blob)
            done.added_files.append(target)
        if done.added_names:
            write_atomically(project.root / MANIFEST, _manifest_text(project, listed.values()).encode("utf-8"), sync=True)
    return done


def _read(item: Obtained) -> bytes:
    blob = regular_file_bytes(item.path, MAX_FILE_BYTES)
    if blob is None:
        raise ArchiveError(f"{item.path}: cannot be read as a plain file (missing, a link, or over {MAX_FILE_BYTES:,} bytes)")
    sha = hashlib.sha256(blob).hexdigest()
    if item.sha256 and item.sha256 != sha:
        raise ArchiveError(f"{item.path}: its bytes hash to {sha}, not {item.sha256} as its manifest says")
    return blob


def _keep(project: Project, target: str, blob: bytes) -> None:
    path = project.root / target
    if path.exists():
        if regular_file_bytes(path) != blob:
            raise ArchiveError(f"{target}: exists with other bytes and is not in {MANIFEST}; move it away")
        return
    write_atomically(path, blob, sync=True)


def _manifest_text(project: Project, rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, manifest_fields(project.root), lineterminator="\n")
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda row: (row["family"], row["file"])))
    return out.getvalue()
