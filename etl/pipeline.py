"""The one-way flow, stage by stage: raw/ -> load -> tables -> validate -> publish."""

from __future__ import annotations

from dataclasses import dataclass

from .load import RawFile, read_raw_file
from .problems import Problem, ProblemError
from .project import Project
from .schema import Schemas, load_schemas
from .tables import Table, build_tables


@dataclass
class Dataset:
    schemas: Schemas
    tables: dict[str, Table]


def read_schemas(project: Project) -> Schemas:
    try:
        return load_schemas(project.schemas)
    except FileNotFoundError as error:
        raise ProblemError([Problem(project.relative(project.schemas), 0, "", f"is missing {error.filename}; is {project.root} a project folder?")]) from None


def read_raw(project: Project) -> tuple[list[RawFile], list[RawFile], list[Problem]]:
    """Parse every raw file; problems in one file never stop the others from being read."""
    problems: list[Problem] = []
    loaded: dict[str, list[RawFile]] = {"jurisdictions": [], "sources": []}
    inside = _folders_inside(project)
    for kind, paths in (("jurisdictions", project.jurisdiction_files()), ("sources", project.source_files())):
        for path in paths:
            if not inside(path.parent):
                problems.append(Problem(project.relative(path), 0, "", "lies outside raw/ (through a symbolic link); raw files must be plain files inside raw/"))
                continue
            raw, found = read_raw_file(path, project.relative(path))
            problems += found
            if raw is not None:
                loaded[kind].append(raw)
    problems += _strays(project)
    return loaded["jurisdictions"], loaded["sources"], problems


def _folders_inside(project: Project):
    """A test of whether a folder really lies inside raw/ (not reached through a link), once per folder."""
    raw = project.raw.resolve()
    known: dict = {}

    def inside(folder):
        if folder not in known:
            known[folder] = folder.resolve().is_relative_to(raw)
        return known[folder]

    return inside


def _strays(project: Project) -> list[Problem]:
    """Files under raw/ that no stage would read: misplaced records are errors, not silently skipped."""
    expected = set(project.raw_files())
    problems = []
    for path in sorted(project.raw.rglob("*")):
        if path.is_symlink() and path not in expected:
            problems.append(Problem(project.relative(path), 0, "", "is a symbolic link; raw files must be plain files inside raw/"))
        elif path.is_file() and path not in expected and path.name != "README.md":
            problems.append(Problem(project.relative(path), 0, "", "is not where raw records live (raw/jurisdictions/<state>/<slug>.yaml or raw/sources/<id>.yaml)"))
    return problems


def load_dataset(project: Project) -> Dataset:
    """Read and validate the whole project; raise ProblemError listing every problem found."""
    from .validate import validate

    schemas = read_schemas(project)
    jurisdiction_files, source_files, problems = read_raw(project)
    tables, shape_problems, value_problems = build_tables(schemas, jurisdiction_files, source_files)
    complete = not problems and not shape_problems  # else references to what could not be read look wrong
    problems += shape_problems + value_problems
    problems += validate(tables, complete=complete)
    if problems:
        raise ProblemError(problems)
    return Dataset(schemas, tables)
