"""Writing raw files: canonical form (`etl fmt`) and new records (`etl new`). Every write is atomic
(`files.write_atomically`); where a record goes is its table's layout in `schemas/`."""

from __future__ import annotations

from pathlib import Path

from . import canonical, scaffold
from .files import write_text_atomically
from .load import read_raw_file
from .pipeline import read_raw
from .problems import Problem, ProblemError
from .project import Project
from .tables import build_tables, structure_problems


def canonicalize(project: Project, paths: list[Path] | None, write: bool) -> list[str]:
    """Names of the files that are not canonical (rewritten when `write`)."""
    schemas = project.schemas
    paths = paths if paths is not None else [project.root / name for name in project.record_names()]
    texts, problems = {}, []
    for path in paths:
        table = _table_of(project, path)
        raw, found = read_raw_file(path, project.relative(path))
        if raw is not None:
            found += structure_problems(schemas, table, raw)  # rewriting such a record would lose data
        problems += found
        if raw is not None and not found:
            texts[path] = canonical.dump(schemas, table, raw.data)
    if problems:
        raise ProblemError(problems)
    changed = [path for path, text in texts.items() if path.read_text("utf-8") != text]
    if write:
        for path in changed:
            write_text_atomically(path, texts[path])
    return [project.relative(path) for path in changed]


def _table_of(project: Project, path: Path) -> str:
    table = project.schemas.table_of_file(project.relative(path))
    if table is None:
        where = project.schemas.where_records_live()
        raise ProblemError([Problem(project.relative(path), 0, "", f"is not a raw record file ({where})")])
    return table.name


def add_jurisdiction(project: Project, state: str, name: str, kind: str) -> str:
    record = scaffold.jurisdiction(state, name, kind)
    return _add_record(project, "jurisdictions", record)


def add_action(project: Project, jurisdiction_id: str) -> str:
    path = _record_path(project, "jurisdictions", jurisdiction_id)
    raw, problems = read_raw_file(path, project.relative(path))
    if raw is None:
        raise ProblemError(problems or [Problem(project.relative(path), 0, "", "does not exist")])
    record = scaffold.action(_taken(project, "actions", "action_id"))
    raw.data.setdefault("actions", []).append(record)
    write_text_atomically(path, canonical.dump(project.schemas, "jurisdictions", raw.data))
    return str(record["action_id"])


def add_source(project: Project, url: str, publisher: str, source_id: str | None) -> str:
    record = scaffold.source(_taken(project, "sources", "source_id"), url, publisher, source_id)
    return _add_record(project, "sources", record)


def _add_record(project: Project, table: str, record: dict) -> str:
    path = _record_path(project, table, record[project.schemas[table].primary_key[0]])
    if path.exists():
        raise ProblemError([Problem(project.relative(path), 0, "", "already exists; edit it instead")])
    write_text_atomically(path, canonical.dump(project.schemas, table, record))
    return project.relative(path)


def _record_path(project: Project, table: str, key: str) -> Path:
    path = project.path_of_record(table, key)
    if path is None:
        layout = project.schemas.layout_of(table)
        raise ProblemError([Problem(layout.path, 0, "", f"{key!r} cannot name a record here (its files are {layout.path})")])
    return path


def _taken(project: Project, table: str, column: str) -> set[str]:
    files, _ = read_raw(project)
    tables, _, _ = build_tables(project.schemas, files)
    return {value for value in tables[table].column(column) if value}
