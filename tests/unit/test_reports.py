"""desk.reports on a hand-built month; every expected number is worked out by hand below, not by
the code under test.

The period is Azar 1405, 1st to 15th, both inclusive:
    start  1405-09-01 00:00 Tehran = Sat 21 Nov 2026 20:30 UTC      (T0 below)
    end    1405-09-16 00:00 Tehran = Sun  6 Dec 2026 20:30 UTC      (exclusive)
    now    Thu 10 Dec 2026 12:00 UTC (1405-09-19, 15:30 Tehran)

Requests (times after filing; "first" = first staff action, "answer" = first «answered» event):

    R1  complaint  water_soil   filed T0        claimed +2h, answered +26h, rated 5; answered
    R2  complaint  water_soil   filed T0+1h     asked +5h, answered +50h, rated 2, reopened +60h;
                                                status reopened (open), deadline after now
    R3  complaint  water_soil   filed T0+2h     no staff action (a citizen's clarification and an
                                                SLA reminder do not count); due T0+5d < now:
                                                open and overdue
    R4  suggestion agronomy     filed T0+3h     claimed +30min; in progress, due now+2d (open)
    R5  head       head_office  filed T0+4h     closed as duplicate +4h, no answer
    R6  suggestion water_soil   filed T0+5h     transferred from agronomy +1h, answered +10h,
                                                rated 4; answered
    R7  survey     public_relations, T0+6h      read, not answered: counts as received only
    R8  complaint  agronomy     filed T0+7h     answered +20h, rated 1, reopened +30h, closed
                                                +40h: closed after an answer, so "answered"
    R9  complaint  water_soil   filed T0-30min  (Aban 30, 23:30 Tehran) before the period
    R10 complaint  water_soil   filed at `end`  exactly: outside [start, end)

Total (R1..R8 received; R1..R6 and R8 answerable):
    received 8; answered R1, R6, R8 = 3; open R2, R3, R4 = 3; overdue R3 = 1
    first response: R1 2h, R2 5h, R4 0.5h, R5 4h, R6 1h, R8 20h
        sorted 0.5, 1, 2, 4, 5, 20 -> median (2 + 4) / 2 = 3h
    to answer: R1 26h, R2 50h, R6 10h, R8 20h -> sorted 10, 20, 26, 50 -> (20 + 26) / 2 = 23h
    ever answered R1, R2, R6, R8 = 4; reopened R2, R8 = 2 -> reopen rate 2/4 = 0.5
    ratings 5, 2, 4, 1 -> mean 12/4 = 3.0 (4 ratings)

Per unit (busiest first, then by key):
    water_soil  R1 R2 R3 R6: received 4, answered 2, open 2, overdue 1;
                first 2, 5, 1 -> 2h; answer 26, 50, 10 -> 26h; reopened 1 of 3 ever answered;
                ratings 5, 2, 4 -> 11/3
    agronomy    R4 R8: received 2, answered 1, open 1, overdue 0; first 0.5, 20 -> 10.25h;
                answer 20h; reopened 1 of 1 -> 1.0; rating 1 -> 1.0
    head_office R5: received 1, answered 0, open 0, overdue 0; first 4h; no answer, no rate,
                no rating
    public_relations R7: received 1, everything else 0 or None

Per kind (in the menu's order):
    complaint  R1 R2 R3 R8: received 4, answered 2 (R1, R8), open 2, overdue 1;
               first 2, 5, 20 -> 5h; answer 26, 50, 20 -> 26h; reopened 2 of 3 -> 2/3;
               ratings 5, 2, 1 -> 8/3
    suggestion R4 R6: received 2, answered 1, open 1, overdue 0; first 0.5, 1 -> 0.75h;
               answer 10h; reopened 0 of 1 -> 0.0; rating 4 -> 4.0
    head       R5: received 1, answered 0, open 0, overdue 0; first 4h; the rest None
    survey     R7: received 1, the rest 0 or None
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from desk import reports
from desk.model import Event, Kind, Request, Status
from desk.reports import BadPeriod, Row
from tests.unit.fakes import FakeStore

T0 = datetime(2026, 11, 21, 20, 30, tzinfo=UTC)  # 1405-09-01 00:00 Tehran
END = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)  # 1405-09-16 00:00 Tehran
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)

STAFF = "telegram:7001 (مریم)"


def _request(
    code: str,
    kind: Kind,
    unit: str,
    filed: datetime,
    status: Status,
    *,
    due: datetime | None = None,
    answered: timedelta | None = None,
    rating: int | None = None,
    reopens: int = 0,
) -> Request:
    return Request(
        code=code,
        kind=kind,
        status=status,
        text="…",
        created_at=filed,
        updated_at=filed,
        unit=unit,
        due_at=due,
        answered_at=filed + answered if answered is not None else None,
        rating=rating,
        reopen_count=reopens,
    )


def _events(code: str, filed: datetime, *steps: tuple[str, timedelta, str]) -> list[Event]:
    trail = [Event(code, "filed", filed, "telegram:1"), Event(code, "routed", filed, "routing")]
    return trail + [Event(code, action, filed + after, actor) for action, after, actor in steps]


def dataset() -> tuple[list[Request], dict[str, list[Event]]]:
    """R1..R10 of the module docstring."""
    citizen = "telegram:1"
    r1 = _request("R1", Kind.COMPLAINT, "water_soil", T0, Status.ANSWERED,
                  due=T0 + 10 * D, answered=26 * H, rating=5)  # fmt: skip
    r2 = _request("R2", Kind.COMPLAINT, "water_soil", T0 + H, Status.REOPENED,
                  due=NOW + 5 * D, answered=50 * H, rating=2, reopens=1)  # fmt: skip
    r3 = _request("R3", Kind.COMPLAINT, "water_soil", T0 + 2 * H, Status.ROUTED, due=T0 + 5 * D)
    r4 = _request("R4", Kind.SUGGESTION, "agronomy", T0 + 3 * H, Status.IN_PROGRESS,
                  due=NOW + 2 * D)  # fmt: skip
    r5 = _request("R5", Kind.HEAD, "head_office", T0 + 4 * H, Status.CLOSED, due=T0 + 14 * D)
    r6 = _request("R6", Kind.SUGGESTION, "water_soil", T0 + 5 * H, Status.ANSWERED,
                  due=T0 + 3 * D, answered=10 * H, rating=4)  # fmt: skip
    r7 = _request("R7", Kind.SURVEY, "public_relations", T0 + 6 * H, Status.ROUTED)
    r8 = _request("R8", Kind.COMPLAINT, "agronomy", T0 + 7 * H, Status.CLOSED,
                  due=T0 + 2 * D, answered=20 * H, rating=1, reopens=1)  # fmt: skip
    r9 = _request("R9", Kind.COMPLAINT, "water_soil", T0 - H / 2, Status.ROUTED, due=T0 + D)
    r10 = _request("R10", Kind.COMPLAINT, "water_soil", END, Status.ROUTED, due=END + D)
    events = {
        "R1": _events("R1", r1.created_at, ("claimed", 2 * H, STAFF), ("answered", 26 * H, STAFF),
                      ("rated", 30 * H, citizen)),
        "R2": _events("R2", r2.created_at, ("asked", 5 * H, STAFF), ("clarified", 6 * H, citizen),
                      ("claimed", 7 * H, STAFF), ("answered", 50 * H, STAFF),
                      ("rated", 55 * H, citizen), ("reopened", 60 * H, citizen)),
        "R3": _events("R3", r3.created_at, ("clarified", 3 * H, citizen),
                      ("reminded_half", 60 * H, "sla")),
        "R4": _events("R4", r4.created_at, ("claimed", H / 2, STAFF)),
        "R5": _events("R5", r5.created_at, ("closed", 4 * H, STAFF)),
        "R6": _events("R6", r6.created_at, ("transferred", H, STAFF), ("claimed", 2 * H, STAFF),
                      ("answered", 10 * H, STAFF), ("rated", 12 * H, citizen)),
        "R7": _events("R7", r7.created_at),
        "R8": _events("R8", r8.created_at, ("answered", 20 * H, STAFF),
                      ("rated", 21 * H, citizen), ("reopened", 30 * H, citizen),
                      ("closed", 40 * H, STAFF)),
        "R9": _events("R9", r9.created_at, ("claimed", H, STAFF)),
        "R10": _events("R10", r10.created_at, ("claimed", H, STAFF)),
    }  # fmt: skip
    return [r1, r2, r3, r4, r5, r6, r7, r8, r9, r10], events


def _expect(row: Row, **expected: object) -> None:
    got = {name: getattr(row, name) for name in expected}
    assert got == expected, f"row {row.key!r}"


def test_total_row() -> None:
    requests, events = dataset()
    report = reports.compute(requests, events, T0, END, NOW)
    _expect(
        report.total,
        key="",
        received=8,
        answered=3,
        open=3,
        overdue=1,
        first_response=3 * H,
        to_answer=23 * H,
        reopened=2,
        ever_answered=4,
        ratings=4,
        satisfaction=3.0,
    )
    assert report.total.reopen_rate == 0.5
    assert (report.start, report.end, report.now) == (T0, END, NOW)


def test_rows_per_unit_busiest_first() -> None:
    requests, events = dataset()
    report = reports.compute(requests, events, T0, END, NOW)
    assert [row.key for row in report.by_unit] == [
        "water_soil", "agronomy", "head_office", "public_relations",
    ]  # fmt: skip
    water, agronomy, head, public = report.by_unit
    _expect(water, received=4, answered=2, open=2, overdue=1, first_response=2 * H,
            to_answer=26 * H, reopened=1, ever_answered=3, ratings=3)  # fmt: skip
    assert water.satisfaction == pytest.approx(11 / 3)
    assert water.reopen_rate == pytest.approx(1 / 3)
    _expect(agronomy, received=2, answered=1, open=1, overdue=0,
            first_response=timedelta(hours=10, minutes=15), to_answer=20 * H, reopened=1,
            ever_answered=1, ratings=1, satisfaction=1.0)  # fmt: skip
    assert agronomy.reopen_rate == 1.0
    _expect(head, received=1, answered=0, open=0, overdue=0, first_response=4 * H,
            to_answer=None, reopened=0, ever_answered=0, ratings=0, satisfaction=None)  # fmt: skip
    assert head.reopen_rate is None
    _expect(public, received=1, answered=0, open=0, overdue=0, first_response=None,
            to_answer=None, reopened=0, ever_answered=0, ratings=0, satisfaction=None)  # fmt: skip


def test_rows_per_kind_in_menu_order() -> None:
    requests, events = dataset()
    report = reports.compute(requests, events, T0, END, NOW)
    assert [row.key for row in report.by_kind] == ["complaint", "suggestion", "head", "survey"]
    complaint, suggestion, head, survey = report.by_kind
    _expect(complaint, received=4, answered=2, open=2, overdue=1, first_response=5 * H,
            to_answer=26 * H, reopened=2, ever_answered=3, ratings=3)  # fmt: skip
    assert complaint.reopen_rate == pytest.approx(2 / 3)
    assert complaint.satisfaction == pytest.approx(8 / 3)
    _expect(suggestion, received=2, answered=1, open=1, overdue=0,
            first_response=timedelta(minutes=45), to_answer=10 * H, reopened=0,
            ever_answered=1, ratings=1, satisfaction=4.0)  # fmt: skip
    assert suggestion.reopen_rate == 0.0
    _expect(head, received=1, answered=0, open=0, overdue=0, first_response=4 * H,
            to_answer=None, satisfaction=None)  # fmt: skip
    _expect(survey, received=1, answered=0, open=0, overdue=0, first_response=None,
            to_answer=None, ratings=0, satisfaction=None)  # fmt: skip
    assert survey.reopen_rate is None


def test_events_after_now_are_ignored() -> None:
    """Recomputed as of T0+20h, the report ignores every event that had not happened yet.

    water_soil then: R1 claimed at T0+2h (2h), R2 asked at T0+6h (5h after filing at T0+1h),
    R6 transferred at T0+6h (1h after filing at T0+5h): first responses 2, 5, 1 -> 2h.
    «answered» events by then: only R6's at T0+15h (10h after filing); R1's is at T0+26h and
    R2's at T0+51h -> time to answer 10h."""
    requests, events = dataset()
    report = reports.compute(requests, events, T0, END, T0 + 20 * H)
    water = report.by_unit[0]
    assert water.first_response == 2 * H
    assert water.to_answer == 10 * H


def test_an_empty_period() -> None:
    report = reports.compute([], {}, T0, END, NOW)
    assert report.by_unit == [] and report.by_kind == []
    _expect(report.total, received=0, answered=0, open=0, overdue=0, first_response=None,
            to_answer=None, ratings=0, satisfaction=None)  # fmt: skip
    assert report.total.reopen_rate is None


def test_median() -> None:
    assert reports.median([]) is None
    assert reports.median([3 * H]) == 3 * H
    assert reports.median([5 * H, H, 3 * H]) == 3 * H
    assert reports.median([4 * H, H, 2 * H, 8 * H]) == 3 * H  # (2 + 4) / 2


async def test_gather_reads_through_the_ports() -> None:
    store = FakeStore()
    requests, events = dataset()
    for request in requests:
        store.requests[request.code] = request
    for trail in events.values():
        store.events.extend(trail)
    period = reports.jalali_range(date(2026, 11, 22), date(2026, 12, 6))
    assert (period.start, period.end) == (T0, END)
    report = await reports.gather(store, period, NOW)
    assert report.total.received == 8
    assert report.total.first_response == 3 * H
    assert [r.code for r in await reports.overdue(store, NOW)] == ["R9", "R3", "R10"]


# --- periods -------------------------------------------------------------------------------------


def test_this_week_starts_on_saturday_in_tehran() -> None:
    # Thu 10 Dec 2026 15:30 Tehran -> Saturday 5 Dec (1405-09-14) 00:00 Tehran = 4 Dec 20:30 UTC
    week = reports.parse_period("هفته", NOW)
    assert (week.start, week.end) == (datetime(2026, 12, 4, 20, 30, tzinfo=UTC), NOW)
    assert (week.first_day, week.last_day, week.name) == (date(2026, 12, 5), date(2026, 12, 10),
                                                          "week")  # fmt: skip
    # Fri 11 Dec 23:00 UTC is already Saturday 12 Dec 02:30 in Tehran: a new week
    late_friday = datetime(2026, 12, 11, 23, 0, tzinfo=UTC)
    assert reports.this_week(late_friday).start == datetime(2026, 12, 11, 20, 30, tzinfo=UTC)
    assert reports.parse_period("week", NOW) == week


def test_this_month_starts_on_the_first_of_the_jalali_month() -> None:
    # 1405-09-19 -> 1405-09-01 = Sun 22 Nov 2026, 00:00 Tehran = 21 Nov 20:30 UTC
    month = reports.parse_period(None, NOW)
    assert (month.start, month.end, month.name) == (T0, NOW, "month")
    assert reports.parse_period("ماه", NOW) == month == reports.parse_period(" month ", NOW)
    # 1 Farvardin 1406 = Sun 21 Mar 2027; at 01:00 Tehran on that day the month is one hour old
    nowruz = datetime(2027, 3, 20, 21, 30, tzinfo=UTC)
    assert reports.this_month(nowruz).start == datetime(2027, 3, 20, 20, 30, tzinfo=UTC)


def test_a_jalali_range_includes_both_days() -> None:
    period = reports.parse_period("۱۴۰۵-۰۹-۰۱ ۱۴۰۵-۰۹-۱۵", NOW)
    assert (period.start, period.end, period.name) == (T0, END, "range")
    assert reports.parse_period("1405/9/1 تا 1405/9/15", NOW) == period
    one_day = reports.parse_period("1405-09-01 1405-09-01", NOW)
    assert one_day.end - one_day.start == D


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ("دیروز", "format"),
        ("1405-09-01", "format"),
        ("1405-09-01 1405-09-02 1405-09-03", "format"),
        ("1405-13-01 1405-13-02", "date"),
        ("1405-09-15 1405-09-01", "order"),
    ],
)
def test_a_period_that_cannot_be_read(args: str, reason: str) -> None:
    with pytest.raises(BadPeriod) as caught:
        reports.parse_period(args, NOW)
    assert caught.value.reason == reason


def test_days_late_counts_tehran_days() -> None:
    # due 1405-09-05 23:59:59 Tehran = 26 Nov 20:29:59 UTC
    due = datetime(2026, 11, 26, 20, 29, 59, tzinfo=UTC)
    request = _request("X", Kind.COMPLAINT, "water_soil", T0, Status.ROUTED, due=due)
    assert reports.days_late(request, due) == 0
    assert reports.days_late(request, due + timedelta(seconds=2)) == 1  # 00:00:01 next day
    assert reports.days_late(request, NOW) == 14  # 1405-09-19 - 1405-09-05
