"""A scheduled job and an admin acting on one draft at the same moment (`desk/regulations.py`):
neither's change is lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from desk import regulations, staff
from desk.model import DraftFile, DraftStatus
from desk.routing import load_rules
from storage.repositories import SqlDrafts
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
