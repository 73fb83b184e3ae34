"""A period's records as files for staff: one XLSX workbook of four right-to-left sheets, or the
same four tables as CSV files (UTF-8 with a BOM, so Excel reads Persian) in a zip.

Dates are Jalali in Tehran time, written `1405-09-07 14:30`: a spreadsheet sorts them as text.
A cell that a spreadsheet would run as a formula (a citizen's note starting with «=») is kept as
text by bot/ui/cells.py, the guard every writer shares: a string cell in XLSX, a leading apostrophe
in CSV.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from bot.ports import ExportQueries
from bot.ui import texts
from bot.ui.cells import Cell, append_row, csv_cell
from desk.calendar import TEHRAN, gregorian_to_jalali, parse_jalali, start_of_day
from desk.model import Request, Status
from desk.reports import ExportData
from desk.routing import Choice, RoutingRules

SCORES = (1, 2, 3, 4, 5)
CHAT_MAX_DAYS = 366  # a longer period is for the command line
CHAT_MAX_BYTES = 50 * 1024 * 1024  # what Telegram and Bale let a bot upload


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table: a sheet of the workbook, or one CSV file."""

    key: str  # the CSV file is export-<key>.csv
    title: str  # the sheet's Persian name
    headers: list[str]
    rows: list[list[Cell]]
    widths: tuple[int, ...] = ()
    wrap: tuple[int, ...] = ()  # 0-based columns whose long text wraps


@dataclass(frozen=True, slots=True)
class QuestionSummary:
    """Answers to one survey question, for all services (service None) or one."""

    service: str | None
    question: str
    count: int
    mean: float | None
    distribution: tuple[int, ...]  # how many answered 1, 2, 3, 4, 5


def stamp(moment: datetime | None) -> str | None:
    """'1405-09-07 14:30' in Tehran time."""
    if moment is None:
        return None
    local = moment.astimezone(TEHRAN)
    year, month, day = gregorian_to_jalali(local.date())
    return f"{year:04d}-{month:02d}-{day:02d} {local:%H:%M}"


def jalali_day(day: date) -> str:
    """'1405-09-07'."""
    return "{:04d}-{:02d}-{:02d}".format(*gregorian_to_jalali(day))


def file_stem(first: date, last: date) -> str:
    """'export-1405-09-01-1405-09-30'."""
    return f"export-{jalali_day(first)}-{jalali_day(last)}"


# --- the tables --------------------------------------------------------------------------------


def _name(choices: tuple[Choice, ...], key: str | None) -> str | None:
    if key is None:
        return None
    return next((c.name for c in choices if c.key == key), key)


def _unit(rules: RoutingRules, key: str | None) -> str | None:
    if key is None:
        return None
    unit = rules.units.get(key)
    return unit.name if unit else key


def _status(request: Request) -> str:
    if request.status is Status.CLOSED and request.close_reason:
        reason = texts.CLOSE_REASONS.get(request.close_reason, request.close_reason)
        return texts.STAFF_CLOSED_WITH.format(reason=reason)
    return texts.EXPORT_STATUS_NAMES[request.status]


def _platform(request: Request) -> str | None:
    return texts.PLATFORM_NAMES.get(request.platform.value) if request.platform else None


def requests_sheet(data: ExportData, rules: RoutingRules) -> Sheet:
    """«درخواست‌ها»: one row per request filed in the period (survey answers have their own)."""
    rows: list[list[Cell]] = []
    for r in data.requests:
        name = r.contact.name or (texts.ANONYMOUS_NAME if r.anonymous else None)
        if r.unnamed:  # never who filed it, only that they chose to stay unnamed
            name = texts.UNNAMED_NAME
        rows.append(
            [
                r.code,
                texts.KIND_NAMES.get(r.kind, r.kind.value),
                _status(r),
                _unit(rules, r.unit),
                _name(rules.topics, r.topic),
                _name(rules.counties, r.county),
                stamp(r.created_at),
                stamp(r.answered_at),
                stamp(r.due_at),
                r.rating,
                r.reopen_count,
                _platform(r),
                name,
                None if r.unnamed else r.contact.phone,
            ]
        )
    return Sheet(
        "requests",
        texts.EXPORT_SHEETS["requests"],
        list(texts.EXPORT_REQUEST_HEADERS),
        rows,
        (12, 18, 24, 30, 18, 14, 17, 17, 17, 10, 10, 10, 22, 14),
    )


def _event_note(action: str, note: str | None, rules: RoutingRules) -> str | None:
    if note and action == "closed":
        return texts.CLOSE_REASONS.get(note, note)
    if note and action == "routed":
        return _unit(rules, note)
    return note


def events_sheet(data: ExportData, rules: RoutingRules) -> Sheet:
    """«رویدادها»: every event in the period, of any request."""
    rows: list[list[Cell]] = []
    for e in data.events:
        if e.status is Status.ROUTED:
            status: str | None = texts.EXPORT_STATUS_ROUTED
        else:
            status = texts.EXPORT_STATUS_NAMES[e.status] if e.status else None
        rows.append(
            [
                e.request_code,
                stamp(e.at),
                texts.EXPORT_ACTIONS.get(e.action, e.action),
                e.actor,
                status,
                _event_note(e.action, e.note, rules),
            ]
        )
    return Sheet(
        "events",
        texts.EXPORT_SHEETS["events"],
        list(texts.EXPORT_EVENT_HEADERS),
        rows,
        (12, 17, 20, 30, 18, 60),
        wrap=(5,),
    )


def answers_of(request: Request) -> tuple[str | None, dict[str, int]]:
    """(service, {question: score}) of a survey answer; malformed scores are left out."""
    survey = request.survey or {}
    service = survey.get("service")
    answers: dict[str, int] = {}
    given = survey.get("answers")
    for answer in given if isinstance(given, list) else []:
        if not isinstance(answer, dict):
            continue
        try:
            score = int(answer.get("score"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if score in SCORES and answer.get("question"):
            answers[str(answer["question"])] = score
    return (str(service) if service else None), answers


def _ordered(configured: Iterable[str], seen: Iterable[str | None]) -> list[str]:
    """Configured ones first, in their order, then any others answered under an older config."""
    out = list(dict.fromkeys(configured))
    out += [s for s in dict.fromkeys(seen) if s is not None and s not in out]
    return out


def survey_questions(surveys: list[Request], rules: RoutingRules) -> list[str]:
    """The questions, one column each."""
    return _ordered(rules.survey.questions, (q for r in surveys for q in answers_of(r)[1]))


def survey_sheet(data: ExportData, rules: RoutingRules) -> Sheet:
    """«نظرسنجی»: one row per survey answer, one column per question with its score."""
    questions = survey_questions(data.surveys, rules)
    rows: list[list[Cell]] = []
    for r in data.surveys:
        service, answers = answers_of(r)
        rows.append(
            [r.code, stamp(r.created_at), service, *(answers.get(q) for q in questions),
             r.text or None]
        )  # fmt: skip
    headers = [*texts.EXPORT_SURVEY_HEADERS, *questions, texts.EXPORT_SURVEY_COMMENT]
    widths = (12, 17, 30, *(14 for _ in questions), 50)
    return Sheet(
        "survey", texts.EXPORT_SHEETS["survey"], headers, rows, widths, wrap=(len(headers) - 1,)
    )


def _summary(service: str | None, question: str, scores: list[int]) -> QuestionSummary:
    distribution = tuple(scores.count(s) for s in SCORES)
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return QuestionSummary(service, question, len(scores), mean, distribution)


def survey_summary(surveys: list[Request], rules: RoutingRules) -> list[QuestionSummary]:
    """Per question for all services, then per question for each service that was rated."""
    questions = survey_questions(surveys, rules)
    parsed = [answers_of(r) for r in surveys]
    services = _ordered(rules.survey.services, (s for s, _ in parsed))
    out = [
        _summary(None, q, [a[q] for _, a in parsed if q in a]) for q in questions
    ]  # every question, even unanswered ones
    for service in services:
        mine = [a for s, a in parsed if s == service]
        if mine:
            out += [_summary(service, q, [a[q] for a in mine if q in a]) for q in questions]
    return out


def summary_sheet(data: ExportData, rules: RoutingRules) -> Sheet:
    """«خلاصه نظرسنجی»: count, mean and the 1..5 distribution of each question."""
    rows: list[list[Cell]] = [
        [s.service or texts.EXPORT_ALL_SERVICES, s.question, s.count, s.mean, *s.distribution]
        for s in survey_summary(data.surveys, rules)
    ]
    return Sheet(
        "survey-summary",
        texts.EXPORT_SHEETS["survey_summary"],
        [*texts.EXPORT_SUMMARY_HEADERS, *texts.LIKERT_LABELS],
        rows,
        (30, 50, 12, 10, 10, 10, 10, 10, 10),
        wrap=(1,),
    )


def sheets(data: ExportData, rules: RoutingRules) -> list[Sheet]:
    """The four tables of an export, in order."""
    return [
        requests_sheet(data, rules),
        events_sheet(data, rules),
        survey_sheet(data, rules),
        summary_sheet(data, rules),
    ]


# --- the files ---------------------------------------------------------------------------------


def workbook(tables: list[Sheet]) -> bytes:
    """An .xlsx file: one right-to-left sheet per table, bold frozen header, filters on."""
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    for table in tables:
        sheet = book.create_sheet(table.title)
        sheet.sheet_view.rightToLeft = True
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            append_row(sheet, row)
        for index, width in enumerate(table.widths, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
        for row in sheet.iter_rows(min_row=2):
            for index in table.wrap:
                row[index].alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_file(table: Sheet) -> bytes:
    """One table as CSV, UTF-8 with a BOM."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([csv_cell(v) for v in row] for row in table.rows)
    return text.getvalue().encode("utf-8-sig")


def csv_files(tables: list[Sheet]) -> dict[str, bytes]:
    """{'export-requests.csv': …, 'export-events.csv': …, …}."""
    return {f"export-{t.key}.csv": csv_file(t) for t in tables}


def csv_zip(tables: list[Sheet]) -> bytes:
    """The CSV files in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in csv_files(tables).items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- in an admin chat --------------------------------------------------------------------------


class PeriodError(ValueError):
    """`/export`'s arguments are not a period: `reason` is usage, date, order or long."""

    def __init__(self, reason: str, value: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


def parse_period(args: str | None, *, max_days: int | None = None) -> tuple[date, date]:
    """'1405-09-01 1405-09-30' (Persian digits welcome) → the first and last day."""
    parts = (args or "").split()
    if len(parts) != 2:
        raise PeriodError("usage")
    days = []
    for part in parts:
        try:
            days.append(parse_jalali(part))
        except ValueError:
            raise PeriodError("date", part) from None
    first, last = days
    if first > last:
        raise PeriodError("order")
    if max_days is not None and (last - first).days + 1 > max_days:
        raise PeriodError("long")
    return first, last


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """[00:00 Tehran of the first day, 00:00 Tehran of the day after the last)."""
    return start_of_day(first), start_of_day(last + timedelta(days=1))


async def xlsx_for(
    records: ExportQueries, rules: RoutingRules, first: date, last: date
) -> tuple[bytes, ExportData]:
    """The period's workbook, built off the event loop, and what it holds."""
    data = await records.period(*period(first, last))
    content = await asyncio.to_thread(lambda: workbook(sheets(data, rules)))
    return content, data
