"""Writing raw files: canonical form (`etl fmt`) and new records (`etl new`). Every change goes
through `rawwrite.Changes`: under the project's lock, all or nothing, never over a file that changed
since it was read, and never when the rewrite would lose a comment or change a value."""

from __future__ import annotations

from pathlib import Path

from . import canonical, reference, scaffold
from .load import Mapping, RawFile, parse_blob, read_blob
from .pipeline import read_raw
from .problems import Problem, ProblemError
from .project import Project
from .rawwrite import changing, comment_lines, plain
from .tables import build_tables, structure_problems


def canonicalize(project: Project, paths: list[Path] | None, write: bool) -> list[str]:
    """Names of the files that are not canonical (rewritten when `write`)."""
    if not write:
        return [project.relative(path) for path in _rewrites(project, paths)]
    with changing(project) as changes:
        for path, (read, text) in _rewrites(project, paths).items():
            changes.write(path, text, read)
        return changes.commit()


def _rewrites(project: Project, paths: list[Path] | None) -> dict[Path, tuple[bytes, str]]:
    """The canonical text of each file that is not in canonical form, with the bytes it was read
    from; ProblemError when a file cannot be rewritten without losing what it says."""
    schemas = project.schemas
    paths = paths if paths is not None else [project.root / name for name in project.record_names()]
    rewrites, problems = {}, []
    for path in paths:
        table = _table_of(project, path)
        blob, raw, found = _read_once(project, path)
        if raw is not None:
            found += structure_problems(schemas, table, raw)  # rewriting such a record would lose data
        if raw is None or found:
            problems += found
            continue
        text = canonical.dump(schemas, table, raw.data)
        if text.encode("utf-8") != blob:
            problems += _losses(project, path, blob, raw.data, text)
            rewrites[path] = (blob, text)
    if problems:
        raise ProblemError(problems)
    return rewrites


def _read_once(project: Project, path: Path) -> tuple[bytes, RawFile | None, list[Problem]]:
    """A raw file's bytes and what they say, from one read (so that what is compared before writing
    is what was parsed)."""
    name = project.relative(path)
    blob, problems = read_blob(path, name)
    if blob is None:
        return b"", None, problems
    raw, problems = parse_blob(path, name, blob)
    return blob, raw, problems


def _losses(project: Project, path: Path, blob: bytes, record: Mapping, text: str) -> list[Problem]:
    """What rewriting a file (`blob`, which says `record`) as `text` would lose: comments, or values
    that would read otherwise."""
    name = project.relative(path)
    lost = [Problem(name, line, "", "has a comment, which a rewrite would drop; move it into a notes field or remove it")
            for line in comment_lines(blob.decode("utf-8"))]
    new, _ = parse_blob(path, name, text.encode("utf-8"))
    if new is None or plain(new.data) != plain(record):
        lost.append(Problem(name, 0, "", "would read differently once rewritten (a value holds a character YAML cannot keep as it is); fix the value first"))
    return lost


def _table_of(project: Project, path: Path) -> str:
    table = project.schemas.table_of_file(project.relative(path))
    if table is None:
        where = project.schemas.where_records_live()
        raise ProblemError([Problem(project.relative(path), 0, "", f"is not a raw record file ({where})")])
    return table.name


def require_canonical(project: Project, path: Path, table: str) -> tuple[bytes, object]:
    """The bytes and record of a raw file that a command will change: it must be in canonical form,
    so that writing it back changes only what the command adds (comments, unknown keys and other
    forms would be lost)."""
    blob, raw, problems = _read_once(project, path)
    if raw is None:
        raise ProblemError(problems or [Problem(project.relative(path), 0, "", "does not exist")])
    problems = structure_problems(project.schemas, table, raw)
    if problems or canonical.dump(project.schemas, table, raw.data).encode("utf-8") != blob:
        raise ProblemError(problems or [Problem(project.relative(path), 0, "", "is not in canonical form, so writing it back could lose what it says "
                                                "(a comment, another key order or quoting); run `etl fmt` on it first")])
    return blob, raw.data


def add_jurisdiction(project: Project, state: str, name: str, kind: str) -> str:
    record = scaffold.jurisdiction(state, name, kind)
    record.update(_reference_codes(project, state.upper(), name, kind))
    return _add_record(project, "jurisdictions", record)


def _reference_codes(project: Project, state: str, name: str, kind: str) -> dict:
    """A county's or place's FIPS, GEOID and OCD id from the reference lists the importers use (the
    Census county list, the OCD registry, the Census places by county); none where they do not
    name it, so that the skeleton's TODOs stay for a curator to fill from those lists."""
    from .archive import archived_path
    from .importers.jurisdictions import Registry, Resolved, county_record, municipality_record
    from .importers.places import place_counties
    from .importers.sheets import ImportError_, Row
    from .validate import COUNTY_KINDS

    if kind == "state" or state not in reference.state_fips_by_usps():
        return {}
    registry_path = archived_path(project, "ocd", reference.OCD_REGISTRY)
    if registry_path is None:
        return {}
    try:
        registry = Registry(registry_path, place_counties(project))
    except (ImportError_, OSError, ValueError):
        return {}
    county = kind in COUNTY_KINDS
    row = Row(state, name, "County" if county else "Municipality", name if county else "", "", "", None)
    found = county_record(row, registry) if county else municipality_record(row, registry)
    if not isinstance(found, Resolved) or found.record["name"] != name:
        return {}
    return {key: value for key, value in found.record.items() if key not in ("jurisdiction_id", "name", "kind", "state") and value is not None}


def add_action(project: Project, jurisdiction_id: str) -> str:
    path = _record_path(project, "jurisdictions", jurisdiction_id)
    with changing(project) as changes:
        blob, data = require_canonical(project, path, "jurisdictions")
        record = scaffold.action(_taken(project, "actions", "action_id"))
        data.setdefault("actions", []).append(record)  # type: ignore[attr-defined]
        changes.write(path, canonical.dump(project.schemas, "jurisdictions", data), blob)  # type: ignore[arg-type]
        changes.commit()
    return str(record["action_id"])


def add_source(project: Project, url: str, publisher: str, source_id: str | None) -> str:
    record = scaffold.source(_taken(project, "sources", "source_id"), url, publisher, source_id)
    return _add_record(project, "sources", record)


def _add_record(project: Project, table: str, record: dict) -> str:
    path = _record_path(project, table, record[project.schemas[table].primary_key[0]])
    with changing(project) as changes:
        if path.exists() or path.is_symlink():
            raise ProblemError([Problem(project.relative(path), 0, "", "already exists; edit it instead")])
        changes.write(path, canonical.dump(project.schemas, table, record), None)
        changes.commit()
    return project.relative(path)


def _record_path(project: Project, table: str, key: str) -> Path:
    """Where the record whose key is `key` lives; the key must have its field's form (so that no
    path can be made from `..`, `/` or an empty name)."""
    schema = project.schemas[table]
    field = schema.field(schema.primary_key[0])
    path = project.path_of_record(table, key) if field.well_formed(key) else None
    if path is None:
        message = f"{key!r} {field.invalid or 'does not have the required form'}"
        raise ProblemError([Problem(project.schemas.layout_of(table).path, 0, field.name, message)])
    return path


def _taken(project: Project, table: str, column: str) -> set[str]:
    files, _ = read_raw(project)
    tables, _, _ = build_tables(project.schemas, files)
    return {value for value in tables[table].column(column) if value}
