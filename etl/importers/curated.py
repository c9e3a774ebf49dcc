"""Files in imports/ where curators decide for an importer: a YAML mapping with one list of entries."""

from __future__ import annotations


def curated_list(project, name: str, key: str, shape: str):
    """The entries under `key` in imports file `name` (a loader Sequence, whose `lines` give each
    entry's line), or None when there is no such file; problems name the file and line."""
    from ..load import Sequence, read_raw_file
    from ..problems import Problem, ProblemError

    path = project.root / name
    if not path.exists():
        return None
    raw, problems = read_raw_file(path, name)
    if raw is None:
        raise ProblemError(problems)
    entries = raw.data.get(key)
    if not isinstance(entries, Sequence):
        raise ProblemError([Problem(name, raw.data.line, key, f"must be a list of {shape}")])
    return entries

