"""Reading ICE's 287(g) workbooks: the rows as ICE wrote them, which list a file is (from its columns,
whatever its name says), and when ICE saved it (the workbook's own properties)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import dates, reference
from ..problems import CommandError

PARTICIPATING, PENDING = "ice_287g_participating", "ice_287g_pending"
MODELS = {
    "jail enforcement model": "287g_jail_enforcement",
    "task force model": "287g_task_force",
    "warrant service officer": "287g_warrant_service_officer",
}
# ICE's own misspellings, read as what they plainly mean (every one seen in the archived editions)
STATE_SPELLINGS = {"PENNSLYVANIA": "PA", "WEST VIRIGINIA": "WV", "WEST VIRIGINA": "WV", "MCHIGAN": "MI", "UTAHJ": "UT"}
MODEL_SPELLINGS = {
    "warrant services officer": "287g_warrant_service_officer", "warrant service office": "287g_warrant_service_officer",
    "task force officer": "287g_task_force", "jail enforcment model": "287g_jail_enforcement",
}
REQUIRED = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "SUPPORT TYPE"]  # early 2025 editions have no COUNTY
FILE_NAME = re.compile(r"(participating|pending)Agencies(\d{2})(\d{2})(\d{4})", re.IGNORECASE)
EXCEL_EPOCH = dt.date(1899, 12, 30)
MAX_WORKBOOK_BYTES = 200 * 1024 * 1024  # ICE's largest edition expands to a few MB; a zip bomb to far more
SAVED = re.compile(r"<dcterms:modified[^>]*>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z?</dcterms:modified>")


class ImportError_(CommandError):
    """The file is not an edition we can read; nothing was written."""


@dataclass(frozen=True)
class Row:
    state: str  # USPS code
    agency: str
    agency_type: str
    county: str
    model: str  # an arrangement value
    signed_text: str  # SIGNED as ICE wrote it ("" for pending)
    signed: dt.date | None
    number: int = 0  # the sheet's row number (header = 1); not part of what ICE says


@dataclass
class Workbook:
    name: str  # the file's name as obtained
    sha256: str
    kind: str  # PARTICIPATING or PENDING, from the columns
    saved: dt.datetime | None  # when ICE last saved it (UTC), from docProps/core.xml
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rows we could not read, with the reason

    @property
    def named_kind(self) -> str | None:
        match = FILE_NAME.search(self.name)
        return f"ice_287g_{match.group(1).lower()}" if match else None

    @property
    def named_date(self) -> dt.date | None:
        """The date the file's name gives, if it is a date at all (`090022025` is not)."""
        match = FILE_NAME.search(self.name)
        if not match:
            return None
        month, day, year = (int(g) for g in match.group(2, 3, 4))
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None

    @property
    def latest_signed(self) -> dt.date | None:
        """The latest SIGNED day in the list that is not after ICE saved it (`5025-07-07` is a typo)."""
        limit = self.saved.date() if self.saved else dates.today()
        return max((row.signed for row in self.rows if row.signed and row.signed <= limit), default=None)

    def renamed(self, name: str) -> Workbook:
        """The same workbook under another name it was obtained under."""
        return Workbook(name, self.sha256, self.kind, self.saved, self.rows, [p.replace(self.name, name, 1) for p in self.problems])

    def content(self) -> tuple:
        """What the list says, without row numbers: two files with the same content are one edition."""
        return tuple(sorted(_identity(row) for row in self.rows))


def _identity(row: Row) -> tuple:
    return (row.state, row.agency, row.agency_type, row.county, row.model, row.signed_text)


def read_workbook(path: Path, name: str | None = None) -> Workbook:
    """Read one of ICE's 287(g) workbooks; refuse a file that is not such a list."""
    blob = path.read_bytes()
    name = name or path.name
    cells = workbook_cells(path, name)
    header_at, header = _find_header(cells, name)
    column = {title: header.index(title) for title in header if title}
    kind = PARTICIPATING if "SIGNED" in column else PENDING
    book = Workbook(name, hashlib.sha256(blob).hexdigest(), kind, saved_time(path))
    states = {state.upper(): usps for usps, state in reference.state_names_by_usps().items()} | STATE_SPELLINGS
    models = MODELS | MODEL_SPELLINGS
    for number, values in enumerate(cells[header_at + 1:], start=header_at + 2):
        cell = {title: cell_text(values[index]) if index < len(values) else "" for title, index in column.items()}
        if not any(cell.values()):
            continue
        problem = _row_problem(cell, states, models)
        if problem:
            book.problems.append(f"{name} row {number}: {problem}")
            continue
        signed_text, signed = _signed_as_written(values[column["SIGNED"]] if kind == PARTICIPATING and column["SIGNED"] < len(values) else None)
        book.rows.append(Row(states[cell["STATE"].upper()], cell["LAW ENFORCEMENT AGENCY"], cell["TYPE"], cell.get("COUNTY", ""),
                             models[cell["SUPPORT TYPE"].lower()], signed_text, signed, number))
    return book


def workbook_cells(path: Path, name: str, sheet: Callable[[list[str]], str | None] | None = None) -> list[tuple]:
    """The rows of the first sheet (or of the one `sheet` chooses from the sheets' names); ImportError_
    for anything that is not a readable, reasonable workbook (a truncated file, a zip that expands to
    too much, XML that cannot be parsed, no such sheet)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportError_(f"{name}: is not an Excel workbook (.xlsx) that can be read ({type(error).__name__})") from None
    if expanded > MAX_WORKBOOK_BYTES:
        raise ImportError_(f"{name}: expands to {expanded:,} bytes, more than an ICE list ever holds ({MAX_WORKBOOK_BYTES:,}); refused")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise ImportError_(f"{name}: holds no sheet")
            chosen = sheet(workbook.sheetnames) if sheet else workbook.sheetnames[0]
            if chosen is None:
                raise ImportError_(f"{name}: holds no sheet of the kind expected (its sheets: {', '.join(workbook.sheetnames)})")
            return [tuple(row) for row in workbook[chosen].iter_rows(values_only=True)]
        finally:
            workbook.close()
    except ImportError_:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged file: each is a file we cannot read
        raise ImportError_(f"{name}: is not an Excel workbook (.xlsx) that can be read ({type(error).__name__})") from None


def saved_time(path: Path) -> dt.datetime | None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            core = archive.read("docProps/core.xml").decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    match = SAVED.search(core)
    return dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC) if match else None


def _find_header(rows: list[tuple], name: str) -> tuple[int, list[str]]:
    for index, values in enumerate(rows[:20]):
        header = [cell_text(v).upper() for v in values]
        if all(title in header for title in REQUIRED):
            return index, header
    raise ImportError_(f"{name}: is not an ICE 287(g) agencies list (no header row with the columns {', '.join(REQUIRED)})")


def _row_problem(cell: dict, states: dict, models: dict) -> str | None:
    if cell["STATE"].upper() not in states:
        return f"STATE {cell['STATE']!r} is not a US state"
    if not cell["LAW ENFORCEMENT AGENCY"]:
        return "LAW ENFORCEMENT AGENCY is empty"
    if cell["SUPPORT TYPE"].lower() not in models:
        return f"SUPPORT TYPE {cell['SUPPORT TYPE']!r} is not a 287(g) model we know ({', '.join(m.title() for m in MODELS)})"
    return None


def cell_text(value) -> str:
    return "" if value is None else " ".join(str(value).split())


def _signed_as_written(value) -> tuple[str, dt.date | None]:
    """SIGNED as ICE wrote it, and the day it names when it names one unambiguously."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), value.date()
    if isinstance(value, dt.date):
        return value.isoformat(), value
    if isinstance(value, (int, float)) and 20000 < value < 80000:  # an Excel serial day number
        day = EXCEL_EPOCH + dt.timedelta(days=int(value))
        return day.isoformat(), day
    text = cell_text(value)
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match:
        try:
            return text, dt.date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        except ValueError:
            pass
    return text, None  # e.g. "7/72025": kept as written, never read as a day
