"""The outbox as the delivery worker sees it: plain values read from storage, no SQL.

Storage (`storage/delivery.py`) builds these from its rows; the worker (`bot/workers/delivery/`)
sends and marks them through the `OutboxStore` port (`bot/ports.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from desk.model import NoticeKind, Platform


@dataclass(frozen=True, slots=True)
class Pending:
    """One outbox row to send."""

    id: int
    platform: Platform
    chat_id: int
    kind: NoticeKind
    code: str | None
    data: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Due:
    """One look at the outbox: the oldest unsent row of each chat among the `limit` oldest
    unsent rows, which of those chats have more rows in that window, and whether the window
    was full (more unsent rows exist beyond it)."""

    heads: list[Pending]
    more: frozenset[tuple[Platform, int]]
    full: bool


@dataclass(frozen=True, slots=True)
class HeldChat:
    """A group that refuses the bot for now; its rows wait."""

    platform: Platform
    chat_id: int
    since: datetime
    reason: str
    new_chat_id: int | None


@dataclass(frozen=True, slots=True)
class Parked:
    """A row given up on, kept for an operator: `python -m bot outbox`."""

    id: int
    platform: Platform
    chat_id: int
    kind: NoticeKind
    code: str | None
    attempts: int
    created_at: datetime
    error: str
    blocked: bool  # the chat is a citizen's who blocked the bot
