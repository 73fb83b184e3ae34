"""Per-citizen quotas: filings per hour and per day, clarifications per request per hour."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desk import regulations, services, staff
from desk.model import (
    Actor,
    ChatRef,
    Contact,
    DraftFile,
    Kind,
    NewRequest,
    NoticeKind,
    Platform,
    Request,
)
from desk.routing import RoutingRules, load_rules
from desk.services import QuotaExceeded, Quotas
from desk.staff import Desk
from tests.unit.fakes import FakeStore, FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"
START = datetime(2026, 11, 21, 6, 30, tzinfo=UTC)
CITIZEN = ChatRef(Platform.TELEGRAM, 1001)
WATER = ChatRef(Platform.TELEGRAM, -1001000000004)  # water_soil's Telegram group
CLERK = Actor(Platform.TELEGRAM, 501, "مهندس کریمی")
DEFAULTS = Quotas(filings_per_hour=5, filings_per_day=20, clarifications_per_hour=20)


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def new(chat: ChatRef = CITIZEN, user_id: int = 77, **overrides: object) -> NewRequest:
    values: dict[str, object] = {
        "kind": Kind.COMPLAINT,
        "chat": chat,
        "user_id": user_id,
        "text": "چاه کشاورزی ما از ماه گذشته برق ندارد.",
        "topic": "water",
        "county": "ferdows",
        "contact": Contact(name="رضا احمدی", phone="09151234567"),
    }
    values.update(overrides)
    return NewRequest(**values)  # type: ignore[arg-type]


async def file(
    store: FakeStore,
    rules: RoutingRules,
    clock: FixedClock,
    quotas: Quotas = DEFAULTS,
    **overrides: object,
) -> Request:
    return await services.file_request(
        new(**overrides),  # type: ignore[arg-type]
        uow=store,
        rules=rules,
        clock=clock,
        quotas=quotas,
    )


def committed(store: FakeStore) -> object:
    return copy.deepcopy((store.requests, store.events, store.outbox))


# --- filings -----------------------------------------------------------------------------------


async def test_the_sixth_filing_in_an_hour_waits_for_the_first_to_leave_the_window(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    first = clock.now()
    for _ in range(5):
        await file(store, rules, clock)
        clock.advance(timedelta(minutes=10))  # 08:00, 08:10, ... 08:40; now 08:50
    before = committed(store)
    with pytest.raises(QuotaExceeded) as refused:
        await file(store, rules, clock)
    assert refused.value.retry_at == first + timedelta(hours=1)
    assert (refused.value.limit, refused.value.window) == (5, timedelta(hours=1))
    assert committed(store) == before, "a refused filing stores nothing and posts no card"


async def test_the_hour_window_slides(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    first = clock.now()
    for _ in range(5):
        await file(store, rules, clock)
        clock.advance(timedelta(minutes=10))
    clock.advance(timedelta(minutes=10) - timedelta(seconds=1))  # the first is 59:59 old
    with pytest.raises(QuotaExceeded):
        await file(store, rules, clock)
    clock.advance(timedelta(seconds=1))  # exactly an hour: the first has left the window
    await file(store, rules, clock)
    with pytest.raises(QuotaExceeded) as refused:  # five in the hour again
        await file(store, rules, clock)
    assert refused.value.retry_at == first + timedelta(minutes=10) + timedelta(hours=1)


async def test_the_day_limit(store: FakeStore, rules: RoutingRules, clock: FixedClock) -> None:
    first = clock.now()
    for _ in range(20):  # five an hour: within the hourly share, all day
        await file(store, rules, clock)
        clock.advance(timedelta(minutes=12))
    assert clock.now() == first + timedelta(hours=4)
    with pytest.raises(QuotaExceeded) as refused:
        await file(store, rules, clock)
    assert refused.value.retry_at == first + timedelta(days=1)
    assert (refused.value.limit, refused.value.window) == (20, timedelta(days=1))
    clock.advance(timedelta(days=1) - timedelta(hours=4))
    await file(store, rules, clock)  # the first filing is a day old


async def test_when_both_limits_are_reached_the_later_time_is_given(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    quotas = Quotas(filings_per_hour=2, filings_per_day=3)
    first = clock.now()
    await file(store, rules, clock, quotas)
    clock.advance(timedelta(hours=2))
    await file(store, rules, clock, quotas)
    await file(store, rules, clock, quotas)
    with pytest.raises(QuotaExceeded) as refused:
        await file(store, rules, clock, quotas)
    assert refused.value.retry_at == first + timedelta(days=1)


async def test_zero_turns_a_limit_off(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    for _ in range(25):
        await file(store, rules, clock, Quotas(filings_per_hour=0, filings_per_day=0))
    assert len(store.requests) == 25
    hourly_off = Quotas(filings_per_hour=0, filings_per_day=26)
    await file(store, rules, clock, hourly_off)
    with pytest.raises(QuotaExceeded):
        await file(store, rules, clock, hourly_off)


async def test_accounts_are_counted_apart(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    for _ in range(5):
        await file(store, rules, clock)
    await file(store, rules, clock, user_id=78, chat=ChatRef(Platform.TELEGRAM, 78))
    # the same number on the other messenger is another account
    await file(store, rules, clock, chat=ChatRef(Platform.BALE, 1001))
    with pytest.raises(QuotaExceeded):
        await file(store, rules, clock)


async def test_a_redelivered_confirm_is_not_refused(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    """The sixth update is the fifth filing's own confirm again: it gets its receipt back."""
    for i in range(5):
        fifth = await file(store, rules, clock, filing_key=f"k{i}")
    again = await file(store, rules, clock, filing_key="k4")
    assert again.code == fifth.code and len(store.requests) == 5


async def test_the_start_of_a_filing_is_checked_the_same_way(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    first = clock.now()
    for _ in range(4):
        await file(store, rules, clock)
    await services.filing_quota(
        Platform.TELEGRAM, 77, uow=store, clock=clock, quotas=DEFAULTS
    )  # one more may start
    await file(store, rules, clock)
    with pytest.raises(QuotaExceeded) as refused:
        await services.filing_quota(Platform.TELEGRAM, 77, uow=store, clock=clock, quotas=DEFAULTS)
    assert refused.value.retry_at == first + timedelta(hours=1)


async def test_surveys_and_draft_comments_count_too(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    desk = Desk(store, rules, clock, Quotas(filings_per_hour=3))
    draft = await regulations.publish(
        desk, title="طرح آبیاری", summary="بند اول", unit="water_soil",
        document=DraftFile("draft.pdf", b"%PDF"),
    )  # fmt: skip
    assert draft.id is not None
    await file(store, rules, clock, desk.quotas, kind=Kind.SURVEY, survey={"service": "x"})
    await file(store, rules, clock, desk.quotas)
    await regulations.comment(
        desk, draft.id, section=0, text="نظر من درباره این طرح", chat=CITIZEN, user_id=77,
        name="رضا",
    )  # fmt: skip
    with pytest.raises(QuotaExceeded):
        await regulations.comment(
            desk, draft.id, section=0, text="نظر دوم درباره این طرح", chat=CITIZEN,
            user_id=77, name="رضا",
        )  # fmt: skip
    assert len(store.requests) == 3


# --- clarifications ----------------------------------------------------------------------------


async def test_clarifications_per_request_per_hour(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    desk = Desk(store, rules, clock, Quotas(clarifications_per_hour=3))
    request = await file(store, rules, clock, Quotas())
    other = await file(store, rules, clock, Quotas())
    await staff.ask(desk, request.code, "شماره پرونده؟", chat=WATER, actor=CLERK)
    first = clock.now()
    for i in range(3):
        await staff.clarify(desk, request.code, f"توضیح {i}", chat=CITIZEN)
        clock.advance(timedelta(minutes=5))
    notes = sum(1 for n in store.outbox if n.kind is NoticeKind.STAFF_NOTE)
    with pytest.raises(QuotaExceeded) as refused:
        await staff.clarify(desk, request.code, "توضیح ۴", chat=CITIZEN)
    assert refused.value.retry_at == first + timedelta(hours=1)
    assert sum(1 for n in store.outbox if n.kind is NoticeKind.STAFF_NOTE) == notes, (
        "nothing more reaches the staff group"
    )
    # another request of the same citizen has its own share
    await staff.clarify(desk, other.code, "درباره درخواست دیگر", chat=CITIZEN)
    clock.advance(first + timedelta(hours=1) - clock.now())  # the first is an hour old
    await staff.clarify(desk, request.code, "توضیح ۴", chat=CITIZEN)


async def test_clarifications_unlimited_with_zero(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    desk = Desk(store, rules, clock, Quotas(clarifications_per_hour=0))
    request = await file(store, rules, clock, Quotas())
    for i in range(30):
        await staff.clarify(desk, request.code, f"توضیح {i}", chat=CITIZEN)
    assert sum(1 for e in store.events if e.action == "clarified") == 30


# --- settings ----------------------------------------------------------------------------------


def test_settings_give_the_documented_defaults_and_refuse_negatives() -> None:
    from bot.config import SettingsError, load_settings

    assert load_settings(_env_file=None).quotas() == DEFAULTS
    off = load_settings(_env_file=None, filings_per_hour=0, clarifications_per_hour="0")
    assert off.quotas() == Quotas(filings_per_hour=0, filings_per_day=20)
    with pytest.raises(SettingsError, match="FILINGS_PER_DAY"):
        load_settings(_env_file=None, filings_per_day=-1)


def test_env_example_documents_each_quota() -> None:
    example = (RULES_FILE.parent / ".env.example").read_text(encoding="utf-8")
    for line in ("FILINGS_PER_HOUR=5", "FILINGS_PER_DAY=20", "CLARIFICATIONS_PER_HOUR=20"):
        assert f"\n{line}\n" in example


def test_failed_lookups_alert_setting() -> None:
    from bot.config import SettingsError, load_settings

    assert load_settings(_env_file=None).failed_lookups_alert == 50
    assert load_settings(_env_file=None, failed_lookups_alert=0).failed_lookups_alert == 0
    with pytest.raises(SettingsError, match="FAILED_LOOKUPS_ALERT"):
        load_settings(_env_file=None, failed_lookups_alert=-1)
    example = (RULES_FILE.parent / ".env.example").read_text(encoding="utf-8")
    assert "\nFAILED_LOOKUPS_ALERT=50\n" in example
