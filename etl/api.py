"""What `etl` does, as functions: the Click commands in `cli.py` only parse options, call these, print
and exit. Each takes a Project; problems in the data are raised as ProblemError.

Heavy libraries are imported inside the functions that need them, so that a command that finds
nothing to do (its inputs are those of the last run) never imports pandera, polars or pyarrow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .cache import read_inputs, recall, remember
from .project import Project
from .rawwrite import changing, interrupted
from .reference import OCD_REGISTRY


@dataclass
class Built:
    """What `build` did: `files` published, or none because the outputs were already current."""

    counts: dict[str, int]
    files: int = 0
    current: bool = False


def validate(project: Project) -> dict[str, int]:
    """Check every raw record; return the number of rows of each table. Inputs identical to those of
    the last clean validation are not checked again."""
    settle(project)
    inputs = read_inputs(project)
    known = recall(project, "valid")
    if known and known.get("inputs") == inputs.digest():
        return dict(known["counts"])
    from .pipeline import load_dataset

    dataset = load_dataset(project, inputs)
    counts = dataset.counts()
    remember(project, "valid", {"inputs": dataset.digest, "counts": counts})
    return counts


def build(project: Project) -> Built:
    """Validate and publish; nothing is done when the inputs are those of the last publication and
    the published files are intact."""
    from .publish import outputs_intact, package_digest, publish, render

    with changing(project):  # nothing changes raw/ or the outputs while the build reads and publishes
        inputs = read_inputs(project)
        known = recall(project, "published")
        if known and known.get("inputs") == inputs.digest() and known.get("package") == package_digest(project) and outputs_intact(project):
            return Built(dict(known.get("counts", {})), current=True)
        from .pipeline import load_dataset

        dataset = load_dataset(project, inputs)
        files = render(dataset.tables, dataset.schemas)
        publish(project, files)
        remember(project, "published", {"inputs": dataset.digest, "counts": dataset.counts(), "package": package_digest(project)})
        return Built(dataset.counts(), files=len(files))


def settle(project: Project) -> None:
    """Finish (or drop) a change to raw/ that a killed command left, before reading raw/; refuse
    while another command is changing it."""
    if interrupted(project):
        with changing(project):
            pass


def stale_outputs(project: Project) -> tuple[list[str], int]:
    """Build in memory from every raw file (no cache) and compare with the committed outputs: the
    paths that differ, and how many files were compared."""
    from .pipeline import load_dataset
    from .publish import render, stale_files

    settle(project)
    dataset = load_dataset(project, read_inputs(project, trust_stat=False), use_cache=False)
    files = render(dataset.tables, dataset.schemas)
    return stale_files(project, files), len(files)


def fmt(project: Project, files: list[Path] | None, write: bool) -> list[str]:
    """The raw files (all, or `files`) that are not in canonical form; rewritten when `write`."""
    from .rawfiles import canonicalize

    return canonicalize(project, files, write)


def new_jurisdiction(project: Project, state: str, name: str, kind: str) -> str:
    from .rawfiles import add_jurisdiction

    return add_jurisdiction(project, state, name, kind)


def new_action(project: Project, jurisdiction_id: str) -> str:
    from .rawfiles import add_action

    return add_action(project, jurisdiction_id)


def new_source(project: Project, url: str, publisher: str, source_id: str | None) -> str:
    from .rawfiles import add_source

    return add_source(project, url, publisher, source_id)


def import_ice_287g(project: Project, registry: Path | None, write: bool = True) -> Any:
    """Make raw/ say what every archived edition of ICE's 287(g) lists says; return the importer's
    report (without `write`, its `written` lists the files that would change). `registry` defaults
    to the OCD registry kept in archive/."""
    from .importers.ice_287g import import_editions

    return import_editions(project, _registry(project, registry), write)


def import_ice_detention(project: Project, registry: Path | None, write: bool = True) -> Any:
    """Make raw/ say what every archived edition of ICE's detention statistics says (its facilities
    sheet); return the importer's report, as `import_ice_287g` does."""
    from .importers.ice_detention import import_editions

    return import_editions(project, _registry(project, registry), write)


def _registry(project: Project, registry: Path | None) -> Path:
    from .archive import ArchiveError, archived_path

    registry = registry or archived_path(project, "ocd", OCD_REGISTRY)
    if registry is None:
        raise ArchiveError(f"archive/ holds no OCD registry ({OCD_REGISTRY}): archive it (etl archive ocd FILE) or pass --registry")
    return registry


def archive(project: Project, family: str, source: Path, manifest: Path | None, obtained_from: str | None) -> Any:
    """Keep official files (a folder of them, or one) in archive/, deduplicated by content."""
    from .archive import archive as keep
    from .archive import obtained_in

    return keep(project, family, obtained_in(source, manifest, obtained_from))


def stats(project: Project) -> dict:
    from .pipeline import load_dataset
    from .report import stats as summarize

    settle(project)
    return summarize(load_dataset(project).tables)


@dataclass
class Shown:
    """What `show` found for a query: one jurisdiction's record (as text and as data), or the ids that
    the query could mean (several), or close names (none)."""

    text: str | None = None
    record: dict | None = None
    candidates: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


def show(project: Project, query: str) -> Shown:
    """One jurisdiction's record, found by id, id without the state, or name."""
    from .pipeline import load_dataset
    from .report import find_jurisdictions, record_of, suggestions, timeline_text

    settle(project)
    tables = load_dataset(project).tables
    found = find_jurisdictions(tables, query)
    if len(found) == 1:
        record = record_of(tables, found[0]["jurisdiction_id"])
        return Shown(text=timeline_text(record), record=record)
    if found:
        return Shown(candidates=sorted(j["jurisdiction_id"] for j in found))
    return Shown(suggestions=suggestions(tables, query))


def diff(project: Project, before: str, after: str) -> Any:
    """Compare two builds (folders, or git revisions of the project): (before, after, table diffs)."""
    from .diff import compare, open_build

    old, new = open_build(project.root, before), open_build(project.root, after)
    return old, new, compare(old, new)


def release(project: Project, version: str, day: Any, since: str | None, repository: str | None) -> Any:
    """Release the dataset as `version` (see etl/release.py for what a step means)."""
    from .release import release as make

    return make(project, version, day, since, repository, build)


def site(project: Project, out: Path) -> int:
    """Publish (if needed), then write the static site into `out`; return how many pages."""
    from .pipeline import load_dataset
    from .site import build_site

    build(project)
    return build_site(load_dataset(project).tables, project.root, out, project.root / "datasets", project.schemas.package)


def docs(project: Project, command: click.Group, write: bool) -> list[str]:
    from .docs import generate

    return generate(project, command, write)
