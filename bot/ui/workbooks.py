"""Comments on a draft as an Excel workbook, right-to-left, one row per comment."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from bot.ui import texts
from bot.ui.cells import append_row
from bot.ui.render import commenter_role, jalali, section_label
from desk.model import Draft, Request


def comments_workbook(draft: Draft, comments: list[Request]) -> bytes:
    """An .xlsx file of every comment for the draft's unit; a comment is text, never a formula."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = texts.XLSX_SHEET
    sheet.sheet_view.rightToLeft = True
    sheet.append(list(texts.XLSX_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for request in comments:
        append_row(
            sheet,
            [
                request.code,
                jalali(request.created_at),
                section_label(draft, request.section),
                request.text,
                request.contact.name or "",
                commenter_role(request),
                texts.PLATFORM_NAMES.get(request.platform.value if request.platform else "", ""),
                len(request.attachments),
            ],
        )
    for column, width in zip("ABCDEFGH", (14, 24, 16, 80, 24, 22, 12, 8), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
