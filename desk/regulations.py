"""Draft regulations: two weeks of public comment, from publishing to the final version.

Every step is idempotent and stamped on the draft in the same transaction as the notices it
queues, so the scheduler may run a step late (the bot was down) or twice without harm.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from desk import services
from desk.calendar import end_of_day, local_date
from desk.model import (
    COMMENTER_ROLES,
    Attachment,
    ChatRef,
    Contact,
    Draft,
    DraftFile,
    DraftStatus,
    Kind,
    NewRequest,
    Notice,
    NoticeKind,
    Request,
)
from desk.ports import UnitOfWork
from desk.routing import admin_chats
from desk.services import DeskError
from desk.staff import Desk

DEFAULT_DAYS = 14
MAX_DAYS = 90
REMIND_BEFORE = timedelta(days=2)
MAX_FILE = 20 * 1024 * 1024  # what both platforms let a bot send and fetch
PROGRESS_STEP = 25  # report the announcement to admins every 25 %


class DraftError(DeskError):
    """A draft cannot be published or changed as asked; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


T = TypeVar("T")


class _Changed(Exception):
    """Another writer (a scheduled job, another admin) changed the draft's status while this
    use case held it: nothing of this attempt is committed."""


async def _written(tx: UnitOfWork, draft: Draft) -> None:
    if not await tx.drafts.update(draft):
        raise _Changed


async def _again(attempt: Callable[[], Awaitable[T]]) -> T:
    """An admin's action, tried again on a fresh read when a job changed the draft under it
    (a job's write takes moments: three tries, then the status as it is now decides)."""
    for _ in range(3):
        try:
            return await attempt()
        except _Changed:
            continue
    raise DraftError("status")


class DraftClosed(DeskError):
    """Comments are no longer (or not yet) accepted; `.draft` says when the window closed."""

    def __init__(self, draft: Draft) -> None:
        super().__init__(str(draft.id))
        self.draft = draft


def announce_tag(draft_id: int) -> str:
    """The outbox tag of a draft's announcement, to count its progress."""
    return f"draft:{draft_id}:announce"


async def publish(
    desk: Desk,
    *,
    title: str,
    summary: str,
    unit: str,
    document: DraftFile,
    days: int = DEFAULT_DAYS,
    opens_at: datetime | None = None,
    by: str = "",
) -> Draft:
    """Store a draft; it opens at `opens_at` (now by default) for `days` days.

    The window closes at the end of its last day, Tehran time. A draft that opens now is
    announced in the same transaction."""
    title, summary = title.strip(), summary.strip()
    if not title or not summary:
        raise DraftError("empty")
    if unit not in desk.rules.units:
        raise DraftError("unit")
    if not 1 <= days <= MAX_DAYS:
        raise DraftError("days")
    if not document.content or len(document.content) > MAX_FILE:
        raise DraftError("file")
    now = desk.clock.now()
    opens = opens_at or now
    if end_of_day(local_date(opens) + timedelta(days=days)) <= now:
        raise DraftError("days")  # the window would be over before it opens
    draft = Draft(
        title=title,
        summary=summary,
        unit=unit,
        opens_at=opens,
        closes_at=end_of_day(local_date(opens) + timedelta(days=days)),
        file_name=document.name,
        created_by=by,
    )
    async with desk.uow() as tx:
        draft = await tx.drafts.add(draft, document)
        if opens <= now and not await _open(tx, desk, draft, now):
            raise DraftError("status")  # nobody else knows the new draft: cannot happen
        await tx.commit()
    return draft


async def _open(tx: UnitOfWork, desk: Desk, draft: Draft, now: datetime) -> bool:
    """Open the window and queue one announcement per subscriber (and tell the admins);
    False when another writer changed the draft meanwhile (nothing queued then)."""
    assert draft.id is not None
    draft.status = DraftStatus.OPEN
    draft.announced_at = now
    subscribers = await tx.citizens.subscribers()
    draft.announce_total = len(subscribers)
    if not await tx.drafts.update(draft):
        return False
    tag = announce_tag(draft.id)
    await tx.outbox.add_many(
        Notice(chat.platform, chat.chat_id, NoticeKind.DRAFT_ANNOUNCE, None,
               {"draft": draft.id}, tag=tag)
        for chat in subscribers
    )  # fmt: skip
    for chat in admin_chats(desk.rules.admins):
        await tx.outbox.add(
            Notice(chat.platform, chat.chat_id, NoticeKind.BROADCAST, None,
                   {"template": "draft_opened", "draft": draft.id,
                    "total": len(subscribers)})
        )  # fmt: skip
    return True


async def open_due(desk: Desk) -> int:
    """Open every scheduled draft whose time has come; returns how many."""
    now = desk.clock.now()
    opened = 0
    async with desk.uow() as tx:
        for draft in await tx.drafts.all():
            if draft.status is DraftStatus.SCHEDULED and draft.opens_at <= now:
                if now >= draft.closes_at:
                    # the bot was down for the whole window: never announce a closed window;
                    # the unit still gets its (empty) digest
                    await _close(tx, desk, draft, now)
                    continue
                if await _open(tx, desk, draft, now):  # (else an admin came first)
                    opened += 1
        await tx.commit()
    return opened


async def report_progress(desk: Desk) -> int:
    """Tell the admins how far each announcement has got, every 25 % and at the end."""
    reported = 0
    async with desk.uow() as tx:
        for draft in await tx.drafts.all():
            if draft.status is not DraftStatus.OPEN or draft.progress_reported >= 100:
                continue
            assert draft.id is not None
            sent, failed, total = await tx.outbox.progress(announce_tag(draft.id))
            done = 100 if total == 0 else (sent + failed) * 100 // total
            step = 100 if done >= 100 else done // PROGRESS_STEP * PROGRESS_STEP
            if step <= draft.progress_reported:
                continue
            draft.progress_reported = step
            if not await tx.drafts.update(draft):
                continue  # withdrawn or closed a moment ago: no progress to report
            for chat in admin_chats(desk.rules.admins):
                await tx.outbox.add(
                    Notice(chat.platform, chat.chat_id, NoticeKind.BROADCAST, None,
                           {"template": "draft_progress", "draft": draft.id, "sent": sent,
                            "failed": failed, "total": total})
                )  # fmt: skip
            reported += 1
        await tx.commit()
    return reported


async def remind_due(desk: Desk) -> int:
    """Two days before closing, remind subscribers who have not commented; once."""
    now = desk.clock.now()
    count = 0
    async with desk.uow() as tx:
        for draft in await tx.drafts.all():
            if (
                draft.status is not DraftStatus.OPEN
                or draft.reminded_at is not None
                or now < draft.closes_at - REMIND_BEFORE
                or now >= draft.closes_at
            ):
                continue
            assert draft.id is not None
            commented = {r.chat for r in await tx.drafts.comments(draft.id) if r.chat}
            reminders = [
                Notice(chat.platform, chat.chat_id, NoticeKind.DRAFT_REMINDER, None,
                       {"draft": draft.id})
                for chat in await tx.citizens.subscribers()
                if chat not in commented
            ]  # fmt: skip
            draft.reminded_at = now
            if not await tx.drafts.update(draft):
                continue  # withdrawn or closed a moment ago: nobody is reminded
            await tx.outbox.add_many(reminders)
            count += len(reminders)
        await tx.commit()
    return count


async def close_due(desk: Desk) -> int:
    """Close every open window past its deadline and send the unit its digest."""
    now = desk.clock.now()
    closed = 0
    async with desk.uow() as tx:
        for draft in await tx.drafts.all():
            # (a False from _close: an admin came first)
            if (
                draft.status is DraftStatus.OPEN
                and now >= draft.closes_at
                and await _close(tx, desk, draft, now)
            ):
                closed += 1
        await tx.commit()
    return closed


async def _close(tx: UnitOfWork, desk: Desk, draft: Draft, now: datetime) -> bool:
    """Close the window and queue the unit's digest; False when another writer changed the
    draft meanwhile (nothing queued then)."""
    draft.status = DraftStatus.CLOSED
    draft.closed_at = now
    if not await tx.drafts.update(draft):
        return False
    for platform, chat_id in desk.rules.units[draft.unit].chats.items():
        await tx.outbox.add(
            Notice(platform, chat_id, NoticeKind.DRAFT_DIGEST, None, {"draft": draft.id})
        )
    return True


async def close_now(desk: Desk, draft_id: int, *, by: str = "") -> Draft:
    """Close a window before its deadline (an admin's decision, `by` is their Actor.label)."""

    async def attempt() -> Draft:
        async with desk.uow() as tx:
            draft = await _get(tx, draft_id)
            if draft.status not in (DraftStatus.OPEN, DraftStatus.SCHEDULED):
                raise DraftError("status")
            draft.closed_by = by
            if not await _close(tx, desk, draft, desk.clock.now()):
                raise _Changed
            await tx.commit()
        return draft

    return await _again(attempt)


async def _get(tx: UnitOfWork, draft_id: int) -> Draft:
    draft = await tx.drafts.get(draft_id)
    if draft is None:
        raise DraftError("unknown")
    return draft


async def list_drafts(desk: Desk) -> list[Draft]:
    """Every draft, newest first."""
    async with desk.uow() as tx:
        return await tx.drafts.all()


async def drafts_with_comments(desk: Desk) -> list[tuple[Draft, int]]:
    """Every draft, newest first, with its number of comments (counted by the store)."""
    async with desk.uow() as tx:
        drafts = await tx.drafts.all()
        counts = await tx.drafts.comment_counts()
    return [(d, counts.get(d.id, 0) if d.id is not None else 0) for d in drafts]


async def open_drafts(desk: Desk) -> list[Draft]:
    """Drafts accepting comments now, closing soonest first."""
    now = desk.clock.now()
    drafts = [d for d in await list_drafts(desk) if d.is_open_at(now)]
    return sorted(drafts, key=lambda d: d.closes_at)


async def get(desk: Desk, draft_id: int) -> Draft:
    """A draft by id, or DraftError('unknown')."""
    async with desk.uow() as tx:
        return await _get(tx, draft_id)


async def public(desk: Desk, draft_id: int) -> Draft:
    """A draft citizens may read (its window has opened), or DraftError('unknown') as for a
    draft that does not exist: ids are sequential, and a draft not yet published is not told
    about, not even its title. A withdrawn draft is DraftError('withdrawn'): its old buttons
    are in citizens' chats, and they are told it was taken back, nothing of its text."""
    draft = await get(desk, draft_id)
    if draft.status is DraftStatus.WITHDRAWN:
        raise DraftError("withdrawn")
    if not draft.is_public_at(desk.clock.now()):
        raise DraftError("unknown")
    return draft


async def document(desk: Desk, draft_id: int, role: str = "document") -> DraftFile | None:
    """A draft's stored document or final version."""
    async with desk.uow() as tx:
        return await tx.drafts.file(draft_id, role)


async def comment(
    desk: Desk,
    draft_id: int,
    *,
    section: int,
    text: str,
    chat: ChatRef,
    user_id: int | None,
    name: str | None,
    attachments: list[Attachment] | None = None,
    filing_key: str | None = None,
    commenter_role: str | None = None,
) -> Request:
    """A citizen's comment: a tracking code, a card in the owning unit's chat (filed once per
    `filing_key`). `commenter_role` is who the citizen said they comment as (COMMENTER_ROLES),
    or None when they did not say."""
    draft = await public(desk, draft_id)
    if not draft.is_open_at(desk.clock.now()):
        raise DraftClosed(draft)
    if not 0 <= section <= len(draft.sections()):
        raise DraftError("section")
    return await services.file_request(
        NewRequest(
            kind=Kind.COMMENT,
            chat=chat,
            user_id=user_id,
            text=text,
            contact=Contact(name=name),
            attachments=list(attachments or []),
            draft_id=draft_id,
            section=section,
            commenter_role=commenter_role if commenter_role in COMMENTER_ROLES else None,
            unit=draft.unit,
            filing_key=filing_key,
        ),
        uow=desk.uow,
        rules=desk.rules,
        clock=desk.clock,
        quotas=desk.quotas,
    )


async def finalize(
    desk: Desk, draft_id: int, *, note: str, final: DraftFile | None, by: str = ""
) -> tuple[Draft, int]:
    """Publish the final version; every commenter is told, with their comment's code."""
    note = note.strip()
    if not note:
        raise DraftError("empty")

    async def attempt() -> tuple[Draft, int]:
        async with desk.uow() as tx:
            draft = await _get(tx, draft_id)
            if draft.status is DraftStatus.OPEN and not await _close(
                tx, desk, draft, desk.clock.now()
            ):
                raise _Changed
            if draft.status is not DraftStatus.CLOSED:
                raise DraftError("status")
            draft.status = DraftStatus.FINAL
            draft.final_note = note
            draft.finalized_at = desk.clock.now()
            draft.finalized_by = by
            if final is not None:
                draft.final_file_name = final.name
                await tx.drafts.set_file(draft_id, "final", final)
            await _written(tx, draft)
            told = await _tell_commenters(tx, draft_id)
            await tx.commit()
        return draft, told

    return await _again(attempt)


async def _tell_commenters(tx: UnitOfWork, draft_id: int) -> int:
    """Queue the draft's outcome (its final version, or its withdrawal) to every commenter,
    with their comment's code; returns how many are told."""
    told = 0
    for request in await tx.drafts.comments(draft_id):
        if request.chat is not None:
            await tx.outbox.add(
                Notice(request.chat.platform, request.chat.chat_id,
                       NoticeKind.DRAFT_OUTCOME, request.code, {"draft": draft_id})
            )  # fmt: skip
            told += 1
    return told


async def withdraw(desk: Desk, draft_id: int, *, reason: str, by: str = "") -> tuple[Draft, int]:
    """Take a draft back before its final version (scheduled, open or closed): nobody may read
    it or comment on it any more, announcements still queued are dropped, and everyone who
    commented is told why, with their comment's code. Returns the draft and how many are told.
    """
    reason = reason.strip()
    if not reason:
        raise DraftError("empty")

    async def attempt() -> tuple[Draft, int]:
        async with desk.uow() as tx:
            draft = await _get(tx, draft_id)
            if draft.status not in (DraftStatus.SCHEDULED, DraftStatus.OPEN, DraftStatus.CLOSED):
                raise DraftError("status")
            now = desk.clock.now()
            draft.status = DraftStatus.WITHDRAWN
            if draft.closed_at is None:
                draft.closed_at, draft.closed_by = now, by
            draft.final_note = reason
            draft.finalized_at, draft.finalized_by = now, by
            await _written(tx, draft)
            told = await _tell_commenters(tx, draft_id)
            await tx.commit()
        return draft, told

    return await _again(attempt)


async def subscribe(desk: Desk, chat: ChatRef, on: bool) -> None:
    """Turn a chat's subscription to drafts on or off."""
    async with desk.uow() as tx:
        await tx.citizens.subscribe(chat, on, desk.clock.now())
        await tx.commit()


async def is_subscribed(desk: Desk, chat: ChatRef) -> bool:
    """Whether a chat is subscribed."""
    async with desk.uow() as tx:
        return await tx.citizens.is_subscribed(chat)


async def first_visit(desk: Desk, chat: ChatRef, user_id: int | None) -> bool:
    """Record a citizen's chat; True the first time (so the bot offers the subscription)."""
    async with desk.uow() as tx:
        new = await tx.citizens.seen(chat, user_id, desk.clock.now())
        await tx.commit()
    return new
