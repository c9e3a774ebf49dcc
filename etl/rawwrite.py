"""Every change a command makes to raw/ (`fmt`, `new`, `import`): all of it or none, under the
project's lock, never over a file that changed since it was read, and never losing what a file says.

A `Changes` collects new texts for raw files, each with the bytes that were read to make it. On
`commit` it checks that every file still holds those bytes, writes each new text to a temporary file
beside its target, then a journal (`.etl-journal.json`) naming them all, then renames them into place
and deletes the journal. A command killed before the journal leaves only temporary files, which the
next command deletes (nothing happened); one killed after it is finished by the next command, which
renames the rest (everything happened). A file that someone changed in between is not overwritten:
the command's text is kept beside it and reported.

Rewriting must not lose data: a file is rewritten only when reading the new text gives the same
values as reading the old one, and the old one has no comment (`etl fmt` would drop it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checkpoints
from .files import exclusive, fsync_folder, is_temporary, regular_file_bytes, through_link, write_atomically, write_beside
from .problems import CommandError, Problem, ProblemError
from .project import Project

JOURNAL = ".etl-journal.json"
CONFLICT_SUFFIX = ".etl-conflict"


def _sha(blob: bytes | None) -> str | None:
    return None if blob is None else hashlib.sha256(blob).hexdigest()


@dataclass
class Changes:
    """New texts for raw files, each with the bytes it was made from (None for a new file)."""

    project: Project
    texts: dict[Path, tuple[bytes | None, str]] = field(default_factory=dict)

    def write(self, path: Path, text: str, read: bytes | None) -> None:
        self.texts[path] = (read, text)

    def commit(self) -> list[str]:
        """Apply every change, or none; the names of the files written. The caller holds the lock."""
        linked = [(path, link) for path in self.texts if (link := through_link(self.project.root, path)) is not None]
        if linked:
            raise ProblemError([Problem(self.project.relative(path), 0, "", f"lies outside the project through a symbolic link "
                                        f"({self.project.relative(link)}); etl writes only plain files inside it") for path, link in linked])
        stale = [path for path, (read, _) in self.texts.items() if regular_file_bytes(path) != read]
        if stale:
            raise ProblemError([Problem(self.project.relative(path), 0, "", "changed while etl was working on it; nothing was written, run the command again")
                                for path in stale])
        staged: list[dict[str, Any]] = []
        try:
            for path, (read, text) in sorted(self.texts.items()):
                temporary = _stage(path, text.encode("utf-8"))
                staged.append({"target": self.project.relative(path), "staged": self.project.relative(temporary),
                               "was": _sha(read), "becomes": _sha(text.encode("utf-8"))})
        except OSError as error:
            for entry in staged:
                (self.project.root / entry["staged"]).unlink(missing_ok=True)
            raise CommandError(f"cannot write {error.filename or 'raw/'} ({error.strerror}); nothing was changed") from None
        checkpoints.reached("raw.staged")
        try:
            write_atomically(self.project.root / JOURNAL, json.dumps(staged, indent=1).encode(), sync=True)
        except OSError as error:
            for entry in staged:
                (self.project.root / entry["staged"]).unlink(missing_ok=True)
            raise CommandError(f"cannot write {JOURNAL} ({error.strerror}); nothing was changed") from None
        checkpoints.reached("raw.journaled")
        problems = _apply(self.project, staged)
        if problems:
            raise ProblemError(problems)
        return [str(entry["target"]) for entry in staged]


def _stage(path: Path, blob: bytes) -> Path:
    """The new bytes in a temporary file beside `path`, on disk, with `path`'s permissions."""
    return write_beside(path, blob, sync=True)


def _apply(project: Project, staged: list[dict[str, Any]]) -> list[Problem]:
    """Rename each staged file over its target, unless the target changed in between; then drop
    the journal. Run again after a kill, it finishes what is left."""
    problems, folders = [], set()
    for entry in staged:
        target, temporary = project.root / entry["target"], project.root / entry["staged"]
        if not temporary.exists():
            continue  # renamed before a kill
        if _sha(regular_file_bytes(target)) not in (entry["was"], entry["becomes"]):
            kept = target.with_name(target.name + CONFLICT_SUFFIX)
            os.replace(temporary, kept)
            message = f"changed while etl was writing it; it was left as it is, and etl's version is in {project.relative(kept)}"
            problems.append(Problem(entry["target"], 0, "", message))
            continue
        os.replace(temporary, target)
        folders.add(target.parent)
        checkpoints.reached("raw.renamed")
    for folder in sorted(folders):
        fsync_folder(folder)
    (project.root / JOURNAL).unlink(missing_ok=True)
    fsync_folder(project.root)
    return problems


def recover(project: Project) -> list[Problem]:
    """Finish a change that was journaled, or drop one that was not; delete temporary files that a
    killed writer left in raw/. The caller holds the lock."""
    journal = project.root / JOURNAL
    problems: list[Problem] = []
    if journal.exists() and not journal.is_symlink():
        try:
            staged = json.loads(journal.read_text("utf-8"))
        except (OSError, ValueError):
            staged = []
        problems = _apply(project, staged)
    for name in project.listing():
        if is_temporary(name.rpartition("/")[2]):
            (project.root / name).unlink(missing_ok=True)
    return problems


@contextmanager
def changing(project: Project) -> Iterator[Changes]:
    """The project's lock, with any interrupted change to raw/ finished or dropped first; the block
    collects its changes in the `Changes` it is given and commits them."""
    with exclusive(project.lock_file):
        problems = recover(project)
        if problems:
            raise ProblemError(problems)
        yield Changes(project)


def interrupted(project: Project) -> bool:
    """Whether a change to raw/ was cut short (its journal is still there)."""
    return (project.root / JOURNAL).exists()


# -- Rewriting without losing anything ---------------------------------------------------------------

def comment_lines(text: str) -> list[int]:
    """The lines of `text` that hold a YAML comment (a `#` outside every scalar, after a space or at
    the start of a line): rewriting the file would drop them."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spans = [(token.start_mark.index, token.end_mark.index) for token in yaml.scan(text, Loader=loader)
             if isinstance(token, yaml.ScalarToken)]
    lines, position, span = [], text.find("#"), 0
    while position != -1:
        while span < len(spans) and spans[span][1] <= position:
            span += 1
        inside = span < len(spans) and spans[span][0] <= position
        if not inside and (position == 0 or text[position - 1] in " \t\n"):
            lines.append(text.count("\n", 0, position) + 1)
        position = text.find("#", position + 1)
    return lines


def plain(value: object, without_empty: bool = False) -> object:
    """A parsed record as plain dicts, lists and text, for comparing what two texts say; with
    `without_empty`, keys with no value are left out, as a record's canonical text leaves them out."""
    if isinstance(value, dict):
        return {key: plain(item, without_empty) for key, item in value.items() if not (without_empty and item is None)}
    if isinstance(value, list):
        return [plain(item, without_empty) for item in value]
    return value
