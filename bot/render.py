"""Domain objects to message text: Jalali dates in Tehran time, Persian digits, per platform."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime

from bot import texts
from bot.platforms import Raw, Renderer
from desk.model import Request, Status
from desk.routing import RoutingRules
from desk.text import to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")


def jalali(moment: datetime, *, with_time: bool = True) -> str:
    """«۷ آذر ۱۴۰۵، ساعت ۱۲:۳۰» for an aware UTC datetime, in Tehran time."""
    local = moment.astimezone(TEHRAN)
    j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
    template = texts.DATE_TIME if with_time else texts.DATE_ONLY
    return template.format(
        day=to_persian_digits(j.day),
        month=texts.MONTHS[j.month - 1],
        year=to_persian_digits(j.year),
        time=to_persian_digits(f"{local.hour:02d}:{local.minute:02d}"),
    )


def clock_time(moment: datetime) -> str:
    """«۱۴:۰۵» in Tehran time."""
    local = moment.astimezone(TEHRAN)
    return to_persian_digits(f"{local.hour:02d}:{local.minute:02d}")


def code(ui: Renderer, value: str) -> Raw:
    """A tracking code in Persian digits, tap-to-copy where the platform allows."""
    return Raw(ui.code(to_persian_digits(value)))


def unit_name(rules: RoutingRules, key: str | None) -> str:
    """A unit's Persian name, or a dash."""
    if key is None or key not in rules.units:
        return texts.NOT_GIVEN
    return rules.units[key].name


def status_name(request: Request, rules: RoutingRules) -> str:
    """The status in the citizen's words."""
    name = texts.STATUS_NAMES[request.status]
    if request.status is Status.ROUTED:
        return name.format(unit=unit_name(rules, request.unit))
    return name


def receipt(ui: Renderer, request: Request, rules: RoutingRules) -> str:
    """What a citizen reads after filing: code, date, and what happens next."""
    unit = unit_name(rules, request.unit)
    if request.anonymous:
        next_step = texts.NEXT_ANONYMOUS.format(unit=unit)
    else:
        due = rules.sla.days.get(request.kind, 10)
        next_step = texts.NEXT_STEPS[request.kind].format(unit=unit, due=to_persian_digits(due))
    return ui.fmt(
        texts.RECEIPT,
        kind=texts.KIND_NAMES[request.kind],
        date=jalali(request.created_at),
        code=code(ui, request.code),
        next=next_step,
    )


def status_card(
    ui: Renderer, request: Request, rules: RoutingRules, *, full: bool, contact_button: str
) -> str:
    """A request's status; its text and answer only when `full`."""
    body = ui.fmt(
        texts.STATUS_CARD,
        kind=texts.KIND_NAMES[request.kind],
        code=code(ui, request.code),
        status=status_name(request, rules),
        created=jalali(request.created_at),
        updated=jalali(request.updated_at),
        unit=unit_name(rules, request.unit),
    )
    if full:
        body += ui.fmt(texts.STATUS_TEXT, text=request.text)
        if request.answer:
            body += ui.fmt(
                texts.STATUS_ANSWER,
                date=jalali(request.answered_at or request.updated_at),
                answer=request.answer,
            )
    elif request.contact.phone:
        body += ui.fmt(texts.STATUS_ONLY_NOTE, button=contact_button)
    return body


def my_requests(ui: Renderer, requests: list[Request], rules: RoutingRules) -> str:
    """The list under «درخواست‌های من»."""
    if not requests:
        return texts.MINE_EMPTY
    lines = [texts.MINE_TITLE]
    for r in requests:
        lines.append(
            ui.fmt(
                texts.MINE_LINE,
                kind=texts.KIND_NAMES[r.kind],
                code=code(ui, r.code),
                status=status_name(r, rules),
                date=jalali(r.created_at, with_time=False),
            )
        )
    lines.append(texts.MINE_FOOTER)
    return "\n".join(lines)
