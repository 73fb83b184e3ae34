"""In-memory implementations of desk.ports, with real commit/rollback semantics.

`FakeStore` is the database and the unit-of-work factory: pass it as `uow=`. Each
`FakeUnitOfWork` keeps its writes pending; `commit()` publishes them to the store (and bumps
`store.committed`), leaving the block without committing drops them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from desk.model import OPEN_STATUSES, ChatRef, Event, Notice, Request
from desk.ports import Clock, UnitOfWorkFactory


class DuplicateCode(Exception):
    """What the database's unique constraint on requests.code would raise."""


@dataclass
class FakeStore:
    """Committed data, shared by every unit of work."""

    requests: dict[str, Request] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    failures: list[tuple[ChatRef, datetime]] = field(default_factory=list)
    outbox: list[Notice] = field(default_factory=list)
    jobs: dict[str, str] = field(default_factory=dict)
    committed: int = 0
    opened: int = 0
    next_id: int = 1

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeRequests:
    """RequestRepository over the committed store plus this transaction's pending writes."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: dict[str, Request] = {}
        self.added: set[str] = set()  # codes inserted (not updated) in this transaction
        self.pending_events: list[Event] = []

    def _all(self) -> dict[str, Request]:
        return {**self._store.requests, **self.pending}

    async def add(self, request: Request) -> Request:
        if request.code in self._all():
            raise DuplicateCode(request.code)
        request.id = self._store.next_id
        self._store.next_id += 1  # like a sequence: ids are not reused after a rollback
        self.added.add(request.code)
        self.pending[request.code] = copy.deepcopy(request)
        return request

    async def get(self, code: str) -> Request | None:
        found = self._all().get(code)
        return copy.deepcopy(found)

    async def code_exists(self, code: str) -> bool:
        return code in self._all()

    async def by_chat(self, chat: ChatRef, limit: int) -> list[Request]:
        mine = [r for r in self._all().values() if r.chat == chat]
        mine.sort(key=lambda r: (r.created_at, r.id or 0), reverse=True)
        return copy.deepcopy(mine[:limit])

    async def update(self, request: Request) -> None:
        if request.code not in self._all():
            raise KeyError(request.code)
        self.pending[request.code] = copy.deepcopy(request)

    async def open_with_deadline(self) -> list[Request]:
        found = [r for r in self._all().values() if r.status in OPEN_STATUSES and r.due_at]
        return copy.deepcopy(sorted(found, key=lambda r: r.due_at or r.created_at))

    async def add_event(self, event: Event) -> None:
        self.pending_events.append(event)

    async def events(self, code: str) -> list[Event]:
        return [e for e in [*self._store.events, *self.pending_events] if e.request_code == code]


class FakeLookups:
    """LookupLog: `failures_since` excludes `since` itself, as the port says."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: list[tuple[ChatRef, datetime]] = []

    async def record_failure(self, chat: ChatRef, at: datetime) -> None:
        self.pending.append((chat, at))

    async def failures_since(self, chat: ChatRef, since: datetime) -> list[datetime]:
        return sorted(
            at for c, at in [*self._store.failures, *self.pending] if c == chat and at > since
        )


class FakeOutbox:
    """Notices pending in this transaction."""

    def __init__(self) -> None:
        self.pending: list[Notice] = []

    async def add(self, notice: Notice) -> None:
        self.pending.append(notice)


class FakeJobs:
    """Job runs, committed with the transaction."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: dict[str, str] = {}

    async def last_run(self, name: str) -> str | None:
        return self.pending.get(name, self._store.jobs.get(name))

    async def set_last_run(self, name: str, key: str) -> None:
        self.pending[name] = key


class FakeUnitOfWork:
    """One transaction on a FakeStore."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.requests = FakeRequests(store)
        self.lookups = FakeLookups(store)
        self.outbox = FakeOutbox()
        self.jobs = FakeJobs(store)

    async def __aenter__(self) -> Self:
        self.store.opened += 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._discard()

    async def commit(self) -> None:
        # only inserts can clash (the unique constraint); updates of committed rows may not
        clash = self.store.requests.keys() & self.requests.added
        if clash:
            raise DuplicateCode(", ".join(sorted(clash)))
        self.store.requests.update(self.requests.pending)
        self.store.events.extend(self.requests.pending_events)
        self.store.failures.extend(self.lookups.pending)
        self.store.outbox.extend(self.outbox.pending)
        self.store.jobs.update(self.jobs.pending)
        self.store.committed += 1
        self._discard()

    def _discard(self) -> None:
        self.requests.pending.clear()
        self.requests.added.clear()
        self.requests.pending_events.clear()
        self.lookups.pending.clear()
        self.outbox.pending.clear()
        self.jobs.pending.clear()


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now


# Static proof that the fakes fit the ports (checked by mypy, free at run time).
_factory: UnitOfWorkFactory = FakeStore()
_clock: Clock = FixedClock()
