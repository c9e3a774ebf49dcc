"""Where a project's parts live, relative to its root folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TABLES = ("jurisdictions", "actions", "citations", "action_links", "sources", "agreements_287g")


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def jurisdictions_dir(self) -> Path:
        return self.raw / "jurisdictions"

    @property
    def sources_dir(self) -> Path:
        return self.raw / "sources"

    @property
    def schemas(self) -> Path:
        return self.root / "schemas"

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def datapackage(self) -> Path:
        return self.root / "datapackage.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".etl.lock"

    def relative(self, path: Path) -> str:
        """The path as a curator sees it: relative to the root, with forward slashes."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def jurisdiction_files(self) -> list[Path]:
        return [self.root / name for name in self.record_names() if not name.startswith("raw/sources/")]

    def source_files(self) -> list[Path]:
        return [self.root / name for name in self.record_names() if name.startswith("raw/sources/")]

    def raw_files(self) -> list[Path]:
        return [self.root / name for name in self.record_names()]

    def record_names(self) -> list[str]:
        """Where raw records live, as curators see the paths: raw/jurisdictions/<state>/<slug>.yaml
        (jurisdictions first, by state, then name), then raw/sources/<id>.yaml."""
        states = sorted(entry.name for entry in _entries(self.jurisdictions_dir) if entry.is_dir())
        jurisdictions = [f"raw/jurisdictions/{state}/{name}" for state in states for name in _yaml_names(self.jurisdictions_dir / state)]
        return jurisdictions + [f"raw/sources/{name}" for name in _yaml_names(self.sources_dir)]

    def listing(self) -> list[str]:
        """Every file and link under raw/ (links are not followed), as curators see the paths."""
        found, folders = [], ["raw"]
        while folders:
            folder = folders.pop()
            for entry in _entries(self.root / folder):
                name = f"{folder}/{entry.name}"
                (folders if entry.is_dir(follow_symlinks=False) else found).append(name)
        return sorted(found)


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except (NotADirectoryError, FileNotFoundError):
        return []


def _yaml_names(folder: Path) -> list[str]:
    return sorted(entry.name for entry in _entries(folder) if entry.name.endswith(".yaml"))
