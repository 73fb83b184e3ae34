"""Data retention on a real database: exactly name, phone, national code and attachments leave
old closed or answered requests; open and recent ones, and the statistics, stay as they were."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from desk import retention, services, staff
from desk.model import (
    Actor,
    Attachment,
    AttachmentKind,
    ChatRef,
    CloseReason,
    Contact,
    Kind,
    NewRequest,
    Platform,
    Request,
)
from desk.ports import Remembered
from desk.routing import RoutingRules, load_rules
from storage.retention import SqlRetention
from storage.tables import EventRow, OutboxRow, RequestRow
from tests.integration.conftest import Database
from tests.unit.fakes import FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"
CITIZEN = ChatRef(Platform.BALE, 80_001)
STAFF = Actor(Platform.BALE, 601, "رضا")
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=60)


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(RULES_FILE)


def complaint(files: int = 2, national_code: str | None = "0499370899") -> NewRequest:
    return NewRequest(
        kind=Kind.COMPLAINT,
        chat=CITIZEN,
        user_id=80_001,
        text="زمین کشاورزی ما بدون مجوز تصرف شده است.",
        topic="land",
        county="birjand",
        contact=Contact(name="مهدی صادقی", phone="09121234567", national_code=national_code),
        attachments=[
            Attachment(AttachmentKind.LOCATION, latitude=32.87, longitude=59.22),
            Attachment(AttachmentKind.PHOTO, file_id="AgAC", file_unique_id="AQAD"),
        ][:files],
    )


class World:
    """A database with requests in every state that matters to retention."""

    def __init__(self, db: Database, rules: RoutingRules) -> None:
        self.db = db
        self.uow = db.uow()
        self.clock = FixedClock(T0)
        self.rules = rules
        self.desk = staff.Desk(self.uow, rules, self.clock)
        self.codes: dict[str, str] = {}

    def at(self, moment: datetime) -> None:
        self.clock._now = moment

    async def file(self, key: str, moment: datetime, new: NewRequest) -> str:
        self.at(moment)
        request = await services.file_request(new, uow=self.uow, rules=self.rules,
                                              clock=self.clock)  # fmt: skip
        self.codes[key] = request.code
        return request.code

    def staff_chat(self) -> ChatRef:
        chat = self.rules.staff_chat("land_affairs", Platform.BALE)
        assert chat is not None
        return chat

    async def close(self, key: str, moment: datetime) -> None:
        self.at(moment)
        await staff.close(self.desk, self.codes[key], CloseReason.OUT_OF_SCOPE,
                          chat=self.staff_chat(), actor=STAFF)  # fmt: skip

    async def answer(self, key: str, moment: datetime) -> None:
        self.at(moment)
        await staff.answer(self.desk, self.codes[key], "پرونده به دادگستری ارجاع شد.",
                           chat=self.staff_chat(), actor=STAFF)  # fmt: skip

    async def all(self) -> dict[str, Request]:
        async with self.uow() as tx:
            found = {key: await tx.requests.get(code) for key, code in self.codes.items()}
        out = {k: r for k, r in found.items() if r is not None}
        assert len(out) == len(found)
        return out

    async def events(self, key: str) -> list[str]:
        async with self.uow() as tx:
            return [e.action for e in await tx.requests.events(self.codes[key])]

    async def outbox(self) -> list[tuple[Any, ...]]:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(col(OutboxRow.id), col(OutboxRow.request_code), col(OutboxRow.sent_at))
                .order_by(col(OutboxRow.id))
            )  # fmt: skip
            return [tuple(r) for r in rows.all()]

    async def deliver_all_but_one(self, keep_pending: str) -> int:
        """Mark every outbox row sent, except the last one of `keep_pending`; returns its id."""
        async with self.db.sessions() as session, session.begin():
            pending = await session.scalar(
                select(func.max(OutboxRow.id)).where(
                    col(OutboxRow.request_code) == self.codes[keep_pending]
                )
            )
            await session.execute(
                update(OutboxRow).where(col(OutboxRow.id) != pending).values(sent_at=T0)
            )
        assert pending is not None
        return int(pending)

    def apply(self, days: int = 30, *, dry_run: bool = False) -> Any:
        self.at(NOW)
        return retention.apply(
            lambda: SqlRetention(self.db.sessions),
            clock=self.clock,
            older_than_days=days,
            dry_run=dry_run,
        )


@pytest.fixture
async def world(db: Database, rules: RoutingRules) -> World:
    w = World(db, rules)
    await w.file("closed_old", T0, complaint(files=2))
    await w.close("closed_old", T0 + timedelta(days=1))
    await w.file("answered_old", T0, complaint(files=0, national_code=None))
    await w.answer("answered_old", T0 + timedelta(days=2))
    await w.file("open_old", T0, complaint(files=1))  # never acted on: open
    await w.file("closed_recent", NOW - timedelta(days=10), complaint(files=1))
    await w.close("closed_recent", NOW - timedelta(days=5))
    await w.file("answered_recent", NOW - timedelta(days=40), complaint(files=1))
    await w.answer("answered_recent", NOW - timedelta(days=3))
    await w.file(
        "anonymous_old",
        T0,
        NewRequest(kind=Kind.SUGGESTION, chat=CITIZEN, user_id=None, anonymous=True,
                   text="پیشنهاد: ساعت کاری بیشتر شود.", topic="land"),
    )  # fmt: skip
    await w.close("anonymous_old", T0 + timedelta(days=1))
    return w


def without_personal(request: Request) -> dict[str, Any]:
    return asdict(replace(request, contact=Contact(), attachments=[]))


async def test_exactly_the_personal_fields_leave_old_finished_requests(world: World) -> None:
    before = await world.all()
    assert before["closed_old"].contact.name and len(before["closed_old"].attachments) == 2
    events_before = {key: await world.events(key) for key in world.codes}

    report = await world.apply(30)

    assert report.past == 3  # closed_old, answered_old, anonymous_old (nothing personal)
    assert [h.code for h in report.holdings] == [
        world.codes["closed_old"],
        world.codes["answered_old"],
    ]
    assert report.holdings[0].fields == ("name", "phone", "national_code", "attachments")
    assert report.holdings[0].files == 2
    assert report.holdings[1].fields == ("name", "phone")

    after = await world.all()
    for key in ("closed_old", "answered_old"):
        assert after[key].contact == Contact(None, None, None)
        assert after[key].attachments == []
        # everything else, statistics included, is exactly as it was
        assert without_personal(after[key]) == without_personal(before[key])
        assert await world.events(key) == [*events_before[key], "anonymised"]
    for key in ("open_old", "closed_recent", "answered_recent", "anonymous_old"):
        assert after[key] == before[key], key
        assert await world.events(key) == events_before[key]

    async with world.uow() as tx:
        events = await tx.requests.events(world.codes["closed_old"])
    assert events[-1].actor == "retention" and events[-1].at == NOW
    assert events[-1].note == "name, phone, national_code, attachments (2)"
    assert events[-1].status is None


async def test_finished_outbox_rows_of_those_requests_go_pending_ones_stay(world: World) -> None:
    pending = await world.deliver_all_but_one(keep_pending="closed_old")
    rows = await world.outbox()
    old = {world.codes[k] for k in ("closed_old", "answered_old", "anonymous_old")}
    finished_old = [r for r in rows if r[1] in old and r[0] != pending]
    assert finished_old  # cards, copies of the photo and location, texts to the citizen

    dry = await world.apply(30, dry_run=True)
    assert dry.notices == len(finished_old)
    assert await world.outbox() == rows

    report = await world.apply(30)
    assert report.notices == len(finished_old)
    left = await world.outbox()
    assert left == [r for r in rows if r not in finished_old]
    assert pending in [r[0] for r in left]

    # once delivered, the pending row goes too on the next run; nothing else changes
    async with world.db.sessions() as session, session.begin():
        await session.execute(update(OutboxRow).where(col(OutboxRow.id) == pending)
                              .values(sent_at=NOW))  # fmt: skip
    again = await world.apply(30)
    assert (again.holdings, again.notices) == ((), 1)


async def test_dry_run_changes_nothing(world: World) -> None:
    before = await world.all()
    async with world.db.sessions() as session:
        events = await session.scalar(select(func.count()).select_from(EventRow))
    report = await world.apply(30, dry_run=True)
    assert report.dry_run and len(report.holdings) == 2
    assert (report.count("name"), report.count("phone"), report.count("national_code")) == (
        2,
        2,
        1,
    )
    assert (report.count("attachments"), report.files) == (1, 2)
    assert await world.all() == before
    async with world.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EventRow)) == events


async def test_running_twice_changes_nothing_more(world: World) -> None:
    await world.apply(30)
    after_first = await world.all()
    events = {key: await world.events(key) for key in world.codes}
    report = await world.apply(30)
    assert report.holdings == () and report.notices == 0 and report.past == 3
    assert await world.all() == after_first
    assert {key: await world.events(key) for key in world.codes} == events


async def test_an_answer_that_can_still_be_reopened_is_kept(world: World) -> None:
    """With N=1, an answer of 3 days ago is past N but could still be reopened for 4 days."""
    report = await world.apply(1)
    codes = {h.code for h in report.holdings}
    assert world.codes["closed_recent"] in codes  # closed 5 days ago: final
    assert world.codes["answered_recent"] not in codes
    assert world.codes["open_old"] not in codes
    after = await world.all()
    assert after["answered_recent"].contact.name == "مهدی صادقی"


async def test_statistics_are_the_same_before_and_after(world: World) -> None:
    async def stats() -> list[tuple[Any, ...]]:
        async with world.db.sessions() as session:
            rows = await session.execute(
                select(col(RequestRow.kind), col(RequestRow.status), col(RequestRow.unit),
                       func.count(), func.sum(col(RequestRow.rating)),
                       func.sum(col(RequestRow.reopen_count)))
                .group_by(col(RequestRow.kind), col(RequestRow.status), col(RequestRow.unit))
                .order_by(col(RequestRow.kind), col(RequestRow.status))
            )  # fmt: skip
            return [tuple(r) for r in rows.all()]

    before = await stats()
    await world.apply(30)
    assert await stats() == before


def test_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retention.cutoff(NOW, 0)


async def test_remembered_details_last_given_before_the_cutoff_are_forgotten(
    db: Database, rules: RoutingRules
) -> None:
    """«همان قبلی» is personal data too: an account whose last named filing is older than the
    cutoff is no longer offered its name and phone; a recent one still is."""
    w = World(db, rules)
    await w.file("old", NOW - timedelta(days=40), complaint())  # account 80_001
    recent = replace(complaint(), user_id=80_002, contact=Contact("سارا نیکو", "09351112233"))
    await w.file("recent", NOW - timedelta(days=5), recent)
    platform = CITIZEN.platform

    dry = await w.apply(30, dry_run=True)
    assert dry.remembered == 1
    async with w.uow() as tx:
        assert await tx.remembered.get(platform, 80_001) is not None, "a dry run keeps them"

    report = await w.apply(30)
    assert report.remembered == 1
    async with w.uow() as tx:
        assert await tx.remembered.get(platform, 80_001) is None
        assert await tx.remembered.get(platform, 80_002) == Remembered("سارا نیکو", "09351112233")
    assert (await w.apply(30)).remembered == 0, "running it again changes nothing"
