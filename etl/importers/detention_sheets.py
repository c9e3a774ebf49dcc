"""Reading ICE's detention statistics workbooks: the facilities sheet (`Facilities FY25`, `Facilities
FY26`), each row as ICE wrote it, with the figures it gives, and the day its data were pulled (the
sheet's heading: "Data Source: ICE Integrated Decision Support (IIDS), 04/02/2026")."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import reference
from .sheets import ImportError_, cell_text, saved_time, workbook_cells

SHEET = re.compile(r"^Facilities FY(\d\d)$")
DATA_DATE = re.compile(r"Data Source:.*?(\d{2})/(\d{2})/(\d{4})")
FILE_DATE = re.compile(r"detentionStats_?(\d{2})(\d{2})(\d{4})", re.IGNORECASE)
IDENTITY = {"Name": "name", "Address": "address", "City": "city", "State": "state", "Zip": "zip", "AOR": "aor", "Type Detailed": "type_detailed"}
NUMBERS = {  # ICE's column -> the figure's field (schemas/detention_figures.schema.json); ALOS's title names the fiscal year
    "ALOS": "alos_days", "Level A": "adp_level_a", "Level B": "adp_level_b", "Level C": "adp_level_c", "Level D": "adp_level_d",
    "Male Crim": "adp_male_criminal", "Male Non-Crim": "adp_male_non_criminal", "Female Crim": "adp_female_criminal",
    "Female Non-Crim": "adp_female_non_criminal", "ICE Threat Level 1": "adp_threat_level_1", "ICE Threat Level 2": "adp_threat_level_2",
    "ICE Threat Level 3": "adp_threat_level_3", "No ICE Threat Level": "adp_no_threat_level", "Mandatory": "adp_mandatory",
    "Guaranteed Minimum": "guaranteed_minimum",
}
TEXTS = {"Male/Female": "male_female", "Last Inspection Type": "last_inspection_type", "Last Inspection Standard": "last_inspection_standard",
         "Last Final Rating": "last_final_rating"}
REQUIRED = [*IDENTITY, "Level A"]


@dataclass(frozen=True)
class FacilityRow:
    name: str
    address: str
    city: str
    state: str  # as written (ICE leaves it empty in a few rows)
    zip: str  # five digits (ICE's numbers lose a leading zero), or as written
    aor: str
    type_detailed: str
    figures: tuple[tuple[str, str], ...]  # (field, value as text) for every figure the row gives
    number: int = 0  # the sheet's row number

    @property
    def identity(self) -> tuple[str, ...]:
        return (self.state, self.name, self.address, self.city, self.zip, self.aor, self.type_detailed)


@dataclass
class DetentionBook:
    name: str
    sha256: str
    fiscal_year: int
    data_date: dt.date
    saved: dt.datetime | None
    rows: list[FacilityRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def named_date(self) -> dt.date | None:
        """The date in the file's name (when ICE posted it, as the archivists named it), if it is one."""
        match = FILE_DATE.search(self.name)
        if not match:
            return None
        month, day, year = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None

    def renamed(self, name: str) -> DetentionBook:
        return DetentionBook(name, self.sha256, self.fiscal_year, self.data_date, self.saved, self.rows,
                             [p.replace(self.name, name, 1) for p in self.problems])


def _facilities_sheet(names: list[str]) -> str | None:
    return next((name for name in names if SHEET.match(name.strip())), None)


def read_detention_workbook(path: Path, name: str | None = None) -> DetentionBook:
    """Read the facilities sheet of one of ICE's detention statistics workbooks; refuse anything else."""
    name = name or path.name
    cells = workbook_cells(path, name, _facilities_sheet)
    header_at = next((i for i, values in enumerate(cells[:30]) if all(t in [cell_text(v) for v in values] for t in REQUIRED)), None)
    if header_at is None:
        raise ImportError_(f"{name}: its facilities sheet has no header row with the columns {', '.join(REQUIRED)}")
    data_date = _data_date(cells[:header_at], name)
    titles = [cell_text(v) for v in cells[header_at]]
    year = next((int(m.group(1)) for t in titles if (m := re.fullmatch(r"FY(\d\d) ALOS", t))), None)
    if year is None:
        raise ImportError_(f"{name}: its facilities sheet has no FYnn ALOS column, so its fiscal year is unknown")
    book = DetentionBook(name, hashlib.sha256(path.read_bytes()).hexdigest(), 2000 + year, data_date, saved_time(path))
    column = {re.sub(r"^FY\d\d ", "", title): index for index, title in enumerate(titles) if title}
    for number, values in enumerate(cells[header_at + 1:], start=header_at + 2):
        row, problems = _row(values, column, number)
        book.problems += [f"{name} row {number}: {problem}" for problem in problems]
        if row is not None:
            book.rows.append(row)
    if not book.rows:
        raise ImportError_(f"{name}: its facilities sheet lists no facility (an empty or cut-off sheet is not an edition)")
    return book


def _data_date(heading: list[tuple], name: str) -> dt.date:
    for values in heading:
        for value in values:
            match = DATA_DATE.search(cell_text(value))
            if match:
                month, day, year = (int(g) for g in match.groups())
                try:
                    return dt.date(year, month, day)
                except ValueError:
                    raise ImportError_(f"{name}: the sheet's data date {match.group(0)!r} is not a date") from None
    raise ImportError_(f"{name}: the facilities sheet's heading gives no data date (\"Data Source: ..., MM/DD/YYYY\")")


def _row(values: tuple, column: dict[str, int], number: int) -> tuple[FacilityRow | None, list[str]]:
    """The row as ICE wrote it (None for an empty row or one that names no facility), and what in it
    could not be read: a figure that is not a number is left empty, and said."""
    def cell(title: str):
        index = column.get(title)
        return values[index] if index is not None and index < len(values) else None

    said = {key: cell_text(cell(title)) for title, key in IDENTITY.items()}
    if not any(said.values()):
        return None, []
    if not said["name"]:
        return None, ["Name is empty; the row is left out"]
    if said["state"] and said["state"].upper() not in reference.state_fips_by_usps():
        return None, [f"State {said['state']!r} is not a USPS code; the row is left out"]
    problems = []
    said["state"] = said["state"].upper()
    zip_value = cell("Zip")
    said["zip"] = f"{zip_value:05d}" if isinstance(zip_value, int) else said["zip"]
    figures = []
    for title, key in NUMBERS.items():
        value = cell(title)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            figures.append((key, _number(value)))
        elif cell_text(value):
            problems.append(f"{title} {cell_text(value)!r} is not a number; that figure is left empty")
    for title, key in TEXTS.items():
        if cell_text(cell(title)):
            figures.append((key, cell_text(cell(title))))
    ended = cell("Last Inspection End Date")
    notes = [cell_text(ended) if not isinstance(ended, dt.datetime) else "", cell_text(cell("Pending FY25 Inspection"))]
    if isinstance(ended, dt.datetime):
        figures.append(("last_inspection_end", ended.date().isoformat()))
    if any(notes):
        figures.append(("inspection_note", "; ".join(n for n in notes if n)))
    return FacilityRow(said["name"], said["address"], said["city"], said["state"], said["zip"], said["aor"], said["type_detailed"],
                       tuple(sorted(figures)), number), problems


def _number(value: int | float) -> str:
    """A figure as text that reads back to the same number (ICE's averages carry 15 digits)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
