"""desk.staff (and the card posting of desk.services) through the in-memory fakes.

Every use case is checked for what it stores, the event it appends and the notices it queues;
every refusal for leaving the store exactly as it was.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desk import services, staff
from desk.model import (
    Actor,
    Attachment,
    AttachmentKind,
    ChatRef,
    CloseReason,
    Contact,
    Event,
    Kind,
    NewRequest,
    Notice,
    NoticeKind,
    Platform,
    Request,
    Status,
)
from desk.routing import RoutingRules, load_rules
from desk.services import NotFound
from desk.staff import Desk, NotOwner, NotYourRequest, ReopenRefused, WrongStatus
from tests.unit.fakes import FakeStore, FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"

# Saturday 21 November 2026 (30 Aban 1405), 10:00 in Tehran
FILED_AT = datetime(2026, 11, 21, 6, 30, tzinfo=UTC)

CITIZEN = ChatRef(Platform.TELEGRAM, 1001)
CITIZEN_BALE = ChatRef(Platform.BALE, 1001)
STRANGER = ChatRef(Platform.TELEGRAM, 2002)
WATER = ChatRef(Platform.TELEGRAM, -1001000000004)  # water_soil's Telegram group
WATER_BALE = ChatRef(Platform.BALE, 5100000004)  # water_soil's Bale group
FERDOWS = ChatRef(Platform.TELEGRAM, -1001000000016)  # county_ferdows's Telegram group
UNKNOWN_GROUP = ChatRef(Platform.TELEGRAM, -1009999999999)
CLERK = Actor(Platform.TELEGRAM, 501, "مهندس کریمی")

PHOTO = Attachment(AttachmentKind.PHOTO, file_id="ph1", file_unique_id="uph1", file_size=1234)
PLACE = Attachment(AttachmentKind.LOCATION, latitude=34.0186, longitude=58.1720)
LETTER = Attachment(AttachmentKind.DOCUMENT, file_id="doc1", file_name="پاسخ.pdf")


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FILED_AT)


@pytest.fixture
def desk(store: FakeStore, rules: RoutingRules, clock: FixedClock) -> Desk:
    return Desk(uow=store, rules=rules, clock=clock)


def new(chat: ChatRef = CITIZEN, **overrides: object) -> NewRequest:
    values: dict[str, object] = {
        "kind": Kind.COMPLAINT,
        "chat": chat,
        "user_id": 77,
        "text": "چاه کشاورزی ما از ماه گذشته برق ندارد.",
        "topic": "water",
        "county": "ferdows",
        "contact": Contact(name="رضا احمدی", phone="09151234567"),
        "attachments": [PHOTO],
    }
    values.update(overrides)
    return NewRequest(**values)  # type: ignore[arg-type]


async def file(desk: Desk, chat: ChatRef = CITIZEN, **overrides: object) -> Request:
    return await services.file_request(
        new(chat, **overrides), uow=desk.uow, rules=desk.rules, clock=desk.clock
    )


def notice(chat: ChatRef, kind: NoticeKind, code: str | None, **data: object) -> Notice:
    return Notice(chat.platform, chat.chat_id, kind, code, data)


def copy_of(chat: ChatRef, code: str, attachment: Attachment, source: Platform) -> Notice:
    return notice(chat, NoticeKind.STAFF_COPY, code, file=attachment.to_dict(), source=source.value)


def snapshot(store: FakeStore) -> object:
    """Everything committed: a refused action must leave all of it as it was."""
    return copy.deepcopy((store.requests, store.events, store.outbox, store.jobs, store.committed))


class Watch:
    """What a use case added to the outbox and the audit trail."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.outbox = len(store.outbox)
        self.events = len(store.events)

    @property
    def notices(self) -> list[Notice]:
        return self.store.outbox[self.outbox :]

    @property
    def new_events(self) -> list[Event]:
        return self.store.events[self.events :]


def stored(store: FakeStore, code: str) -> Request:
    return store.requests[code]


# --- filing: routing, deadline, card ----------------------------------------------------------


async def test_complaint_is_routed_to_water_soil_with_a_deadline_and_a_card(
    desk: Desk, store: FakeStore
) -> None:
    request = await file(desk, attachments=[PHOTO, PLACE])
    assert request.status is Status.ROUTED
    assert request.unit == "water_soil"
    # 10 working days after Sat 21 Nov (the filing day never counts): Sun 22 (1), Mon 23 (2),
    # Tue 24 = 3 Azar 1405, a holiday in the shipped rules, Wed 25 (3), Thu/Fri off,
    # Sat 28 (4), Sun 29 (5), Mon 30 (6), Tue 1 Dec (7), Wed 2 (8), Sat 5 (9), Sun 6 (10);
    # 23:59:59 Tehran = 20:29:59 UTC
    assert request.due_at == datetime(2026, 12, 6, 20, 29, 59, tzinfo=UTC)
    assert stored(store, request.code).due_at == request.due_at
    assert store.outbox == [
        notice(WATER, NoticeKind.STAFF_CARD, request.code),
        copy_of(WATER, request.code, PHOTO, Platform.TELEGRAM),
        copy_of(WATER, request.code, PLACE, Platform.TELEGRAM),
    ]
    assert store.outbox[1].data == {
        "file": {
            "kind": AttachmentKind.PHOTO,
            "file_id": "ph1",
            "file_unique_id": "uph1",
            "file_size": 1234,
        },
        "source": "telegram",
    }


async def test_card_goes_to_the_units_chat_on_the_citizens_platform(
    desk: Desk, store: FakeStore
) -> None:
    request = await file(desk, CITIZEN_BALE)
    assert store.outbox == [
        notice(WATER_BALE, NoticeKind.STAFF_CARD, request.code),
        copy_of(WATER_BALE, request.code, PHOTO, Platform.BALE),
    ]


async def test_suggestion_gets_its_own_deadline(desk: Desk) -> None:
    request = await file(desk, kind=Kind.SUGGESTION)
    # 15 working days from Sat 21 Nov: ... Sun 6 Dec (10) as for the complaint, Mon 7 (11),
    # Tue 8 (12), Wed 9 (13), Sat 12 (14), Sun 13 (15)
    assert request.due_at == datetime(2026, 12, 13, 20, 29, 59, tzinfo=UTC)


async def test_survey_gets_no_deadline(desk: Desk, store: FakeStore) -> None:
    survey: dict[str, object] = {"service": "بیمه", "scores": [5, 4, 4, 5]}
    request = await file(desk, kind=Kind.SURVEY, topic=None, survey=survey, attachments=[])
    assert request.due_at is None
    assert request.unit == "inspection"
    assert stored(store, request.code).due_at is None


FALLBACK_RULES = """\
organisation: test
units:
  - key: head_office
    name: دفتر ریاست
    telegram_chat: -1001
    bale_chat: 501
  - key: water_soil
    name: آب و خاک
    bale_chat: 503
  - key: pr
    name: روابط عمومی
    telegram_chat: -1002
topics:
  - key: water
    name: آب
  - key: other
    name: سایر
counties:
  - key: ferdows
    name: فردوس
rules:
  - topic: water
    unit: water_soil
default: pr
sla:
  days:
    complaint: 10
survey:
  services: [مجوزها]
  questions: [رفتار کارکنان؟]
"""


@pytest.fixture
def fallback(store: FakeStore, clock: FixedClock, tmp_path: Path) -> Desk:
    """water_soil has only a Bale group, pr only a Telegram group."""
    path = tmp_path / "rules.yaml"
    path.write_text(FALLBACK_RULES, encoding="utf-8")
    return Desk(uow=store, rules=load_rules(path), clock=clock)


async def test_unit_without_a_chat_on_the_citizens_platform_gets_the_card_on_the_other(
    fallback: Desk, store: FakeStore
) -> None:
    water = await file(fallback, CITIZEN)  # a Telegram citizen, a Bale-only unit
    other = await file(fallback, CITIZEN_BALE, topic="other")  # a Bale citizen, Telegram-only pr
    assert (water.unit, other.unit) == ("water_soil", "pr")
    bale_group = ChatRef(Platform.BALE, 503)
    telegram_group = ChatRef(Platform.TELEGRAM, -1002)
    assert store.outbox == [
        notice(bale_group, NoticeKind.STAFF_CARD, water.code),
        # the file lives on Telegram: the worker has to re-upload it to Bale
        copy_of(bale_group, water.code, PHOTO, Platform.TELEGRAM),
        notice(telegram_group, NoticeKind.STAFF_CARD, other.code),
        copy_of(telegram_group, other.code, PHOTO, Platform.BALE),
    ]


async def test_a_unit_on_the_other_platform_works_the_request_across_platforms(
    fallback: Desk, store: FakeStore
) -> None:
    request = await file(fallback, CITIZEN)
    bale_group = ChatRef(Platform.BALE, 503)
    bale_clerk = Actor(Platform.BALE, 9, "")
    watch = Watch(store)
    await staff.claim(fallback, request.code, chat=bale_group, actor=bale_clerk)
    await staff.answer(
        fallback, request.code, "پاسخ", chat=bale_group, actor=bale_clerk, attachments=[LETTER]
    )
    assert watch.notices == [
        notice(bale_group, NoticeKind.CARD_REFRESH, request.code),
        notice(CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="in_progress"),
        notice(bale_group, NoticeKind.CARD_REFRESH, request.code),
        notice(CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="answer", answer="پاسخ"),
        # the staff file lives on Bale, the citizen is on Telegram
        notice(
            CITIZEN, NoticeKind.CITIZEN_COPY, request.code, file=LETTER.to_dict(), source="bale"
        ),
    ]
    assert stored(store, request.code).claimed_by == "bale:9"


# --- claim -------------------------------------------------------------------------------------


async def test_claim_puts_the_request_in_progress_and_tells_the_citizen(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    at = clock.advance(timedelta(hours=2))
    watch = Watch(store)
    claimed = await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    assert claimed.status is Status.IN_PROGRESS
    assert claimed.claimed_by == "telegram:501 (مهندس کریمی)" == CLERK.label
    assert stored(store, request.code) == claimed
    assert claimed.updated_at == at
    assert watch.new_events == [
        Event(request.code, "claimed", at, CLERK.label, status=Status.IN_PROGRESS)
    ]
    assert watch.notices == [
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
        notice(CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="in_progress"),
    ]


async def test_any_chat_of_the_unit_may_claim(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    claimed = await staff.claim(desk, request.code, chat=WATER_BALE, actor=CLERK)
    assert claimed.status is Status.IN_PROGRESS


@pytest.mark.parametrize(
    "chat",
    [
        FERDOWS,  # another unit's group
        UNKNOWN_GROUP,  # not a staff group at all
        CITIZEN,  # the citizen's private chat
        ChatRef(Platform.BALE, WATER.chat_id),  # water_soil's Telegram id, but on Bale
    ],
    ids=["other-unit", "unknown-chat", "citizen", "same-id-other-platform"],
)
async def test_claim_only_from_the_units_chat(desk: Desk, store: FakeStore, chat: ChatRef) -> None:
    request = await file(desk)
    before = snapshot(store)
    with pytest.raises(NotYourRequest):
        await staff.claim(desk, request.code, chat=chat, actor=CLERK)
    assert snapshot(store) == before


async def test_claiming_twice_is_refused(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(WrongStatus) as info:
        await staff.claim(desk, request.code, chat=WATER, actor=Actor(Platform.TELEGRAM, 502))
    assert info.value.status is Status.IN_PROGRESS
    assert snapshot(store) == before
    assert stored(store, request.code).claimed_by == CLERK.label


async def test_unknown_code_is_not_found(desk: Desk, store: FakeStore) -> None:
    await file(desk)
    before = snapshot(store)
    with pytest.raises(NotFound):
        await staff.claim(desk, "1234567890", chat=WATER, actor=CLERK)
    assert snapshot(store) == before


# --- transfer ----------------------------------------------------------------------------------


async def test_transfer_moves_the_request_and_posts_a_new_card(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    at = clock.advance(timedelta(hours=1))
    watch = Watch(store)
    moved = await staff.transfer(
        desk, request.code, "county_ferdows", chat=WATER, actor=CLERK, reason="مجوز شهرستان"
    )
    assert moved.unit == "county_ferdows"
    assert moved.status is Status.ROUTED
    assert moved.claimed_by is None
    assert stored(store, request.code) == moved
    assert watch.new_events == [
        Event(
            request.code,
            "transferred",
            at,
            CLERK.label,
            status=Status.ROUTED,
            note="water_soil → county_ferdows: مجوز شهرستان",
        )
    ]
    assert watch.notices == [
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
        notice(
            FERDOWS,
            NoticeKind.STAFF_CARD,
            request.code,
            from_unit="water_soil",
            by="مهندس کریمی",
            reason="مجوز شهرستان",
        ),
        copy_of(FERDOWS, request.code, PHOTO, Platform.TELEGRAM),  # the files follow the card
        notice(CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="transferred"),
    ]


async def test_transfer_without_a_reason(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    watch = Watch(store)
    await staff.transfer(desk, request.code, "county_ferdows", chat=WATER, actor=CLERK, reason=None)
    assert watch.new_events[0].note == "water_soil → county_ferdows"
    assert watch.notices[1].data == {"from_unit": "water_soil", "by": "مهندس کریمی", "reason": ""}


async def test_after_a_transfer_only_the_new_unit_may_act(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    await staff.transfer(desk, request.code, "county_ferdows", chat=WATER, actor=CLERK, reason="")
    before = snapshot(store)
    with pytest.raises(NotYourRequest):
        await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    with pytest.raises(NotYourRequest):
        await staff.answer(desk, request.code, "پاسخ", chat=WATER, actor=CLERK)
    with pytest.raises(NotYourRequest):
        await staff.transfer(
            desk, request.code, "water_soil", chat=WATER, actor=CLERK, reason="پس بگیر"
        )
    assert snapshot(store) == before
    claimed = await staff.claim(desk, request.code, chat=FERDOWS, actor=CLERK)
    assert claimed.status is Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("to_unit", "error"),
    [("water_soil", WrongStatus), ("no_such_unit", NotFound)],
    ids=["same-unit", "unknown-unit"],
)
async def test_transfer_refusals(
    desk: Desk, store: FakeStore, to_unit: str, error: type[Exception]
) -> None:
    request = await file(desk)
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(error):
        await staff.transfer(desk, request.code, to_unit, chat=WATER, actor=CLERK, reason="x")
    assert snapshot(store) == before


async def test_transfer_by_another_unit_or_of_a_closed_request_is_refused(
    desk: Desk, store: FakeStore
) -> None:
    request = await file(desk)
    before = snapshot(store)
    with pytest.raises(NotYourRequest):
        await staff.transfer(desk, request.code, "agronomy", chat=FERDOWS, actor=CLERK, reason="")
    assert snapshot(store) == before
    await staff.close(desk, request.code, CloseReason.DUPLICATE, chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(WrongStatus):
        await staff.transfer(desk, request.code, "agronomy", chat=WATER, actor=CLERK, reason="")
    assert snapshot(store) == before


# --- ask and clarify ---------------------------------------------------------------------------

QUESTION = "شماره پرونده چاه را بفرستید."


async def test_ask_waits_for_the_citizen(desk: Desk, store: FakeStore, clock: FixedClock) -> None:
    request = await file(desk)
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    at = clock.advance(timedelta(minutes=30))
    watch = Watch(store)
    asked = await staff.ask(desk, request.code, QUESTION, chat=WATER, actor=CLERK)
    assert asked.status is Status.WAITING
    assert stored(store, request.code).status is Status.WAITING
    assert watch.new_events == [
        Event(request.code, "asked", at, CLERK.label, status=Status.WAITING, note=QUESTION)
    ]
    assert watch.notices == [
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
        notice(
            CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="question", question=QUESTION
        ),
    ]


async def test_nobody_to_ask_on_an_anonymous_request(desk: Desk, store: FakeStore) -> None:
    request = await file(desk, kind=Kind.SUGGESTION, anonymous=True, contact=Contact())
    before = snapshot(store)
    with pytest.raises(NotOwner):
        await staff.ask(desk, request.code, QUESTION, chat=WATER, actor=CLERK)
    assert snapshot(store) == before


async def test_ask_from_another_unit_is_refused(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    before = snapshot(store)
    with pytest.raises(NotYourRequest):
        await staff.ask(desk, request.code, QUESTION, chat=FERDOWS, actor=CLERK)
    assert snapshot(store) == before


async def test_clarify_brings_the_reply_back_to_the_unit(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    await staff.ask(desk, request.code, QUESTION, chat=WATER, actor=CLERK)
    at = clock.advance(timedelta(hours=3))
    watch = Watch(store)
    reply = "پرونده ۱۲۳۴ است."
    clarified = await staff.clarify(desk, request.code, reply, chat=CITIZEN, attachments=[PLACE])
    assert clarified.status is Status.IN_PROGRESS
    assert stored(store, request.code).status is Status.IN_PROGRESS
    assert watch.new_events == [
        Event(request.code, "clarified", at, "telegram:1001", status=Status.IN_PROGRESS, note=reply)
    ]
    assert watch.notices == [
        notice(WATER, NoticeKind.STAFF_NOTE, request.code, template="clarified", text=reply),
        copy_of(WATER, request.code, PLACE, Platform.TELEGRAM),
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
    ]


async def test_clarify_only_by_the_owner(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    await staff.ask(desk, request.code, QUESTION, chat=WATER, actor=CLERK)
    before = snapshot(store)
    for chat in (STRANGER, CITIZEN_BALE, WATER):
        with pytest.raises(NotOwner):
            await staff.clarify(desk, request.code, "من هم", chat=chat)
    assert snapshot(store) == before


async def test_clarify_while_open_moves_waiting_to_in_progress(
    desk: Desk, store: FakeStore
) -> None:
    request = await file(desk)
    await staff.ask(desk, request.code, QUESTION, chat=WATER, actor=CLERK)
    first = await staff.clarify(desk, request.code, "توضیح", chat=CITIZEN)
    assert first.status is Status.IN_PROGRESS
    # a second word from the citizen still reaches the thread; the status stays
    second = await staff.clarify(desk, request.code, "توضیح دوباره", chat=CITIZEN)
    assert second.status is Status.IN_PROGRESS
    await staff.close(desk, request.code, CloseReason.DUPLICATE, chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(WrongStatus) as info:  # closed: nothing more to say
        await staff.clarify(desk, request.code, "توضیح سوم", chat=CITIZEN)
    assert info.value.status is Status.CLOSED
    assert snapshot(store) == before


# --- answer ------------------------------------------------------------------------------------

ANSWER = "برق چاه شما فردا وصل می‌شود."


async def test_answer_is_stored_and_sent_with_the_staff_files(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(desk)
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    at = clock.advance(timedelta(days=2))
    watch = Watch(store)
    answered = await staff.answer(
        desk, request.code, ANSWER, chat=WATER, actor=CLERK, attachments=[LETTER, PLACE]
    )
    assert answered.status is Status.ANSWERED
    assert answered.answer == ANSWER and answered.answered_at == at
    assert stored(store, request.code) == answered
    assert watch.new_events == [
        Event(request.code, "answered", at, CLERK.label, status=Status.ANSWERED, note=ANSWER)
    ]
    assert watch.notices == [
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
        notice(CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="answer", answer=ANSWER),
        notice(
            CITIZEN,
            NoticeKind.CITIZEN_COPY,
            request.code,
            file=LETTER.to_dict(),
            source="telegram",
        ),
        notice(
            CITIZEN, NoticeKind.CITIZEN_COPY, request.code, file=PLACE.to_dict(), source="telegram"
        ),
    ]


async def test_answer_from_the_units_bale_chat_copies_files_from_bale(
    desk: Desk, store: FakeStore
) -> None:
    request = await file(desk)  # a Telegram citizen
    watch = Watch(store)
    await staff.answer(
        desk, request.code, ANSWER, chat=WATER_BALE, actor=CLERK, attachments=[LETTER]
    )
    assert watch.notices[-1] == notice(
        CITIZEN, NoticeKind.CITIZEN_COPY, request.code, file=LETTER.to_dict(), source="bale"
    )


async def test_answering_an_anonymous_request_tells_nobody(desk: Desk, store: FakeStore) -> None:
    """Recorded and the card refreshed; no citizen notice, and no second note contradicting the
    handler's «ثبت شد، به کسی فرستاده نشد»."""
    request = await file(desk, kind=Kind.SUGGESTION, anonymous=True, contact=Contact())
    watch = Watch(store)
    answered = await staff.answer(
        desk, request.code, ANSWER, chat=WATER, actor=CLERK, attachments=[LETTER]
    )
    assert answered.status is Status.ANSWERED and answered.answer == ANSWER
    assert watch.notices == [
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
    ]


async def test_an_unnamed_request_is_asked_and_answered_in_its_chat_naming_nobody(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await file(
        desk, kind=Kind.SUGGESTION, unnamed=True, contact=Contact(), attachments=[]
    )
    await staff.ask(desk, request.code, QUESTION, chat=WATER, actor=CLERK)
    watch = Watch(store)
    await staff.clarify(desk, request.code, "در روستای مود.", chat=CITIZEN)
    assert [e.actor for e in watch.new_events] == ["unnamed"], "the trail names nobody"
    watch = Watch(store)
    await staff.answer(desk, request.code, ANSWER, chat=WATER, actor=CLERK)
    assert watch.notices == [
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
        notice(CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="answer", answer=ANSWER),
    ]
    _, offer = await staff.rate(desk, request.code, 2, chat=CITIZEN)
    assert offer
    assert all("1001" not in e.actor for e in store.events)


async def test_answering_a_closed_request_is_refused(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    await staff.close(desk, request.code, CloseReason.OUT_OF_SCOPE, chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(WrongStatus) as info:
        await staff.answer(desk, request.code, ANSWER, chat=WATER, actor=CLERK)
    assert info.value.status is Status.CLOSED
    assert snapshot(store) == before


async def test_answer_from_another_unit_is_refused(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    before = snapshot(store)
    with pytest.raises(NotYourRequest):
        await staff.answer(desk, request.code, ANSWER, chat=FERDOWS, actor=CLERK)
    assert snapshot(store) == before


# --- close -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [CloseReason.DUPLICATE, CloseReason.OUT_OF_SCOPE])
async def test_close_tells_the_citizen_why(
    desk: Desk, store: FakeStore, clock: FixedClock, reason: CloseReason
) -> None:
    request = await file(desk)
    at = clock.advance(timedelta(hours=5))
    watch = Watch(store)
    closed = await staff.close(desk, request.code, reason, chat=WATER, actor=CLERK)
    assert closed.status is Status.CLOSED and closed.close_reason == reason.value
    assert stored(store, request.code) == closed
    assert watch.new_events == [
        Event(request.code, "closed", at, CLERK.label, status=Status.CLOSED, note=reason.value)
    ]
    assert watch.notices == [
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
        notice(CITIZEN, NoticeKind.CITIZEN_TEXT, request.code, template="closed", reason=reason),
    ]


async def test_spam_is_closed_silently(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    watch = Watch(store)
    closed = await staff.close(desk, request.code, CloseReason.SPAM, chat=WATER, actor=CLERK)
    assert closed.status is Status.CLOSED and closed.close_reason == "spam"
    assert watch.notices == [notice(WATER, NoticeKind.CARD_REFRESH, request.code)]


async def test_close_refusals(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    before = snapshot(store)
    with pytest.raises(NotYourRequest):
        await staff.close(desk, request.code, CloseReason.SPAM, chat=FERDOWS, actor=CLERK)
    assert snapshot(store) == before
    await staff.close(desk, request.code, CloseReason.SPAM, chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(WrongStatus):
        await staff.close(desk, request.code, CloseReason.DUPLICATE, chat=WATER, actor=CLERK)
    assert snapshot(store) == before


# --- rate --------------------------------------------------------------------------------------


async def answered(desk: Desk) -> Request:
    request = await file(desk)
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    return await staff.answer(desk, request.code, ANSWER, chat=WATER, actor=CLERK)


@pytest.mark.parametrize(("score", "offer"), [(1, True), (2, True), (3, False), (5, False)])
async def test_rating_soon_after_the_answer(
    desk: Desk, store: FakeStore, clock: FixedClock, score: int, offer: bool
) -> None:
    request = await answered(desk)
    at = clock.advance(timedelta(days=1))
    watch = Watch(store)
    rated, offered = await staff.rate(desk, request.code, score, chat=CITIZEN)
    assert offered is offer
    assert (rated.rating, rated.rated_at) == (score, at)
    assert rated.status is Status.ANSWERED  # rating changes no status
    assert stored(store, request.code) == rated
    assert watch.new_events == [Event(request.code, "rated", at, "telegram:1001", note=str(score))]
    assert watch.notices == []


@pytest.mark.parametrize(
    ("later", "offer"),
    [
        (timedelta(days=7), True),  # the window includes its last instant
        (timedelta(days=7, seconds=1), False),
        (timedelta(days=8), False),
    ],
)
async def test_no_reopen_offer_after_seven_days(
    desk: Desk, clock: FixedClock, later: timedelta, offer: bool
) -> None:
    request = await answered(desk)
    clock.advance(later)
    _, offered = await staff.rate(desk, request.code, 1, chat=CITIZEN)
    assert offered is offer


async def test_no_reopen_offer_after_a_reopen(desk: Desk, clock: FixedClock) -> None:
    request = await answered(desk)
    clock.advance(timedelta(days=1))
    await staff.reopen(desk, request.code, "مشکل حل نشد", chat=CITIZEN)
    clock.advance(timedelta(days=1))
    await staff.answer(desk, request.code, "پاسخ دوم", chat=WATER, actor=CLERK)
    rated, offered = await staff.rate(desk, request.code, 1, chat=CITIZEN)
    assert rated.reopen_count == 1
    assert offered is False


async def test_an_answer_is_rated_once(desk: Desk, store: FakeStore, clock: FixedClock) -> None:
    request = await answered(desk)
    clock.advance(timedelta(hours=1))
    await staff.rate(desk, request.code, 2, chat=CITIZEN)
    before = snapshot(store)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(staff.AlreadyRated) as refused:
        await staff.rate(desk, request.code, 5, chat=CITIZEN)
    assert refused.value.score == 2
    assert snapshot(store) == before, "the first rating stays, no event is added"


async def test_the_next_answer_after_a_reopen_is_rated_afresh(
    desk: Desk, clock: FixedClock
) -> None:
    request = await answered(desk)
    await staff.rate(desk, request.code, 1, chat=CITIZEN)  # same instant as the answer
    await staff.reopen(desk, request.code, "مشکل حل نشد", chat=CITIZEN)
    await staff.answer(desk, request.code, "پاسخ دوم", chat=WATER, actor=CLERK)
    rated, _ = await staff.rate(desk, request.code, 4, chat=CITIZEN)
    assert rated.rating == 4
    with pytest.raises(staff.AlreadyRated):
        await staff.rate(desk, request.code, 5, chat=CITIZEN)


@pytest.mark.parametrize("score", [0, 6, -1])
async def test_rating_outside_one_to_five_is_refused(
    desk: Desk, store: FakeStore, score: int
) -> None:
    request = await answered(desk)
    before = snapshot(store)
    with pytest.raises(ValueError):
        await staff.rate(desk, request.code, score, chat=CITIZEN)
    assert snapshot(store) == before


async def test_rating_only_by_the_owner_and_only_when_answered(
    desk: Desk, store: FakeStore
) -> None:
    request = await file(desk)
    before = snapshot(store)
    with pytest.raises(WrongStatus):
        await staff.rate(desk, request.code, 5, chat=CITIZEN)
    assert snapshot(store) == before
    await staff.answer(desk, request.code, ANSWER, chat=WATER, actor=CLERK)
    before = snapshot(store)
    for chat in (STRANGER, CITIZEN_BALE, WATER):
        with pytest.raises(NotOwner):
            await staff.rate(desk, request.code, 5, chat=chat)
    assert snapshot(store) == before


# --- reopen ------------------------------------------------------------------------------------

NOTE = "هنوز برق نداریم."


async def test_reopen_goes_back_to_the_unit(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await answered(desk)
    at = clock.advance(timedelta(days=3))
    watch = Watch(store)
    reopened = await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)
    assert reopened.status is Status.REOPENED
    assert reopened.reopen_count == 1
    assert reopened.claimed_by is None
    assert stored(store, request.code) == reopened
    assert watch.new_events == [
        Event(request.code, "reopened", at, "telegram:1001", status=Status.REOPENED, note=NOTE)
    ]
    assert watch.notices == [
        notice(WATER, NoticeKind.STAFF_NOTE, request.code, template="reopened", text=NOTE),
        notice(WATER, NoticeKind.CARD_REFRESH, request.code),
    ]


async def test_the_unit_answers_a_reopened_request_again(
    desk: Desk, store: FakeStore, clock: FixedClock
) -> None:
    request = await answered(desk)
    await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)
    claimed = await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    assert claimed.status is Status.IN_PROGRESS
    at = clock.advance(timedelta(days=1))
    again = await staff.answer(desk, request.code, "پاسخ دوم", chat=WATER, actor=CLERK)
    assert again.status is Status.ANSWERED
    assert (again.answer, again.answered_at) == ("پاسخ دوم", at)


async def test_the_unit_may_answer_a_reopened_request_without_claiming(desk: Desk) -> None:
    request = await answered(desk)
    await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)
    again = await staff.answer(desk, request.code, "پاسخ دوم", chat=WATER, actor=CLERK)
    assert again.status is Status.ANSWERED


async def test_reopen_only_once(desk: Desk, store: FakeStore) -> None:
    request = await answered(desk)
    await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)
    await staff.answer(desk, request.code, "پاسخ دوم", chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(ReopenRefused) as info:
        await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)
    assert info.value.reason == "again"
    assert snapshot(store) == before


async def test_reopen_too_late(desk: Desk, store: FakeStore, clock: FixedClock) -> None:
    request = await answered(desk)
    clock.advance(timedelta(days=7, seconds=1))
    before = snapshot(store)
    with pytest.raises(ReopenRefused) as info:
        await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)
    assert info.value.reason == "late"
    assert snapshot(store) == before


async def test_reopen_on_the_last_instant_of_the_window(desk: Desk, clock: FixedClock) -> None:
    request = await answered(desk)
    clock.advance(timedelta(days=7))
    assert (await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)).reopen_count == 1


@pytest.mark.parametrize("action", ["none", "claim", "close"])
async def test_reopen_only_an_answered_request(desk: Desk, store: FakeStore, action: str) -> None:
    request = await file(desk)
    if action == "claim":
        await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    elif action == "close":
        await staff.close(desk, request.code, CloseReason.DUPLICATE, chat=WATER, actor=CLERK)
    before = snapshot(store)
    with pytest.raises(ReopenRefused) as info:
        await staff.reopen(desk, request.code, NOTE, chat=CITIZEN)
    assert info.value.reason == "status"
    assert snapshot(store) == before


async def test_reopen_only_by_the_owner(desk: Desk, store: FakeStore) -> None:
    request = await answered(desk)
    before = snapshot(store)
    for chat in (STRANGER, CITIZEN_BALE, WATER):
        with pytest.raises(NotOwner):
            await staff.reopen(desk, request.code, NOTE, chat=chat)
    assert snapshot(store) == before


def test_reopen_refusal_order() -> None:
    """The reasons, checked in order: status first, then a previous reopen, then the window."""
    now = FILED_AT + timedelta(days=30)
    request = Request(
        code="1234567890",
        kind=Kind.COMPLAINT,
        status=Status.ANSWERED,
        text="x",
        created_at=FILED_AT,
        updated_at=FILED_AT,
        answered_at=now - timedelta(days=1),
    )
    assert staff.reopen_refusal(request, now) is None
    request.answered_at = now - timedelta(days=8)
    assert staff.reopen_refusal(request, now) == "late"
    request.reopen_count = 1
    assert staff.reopen_refusal(request, now) == "again"
    request.status = Status.CLOSED
    assert staff.reopen_refusal(request, now) == "status"
    request.status, request.reopen_count, request.answered_at = Status.ANSWERED, 0, None
    assert staff.reopen_refusal(request, now) == "late"  # answered without a time: be safe


# --- an update handled again after a crash changes nothing twice ------------------------------


async def test_an_action_whose_update_comes_again_is_not_done_twice(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    """Killed after the desk committed an answer and before the update's handled mark, the bot
    gets the same update again: the citizen must not receive the answer a second time."""
    key = ["telegram-bot:1001"]
    desk = Desk(uow=store, rules=rules, clock=clock, update_key=lambda: key[0])
    request = await file(desk)
    watch = Watch(store)
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)
    key[0] = "telegram-bot:1002"
    await staff.answer(desk, request.code, "پاسخ کارشناس", chat=WATER, actor=CLERK)
    after_once = (len(watch.notices), len(watch.new_events))
    await staff.answer(desk, request.code, "پاسخ کارشناس", chat=WATER, actor=CLERK)  # again
    key[0] = "telegram-bot:1001"
    await staff.claim(desk, request.code, chat=WATER, actor=CLERK)  # the claim's update again
    assert (len(watch.notices), len(watch.new_events)) == after_once
    assert [e.update_key for e in watch.new_events] == ["telegram-bot:1001", "telegram-bot:1002"]
    key[0] = "telegram-bot:1003"  # a new update: a second answer is a real second answer
    await staff.answer(desk, request.code, "پاسخ دوم", chat=WATER, actor=CLERK)
    answers = [n for n in watch.notices if n.data.get("template") == "answer"]
    assert len(answers) == 2


async def test_the_newest_waiting_question_is_the_one_answered_from_the_menu(
    desk: Desk, clock: FixedClock
) -> None:
    assert await staff.awaiting_answer(desk, CITIZEN) is None
    older = await file(desk)
    newer = await file(desk)
    await staff.ask(desk, newer.code, QUESTION, chat=WATER, actor=CLERK)
    clock.advance(timedelta(hours=1))
    await staff.ask(desk, older.code, QUESTION, chat=WATER, actor=CLERK)
    # the question asked last wins, whichever request was filed last
    waiting = await staff.awaiting_answer(desk, CITIZEN)
    assert waiting is not None and waiting.code == older.code
    assert await staff.awaiting_answer(desk, STRANGER) is None
    await staff.clarify(desk, older.code, "توضیح", chat=CITIZEN)
    waiting = await staff.awaiting_answer(desk, CITIZEN)
    assert waiting is not None and waiting.code == newer.code
