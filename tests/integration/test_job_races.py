"""A scheduled job and a person acting on the same thing at the same moment: an admin and the
drafts' jobs (`desk/regulations.py`), a staff member and the deadline check (`desk/sla.py`):
neither's change is lost, and the job carries on with the rest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from desk import regulations, services, sla, staff
from desk.model import (
    Actor,
    ChatRef,
    Contact,
    DraftFile,
    DraftStatus,
    Kind,
    NewRequest,
    Platform,
    Status,
)
from desk.routing import load_rules
from storage.repositories import SqlDrafts, SqlRequests
from storage.tables import OutboxRow
from tests.integration.conftest import Database
from tests.unit.fakes import FixedClock

RULES_FILE = Path(__file__).resolve().parents[2] / "routing_rules.yaml"


async def test_a_withdrawal_while_the_progress_job_runs_stays_a_withdrawal(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report_progress` read the draft open, then the admin withdrew it, then the job wrote its
    progress: the draft stays withdrawn with its reason, and the commenters' notice says so."""
    rules = load_rules(RULES_FILE)
    clock = FixedClock(datetime(2026, 3, 21, 8, 0, tzinfo=UTC))
    desk = staff.Desk(db.uow(), rules, clock)
    unit = next(iter(rules.units))
    draft = await regulations.publish(
        desk, title="طرح", summary="خلاصه", unit=unit,
        document=DraftFile("d.pdf", b"%PDF-1.4", "application/pdf"),
    )  # fmt: skip
    assert draft.id is not None
    read, go = asyncio.Event(), asyncio.Event()
    async with desk.uow() as tx:
        outbox = type(tx.outbox)
    original = outbox.progress

    async def paused(self: Any, tag: str) -> Any:
        read.set()
        await go.wait()
        return await original(self, tag)

    monkeypatch.setattr(outbox, "progress", paused)
    job_desk = desk
    job = asyncio.create_task(regulations.report_progress(job_desk))
    await asyncio.wait_for(read.wait(), 5)
    monkeypatch.setattr(outbox, "progress", original)
    await regulations.withdraw(desk, draft.id, reason="قانون تازه")
    go.set()
    await asyncio.wait_for(job, 30)
    async with desk.uow() as tx:
        after = await tx.drafts.get(draft.id)
    assert after is not None
    assert after.status is DraftStatus.WITHDRAWN and after.final_note == "قانون تازه"


async def test_an_admins_withdrawal_cut_by_the_closing_job_is_tried_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin's withdrawal read the draft open; the closing job closed it before the
    withdrawal wrote: the withdrawal is tried again on what is there now (closed) and stands,
    and the unit's digest the job queued is queued once."""
    rules = load_rules(RULES_FILE)
    clock = FixedClock(datetime(2026, 3, 21, 8, 0, tzinfo=UTC))
    desk = staff.Desk(db.uow(), rules, clock)
    unit = next(iter(rules.units))
    draft = await regulations.publish(
        desk, title="طرح", summary="خلاصه", unit=unit, days=1,
        document=DraftFile("d.pdf", b"%PDF-1.4", "application/pdf"),
    )  # fmt: skip
    assert draft.id is not None
    read, go = asyncio.Event(), asyncio.Event()
    original = SqlDrafts.update

    async def held(self: Any, changed: Any) -> bool:
        if changed.status is DraftStatus.WITHDRAWN and not go.is_set():
            read.set()
            await go.wait()
        return await original(self, changed)

    monkeypatch.setattr(SqlDrafts, "update", held)
    admin = asyncio.create_task(regulations.withdraw(desk, draft.id, reason="قانون تازه"))
    await asyncio.wait_for(read.wait(), 5)
    clock._now = draft.closes_at + timedelta(minutes=1)
    assert await regulations.close_due(desk) == 1
    go.set()
    withdrawn, _told = await asyncio.wait_for(admin, 30)
    assert withdrawn.status is DraftStatus.WITHDRAWN
    async with desk.uow() as tx:
        after = await tx.drafts.get(draft.id)
    assert after is not None and after.status is DraftStatus.WITHDRAWN
    assert after.final_note == "قانون تازه" and after.closed_at is not None
    async with db.sessions() as session:
        digests = await session.execute(
            select(func.count()).select_from(OutboxRow).where(col(OutboxRow.kind) == "draft_digest")
        )
    assert digests.scalar_one() == len(rules.units[unit].chats)


async def test_a_claim_during_the_deadline_check_is_kept_and_the_others_are_reminded(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline check read two overdue complaints; a member claimed the first before the
    check wrote it: the claim stands, and the check still escalates the second (before, the
    first one's conflict undid the whole run)."""
    rules = load_rules(RULES_FILE)
    clock = FixedClock(datetime(2026, 3, 21, 8, 0, tzinfo=UTC))
    desk = staff.Desk(db.uow(), rules, clock)
    filed = []
    for n in range(2):
        new = NewRequest(
            kind=Kind.COMPLAINT, chat=ChatRef(Platform.TELEGRAM, 70_001 + n), user_id=70_001 + n,
            text="چاه آب کشاورزی ما از هفته پیش خاموش است.", topic="water", county="ferdows",
            contact=Contact(name="زهرا احمدی", phone="09151234567"),
        )  # fmt: skip
        filed.append(await services.file_request(new, uow=db.uow(), rules=rules, clock=clock))
    first, second = filed
    assert first.due_at is not None and first.unit is not None
    clock._now = first.due_at + timedelta(days=1)
    unit_chat = rules.staff_chat(first.unit, Platform.TELEGRAM)
    assert unit_chat is not None
    read, go = asyncio.Event(), asyncio.Event()
    original = SqlRequests.update

    async def held(self: Any, request: Any) -> None:
        if request.code == first.code and request.escalated_at is not None and not go.is_set():
            read.set()
            await go.wait()
        await original(self, request)

    monkeypatch.setattr(SqlRequests, "update", held)
    check = asyncio.create_task(sla.check_deadlines(desk))
    await asyncio.wait_for(read.wait(), 5)
    member = Actor(Platform.TELEGRAM, 501, "مریم احمدی")
    await staff.claim(desk, first.code, chat=unit_chat, actor=member)
    go.set()
    assert await asyncio.wait_for(check, 30) == 1, "the second one escalated"
    async with desk.uow() as tx:
        now_first = await tx.requests.get(first.code)
        now_second = await tx.requests.get(second.code)
    assert now_first is not None and now_second is not None
    assert now_first.status is Status.IN_PROGRESS and now_first.escalated_at is None
    assert now_second.escalated_at is not None
