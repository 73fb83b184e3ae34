"""desk.services through the in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from desk import services, tracking
from desk.model import (
    Attachment,
    AttachmentKind,
    ChatRef,
    Contact,
    Kind,
    NewRequest,
    Notice,
    NoticeKind,
    Platform,
    Request,
    Status,
)
from desk.ports import Remembered
from desk.routing import RoutingRules, load_rules
from desk.services import BadCheckDigit, MalformedCode, NotFound, Throttled
from desk.text import to_persian_digits
from tests.unit.fakes import FakeStore, FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"
TG = ChatRef(Platform.TELEGRAM, 1001)
BALE_SAME_ID = ChatRef(Platform.BALE, 1001)
OTHER = ChatRef(Platform.TELEGRAM, 2002)
PHONE = "09151234567"


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def new(chat: ChatRef | None = TG, **overrides: object) -> NewRequest:
    values: dict[str, object] = {
        "kind": Kind.COMPLAINT,
        "chat": chat,
        "user_id": 77 if chat else None,
        "text": "آب چاه کشاورزی ما قطع شده است و کسی پاسخگو نیست.",
        "topic": "water",
        "county": "birjand",
        "contact": Contact(name="علی رضایی", phone=PHONE, national_code="0499370899"),
        "attachments": [Attachment(AttachmentKind.PHOTO, file_id="f1", file_unique_id="u1")],
    }
    values.update(overrides)
    return NewRequest(**values)  # type: ignore[arg-type]


async def file(
    store: FakeStore, rules: RoutingRules, clock: FixedClock, **kwargs: object
) -> Request:
    return await services.file_request(new(**kwargs), uow=store, rules=rules, clock=clock)  # type: ignore[arg-type]


def typo(code: str) -> str:
    return code[:9] + str((int(code[9]) + 1) % 10)


def unused_code(store: FakeStore) -> Iterator[str]:
    while True:
        code = tracking.generate()
        if code not in store.requests:
            yield code


# --- filing ------------------------------------------------------------------------------------


async def test_file_request_stores_a_routed_request_with_a_filed_event(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    request = await file(store, rules, clock)
    assert tracking.is_valid(request.code)
    assert request.status is Status.ROUTED
    assert request.unit == "water_soil"
    assert request.created_at == request.updated_at == clock.now()
    assert request.chat == TG and request.user_id == 77
    assert request.id is not None
    assert store.committed == 1
    assert store.requests[request.code] == request
    async with store() as tx:
        assert await tx.requests.get(request.code) == request
        events = await tx.requests.events(request.code)
    assert [(e.action, e.status, e.note, e.actor, e.at) for e in events] == [
        ("filed", Status.FILED, None, "telegram:1001", clock.now()),
        ("routed", Status.ROUTED, "water_soil", "routing", clock.now()),
    ]


async def test_the_same_filing_key_files_once(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    """A confirm handled twice (an update redelivered after a crash) files one request,
    with one card, and returns the same tracking code both times."""
    first = await file(store, rules, clock, filing_key="k-1")
    notices = len(store.outbox)
    again = await file(store, rules, clock, filing_key="k-1")
    assert len(store.outbox) == notices, "no second card for the repeated confirm"
    other = await file(store, rules, clock, filing_key="k-2")
    assert again.code == first.code
    assert other.code != first.code
    assert len(store.requests) == 2


async def test_file_request_routes_by_the_rules(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    head = await file(store, rules, clock, kind=Kind.HEAD, topic="water")
    permits = await file(store, rules, clock, topic="permits", county="ferdows")
    other = await file(store, rules, clock, kind=Kind.SUGGESTION, topic="other", county=None)
    assert (head.unit, permits.unit, other.unit) == (
        "head_office",
        "county_ferdows",
        "public_relations",
    )


async def test_file_request_retries_when_a_code_is_taken(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    taken = (await file(store, rules, clock)).code
    fresh = next(unused_code(store))
    offered = iter([taken, taken, fresh])
    request = await services.file_request(
        new(), uow=store, rules=rules, clock=clock, new_code=lambda: next(offered)
    )
    assert request.code == fresh
    assert len(store.requests) == 2
    assert store.requests[taken].id != request.id


async def test_anonymous_filing_stores_no_chat_or_user(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    request = await file(
        store,
        rules,
        clock,
        kind=Kind.SUGGESTION,
        anonymous=True,
        contact=Contact(),
        attachments=[],
    )
    stored = store.requests[request.code]
    assert stored.chat is None and stored.user_id is None and stored.anonymous
    assert [e.actor for e in store.events] == ["anonymous", "routing"]
    assert await services.my_requests(TG, uow=store) == []


async def test_an_unnamed_filing_keeps_the_chat_but_no_trace_of_who_and_is_not_remembered(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    """«بدون نام، ولی پاسخ را همین‌جا بگیرم»: the chat stays for the answer; the audit trail
    (exported to staff) names nobody; nothing is offered back as «همان قبلی»."""
    request = await file(
        store, rules, clock, kind=Kind.SUGGESTION, unnamed=True, attachments=[]
    )  # a name and a phone handed in by mistake are not kept either
    stored = store.requests[request.code]
    assert stored.chat == TG and stored.unnamed and not stored.anonymous
    assert stored.contact == Contact()
    assert [e.actor for e in store.events] == ["unnamed", "routing"]
    assert await services.remembered_details(Platform.TELEGRAM, 77, uow=store) is None
    found = await services.lookup(request.code, chat=TG, uow=store, clock=clock)
    assert found.full, "the filing chat tracks it as any other request"
    other = await services.lookup(request.code, chat=OTHER, uow=store, clock=clock)
    assert not other.full
    assert [r.code for r in await services.my_requests(TG, uow=store)] == [request.code]


async def test_survey_filing_keeps_its_answers(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    answers: dict[str, object] = {"service": "بیمه", "scores": [5, 4, 3, 5], "comment": "خوب"}
    request = await file(store, rules, clock, kind=Kind.SURVEY, topic=None, survey=answers)
    assert request.unit == "inspection"
    assert store.requests[request.code].survey == answers
    assert not services.kind_needs_answer(Kind.SURVEY)
    assert services.kind_needs_answer(Kind.COMPLAINT)


# --- look-up -----------------------------------------------------------------------------------


async def test_owner_sees_everything(store: FakeStore, rules: RoutingRules, clock: FixedClock):
    filed = await file(store, rules, clock)
    result = await services.lookup(filed.code, chat=TG, uow=store, clock=clock)
    assert result.full and result.request == filed


async def test_other_chat_sees_only_the_status(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    filed = await file(store, rules, clock)
    result = await services.lookup(filed.code, chat=OTHER, uow=store, clock=clock)
    assert not result.full and result.request.code == filed.code
    # same chat id on the other platform is another chat
    result = await services.lookup(filed.code, chat=BALE_SAME_ID, uow=store, clock=clock)
    assert not result.full


async def test_own_contact_with_the_filing_phone_shows_the_content(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    filed = await file(store, rules, clock)
    proof = services.Proof(PHONE, own=True)
    result = await services.lookup(filed.code, chat=OTHER, uow=store, clock=clock, proof=proof)
    assert result.full and not result.proof_failed and not result.locked
    assert store.failures == []


@pytest.mark.parametrize(
    "proof",
    [
        services.Proof("09150000000", own=True),  # the sender's own, another number
        services.Proof(PHONE, own=False),  # a phone-book card or another person's
        services.Proof("", own=True),  # a number that is no mobile at all
    ],
    ids=["own-other-number", "not-own-victims-number", "unreadable"],
)
async def test_a_proof_that_proves_nothing_shows_the_status_and_counts_as_a_failure(
    store: FakeStore, rules: RoutingRules, clock: FixedClock, proof: services.Proof
) -> None:
    filed = await file(store, rules, clock)
    result = await services.lookup(filed.code, chat=OTHER, uow=store, clock=clock, proof=proof)
    assert not result.full and result.proof_failed
    assert store.failures == [(OTHER, clock.now(), filed.code)]


async def test_failed_proofs_count_toward_the_chats_throttle(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    foreign = services.Proof(PHONE, own=False)
    for _ in range(services.LOOKUP_FAILURES_PER_HOUR):
        await services.lookup(code, chat=OTHER, uow=store, clock=clock, proof=foreign)
    with pytest.raises(Throttled):
        await services.lookup(code, chat=OTHER, uow=store, clock=clock)


async def test_a_proof_does_not_unlock_a_request_without_phone(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    filed = await file(store, rules, clock, contact=Contact(), anonymous=True)
    proof = services.Proof(PHONE, own=True)
    result = await services.lookup(filed.code, chat=OTHER, uow=store, clock=clock, proof=proof)
    assert not result.full and result.proof_failed


async def test_after_failed_proofs_of_a_code_only_the_filing_chat_sees_content(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    wrong = services.Proof("09150000000", own=True)
    start = clock.now()
    for n in range(services.PROOF_FAILURES_PER_CODE):
        chat = ChatRef(Platform.BALE if n % 2 else Platform.TELEGRAM, 5000 + n)
        await services.lookup(code, chat=chat, uow=store, clock=clock, proof=wrong)
        clock.advance(timedelta(hours=1))
    right = services.Proof(PHONE, own=True)
    late = await services.lookup(code, chat=OTHER, uow=store, clock=clock, proof=right)
    assert not late.full and late.locked and not late.proof_failed
    plain = await services.lookup(code, chat=OTHER, uow=store, clock=clock)
    assert plain.locked and not plain.full
    assert (await services.lookup(code, chat=TG, uow=store, clock=clock)).full
    # another code is not locked by this one's failures
    other = (await file(store, rules, clock)).code
    assert (await services.lookup(other, chat=OTHER, uow=store, clock=clock, proof=right)).full
    # the window slides: once the first failure is a day old, two are left and it opens
    clock.advance(start + services.PROOF_WINDOW - clock.now())
    again = await services.lookup(code, chat=OTHER, uow=store, clock=clock, proof=right)
    assert again.full and not again.locked


async def test_unknown_codes_do_not_lock_a_code(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    for n in range(services.PROOF_FAILURES_PER_CODE + 1):
        with pytest.raises(BadCheckDigit):
            await services.lookup(typo(code), chat=ChatRef(Platform.TELEGRAM, 6000 + n),
                                  uow=store, clock=clock)  # fmt: skip
    right = services.Proof(PHONE, own=True)
    assert (await services.lookup(code, chat=OTHER, uow=store, clock=clock, proof=right)).full


ADMINS = {Platform.TELEGRAM: frozenset({-100}), Platform.BALE: frozenset({-200, -201})}


def alerts(store: FakeStore) -> list[Notice]:
    return [n for n in store.outbox if n.kind is NoticeKind.ADMIN_ALERT]


async def fail_from_many_chats(store: FakeStore, clock: FixedClock, watch, count: int) -> None:
    for n in range(count):
        chat = ChatRef(Platform.TELEGRAM, 9000 + n)
        with pytest.raises(NotFound):
            await services.lookup(missing_code(store), chat=chat, uow=store, clock=clock,
                                  watch=watch)  # fmt: skip


def missing_code(store: FakeStore) -> str:
    return next(unused_code(store))


async def test_a_wave_of_failures_is_told_to_every_admin_chat_once_an_hour(
    store: FakeStore, clock: FixedClock
) -> None:
    watch = services.LookupWatch(alert_over=5, admins=ADMINS)
    await fail_from_many_chats(store, clock, watch, 5)
    assert alerts(store) == []  # at the threshold: not above it
    await fail_from_many_chats(store, clock, watch, 1)
    told = alerts(store)
    assert sorted((n.platform.value, n.chat_id) for n in told) == [
        ("bale", -201), ("bale", -200), ("telegram", -100)
    ]  # fmt: skip
    assert all(n.data == {"template": "lookups", "count": 6} and n.code is None for n in told)
    # more failures within the hour: no second alert
    clock.advance(timedelta(minutes=59))
    await fail_from_many_chats(store, clock, watch, 10)
    assert len(alerts(store)) == 3
    # an hour after the alert, failures still over the threshold: told again, once
    clock.advance(timedelta(minutes=1))
    await fail_from_many_chats(store, clock, watch, 2)
    assert len(alerts(store)) == 6


async def test_failed_proofs_count_toward_the_alert_and_off_means_off(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    foreign = services.Proof(PHONE, own=False)
    off = services.LookupWatch(alert_over=0, admins=ADMINS)
    for n in range(3):
        chat = ChatRef(Platform.BALE, 7000 + n)
        await services.lookup(code, chat=chat, uow=store, clock=clock, proof=foreign, watch=off)
    assert alerts(store) == []
    on = services.LookupWatch(alert_over=3, admins=ADMINS)
    chat = ChatRef(Platform.BALE, 7100)
    await services.lookup(code, chat=chat, uow=store, clock=clock, proof=foreign, watch=on)
    assert [n.data["count"] for n in alerts(store)] == [4, 4, 4]


async def test_purge_keeps_what_the_day_window_still_needs(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    wrong = services.Proof("09150000000", own=True)
    await services.lookup(code, chat=OTHER, uow=store, clock=clock, proof=wrong)
    clock.advance(timedelta(hours=23))
    await services.lookup(code, chat=OTHER, uow=store, clock=clock, proof=wrong)
    clock.advance(timedelta(hours=2))
    assert await services.purge_lookup_failures(uow=store, clock=clock) == 1
    assert [at for _, at, _ in store.failures] == [clock.now() - timedelta(hours=2)]


async def test_lookup_accepts_persian_and_arabic_digits(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    persian = to_persian_digits(f"{code[:5]} {code[5:]}")
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for typed in (persian, f"\u200f{arabic}\u200f", f"{code[:3]}-{code[3:]}"):
        result = await services.lookup(typed, chat=TG, uow=store, clock=clock)
        assert result.request.code == code
    assert store.failures == []


async def test_successful_lookup_commits_nothing(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    before = store.committed
    await services.lookup(code, chat=OTHER, uow=store, clock=clock)
    assert store.committed == before
    assert store.failures == []


@pytest.mark.parametrize(
    ("make_text", "error"),
    [
        (lambda code: next(c for c in iter(tracking.generate, None) if c != code), NotFound),
        (typo, BadCheckDigit),
        (lambda code: code[:9], MalformedCode),
        (lambda code: "سلام، کد من چی شد؟", MalformedCode),
    ],
    ids=["not-found", "bad-check-digit", "nine-digits", "words"],
)
async def test_failed_lookups_raise_and_are_recorded(
    store: FakeStore, rules: RoutingRules, clock: FixedClock, make_text, error
) -> None:
    code = (await file(store, rules, clock)).code
    committed = store.committed
    with pytest.raises(error):
        await services.lookup(make_text(code), chat=OTHER, uow=store, clock=clock)
    assert store.failures == [(OTHER, clock.now(), None)]
    assert store.committed == committed + 1


async def test_eleventh_attempt_in_an_hour_is_throttled(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(store, rules, clock)).code
    missing = next(unused_code(store))
    first = clock.now()
    for _ in range(services.LOOKUP_FAILURES_PER_HOUR):
        with pytest.raises(NotFound):
            await services.lookup(missing, chat=OTHER, uow=store, clock=clock)
        clock.advance(timedelta(minutes=5))
    # now at first + 50 min, with ten failures in the window: even a valid code is refused
    with pytest.raises(Throttled) as info:
        await services.lookup(code, chat=OTHER, uow=store, clock=clock)
    assert info.value.until == first + timedelta(hours=1)
    assert len(store.failures) == services.LOOKUP_FAILURES_PER_HOUR  # refusal is not a failure

    # other chats, and the same id on the other platform, are not affected
    await services.lookup(code, chat=TG, uow=store, clock=clock)
    await services.lookup(code, chat=ChatRef(Platform.BALE, OTHER.chat_id), uow=store, clock=clock)

    clock.advance(info.value.until - clock.now() + timedelta(seconds=1))
    assert (await services.lookup(code, chat=OTHER, uow=store, clock=clock)).request.code == code


async def test_throttle_moves_with_the_window(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    missing = next(unused_code(store))
    times = []
    for _ in range(services.LOOKUP_FAILURES_PER_HOUR):
        times.append(clock.now())
        with pytest.raises(NotFound):
            await services.lookup(missing, chat=OTHER, uow=store, clock=clock)
        clock.advance(timedelta(minutes=1))
    clock.advance(timedelta(minutes=50, seconds=30))  # the first failure left, nine remain
    with pytest.raises(NotFound):
        await services.lookup(missing, chat=OTHER, uow=store, clock=clock)
    with pytest.raises(Throttled) as info:
        await services.lookup(missing, chat=OTHER, uow=store, clock=clock)
    assert info.value.until == times[1] + timedelta(hours=1)


async def test_lookup_works_again_exactly_at_until(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    """Throttled.until is a promise: at that instant the chat is served again."""
    code = (await file(store, rules, clock)).code
    for _ in range(services.LOOKUP_FAILURES_PER_HOUR):
        with pytest.raises(BadCheckDigit):
            await services.lookup(typo(code), chat=OTHER, uow=store, clock=clock)
    with pytest.raises(Throttled) as info:
        await services.lookup(code, chat=OTHER, uow=store, clock=clock)
    clock.advance(info.value.until - clock.now())
    assert (await services.lookup(code, chat=OTHER, uow=store, clock=clock)).request.code == code


# --- my requests -------------------------------------------------------------------------------


async def test_my_requests_are_the_chats_own_newest_first(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    mine = []
    for _ in range(3):
        mine.append(await file(store, rules, clock))
        await file(store, rules, clock, chat=OTHER)
        await file(store, rules, clock, chat=BALE_SAME_ID)
        clock.advance(timedelta(minutes=10))
    listed = await services.my_requests(TG, uow=store)
    assert [r.code for r in listed] == [r.code for r in reversed(mine)]
    bale = await services.my_requests(BALE_SAME_ID, uow=store)
    assert len(bale) == 3 and all(r.chat == BALE_SAME_ID for r in bale)
    assert not {r.code for r in bale} & {r.code for r in listed}
    assert await services.my_requests(ChatRef(Platform.BALE, 2002), uow=store) == []


async def test_my_requests_is_limited(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    codes = []
    for _ in range(services.MY_REQUESTS_LIMIT + 3):
        codes.append((await file(store, rules, clock)).code)
        clock.advance(timedelta(seconds=1))
    listed = await services.my_requests(TG, uow=store)
    assert [r.code for r in listed] == codes[::-1][: services.MY_REQUESTS_LIMIT]


# --- the fakes themselves ----------------------------------------------------------------------


async def test_fake_unit_of_work_rolls_back_unless_committed(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    draft = await file(store, rules, clock)
    async with store() as tx:
        draft.code = next(unused_code(store))
        await tx.requests.add(draft)
        await tx.lookups.record_failure(OTHER, clock.now())
        assert await tx.requests.code_exists(draft.code)  # visible inside the transaction
        async with store() as other:
            assert not await other.requests.code_exists(draft.code)  # not outside it
    async with store() as tx:
        assert not await tx.requests.code_exists(draft.code)
        assert await tx.lookups.failures_since(OTHER, clock.now()) == []
    assert store.committed == 1


# --- returning citizens: the details of the last named filing ----------------------------------


async def test_a_named_filing_is_remembered_for_its_account_only(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    await services.file_request(new(), uow=store, rules=rules, clock=clock)
    remembered = await services.remembered_details(Platform.TELEGRAM, 77, uow=store)
    assert remembered == Remembered("علی رضایی", PHONE, "0499370899")
    # the same numeric id on the other messenger is another account; no account, nothing
    assert await services.remembered_details(Platform.BALE, 77, uow=store) is None
    assert await services.remembered_details(Platform.TELEGRAM, 78, uow=store) is None
    assert await services.remembered_details(Platform.TELEGRAM, None, uow=store) is None

    later = new(contact=Contact(name="علی رضایی‌نژاد", phone="09351112233"))
    await services.file_request(later, uow=store, rules=rules, clock=clock)
    assert await services.remembered_details(Platform.TELEGRAM, 77, uow=store) == Remembered(
        "علی رضایی‌نژاد", "09351112233"
    ), "the latest filing's details replace the earlier ones"


@pytest.mark.parametrize(
    "overrides",
    [
        {"anonymous": True, "kind": Kind.SUGGESTION, "contact": Contact()},
        {"contact": Contact(name="علی رضایی")},  # no phone (a suggestion with the profile name)
        {"user_id": None},
    ],
    ids=["anonymous", "no-phone", "no-account"],
)
async def test_filings_without_a_name_and_phone_remember_nothing(
    store: FakeStore, rules: RoutingRules, clock: FixedClock, overrides: dict[str, object]
) -> None:
    await file(store, rules, clock, **overrides)
    assert store.remembered == {}


async def test_forget_erases_the_accounts_details_once(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    await services.file_request(new(), uow=store, rules=rules, clock=clock)
    await services.file_request(new(OTHER, user_id=88), uow=store, rules=rules, clock=clock)
    assert await services.forget_details(Platform.TELEGRAM, 77, uow=store) is True
    assert await services.remembered_details(Platform.TELEGRAM, 77, uow=store) is None
    assert await services.forget_details(Platform.TELEGRAM, 77, uow=store) is False
    assert await services.remembered_details(Platform.TELEGRAM, 88, uow=store) is not None
    assert await services.forget_details(Platform.TELEGRAM, None, uow=store) is False


async def test_a_draft_finished_after_forget_is_not_remembered(
    store: FakeStore, rules: RoutingRules, clock: FixedClock
) -> None:
    await file(store, rules, clock, remember=False)
    assert store.remembered == {}
