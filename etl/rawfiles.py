"""Writing raw files: canonical form (`etl fmt`) and new records (`etl new`). Writes are atomic."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import canonical, scaffold
from .load import read_raw_file
from .pipeline import read_raw, read_schemas
from .problems import Problem, ProblemError
from .project import Project
from .tables import build_tables, structure_problems


def canonicalize(project: Project, paths: list[Path] | None, write: bool) -> list[str]:
    """Names of the files that are not canonical (rewritten when `write`)."""
    schemas = read_schemas(project)
    paths = paths if paths is not None else project.raw_files()
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
            write_atomically(path, texts[path])
    return [project.relative(path) for path in changed]


def _table_of(project: Project, path: Path) -> str:
    if path.parent.parent == project.jurisdictions_dir:
        return "jurisdictions"
    if path.parent == project.sources_dir:
        return "sources"
    raise ProblemError([Problem(project.relative(path), 0, "", "is not a raw record file (raw/jurisdictions/<state>/<slug>.yaml or raw/sources/<id>.yaml)")])


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_jurisdiction(project: Project, state: str, name: str, kind: str) -> str:
    schemas = read_schemas(project)
    record = scaffold.jurisdiction(state, name, kind)
    path = project.jurisdictions_dir / state.lower() / f"{record['jurisdiction_id'][3:]}.yaml"
    _refuse_existing(project, path)
    write_atomically(path, canonical.dump(schemas, "jurisdictions", record))
    return project.relative(path)


def add_action(project: Project, jurisdiction_id: str) -> str:
    schemas = read_schemas(project)
    path = project.jurisdictions_dir / jurisdiction_id[:2] / f"{jurisdiction_id[3:]}.yaml"
    raw, problems = read_raw_file(path, project.relative(path))
    if raw is None:
        raise ProblemError(problems or [Problem(project.relative(path), 0, "", "does not exist")])
    record = scaffold.action(_taken(project, "actions", "action_id"))
    raw.data.setdefault("actions", []).append(record)
    write_atomically(path, canonical.dump(schemas, "jurisdictions", raw.data))
    return record["action_id"]


def add_source(project: Project, url: str, publisher: str, source_id: str | None) -> str:
    schemas = read_schemas(project)
    record = scaffold.source(_taken(project, "sources", "source_id"), url, publisher, source_id)
    path = project.sources_dir / f"{record['source_id']}.yaml"
    _refuse_existing(project, path)
    write_atomically(path, canonical.dump(schemas, "sources", record))
    return project.relative(path)


def _refuse_existing(project: Project, path: Path) -> None:
    if path.exists():
        raise ProblemError([Problem(project.relative(path), 0, "", "already exists; edit it instead")])


def _taken(project: Project, table: str, column: str) -> set[str]:
    schemas = read_schemas(project)
    jurisdictions, sources, _ = read_raw(project)
    tables, _, _ = build_tables(schemas, jurisdictions, sources)
    return {value for value in tables[table].column(column) if value}
