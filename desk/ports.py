"""The Protocols the desk's services depend on; storage/ implements them on SQL, tests on dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from desk.model import ChatRef, Draft, DraftFile, Event, Notice, Platform, Request


@dataclass(frozen=True, slots=True)
class RequestSearch:
    """What `/find` looks for among one unit's requests; a request matches when any criterion
    given holds. `phone` is a whole mobile number (09xxxxxxxxx); `digits` (four or more) match
    anywhere in a phone or a tracking code; `name`, squeezed (`desk.text.squeeze`: no spaces, no
    ZWNJ, ASCII letters in lower case), anywhere in a name squeezed the same way."""

    code: str | None = None
    phone: str | None = None
    digits: str | None = None
    name: str | None = None


class RequestRepository(Protocol):
    """Requests and their events."""

    async def add(self, request: Request) -> Request:
        """Store a new request; returns it with its id."""

    async def get(self, code: str) -> Request | None:
        """The request with this tracking code, or None."""

    async def code_exists(self, code: str) -> bool:
        """Whether a tracking code is taken."""

    async def by_filing_key(self, key: str) -> Request | None:
        """The request a conversation with this idempotency key filed, or None."""

    async def by_chat(self, chat: ChatRef, limit: int) -> list[Request]:
        """A chat's requests, newest first."""

    async def search(self, unit: str, search: RequestSearch, limit: int) -> list[Request]:
        """At most `limit` of the requests now in `unit` that match `search`, newest first."""

    async def filed_by(self, platform: Platform, user_id: int, since: datetime) -> list[datetime]:
        """When this account filed after `since` (exclusive), oldest first (for quotas).
        Anonymous filings keep no account, so they are not among them."""

    async def update(self, request: Request) -> None:
        """Store the changed fields of a request read in this unit of work."""

    async def open_with_deadline(self) -> list[Request]:
        """Open requests that have an SLA deadline, oldest deadline first."""

    async def add_event(self, event: Event) -> None:
        """Append to a request's audit trail."""

    async def events(self, code: str) -> list[Event]:
        """A request's audit trail, oldest first."""

    async def in_period(self, start: datetime, end: datetime) -> list[Request]:
        """Requests created in [start, end), oldest first (for reports)."""

    async def events_for(self, codes: list[str]) -> dict[str, list[Event]]:
        """The audit trails of these requests, each oldest first (codes without events absent)."""


class LookupLog(Protocol):
    """Failed tracking-code look-ups, for throttling guessers per chat, per code and in all."""

    async def record_failure(self, chat: ChatRef, at: datetime, code: str | None = None) -> None:
        """Remember one failed look-up; `code` when it was a failed proof of owning that code."""

    async def failures_since(self, chat: ChatRef, since: datetime) -> list[datetime]:
        """When this chat failed after `since` (exclusive), oldest first."""

    async def proof_failures_since(self, code: str, since: datetime) -> list[datetime]:
        """When a proof of owning `code` failed after `since` (exclusive), from any chat,
        oldest first."""

    async def count_since(self, since: datetime) -> int:
        """How many look-ups failed after `since` (exclusive), from every chat on every platform."""

    async def claim_alert(self, name: str, at: datetime, quiet: timedelta) -> bool:
        """True when no alert called `name` was claimed in the `quiet` time before `at` (then
        this one is, as of `at`); False otherwise. Two transactions claiming at once: one wins
        (the claim is written with the transaction; an uncommitted claim claims nothing)."""

    async def purge_before(self, before: datetime) -> int:
        """Forget failures older than `before`; returns how many."""


class Outbox(Protocol):
    """Messages to deliver later; rows commit with the change they announce."""

    async def add(self, notice: Notice) -> None:
        """Queue a notice."""

    async def add_many(self, notices: Iterable[Notice]) -> None:
        """Queue many notices at once (a broadcast to every subscriber)."""

    async def progress(self, tag: str) -> tuple[int, int, int]:
        """(sent, failed, total) of the notices queued with this tag."""


class JobLog(Protocol):
    """What periodic jobs last did, so a job run twice does its work once."""

    async def last_run(self, name: str) -> str | None:
        """The key of the last completed run of a job."""

    async def set_last_run(self, name: str, key: str) -> None:
        """Remember the key of a completed run."""


class DraftRepository(Protocol):
    """Draft regulations and their files."""

    async def add(self, draft: Draft, document: DraftFile) -> Draft:
        """Store a new draft with its document; returns it with its id."""

    async def get(self, draft_id: int) -> Draft | None:
        """A draft by id."""

    async def all(self) -> list[Draft]:
        """Every draft, newest first."""

    async def update(self, draft: Draft) -> bool:
        """Write back the fields of a draft changed since this unit of work read it, only if
        its status is still the one read; False (nothing written) when another writer (an
        admin, a scheduled job) changed the status meanwhile. Fields nobody changed here are
        left as they are, so two writers of different fields never undo each other."""

    async def file(self, draft_id: int, role: str) -> DraftFile | None:
        """The 'document' or the 'final' version."""

    async def set_file(self, draft_id: int, role: str, file: DraftFile) -> None:
        """Store a file of a draft."""

    async def comments(self, draft_id: int) -> list[Request]:
        """Comments on a draft, oldest first."""

    async def comment_counts(self) -> dict[int, int]:
        """The number of comments of every draft that has any, by draft id."""


class CitizenDirectory(Protocol):
    """Citizens' chats and their subscription to news of draft regulations."""

    async def seen(self, chat: ChatRef, user_id: int | None, at: datetime) -> bool:
        """Record a chat; True when it is new."""

    async def subscribe(self, chat: ChatRef, on: bool, at: datetime) -> None:
        """Turn the subscription on or off."""

    async def is_subscribed(self, chat: ChatRef) -> bool:
        """Whether this chat wants news of drafts."""

    async def subscribers(self) -> list[ChatRef]:
        """Every subscribed chat, on both platforms."""


@dataclass(frozen=True, slots=True)
class Remembered:
    """The name and phone (and national code, when given) of an account's last filing."""

    name: str
    phone: str
    national_code: str | None = None


class RememberedDetails(Protocol):
    """What each messenger account (platform + user id) gave at its last named filing."""

    async def get(self, platform: Platform, user_id: int) -> Remembered | None:
        """The details this account gave last, or None."""

    async def remember(
        self, platform: Platform, user_id: int, details: Remembered, at: datetime
    ) -> None:
        """Keep these as the account's latest details (replacing what was there)."""

    async def forget(self, platform: Platform, user_id: int) -> bool:
        """Erase this account's details; True when there were some."""

    async def forget_before(self, before: datetime) -> int:
        """Erase every account's details last given before `before`; how many."""


class UnitOfWork(Protocol):
    """One transaction: everything inside commits together or not at all."""

    @property
    def requests(self) -> RequestRepository:
        """Requests and events in this transaction."""

    @property
    def lookups(self) -> LookupLog:
        """Failed look-ups in this transaction."""

    @property
    def outbox(self) -> Outbox:
        """Messages to send once this transaction commits."""

    @property
    def jobs(self) -> JobLog:
        """Periodic jobs' progress."""

    @property
    def drafts(self) -> DraftRepository:
        """Draft regulations."""

    @property
    def citizens(self) -> CitizenDirectory:
        """Citizens and subscriptions."""

    @property
    def remembered(self) -> RememberedDetails:
        """Returning citizens' name and phone."""

    async def __aenter__(self) -> Self:
        """Open the transaction."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""

    async def commit(self) -> None:
        """Make the changes durable."""


UnitOfWorkFactory = Callable[[], UnitOfWork]


class Clock(Protocol):
    """Where the desk gets the time: UTC, timezone-aware; tests control it."""

    def now(self) -> datetime:
        """The current time in UTC."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)
