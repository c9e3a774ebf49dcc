"""Dates as the sources support them: `2018`, `2018-07`, `2018-07-10`, `START/END` and `../END`."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_PART = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?\Z")  # ASCII digits only: int() reads others too


def bounds(text: str) -> tuple[str, dt.date | None, dt.date]:
    """(precision, first possible day, last possible day); ValueError when `text` is no such date."""
    if text.startswith("../"):
        return "before", None, _bounds_of_part(text[3:])[2]
    if "/" in text:
        start, end = text.split("/", 1)
        return "range", _bounds_of_part(start)[1], _bounds_of_part(end)[2]
    return _bounds_of_part(text)


def earliest_end(text: str) -> dt.date:
    """The first day on which the date, as written, can have ended: of its last part (`2018`,
    `2018-07-10`, the END of `START/END` and of `../END`). A date after today cannot have happened."""
    return _bounds_of_part(text.rpartition("/")[2])[1]


def today() -> dt.date:
    """Today in UTC, so that what a run decides does not depend on the time zone it ran in."""
    return dt.datetime.now(dt.UTC).date()


def day(text: str) -> dt.date:
    """A single day written YYYY-MM-DD; ValueError otherwise."""
    precision, first, _ = _bounds_of_part(text)
    if precision != "day":
        raise ValueError(text)
    return first


def _bounds_of_part(text: str) -> tuple[str, dt.date, dt.date]:
    match = _PART.match(text)
    if not match:
        raise ValueError(text)
    year_text, month_text, day_text = match.groups()
    year = int(year_text)
    if month_text is None:
        return "year", dt.date(year, 1, 1), dt.date(year, 12, 31)
    month = int(month_text)
    if day_text is None:
        last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0  # month 13: date() refuses
        return "month", dt.date(year, month, 1), dt.date(year, month, last)
    day_date = dt.date(year, month, int(day_text))
    return "day", day_date, day_date
