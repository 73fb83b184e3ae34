"""Cells of every spreadsheet and CSV file the bot writes: a citizen's text is never a formula.

A spreadsheet runs a cell as a formula when it starts with = + - or @ (a tab or a carriage return
can start one too), also after leading spaces, and some read the full-width look-alikes
U+FF1D U+FF0B U+FF0D U+FF20 the same way. In XLSX such a cell is stored with the explicit string
type; in CSV, which has no types, it gets a leading apostrophe. Both go through `formula_like`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

Cell = str | int | float | None
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf")


def formula_like(value: str) -> bool:
    """True when a spreadsheet could read the text as a formula (after any leading blanks)."""
    if value.startswith(FORMULA_START):
        return True
    start = 0
    while start < len(value) and _invisible(value[start]):
        start += 1
    return value.startswith(FORMULA_START, start)


def csv_cell(value: Cell) -> Cell:
    """A CSV field: formula-like text gets a leading apostrophe, so it shows as text."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def xlsx_cell(value: Cell) -> Cell:
    """A value for openpyxl, without the characters XML cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def append_row(sheet: Worksheet, values: Iterable[Cell]) -> None:
    """Append one row of data; formula-like text is stored as an explicit string cell."""
    row = [xlsx_cell(v) for v in values]
    sheet.append(row)
    for cell, value in zip(sheet[sheet.max_row], row, strict=False):
        if isinstance(value, str) and (cell.data_type == "f" or formula_like(value)):
            cell.data_type = "s"
