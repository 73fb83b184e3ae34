"""storage/ on a real database: repositories, unit of work, FSM storage (the inbox:
test_inbox.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from desk import services, tracking
from desk.model import (
    Attachment,
    AttachmentKind,
    ChatRef,
    Contact,
    Draft,
    DraftFile,
    Event,
    Kind,
    NewRequest,
    Platform,
    Request,
    Status,
)
from desk.ports import RequestSearch, UnitOfWorkFactory
from desk.routing import RoutingRules, load_rules
from storage import migrate
from storage.fsm import SQLStorage
from storage.repositories import SqlLookups
from storage.tables import FsmRow
from tests.integration.conftest import Database
from tests.unit.fakes import FakeStore, FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"
TG = ChatRef(Platform.TELEGRAM, -1_001_234_567_890)  # big ids need BIGINT
BALE = ChatRef(Platform.BALE, -1_001_234_567_890)
OTHER = ChatRef(Platform.TELEGRAM, 5)
TEHRAN = timezone(timedelta(hours=3, minutes=30))
DAY = timedelta(days=1)


class Filing(StatesGroup):
    text = State()


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC))


def full_request(chat: ChatRef = TG) -> NewRequest:
    return NewRequest(
        kind=Kind.COMPLAINT,
        chat=chat,
        user_id=9_876_543_210,
        text="سلام.\nچاه آب کشاورزی ما از هفته\u200cی پیش خاموش است؛ «پیگیری» کنید.",
        topic="water",
        county="ferdows",
        contact=Contact(name="زهرا احمدی", phone="09151234567", national_code="0499370899"),
        attachments=[
            Attachment(
                AttachmentKind.PHOTO,
                file_id="AgACAgQAAxkBAAIB",
                file_unique_id="AQADq",
                file_size=123_456,
                message_id=42,
            ),
            Attachment(
                AttachmentKind.DOCUMENT,
                file_id="BQACAgQ",
                file_name="نامه.pdf",
                mime_type="application/pdf",
            ),
            Attachment(AttachmentKind.LOCATION, latitude=32.866_287, longitude=59.221_17),
        ],
        survey={"service": "بیمه محصولات", "scores": [5, 4, 3], "nested": {"ok": True}},
    )


def assert_utc(value: datetime | None) -> None:
    assert value is not None and value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


async def file(db: Database, rules: RoutingRules, clock: FixedClock, **kwargs) -> Request:
    return await services.file_request(
        full_request(**kwargs), uow=db.uow(), rules=rules, clock=clock
    )


def missing_code() -> str:
    return tracking.generate()


# --- schema ------------------------------------------------------------------------------------


async def test_upgrade_builds_every_table(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert {
        "requests", "events", "lookup_failures", "update_inbox", "inbox_lanes", "fsm_states",
        "outbox", "message_links", "job_runs", "blocked_chats",
    } <= names  # fmt: skip
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert [v for (v,) in versions] == [head]


async def test_a_database_behind_head_is_upgraded_and_one_at_head_is_left_alone(
    engine: AsyncEngine,
) -> None:
    """The bot upgrades at every start: one revision behind, Alembic runs the last migration
    again; at head, nothing is run (the start only reads the version)."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    newest = migrate.head_revision()
    assert newest is not None
    head = script.get_revision(newest)
    assert head is not None and isinstance(head.down_revision, str)

    def step_back(connection) -> None:
        command.downgrade(migrate.alembic_config(connection), "-1")

    async with engine.begin() as conn:
        await conn.run_sync(step_back)
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert [v for (v,) in versions] == [head.revision]

    ran: list[str] = []
    real = command.upgrade
    command.upgrade = lambda *args, **kwargs: ran.append("upgrade")
    try:
        await migrate.upgrade(engine)
    finally:
        command.upgrade = real
    assert ran == [], "a database at head is not handed to Alembic again"


async def test_migrations_build_exactly_the_tables_the_code_declares(engine: AsyncEngine) -> None:
    """Alembic's autogenerate comparison finds nothing missing: no column or index is in
    `storage/tables.py` without a migration."""

    def differences(conn: Any) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return [
            d
            for d in compare_metadata(context, SQLModel.metadata)
            if d[0] in ("add_table", "add_column", "remove_column", "add_index")
        ]

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []


# --- drafts ------------------------------------------------------------------------------------


async def _comment_counts(uow: UnitOfWorkFactory) -> dict[int, int]:
    """Two drafts, two comments on the first, a filing that names a draft but is no comment."""
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    async with uow() as tx:
        for _ in range(2):
            draft = Draft("عنوان", "خلاصه", "agronomy", at, at)
            await tx.drafts.add(draft, DraftFile("d.pdf", b"%PDF"))
        for code, kind in (("1111111111", Kind.COMMENT), ("2222222222", Kind.COMMENT),
                           ("3333333333", Kind.COMPLAINT)):  # fmt: skip
            request = Request(code, kind, Status.ROUTED, "متن", at, at)
            request.draft_id = 1
            await tx.requests.add(request)
        await tx.commit()
    async with uow() as tx:
        return await tx.drafts.comment_counts()


async def test_comment_counts_in_one_query_as_the_fake_counts(db: Database) -> None:
    assert await _comment_counts(db.uow()) == {1: 2}
    assert await _comment_counts(FakeStore()) == {1: 2}


# --- requests ----------------------------------------------------------------------------------


async def test_filing_round_trips_every_field(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    filed = await file(db, rules, clock)
    async with db.uow()() as tx:
        got = await tx.requests.get(filed.code)
        events = await tx.requests.events(filed.code)
    assert got == filed
    assert got is not None
    assert got.contact == Contact("زهرا احمدی", "09151234567", "0499370899")
    assert got.attachments == full_request().attachments
    assert got.survey == {"service": "بیمه محصولات", "scores": [5, 4, 3], "nested": {"ok": True}}
    assert got.chat == TG and got.user_id == 9_876_543_210
    assert got.unit == "water_soil" and got.status is Status.ROUTED
    assert got.created_at == clock.now()
    assert_utc(got.created_at)
    assert_utc(got.updated_at)
    assert events == [
        Event(filed.code, "filed", clock.now(), f"telegram:{TG.chat_id}", Status.FILED, None),
        Event(filed.code, "routed", clock.now(), "routing", Status.ROUTED, "water_soil"),
    ]
    assert_utc(events[0].at)


async def test_datetimes_in_other_zones_come_back_as_utc(db: Database) -> None:
    local = datetime(2026, 3, 21, 10, 30, tzinfo=TEHRAN)  # Nowruz morning in Birjand
    request = Request(
        code=missing_code(),
        kind=Kind.HEAD,
        status=Status.ANSWERED,
        text="پیام",
        created_at=local,
        updated_at=local + timedelta(hours=1),
        due_at=local + timedelta(days=14),
        answer="پاسخ",
        answered_at=local + timedelta(days=2),
        close_reason="answered",
    )
    async with db.uow()() as tx:
        await tx.requests.add(request)
        await tx.commit()
    async with db.uow()() as tx:
        got = await tx.requests.get(request.code)
    assert got is not None
    for value in (got.created_at, got.updated_at, got.due_at, got.answered_at):
        assert_utc(value)
    assert got.created_at == local and got.created_at.hour == 7  # 10:30 +03:30 is 07:00 UTC
    assert got.due_at == local + timedelta(days=14)
    assert (got.answer, got.close_reason, got.chat) == ("پاسخ", "answered", None)


async def test_naive_datetimes_are_refused(db: Database) -> None:
    naive = datetime(2026, 3, 1, 8, 0)  # naive on purpose
    request = Request(missing_code(), Kind.HEAD, Status.FILED, "x", naive, naive)
    async with db.uow()() as tx:
        with pytest.raises(StatementError, match="naive datetime"):
            await tx.requests.add(request)


async def test_uncommitted_unit_of_work_leaves_nothing(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    code = missing_code()
    async with db.uow()() as tx:
        await tx.requests.add(
            Request(code, Kind.COMPLAINT, Status.FILED, "متن", clock.now(), clock.now(), chat=TG)
        )
        await tx.requests.add_event(Event(code, "filed", clock.now(), "test"))
        await tx.lookups.record_failure(TG, clock.now())
        assert await tx.requests.code_exists(code)
    async with db.uow()() as tx:
        assert not await tx.requests.code_exists(code)
        assert await tx.requests.get(code) is None
        assert await tx.requests.events(code) == []
        assert await tx.requests.by_chat(TG, 10) == []
        assert await tx.lookups.failures_since(TG, clock.now() - timedelta(days=1)) == []


async def test_exception_inside_unit_of_work_rolls_back(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    code = missing_code()
    with pytest.raises(RuntimeError):
        async with db.uow()() as tx:
            await tx.requests.add(
                Request(code, Kind.HEAD, Status.FILED, "متن", clock.now(), clock.now())
            )
            raise RuntimeError("handler crashed")
    async with db.uow()() as tx:
        assert not await tx.requests.code_exists(code)


async def test_duplicate_tracking_code_is_rejected_by_the_database(
    db: Database, clock: FixedClock
) -> None:
    code = missing_code()
    async with db.uow()() as tx:
        await tx.requests.add(Request(code, Kind.HEAD, Status.FILED, "a", clock.now(), clock.now()))
        await tx.commit()
    async with db.uow()() as tx:
        with pytest.raises(IntegrityError):
            await tx.requests.add(
                Request(code, Kind.COMPLAINT, Status.FILED, "b", clock.now(), clock.now())
            )
    async with db.uow()() as tx:
        got = await tx.requests.get(code)
    assert got is not None and got.text == "a"


async def test_file_request_skips_a_code_taken_in_the_database(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    taken = (await file(db, rules, clock)).code
    fresh = missing_code()
    offered = iter([taken, fresh])
    request = await services.file_request(
        full_request(), uow=db.uow(), rules=rules, clock=clock, new_code=lambda: next(offered)
    )
    assert request.code == fresh


async def test_by_chat_is_newest_first_and_per_platform(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    mine = []
    for _ in range(3):
        mine.append(await file(db, rules, clock))
        await file(db, rules, clock, chat=BALE)
        await file(db, rules, clock, chat=OTHER)
        clock.advance(timedelta(minutes=1))
    # same instant: the later insert counts as newer
    mine.append(await file(db, rules, clock))
    mine.append(await file(db, rules, clock))
    listed = await services.my_requests(TG, uow=db.uow())
    assert [r.code for r in listed] == [r.code for r in reversed(mine)]
    bale = await services.my_requests(BALE, uow=db.uow())
    assert len(bale) == 3 and all(r.chat == BALE for r in bale)
    async with db.uow()() as tx:
        assert len(await tx.requests.by_chat(TG, 2)) == 2


# /find's search: the SQL query answers as the fake does (the desk's tests use the fake)
_PEOPLE = [  # (code, unit, name, phone, minutes after AT)
    ("1111111118", "water_soil", "علی‌رضا احمدی", "09151234567", 0),
    ("2222222226", "water_soil", "علیرضا کریمی", "09157654321", 1),
    ("3333333334", "water_soil", "Ali REZA", "09121234567", 2),
    ("4444444442", "water_soil", "رضا 100%_کشاورز", None, 3),
    ("5555555551", "agronomy", "علی رضا احمدی", "09151234567", 4),
    ("6666666669", "water_soil", None, None, 5),  # unnamed or anonymous: no name, no phone
]
_SEARCHES = [
    RequestSearch(phone="09151234567"),
    RequestSearch(digits="4567"),
    RequestSearch(digits="1111"),
    RequestSearch(digits="0915"),
    RequestSearch(name="علیرضا"),
    RequestSearch(name="احمدی"),
    RequestSearch(name="alireza"),
    RequestSearch(name="100%_"),
    RequestSearch(name="%"),
    RequestSearch(name="_"),
    RequestSearch(name="0%"),
    RequestSearch(code="6666666669"),
    RequestSearch(code="5555555551"),
    RequestSearch(code="1111111118", name="کریمی"),
    RequestSearch(),
]


async def _searches(uow: UnitOfWorkFactory) -> list[list[str]]:
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    async with uow() as tx:
        for code, unit, name, phone, minutes in _PEOPLE:
            when = at + timedelta(minutes=minutes)
            request = Request(code, Kind.COMPLAINT, Status.ROUTED, "متن", when, when,
                              contact=Contact(name=name, phone=phone), unit=unit)  # fmt: skip
            await tx.requests.add(request)
        await tx.commit()
    async with uow() as tx:
        found = [await tx.requests.search("water_soil", s, 10) for s in _SEARCHES]
        capped = await tx.requests.search("water_soil", RequestSearch(name="رضا"), 2)
    return [[r.code for r in requests] for requests in [*found, capped]]


async def test_search_in_sql_answers_as_the_fake(db: Database) -> None:
    expected = [
        ["1111111118"],  # the phone; agronomy's request with it is not listed
        ["3333333334", "1111111118"],
        ["1111111118"],
        ["2222222226", "1111111118"],
        ["2222222226", "1111111118"],  # «علی‌رضا» and «علیرضا» alike
        ["1111111118"],
        ["3333333334"],
        ["4444444442"],  # % and _ are letters here, not wildcards
        ["4444444442"],
        ["4444444442"],
        ["4444444442"],
        ["6666666669"],
        [],  # another unit's code
        ["2222222226", "1111111118"],  # any criterion
        [],
        ["4444444442", "2222222226"],  # at most the limit, newest first
    ]
    assert await _searches(db.uow()) == expected
    assert await _searches(FakeStore()) == expected


async def test_anonymous_filing_has_no_chat_in_the_database(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    new = full_request()
    new.anonymous, new.contact = True, Contact()
    filed = await services.file_request(new, uow=db.uow(), rules=rules, clock=clock)
    async with db.uow()() as tx:
        got = await tx.requests.get(filed.code)
        assert got is not None and got.chat is None and got.user_id is None and got.anonymous
        assert await tx.requests.by_chat(TG, 10) == []
        assert (await tx.requests.events(filed.code))[0].actor == "anonymous"


async def test_filed_by_counts_one_account_and_refuses_over_the_quota(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    first = clock.now()
    for _ in range(2):
        await file(db, rules, clock)  # user 9_876_543_210 on Telegram
        await file(db, rules, clock, chat=BALE)  # the same number on Bale: another account
        clock.advance(timedelta(minutes=10))
    anonymous = full_request()
    anonymous.anonymous, anonymous.contact = True, Contact()
    await services.file_request(anonymous, uow=db.uow(), rules=rules, clock=clock)
    async with db.uow()() as tx:
        times = await tx.requests.filed_by(Platform.TELEGRAM, 9_876_543_210, first)
        assert times == [first + timedelta(minutes=10)], "after `since`, exclusive; UTC"
        assert_utc(times[0])
        assert len(await tx.requests.filed_by(Platform.BALE, 9_876_543_210, first - DAY)) == 2
    quotas = services.Quotas(filings_per_hour=2)
    with pytest.raises(services.QuotaExceeded) as refused:
        await services.file_request(
            full_request(), uow=db.uow(), rules=rules, clock=clock, quotas=quotas
        )
    assert refused.value.retry_at == first + timedelta(hours=1)


# --- look-ups and throttling -------------------------------------------------------------------


async def test_lookup_through_sql(db: Database, rules: RoutingRules, clock: FixedClock) -> None:
    filed = await file(db, rules, clock)
    owner = await services.lookup(filed.code, chat=TG, uow=db.uow(), clock=clock)
    assert owner.full and owner.request == filed
    stranger = await services.lookup(filed.code, chat=BALE, uow=db.uow(), clock=clock)
    assert not stranger.full
    own = services.Proof("09151234567", own=True)
    phone = await services.lookup(filed.code, chat=OTHER, uow=db.uow(), clock=clock, proof=own)
    assert phone.full
    foreign = services.Proof("09151234567", own=False)
    card = await services.lookup(filed.code, chat=OTHER, uow=db.uow(), clock=clock, proof=foreign)
    assert card.proof_failed and not card.full
    async with db.uow()() as tx:
        assert len(await tx.lookups.failures_since(OTHER, clock.now() - timedelta(hours=1))) == 1


async def test_failed_proofs_of_a_code_lock_it_across_chats_and_restarts(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(db, rules, clock)).code
    wrong = services.Proof("09150000000", own=True)
    for n in range(services.PROOF_FAILURES_PER_CODE):
        chat = ChatRef(Platform.BALE if n % 2 else Platform.TELEGRAM, 40_000 + n)
        await services.lookup(code, chat=chat, uow=db.uow(), clock=clock, proof=wrong)
    await db.engine.dispose()
    db.engine = db.reopen()  # a restart: the count is in the database
    right = services.Proof("09151234567", own=True)
    late = await services.lookup(code, chat=OTHER, uow=db.uow(), clock=clock, proof=right)
    assert late.locked and not late.full
    assert (await services.lookup(code, chat=TG, uow=db.uow(), clock=clock)).full
    async with db.uow()() as tx:
        since = clock.now() - timedelta(seconds=1)
        assert len(await tx.lookups.proof_failures_since(code, since)) == 3
        assert await tx.lookups.proof_failures_since(missing_code(), since) == []
        assert await tx.lookups.count_since(since) == 3
    clock.advance(services.PROOF_WINDOW)
    opened = await services.lookup(code, chat=OTHER, uow=db.uow(), clock=clock, proof=right)
    assert opened.full


async def test_an_alert_claim_is_won_once_per_window(db: Database, clock: FixedClock) -> None:
    quiet = timedelta(hours=1)
    start = clock.now()
    async with db.uow()() as tx:
        assert await tx.lookups.claim_alert("failed_lookups", start, quiet)
        await tx.commit()
    for later in (timedelta(0), timedelta(minutes=59)):
        async with db.uow()() as tx:
            assert not await tx.lookups.claim_alert("failed_lookups", start + later, quiet)
    async with db.uow()() as tx:  # an uncommitted claim claims nothing
        assert await tx.lookups.claim_alert("failed_lookups", start + quiet, quiet)
    async with db.uow()() as tx:
        assert await tx.lookups.claim_alert("failed_lookups", start + quiet, quiet)
        assert not await tx.lookups.claim_alert("failed_lookups", start + quiet, quiet)
        assert await tx.lookups.claim_alert("other", start + quiet, quiet)
        await tx.commit()


async def test_two_workers_over_the_threshold_queue_one_alert(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    """Two transactions each record the failure that crosses the threshold at the same time:
    the admins are told once."""
    watch = services.LookupWatch(alert_over=2, admins=rules.admins)
    for n in range(2):
        with pytest.raises(services.NotFound):
            await services.lookup(missing_code(), chat=ChatRef(Platform.TELEGRAM, 41_000 + n),
                                  uow=db.uow(), clock=clock, watch=watch)  # fmt: skip

    async def one(n: int) -> None:
        with pytest.raises(services.NotFound):
            await services.lookup(missing_code(), chat=ChatRef(Platform.BALE, 42_000 + n),
                                  uow=db.uow(), clock=clock, watch=watch)  # fmt: skip

    await asyncio.gather(one(0), one(1))
    async with db.sessions() as session:
        rows = (
            await session.execute(
                text("SELECT platform, chat_id, data FROM outbox WHERE kind = 'admin_alert'")
            )
        ).all()
    expected = sorted((p.value, c) for p, ids in rules.admins.items() for c in ids)
    assert sorted((p, c) for p, c, _ in rows) == expected
    assert expected  # the shipped rules name admin chats


async def test_failures_and_throttling_across_units_of_work(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    code = (await file(db, rules, clock)).code
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    attempts = [
        (missing_code(), services.NotFound),
        (wrong, services.BadCheckDigit),
        ("12345", services.MalformedCode),
    ]
    first = clock.now()
    for i in range(services.LOOKUP_FAILURES_PER_HOUR):
        text, error = attempts[i % 3]
        with pytest.raises(error):
            await services.lookup(text, chat=OTHER, uow=db.uow(), clock=clock)
        clock.advance(timedelta(minutes=3))
    async with db.uow()() as tx:
        failures = await tx.lookups.failures_since(OTHER, first - timedelta(microseconds=1))
        # `since` itself is excluded (desk.ports.LookupLog)
        assert len(await tx.lookups.failures_since(OTHER, first)) == len(failures) - 1
    assert len(failures) == services.LOOKUP_FAILURES_PER_HOUR
    assert failures[0] == first and failures == sorted(failures)
    for at in failures:
        assert_utc(at)

    with pytest.raises(services.Throttled) as info:
        await services.lookup(code, chat=OTHER, uow=db.uow(), clock=clock)
    assert info.value.until == first + timedelta(hours=1)
    # the same chat id on Bale is another chat
    other_on_bale = ChatRef(Platform.BALE, OTHER.chat_id)
    await services.lookup(code, chat=other_on_bale, uow=db.uow(), clock=clock)

    # exactly at `until` the first failure has left the window
    clock.advance(info.value.until - clock.now())
    assert (await services.lookup(code, chat=OTHER, uow=db.uow(), clock=clock)).request.code == code


async def test_lookup_failures_purge(db: Database, clock: FixedClock) -> None:
    start = clock.now()
    async with db.uow()() as tx:
        for minutes in (0, 30, 90):
            await tx.lookups.record_failure(OTHER, start + timedelta(minutes=minutes))
        await tx.commit()
    async with db.sessions() as session, session.begin():
        purged = await SqlLookups(session).purge_before(start + timedelta(minutes=60))
    assert purged == 2
    async with db.uow()() as tx:
        since = start - timedelta(seconds=1)
        assert await tx.lookups.failures_since(OTHER, since) == [start + timedelta(minutes=90)]


# --- FSM storage -------------------------------------------------------------------------------


def storage_key(
    bot_id: int = 111_111, chat_id: int = -1_001_234_567_890, user_id: int = 9_876_543_210
) -> StorageKey:
    return StorageKey(bot_id=bot_id, chat_id=chat_id, user_id=user_id)


DRAFT = {"text": "شکایت درباره\u200cی آب", "attachments": [{"kind": "photo"}], "n": 3, "ok": True}


async def count_fsm_rows(db: Database) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(FsmRow))).scalar_one())


async def test_fsm_round_trip(db: Database) -> None:
    storage = SQLStorage(db.sessions)
    key = storage_key()
    assert await storage.get_state(key) is None
    assert await storage.get_data(key) == {}
    await storage.set_state(key, Filing.text)
    await storage.set_data(key, DRAFT)
    assert await storage.get_state(key) == "Filing:text"
    assert await storage.get_data(key) == DRAFT
    await storage.set_state(key, "Other:step")
    assert await storage.get_state(key) == "Other:step"
    assert await storage.get_data(key) == DRAFT
    assert await storage.update_data(key, {"n": 4}) == {**DRAFT, "n": 4}
    # keys are per bot, chat and user
    assert await storage.get_state(storage_key(bot_id=222_222)) is None
    assert await storage.get_state(storage_key(user_id=1)) is None
    assert await storage.get_data(storage_key(chat_id=1)) == {}
    await storage.close()


async def test_fsm_clearing_state_and_data_removes_the_row(db: Database) -> None:
    storage = SQLStorage(db.sessions)
    key = storage_key()
    await storage.set_state(key, Filing.text)
    await storage.set_data(key, DRAFT)
    assert await count_fsm_rows(db) == 1
    await storage.set_state(key, None)
    assert await count_fsm_rows(db) == 1  # the draft is still there
    assert await storage.get_data(key) == DRAFT
    await storage.set_data(key, {})
    assert await count_fsm_rows(db) == 0
    assert await storage.get_state(key) is None and await storage.get_data(key) == {}
    # clearing a conversation that never started (FSMContext.clear() on /start) is harmless
    fresh = storage_key(chat_id=99)
    await storage.set_state(fresh, None)
    await storage.set_data(fresh, {})
    assert await count_fsm_rows(db) == 0


async def test_fsm_survives_a_restart(db: Database) -> None:
    key = storage_key()
    await SQLStorage(db.sessions).set_state(key, Filing.text)
    await SQLStorage(db.sessions).set_data(key, DRAFT)
    await db.engine.dispose()
    db.engine = db.reopen()  # a new process: new engine, same database
    storage = SQLStorage(db.sessions)
    assert await storage.get_state(key) == "Filing:text"
    assert await storage.get_data(key) == DRAFT


async def test_fsm_survives_a_restart_on_the_same_sqlite_file(sqlite_db: Database) -> None:
    key = storage_key()
    await SQLStorage(sqlite_db.sessions).set_data(key, DRAFT)
    await sqlite_db.engine.dispose()
    sqlite_db.engine = sqlite_db.reopen()
    assert str(sqlite_db.engine.url.database).endswith("front.db")
    assert await SQLStorage(sqlite_db.sessions).get_data(key) == DRAFT


# --- two staff at the same moment ---------------------------------------------------------------


async def test_a_change_from_a_stale_copy_is_refused_not_written_over(
    db: Database, rules: RoutingRules, clock: FixedClock
) -> None:
    """One member claims on Telegram while another, who read the request a moment before,
    closes it on Bale: the second write is refused with what it is now, and nothing of it
    is written; read again, it can act on the truth."""
    from desk.services import ChangedMeanwhile

    filed = await file(db, rules, clock)
    async with db.uow()() as first, db.uow()() as second:
        mine = await first.requests.get(filed.code)
        theirs = await second.requests.get(filed.code)
        assert mine is not None and theirs is not None
        mine.status, mine.claimed_by = Status.IN_PROGRESS, "telegram:501:مریم"
        await first.requests.update(mine)
        await first.commit()
        theirs.status, theirs.close_reason = Status.CLOSED, "duplicate"
        with pytest.raises(ChangedMeanwhile) as refused:
            await second.requests.update(theirs)
        assert refused.value.status == Status.IN_PROGRESS.value
    async with db.uow()() as tx:
        now = await tx.requests.get(filed.code)
        assert now is not None
        assert now.status is Status.IN_PROGRESS and now.close_reason is None
        assert now.version == filed.version + 1
        now.status = Status.CLOSED
        await tx.requests.update(now)  # from a fresh copy it works
        await tx.requests.update(now)  # and twice in one unit of work
        await tx.commit()
