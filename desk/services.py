"""Use cases of the service desk: plain async functions over the ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from desk import tracking
from desk.model import (
    Attachment,
    AttachmentKind,
    ChatRef,
    Event,
    Kind,
    NewRequest,
    Notice,
    NoticeKind,
    Platform,
    Request,
    Status,
)
from desk.ports import Clock, UnitOfWork, UnitOfWorkFactory
from desk.routing import RoutingRules

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

LOOKUP_FAILURES_PER_HOUR = 10
LOOKUP_WINDOW = timedelta(hours=1)
MY_REQUESTS_LIMIT = 20
_CODE_ATTEMPTS = 20


class DeskError(Exception):
    """A request the desk refuses; handlers turn each subclass into a polite message."""


class ChangedMeanwhile(DeskError):
    """The request was changed by someone else since it was read (two staff at the same
    moment): nothing was written; `status` is what it is now. Raised by the repository's
    `update`, which writes only over the version it read."""

    def __init__(self, code: str, status: str) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class NotFound(DeskError):
    """No request has this tracking code."""


class Throttled(DeskError):
    """Too many failed look-ups from this chat; try again after `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


class QuotaExceeded(DeskError):
    """This citizen sent as much as `limit` allows in `window`; they may again at `retry_at`."""

    def __init__(self, retry_at: datetime, *, limit: int, window: timedelta) -> None:
        super().__init__(retry_at.isoformat())
        self.retry_at = retry_at
        self.limit = limit
        self.window = window


@dataclass(frozen=True, slots=True)
class Quotas:
    """How much one citizen account may send before the desk asks them to wait (0: no limit).

    They keep two accounts from burying a unit's staff chat; the defaults here are off, the
    operator's numbers come from Settings."""

    filings_per_hour: int = 0
    filings_per_day: int = 0
    clarifications_per_hour: int = 0


def quota_retry_at(
    times: list[datetime], limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """When one more may be sent, if `limit` of `times` already fall in the sliding `window`
    ending at `now` (a moment exactly `window` old has left it); None when one may go now."""
    if limit <= 0:
        return None
    recent = sorted(t for t in times if t > now - window)
    if len(recent) < limit:
        return None
    return recent[-limit] + window


async def check_filing_quota(
    tx: UnitOfWork, quotas: Quotas, platform: Platform, user_id: int | None, now: datetime
) -> None:
    """Raise QuotaExceeded when this account filed its hourly or daily share already."""
    limits = [(quotas.filings_per_hour, HOUR), (quotas.filings_per_day, DAY)]
    if user_id is None or all(limit <= 0 for limit, _ in limits):
        return
    times = await tx.requests.filed_by(platform, user_id, now - DAY)
    refusals = [
        QuotaExceeded(at, limit=limit, window=window)
        for limit, window in limits
        if (at := quota_retry_at(times, limit, window, now)) is not None
    ]
    if refusals:
        raise max(refusals, key=lambda r: r.retry_at)


async def filing_quota(
    platform: Platform,
    user_id: int | None,
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    quotas: Quotas,
) -> None:
    """The same check before a conversation starts, so nobody types a filing only to be
    refused at the end; `file_request` checks again and has the last word."""
    async with uow() as tx:
        await check_filing_quota(tx, quotas, platform, user_id, clock.now())


class MalformedCode(DeskError):
    """The text is not a tracking code."""


class BadCheckDigit(DeskError):
    """The code's check digit is wrong: a typo."""


@dataclass(frozen=True, slots=True)
class LookupResult:
    """A request found by code, and whether the asking chat may see its content."""

    request: Request
    full: bool


async def file_request(
    new: NewRequest,
    *,
    uow: UnitOfWorkFactory,
    rules: RoutingRules,
    clock: Clock,
    quotas: Quotas = Quotas(),
    new_code: Callable[[], str] = tracking.generate,
) -> Request:
    """Store a filing under a fresh tracking code, routed to its unit, with a 'filed' event.

    Every kind counts against the account's filing quota (each posts a card in a staff chat);
    QuotaExceeded leaves nothing stored."""
    now = clock.now()
    unit = rules.units[new.unit] if new.unit else rules.match(new.kind, new.topic, new.county)
    async with uow() as tx:
        if new.filing_key and (done := await tx.requests.by_filing_key(new.filing_key)):
            return done  # the same confirm again (a redelivered update): filed once
        await check_filing_quota(tx, quotas, new.chat.platform, new.user_id, now)
        for _ in range(_CODE_ATTEMPTS):
            code = new_code()
            if not await tx.requests.code_exists(code):
                break
        else:  # pragma: no cover - 10^9 codes; reaching this means the generator is broken
            raise RuntimeError("could not find a free tracking code")
        days = rules.sla.days.get(new.kind)
        due_at = rules.sla.calendar.due(now, days) if days and kind_needs_answer(new.kind) else None
        request = Request(
            code=code,
            kind=new.kind,
            status=Status.ROUTED,
            text=new.text,
            created_at=now,
            updated_at=now,
            platform=new.chat.platform,
            due_at=due_at,
            chat=None if new.anonymous else new.chat,
            user_id=None if new.anonymous else new.user_id,
            topic=new.topic,
            county=new.county,
            contact=new.contact,
            attachments=list(new.attachments),
            anonymous=new.anonymous,
            survey=new.survey,
            unit=unit.key,
            draft_id=new.draft_id,
            section=new.section,
            filing_key=new.filing_key,
        )
        request = await tx.requests.add(request)
        actor = "anonymous" if new.anonymous else _actor(new.chat)
        await tx.requests.add_event(Event(code, "filed", now, actor, status=Status.FILED))
        await tx.requests.add_event(
            Event(code, "routed", now, "routing", status=Status.ROUTED, note=unit.key)
        )
        await post_card(tx, rules, request)
        await tx.commit()
    return request


async def post_card(tx: UnitOfWork, rules: RoutingRules, request: Request, **data: object) -> None:
    """Queue the request's card in its unit's staff chat, its attachments copied below it."""
    assert request.unit is not None
    chat = rules.staff_chat(request.unit, request.platform)
    if chat is None:  # pragma: no cover - check_chats refuses such rules at start
        return
    await tx.outbox.add(
        Notice(chat.platform, chat.chat_id, NoticeKind.STAFF_CARD, request.code, data)
    )
    await queue_files(tx, chat, request.code, request.attachments, source=request.platform)


# Attachments that may travel together as one album (Telegram's sendMediaGroup: photos and
# videos mix; documents and audio only with their own kind). Voice notes and locations go alone.
_ALBUMS = {
    AttachmentKind.PHOTO: "visual",
    AttachmentKind.VIDEO: "visual",
    AttachmentKind.DOCUMENT: "document",
    AttachmentKind.AUDIO: "audio",
}
ALBUM_MAX = 10


def album_groups(files: list[Attachment], *, albums: bool = True) -> list[list[Attachment]]:
    """The attachments in the order sent, those that may share an album put together (at the
    place of the first of them), at most ALBUM_MAX in one; each alone without `albums`."""
    groups: list[list[Attachment]] = []
    open_group: dict[str, list[Attachment]] = {}
    for attachment in files:
        family = _ALBUMS.get(attachment.kind) if albums else None
        group = open_group.get(family) if family else None
        if group is None or len(group) >= ALBUM_MAX:
            group = [attachment]
            groups.append(group)
            if family:
                open_group[family] = group
        else:
            group.append(attachment)
    return groups


async def queue_files(
    tx: UnitOfWork,
    chat: ChatRef,
    code: str,
    files: list[Attachment],
    *,
    source: Platform | None,
    kind: NoticeKind = NoticeKind.STAFF_COPY,
) -> None:
    """Queue attachments for a chat, after whatever was queued before them (the card): one
    row per album (`files`) or per single file (`file`); the worker re-uploads them when
    platforms differ, and sends an album one by one where the platform has no such album."""
    origin = (source or chat.platform).value
    # across platforms each file is downloaded and uploaded again: one row each, so that one
    # file too large for the other platform is set aside alone
    for group in album_groups(files, albums=origin == chat.platform.value):
        data: dict[str, object] = (
            {"file": group[0].to_dict(), "source": origin}
            if len(group) == 1
            else {"files": [a.to_dict() for a in group], "source": origin}
        )
        await tx.outbox.add(Notice(chat.platform, chat.chat_id, kind, code, data))


def _actor(chat: ChatRef) -> str:
    return f"{chat.platform.value}:{chat.chat_id}"


async def lookup(
    text: str,
    *,
    chat: ChatRef,
    uow: UnitOfWorkFactory,
    clock: Clock,
    shared_phone: str | None = None,
) -> LookupResult:
    """Find a request by a typed code; content only for its owner or a matching phone.

    Every failed look-up is remembered; more than LOOKUP_FAILURES_PER_HOUR in an hour
    from one chat and the chat is refused until the oldest failure leaves the window.
    """
    now = clock.now()
    async with uow() as tx:
        failures = await tx.lookups.failures_since(chat, now - LOOKUP_WINDOW)
        if len(failures) >= LOOKUP_FAILURES_PER_HOUR:
            raise Throttled(failures[-LOOKUP_FAILURES_PER_HOUR] + LOOKUP_WINDOW)
        error: DeskError
        try:
            code = tracking.parse(text)
        except tracking.MalformedCode:
            error = MalformedCode(text)
        except tracking.BadCheckDigit:
            error = BadCheckDigit(text)
        else:
            request = await tx.requests.get(code)
            if request is not None:
                full = request.is_owned_by(chat) or (
                    shared_phone is not None
                    and request.contact.phone is not None
                    and request.contact.phone == shared_phone
                )
                return LookupResult(request, full)
            error = NotFound(code)
        await tx.lookups.record_failure(chat, now)
        await tx.commit()
    raise error


async def my_requests(chat: ChatRef, *, uow: UnitOfWorkFactory) -> list[Request]:
    """The requests this chat filed, newest first."""
    async with uow() as tx:
        return await tx.requests.by_chat(chat, MY_REQUESTS_LIMIT)


def kind_needs_answer(kind: Kind) -> bool:
    """Survey answers and comments on drafts are read, not answered one by one."""
    return kind not in (Kind.SURVEY, Kind.COMMENT)
