"""The update inbox as the front sees it: plain values stored and read back, no SQL.

Polling (and later a webhook) stores what it receives as `Incoming`; the consumer claims a
chat's pending updates as `Claimed` rows and handles them in order (`bot/runtime/polling.py`)
through the `Inbox` port (`bot/ports.py`), filled by `storage/inbox.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update to store: its id, its chat lane (`"bot:chat:id"`) and its JSON."""

    update_id: int
    lane: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A pending update of a lane this worker holds; `payload` is None when not read (the
    worker still has the update it stored)."""

    id: int
    bot_id: int
    update_id: int
    lane: str
    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits: rows pending and the age of the oldest (None when nothing waits)."""

    pending: int
    oldest_seconds: float | None


@dataclass(frozen=True, slots=True)
class Backlogs:
    """The inbox's and the outbox's backlogs, and the outbox rows parked (`/healthz`)."""

    inbox: Backlog
    outbox: Backlog
    parked: int
