"""Releases of the dataset: its own semantic version (what a change means for a reader, apart from
the code's version in pyproject.toml), written into schemas/package.json (and so datapackage.json),
a CHANGELOG.md entry made from `etl diff` against the previous release, CITATION.cff (`type:
dataset`) and .zenodo.json.

What a version step means for a reader:
- major: a table or column was removed or renamed, or a key changed: code that reads the data may break;
- minor: tables, columns or rows were added: what worked still works;
- patch: only values of existing rows changed (corrections).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .diff import Build, TableDiff, compare, open_build
from .problems import CommandError

VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
PACKAGE = "schemas/package.json"
CHANGELOG, CITATION, ZENODO = "CHANGELOG.md", "CITATION.cff", ".zenodo.json"
TAG = "data-v{version}"  # the git tag a release is expected to get, by which the next release finds it
AUTHOR = "US ICE cooperation dataset curators"


class ReleaseError(CommandError):
    """Nothing was released; the reason says why."""


@dataclass
class Released:
    version: str
    date: dt.date
    since: str | None  # the build compared with, if any
    step: str  # the smallest step the changes call for
    written: list[str]


def parse(version: str) -> tuple[int, int, int]:
    match = VERSION.fullmatch(version)
    if not match:
        raise ReleaseError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH, such as 1.2.0)")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def step_needed(diffs: list[TableDiff]) -> str:
    """The smallest version step that says what the changes mean for a reader."""
    if any(d.only_in == "before" or d.columns_removed for d in diffs):
        return "major"
    if any(d.only_in == "after" or d.columns_added or d.added or d.removed for d in diffs):
        return "minor"
    return "patch" if any(d.changed for d in diffs) else "none"


def step_of(old: tuple[int, int, int], new: tuple[int, int, int]) -> str:
    if new <= old:
        return "none"
    return "major" if new[0] > old[0] else "minor" if new[1] > old[1] else "patch"


def release(project, version: str, day: dt.date, since: str | None, repository: str | None, build: Callable[[Any], object]) -> Released:
    """Write the release's version and date, its changelog entry, CITATION.cff and .zenodo.json, and
    publish (with `build`) the build that carries them. `since` is the previous release's build (a
    revision or a folder); by default the tag of the version in schemas/package.json, when it exists."""
    from .files import write_atomically

    package_path = project.root / PACKAGE
    package = json.loads(package_path.read_text("utf-8"))
    old, new = parse(package["version"]), parse(version)
    if new <= old:
        raise ReleaseError(f"{version} is not after the current version {package['version']} ({PACKAGE})")
    build(project)
    base = _base(project, since, package["version"])
    if base is None and (project.root / CHANGELOG).exists():
        raise ReleaseError(f"{CHANGELOG} records earlier releases, but there is no tag {TAG.format(version=package['version'])} to compare "
                           "with: tag that release's commit, or pass --since REV")
    now = open_build(project.root, str(project.root))
    diffs = compare(base, now) if base else []
    needed = step_needed(diffs) if base else "major"
    order = ["none", "patch", "minor", "major"]
    if base and order.index(step_of(old, new)) < order.index(needed):
        raise ReleaseError(f"the changes since {base.label} call for a {needed} release, and {package['version']} -> {version} is a "
                           f"{step_of(old, new)} step: {_why(needed)}")
    before = package_path.read_bytes()
    package["version"], package["created"] = version, f"{day.isoformat()}T00:00:00Z"
    write_atomically(package_path, (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode())
    project.__dict__.pop("schemas", None)  # read schemas/ again: the package's version is in them
    try:
        build(project)
    except BaseException:
        write_atomically(package_path, before)  # a release that cannot be published leaves the version as it was
        project.__dict__.pop("schemas", None)
        raise
    from .docs import refresh_citation

    refresh_citation(project)
    written = [PACKAGE, "datapackage.json", "README.md"]
    entry = changelog_entry(version, day, base, now, diffs)
    changelog = project.root / CHANGELOG
    previous = changelog.read_text("utf-8") if changelog.exists() else CHANGELOG_HEAD
    head, _, rest = previous.partition("\n## ")
    write_atomically(changelog, (head.rstrip() + "\n\n" + entry + ("\n## " + rest if rest else "")).encode())
    write_atomically(project.root / CITATION, citation(package, day, repository).encode())
    write_atomically(project.root / ZENODO, (json.dumps(zenodo(package, day), indent=2, ensure_ascii=False) + "\n").encode())
    return Released(version, day, base.label if base else None, needed, [*written, CHANGELOG, CITATION, ZENODO])


def _why(step: str) -> str:
    return {"major": "a table or column was removed", "minor": "tables, columns or rows were added or removed",
            "patch": "values of existing rows changed"}[step]


def _base(project, since: str | None, current: str) -> Build | None:
    from .diff import DiffError, git

    if since:
        return open_build(project.root, since)
    tag = TAG.format(version=current)
    if git(project.root, "rev-parse", "--verify", "--quiet", f"{tag}^{{commit}}") is None:
        return None
    try:
        return open_build(project.root, tag)
    except DiffError:
        return None


CHANGELOG_HEAD = """# Changelog of the dataset

Each release of the data, newest first: its version (what a change means for a reader: see
`etl/release.py`), its date, and what changed in each table since the previous release, as
`etl diff` reports it. The code's own version is in `pyproject.toml`.
"""


def changelog_entry(version: str, day: dt.date, base: Build | None, now: Build, diffs: list[TableDiff]) -> str:
    lines = [f"## {version} ({day.isoformat()})", ""]
    if base is None:
        lines += ["First release with its own version. Tables and rows:", ""]
        lines += [f"- `{name}`: {now.table(name).num_rows} rows" for name in now.tables()]
        return "\n".join(lines) + "\n"
    lines += [f"Compared with {base.label.split(' (')[0]}:", ""]
    changed = [d for d in diffs if not d.unchanged]
    for d in changed:
        if d.only_in:
            lines.append(f"- `{d.name}`: {'new table' if d.only_in == 'after' else 'table removed'} ({max(d.rows_before, d.rows_after)} rows)")
            continue
        parts = [f"{len(d.added)} rows added" if d.added else "", f"{len(d.removed)} removed" if d.removed else "",
                 f"{len(d.changed)} changed" if d.changed else "",
                 f"columns added: {', '.join(f'`{c}`' for c in d.columns_added)}" if d.columns_added else "",
                 f"columns removed: {', '.join(f'`{c}`' for c in d.columns_removed)}" if d.columns_removed else ""]
        lines.append(f"- `{d.name}` ({d.rows_before} -> {d.rows_after} rows): {'; '.join(p for p in parts if p)}")
    if not changed:
        lines.append("- No table changed.")
    return "\n".join(lines) + "\n"


def citation(package: dict, day: dt.date, repository: str | None) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the dataset release."""
    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = [
        "cff-version: 1.2.0",
        f"message: {quoted('If you use this dataset, cite it as below, with the version you used; cite the sources its rows rest on too.')}",
        "type: dataset",
        f"title: {quoted(package['title'])}",
        f"version: {quoted(package['version'])}",
        f"date-released: {quoted(day.isoformat())}",
        "authors:",
        f"  - name: {quoted(AUTHOR)}",
        "license: CC-BY-4.0",
        f"abstract: {quoted(package['description'])}",
        "keywords:",
        *(f"  - {quoted(word)}" for word in package.get("keywords", [])),
    ]
    if repository:
        lines.append(f"repository-code: {quoted(repository)}")
    return "\n".join(lines) + "\n"


def zenodo(package: dict, day: dt.date) -> dict:
    """.zenodo.json: the metadata Zenodo reads when the release is archived there."""
    return {
        "upload_type": "dataset", "title": package["title"], "version": package["version"], "publication_date": day.isoformat(),
        "description": package["description"], "creators": [{"name": AUTHOR}], "license": "cc-by-4.0",
        "keywords": package.get("keywords", []), "access_right": "open",
    }
