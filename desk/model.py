"""The service desk's domain: requests, their kinds and statuses, citizens and attachments."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final


class Platform(StrEnum):
    """The messengers the front office serves; every id is stored with its platform."""

    TELEGRAM = "telegram"
    BALE = "bale"


class Kind(StrEnum):
    """The citizen channels of the e-participation strategy."""

    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    HEAD = "head"
    SURVEY = "survey"
    COMMENT = "comment"  # a comment on a draft regulation


# who a citizen comments on a draft as (optional, asked once per comment); the strategy asks
# especially for the views of experts, specialists and officials of other agencies
COMMENTER_ROLES = ("farmer", "expert", "official", "other")


class Status(StrEnum):
    """Where a request stands; the citizen sees these in Persian."""

    FILED = "filed"
    ROUTED = "routed"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"


OPEN_STATUSES = frozenset(
    {Status.FILED, Status.ROUTED, Status.IN_PROGRESS, Status.WAITING, Status.REOPENED}
)


class DeskError(Exception):
    """A request the desk refuses; handlers turn each subclass into a polite message."""


class WrongStatus(DeskError):
    """The request's status does not allow this action now."""

    def __init__(self, status: Status) -> None:
        super().__init__(status.value)
        self.status = status


class Action(StrEnum):
    """What may happen to a request after it is filed; the value names its event."""

    ROUTE = "routed"  # the desk, at filing: the request reaches its unit
    CLAIM = "claimed"  # staff: «بررسی می‌کنم»
    TRANSFER = "transferred"  # staff: to another unit
    ASK = "asked"  # staff: a question to the citizen
    ANSWER = "answered"  # staff: a reply to the card
    CLOSE = "closed"  # staff: closed without an answer
    CLARIFY = "clarified"  # the citizen: more words or files for the unit
    RATE = "rated"  # the citizen: 1-5 under the answer
    REOPEN = "reopened"  # the citizen, unsatisfied: back to the unit


def _to(target: Status, *sources: Status) -> dict[Status, Status | None]:
    return dict.fromkeys(sources, target)


def _stay(*sources: Status) -> dict[Status, Status | None]:
    return dict.fromkeys(sources)


_OPEN = sorted(OPEN_STATUSES, key=list(Status).index)

# Every status rule of a request, in one place. For each action: the statuses it is allowed
# from, each with the status it leads to (None: the status stays as it is, and the event
# records none). An action from any status not listed raises WrongStatus.
TRANSITIONS: Final[Mapping[Action, Mapping[Status, Status | None]]] = {
    Action.ROUTE: _to(Status.ROUTED, Status.FILED),
    Action.CLAIM: _to(Status.IN_PROGRESS, Status.FILED, Status.ROUTED, Status.REOPENED),
    Action.TRANSFER: _to(Status.ROUTED, *_OPEN),
    Action.ASK: _to(Status.WAITING, *_OPEN),
    # an answered request may be answered again (a correction); only a closed one is done
    Action.ANSWER: _to(Status.ANSWERED, *(s for s in Status if s is not Status.CLOSED)),
    Action.CLOSE: _to(Status.CLOSED, *_OPEN),
    # a citizen's words are taken while the request is open; they answer a pending question
    Action.CLARIFY: {**_stay(*_OPEN), Status.WAITING: Status.IN_PROGRESS},
    Action.RATE: _stay(Status.ANSWERED),
    # only an answered request; the window and the count are reopen_refusal's (desk.staff)
    Action.REOPEN: _to(Status.REOPENED, Status.ANSWERED),
}


def allows(status: Status, action: Action) -> bool:
    """Whether `action` may happen to a request in `status`."""
    return status in TRANSITIONS[action]


def transition(status: Status, action: Action) -> Status:
    """The status a request in `status` is in after `action`; WrongStatus(status) when the
    action is not allowed from there."""
    rule = TRANSITIONS[action]
    if status not in rule:
        raise WrongStatus(status)
    return rule[status] or status


class CloseReason(StrEnum):
    """Why staff closed a request without an answer."""

    DUPLICATE = "duplicate"
    OUT_OF_SCOPE = "out_of_scope"
    SPAM = "spam"


class NoticeKind(StrEnum):
    """What the delivery worker must send; it renders the text when it sends."""

    STAFF_CARD = "staff_card"  # post the request's card in a staff chat
    CARD_REFRESH = "card_refresh"  # edit the card so it shows the current status
    STAFF_NOTE = "staff_note"  # a text in the request's thread in a staff chat
    STAFF_COPY = "staff_copy"  # a citizen's attachment or message, copied into the thread
    CITIZEN_TEXT = "citizen_text"  # a text to the citizen (status, question, answer, ...)
    CITIZEN_COPY = "citizen_copy"  # a staff member's attachment, copied to the citizen
    BROADCAST = "broadcast"  # a text to any chat (digests, admin reports)
    DRAFT_ANNOUNCE = "draft_announce"  # a draft opens: title, summary, deadline, buttons
    DRAFT_REMINDER = "draft_reminder"  # two days left, to subscribers who have not commented
    DRAFT_DIGEST = "draft_digest"  # to the owning unit at closing: counts and an XLSX file
    DRAFT_OUTCOME = "draft_outcome"  # the final version, to everyone who commented
    ADMIN_ALERT = "admin_alert"  # to the admin chats: a group refuses the bot, rows parked


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to send later, written in the same transaction as the change it announces."""

    platform: Platform
    chat_id: int
    kind: NoticeKind
    code: str | None = None
    data: dict[str, object] = field(default_factory=dict)
    tag: str | None = None  # groups rows of one broadcast, to count its progress


@dataclass(frozen=True, slots=True)
class Actor:
    """A staff member (or a citizen) acting on a request, for the audit trail."""

    platform: Platform
    user_id: int
    name: str = ""

    @property
    def label(self) -> str:
        """'telegram:123 (name)' as stored in events."""
        suffix = f" ({self.name})" if self.name else ""
        return f"{self.platform.value}:{self.user_id}{suffix}"


class AttachmentKind(StrEnum):
    """What a citizen may attach to a filing."""

    PHOTO = "photo"
    VOICE = "voice"
    DOCUMENT = "document"
    LOCATION = "location"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on one platform: the address every message goes to."""

    platform: Platform
    chat_id: int


@dataclass(slots=True)
class Attachment:
    """A file or a location a citizen sent; file ids are only valid for the same platform's bot."""

    kind: AttachmentKind
    file_id: str | None = None
    file_unique_id: str | None = None
    file_size: int | None = None
    file_name: str | None = None
    mime_type: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    message_id: int | None = None
    # DESCRIPTION: this voice note is the request's description (its text only says so)
    role: str | None = None

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON storage."""
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Attachment:
        """Inverse of `to_dict`."""
        values = dict(data)
        values["kind"] = AttachmentKind(str(values["kind"]))
        return cls(**values)  # type: ignore[arg-type]


DESCRIPTION_ROLE: Final = "description"  # an Attachment.role: the voice that is the description


def described_by_voice(attachments: list[Attachment]) -> bool:
    """Whether a voice note among `attachments` is the description itself."""
    return any(a.role == DESCRIPTION_ROLE and a.kind is AttachmentKind.VOICE for a in attachments)


UNNAMED_ACTOR: Final = "unnamed"  # the citizen of an unnamed request in the audit trail


@dataclass(slots=True)
class Contact:
    """Who filed: name and phone may be absent (anonymous suggestion, survey)."""

    name: str | None = None
    phone: str | None = None
    national_code: str | None = None


@dataclass(slots=True)
class NewRequest:
    """What a finished conversation hands to the desk."""

    kind: Kind
    chat: ChatRef
    user_id: int | None
    text: str
    topic: str | None = None
    county: str | None = None
    contact: Contact = field(default_factory=Contact)
    attachments: list[Attachment] = field(default_factory=list)
    anonymous: bool = False
    survey: dict[str, object] | None = None
    draft_id: int | None = None
    section: int | None = None  # 0 = the whole draft, 1.. = a section
    commenter_role: str | None = None  # a draft comment's «به‌عنوان» (COMMENTER_ROLES), optional
    unit: str | None = None  # set when the route is known (a comment goes to the draft's unit)
    # the conversation's idempotency key: a redelivered confirm files the same request again
    # only once (a crash before the update's done mark hands it out again after the restart)
    filing_key: str | None = None
    # False after /forget in the middle of this draft: its name and phone are not remembered
    remember: bool = True
    # «بدون نام، ولی پاسخ را همین‌جا بگیرم»: no name, no phone, and staff never see who filed,
    # but the chat is kept so an answer (or a question) reaches the citizen there
    unnamed: bool = False


@dataclass(slots=True)
class Request:
    """A filing with its tracking code, as stored."""

    code: str
    kind: Kind
    status: Status
    text: str
    created_at: datetime
    updated_at: datetime
    chat: ChatRef | None = None
    user_id: int | None = None
    topic: str | None = None
    county: str | None = None
    contact: Contact = field(default_factory=Contact)
    attachments: list[Attachment] = field(default_factory=list)
    anonymous: bool = False
    # filed without a name but answerable: the chat is kept for the answer, and nothing that
    # shows staff who filed (name, phone, chat or account id) is shown in a staff chat or export
    unnamed: bool = False
    survey: dict[str, object] | None = None
    unit: str | None = None
    due_at: datetime | None = None
    answer: str | None = None
    answered_at: datetime | None = None
    close_reason: str | None = None
    platform: Platform | None = None
    claimed_by: str | None = None
    rating: int | None = None
    rated_at: datetime | None = None
    reopen_count: int = 0
    reminded_half_at: datetime | None = None
    reminded_due_at: datetime | None = None
    escalated_at: datetime | None = None
    sla_started_at: datetime | None = None  # reopening starts the clock again
    filing_key: str | None = None
    draft_id: int | None = None
    section: int | None = None
    commenter_role: str | None = None
    id: int | None = None
    # bumped by every write: a change made from a stale copy (two staff at the same moment,
    # one on Telegram, one on Bale) is refused instead of overwriting the other's
    version: int = 0

    @property
    def is_open(self) -> bool:
        """Still waiting for the unit."""
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """Open past its deadline."""
        return self.is_open and self.due_at is not None and now > self.due_at

    def is_owned_by(self, chat: ChatRef) -> bool:
        """True when `chat` filed this request."""
        return self.chat is not None and self.chat == chat

    def citizen_label(self, chat: ChatRef) -> str:
        """The citizen in the audit trail: 'telegram:123', or 'unnamed' for an unnamed request
        (the trail is exported to staff and the head)."""
        return UNNAMED_ACTOR if self.unnamed else f"{chat.platform.value}:{chat.chat_id}"


@dataclass(frozen=True, slots=True)
class Event:
    """One change of a request: the audit trail and the status history in one."""

    request_code: str
    action: str
    at: datetime
    actor: str
    status: Status | None = None
    note: str | None = None
    # the update that made the change (`bot id:update id`): the same update handled again
    # after a crash finds it and changes nothing twice
    update_key: str | None = None


class DraftStatus(StrEnum):
    """Where a draft regulation is in its public-comment life."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    FINAL = "final"
    WITHDRAWN = "withdrawn"  # the organisation took it back: nobody reads or comments on it


@dataclass(slots=True)
class DraftFile:
    """A document kept in the database, so it can be sent on any platform."""

    name: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(slots=True)
class Draft:
    """A draft regulation (plan, bylaw, instruction) open for public comment."""

    title: str
    summary: str
    unit: str
    opens_at: datetime
    closes_at: datetime
    status: DraftStatus = DraftStatus.SCHEDULED
    file_name: str | None = None
    announced_at: datetime | None = None
    reminded_at: datetime | None = None
    closed_at: datetime | None = None
    final_note: str | None = None  # what changed after the comments, or why it was withdrawn
    final_file_name: str | None = None
    finalized_at: datetime | None = None
    created_by: str = ""
    closed_by: str = ""  # Actor.label of whoever closed the window early
    finalized_by: str = ""
    announce_total: int = 0
    progress_reported: int = 0  # percent of the announcement last reported to admins
    id: int | None = None

    def sections(self) -> list[str]:
        """The summary split into parts a citizen can comment on one by one."""
        return split_sections(self.summary)

    def is_open_at(self, now: datetime) -> bool:
        """Whether comments are accepted at `now`."""
        return self.status is DraftStatus.OPEN and self.opens_at <= now < self.closes_at

    def is_public_at(self, now: datetime) -> bool:
        """Whether citizens may see it at `now`: its window has opened (a scheduled draft is
        still the organisation's own, whatever a forged button asks), it was opened (one closed
        while still scheduled never was) and it was not withdrawn."""
        if self.status in (DraftStatus.SCHEDULED, DraftStatus.WITHDRAWN):
            return False
        return self.announced_at is not None and self.opens_at <= now


SECTION_SOFT_LIMIT = 900


def split_sections(summary: str) -> list[str]:
    """Paragraphs (blank-line separated) grouped into sections of about 900 characters;
    a paragraph that starts a numbered heading («۱.» «ماده ۲») always starts a section."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", summary.strip()) if p.strip()]
    heading = re.compile(r"^(?:[0-9۰-۹]+[.)\-]|ماده\s|بخش\s|فصل\s)")
    sections: list[str] = []
    for paragraph in paragraphs:
        starts = bool(heading.match(paragraph))
        if sections and not starts and len(sections[-1]) + len(paragraph) < SECTION_SOFT_LIMIT:
            sections[-1] = f"{sections[-1]}\n\n{paragraph}"
        else:
            sections.append(paragraph)
    return sections or [summary.strip()]
