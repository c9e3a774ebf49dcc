"""Which edition of ICE's 287(g) lists a workbook is, and its date, from evidence.

An edition is one list (participating or pending, told by its columns: only the participating list
has SIGNED) as ICE saved it: files with the same list, the same save time (the workbook's
`dcterms:modified`) and the same rows are one edition, however many names archivists gave them.

Its date is the date in a file's name when that name is believable: a real date, no earlier than the
day before ICE saved the workbook (times are UTC) and at most a week after it, and no earlier than the
latest SIGNED day inside. Otherwise it is the day ICE saved the workbook, and `date_basis` says why
the name was not believed (`participatingAgencies01052025pm.xlsx`, saved on 2026-01-05 with SIGNED
days up to 2025-12-18, is the edition of 2026-01-05).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from .sheets import PARTICIPATING, ImportError_, Row, Workbook

NAME_AFTER_SAVE = dt.timedelta(days=7)  # ICE's files are named when posted, days after the save at most
NAME_BEFORE_SAVE = dt.timedelta(days=1)  # a save late in the day (UTC) may carry the next day's date


@dataclass
class Edition:
    kind: str
    saved: dt.datetime | None
    books: list[Workbook]  # the files holding it, by name
    published: dt.date
    date_basis: str
    suffix: str = ""  # set where another edition of the list has the same save time

    @property
    def source_id(self) -> str:
        list_name = self.kind.removeprefix("ice_287g_")
        stamp = self.saved.strftime("%Y-%m-%d-%H%M%Sz") if self.saved else f"{self.published.isoformat()}-{self.books[0].sha256[:8]}"
        return f"ice-287g-{list_name}-{stamp}" + (f"-{self.suffix}" if self.suffix else "")

    @property
    def rows(self) -> list[Row]:
        return self.books[0].rows

    @property
    def order(self) -> tuple:
        """Editions of a list in the order ICE saved them."""
        return (self.saved or dt.datetime.combine(self.published, dt.time(), dt.UTC), self.source_id)


def editions_of(books: list[Workbook]) -> list[Edition]:
    """The editions that the workbooks hold, each dated, in the order ICE saved them."""
    groups: dict[tuple, list[Workbook]] = {}
    for book in sorted(books, key=lambda b: b.name):
        key = (book.kind, book.saved, book.content()) if book.saved else (book.kind, None, book.sha256)
        groups.setdefault(key, []).append(book)
    found = [_dated(group) for group in groups.values()]
    saved = Counter((edition.kind, edition.saved) for edition in found)
    for edition in found:  # two contents saved at one second: each id says which content it is
        if saved[(edition.kind, edition.saved)] > 1:
            edition.suffix = edition.books[0].sha256[:8]
    return sorted(found, key=lambda e: e.order)


def _dated(books: list[Workbook]) -> Edition:
    kind, saved = books[0].kind, books[0].saved
    doubts = [doubt for book in books if (doubt := name_doubt(book))]
    believed = sorted((book.named_date, book.name) for book in books if book.named_date and not name_doubt(book))
    if believed:
        day, name = believed[0]
        basis = f"the date in the file name {name}"
        if saved:
            basis += f"; ICE saved the workbook at {saved:%Y-%m-%d %H:%M} UTC"
    elif saved:
        day, basis = saved.date(), f"the day ICE saved the workbook ({saved:%Y-%m-%d %H:%M} UTC)"
    else:
        raise ImportError_(f"{books[0].name}: neither its name nor the workbook's properties give a believable date "
                           f"({'; '.join(doubts) or 'the workbook has no save time'})")
    basis += "".join(f"; {doubt}" for doubt in doubts)
    mislabelled = [book.name for book in books if book.named_kind and book.named_kind != kind]
    if mislabelled:
        what = "has SIGNED, as only the participating list does" if kind == PARTICIPATING else "has no SIGNED column, as the pending list"
        basis += f"; {', '.join(mislabelled)} is named for the other list, but its sheet {what}"
    return Edition(kind, saved, books, day, basis + ".")


def name_doubt(book: Workbook) -> str | None:
    """Why the date in the file's name cannot be the edition's, or None when it can."""
    named = book.named_date
    if named is None:
        return f"the name {book.name} holds no valid date"
    if book.saved:
        saved = book.saved.date()
        if named < saved - NAME_BEFORE_SAVE or named > saved + NAME_AFTER_SAVE:
            return f"the name {book.name} says {named.isoformat()}, but ICE saved the workbook on {saved.isoformat()}"
    latest = book.latest_signed
    if latest and named < latest:
        return f"the name {book.name} says {named.isoformat()}, before SIGNED days inside it (up to {latest.isoformat()})"
    return None
