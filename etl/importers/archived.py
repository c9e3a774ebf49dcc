"""The official workbooks in archive/ for one family, read once: what each holds is kept in the cache
under the SHA-256 of its bytes and the code that reads it, and returned under every name it was
obtained under (archive/MANIFEST.csv)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def archived_books(project, family: str, reader: Callable[[Path], Any], code: list[Path]) -> list:
    """Every workbook of `family` in archive/, under each name it was obtained under; `reader` reads
    one file and `code` lists the modules it reads with (a change to them reads every file again)."""
    from ..archive import read_manifest

    rows = [row for row in read_manifest(project) if row["family"] == family]
    kept = sorted({row["archived_as"]: row["sha256"] for row in rows}.items())
    read = dict(zip((sha for _, sha in kept), _cached(project, [(project.root / path, sha) for path, sha in kept], reader, code), strict=True))
    return [read[row["sha256"]].renamed(row["file"]) for row in rows]


def _cached(project, files: list[tuple[Path, str]], reader: Callable[[Path], Any], code: list[Path]) -> list:
    import pickle

    from ..cache import usable
    from ..files import write_atomically

    folder = project.cache / "workbooks"
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in code)).hexdigest()[:16]
    found: dict[str, Any] = {}
    for _, sha in files:
        with contextlib.suppress(Exception):  # no usable copy (missing, damaged, from other code): read the workbook again
            found[sha] = pickle.loads((folder / f"{sha}-{digest}.pickle").read_bytes()) if usable(project) else None
    missing = [(path, sha) for path, sha in files if found.get(sha) is None]
    for (_, sha), book in zip(missing, read_books([path for path, _ in missing], reader), strict=True):
        found[sha] = book
        if usable(project):
            write_atomically(folder / f"{sha}-{digest}.pickle", pickle.dumps(book))
    return [found[sha] for _, sha in files]


def read_books(paths: list[Path], reader: Callable[[Path], Any]) -> list:
    """Read workbooks, on both cores when there are many (ICE's files take ~0.1 s each)."""
    if len(paths) < 8:
        return [reader(path) for path in paths]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(reader, paths, chunksize=4))
