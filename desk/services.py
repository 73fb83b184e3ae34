"""Use cases of the service desk: plain async functions over the ports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from desk import tracking
from desk.model import (
    Action,
    Attachment,
    AttachmentKind,
    ChatRef,
    Contact,
    Event,
    Kind,
    NewRequest,
    Notice,
    NoticeKind,
    Platform,
    Request,
    Status,
    transition,
)
from desk.model import DeskError as DeskError  # noqa: PLC0414 - re-exported: its home until now
from desk.ports import Clock, Remembered, UnitOfWork, UnitOfWorkFactory
from desk.routing import RoutingRules, admin_chats

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

LOOKUP_FAILURES_PER_HOUR = 10  # failed look-ups one chat may make in LOOKUP_WINDOW
LOOKUP_WINDOW = timedelta(hours=1)
# A code whose ownership was claimed wrongly this often within PROOF_WINDOW (from any chats)
# shows its content only in the chat that filed it until the window has passed: a guesser
# with many accounts gets a few tries per code, not ten per account.
PROOF_FAILURES_PER_CODE = 3
PROOF_WINDOW = timedelta(days=1)
# Failed look-ups of every chat together, above the operator's FAILED_LOOKUPS_ALERT in this
# window, are told to the admin chats once per window (the mark is stored).
LOOKUP_ALERT_WINDOW = timedelta(hours=1)
LOOKUP_ALERT = "failed_lookups"
MY_REQUESTS_LIMIT = 20
_CODE_ATTEMPTS = 20


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
    """A request found by code, and whether the asking chat may see its content.

    `proof_failed`: a contact was shared and proves nothing (counted as a failed look-up).
    `locked`: too many failed proofs of this code lately; only the filing chat sees more
    than the status, whatever is shared."""

    request: Request
    full: bool
    proof_failed: bool = False
    locked: bool = False


@dataclass(frozen=True, slots=True)
class Proof:
    """A contact shared to prove owning a request.

    `phone` is its number normalised ("" when unreadable); `own` is whether the contact is the
    sender's own account (its `user_id` equals the sender's id). A phone-book card (no user_id)
    or another person's card is not own and proves nothing, whatever number it carries."""

    phone: str
    own: bool


@dataclass(frozen=True, slots=True)
class LookupWatch:
    """When the admins hear of a wave of failed look-ups: more than `alert_over` within
    LOOKUP_ALERT_WINDOW from all chats together (0: never), told in every chat of `admins`."""

    alert_over: int = 0
    admins: Mapping[Platform, frozenset[int]] = field(default_factory=dict)


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
        # filed and routed at once: both steps are in the history
        routed = transition(Status.FILED, Action.ROUTE)
        days = rules.sla.days.get(new.kind)
        due_at = rules.sla.calendar.due(now, days) if days and kind_needs_answer(new.kind) else None
        request = Request(
            code=code,
            kind=new.kind,
            status=routed,
            text=new.text,
            created_at=now,
            updated_at=now,
            platform=new.chat.platform,
            due_at=due_at,
            chat=None if new.anonymous else new.chat,
            user_id=None if new.anonymous else new.user_id,
            topic=new.topic,
            county=new.county,
            contact=Contact() if new.unnamed else new.contact,  # unnamed: never who
            attachments=list(new.attachments),
            anonymous=new.anonymous,
            unnamed=new.unnamed and not new.anonymous,
            survey=new.survey,
            unit=unit.key,
            draft_id=new.draft_id,
            section=new.section,
            commenter_role=new.commenter_role,
            filing_key=new.filing_key,
        )
        request = await tx.requests.add(request)
        actor = "anonymous" if new.anonymous else request.citizen_label(new.chat)
        await tx.requests.add_event(Event(code, "filed", now, actor, status=Status.FILED))
        await tx.requests.add_event(
            Event(code, Action.ROUTE.value, now, "routing", status=routed, note=unit.key)
        )
        await post_card(tx, rules, request)
        await _remember(tx, new, now)
        await tx.commit()
    return request


async def _remember(tx: UnitOfWork, new: NewRequest, now: datetime) -> None:
    """A named filing with a phone, from a known account: its details are offered next time.

    Keyed by the account (platform + user id), never by a chat or a name, so only the account
    that typed (or shared) them is ever offered them back; the phone stays the one given at
    filing, which a tracking proof from another chat must still match with an own contact."""
    contact = new.contact
    if not new.remember or new.anonymous or new.unnamed or new.user_id is None:
        return
    if not contact.name or not contact.phone:
        return
    details = Remembered(contact.name, contact.phone, contact.national_code)
    await tx.remembered.remember(new.chat.platform, new.user_id, details, now)


async def remembered_details(
    platform: Platform, user_id: int | None, *, uow: UnitOfWorkFactory
) -> Remembered | None:
    """The name and phone this account gave at its last filing (None: none, or no account)."""
    if user_id is None:
        return None
    async with uow() as tx:
        return await tx.remembered.get(platform, user_id)


async def forget_details(
    platform: Platform, user_id: int | None, *, uow: UnitOfWorkFactory
) -> bool:
    """`/forget`: erase what this account's filings left remembered; True when there was any."""
    if user_id is None:
        return False
    async with uow() as tx:
        erased = await tx.remembered.forget(platform, user_id)
        await tx.commit()
    return erased


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


async def lookup(
    text: str,
    *,
    chat: ChatRef,
    uow: UnitOfWorkFactory,
    clock: Clock,
    proof: Proof | None = None,
    watch: LookupWatch = LookupWatch(),
) -> LookupResult:
    """Find a request by a typed code; content only for its owner or a valid proof.

    Every failed look-up is remembered: a typo, an unknown code, and a proof that proves
    nothing (another number, a contact that is not the sender's own). More than
    LOOKUP_FAILURES_PER_HOUR in an hour from one chat and the chat is refused until the oldest
    failure leaves the window. PROOF_FAILURES_PER_CODE failed proofs of one code within
    PROOF_WINDOW and even a valid proof shows the status only (`locked`).
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
                if request.is_owned_by(chat):
                    return LookupResult(request, True)
                if proof is not None and not _proves(proof, request):
                    await _record_failure(tx, chat, now, watch, code=code)
                    await tx.commit()
                    return LookupResult(request, False, proof_failed=True)
                recent = await tx.lookups.proof_failures_since(code, now - PROOF_WINDOW)
                locked = len(recent) >= PROOF_FAILURES_PER_CODE
                return LookupResult(request, proof is not None and not locked, locked=locked)
            error = NotFound(code)
        await _record_failure(tx, chat, now, watch)
        await tx.commit()
    raise error


def _proves(proof: Proof, request: Request) -> bool:
    """The sender's own account shared the number given at filing."""
    phone = request.contact.phone
    return proof.own and phone is not None and proof.phone == phone


async def _record_failure(
    tx: UnitOfWork, chat: ChatRef, now: datetime, watch: LookupWatch, *, code: str | None = None
) -> None:
    """Remember a failed look-up; the first one over the alert threshold in an alert window
    queues one alert per admin chat, in the same transaction (so it is sent once)."""
    await tx.lookups.record_failure(chat, now, code)
    if watch.alert_over <= 0 or not any(watch.admins.values()):
        return
    count = await tx.lookups.count_since(now - LOOKUP_ALERT_WINDOW)
    if count <= watch.alert_over:
        return
    if not await tx.lookups.claim_alert(LOOKUP_ALERT, now, LOOKUP_ALERT_WINDOW):
        return
    data: dict[str, object] = {"template": "lookups", "count": count}
    await tx.outbox.add_many(
        Notice(chat.platform, chat.chat_id, NoticeKind.ADMIN_ALERT, None, dict(data))
        for chat in admin_chats(watch.admins)
    )


async def purge_lookup_failures(*, uow: UnitOfWorkFactory, clock: Clock) -> int:
    """Forget failed look-ups no window looks at any more (the longest is PROOF_WINDOW)."""
    async with uow() as tx:
        purged = await tx.lookups.purge_before(clock.now() - PROOF_WINDOW)
        await tx.commit()
    return purged


async def my_requests(chat: ChatRef, *, uow: UnitOfWorkFactory) -> list[Request]:
    """The requests this chat filed, newest first."""
    async with uow() as tx:
        return await tx.requests.by_chat(chat, MY_REQUESTS_LIMIT)


def kind_needs_answer(kind: Kind) -> bool:
    """Survey answers and comments on drafts are read, not answered one by one."""
    return kind not in (Kind.SURVEY, Kind.COMMENT)
