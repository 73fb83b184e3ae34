"""Deadlines: reminders in the unit's chat, escalation of overdue requests, the daily digest.

Both jobs are idempotent: each stage is stamped on the request (or in the job log) in the same
transaction as the notice it queues, so running a job twice, or late after downtime, sends
each reminder once. After downtime only the most urgent stage due is sent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from desk.calendar import local_date, start_of_day
from desk.model import ChatRef, Event, Notice, NoticeKind, Request
from desk.ports import UnitOfWork
from desk.services import ChangedMeanwhile
from desk.staff import Desk

DIGEST_JOB = "overdue_digest"
DIGEST_HOUR = 8  # Tehran time


def stage_due(request: Request, now: datetime) -> str | None:
    """The most urgent deadline stage reached and not yet announced, if any."""
    assert request.due_at is not None
    start = request.sla_started_at or request.created_at
    half = start + (request.due_at - start) / 2
    if now > request.due_at:
        return "escalated" if request.escalated_at is None else None
    if now >= start_of_day(local_date(request.due_at)):
        return "due_today" if request.reminded_due_at is None else None
    if now >= half:
        return "half_time" if request.reminded_half_at is None else None
    return None


async def check_deadlines(desk: Desk) -> int:
    """Queue due reminders and escalations; returns how many requests got one."""
    now = desk.clock.now()
    count = 0
    async with desk.uow() as tx:
        for request in await tx.requests.open_with_deadline():
            stage = stage_due(request, now)
            if stage is None:
                continue
            # every earlier stage counts as done: one message, for the most urgent
            request.reminded_half_at = request.reminded_half_at or now
            if stage != "half_time":
                request.reminded_due_at = request.reminded_due_at or now
            if stage == "escalated":
                request.escalated_at = now
            try:
                await tx.requests.update(request)
            except ChangedMeanwhile:
                continue  # a member acted on it a moment ago: the next check decides again
            await tx.requests.add_event(Event(request.code, stage, now, "sla"))
            await _announce(desk, tx, request, stage)
            count += 1
        await tx.commit()
    return count


async def _announce(desk: Desk, tx: UnitOfWork, request: Request, stage: str) -> None:
    assert request.unit is not None
    unit_chat = desk.rules.staff_chat(request.unit, request.platform)
    if unit_chat is not None:
        await tx.outbox.add(
            Notice(unit_chat.platform, unit_chat.chat_id, NoticeKind.STAFF_NOTE, request.code,
                   {"template": stage})
        )  # fmt: skip
        if stage == "escalated":
            await tx.outbox.add(
                Notice(unit_chat.platform, unit_chat.chat_id, NoticeKind.CARD_REFRESH, request.code)
            )
    if stage == "escalated":
        head = desk.rules.staff_chat(desk.rules.sla.escalate_to, request.platform)
        if head is not None and head != unit_chat:
            await tx.outbox.add(
                Notice(head.platform, head.chat_id, NoticeKind.BROADCAST, request.code,
                       {"template": "escalation"})
            )  # fmt: skip


async def overdue_digest(desk: Desk) -> bool:
    """Once a day from 08:00 Tehran: overdue requests per unit, to the escalation unit's chats.

    Returns True when a digest was queued (nothing is sent on a day without overdue requests).
    """
    now = desk.clock.now()
    today = local_date(now)
    if now < start_of_day(today) + timedelta(hours=DIGEST_HOUR):
        return False
    async with desk.uow() as tx:
        if await tx.jobs.last_run(DIGEST_JOB) == today.isoformat():
            return False
        per_unit: dict[str, list[str]] = defaultdict(list)
        for request in await tx.requests.open_with_deadline():
            if request.is_overdue(now) and request.unit is not None:
                per_unit[request.unit].append(request.code)
        if per_unit:
            escalation = desk.rules.units[desk.rules.sla.escalate_to]
            for platform, chat_id in escalation.chats.items():
                chat = ChatRef(platform, chat_id)
                await tx.outbox.add(
                    Notice(chat.platform, chat.chat_id, NoticeKind.BROADCAST, None,
                           {"template": "digest", "units": dict(per_unit)})
                )  # fmt: skip
        await tx.jobs.set_last_run(DIGEST_JOB, today.isoformat())
        await tx.commit()
    return bool(per_unit)
