"""Renders the validated tables as Parquet, CSV and `datapackage.json`, and swaps them in atomically.

Outputs are rendered in memory first: `render` is deterministic (rows sorted by primary key, no
timestamps), so `etl build --check` can compare bytes with what is committed.
Publishing writes everything into `.etl-staging/`, marks it complete, then exchanges the staging
`datasets/` with the live one in one rename and replaces `datapackage.json` in a second. A build killed
before the mark changes nothing; one killed between the two renames is completed by the next command
(`recover`).
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import checkpoints
from .files import fsync_folder, regular_file_bytes, write_atomically
from .problems import CommandError
from .project import DATAPACKAGE, DATASETS, Project
from .schema import Schemas, without_custom

if TYPE_CHECKING:
    from .frames import Frame

COMPLETE = "COMPLETE"
CHECKSUMS = f"{DATASETS}/checksums.csv"


class PublishError(CommandError):
    """The outputs could not be written; the previous ones are untouched."""


def render(tables: dict[str, Frame], schemas: Schemas) -> dict[str, bytes]:
    """Every published file, by its path relative to the project root."""
    files: dict[str, bytes] = {}
    for name, table in tables.items():
        arrow_table = _sorted_arrow(table)
        files[f"{DATASETS}/{name}.csv"] = _arrow_csv(arrow_table)
        files[f"{DATASETS}/{name}.parquet"] = _parquet(arrow_table)
    files[CHECKSUMS] = _csv(["path", "bytes", "sha256"], [
        {"path": path, "bytes": len(blob), "sha256": _sha256(blob)} for path, blob in sorted(files.items())
    ])
    files[DATAPACKAGE] = _datapackage(tables, schemas, files)
    return files


def _sorted_arrow(table: Frame):
    """The table's published columns, sorted by its primary key."""
    from . import arrow_ops as ops

    arrow_table = table.data()
    return ops.take(arrow_table, ops.sort_indices(arrow_table, list(table.schema.primary_key))).combine_chunks()


def _arrow_csv(arrow_table) -> bytes:
    """CSV with a header, LF line ends, quotes only where needed, empty cells for nulls,
    `true`/`false` and ISO dates."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sink = pa.BufferOutputStream()
    pcsv.write_csv(arrow_table, sink, pcsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def _csv(columns: list[str], rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row[column]) for column in columns] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _parquet(arrow_table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(arrow_table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _datapackage(tables: dict[str, Frame], schemas: Schemas, files: dict[str, bytes]) -> bytes:
    resources = []
    for name, table in tables.items():
        csv_path, parquet_path = f"{DATASETS}/{name}.csv", f"{DATASETS}/{name}.parquet"
        schema = table.schema.frictionless()
        resources.append({
            "name": name, "title": schema.pop("title"), "description": schema.pop("description"),
            "path": csv_path, "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "hash": f"sha256:{_sha256(files[csv_path])}", "bytes": len(files[csv_path]), "schema": schema,
        })
        resources.append({
            "name": f"{name}-parquet",
            "description": f"The {name} table as Parquet. Its size is listed in the checksums resource.",
            "path": parquet_path, "format": "parquet", "mediatype": "application/vnd.apache.parquet",
            "hash": f"sha256:{_sha256(files[parquet_path])}",
            "schema": _parquet_schema(schema),
        })
    resources.append({
        "name": "checksums",
        "description": "The size in bytes and SHA-256 of every published table file, Parquet included.",
        "path": CHECKSUMS, "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "hash": f"sha256:{_sha256(files[CHECKSUMS])}", "bytes": len(files[CHECKSUMS]),
        "schema": {"fields": [
            {"name": "path", "type": "string", "description": "The file, relative to datapackage.json."},
            {"name": "bytes", "type": "integer", "description": "Its size in bytes."},
            {"name": "sha256", "type": "string", "description": "Its SHA-256, in hex."},
        ], "primaryKey": ["path"]},
    })
    package = {**without_custom(schemas.package), "resources": resources}
    return (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _parquet_schema(schema: dict) -> dict:
    """Parquet resources reference each other, so a Parquet-only user can follow the keys."""
    copy = json.loads(json.dumps(schema))
    for key in copy.get("foreignKeys", []):
        key["reference"]["resource"] += "-parquet"
    return copy


# -- Comparing and swapping ---------------------------------------------------------------------------

def stale_files(project: Project, files: dict[str, bytes]) -> list[str]:
    """Paths whose committed bytes differ from `files`, plus published files that should not be there."""
    differ = [path for path, blob in files.items() if regular_file_bytes(project.root / path) != blob]
    expected = set(files)
    extra = [project.relative(p) for p in sorted(project.datasets.glob("*")) if project.relative(p) not in expected]
    return sorted(differ + extra)


def refuse_what_is_not_ours(project: Project, files: dict[str, bytes]) -> None:
    """Refuse to publish over anything etl did not write: a link where its folders and files go, or
    a file in datasets/ that neither the live package lists nor this build writes (it would be lost)."""
    for path in (project.datasets, project.datapackage, project.staging):
        if path.is_symlink():
            raise PublishError(f"{project.relative(path)} is a symbolic link; etl writes there only as a plain file or folder of its own (remove the link)")
    listed = set(_listed(project.datapackage)) | set(files)
    for path in sorted(project.datasets.iterdir()) if project.datasets.is_dir() else []:
        name = project.relative(path)
        if name not in listed or path.is_symlink() or not path.is_file():
            raise PublishError(f"{name} is not a file etl publishes; move it out of {DATASETS}/ (a build replaces the whole folder)")


def _listed(package_path: Path) -> dict[str, str]:
    """The files a data package lists, with their hashes; empty when it cannot be read."""
    try:
        return {resource["path"]: resource["hash"] for resource in json.loads(package_path.read_text("utf-8"))["resources"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def publish(project: Project, files: dict[str, bytes]) -> None:
    """Replace the published outputs with `files`, all or nothing."""
    refuse_what_is_not_ours(project, files)
    recover(project)
    staging = project.staging
    try:
        shutil.rmtree(staging, ignore_errors=True)
        for path, blob in files.items():
            write_atomically(staging / path, blob, sync=True)
        checkpoints.reached("publish.staged")
        write_atomically(staging / COMPLETE, b"", sync=True)
        checkpoints.reached("publish.complete")
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"cannot write the outputs ({error.strerror}: {error.filename}); the published files are unchanged") from None
    try:
        _commit(project, staging)
    except OSError as error:
        raise PublishError(f"cannot replace the published outputs ({error.strerror}: {error.filename}); the next etl build "
                           "completes the change once it can write there") from None


def recover(project: Project) -> None:
    """Finish a publish that was interrupted after its outputs were complete; drop one that was not."""
    staging = project.staging
    if not staging.exists():
        return
    if (staging / COMPLETE).exists() and (staging / DATAPACKAGE).exists():
        _commit(project, staging)
    else:
        shutil.rmtree(staging, ignore_errors=True)


def _commit(project: Project, staging: Path) -> None:
    """Swap the staged outputs in. Ctrl-C and SIGTERM wait until both renames are done, so the
    published state changes in one step as far as they can tell; a kill is finished by `recover`."""
    with _signals_held():
        _swap(project, staging)
    global committed
    committed = True
    shutil.rmtree(staging, ignore_errors=True)


committed = False  # whether this process has published new outputs (for what Ctrl-C reports)


@contextmanager
def _signals_held():
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _swap(project: Project, staging: Path) -> None:
    new_package = staging / DATAPACKAGE
    if not _published_matches(project, new_package):
        if project.datasets.exists():
            _exchange(staging / DATASETS, project.datasets)
        else:
            os.rename(staging / DATASETS, project.datasets)
        checkpoints.reached("publish.exchanged")
    os.replace(new_package, project.datapackage)
    fsync_folder(project.root)
    checkpoints.reached("publish.replaced")


def package_digest(project: Project) -> str | None:
    """The SHA-256 of the live datapackage.json: what is on disk decides whether outputs are current,
    not what the cache remembers (a checkout of older outputs is consistent, yet not the last build)."""
    blob = regular_file_bytes(project.datapackage)
    return None if blob is None else _sha256(blob)


def outputs_intact(project: Project) -> bool:
    """True when the live datasets/ hold exactly what the live datapackage.json describes."""
    return _published_matches(project, project.datapackage)


def _published_matches(project: Project, package_path: Path) -> bool:
    """True when the live datasets/ hold exactly the files `package_path` lists, with their hashes."""
    listed = _listed(package_path)
    if not listed:
        return False
    present = {project.relative(path) for path in project.datasets.glob("*")}
    return present == set(listed) and all(
        "sha256:" + _sha256(regular_file_bytes(project.root / path) or b"") == digest for path, digest in listed.items()
    )


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two directories in one step (Linux renameat2); elsewhere, two renames."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None and renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return
    parked = a.with_name(a.name + ".old")
    os.rename(b, parked)
    os.rename(a, b)
    os.rename(parked, a)
