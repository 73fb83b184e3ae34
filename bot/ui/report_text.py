"""Reports to admin text and charts: Persian digits, Jalali dates, durations in days and hours.

`desk.reports` computes the numbers; this module only says them (`report_blocks`,
`overdue_lines`) and hands the per-unit counts to `bot.ui.charts` (`report_chart`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bot.runtime.platforms import Raw, Renderer
from bot.ui import charts, texts
from bot.ui.render import code, jalali, unit_name
from desk.calendar import start_of_day
from desk.model import Kind, Request
from desk.reports import NOT_ANSWERED, Period, Report, Row, days_late
from desk.routing import RoutingRules
from desk.text import to_persian_digits


def duration(value: timedelta | None) -> str:
    """«۲ روز و ۳ ساعت», «۵ ساعت و ۱۰ دقیقه», «۴۵ دقیقه»: the two largest units, rounded down."""
    if value is None:
        return texts.NOT_GIVEN
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts = [texts.REPORT_DAYS.format(n=days)]
        if hours:
            parts.append(texts.REPORT_HOURS.format(n=hours))
    elif hours:
        parts = [texts.REPORT_HOURS.format(n=hours)]
        if minutes:
            parts.append(texts.REPORT_MINUTES.format(n=minutes))
    elif minutes:
        parts = [texts.REPORT_MINUTES.format(n=minutes)]
    else:
        return texts.REPORT_UNDER_A_MINUTE
    return to_persian_digits(texts.REPORT_AND.join(parts))


def decimal(value: float, places: int = 1) -> str:
    """4.25 → «۴٫۳»: rounded half up, with the Persian decimal separator."""
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    return to_persian_digits(str(rounded)).replace(".", "٫")


def percent(value: float | None) -> str:
    """0.25 → «۲۵٪»; a dash when there is nothing to divide by."""
    if value is None:
        return texts.NOT_GIVEN
    return decimal(value * 100, 0) + "٪"


def satisfaction(row: Row) -> str:
    """«۴٫۳ از ۵ (۳ امتیاز)», or a dash when nobody rated."""
    if row.satisfaction is None:
        return texts.NOT_GIVEN
    return texts.REPORT_SATISFACTION.format(
        mean=decimal(row.satisfaction), count=to_persian_digits(row.ratings)
    )


def period_text(period: Period) -> str:
    """«۱ آذر ۱۴۰۵ تا ۱۵ آذر ۱۴۰۵ (این ماه)»: the Tehran days the period covers."""
    first = jalali(start_of_day(period.first_day), with_time=False)
    last = jalali(start_of_day(period.last_day), with_time=False)
    name = texts.REPORT_PERIOD_NAMES.get(period.name, "")
    return texts.REPORT_PERIOD.format(first=first, last=last) + (f" ({name})" if name else "")


def _row_lines(ui: Renderer, title: str, row: Row, *, answered: bool = True) -> str:
    lines = [ui.bold(title)]
    if not answered:
        lines.append(ui.fmt(texts.REPORT_READ_ONLY, received=to_persian_digits(row.received)))
        return "\n".join(lines)
    lines.append(
        ui.fmt(
            texts.REPORT_COUNTS,
            received=to_persian_digits(row.received),
            answered=to_persian_digits(row.answered),
            closed=to_persian_digits(row.closed),
            open=to_persian_digits(row.open),
            overdue=to_persian_digits(row.overdue),
            read_only=Raw(
                texts.REPORT_COUNTS_READ_ONLY.format(count=to_persian_digits(row.read_only))
                if row.read_only
                else ""
            ),
        )
    )
    lines.append(
        ui.fmt(texts.REPORT_TIMES, first=duration(row.first_response),
               answer=duration(row.to_answer))
    )  # fmt: skip
    lines.append(
        ui.fmt(texts.REPORT_QUALITY, reopen=percent(row.reopen_rate),
               satisfaction=satisfaction(row))
    )  # fmt: skip
    return "\n".join(lines)


def report_blocks(ui: Renderer, report: Report, period: Period, rules: RoutingRules) -> list[str]:
    """The report as blocks of lines (the heading, the total, one per unit, one per kind), to be
    joined into messages under the length limit without cutting a block in two."""
    heading = "\n".join(
        [
            ui.bold(texts.REPORT_TITLE),
            ui.fmt(texts.REPORT_RANGE, period=period_text(period), now=jalali(report.now)),
        ]
    )
    if report.total.received == 0:
        return [heading, texts.REPORT_EMPTY]
    units = [
        _row_lines(ui, "▫️ " + unit_name(rules, row.key or None), row) for row in report.by_unit
    ]
    kinds = [
        _row_lines(ui, "▫️ " + texts.KIND_NAMES[Kind(row.key)], row,
                   answered=Kind(row.key) not in NOT_ANSWERED)
        for row in report.by_kind
    ]  # fmt: skip
    # a section's heading stays with its first row, so a message never ends on a bare heading
    units[0] = f"{ui.bold(texts.REPORT_BY_UNIT)}\n\n{units[0]}"
    kinds[0] = f"{ui.bold(texts.REPORT_BY_KIND)}\n\n{kinds[0]}"
    blocks = [heading, _row_lines(ui, texts.REPORT_TOTAL, report.total), *units, *kinds]
    blocks.append(texts.REPORT_FOOTNOTE)
    return blocks


def report_chart(report: Report, period: Period, rules: RoutingRules) -> bytes | None:
    """Received, answered and overdue per unit as a PNG; None when nothing was received."""
    if report.total.received == 0:
        return None
    rows = report.by_unit[: charts.MAX_BARS]
    return charts.grouped_bars(
        texts.REPORT_CHART_TITLE,
        [unit_name(rules, row.key or None) for row in rows],
        [
            (texts.REPORT_CHART_SERIES[0], [row.received for row in rows]),
            (texts.REPORT_CHART_SERIES[1], [row.answered for row in rows]),
            (texts.REPORT_CHART_SERIES[2], [row.overdue for row in rows]),
        ],
        subtitle=period_text(period),
    )


def card_url(chat_id: int, message_id: int) -> str | None:
    """The t.me link to a message in a Telegram supergroup (ids -100XXXXXXXXXX); None for
    other chats, which have no public message links."""
    text = str(chat_id)
    if not text.startswith("-100") or len(text) <= 4:
        return None
    return f"https://t.me/c/{text[4:]}/{message_id}"


def overdue_lines(
    ui: Renderer,
    requests: list[Request],
    rules: RoutingRules,
    now: datetime,
    links: dict[str, str],
) -> list[str]:
    """The heading and one line per overdue request; the code links to its card where `links`
    has a URL for it (Telegram only)."""
    if not requests:
        return [texts.OVERDUE_NONE]
    lines = [ui.bold(texts.OVERDUE_TITLE.format(count=to_persian_digits(len(requests))))]
    for request in requests:
        shown = to_persian_digits(request.code)
        url = links.get(request.code)
        if url and ui.html:
            label = Raw(f'<a href="{url}">{ui.esc(shown)}</a>')
        else:
            label = code(ui, request.code)
        late = days_late(request, now)
        lines.append(
            ui.fmt(
                texts.OVERDUE_LINE,
                code=label,
                kind=texts.KIND_NAMES[request.kind],
                unit=unit_name(rules, request.unit),
                due=jalali(request.due_at, with_time=False) if request.due_at else texts.NOT_GIVEN,
                late=texts.OVERDUE_DAYS.format(n=to_persian_digits(late)),
            )
        )
    return lines


def _pack(parts: list[str], separator: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for part in parts:
        if current and len(current) + len(separator) + len(part) > limit:
            out.append(current)
            current = ""
        current = f"{current}{separator}{part}" if current else part
    if current:
        out.append(current)
    return out


def line_messages(lines: list[str], limit: int) -> list[str]:
    """Rendered lines joined into messages of at most `limit` characters, cut only between
    lines, so no message ends inside an escaped value or a tag."""
    return _pack(lines, "\n", limit)


def messages(blocks: list[str], limit: int) -> list[str]:
    """Blocks joined by blank lines into messages of at most `limit` characters; a block is
    never cut unless it is longer than a message by itself (then it is cut between lines)."""
    pieces: list[str] = []
    for block in blocks:
        if len(block) <= limit:
            pieces.append(block)
            continue
        lines = [
            line[i : i + limit]
            for line in block.split("\n")
            for i in range(0, len(line) or 1, limit)
        ]
        pieces += _pack(lines, "\n", limit)
    return _pack(pieces, "\n\n", limit)
