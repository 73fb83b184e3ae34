"""desk.staff's `/find`: what a search text means (digits of any script, a phone in any usual
form, part of a name), results only from the chat's own unit, newest first, capped; and the
card posted again. Through the in-memory fakes (tests/integration checks the SQL search gives
the same answers)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk import staff, tracking
from desk.model import Contact, Kind, NoticeKind
from desk.ports import RequestSearch
from desk.routing import RoutingRules, load_rules
from desk.staff import Desk, NotYourRequest
from tests.unit.fakes import FakeStore, FixedClock
from tests.unit.test_staff import (
    CLERK,
    FERDOWS,
    FILED_AT,
    RULES_FILE,
    UNKNOWN_GROUP,
    WATER,
    WATER_BALE,
    file,
    notice,
)


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


@pytest.mark.parametrize(
    ("text", "search"),
    [
        ("09151234567", RequestSearch(phone="09151234567")),
        ("۰۹۱۵۱۲۳۴۵۶۷", RequestSearch(phone="09151234567")),
        ("٠٩١٥١٢٣٤٥٦٧", RequestSearch(phone="09151234567")),
        ("+98 915 123 4567", RequestSearch(phone="09151234567")),
        ("+۹۸۹۱۵۱۲۳۴۵۶۷", RequestSearch(phone="09151234567")),
        ("0098-915-123-4567", RequestSearch(phone="09151234567")),
        ("(0915) 123 4567", RequestSearch(phone="09151234567")),
        ("9151234567", RequestSearch(phone="09151234567")),
        # a tracking code filed before codes stopped starting with 9: the code and the phone
        ("9123456784", RequestSearch(code="9123456784", phone="09123456784")),
        ("۹۱۲ ۳۴۵ ۶۷۸۴", RequestSearch(code="9123456784", phone="09123456784")),
        ("09123456784", RequestSearch(phone="09123456784")),  # a leading 0: a phone only
        ("۴۵۶۷", RequestSearch(digits="4567")),
        ("+98915", RequestSearch(digits="0915")),
        ("۱۲۳۴۵۶۷۸۹۰", RequestSearch(digits="1234567890")),  # a tracking code, or part of a phone
        ("۱۲۳ ۴۵۶ ۷۸۹۰", RequestSearch(digits="1234567890")),
        ("علی‌رضا احمدی", RequestSearch(name="علیرضااحمدی")),
        ("علي رضا", RequestSearch(name="علیرضا")),  # Arabic yeh as Persian
        ("Ali REZA", RequestSearch(name="alireza")),
        ("رض", RequestSearch(name="رض")),
    ],
)
def test_what_a_search_text_means(text: str, search: RequestSearch) -> None:
    assert staff.search_terms(text) == search


def test_find_by_an_old_code_starting_with_9_looks_for_the_code() -> None:
    body = "912345678"
    code = body + tracking.check_digit(body)  # 9123456784: a valid tracking code
    assert tracking.is_valid(code)
    search = staff.search_terms(code)
    assert search is not None
    # not taken for the mobile 09123456784 only: the code itself is compared too
    assert search.code == code or (search.digits is not None and search.digits in code)


async def test_an_old_code_starting_with_9_is_found(desk: Desk, store: FakeStore) -> None:
    """A request filed when codes could start with 9 is found by its code; so, by the same
    ten digits, is a request filed with that mobile number."""
    old = await file(desk, contact=Contact(name="حسن کاظمی", phone="09151234567"))
    by_phone = await file(desk, contact=Contact(name="رضا محمدی", phone="09123456784"))
    kept = store.requests.pop(old.code)
    kept.code = "9123456784"  # valid (Damm), as codes could be before
    store.requests[kept.code] = kept
    search = staff.search_terms("۹۱۲۳۴۵۶۷۸۴")
    assert search is not None
    found = await staff.find(desk, search, chat=WATER)
    assert {r.code for r in found.requests} == {"9123456784", by_phone.code}


@pytest.mark.parametrize("text", ["", "   ", "۱۲۳", "+98", "ر", "\u200c", "- -"])
def test_too_little_to_search_with(text: str) -> None:
    assert staff.search_terms(text) is None


async def test_only_the_chats_own_unit_newest_first(desk: Desk, clock: FixedClock) -> None:
    water = []
    for _ in range(3):
        water.append(await file(desk))
        clock.advance(timedelta(minutes=1))
    ferdows = await file(desk, topic="permits")  # to county_ferdows, same citizen
    assert ferdows.unit == "county_ferdows"
    by_phone = RequestSearch(phone="09151234567")
    found = await staff.find(desk, by_phone, chat=WATER)
    assert [r.code for r in found.requests] == [r.code for r in reversed(water)]
    assert not found.more
    assert (await staff.find(desk, by_phone, chat=WATER_BALE)).requests == found.requests
    assert [r.code for r in (await staff.find(desk, by_phone, chat=FERDOWS)).requests] == [
        ferdows.code
    ]
    # another unit's code is not found, whatever it is searched by
    for search in (RequestSearch(digits=ferdows.code), RequestSearch(code=ferdows.code)):
        assert (await staff.find(desk, search, chat=WATER)).requests == []
    with pytest.raises(NotYourRequest):
        await staff.find(desk, by_phone, chat=UNKNOWN_GROUP)


async def test_a_transferred_request_is_found_where_it_is_now(desk: Desk) -> None:
    request = await file(desk)
    await staff.transfer(desk, request.code, "county_ferdows", chat=WATER, actor=CLERK, reason=None)
    search = RequestSearch(name="احمدی")
    assert (await staff.find(desk, search, chat=WATER)).requests == []
    assert [r.code for r in (await staff.find(desk, search, chat=FERDOWS)).requests] == [
        request.code
    ]


async def test_results_are_capped_and_the_rest_announced(desk: Desk, clock: FixedClock) -> None:
    codes = []
    for _ in range(staff.FIND_LIMIT + 2):
        codes.append((await file(desk)).code)
        clock.advance(timedelta(seconds=1))
    found = await staff.find(desk, RequestSearch(name="احمدی"), chat=WATER)
    assert len(found.requests) == staff.FIND_LIMIT and found.more
    assert [r.code for r in found.requests] == codes[::-1][: staff.FIND_LIMIT]
    exactly = await staff.find(desk, RequestSearch(code=codes[0]), chat=WATER)
    assert [r.code for r in exactly.requests] == [codes[0]] and not exactly.more


async def test_requests_without_a_name_are_found_by_code_only(desk: Desk) -> None:
    unnamed = await file(desk, unnamed=True)
    anonymous = await file(desk, kind=Kind.SUGGESTION, anonymous=True, contact=Contact())
    for request in (unnamed, anonymous):
        assert request.contact == Contact()
        found = await staff.find(desk, RequestSearch(code=request.code), chat=WATER)
        assert [r.code for r in found.requests] == [request.code]
    for search in (RequestSearch(phone="09151234567"), RequestSearch(name="احمدی")):
        listed = {r.code for r in (await staff.find(desk, search, chat=WATER)).requests}
        assert not listed & {unnamed.code, anonymous.code}


async def test_the_card_posted_again_in_the_units_chat_only(desk: Desk, store: FakeStore) -> None:
    request = await file(desk)
    before = len(store.outbox)
    await staff.post_card_again(desk, request.code, chat=WATER_BALE)
    assert store.outbox[before:] == [notice(WATER_BALE, NoticeKind.STAFF_CARD, request.code)]
    with pytest.raises(NotYourRequest):
        await staff.post_card_again(desk, request.code, chat=FERDOWS)
    assert len(store.outbox) == before + 1
