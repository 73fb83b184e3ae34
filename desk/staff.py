"""Use cases after filing: staff claim, transfer, ask, answer, close; the citizen clarifies,
rates and reopens. Each change, its event and the notices announcing it commit together."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from desk import tracking
from desk.model import (
    TRANSITIONS,
    Action,
    Actor,
    Attachment,
    ChatRef,
    CloseReason,
    Event,
    Notice,
    NoticeKind,
    Request,
    Status,
    allows,
    transition,
)
from desk.model import WrongStatus as WrongStatus  # noqa: PLC0414 - re-exported: its home until now
from desk.ports import Clock, RequestSearch, UnitOfWork, UnitOfWorkFactory
from desk.routing import RoutingRules
from desk.services import (
    HOUR,
    DeskError,
    NotFound,
    QuotaExceeded,
    Quotas,
    post_card,
    queue_files,
    quota_retry_at,
)
from desk.text import normalize_line, squeeze
from desk.validation import InvalidInput, mobile_number

REOPEN_WINDOW = timedelta(days=7)
UNSATISFIED = 2  # a rating at or below this offers reopening
MAX_REOPENS = 1


class NotYourRequest(DeskError):
    """The chat acting is not the staff chat of the request's unit (or not a staff chat)."""


class NotOwner(DeskError):
    """Only the chat that filed a request may do this."""


class ReopenRefused(DeskError):
    """Reopening is not possible: `reason` is 'late', 'again' or 'status'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlreadyRated(DeskError):
    """This answer has its rating already; `score` is the one recorded (a rating is final)."""

    def __init__(self, score: int) -> None:
        super().__init__(score)
        self.score = score


@dataclass(frozen=True, slots=True)
class Desk:
    """The collaborators every use case here needs."""

    uow: UnitOfWorkFactory
    rules: RoutingRules
    clock: Clock
    quotas: Quotas = field(default_factory=Quotas)
    # the key of the update being handled (bot.runtime.middlewares.current_update_key): an action
    # whose update comes again after a crash is recognised by its event and not done twice
    update_key: Callable[[], str | None] = field(default=lambda: None)


async def _load(tx: UnitOfWork, code: str) -> Request:
    request = await tx.requests.get(code)
    if request is None:
        raise NotFound(code)
    return request


async def _replayed(tx: UnitOfWork, desk: Desk, code: str) -> bool:
    """Whether the update being handled already changed this request (handled again after a
    crash cut it short between the change and its handled mark)."""
    key = desk.update_key()
    return key is not None and any(e.update_key == key for e in await tx.requests.events(code))


def _authorize(desk: Desk, request: Request, chat: ChatRef) -> None:
    unit = desk.rules.unit_for_chat(chat.platform, chat.chat_id)
    if unit is None or unit.key != request.unit:
        raise NotYourRequest(request.code)


async def _change(
    tx: UnitOfWork,
    desk: Desk,
    request: Request,
    action: Action,
    actor: str,
    *,
    note: str | None = None,
) -> None:
    """Apply `action` to the request and append its event, with the status it set (none when
    the status stays, as the table says)."""
    now = desk.clock.now()
    status = TRANSITIONS[action].get(request.status)
    request.status = transition(request.status, action)
    request.updated_at = now
    await tx.requests.update(request)
    await tx.requests.add_event(
        Event(request.code, action.value, now, actor, status=status, note=note,
              update_key=desk.update_key())
    )  # fmt: skip


async def _refresh_card(tx: UnitOfWork, desk: Desk, request: Request, chat: ChatRef) -> None:
    await tx.outbox.add(Notice(chat.platform, chat.chat_id, NoticeKind.CARD_REFRESH, request.code))


async def _tell_citizen(tx: UnitOfWork, request: Request, template: str, **data: object) -> bool:
    """Queue a text to the citizen; False when there is nobody to tell (anonymous)."""
    if request.chat is None:
        return False
    await tx.outbox.add(
        Notice(
            request.chat.platform,
            request.chat.chat_id,
            NoticeKind.CITIZEN_TEXT,
            request.code,
            {"template": template, **data},
        )
    )
    return True


async def _note(
    tx: UnitOfWork, chat: ChatRef, request: Request, template: str, **data: object
) -> None:
    await tx.outbox.add(
        Notice(
            chat.platform,
            chat.chat_id,
            NoticeKind.STAFF_NOTE,
            request.code,
            {"template": template, **data},
        )
    )


async def unit_request(desk: Desk, code: str, *, chat: ChatRef) -> Request:
    """A request as a staff chat sees it before acting (which menu its card shows): NotFound,
    or NotYourRequest when the chat's unit does not hold it. Every action checks again."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
    _authorize(desk, request, chat)
    return request


async def owned_request(desk: Desk, code: str, *, chat: ChatRef) -> Request:
    """A request as the chat that filed it sees it before answering or reopening: NotFound, or
    NotOwner for any other chat. The action itself checks again."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
    _owner(request, chat)
    return request


# how far back among a chat's requests a waiting question is looked for
WAITING_LOOKBACK = 50


async def awaiting_answer(desk: Desk, chat: ChatRef) -> Request | None:
    """The chat's request whose staff question is the newest still unanswered (status
    waiting), or None: a plain message in the main menu answers it."""
    async with desk.uow() as tx:
        requests = await tx.requests.by_chat(chat, WAITING_LOOKBACK)
    waiting = [r for r in requests if r.status is Status.WAITING]
    return max(waiting, key=lambda r: r.updated_at, default=None)


async def claim(desk: Desk, code: str, *, chat: ChatRef, actor: Actor) -> Request:
    """«بررسی می‌کنم»: the request is in progress, and the citizen is told."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request
        _authorize(desk, request, chat)
        transition(request.status, Action.CLAIM)
        request.claimed_by = actor.label
        await _change(tx, desk, request, Action.CLAIM, actor.label)
        await _refresh_card(tx, desk, request, chat)
        await _tell_citizen(tx, request, "in_progress")
        await tx.commit()
    return request


async def transfer(
    desk: Desk, code: str, to_unit: str, *, chat: ChatRef, actor: Actor, reason: str | None
) -> Request:
    """Move a request to another unit: the old card says where it went, a new card appears."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request
        _authorize(desk, request, chat)
        if to_unit not in desk.rules.units:
            raise NotFound(to_unit)
        transition(request.status, Action.TRANSFER)
        if request.unit == to_unit:  # not a status rule, refused the same way
            raise WrongStatus(request.status)
        from_unit = request.unit
        request.unit = to_unit
        request.claimed_by = None
        note = f"{from_unit} → {to_unit}" + (f": {reason}" if reason else "")
        await _change(tx, desk, request, Action.TRANSFER, actor.label, note=note)
        await _refresh_card(tx, desk, request, chat)
        await post_card(
            tx, desk.rules, request, from_unit=from_unit, by=actor.name, reason=reason or ""
        )
        await _tell_citizen(tx, request, "transferred")
        await tx.commit()
    return request


async def ask(
    desk: Desk,
    code: str,
    question: str,
    *,
    chat: ChatRef,
    actor: Actor,
    attachments: list[Attachment] | None = None,
) -> Request:
    """Ask the citizen for more information (a voice note or a file, if any, follows the
    question's words); their reply comes back into the thread."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request
        _authorize(desk, request, chat)
        transition(request.status, Action.ASK)
        if request.chat is None:
            raise NotOwner(code)  # anonymous: nobody to ask
        await _change(tx, desk, request, Action.ASK, actor.label, note=question)
        await _refresh_card(tx, desk, request, chat)
        await _tell_citizen(tx, request, "question", question=question)
        await queue_files(tx, request.chat, request.code, attachments or [],
                          source=chat.platform, kind=NoticeKind.CITIZEN_COPY)  # fmt: skip
        await tx.commit()
    return request


async def answer(
    desk: Desk,
    code: str,
    text: str,
    *,
    chat: ChatRef,
    actor: Actor,
    attachments: list[Attachment] | None = None,
) -> Request:
    """A staff reply in the thread: stored as the answer and sent to the citizen with the code."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request
        _authorize(desk, request, chat)
        transition(request.status, Action.ANSWER)
        now = desk.clock.now()
        request.answer = text
        request.answered_at = now
        await _change(tx, desk, request, Action.ANSWER, actor.label, note=text)
        await _refresh_card(tx, desk, request, chat)
        if request.chat is not None:
            await _tell_citizen(tx, request, "answer", answer=text)
            await queue_files(tx, request.chat, request.code, attachments or [],
                              source=chat.platform, kind=NoticeKind.CITIZEN_COPY)  # fmt: skip
        # with no chat to reach, the handler says so in its reply; nobody else is told
        await tx.commit()
    return request


async def close(
    desk: Desk, code: str, reason: CloseReason, *, chat: ChatRef, actor: Actor
) -> Request:
    """Close without an answer; the citizen sees the reason, except for spam."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request
        _authorize(desk, request, chat)
        transition(request.status, Action.CLOSE)
        request.close_reason = reason.value
        await _change(tx, desk, request, Action.CLOSE, actor.label, note=reason.value)
        await _refresh_card(tx, desk, request, chat)
        if reason is not CloseReason.SPAM:
            await _tell_citizen(tx, request, "closed", reason=reason.value)
        await tx.commit()
    return request


def _owner(request: Request, chat: ChatRef) -> None:
    if not request.is_owned_by(chat):
        raise NotOwner(request.code)


async def clarify(
    desk: Desk, code: str, text: str, *, chat: ChatRef, attachments: list[Attachment] | None = None
) -> Request:
    """The citizen's reply to a question goes back into the unit's thread.

    Accepted while the request is open, not only while waiting: a question may cross a
    transfer, and a citizen's words are never turned away, only asked to wait: each message
    counts against CLARIFICATIONS_PER_HOUR on this request (QuotaExceeded stores nothing)."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request
        _owner(request, chat)
        transition(request.status, Action.CLARIFY)
        await _check_clarification_quota(tx, desk, request, chat)
        await _change(tx, desk, request, Action.CLARIFY, request.citizen_label(chat), note=text)
        staff = desk.rules.staff_chat(request.unit or desk.rules.default, request.platform)
        if staff is not None:
            await _note(tx, staff, request, "clarified", text=text)
            await queue_files(tx, staff, request.code, attachments or [], source=chat.platform)
            await _refresh_card(tx, desk, request, staff)
        await tx.commit()
    return request


async def _check_clarification_quota(
    tx: UnitOfWork, desk: Desk, request: Request, chat: ChatRef
) -> None:
    limit = desk.quotas.clarifications_per_hour
    if limit <= 0:
        return
    now = desk.clock.now()
    actor = request.citizen_label(chat)
    times = [
        e.at for e in await tx.requests.events(request.code)
        if e.action == Action.CLARIFY.value and e.actor == actor
    ]  # fmt: skip
    retry_at = quota_retry_at(times, limit, HOUR, now)
    if retry_at is not None:
        raise QuotaExceeded(retry_at, limit=limit, window=HOUR)


def reopen_refusal(request: Request, now: datetime) -> str | None:
    """Why this request cannot be reopened now, or None when it can."""
    if not allows(request.status, Action.REOPEN):
        return "status"
    if request.reopen_count >= MAX_REOPENS:
        return "again"
    if request.answered_at is None or now - request.answered_at > REOPEN_WINDOW:
        return "late"
    return None


async def rate(desk: Desk, code: str, score: int, *, chat: ChatRef) -> tuple[Request, bool]:
    """Store the citizen's 1-5 satisfaction; True when reopening should be offered. Each
    answer is rated once: a second rating of the same answer raises AlreadyRated (a reopened
    request's next answer is rated afresh)."""
    if not 1 <= score <= 5:
        raise ValueError(score)
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request, score <= UNSATISFIED and reopen_refusal(
                request, desk.clock.now()
            ) is None
        _owner(request, chat)
        transition(request.status, Action.RATE)
        marks = [
            e.action for e in await tx.requests.events(code)
            if e.action in (Action.ANSWER.value, Action.RATE.value)
        ]  # fmt: skip
        if marks and marks[-1] == Action.RATE.value and request.rating is not None:
            raise AlreadyRated(request.rating)
        now = desk.clock.now()
        request.rating, request.rated_at = score, now
        await _change(tx, desk, request, Action.RATE, request.citizen_label(chat),
                      note=str(score))  # fmt: skip
        await tx.commit()
    offer = score <= UNSATISFIED and reopen_refusal(request, now) is None
    return request, offer


async def reopen(desk: Desk, code: str, note: str, *, chat: ChatRef) -> Request:
    """An unsatisfied citizen reopens an answered request once, within 7 days, with a note."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        if await _replayed(tx, desk, code):
            return request
        _owner(request, chat)
        refusal = reopen_refusal(request, desk.clock.now())
        if refusal is not None:
            raise ReopenRefused(refusal)
        request.reopen_count += 1
        request.claimed_by = None
        # a reopened request gets a fresh deadline, and its reminders start over
        days = desk.rules.sla.days.get(request.kind)
        if days:
            request.sla_started_at = desk.clock.now()
            request.due_at = desk.rules.sla.calendar.due(request.sla_started_at, days)
        request.reminded_half_at = request.reminded_due_at = request.escalated_at = None
        await _change(tx, desk, request, Action.REOPEN, request.citizen_label(chat), note=note)
        staff = desk.rules.staff_chat(request.unit or desk.rules.default, request.platform)
        if staff is not None:
            await _note(tx, staff, request, "reopened", text=note)
            await _refresh_card(tx, desk, request, staff)
        await tx.commit()
    return request


# --- /find: a unit's own requests by tracking code, name or phone ---------------------------------

FIND_LIMIT = 10  # requests listed at most; more are announced, not shown
FIND_DIGITS_MIN = 4  # fewer digits match too much of every phone and code
FIND_NAME_MIN = 2  # letters
_NOT_DIGITS = re.compile(r"[\s\-_.()\u200c\u200e\u200f]")


def search_terms(text: str) -> RequestSearch | None:
    """What `/find <text>` looks for, or None when the text is too short to search with.

    Digits in any script; a whole mobile number in any usual form (09…, 9…, +98…, 0098…) is
    that phone, and ten such digits that are also a valid tracking code are that code too
    (codes filed before `desk.tracking.generate` stopped drawing them may start with 9); four
    or more other digits match inside a phone or a tracking code; anything else is part of a
    name, spaces and ZWNJ aside."""
    line = normalize_line(text)
    compact = _NOT_DIGITS.sub("", line)
    if compact.startswith("+98"):
        compact = "0" + compact[3:]
    elif compact.startswith("0098"):
        compact = "0" + compact[4:]
    if compact.isascii() and compact.isdigit():
        try:
            phone = mobile_number(compact)
        except InvalidInput:
            pass
        else:
            return RequestSearch(code=compact if tracking.is_valid(compact) else None, phone=phone)
        return RequestSearch(digits=compact) if len(compact) >= FIND_DIGITS_MIN else None
    name = squeeze(line)
    letters = sum(ch.isalpha() for ch in name)
    return RequestSearch(name=name) if letters >= FIND_NAME_MIN else None


@dataclass(frozen=True, slots=True)
class Found:
    """A unit's requests matching a search, newest first; `more` when some were left out."""

    requests: list[Request]
    more: bool


async def find(desk: Desk, search: RequestSearch, *, chat: ChatRef) -> Found:
    """The requests now in the chat's own unit that match, at most FIND_LIMIT: never another
    unit's (NotYourRequest for a chat that is no unit's)."""
    unit = desk.rules.unit_for_chat(chat.platform, chat.chat_id)
    if unit is None:
        raise NotYourRequest("")
    async with desk.uow() as tx:
        found = await tx.requests.search(unit.key, search, FIND_LIMIT + 1)
    return Found(found[:FIND_LIMIT], more=len(found) > FIND_LIMIT)


async def post_card_again(desk: Desk, code: str, *, chat: ChatRef) -> Request:
    """Post the request's card anew at the bottom of its unit's chat (found by /find): the card
    as it is now, with its buttons; replies to the old card still reach the request."""
    async with desk.uow() as tx:
        request = await _load(tx, code)
        _authorize(desk, request, chat)
        await tx.outbox.add(Notice(chat.platform, chat.chat_id, NoticeKind.STAFF_CARD, code))
        await tx.commit()
    return request
