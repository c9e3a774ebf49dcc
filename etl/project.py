"""Where a project's parts live, relative to its root folder. Where raw records live is read from the
schemas' layouts (`x-raw`), never written here."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .schema import Schemas, load_schemas

RAW = "raw"
SCHEMAS = "schemas"
DATASETS = "datasets"
DATAPACKAGE = "datapackage.json"
IMPORTS = "imports"
ARCHIVE = "archive"  # the official files that imports read (see archive.py)
LOCK = ".etl.lock"
CACHE = ".etl-cache"
STAGING = ".etl-staging"
MAX_RAW_FILE_BYTES = 5 * 1024 * 1024  # a raw file larger than this is refused unread: split it


@dataclass(frozen=True)
class Project:
    root: Path

    @cached_property
    def schemas(self) -> Schemas:
        """The project's schemas, read and checked once (ProblemError when they are wrong)."""
        return load_schemas(self.root / SCHEMAS, SCHEMAS)

    @property
    def raw(self) -> Path:
        return self.root / RAW

    @property
    def datasets(self) -> Path:
        return self.root / DATASETS

    @property
    def datapackage(self) -> Path:
        return self.root / DATAPACKAGE

    @property
    def lock_file(self) -> Path:
        return self.root / LOCK

    @property
    def cache(self) -> Path:
        return self.root / CACHE

    @property
    def staging(self) -> Path:
        return self.root / STAGING

    def relative(self, path: Path) -> str:
        """The path as a curator sees it: relative to the root, with forward slashes."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def path_of_record(self, table: str, key: str) -> Path | None:
        """The raw file of the `table` row whose key is `key`, or None when the key cannot name one."""
        name = self.schemas.layout_of(table).path_for(key)
        return None if name is None else self.root / name

    def record_names(self) -> list[str]:
        """Where raw records live, as curators see the paths: for each table with a file per row (in
        the schemas' order), the files its layout names, sorted."""
        names: list[str] = []
        if self.raw.is_symlink():
            return names  # raw records must lie inside the project: see pipeline.no_records
        for table in self.schemas.file_tables:
            base, segments = self.schemas.layout_of(table.name).folders()
            names += sorted(_matching(self.root, base, segments))
        return names

    def listing(self) -> list[str]:
        """Every file and link under raw/ (links are not followed), as curators see the paths; a
        folder that cannot be read is listed with a final `/` (see pipeline.placement_problems)."""
        found: list[str] = []
        folders = [RAW]
        while folders:
            folder = folders.pop()
            if not _readable(self.root / folder):
                found.append(folder + "/")
                continue
            for entry in _entries(self.root / folder):
                name = f"{folder}/{entry.name}"
                (folders if entry.is_dir(follow_symlinks=False) else found).append(name)
        return sorted(found)


def _matching(root: Path, base: str, segments: list[re.Pattern[str]]) -> list[str]:
    """Paths under `base` whose segments match `segments` in turn (folders before the last one)."""
    found: list[str] = [base]
    for depth, pattern in enumerate(segments):
        last = depth == len(segments) - 1
        found = [f"{folder}/{entry.name}" for folder in found for entry in _entries(root / folder)
                 if pattern.match(entry.name) and (last or entry.is_dir())]
    return found


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:  # missing, not a folder, or unreadable: listing() reports the last
        return []


def _readable(folder: Path) -> bool:
    try:
        with os.scandir(folder):
            return True
    except (NotADirectoryError, FileNotFoundError):
        return True  # nothing to read
    except OSError:
        return False
