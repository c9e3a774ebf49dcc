"""Where a project's parts live, relative to its root folder."""

from __future__ import annotations

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
        return sorted(self.jurisdictions_dir.glob("*/*.yaml"))

    def source_files(self) -> list[Path]:
        return sorted(self.sources_dir.glob("*.yaml"))

    def raw_files(self) -> list[Path]:
        return self.jurisdiction_files() + self.source_files()
