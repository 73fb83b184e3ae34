"""SQLModel tables. Times are stored in UTC and always come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Always hand back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class RequestRow(SQLModel, table=True):
    """A citizen's filing."""

    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_chat", "platform", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(10), unique=True, nullable=False))
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    platform: str | None = Field(default=None, max_length=16)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    topic: str | None = Field(default=None, max_length=64)
    county: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=16, index=True)
    national_code: str | None = Field(default=None, max_length=10)
    text: str = Field(sa_column=Column(Text, nullable=False))
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    anonymous: bool = False
    unnamed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    survey: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    unit: str | None = Field(default=None, max_length=64, index=True)
    due_at: datetime | None = _utc(nullable=True)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = _utc(nullable=True)
    close_reason: str | None = Field(default=None, max_length=64)
    claimed_by: str | None = Field(default=None, max_length=120)
    rating: int | None = None
    rated_at: datetime | None = _utc(nullable=True)
    reopen_count: int = 0
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reminded_half_at: datetime | None = _utc(nullable=True)
    reminded_due_at: datetime | None = _utc(nullable=True)
    escalated_at: datetime | None = _utc(nullable=True)
    sla_started_at: datetime | None = _utc(nullable=True)
    draft_id: int | None = Field(default=None, index=True)
    section: int | None = None
    # who a draft comment's author says they comment as (desk.model.COMMENTER_ROLES)
    commenter_role: str | None = Field(default=None, max_length=16)
    # a conversation's idempotency key (desk.model.NewRequest.filing_key)
    filing_key: str | None = Field(
        default=None, sa_column=Column(String(36), unique=True, nullable=True)
    )
    created_at: datetime = _utc(index=True)
    updated_at: datetime = _utc()


class EventRow(SQLModel, table=True):
    """One change of a request: who, when, what."""

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    request_code: str = Field(max_length=10, index=True)
    action: str = Field(max_length=32)
    at: datetime = _utc()
    actor: str = Field(max_length=64)
    status: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    update_key: str | None = Field(default=None, max_length=64)


class LookupFailureRow(SQLModel, table=True):
    """A failed tracking-code look-up, kept a day for throttling (per chat, per code, in all).

    `code` is set only for a failed proof of owning that code (a contact that proves nothing)."""

    __tablename__ = "lookup_failures"
    __table_args__ = (
        Index("ix_lookup_failures_chat", "platform", "chat_id", "at"),
        Index("ix_lookup_failures_code", "code", "at"),
        Index("ix_lookup_failures_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    at: datetime = _utc()
    code: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))


class AlertMarkRow(SQLModel, table=True):
    """When an alert to the admins was last queued, so it is sent once per window, also
    after a restart and with two workers."""

    __tablename__ = "alert_marks"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    at: datetime = _utc()


class InboxRow(SQLModel, table=True):
    """An update as fetched (or received), handled from here: `storage/inbox.py`. Unique per
    bot, so a redelivered update is not stored twice; done rows are purged after a day."""

    __tablename__ = "update_inbox"
    __table_args__ = (
        Index("ux_update_inbox_update", "bot_id", "update_id", unique=True),
        Index("ix_update_inbox_state_lane", "state", "lane"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(
        Integer(), "sqlite"), primary_key=True, autoincrement=True))  # fmt: skip
    bot_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    update_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    lane: str = Field(max_length=80)  # "bot id:chat:chat id": one chat's updates, in order
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = _utc()
    state: str = Field(default="pending", max_length=10)  # pending | done
    handled_at: datetime | None = _utc(nullable=True, index=True)


class InboxLaneRow(SQLModel, table=True):
    """A lane (chat) claimed by a worker until `claimed_until`: only that worker handles the
    lane's pending updates; the row is deleted when the worker lets the lane go."""

    __tablename__ = "inbox_lanes"

    lane: str = Field(sa_column=Column(String(80), primary_key=True))
    claimed_by: str = Field(max_length=100, index=True)
    claimed_until: datetime = _utc(index=True)


class FsmRow(SQLModel, table=True):
    """A conversation's state and draft, so it survives a restart."""

    __tablename__ = "fsm_states"

    key: str = Field(sa_column=Column(String(200), primary_key=True))
    state: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc()


class OutboxRow(SQLModel, table=True):
    """A message to deliver; written with the change it announces, sent by
    bot/workers/delivery/."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "failed", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(max_length=32)
    request_code: str | None = Field(default=None, max_length=10, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    next_attempt_at: datetime = _utc()
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(nullable=True)
    failed: bool = False
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tag: str | None = Field(default=None, max_length=64, index=True)
    # the first failure of the current run of failures: a row failing in a way nothing names
    # for too long is parked (failed, with its error) so that its chat's later rows go on
    failing_since: datetime | None = _utc(nullable=True)
    alerted: bool = False  # a parked row: the admin chats were told


class OutboxChatRow(SQLModel, table=True):
    """A chat whose outbox rows one delivery worker sends until `claimed_until` (renewed at each
    look at what is due): with several workers on one database, each chat's rows go out from
    one of them, once and in order. Deleted when the worker stops."""

    __tablename__ = "outbox_chats"

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    claimed_by: str = Field(max_length=100, index=True)
    claimed_until: datetime = _utc()


class MessageLinkRow(SQLModel, table=True):
    """Which request a message in a chat belongs to, so a reply maps back without parsing text."""

    __tablename__ = "message_links"
    __table_args__ = (Index("ix_message_links_request", "request_code", "platform", "chat_id"),)

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    request_code: str = Field(max_length=10)
    role: str = Field(max_length=16)  # card, attachment, note, digest, template
    created_at: datetime = _utc()


class JobRunRow(SQLModel, table=True):
    """The last completed run of a periodic job."""

    __tablename__ = "job_runs"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    last_key: str = Field(max_length=64)
    at: datetime = _utc()


class BlockedChatRow(SQLModel, table=True):
    """A chat that answered 403: the bot was blocked or removed; nothing more is sent there."""

    __tablename__ = "blocked_chats"

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    since: datetime = _utc()
    reason: str | None = Field(default=None, max_length=200)


class HeldChatRow(SQLModel, table=True):
    """A staff or admin group that refuses the bot for now (removed, no rights, upgraded): its
    rows wait, and go out by themselves once a send to it works again."""

    __tablename__ = "held_chats"

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    since: datetime = _utc()
    reason: str | None = Field(default=None, max_length=300)
    new_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class CitizenRow(SQLModel, table=True):
    """A citizen's chat on one platform, and whether they want news of draft regulations."""

    __tablename__ = "citizens"

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    subscribed: bool = Field(default=False, index=True)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class RememberedRow(SQLModel, table=True):
    """The name and phone a messenger account gave at its last named filing («همان قبلی»)."""

    __tablename__ = "remembered_details"

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    name: str = Field(max_length=120)
    phone: str = Field(max_length=16)
    national_code: str | None = Field(default=None, max_length=10)
    updated_at: datetime = _utc(index=True)


class DraftRow(SQLModel, table=True):
    """A draft regulation and its comment window."""

    __tablename__ = "drafts"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    unit: str = Field(max_length=64)
    status: str = Field(max_length=16, index=True)
    opens_at: datetime = _utc()
    closes_at: datetime = _utc()
    file_name: str | None = Field(default=None, max_length=200)
    announced_at: datetime | None = _utc(nullable=True)
    reminded_at: datetime | None = _utc(nullable=True)
    closed_at: datetime | None = _utc(nullable=True)
    final_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    final_file_name: str | None = Field(default=None, max_length=200)
    finalized_at: datetime | None = _utc(nullable=True)
    created_by: str = Field(default="", max_length=120)
    closed_by: str = Field(default="", max_length=120)  # who closed the window early
    finalized_by: str = Field(default="", max_length=120)
    announce_total: int = 0
    progress_reported: int = 0


class DraftFileRow(SQLModel, table=True):
    """A draft's document (role 'document') or final version (role 'final')."""

    __tablename__ = "draft_files"

    draft_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    role: str = Field(sa_column=Column(String(16), primary_key=True))
    name: str = Field(max_length=200)
    mime_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class UploadedFileRow(SQLModel, table=True):
    """The file id a platform gave a document we uploaded once, to reuse it."""

    __tablename__ = "uploaded_files"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    file_id: str = Field(max_length=300)


class StaffGrantRow(SQLModel, table=True):
    """A member an administrator made staff of a group. A revoke marks the row, never deletes
    it: who granted and who revoked stay on record."""

    __tablename__ = "staff_grants"
    __table_args__ = (Index("ix_staff_grants_member", "platform", "chat_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    name: str = Field(default="", max_length=120)
    granted_by: str = Field(max_length=200)
    granted_at: datetime = _utc()
    revoked_by: str | None = Field(default=None, max_length=200)
    revoked_at: datetime | None = _utc(nullable=True)
