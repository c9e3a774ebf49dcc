"""The one-way flow, stage by stage: raw/ -> load -> tables -> validate -> (derive) -> publish.

Each raw file is loaded, built into rows and checked on its own; the cache keeps what each file gave,
so a run does that work again only for the files whose bytes changed. The checks across rows and
tables, and the derived tables, always run over every row.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass

from . import dates
from .cache import FileRecord, Inputs, Snapshot, read_inputs, recall_snapshot, remember_snapshot
from .files import is_temporary
from .load import ParsedAside, RawFile, parse_blob, read_blob
from .problems import Problem, ProblemError
from .project import Project
from .schema import Derived, Schemas, TableSchema


@dataclass
class Dataset:
    schemas: Schemas
    tables: dict  # table name -> Frame
    digest: str  # the inputs digest of exactly what was read

    def counts(self) -> dict[str, int]:
        return {name: len(table) for name, table in self.tables.items()}


def load_dataset(project: Project, inputs: Inputs | None = None, today: dt.date | None = None, use_cache: bool = True) -> Dataset:
    """Read and validate the whole project; raise ProblemError listing every problem found. Without
    `use_cache`, every file is read and the cache is neither used nor written."""
    schemas = project.schemas
    inputs = inputs or read_inputs(project)
    if not inputs.record_names:
        raise ProblemError([no_records(project)])
    placement, outside = placement_problems(project, inputs.listing, inputs.record_names)
    with _without_cycle_collection():
        records, frames = current_rows(project, schemas, inputs, outside, today or dates.today(), use_cache)
    from .validate import check_across  # not before: see ParsedAside

    problems = placement + [problem for record in records.values() for problem in record.problems]
    problems += check_across(schemas, frames, complete=not placement and all(r.complete for r in records.values()))
    for table in schemas.tables.values():
        if isinstance(table.layout, Derived):
            frames[table.name], found = derived_table(frames, table, all(r.typed for r in records.values()),
                                                      project if use_cache else None, inputs.code_key)
            problems += found
    if problems:
        raise ProblemError(problems)
    tables = {name: frames[name] for name in schemas.tables}
    return Dataset(schemas, tables, inputs.digest({name: record.sha for name, record in records.items()}))


@contextmanager
def _without_cycle_collection():
    """Reading raw files makes millions of small objects and no reference cycles, and Python's cycle
    collector would go over the growing heap again and again: a fifth of a cold build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def current_rows(project: Project, schemas: Schemas, inputs: Inputs, outside: set[str], today: dt.date, use_cache: bool):
    """A record of every raw file and the rows of them all, as frames. Only the files that the last
    snapshot does not hold exactly are read again; the new snapshot is remembered."""
    aside = ParsedAside([(project.root / name, name, blob) for name, blob in inputs.blobs.items() if name not in outside])
    try:  # the child parses while this process imports pyarrow (below) and the checks
        from .frames import merge, shard_count, whole

        previous = (use_cache and recall_snapshot(project, inputs.code_key, schemas)) or Snapshot(inputs.code_key, {}, {})
        kept = {name: record for name, record in previous.files.items()
                if name not in outside and record.reusable(inputs.digests.get(name), today)}
        to_read = [name for name in inputs.digests if name not in kept and name not in outside]
        records, fresh = read_files(project, schemas, to_read, today, inputs.blobs, aside)
    finally:
        aside.close()
    dropped = set(previous.files) - set(kept)
    count = shard_count(len(inputs.digests))
    shards = {name: merge(previous.shards.get(name), dropped, fresh[name], count) for name in fresh}
    records.update(kept)
    if use_cache and (to_read or dropped):
        remember_snapshot(project, Snapshot(inputs.code_key, records, shards))
    return records, {name: whole(schemas[name], shards[name]) for name in fresh}


def derived_table(frames: dict, table: TableSchema, typed: bool, project: Project | None = None, code_key: str = ""):
    """A derived table and its problems; empty while some value could not be typed, since its rows
    would rest on values that are missing. With a project, a table made before from exactly the same
    inputs (and found valid) is taken from its cache."""
    from .cache import derived_key, recall_derived, remember_derived
    from .derived import DERIVATIONS as ICE_287G
    from .derived_detention import DERIVATIONS as DETENTION
    from .frames import derived_frame
    from .validate import check_fields

    DERIVATIONS = {**ICE_287G, **DETENTION}
    if table.name not in DERIVATIONS:
        raise ProblemError([Problem(f"schemas/{table.name}.schema.json", 0, "x-raw.derived", "names a table that etl cannot derive")])
    if not typed:
        return derived_frame(table, []), []
    derivation = DERIVATIONS[table.name]
    key = derived_key(code_key, table.name, frames, derivation.reads, derivation.only) if project else ""
    kept = recall_derived(project, table, key) if project else None
    if kept is not None:
        return kept, []
    frame = derivation.make(frames, table)
    problems = check_fields(frame)
    if project and not problems:
        remember_derived(project, table.name, key, frame)
    return frame, problems


def read_files(project: Project, schemas: Schemas, names: list[str], today: dt.date, blobs: dict[str, bytes] | None = None,
               aside: ParsedAside | None = None):
    """Load, build and check the named raw files on their own: a record of each, and their rows as
    frames of every table written in raw/. `blobs` holds files' bytes already read (and hashed);
    `aside`, files being parsed by another process."""
    import pandera.polars  # noqa: F401 - check_rows needs it: imported while `aside` parses

    from .frames import frame_of
    from .tables import build_tables
    from .validate import check_rows, latest_checked_dates

    blobs = blobs or {}
    taken = set(aside.names) if aside else set()
    parsed = {name: _parse(project, name, blobs.get(name)) for name in names if name not in taken}
    parsed.update((name, (raw, hashlib.sha256(blobs[name]).hexdigest(), found))
                  for name, (raw, found) in (aside.collect() if aside else {}).items())
    records: dict[str, FileRecord] = {}
    loaded: list[RawFile] = []
    for name in names:
        raw, sha, found = parsed[name] if name in parsed else _parse(project, name, blobs.get(name))
        records[name] = FileRecord(sha, found, complete=raw is not None, checked_on=today)
        loaded += [raw] if raw is not None else []
    tables, shape_problems, value_problems = build_tables(schemas, _by_table(schemas, loaded))
    raw_tables = {table.name: tables[table.name] for table in schemas.raw_tables}
    frames = {name: frame_of(table) for name, table in raw_tables.items()}
    for problem in shape_problems:
        records[problem.file].complete = False
    for problem in value_problems:
        records[problem.file].typed = False
    for problem in shape_problems + value_problems + check_rows(schemas, raw_tables, frames, today):
        records[problem.file].problems.append(problem)
    for name, latest in latest_checked_dates(raw_tables).items():
        records[name].latest = latest
    return records, frames


def no_records(project: Project) -> Problem:
    """A project without raw records is no dataset: most likely the wrong folder, or raw/ is missing."""
    if project.raw.is_symlink() or (project.raw.exists() and not project.raw.is_dir()):
        return Problem("raw", 0, "", "is not a folder (a link or a file); raw records must lie in a plain folder raw/ inside the project")
    return Problem("raw", 0, "", f"holds no raw records ({project.schemas.where_records_live()}); is {project.root} the project folder?")


def check_texts(project: Project, texts: dict[str, str]) -> list[Problem]:
    """The problems that raw files would have on their own if they held `texts` (by name): what an
    importer checks before it writes anything."""
    from .tables import build_tables
    from .validate import check_rows

    loaded, problems = [], []
    for name, text in texts.items():
        raw, found = parse_blob(project.root / name, name, text.encode("utf-8"))
        problems += found
        loaded += [raw] if raw is not None else []
    tables, shape, value = build_tables(project.schemas, _by_table(project.schemas, loaded))
    raw_tables = {table.name: tables[table.name] for table in project.schemas.raw_tables}
    from .frames import frame_of

    frames = {name: frame_of(table) for name, table in raw_tables.items()}
    return problems + shape + value + check_rows(project.schemas, raw_tables, frames, dates.today())


def read_raw(project: Project) -> tuple[dict[str, list[RawFile]], list[Problem]]:
    """Every raw record that can be parsed, by the table of its top-level record, and the problems
    that stop the others or lie in where files are."""
    names = project.record_names()
    problems, outside = placement_problems(project, project.listing(), names)
    loaded = []
    for name in names:
        if name not in outside:
            raw, _, found = _parse(project, name)
            problems += found
            loaded += [raw] if raw is not None else []
    return _by_table(project.schemas, loaded), problems


def _parse(project: Project, name: str, blob: bytes | None = None) -> tuple[RawFile | None, str | None, list[Problem]]:
    """A raw file parsed (from `blob`, the bytes read before, if given), the SHA-256 of the bytes,
    and the problems that stop it."""
    problems: list[Problem] = []
    if blob is None:
        blob, problems = read_blob(project.root / name, name)
    if blob is None:
        return None, None, problems
    raw, problems = parse_blob(project.root / name, name, blob)
    return raw, hashlib.sha256(blob).hexdigest(), problems


def _by_table(schemas: Schemas, loaded: list[RawFile]) -> dict[str, list[RawFile]]:
    grouped: dict[str, list[RawFile]] = {table.name: [] for table in schemas.file_tables}
    for raw in loaded:
        table = schemas.table_of_file(raw.name)
        if table is not None:
            grouped[table.name].append(raw)
    return grouped


def placement_problems(project: Project, listing: list[str], expected: list[str]) -> tuple[list[Problem], set[str]]:
    """Files under raw/ that no stage would read, and raw files (`expected`: where records live) that
    a link makes seem to lie inside raw/, with their names, which are not read: misplaced records are
    errors, not silently skipped."""
    inside = _folders_inside(project)
    outside = {name for name in expected if not inside(name.rpartition("/")[0])}
    problems = [Problem(name, 0, "", "lies outside raw/ (through a symbolic link); raw files must be plain files inside raw/") for name in sorted(outside)]
    for name in sorted(set(listing) - set(expected)):
        if name.endswith("/"):
            problems.append(Problem(name.rstrip("/"), 0, "", "is a folder that cannot be read (no permission); make it readable or move it out of raw/"))
            continue
        if is_temporary(name.rpartition("/")[2]):
            continue  # a writer's temporary file: the next command that changes raw/ deletes it
        if (project.root / name).is_symlink():
            problems.append(Problem(name, 0, "", "is a symbolic link; raw files must be plain files inside raw/"))
        elif not name.endswith("/README.md"):
            problems.append(Problem(name, 0, "", f"is not where raw records live ({project.schemas.where_records_live()})"))
    return problems, outside


def _folders_inside(project: Project):
    """A test of whether a folder (named as curators see it) really lies inside raw/, not reached
    through a link; each folder is resolved once."""
    raw = project.raw.resolve()
    known: dict[str, bool] = {}

    def inside(folder: str) -> bool:
        if folder not in known:
            known[folder] = (project.root / folder).resolve().is_relative_to(raw)
        return known[folder]

    return inside
