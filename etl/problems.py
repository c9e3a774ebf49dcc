"""A problem found in the raw records, and its text and JSON forms."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the raw records: where it is, which field, what is wrong and what is allowed."""

    file: str
    line: int
    field: str
    message: str

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ProblemError(Exception):
    """Raised when problems stop a command; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(set(problems))


def as_text(problems: list[Problem]) -> str:
    return "\n".join(p.text() for p in sorted(problems))


def as_json(problems: list[Problem]) -> str:
    return json.dumps({"problems": [asdict(p) for p in sorted(problems)]}, indent=2, ensure_ascii=False)


class CommandError(Exception):
    """A command cannot do what was asked, for a reason the user can act on (not a data problem):
    printed as `Error: MESSAGE`, exit code 1."""
