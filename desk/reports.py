"""Reports for admins: how many requests came in, how fast units responded, how citizens rated it.

Plain functions over `Request` and `Event` values, so the numbers can be worked out by hand and
checked in unit tests; `gather` and `overdue` read what they need through the ports.

A report is a **cohort** report: every number is about the requests *received* in the period
[start, end), looked at as they stand at `now`. A request filed last month that is still open
is not in this month's report (`/overdue` lists every overdue request, whenever it was filed).
A request is counted under the unit that holds it now (after any transfer).

Surveys and comments on drafts are read, not answered one by one (`kind_needs_answer`): they
count as received and as **read only**, and nowhere else.

The parts add up: received = answered + closed (without an answer) + open + read only.

Definitions, per group of requests (a unit, a kind, or all):

- **received**: created in [start, end).
- **answered**: received, answerable, and standing answered now: status «answered», or closed
  after having been answered (an answer, then a reopening, then closing it as a duplicate).
  A reopened request waiting for its second answer is open, not answered.
- **open**: received, answerable, and in an open status now (filed, routed, in progress,
  waiting for the citizen, reopened).
- **closed**: received, answerable, and closed now without ever having been answered.
- **read only**: received surveys and draft comments.
- **overdue**: open, with a deadline, and the deadline before `now`.
- **median first response**: over the received answerable requests that staff have acted on by
  `now`: the time from filing to the first staff action of claimed, asked, answered, closed or
  transferred. None when no request has one.
- **median time to answer**: over the received answerable requests answered by `now`: the time
  from filing to the first «answered» event (a second answer after a reopening does not count).
- **reopen rate**: (requests reopened at least once) / (requests that have ever been answered),
  both among the received answerable requests; None when none was ever answered. The
  denominator is "ever answered" rather than "answered" so that a reopened request still waiting
  is in both the numerator and the denominator, and the rate stays between 0 and 1.
- **mean satisfaction**: the mean of the citizens' 1-5 ratings (the latest rating of each
  request) over the received answerable requests that have one; None when there is none.

Events after `now` are ignored, so a report of the past stays the same when recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from desk.calendar import gregorian_to_jalali, jalali_to_gregorian, local_date, start_of_day
from desk.calendar import parse_jalali as _parse_jalali
from desk.model import OPEN_STATUSES, Event, Kind, Request, Status
from desk.ports import UnitOfWorkFactory
from desk.text import normalize

# The staff actions that count as "the unit responded" (a rating or a citizen's clarification
# does not; neither do the SLA's own reminders).
RESPONSE_ACTIONS = frozenset({"claimed", "asked", "answered", "closed", "transferred"})
NOT_ANSWERED = frozenset({Kind.SURVEY, Kind.COMMENT})
_SATURDAY = 5  # date.weekday(): Monday is 0

WEEK_WORDS = frozenset({"هفته", "week", "این هفته", "هفته جاری"})
MONTH_WORDS = frozenset({"ماه", "month", "این ماه", "ماه جاری"})


class BadPeriod(ValueError):
    """The admin's period could not be read: `reason` is 'format', 'date' or 'order'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC, and the Jalali days it covers, for the report's heading."""

    start: datetime
    end: datetime
    first_day: date  # Gregorian dates of the first and last day, in Tehran
    last_day: date
    name: str  # 'week', 'month' or 'range'


@dataclass(frozen=True, slots=True)
class ExportData:
    """One period's records, oldest first, as an export writes them out (bot/ui/exports.py);
    read by the `ExportQueries` port (bot/ports.py)."""

    start: datetime
    end: datetime  # exclusive
    requests: list[Request]  # every kind but surveys, by filing time
    surveys: list[Request]  # survey answers, by filing time
    events: list[Event]  # every event in the period, of any request, by time


def this_week(now: datetime) -> Period:
    """From Saturday 00:00 Tehran of the current week to now."""
    today = local_date(now)
    saturday = today - timedelta(days=(today.weekday() - _SATURDAY) % 7)
    return Period(start_of_day(saturday), now, saturday, today, "week")


def this_month(now: datetime) -> Period:
    """From the 1st of the current Jalali month, 00:00 Tehran, to now."""
    today = local_date(now)
    jy, jm, _ = gregorian_to_jalali(today)
    first = jalali_to_gregorian(jy, jm, 1)
    return Period(start_of_day(first), now, first, today, "month")


def jalali_range(first: date, last: date) -> Period:
    """Both days inclusive: 00:00 Tehran of `first` to 00:00 Tehran of the day after `last`."""
    if last < first:
        raise BadPeriod("order")
    return Period(start_of_day(first), start_of_day(last + timedelta(days=1)), first, last, "range")


def parse_period(args: str | None, now: datetime) -> Period:
    """What an admin typed after /report: nothing (this month), «هفته»/week, «ماه»/month, or two
    Jalali dates «۱۴۰۵-۰۹-۰۱ ۱۴۰۵-۰۹-۳۰» (Persian digits, '-' or '/')."""
    text = normalize(args or "").lower()
    if not text or text in MONTH_WORDS:
        return this_month(now)
    if text in WEEK_WORDS:
        return this_week(now)
    parts = text.replace("تا", " ").split()
    if len(parts) != 2:
        raise BadPeriod("format")
    try:
        first, last = (_parse_jalali(part) for part in parts)
    except ValueError as exc:
        raise BadPeriod("date") from exc
    return jalali_range(first, last)


@dataclass(frozen=True, slots=True)
class Row:
    """The numbers of one group of requests: a unit, a kind, or all of them (key '')."""

    key: str
    received: int
    answered: int
    open: int
    overdue: int
    first_response: timedelta | None  # median
    to_answer: timedelta | None  # median
    reopened: int
    ever_answered: int
    ratings: int
    satisfaction: float | None  # mean of 1-5
    closed: int = 0  # closed without an answer
    read_only: int = 0  # surveys and comments: received, never answered one by one

    @property
    def reopen_rate(self) -> float | None:
        """Reopened / ever answered, or None when nothing was ever answered."""
        return self.reopened / self.ever_answered if self.ever_answered else None


@dataclass(frozen=True, slots=True)
class Report:
    """Per unit (busiest first), per kind (in the menu's order) and the total."""

    start: datetime
    end: datetime
    now: datetime
    by_unit: list[Row]
    by_kind: list[Row]
    total: Row


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle value; the mean of the two middle ones for an even count; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the report needs to know about one request, worked out once."""

    request: Request
    answerable: bool
    answered: bool
    open: bool
    overdue: bool
    first_response: timedelta | None
    to_answer: timedelta | None
    ever_answered: bool
    reopened: bool


def _facts(request: Request, events: Iterable[Event], now: datetime) -> _Facts:
    past = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
    filed = request.created_at
    responses = [e.at for e in past if e.action in RESPONSE_ACTIONS and e.at >= filed]
    answers = [e.at for e in past if e.action == "answered" and e.at >= filed]
    ever_answered = bool(answers) or request.answered_at is not None
    reopened = request.reopen_count > 0 or any(e.action == "reopened" for e in past)
    answerable = request.kind not in NOT_ANSWERED
    is_open = answerable and request.status in OPEN_STATUSES
    return _Facts(
        request=request,
        answerable=answerable,
        answered=answerable
        and (
            request.status is Status.ANSWERED or (request.status is Status.CLOSED and ever_answered)
        ),
        open=is_open,
        overdue=is_open and request.due_at is not None and request.due_at < now,
        first_response=responses[0] - filed if responses and answerable else None,
        to_answer=answers[0] - filed if answers and answerable else None,
        ever_answered=answerable and ever_answered,
        reopened=answerable and ever_answered and reopened,
    )


def _row(key: str, facts: Sequence[_Facts]) -> Row:
    ratings = [f.request.rating for f in facts if f.answerable and f.request.rating is not None]
    return Row(
        key=key,
        received=len(facts),
        answered=sum(f.answered for f in facts),
        open=sum(f.open for f in facts),
        overdue=sum(f.overdue for f in facts),
        first_response=median([f.first_response for f in facts if f.first_response is not None]),
        to_answer=median([f.to_answer for f in facts if f.to_answer is not None]),
        reopened=sum(f.reopened for f in facts),
        ever_answered=sum(f.ever_answered for f in facts),
        ratings=len(ratings),
        satisfaction=sum(ratings) / len(ratings) if ratings else None,
        closed=sum(
            f.answerable and f.request.status is Status.CLOSED and not f.answered for f in facts
        ),
        read_only=sum(not f.answerable for f in facts),
    )


def _group(facts: Sequence[_Facts], key: Callable[[_Facts], str]) -> dict[str, list[_Facts]]:
    groups: dict[str, list[_Facts]] = {}
    for fact in facts:
        groups.setdefault(key(fact), []).append(fact)
    return groups


def compute(
    requests: Iterable[Request],
    events: dict[str, list[Event]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> Report:
    """The report of the requests created in [start, end), as they stand at `now`."""
    facts = [
        _facts(r, events.get(r.code, []), now) for r in requests if start <= r.created_at < end
    ]
    units = _group(facts, lambda f: f.request.unit or "")
    kinds = _group(facts, lambda f: f.request.kind.value)
    by_unit = [_row(key, group) for key, group in units.items()]
    by_unit.sort(key=lambda row: (-row.received, row.key))
    by_kind = [_row(kind.value, kinds[kind.value]) for kind in Kind if kind.value in kinds]
    return Report(start, end, now, by_unit, by_kind, _row("", facts))


async def gather(uow: UnitOfWorkFactory, period: Period, now: datetime) -> Report:
    """Read the period's requests and their events, and compute the report."""
    async with uow() as tx:
        requests = await tx.requests.in_period(period.start, period.end)
        events = await tx.requests.events_for([r.code for r in requests])
    return compute(requests, events, period.start, period.end, now)


async def overdue(uow: UnitOfWorkFactory, now: datetime) -> list[Request]:
    """Every open request past its deadline, the most overdue first."""
    async with uow() as tx:
        waiting = await tx.requests.open_with_deadline()
    return [r for r in waiting if r.is_overdue(now)]


def days_late(request: Request, now: datetime) -> int:
    """Calendar days in Tehran since the due day: overdue since last night is 1 day late, and so
    is a request past a deadline earlier today; 0 when not past its deadline."""
    if request.due_at is None or now <= request.due_at:
        return 0
    return max((local_date(now) - local_date(request.due_at)).days, 1)
