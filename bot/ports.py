"""The Protocols the front depends on, filled by the composition roots (`bot/app.py`, `bot/cli/`,
`bot/sandbox/run.py`) with storage's implementations; tests fill them with fakes.

`desk/ports.py` holds what the desk's services need; these are what the workers, the middlewares,
the handlers and the screens need: they speak of chats, messages and updates, so they live here.
No module of `bot/` but a composition root imports `storage/` (`lint-imports`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from desk.inbox import Backlogs, Claimed, Incoming
from desk.model import ChatRef, Notice, Platform
from desk.outbox import Due, HeldChat, Pending
from desk.reports import ExportData

if TYPE_CHECKING:
    from aiogram.types import Message

    from bot.runtime.platforms import PlatformBot

Sent = tuple[int | None, str | None]
"""What a send returns: the new message's id (None: none to record) and its link role (the
message's part in the request's thread: "card", "note", "answer", …; None: not linked)."""


class OutboxStore(Protocol):
    """The outbox as the delivery worker reads and marks it (`storage.delivery.SqlDelivery`).
    Every call is its own short transaction, committed before it returns."""

    async def due(self, limit: int = 500) -> Due:
        """The oldest unsent row of each chat among the `limit` oldest unsent rows, of the
        chats this worker holds (claimed now, when no other worker holds them)."""

    async def release(self) -> None:
        """Let this worker's chats go: it stops."""

    async def held(self) -> list[HeldChat]:
        """Every group held now."""

    async def mark_sent(
        self, item: Pending, now: datetime, *, message_id: int | None, link_role: str | None = None
    ) -> None:
        """A confirmed send, and which request the new message belongs to."""

    async def retry_later(
        self, item: Pending, when: datetime, error: str, *, failing_since: datetime | None = None
    ) -> None:
        """Try again at `when`; `failing_since` starts or continues a run of failures."""

    async def park(self, item: Pending, error: str, *, alerted: bool = False) -> None:
        """Give up on a row, kept as failed with its error (the admins told unless `alerted`)."""

    async def done(self, item: Pending, now: datetime, note: str) -> None:
        """Nothing is left to do for a row: counted as sent."""

    async def set_data(self, row_id: int, data: dict[str, Any]) -> None:
        """Keep a row's progress (the files of an album sent so far)."""

    async def supersede_refreshes(self, item: Pending, now: datetime) -> int:
        """Mark the other queued refreshes of the same card sent (this one covers them)."""

    async def hold_chat(
        self,
        platform: Platform,
        chat_id: int,
        reason: str,
        now: datetime,
        *,
        new_chat_id: int | None = None,
        alerts: list[Notice] | None = None,
    ) -> bool:
        """A group refuses the bot: remember it once, queue `alerts`; whether newly held."""

    async def move_chat(self, platform: Platform, old: int, new: int) -> int:
        """A group's queued rows go to its new (supergroup) id; returns how many."""

    async def release_chat(
        self, platform: Platform, chat_id: int, now: datetime, *, alerts: list[Notice] | None = None
    ) -> bool:
        """A held group took a message again: forget the hold, queue `alerts`."""

    async def block_chat(self, platform: Platform, chat_id: int, reason: str, now: datetime) -> int:
        """403: the chat is unreachable, its pending rows fail; returns how many."""

    async def queue(self, notices: list[Notice], now: datetime) -> None:
        """Queue notices in a transaction of their own."""

    async def alert_parked(self, alerts: Callable[[list[Any]], list[Notice]], now: datetime) -> int:
        """Rows parked since the last look: `alerts(rows)` (id, kind, platform, error) makes the
        admin chats' notices, queued as the rows are marked told. Returns how many."""


class MessageLinks(Protocol):
    """Which request a message belongs to, per chat (`message_links`): the worker records
    them, handlers read them (`deps.links`); the one message a handler sends into a thread
    itself (a ready answer shown for a request, bot/handlers/staff.py) it records too."""

    async def link(
        self, platform: Platform, chat_id: int, message_id: int, code: str, role: str,
        now: datetime,
    ) -> None:  # fmt: skip
        """Remember that a message belongs to a request's thread."""

    async def linked(
        self, platform: Platform, chat_id: int, message_id: int
    ) -> tuple[str, str] | None:
        """(request code, role) of a message in a thread, or None."""

    async def card(self, platform: Platform, chat_id: int, code: str) -> int | None:
        """The message id of the newest card of a request in a chat, or None."""


class NoLinks:
    """The `MessageLinks` of a front wired without a store: it knows no message."""

    async def link(
        self, platform: Platform, chat_id: int, message_id: int, code: str, role: str,
        now: datetime,
    ) -> None:  # fmt: skip
        """Forget it."""

    async def linked(
        self, platform: Platform, chat_id: int, message_id: int
    ) -> tuple[str, str] | None:
        """None: no message is known."""
        return None

    async def card(self, platform: Platform, chat_id: int, code: str) -> int | None:
        """None: no card is known."""
        return None


class UploadedFiles(Protocol):
    """The file id each platform gave a file the bot uploaded once (`uploaded_files`)."""

    async def uploaded(self, key: str, platform: Platform) -> str | None:
        """The platform's file id for `key`, or None."""

    async def remember_upload(self, key: str, platform: Platform, file_id: str) -> None:
        """Keep a platform's file id for `key`."""


class DraftFiles(Protocol):
    """A draft's stored files as one bot sends them: its platform's file id once uploaded, else
    the bytes (`deps.delivery`; `bot.workers.delivery.StoredDraftFiles`)."""

    async def document(self, bot: PlatformBot, draft_id: int, role: str) -> Any:
        """The file for this bot ('document' or 'final'): a file id, an upload, or None."""

    async def remember(
        self, bot: PlatformBot, draft_id: int, role: str, given: Any, sent: Message
    ) -> None:
        """After a first upload, keep the platform's file id for everyone after."""


class Sender(Protocol):
    """Sends one outbox row (`bot.workers.delivery.NoticeSender`); raises what the platform
    answered (classified by `bot/runtime/boundary.py`) or `Permanent` / `SourceFailed`."""

    async def __call__(self, item: Pending, /) -> Sent:
        """Send; return the message id and link role to record with the row."""


class Inbox(Protocol):
    """The update inbox (`storage.inbox.SqlInbox`): what polling (or a webhook) received, and
    which chat lanes this worker holds. Every call is its own short transaction."""

    async def store(self, bot_id: int, updates: Sequence[Incoming], at: datetime) -> set[int]:
        """Store a batch in one INSERT (ids already stored are ignored); the ids new now."""

    async def store_seeing(
        self, bot_id: int, updates: Sequence[Incoming], at: datetime, *, worker: str = ""
    ) -> tuple[set[int], dict[str, set[int]]]:
        """`store`, and per lane of the batch the other update ids still pending there; the
        other workers than `worker` holding one of its lanes are woken (`watch`)."""

    async def claim(
        self,
        worker: str,
        bot_ids: Collection[int],
        now: datetime,
        until: datetime,
        *,
        lanes: int,
        let_go: Collection[str] = (),
        renew: bool = False,
        expire: bool = True,
        taken: Collection[tuple[int, int]] = (),
    ) -> list[Claimed]:
        """Let `let_go` go, renew this worker's leases, claim up to `lanes` free lanes; the
        pending updates of every lane held, but those `taken`, oldest first (no payload)."""

    async def payloads(self, ids: Collection[int]) -> dict[int, dict[str, Any]]:
        """The stored JSON of these inbox rows."""

    async def finish(self, bot_id: int, update_ids: Collection[int], at: datetime) -> None:
        """Mark updates done outside a handler's transaction."""

    async def watch(self, worker: str, wake: Callable[[], None]) -> None:
        """Call `wake` whenever another worker stores an update in a lane `worker` holds,
        until cancelled; returns at once where one worker holds every lane."""

    async def release(self, worker: str) -> int:
        """Let every lane of this worker go."""

    async def purge_before(self, before: datetime) -> int:
        """Delete updates handled before `before`; returns how many."""


class HealthQueries(Protocol):
    """What `/healthz` and `/metrics` read (`storage.health.SqlHealth`)."""

    async def backlogs(self, now: datetime) -> Backlogs:
        """The inbox's and outbox's pending rows and oldest ages, the parked rows; raises
        when the database does not answer."""


class UpdateScope(Protocol):
    """The FSM storage scoped to one update (`storage.fsm.UpdateScopedStorage`): the handler's
    FSM changes are written with the update's done mark in the inbox, in one transaction."""

    def update(
        self, bot_id: int, update_id: int, at: datetime
    ) -> AbstractAsyncContextManager[None]:
        """Buffer FSM writes inside; on a normal exit write them and mark the update done."""


class ExportQueries(Protocol):
    """What an export of a period reads (`storage.exports.SqlExports`)."""

    async def period(self, start: datetime, end: datetime) -> ExportData:
        """Requests and survey answers filed in [start, end), and the events in it."""


class JobLocks(Protocol):
    """One run of a scheduled job at a time across the workers on one database
    (`storage.locks.SqlJobLocks`: a PostgreSQL advisory lock per job)."""

    def hold(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Inside: True while this worker runs the job; False when another one does."""


class SharedRate(Protocol):
    """A platform's send rate shared by every worker (`storage.rate.RedisRate`); one worker
    alone needs none (`NoSharedRate`)."""

    async def slot(self, platform: Platform, per_second: float) -> float:
        """Reserve the platform's next send slot; the seconds to wait before sending."""

    async def close(self) -> None:
        """Release the connection."""


class NoSharedRate:
    """One worker: its own pacing is the whole rate."""

    async def slot(self, platform: Platform, per_second: float) -> float:
        """Nothing to wait for beyond this worker's own pacing."""
        return 0.0

    async def close(self) -> None:
        """Nothing to release."""


class SharedLimits(Protocol):
    """What one chat or person may make the bot do, counted for every worker together
    (`storage.limits.RedisLimits`); one worker alone counts in memory
    (`bot.runtime.limits`)."""

    async def flood(
        self, platform: Platform, chat_id: int, limit: int, window: float
    ) -> tuple[bool, bool]:
        """Count a message of a citizen's chat: whether to handle it (at most `limit` in any
        `window` seconds) and, when not, whether to tell them (the first time only)."""

    async def due(self, name: str, chat: ChatRef, user_id: int, gap: float) -> bool:
        """Whether `name` may happen now for this person in this group: at most once in `gap`
        seconds (remembered when it may)."""

    async def close(self) -> None:
        """Release the connection."""
