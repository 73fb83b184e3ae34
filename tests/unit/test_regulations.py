"""desk.regulations through the in-memory fakes: publishing a draft regulation, its comment
window (open, remind, close), the announcement's progress and the final version.

The clock is fixed; every deadline is written out literally. Tehran is UTC+03:30 all year, so
23:59:59 in Tehran is 20:29:59 UTC.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desk import regulations, tracking
from desk.model import (
    ChatRef,
    Draft,
    DraftFile,
    DraftStatus,
    Kind,
    NewRequest,
    Notice,
    NoticeKind,
    Platform,
    Status,
    split_sections,
)
from desk.regulations import MAX_FILE, DraftClosed, DraftError
from desk.routing import RoutingRules, load_rules
from desk.services import file_request
from desk.staff import Desk
from tests.unit.fakes import FakeStore, FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"

# Saturday 9 May 2026 (19 Ordibehesht 1405), 10:00 in Tehran
NOW = datetime(2026, 5, 9, 6, 30, tzinfo=UTC)
# 14 days later, 23:59:59 in Tehran: Saturday 23 May 2026
CLOSES = datetime(2026, 5, 23, 20, 29, 59, tzinfo=UTC)

ADMINS = [ChatRef(Platform.TELEGRAM, -1001000009001), ChatRef(Platform.BALE, 5100009001)]
AGRONOMY = [ChatRef(Platform.TELEGRAM, -1001000000005), ChatRef(Platform.BALE, 5100000005)]

ALI = ChatRef(Platform.TELEGRAM, 1001)
ZAHRA = ChatRef(Platform.TELEGRAM, 1002)
REZA = ChatRef(Platform.BALE, 2001)
MARYAM = ChatRef(Platform.BALE, 2002)
STRANGER = ChatRef(Platform.TELEGRAM, 9009)

DOC = DraftFile("پیش‌نویس دستورالعمل.pdf", b"%PDF-1.4 draft", "application/pdf")
FINAL_DOC = DraftFile("دستورالعمل نهایی.pdf", b"%PDF-1.4 final", "application/pdf")

SUMMARY = (
    "این دستورالعمل شرایط واگذاری آب کشاورزی در فصل کم‌آبی را تعیین می‌کند.\n\n"
    "۱. سهم هر بهره‌بردار بر اساس سطح زیر کشت تعیین می‌شود.\n\n"
    "۲. نوبت آبیاری را شورای آب روستا اعلام می‌کند."
)


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def desk(store: FakeStore, rules: RoutingRules, clock: FixedClock) -> Desk:
    return Desk(uow=store, rules=rules, clock=clock)


async def publish(desk: Desk, **overrides: object) -> Draft:
    values: dict[str, object] = {
        "title": "دستورالعمل توزیع آب کشاورزی",
        "summary": SUMMARY,
        "unit": "agronomy",
        "document": DOC,
        "by": "telegram:501",
    }
    values.update(overrides)
    return await regulations.publish(desk, **values)  # type: ignore[arg-type]


async def subscribe(desk: Desk, *chats: ChatRef) -> None:
    for chat in chats:
        await regulations.subscribe(desk, chat, True)


async def comment(desk: Desk, draft_id: int, chat: ChatRef, section: int = 0) -> str:
    request = await regulations.comment(
        desk, draft_id, section=section, text="نظر من", chat=chat, user_id=chat.chat_id, name=None
    )
    return request.code


def sent(store: FakeStore, kind: NoticeKind, template: str | None = None) -> list[Notice]:
    return [
        n
        for n in store.outbox
        if n.kind is kind and (template is None or n.data.get("template") == template)
    ]


def chats(notices: list[Notice]) -> list[ChatRef]:
    return [ChatRef(n.platform, n.chat_id) for n in notices]


def stored(store: FakeStore, draft_id: int) -> Draft:
    return store.drafts[draft_id]


# --- publishing: validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"title": "   "}, "empty"),
        ({"title": ""}, "empty"),
        ({"summary": "\n \n"}, "empty"),
        ({"unit": "nowhere"}, "unit"),
        ({"days": 0}, "days"),
        ({"days": 91}, "days"),
        ({"days": -3}, "days"),
        ({"document": DraftFile("empty.pdf", b"")}, "file"),
        ({"document": DraftFile("huge.pdf", b"x" * (MAX_FILE + 1))}, "file"),
    ],
)
async def test_publish_refuses_bad_input(
    desk: Desk, store: FakeStore, overrides: dict[str, object], reason: str
) -> None:
    await subscribe(desk, ALI)
    before = (copy.deepcopy(store.drafts), list(store.outbox), store.next_draft_id)
    with pytest.raises(DraftError) as caught:
        await publish(desk, **overrides)
    assert caught.value.reason == reason
    assert (store.drafts, store.outbox, store.next_draft_id) == before
    assert store.draft_files == {}


@pytest.mark.parametrize(
    "overrides",
    [{"days": 1}, {"days": 90}, {"document": DraftFile("big.pdf", b"x" * MAX_FILE)}],
)
async def test_publish_accepts_the_limits(desk: Desk, overrides: dict[str, object]) -> None:
    draft = await publish(desk, **overrides)
    assert draft.status is DraftStatus.OPEN


# --- publishing now ---------------------------------------------------------------------------


async def test_publish_now_opens_the_window_until_the_end_of_the_last_day(
    desk: Desk, store: FakeStore
) -> None:
    draft = await publish(desk, title="  دستورالعمل توزیع آب کشاورزی  ")
    assert draft.id == 1
    assert draft.status is DraftStatus.OPEN
    assert draft.opens_at == NOW
    assert draft.announced_at == NOW
    assert draft.closes_at == CLOSES
    assert draft.title == "دستورالعمل توزیع آب کشاورزی"
    assert draft.file_name == DOC.name
    assert draft.created_by == "telegram:501"
    assert stored(store, 1) == draft
    assert await regulations.document(desk, 1) == DOC
    assert await regulations.document(desk, 1, "final") is None
    assert await regulations.get(desk, 1) == draft


@pytest.mark.parametrize(
    ("now", "days", "closes_at"),
    [
        # 23:59 in Tehran on 9 May: still 9 May there
        (
            datetime(2026, 5, 9, 20, 29, tzinfo=UTC),
            14,
            datetime(2026, 5, 23, 20, 29, 59, tzinfo=UTC),
        ),
        # 00:30 in Tehran on 10 May, though still 9 May in UTC
        (
            datetime(2026, 5, 9, 21, 0, tzinfo=UTC),
            14,
            datetime(2026, 5, 24, 20, 29, 59, tzinfo=UTC),
        ),
        (NOW, 1, datetime(2026, 5, 10, 20, 29, 59, tzinfo=UTC)),
        (NOW, 90, datetime(2026, 8, 7, 20, 29, 59, tzinfo=UTC)),
        # across Nowruz and the new Jalali year 1406
        (
            datetime(2027, 3, 15, 5, 0, tzinfo=UTC),
            10,
            datetime(2027, 3, 25, 20, 29, 59, tzinfo=UTC),
        ),
    ],
)
async def test_the_window_closes_at_the_end_of_the_day_in_tehran(
    desk: Desk, clock: FixedClock, now: datetime, days: int, closes_at: datetime
) -> None:
    clock.advance(now - clock.now())
    draft = await publish(desk, days=days)
    assert draft.closes_at == closes_at


async def test_publish_now_announces_to_every_subscriber_and_tells_the_admins(
    desk: Desk, store: FakeStore
) -> None:
    await subscribe(desk, ALI, REZA, ZAHRA, MARYAM)
    await regulations.subscribe(desk, MARYAM, False)  # changed her mind
    await regulations.first_visit(desk, STRANGER, 9009)  # seen, never subscribed
    commits = store.committed
    draft = await publish(desk)
    assert store.committed == commits + 1  # the draft and its notices in one transaction
    announced = sent(store, NoticeKind.DRAFT_ANNOUNCE)
    assert sorted(chats(announced), key=str) == sorted([ALI, REZA, ZAHRA], key=str)
    assert all(n.tag == "draft:1:announce" for n in announced)
    assert all(n.data == {"draft": 1} and n.code is None for n in announced)
    assert regulations.announce_tag(1) == "draft:1:announce"
    assert draft.announce_total == 3
    opened = sent(store, NoticeKind.BROADCAST, "draft_opened")
    assert chats(opened) == ADMINS
    assert all(n.data == {"template": "draft_opened", "draft": 1, "total": 3} for n in opened)
    assert all(n.tag is None for n in opened)
    assert len(store.outbox) == 5


async def test_publish_with_no_subscribers_still_tells_the_admins(
    desk: Desk, store: FakeStore
) -> None:
    await publish(desk)
    assert sent(store, NoticeKind.DRAFT_ANNOUNCE) == []
    assert [n.data["total"] for n in sent(store, NoticeKind.BROADCAST, "draft_opened")] == [0, 0]


# --- publishing for later -----------------------------------------------------------------------


async def test_publish_for_later_is_scheduled_and_queues_nothing(
    desk: Desk, store: FakeStore
) -> None:
    await subscribe(desk, ALI, REZA)
    opens = datetime(2026, 5, 16, 4, 30, tzinfo=UTC)  # Saturday 16 May, 08:00 in Tehran
    draft = await publish(desk, opens_at=opens, days=10)
    assert draft.status is DraftStatus.SCHEDULED
    assert draft.opens_at == opens
    assert draft.closes_at == datetime(2026, 5, 26, 20, 29, 59, tzinfo=UTC)
    assert draft.announced_at is None
    assert draft.announce_total == 0
    assert store.outbox == []
    assert await regulations.open_drafts(desk) == []


async def test_open_due_opens_a_scheduled_draft_once_its_time_has_come(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await subscribe(desk, ALI, REZA)
    opens = datetime(2026, 5, 16, 4, 30, tzinfo=UTC)
    draft = await publish(desk, opens_at=opens)
    assert draft.id is not None

    clock.advance(opens - timedelta(seconds=1) - clock.now())
    assert await regulations.open_due(desk) == 0
    assert stored(store, draft.id).status is DraftStatus.SCHEDULED
    assert store.outbox == []

    await subscribe(desk, ZAHRA)  # subscribed after publishing, before opening: told too
    clock.advance(timedelta(seconds=1))
    assert await regulations.open_due(desk) == 1
    opened = stored(store, draft.id)
    assert opened.status is DraftStatus.OPEN
    assert opened.announced_at == opens
    assert opened.announce_total == 3
    assert sorted(chats(sent(store, NoticeKind.DRAFT_ANNOUNCE)), key=str) == sorted(
        [ALI, REZA, ZAHRA], key=str
    )
    assert chats(sent(store, NoticeKind.BROADCAST, "draft_opened")) == ADMINS
    assert await regulations.open_drafts(desk) == [opened]

    queued = len(store.outbox)
    clock.advance(timedelta(hours=1))
    assert await regulations.open_due(desk) == 0
    assert len(store.outbox) == queued


async def test_open_due_late_stamps_the_time_it_actually_opened(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    opens = datetime(2026, 5, 16, 4, 30, tzinfo=UTC)
    await publish(desk, opens_at=opens)
    clock.advance(opens + timedelta(hours=5) - clock.now())  # the bot was down
    assert await regulations.open_due(desk) == 1
    assert stored(store, 1).announced_at == opens + timedelta(hours=5)
    assert stored(store, 1).opens_at == opens


async def test_a_scheduled_draft_whose_window_passed_is_not_announced(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await subscribe(desk, ALI, REZA)
    opens = datetime(2026, 5, 16, 4, 30, tzinfo=UTC)
    draft = await publish(desk, opens_at=opens, days=3)
    clock.advance(draft.closes_at + timedelta(days=1) - clock.now())
    # what the scheduler's "drafts" job runs, in its order
    await regulations.open_due(desk)
    await regulations.report_progress(desk)
    await regulations.remind_due(desk)
    await regulations.close_due(desk)
    assert sent(store, NoticeKind.DRAFT_ANNOUNCE) == []
    assert stored(store, 1).status is DraftStatus.CLOSED


# --- announcement progress ------------------------------------------------------------------------

EIGHT = [ChatRef(Platform.TELEGRAM, 3000 + i) for i in range(4)] + [
    ChatRef(Platform.BALE, 4000 + i) for i in range(4)
]


def progress(store: FakeStore) -> list[Notice]:
    return sent(store, NoticeKind.BROADCAST, "draft_progress")


async def test_report_progress_every_quarter_and_at_the_end(desk: Desk, store: FakeStore) -> None:
    await subscribe(desk, *EIGHT)
    await publish(desk)
    announce = store.tagged("draft:1:announce")
    assert len(announce) == 8

    assert await regulations.report_progress(desk) == 0
    assert progress(store) == []

    store.mark_delivered(*announce[:2])  # 25 %
    assert await regulations.report_progress(desk) == 1
    reports = progress(store)
    assert chats(reports) == ADMINS
    assert all(
        n.data == {"template": "draft_progress", "draft": 1, "sent": 2, "failed": 0, "total": 8}
        for n in reports
    )
    assert stored(store, 1).progress_reported == 25

    assert await regulations.report_progress(desk) == 0  # nothing changed
    store.mark_delivered(announce[2])  # 37 %: still the same quarter
    assert await regulations.report_progress(desk) == 0
    assert len(progress(store)) == 2

    store.mark_delivered(*announce[3:7])
    store.mark_failed(announce[7])  # blocked the bot: counts as done
    assert await regulations.report_progress(desk) == 1
    reports = progress(store)[2:]
    assert chats(reports) == ADMINS
    assert all(n.data["sent"] == 7 and n.data["failed"] == 1 for n in reports)
    assert all(n.data["total"] == 8 for n in reports)
    assert stored(store, 1).progress_reported == 100

    assert await regulations.report_progress(desk) == 0
    assert len(progress(store)) == 4


async def test_report_progress_jumping_several_quarters_reports_once(
    desk: Desk, store: FakeStore
) -> None:
    await subscribe(desk, *EIGHT)
    await publish(desk)
    store.mark_delivered(*store.tagged("draft:1:announce")[:6])  # 75 %
    assert await regulations.report_progress(desk) == 1
    assert len(progress(store)) == 2
    assert stored(store, 1).progress_reported == 75


async def test_report_progress_with_no_subscribers_reports_100_once(
    desk: Desk, store: FakeStore
) -> None:
    await publish(desk)
    assert await regulations.report_progress(desk) == 1
    reports = progress(store)
    assert chats(reports) == ADMINS
    assert all(n.data["sent"] == n.data["failed"] == n.data["total"] == 0 for n in reports)
    assert stored(store, 1).progress_reported == 100
    assert await regulations.report_progress(desk) == 0
    assert len(progress(store)) == 2


async def test_report_progress_ignores_scheduled_drafts(desk: Desk, store: FakeStore) -> None:
    await publish(desk, opens_at=NOW + timedelta(days=2))
    assert await regulations.report_progress(desk) == 0
    assert store.outbox == []


async def test_report_progress_counts_each_draft_by_its_own_tag(
    desk: Desk, store: FakeStore
) -> None:
    await subscribe(desk, *EIGHT[:4])
    await publish(desk)
    await publish(desk, title="طرح دوم")
    store.mark_delivered(*store.tagged("draft:2:announce"))
    assert await regulations.report_progress(desk) == 1
    assert {n.data["draft"] for n in progress(store)} == {2}
    assert stored(store, 1).progress_reported == 0
    assert stored(store, 2).progress_reported == 100


# --- reminders ------------------------------------------------------------------------------------


async def test_remind_due_reminds_those_who_have_not_commented_once(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await subscribe(desk, ALI, ZAHRA, REZA)
    draft = await publish(desk)
    other = await publish(desk, title="طرح دیگر")
    assert draft.id is not None and other.id is not None
    await comment(desk, draft.id, ALI)
    await comment(desk, other.id, ZAHRA)  # a comment on another draft does not count

    clock.advance(CLOSES - timedelta(days=2, seconds=1) - clock.now())
    assert await regulations.remind_due(desk) == 0
    assert sent(store, NoticeKind.DRAFT_REMINDER) == []

    clock.advance(timedelta(seconds=1))  # 21 May 20:29:59 UTC: two days left
    assert await regulations.remind_due(desk) == 4  # ZAHRA and REZA, for each of the drafts
    reminders = [n for n in sent(store, NoticeKind.DRAFT_REMINDER) if n.data["draft"] == 1]
    assert sorted(chats(reminders), key=str) == sorted([ZAHRA, REZA], key=str)
    assert all(n.data == {"draft": 1} and n.code is None for n in reminders)
    assert stored(store, 1).reminded_at == clock.now()
    others = [n for n in sent(store, NoticeKind.DRAFT_REMINDER) if n.data["draft"] == other.id]
    assert sorted(chats(others), key=str) == sorted([ALI, REZA], key=str)

    clock.advance(timedelta(hours=3))
    assert await regulations.remind_due(desk) == 0
    assert len(sent(store, NoticeKind.DRAFT_REMINDER)) == 4


async def test_remind_due_after_closing_reminds_nobody(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await subscribe(desk, ALI)
    await publish(desk)
    clock.advance(CLOSES - clock.now())  # closed by the clock; close_due has not run yet
    assert await regulations.remind_due(desk) == 0
    assert await regulations.close_due(desk) == 1
    assert await regulations.remind_due(desk) == 0
    assert sent(store, NoticeKind.DRAFT_REMINDER) == []
    assert stored(store, 1).reminded_at is None


async def test_remind_due_ignores_scheduled_drafts(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await subscribe(desk, ALI)
    opens = datetime(2026, 5, 20, 4, 30, tzinfo=UTC)
    draft = await publish(desk, opens_at=opens, days=1)  # closes 21 May, 20:29:59 UTC
    clock.advance(opens - timedelta(minutes=1) - clock.now())  # inside the last two days
    assert draft.closes_at - timedelta(days=2) < clock.now()
    assert await regulations.remind_due(desk) == 0
    assert store.outbox == []


# --- closing --------------------------------------------------------------------------------------


async def test_close_due_closes_at_the_deadline_and_sends_the_digest(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    clock.advance(CLOSES - timedelta(seconds=1) - clock.now())
    assert await regulations.close_due(desk) == 0
    assert stored(store, 1).status is DraftStatus.OPEN
    assert sent(store, NoticeKind.DRAFT_DIGEST) == []

    clock.advance(timedelta(seconds=1))
    assert await regulations.close_due(desk) == 1
    draft = stored(store, 1)
    assert draft.status is DraftStatus.CLOSED
    assert draft.closed_at == CLOSES
    digests = sent(store, NoticeKind.DRAFT_DIGEST)
    assert chats(digests) == AGRONOMY
    assert all(n.data == {"draft": 1} and n.code is None for n in digests)

    clock.advance(timedelta(days=1))
    assert await regulations.close_due(desk) == 0
    assert len(sent(store, NoticeKind.DRAFT_DIGEST)) == 2
    assert stored(store, 1).closed_at == CLOSES


async def test_close_due_after_downtime_closes_on_the_next_call(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    back = datetime(2026, 5, 26, 9, 0, tzinfo=UTC)
    clock.advance(back - clock.now())
    assert await regulations.close_due(desk) == 1
    assert stored(store, 1).status is DraftStatus.CLOSED
    assert stored(store, 1).closed_at == back
    assert len(sent(store, NoticeKind.DRAFT_DIGEST)) == 2
    assert await regulations.close_due(desk) == 0


async def test_close_due_leaves_scheduled_drafts_alone(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk, opens_at=NOW + timedelta(days=30))
    clock.advance(timedelta(days=20))
    assert await regulations.close_due(desk) == 0
    assert stored(store, 1).status is DraftStatus.SCHEDULED


async def test_close_now_closes_an_open_draft(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    clock.advance(timedelta(days=3))
    draft = await regulations.close_now(desk, 1)
    assert draft.status is DraftStatus.CLOSED
    assert draft.closed_at == NOW + timedelta(days=3)
    assert stored(store, 1) == draft
    assert chats(sent(store, NoticeKind.DRAFT_DIGEST)) == AGRONOMY
    assert await regulations.open_drafts(desk) == []


async def test_close_now_closes_a_scheduled_draft_which_then_never_opens(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await subscribe(desk, ALI)
    await publish(desk, opens_at=NOW + timedelta(days=2))
    draft = await regulations.close_now(desk, 1)
    assert draft.status is DraftStatus.CLOSED
    clock.advance(timedelta(days=3))
    assert await regulations.open_due(desk) == 0
    assert sent(store, NoticeKind.DRAFT_ANNOUNCE) == []
    with pytest.raises(DraftError) as caught:  # past its opening date, still nobody reads it
        await regulations.public(desk, 1)
    assert caught.value.reason == "unknown"


async def test_close_now_refuses_closed_final_and_unknown_drafts(
    desk: Desk, store: FakeStore
) -> None:
    await publish(desk)
    await regulations.close_now(desk, 1)
    before = (copy.deepcopy(store.drafts), list(store.outbox))
    with pytest.raises(DraftError) as caught:
        await regulations.close_now(desk, 1)
    assert caught.value.reason == "status"
    assert (store.drafts, store.outbox) == before  # no second digest

    await regulations.finalize(desk, 1, note="تصویب شد", final=None)
    before = (copy.deepcopy(store.drafts), list(store.outbox))
    with pytest.raises(DraftError) as caught:
        await regulations.close_now(desk, 1)
    assert caught.value.reason == "status"
    assert store.drafts[1].status is DraftStatus.FINAL
    assert (store.drafts, store.outbox) == before

    with pytest.raises(DraftError) as caught:
        await regulations.close_now(desk, 99)
    assert caught.value.reason == "unknown"


# --- comments -------------------------------------------------------------------------------------


async def test_a_comment_is_a_request_routed_to_the_drafts_unit(
    desk: Desk, store: FakeStore
) -> None:
    draft = await publish(desk)
    assert draft.id is not None
    assert len(draft.sections()) == 3
    request = await regulations.comment(
        desk, draft.id, section=2, text="سهم باغ‌ها کم است", chat=ALI, user_id=77, name="علی"
    )
    assert request.kind is Kind.COMMENT
    assert tracking.is_valid(request.code)
    assert request.unit == "agronomy"  # the routing rules would say public_relations
    assert desk.rules.match(Kind.COMMENT).key == "public_relations"
    assert request.draft_id == draft.id
    assert request.section == 2
    assert request.status is Status.ROUTED
    assert request.due_at is None  # comments are read, not answered one by one
    assert request.chat == ALI
    assert request.user_id == 77
    assert request.contact.name == "علی"
    assert request.text == "سهم باغ‌ها کم است"
    assert store.requests[request.code] == request
    cards = sent(store, NoticeKind.STAFF_CARD)
    assert chats(cards) == [AGRONOMY[0]]
    assert cards[0].code == request.code


async def test_a_comment_from_bale_goes_to_the_units_bale_chat(
    desk: Desk, store: FakeStore
) -> None:
    await publish(desk)
    code = await comment(desk, 1, REZA, section=1)
    cards = sent(store, NoticeKind.STAFF_CARD)
    assert chats(cards) == [AGRONOMY[1]]
    assert cards[0].code == code


@pytest.mark.parametrize("section", [0, 1, 3])
async def test_a_comment_may_be_on_the_whole_draft_or_any_section(
    desk: Desk, store: FakeStore, section: int
) -> None:
    await publish(desk)
    code = await comment(desk, 1, ALI, section=section)
    assert store.requests[code].section == section


@pytest.mark.parametrize("section", [-1, 4, 40])
async def test_a_comment_on_a_missing_section_is_refused(
    desk: Desk, store: FakeStore, section: int
) -> None:
    await publish(desk)
    outbox = list(store.outbox)
    with pytest.raises(DraftError) as caught:
        await comment(desk, 1, ALI, section=section)
    assert caught.value.reason == "section"
    assert store.requests == {}
    assert store.outbox == outbox


async def test_a_comment_on_an_unknown_draft_is_refused(desk: Desk, store: FakeStore) -> None:
    with pytest.raises(DraftError) as caught:
        await comment(desk, 7, ALI)
    assert caught.value.reason == "unknown"
    assert store.requests == {}


async def test_a_comment_before_opening_is_refused_as_unknown(desk: Desk, store: FakeStore) -> None:
    """Not yet published: refused as a draft that does not exist (its title is not told)."""
    await publish(desk, opens_at=NOW + timedelta(days=1))
    with pytest.raises(DraftError) as caught:
        await comment(desk, 1, ALI)
    assert str(caught.value) == "unknown" and not isinstance(caught.value, DraftClosed)
    with pytest.raises(DraftError):
        await regulations.public(desk, 1)
    assert store.requests == {}


async def test_a_comment_after_the_deadline_is_refused_even_before_close_due(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    clock.advance(CLOSES - timedelta(seconds=1) - clock.now())
    await comment(desk, 1, ALI)  # the last second still counts
    clock.advance(timedelta(seconds=1))
    with pytest.raises(DraftClosed) as caught:
        await comment(desk, 1, ZAHRA)
    assert caught.value.draft.closes_at == CLOSES
    assert caught.value.draft.status is DraftStatus.OPEN
    await regulations.close_due(desk)
    with pytest.raises(DraftClosed) as caught:
        await comment(desk, 1, ZAHRA)
    assert caught.value.draft.status is DraftStatus.CLOSED
    assert len(store.requests) == 1


async def test_comments_are_listed_oldest_first_and_only_for_their_draft(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    await publish(desk, title="طرح دیگر")
    first = await comment(desk, 1, ALI)
    clock.advance(timedelta(hours=1))
    await comment(desk, 2, ZAHRA)
    clock.advance(timedelta(hours=1))
    second = await comment(desk, 1, REZA)
    await file_request(
        NewRequest(Kind.SUGGESTION, ALI, 77, "پیشنهاد", draft_id=1),
        uow=store,
        rules=desk.rules,
        clock=clock,
    )  # not a comment, even with a draft id
    async with store() as tx:
        assert [r.code for r in await tx.drafts.comments(1)] == [first, second]


# --- the final version ----------------------------------------------------------------------------


async def test_finalize_needs_a_note(desk: Desk, store: FakeStore) -> None:
    await publish(desk)
    before = copy.deepcopy(store.drafts)
    with pytest.raises(DraftError) as caught:
        await regulations.finalize(desk, 1, note="  \n", final=FINAL_DOC)
    assert caught.value.reason == "empty"
    assert store.drafts == before
    assert store.draft_files.get((1, "final")) is None


async def test_finalize_an_open_draft_closes_it_and_tells_every_commenter(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    ali = await comment(desk, 1, ALI, section=1)
    reza = await comment(desk, 1, REZA)
    ali_again = await comment(desk, 1, ALI, section=2)
    clock.advance(timedelta(days=5))
    draft, told = await regulations.finalize(
        desk, 1, note="  نظرات بررسی و در متن نهایی اعمال شد  ", final=FINAL_DOC, by="admin"
    )
    assert told == 3
    assert draft.status is DraftStatus.FINAL
    assert draft.final_note == "نظرات بررسی و در متن نهایی اعمال شد"
    assert draft.finalized_at == NOW + timedelta(days=5)
    assert draft.closed_at == NOW + timedelta(days=5)
    assert draft.final_file_name == FINAL_DOC.name
    assert stored(store, 1) == draft
    assert await regulations.document(desk, 1, "final") == FINAL_DOC
    assert await regulations.document(desk, 1) == DOC
    assert chats(sent(store, NoticeKind.DRAFT_DIGEST)) == AGRONOMY  # closed first
    outcomes = sent(store, NoticeKind.DRAFT_OUTCOME)
    assert [(ChatRef(n.platform, n.chat_id), n.code) for n in outcomes] == [
        (ALI, ali),
        (REZA, reza),
        (ALI, ali_again),
    ]
    assert all(n.data == {"draft": 1} for n in outcomes)


async def test_finalize_a_closed_draft_without_a_file(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    clock.advance(CLOSES - clock.now())
    await regulations.close_due(desk)
    clock.advance(timedelta(days=10))
    draft, told = await regulations.finalize(desk, 1, note="بدون تغییر تصویب شد", final=None)
    assert told == 0
    assert draft.status is DraftStatus.FINAL
    assert draft.closed_at == CLOSES  # not closed again
    assert draft.final_file_name is None
    assert await regulations.document(desk, 1, "final") is None
    assert len(sent(store, NoticeKind.DRAFT_DIGEST)) == 2
    assert sent(store, NoticeKind.DRAFT_OUTCOME) == []


async def test_finalize_twice_is_refused(desk: Desk, store: FakeStore) -> None:
    await publish(desk)
    await comment(desk, 1, ALI)
    await regulations.finalize(desk, 1, note="تصویب شد", final=FINAL_DOC)
    before = (copy.deepcopy(store.drafts), list(store.outbox))
    with pytest.raises(DraftError) as caught:
        await regulations.finalize(desk, 1, note="دوباره", final=None)
    assert caught.value.reason == "status"
    assert (store.drafts, store.outbox) == before


async def test_finalize_a_scheduled_or_unknown_draft_is_refused(
    desk: Desk, store: FakeStore
) -> None:
    await publish(desk, opens_at=NOW + timedelta(days=1))
    with pytest.raises(DraftError) as caught:
        await regulations.finalize(desk, 1, note="تصویب شد", final=FINAL_DOC)
    assert caught.value.reason == "status"
    assert stored(store, 1).status is DraftStatus.SCHEDULED
    assert (1, "final") not in store.draft_files
    with pytest.raises(DraftError) as caught:
        await regulations.finalize(desk, 5, note="تصویب شد", final=None)
    assert caught.value.reason == "unknown"


# --- lists ----------------------------------------------------------------------------------------


async def test_list_and_open_drafts(desk: Desk, clock: FixedClock) -> None:
    long = await publish(desk, days=30)
    short = await publish(desk, title="کوتاه", days=5)
    later = await publish(desk, title="بعدا", opens_at=NOW + timedelta(days=2))
    assert [d.id for d in await regulations.list_drafts(desk)] == [later.id, short.id, long.id]
    assert [d.id for d in await regulations.open_drafts(desk)] == [short.id, long.id]
    with pytest.raises(DraftError) as caught:
        await regulations.get(desk, 42)
    assert caught.value.reason == "unknown"


# --- subscriptions and first visits ---------------------------------------------------------------


async def test_subscribe_and_unsubscribe(desk: Desk, store: FakeStore) -> None:
    assert not await regulations.is_subscribed(desk, ALI)
    await regulations.subscribe(desk, ALI, True)
    assert await regulations.is_subscribed(desk, ALI)
    assert not await regulations.is_subscribed(desk, ChatRef(Platform.BALE, ALI.chat_id))
    await regulations.subscribe(desk, ALI, True)  # twice is fine
    async with store() as tx:
        assert await tx.citizens.subscribers() == [ALI]
    await regulations.subscribe(desk, ALI, False)
    assert not await regulations.is_subscribed(desk, ALI)
    async with store() as tx:
        assert await tx.citizens.subscribers() == []


async def test_first_visit_is_true_once_per_chat(desk: Desk, store: FakeStore) -> None:
    assert await regulations.first_visit(desk, ALI, 77)
    assert not await regulations.first_visit(desk, ALI, 77)
    assert await regulations.first_visit(desk, ChatRef(Platform.BALE, ALI.chat_id), 77)
    assert not await regulations.is_subscribed(desk, ALI)  # seeing is not subscribing
    assert store.citizens[ALI].created_at == NOW


# --- sections -------------------------------------------------------------------------------------


def test_short_paragraphs_merge_into_one_section() -> None:
    assert split_sections("مقدمه کوتاه.\n\nپاراگراف دوم.\n \t\nسوم.") == [
        "مقدمه کوتاه.\n\nپاراگراف دوم.\n\nسوم."
    ]


def test_numbered_headings_start_a_section() -> None:
    text = (
        "مقدمه.\n\n"
        "۱. بند اول.\n\nتوضیح بند اول.\n\n"
        "2) بند دوم.\n\n"
        "ماده ۳ - بند سوم.\n\n"
        "۴- بند چهارم.\n\n"
        "بخش ۵ تعاریف.\n\n"
        "فصل ۶ کلیات."
    )
    assert split_sections(text) == [
        "مقدمه.",
        "۱. بند اول.\n\nتوضیح بند اول.",
        "2) بند دوم.",
        "ماده ۳ - بند سوم.",
        "۴- بند چهارم.",
        "بخش ۵ تعاریف.",
        "فصل ۶ کلیات.",
    ]


def test_long_paragraphs_are_sections_of_their_own() -> None:
    a, b, c = "الف" * 200, "ب" * 500, "پ" * 300  # 600, 500 and 300 characters
    assert split_sections(f"{a}\n\n{b}\n\n{c}") == [a, f"{b}\n\n{c}"]


def test_sections_merge_while_under_about_900_characters() -> None:
    first = "ا" * 449
    assert split_sections(f"{first}\n\n{'ب' * 450}") == [f"{first}\n\n{'ب' * 450}"]
    assert split_sections(f"{first}\n\n{'ب' * 451}") == [first, "ب" * 451]


def test_text_without_blank_lines_is_one_section() -> None:
    text = "۱. بند اول.\n۲. بند دوم.\n" + "متن " * 400
    assert split_sections(text) == [text.strip()]


def test_a_draft_splits_its_summary() -> None:
    draft = Draft("عنوان", SUMMARY, "agronomy", NOW, CLOSES)
    assert draft.sections() == [
        "این دستورالعمل شرایط واگذاری آب کشاورزی در فصل کم‌آبی را تعیین می‌کند.",
        "۱. سهم هر بهره‌بردار بر اساس سطح زیر کشت تعیین می‌شود.",
        "۲. نوبت آبیاری را شورای آب روستا اعلام می‌کند.",
    ]


async def test_a_withdrawn_draft_is_neither_read_nor_commented_and_commenters_are_told(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    await publish(desk)
    await comment(desk, 1, ALI)
    with pytest.raises(DraftError) as caught:
        await regulations.withdraw(desk, 1, reason="  ")
    assert caught.value.reason == "empty"
    draft, told = await regulations.withdraw(desk, 1, reason="قانون تازه", by="telegram:7 (مریم)")
    assert told == 1 and draft.status is DraftStatus.WITHDRAWN and draft.final_note == "قانون تازه"
    assert draft.finalized_by == draft.closed_by == "telegram:7 (مریم)", "who withdrew it"
    outcome = [n for n in store.outbox if n.kind is NoticeKind.DRAFT_OUTCOME]
    assert [n.chat_id for n in outcome] == [ALI.chat_id]
    for attempt in (regulations.public(desk, 1), comment(desk, 1, ZAHRA)):
        with pytest.raises(DraftError) as caught:
            await attempt
        assert caught.value.reason == "withdrawn" and not isinstance(caught.value, DraftClosed)
    assert len(store.requests) == 1
    for step in ("withdraw", "finalize"):  # nothing more happens to it
        with pytest.raises(DraftError) as caught:
            if step == "withdraw":
                await regulations.withdraw(desk, 1, reason="دوباره")
            else:
                await regulations.finalize(desk, 1, note="نسخه نهایی", final=None)
        assert caught.value.reason == "status"
    clock.advance(CLOSES + timedelta(days=1) - clock.now())
    assert await regulations.close_due(desk) == 0, "no digest for a withdrawn draft"


async def test_a_scheduled_draft_withdrawn_never_opens(desk: Desk, clock: FixedClock) -> None:
    await publish(desk, opens_at=NOW + timedelta(days=1))
    await regulations.withdraw(desk, 1, reason="زود بود")
    clock.advance(timedelta(days=2))
    assert await regulations.open_due(desk) == 0
    assert (await regulations.get(desk, 1)).status is DraftStatus.WITHDRAWN


async def test_a_comment_keeps_who_its_author_comments_as_and_drops_a_forged_role(
    desk: Desk,
) -> None:
    draft = await publish(desk)
    assert draft.id is not None
    roles = {}
    for chat, role in ((ALI, "expert"), (ZAHRA, None), (REZA, "minister")):
        request = await regulations.comment(desk, draft.id, section=1, text="نظر من", chat=chat,
                                            user_id=chat.chat_id, name=None,
                                            commenter_role=role)  # fmt: skip
        roles[chat] = request.commenter_role
    assert roles == {ALI: "expert", ZAHRA: None, REZA: None}
