"""Remembers which exact inputs last validated cleanly and last published, so that a command whose
inputs have not changed at all can skip the work.

The key is a SHA-256 over everything that decides the outputs: this package's source, the versions of
the libraries that write the files, `schemas/`, and every raw file's path and bytes. Any change to any
of them, however small, misses the cache; a hit is only ever taken for identical inputs. The cache is
`.etl-cache/` in the project (not committed); deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from .project import Project

CACHE_DIR = ".etl-cache"
LIBRARIES = ("pyarrow", "pandera", "pandas", "pyyaml")


def inputs_digest(project: Project) -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        _add(digest, path.relative_to(package).as_posix(), path.read_bytes())
    for library in LIBRARIES:
        _add(digest, library, metadata.version(library).encode())
    for path in sorted(project.schemas.glob("*.json")) + sorted(project.raw.rglob("*")):
        if path.is_file():
            _add(digest, project.relative(path), path.read_bytes())
    return digest.hexdigest()


def _add(digest, name: str, blob: bytes) -> None:
    digest.update(name.encode() + b"\0" + len(blob).to_bytes(8, "big") + blob)


def recall(project: Project, what: str) -> dict | None:
    try:
        return json.loads((project.root / CACHE_DIR / f"{what}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def remember(project: Project, what: str, record: dict) -> None:
    """Best effort: a cache that cannot be written only costs time later."""
    from .rawfiles import write_atomically

    try:
        write_atomically(project.root / CACHE_DIR / f"{what}.json", json.dumps(record))
    except OSError:
        pass
