"""desk.sla: reminders, escalation and the daily digest, with a FixedClock and the shipped rules.

The timeline used throughout (shipped rules: 10 working days for a complaint, Sat..Wed, no
holiday in March 2026 before Nowruz):

    filed    Sun 1 Mar 2026 08:00 UTC (11:30 Tehran)
    due      Mon 2, Tue 3, Wed 4 (3), Sat 7, Sun 8, Mon 9, Tue 10, Wed 11 (8), Sat 14 (9),
             Sun 15 (10): Sun 15 Mar 23:59:59 Tehran = 20:29:59 UTC
    half     filed + (14 d 12:29:59) / 2 = filed + 7 d 06:14:59.5 = Sun 8 Mar 14:14:59.5 UTC
    due day  Sun 15 Mar 00:00 Tehran = Sat 14 Mar 20:30 UTC
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desk import services, sla, staff
from desk.model import (
    Actor,
    ChatRef,
    CloseReason,
    Contact,
    Kind,
    NewRequest,
    Notice,
    NoticeKind,
    Platform,
    Request,
    Status,
)
from desk.routing import RoutingRules, load_rules
from desk.staff import Desk
from tests.unit.fakes import FakeStore, FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"

FILED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 15, 20, 29, 59, tzinfo=UTC)
HALF = datetime(2026, 3, 8, 14, 14, 59, 500000, tzinfo=UTC)
DUE_DAY = datetime(2026, 3, 14, 20, 30, tzinfo=UTC)
TICK = timedelta(microseconds=1)

CITIZEN = ChatRef(Platform.TELEGRAM, 1001)
CITIZEN_BALE = ChatRef(Platform.BALE, 1001)
WATER = ChatRef(Platform.TELEGRAM, -1001000000004)
WATER_BALE = ChatRef(Platform.BALE, 5100000004)
HEAD = ChatRef(Platform.TELEGRAM, -1001000000001)
HEAD_BALE = ChatRef(Platform.BALE, 5100000001)
CLERK = Actor(Platform.TELEGRAM, 501, "کارشناس")


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FILED)


@pytest.fixture
def desk(store: FakeStore, rules: RoutingRules, clock: FixedClock) -> Desk:
    return Desk(uow=store, rules=rules, clock=clock)


async def file(desk: Desk, chat: ChatRef = CITIZEN, **overrides: object) -> Request:
    values: dict[str, object] = {
        "kind": Kind.COMPLAINT,
        "chat": chat,
        "user_id": 77,
        "text": "آب قنات روستا قطع شده است.",
        "topic": "water",
        "county": "birjand",
        "contact": Contact(name="زهرا محمدی", phone="09151234567"),
    }
    values.update(overrides)
    return await services.file_request(
        NewRequest(**values),  # type: ignore[arg-type]
        uow=desk.uow,
        rules=desk.rules,
        clock=desk.clock,
    )


def note(chat: ChatRef, code: str, template: str) -> Notice:
    return Notice(chat.platform, chat.chat_id, NoticeKind.STAFF_NOTE, code, {"template": template})


def escalation(unit: ChatRef, head: ChatRef, code: str) -> list[Notice]:
    return [
        note(unit, code, "escalated"),
        Notice(unit.platform, unit.chat_id, NoticeKind.CARD_REFRESH, code),
        Notice(head.platform, head.chat_id, NoticeKind.BROADCAST, code, {"template": "escalation"}),
    ]


def at(clock: FixedClock, moment: datetime) -> None:
    clock.advance(moment - clock.now())


class Watch:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.mark = len(store.outbox)

    def take(self) -> list[Notice]:
        """Notices queued since the last look."""
        new = self.store.outbox[self.mark :]
        self.mark = len(self.store.outbox)
        return new


def stage_events(store: FakeStore, code: str) -> list[tuple[str, datetime, str]]:
    return [
        (e.action, e.at, e.actor)
        for e in store.events
        if e.request_code == code and e.action in ("half_time", "due_today", "escalated")
    ]


async def test_the_timeline_in_the_docstring(desk: Desk) -> None:
    request = await file(desk)
    assert (request.created_at, request.due_at) == (FILED, DUE)


# --- check_deadlines ---------------------------------------------------------------------------


async def test_nothing_before_half_time(desk: Desk, store: FakeStore, clock: FixedClock) -> None:
    await file(desk)
    watch = Watch(store)
    for moment in (FILED, FILED + timedelta(days=3), HALF - TICK):
        at(clock, moment)
        assert await sla.check_deadlines(desk) == 0
    assert watch.take() == []
    assert stage_events(store, next(iter(store.requests))) == []


async def test_the_whole_timeline_one_reminder_per_stage(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    code = request.code
    watch = Watch(store)

    at(clock, HALF)
    assert await sla.check_deadlines(desk) == 1
    assert watch.take() == [note(WATER, code, "half_time")]
    assert store.requests[code].reminded_half_at == HALF
    assert await sla.check_deadlines(desk) == 0  # idempotent
    at(clock, DUE_DAY - TICK)  # still the day before the due day
    assert await sla.check_deadlines(desk) == 0
    assert watch.take() == []

    at(clock, DUE_DAY)
    assert await sla.check_deadlines(desk) == 1
    assert watch.take() == [note(WATER, code, "due_today")]
    assert store.requests[code].reminded_due_at == DUE_DAY
    assert store.requests[code].reminded_half_at == HALF  # not overwritten
    at(clock, DUE)  # the last second of the due day is still in time
    assert await sla.check_deadlines(desk) == 0
    assert watch.take() == []

    escalated_at = DUE + timedelta(seconds=1)
    at(clock, escalated_at)
    assert await sla.check_deadlines(desk) == 1
    assert watch.take() == escalation(WATER, HEAD, code)
    stored = store.requests[code]
    assert stored.escalated_at == escalated_at
    assert stored.status is request.status  # escalation changes no status
    for later in (timedelta(minutes=1), timedelta(days=5)):
        clock.advance(later)
        assert await sla.check_deadlines(desk) == 0
    assert watch.take() == []

    assert stage_events(store, code) == [
        ("half_time", HALF, "sla"),
        ("due_today", DUE_DAY, "sla"),
        ("escalated", escalated_at, "sla"),
    ]


async def test_after_downtime_only_the_escalation_is_sent(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    watch = Watch(store)
    back = DUE + timedelta(days=2)  # down from the filing until two days after the deadline
    at(clock, back)
    assert await sla.check_deadlines(desk) == 1
    assert watch.take() == escalation(WATER, HEAD, request.code)
    stored = store.requests[request.code]
    assert stored.reminded_half_at == stored.reminded_due_at == stored.escalated_at == back
    assert stage_events(store, request.code) == [("escalated", back, "sla")]
    assert await sla.check_deadlines(desk) == 0
    assert watch.take() == []


async def test_down_until_the_due_day_sends_only_due_today(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    watch = Watch(store)
    at(clock, DUE_DAY + timedelta(hours=9))
    assert await sla.check_deadlines(desk) == 1
    assert watch.take() == [note(WATER, request.code, "due_today")]
    assert store.requests[request.code].reminded_half_at == clock.now()
    assert await sla.check_deadlines(desk) == 0


async def test_reminders_go_to_the_chats_on_the_citizens_platform(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk, CITIZEN_BALE)
    watch = Watch(store)
    at(clock, DUE + timedelta(hours=1))
    await sla.check_deadlines(desk)
    assert watch.take() == escalation(WATER_BALE, HEAD_BALE, request.code)


async def test_head_office_requests_are_not_escalated_to_themselves(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk, kind=Kind.HEAD)
    assert request.unit == "head_office"
    watch = Watch(store)
    at(clock, DUE + timedelta(hours=1))
    assert await sla.check_deadlines(desk) == 1
    assert watch.take() == [
        note(HEAD, request.code, "escalated"),
        Notice(HEAD.platform, HEAD.chat_id, NoticeKind.CARD_REFRESH, request.code),
    ]


@pytest.mark.parametrize("outcome", ["answered", "closed", "survey"])
async def test_finished_requests_and_surveys_get_nothing(
    desk: Desk, store: FakeStore, clock: FixedClock, outcome: str
) -> None:
    if outcome == "survey":
        await file(desk, kind=Kind.SURVEY, topic=None, survey={"scores": [5]})
    else:
        request = await file(desk)
        clock.advance(timedelta(days=1))
        if outcome == "answered":
            await staff.answer(desk, request.code, "انجام شد", chat=WATER, actor=CLERK)
        else:
            await staff.close(desk, request.code, CloseReason.DUPLICATE, chat=WATER, actor=CLERK)
    watch = Watch(store)
    for moment in (HALF, DUE_DAY, DUE + timedelta(days=1)):
        at(clock, moment)
        assert await sla.check_deadlines(desk) == 0
    assert watch.take() == []
    at(clock, DUE + timedelta(days=1, hours=8))  # 08:00 Tehran has passed on 17 Mar
    assert await sla.overdue_digest(desk) is False


async def test_check_deadlines_handles_many_requests_in_one_run(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    first = await file(desk)
    at(clock, FILED + timedelta(days=1))
    # filed Mon 2 Mar: Tue 3, Wed 4, Sat 7, Sun 8, Mon 9, Tue 10, Wed 11, Sat 14, Sun 15,
    # Mon 16 (10)
    second = await file(desk)
    assert second.due_at == datetime(2026, 3, 16, 20, 29, 59, tzinfo=UTC)
    watch = Watch(store)
    # 20:30:00 UTC = 00:00 Tehran on Mon 16: the first is overdue, the second's due day begins
    at(clock, DUE + timedelta(seconds=1))
    assert await sla.check_deadlines(desk) == 2
    assert watch.take() == [
        *escalation(WATER, HEAD, first.code),
        note(WATER, second.code, "due_today"),
    ]


def test_stage_due_is_pure() -> None:
    request = Request(
        code="1234567890",
        kind=Kind.COMPLAINT,
        status=Status.ROUTED,
        text="x",
        created_at=FILED,
        updated_at=FILED,
        due_at=DUE,
    )
    before = copy.deepcopy(request)
    assert sla.stage_due(request, HALF - TICK) is None
    assert sla.stage_due(request, HALF) == "half_time"
    assert sla.stage_due(request, DUE_DAY) == "due_today"
    assert sla.stage_due(request, DUE) == "due_today"
    assert sla.stage_due(request, DUE + TICK) == "escalated"
    assert request == before
    request.escalated_at = DUE + TICK
    assert sla.stage_due(request, DUE + timedelta(days=1)) is None


async def test_a_request_answered_in_time_and_reopened_is_not_escalated_at_once(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    at(clock, datetime(2026, 3, 11, 8, 0, tzinfo=UTC))  # answered on day 8 of 10
    await staff.answer(desk, request.code, "انجام شد", chat=WATER, actor=CLERK)
    at(clock, datetime(2026, 3, 16, 8, 0, tzinfo=UTC))  # reopened 5 days later (allowed)
    await staff.reopen(desk, request.code, "هنوز آب نداریم", chat=CITIZEN)
    watch = Watch(store)
    assert await sla.check_deadlines(desk) == 0
    assert watch.take() == []


# --- overdue_digest ----------------------------------------------------------------------------

# 08:00 in Tehran is 04:30 UTC
DIGEST_16 = datetime(2026, 3, 16, 4, 30, tzinfo=UTC)
DIGEST_17 = datetime(2026, 3, 17, 4, 30, tzinfo=UTC)


def digest(units: dict[str, list[str]]) -> list[Notice]:
    data: dict[str, object] = {"template": "digest", "units": units}
    return [
        Notice(chat.platform, chat.chat_id, NoticeKind.BROADCAST, None, data)
        for chat in (HEAD, HEAD_BALE)
    ]


async def test_overdue_digest_once_a_day_from_eight(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    water = await file(desk)
    crops = await file(desk, topic="agronomy")
    answered = await file(desk)
    await staff.answer(desk, answered.code, "انجام شد", chat=WATER, actor=CLERK)
    at(clock, FILED + timedelta(days=1))
    later = await file(desk)  # due Mon 16 Mar 23:59:59 Tehran
    assert (crops.unit, crops.due_at) == ("agronomy", DUE)
    watch = Watch(store)

    at(clock, DIGEST_16 - TICK)  # 07:59:59.999999 Tehran on Mon 16 Mar
    assert await sla.overdue_digest(desk) is False
    assert watch.take() == []
    assert store.jobs == {}  # too early is not "done"

    at(clock, DIGEST_16)
    assert await sla.overdue_digest(desk) is True
    assert watch.take() == digest({"water_soil": [water.code], "agronomy": [crops.code]})
    assert store.jobs == {sla.DIGEST_JOB: "2026-03-16"}

    for moment in (DIGEST_16 + timedelta(hours=1), datetime(2026, 3, 16, 20, 29, tzinfo=UTC)):
        at(clock, moment)  # later the same Tehran day (the last at 23:59)
        assert await sla.overdue_digest(desk) is False
    assert watch.take() == []

    at(clock, datetime(2026, 3, 16, 20, 30, tzinfo=UTC))  # 00:00 Tehran on Tue 17: too early
    assert await sla.overdue_digest(desk) is False
    at(clock, DIGEST_17)
    assert await sla.overdue_digest(desk) is True
    assert watch.take() == digest(
        {"water_soil": [water.code, later.code], "agronomy": [crops.code]}
    )
    assert store.jobs == {sla.DIGEST_JOB: "2026-03-17"}


async def test_a_day_without_overdue_requests_is_marked_done_silently(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    watch = Watch(store)
    at(clock, DUE - timedelta(hours=8))  # Sun 15 Mar 15:59:59 Tehran: due, not overdue
    assert await sla.overdue_digest(desk) is False
    assert store.jobs == {sla.DIGEST_JOB: "2026-03-15"}
    at(clock, DUE + timedelta(seconds=1))  # overdue now, but today's digest is done
    assert store.requests[request.code].is_overdue(clock.now())
    assert await sla.overdue_digest(desk) is False
    assert watch.take() == []
    at(clock, DIGEST_16)
    assert await sla.overdue_digest(desk) is True
    assert watch.take() == digest({"water_soil": [request.code]})


async def test_digest_and_reminders_do_not_interfere(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    at(clock, DIGEST_16)
    assert await sla.check_deadlines(desk) == 1
    assert await sla.overdue_digest(desk) is True
    assert await sla.check_deadlines(desk) == 0
    assert await sla.overdue_digest(desk) is False
    assert store.requests[request.code].escalated_at == DIGEST_16
