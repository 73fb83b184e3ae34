"""In-memory implementations of desk.ports, with real commit/rollback semantics.

`FakeStore` is the database and the unit-of-work factory: pass it as `uow=`. Each
`FakeUnitOfWork` keeps its writes pending; `commit()` publishes them to the store (and bumps
`store.committed`), leaving the block without committing drops them.

The delivery worker is played by the test: `store.delivered` and `store.failed` hold indexes
into `store.outbox` of notices sent and given up on (`store.mark_delivered`, `store.mark_failed`),
which is what `outbox.progress(tag)` counts.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from desk.model import (
    OPEN_STATUSES,
    ChatRef,
    Draft,
    DraftFile,
    DraftStatus,
    Event,
    Kind,
    Notice,
    Platform,
    Request,
)
from desk.ports import Clock, Remembered, RequestSearch, UnitOfWorkFactory
from desk.services import ChangedMeanwhile
from desk.text import squeeze


class DuplicateCode(Exception):
    """What the database's unique constraint on requests.code would raise."""


@dataclass
class FakeCitizen:
    """A row of the citizens table."""

    user_id: int | None
    created_at: datetime
    updated_at: datetime
    subscribed: bool = False


@dataclass
class FakeStore:
    """Committed data, shared by every unit of work."""

    requests: dict[str, Request] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    failures: list[tuple[ChatRef, datetime, str | None]] = field(default_factory=list)
    alert_marks: dict[str, datetime] = field(default_factory=dict)
    outbox: list[Notice] = field(default_factory=list)
    jobs: dict[str, str] = field(default_factory=dict)
    drafts: dict[int, Draft] = field(default_factory=dict)
    draft_files: dict[tuple[int, str], DraftFile] = field(default_factory=dict)
    citizens: dict[ChatRef, FakeCitizen] = field(default_factory=dict)
    remembered: dict[tuple[Platform, int], tuple[Remembered, datetime]] = field(
        default_factory=dict
    )
    delivered: set[int] = field(default_factory=set)  # indexes into outbox: sent
    failed: set[int] = field(default_factory=set)  # indexes into outbox: given up on
    committed: int = 0
    opened: int = 0
    next_id: int = 1
    next_draft_id: int = 1

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def tagged(self, tag: str) -> list[int]:
        """Indexes into `outbox` of the committed notices with this tag, in queue order."""
        return [i for i, notice in enumerate(self.outbox) if notice.tag == tag]

    def mark_delivered(self, *indexes: int) -> None:
        """What the delivery worker does after a confirmed send."""
        self._mark(self.delivered, indexes)

    def mark_failed(self, *indexes: int) -> None:
        """What the delivery worker does when it gives up on a notice."""
        self._mark(self.failed, indexes)

    def _mark(self, into: set[int], indexes: tuple[int, ...]) -> None:
        for index in indexes:
            if not 0 <= index < len(self.outbox):
                raise IndexError(index)
            if index in self.delivered or index in self.failed:
                raise ValueError(f"notice {index} is already delivered or failed")
            into.add(index)


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

    async def by_filing_key(self, key: str) -> Request | None:
        found = [r for r in self._all().values() if r.filing_key == key]
        return copy.deepcopy(found[0]) if found else None

    async def by_chat(self, chat: ChatRef, limit: int) -> list[Request]:
        mine = [r for r in self._all().values() if r.chat == chat]
        mine.sort(key=lambda r: (r.created_at, r.id or 0), reverse=True)
        return copy.deepcopy(mine[:limit])

    async def search(self, unit: str, search: RequestSearch, limit: int) -> list[Request]:
        def matches(r: Request) -> bool:
            name, phone = r.contact.name, r.contact.phone
            digits, part = search.digits or "", search.name or ""
            return (
                (bool(search.code) and r.code == search.code)
                or (bool(search.phone) and phone == search.phone)
                or (bool(digits) and digits in f"{phone or ''}\n{r.code}")
                or (bool(part) and name is not None and part in squeeze(name))
            )

        found = [r for r in self._all().values() if r.unit == unit and matches(r)]
        found.sort(key=lambda r: (r.created_at, r.id or 0), reverse=True)
        return copy.deepcopy(found[:limit])

    async def filed_by(self, platform: Platform, user_id: int, since: datetime) -> list[datetime]:
        return sorted(
            r.created_at
            for r in self._all().values()
            if r.platform is platform and r.user_id == user_id and r.created_at > since
        )

    async def update(self, request: Request) -> None:
        current = self._all().get(request.code)
        if current is None:
            raise KeyError(request.code)
        if current.version != request.version:  # as the SQL repository: no stale write
            raise ChangedMeanwhile(request.code, current.status.value)
        request.version += 1
        self.pending[request.code] = copy.deepcopy(request)

    async def open_with_deadline(self) -> list[Request]:
        found = [r for r in self._all().values() if r.status in OPEN_STATUSES and r.due_at]
        return copy.deepcopy(sorted(found, key=lambda r: r.due_at or r.created_at))

    async def add_event(self, event: Event) -> None:
        self.pending_events.append(event)

    async def events(self, code: str) -> list[Event]:
        return [e for e in [*self._store.events, *self.pending_events] if e.request_code == code]

    async def in_period(self, start: datetime, end: datetime) -> list[Request]:
        found = [r for r in self._all().values() if start <= r.created_at < end]
        return copy.deepcopy(sorted(found, key=lambda r: (r.created_at, r.id or 0)))

    async def events_for(self, codes: list[str]) -> dict[str, list[Event]]:
        wanted = set(codes)
        found: dict[str, list[Event]] = {}
        for event in [*self._store.events, *self.pending_events]:
            if event.request_code in wanted:
                found.setdefault(event.request_code, []).append(event)
        return found


class FakeLookups:
    """LookupLog: `…_since` excludes `since` itself, as the port says; an alert claim, like
    the SQL row, is visible to other transactions only once committed."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: list[tuple[ChatRef, datetime, str | None]] = []
        self.pending_marks: dict[str, datetime] = {}
        self.purged_before: datetime | None = None

    def _all(self) -> list[tuple[ChatRef, datetime, str | None]]:
        return [*self._store.failures, *self.pending]

    async def record_failure(self, chat: ChatRef, at: datetime, code: str | None = None) -> None:
        self.pending.append((chat, at, code))

    async def failures_since(self, chat: ChatRef, since: datetime) -> list[datetime]:
        return sorted(at for c, at, _ in self._all() if c == chat and at > since)

    async def proof_failures_since(self, code: str, since: datetime) -> list[datetime]:
        return sorted(at for _, at, k in self._all() if k == code and at > since)

    async def count_since(self, since: datetime) -> int:
        return sum(1 for _, at, _ in self._all() if at > since)

    async def claim_alert(self, name: str, at: datetime, quiet: timedelta) -> bool:
        last = self.pending_marks.get(name, self._store.alert_marks.get(name))
        if last is not None and last > at - quiet:
            return False
        self.pending_marks[name] = at
        return True

    async def purge_before(self, before: datetime) -> int:
        self.purged_before = before  # applied to the store at commit
        self.pending = [f for f in self.pending if f[1] >= before]
        return sum(1 for f in self._store.failures if f[1] < before)


class FakeOutbox:
    """Notices pending in this transaction; `progress` counts what the test marked."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: list[Notice] = []

    async def add(self, notice: Notice) -> None:
        self.pending.append(notice)

    async def add_many(self, notices: Iterable[Notice]) -> None:
        self.pending.extend(notices)

    async def progress(self, tag: str) -> tuple[int, int, int]:
        # like SQL in the same session: this transaction's own rows count in the total
        # (unsent, of course); only committed rows can have been delivered or failed
        committed = self._store.tagged(tag)
        sent = sum(1 for i in committed if i in self._store.delivered)
        failed = sum(1 for i in committed if i in self._store.failed)
        total = len(committed) + sum(1 for n in self.pending if n.tag == tag)
        return sent, failed, total


class FakeJobs:
    """Job runs, committed with the transaction."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: dict[str, str] = {}

    async def last_run(self, name: str) -> str | None:
        return self.pending.get(name, self._store.jobs.get(name))

    async def set_last_run(self, name: str, key: str) -> None:
        self.pending[name] = key


class FakeDrafts:
    """DraftRepository: drafts and their files, committed with the transaction."""

    def __init__(self, store: FakeStore, requests: FakeRequests) -> None:
        self._store = store
        self._requests = requests
        self.pending: dict[int, Draft] = {}
        self.pending_files: dict[tuple[int, str], DraftFile] = {}
        self._seen: dict[int, Draft] = {}  # as this unit of work read each draft
        self.first_status: dict[int, DraftStatus] = {}  # of each draft updated, as first read

    def _all(self) -> dict[int, Draft]:
        return {**self._store.drafts, **self.pending}

    def _read(self, draft: Draft) -> Draft:
        assert draft.id is not None
        self._seen[draft.id] = copy.deepcopy(draft)
        return copy.deepcopy(draft)

    async def add(self, draft: Draft, document: DraftFile) -> Draft:
        draft.id = self._store.next_draft_id
        self._store.next_draft_id += 1  # a sequence: not reused after a rollback
        self.pending[draft.id] = copy.deepcopy(draft)
        self._seen[draft.id] = copy.deepcopy(draft)
        await self.set_file(draft.id, "document", document)
        return draft

    async def get(self, draft_id: int) -> Draft | None:
        found = self._all().get(draft_id)
        return None if found is None else self._read(found)

    async def all(self) -> list[Draft]:
        drafts = self._all()
        return [self._read(drafts[i]) for i in sorted(drafts, reverse=True)]

    async def update(self, draft: Draft) -> bool:
        """As SQL: the fields changed since this unit of work read the draft, if its status
        is still the one read."""
        if draft.id is None or draft.id not in self._all():
            raise KeyError(draft.id)
        seen = self._seen[draft.id]
        current = copy.deepcopy(self._all()[draft.id])
        if current.status is not seen.status:
            return False
        if draft.id in self._store.drafts:
            self.first_status.setdefault(draft.id, seen.status)
        for one in dataclasses.fields(Draft):
            if getattr(draft, one.name) != getattr(seen, one.name):
                setattr(current, one.name, copy.deepcopy(getattr(draft, one.name)))
        self.pending[draft.id] = current
        self._seen[draft.id] = copy.deepcopy(current)
        return True

    async def file(self, draft_id: int, role: str) -> DraftFile | None:
        found = {**self._store.draft_files, **self.pending_files}.get((draft_id, role))
        return copy.deepcopy(found)

    async def set_file(self, draft_id: int, role: str, file: DraftFile) -> None:
        if draft_id not in self._all():
            raise KeyError(draft_id)
        self.pending_files[(draft_id, role)] = copy.deepcopy(file)

    async def comments(self, draft_id: int) -> list[Request]:
        found = [
            r
            for r in self._requests._all().values()
            if r.kind is Kind.COMMENT and r.draft_id == draft_id
        ]
        return copy.deepcopy(sorted(found, key=lambda r: r.id or 0))

    async def comment_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self._requests._all().values():
            if r.kind is Kind.COMMENT and r.draft_id is not None:
                counts[r.draft_id] = counts.get(r.draft_id, 0) + 1
        return counts


class FakeCitizens:
    """CitizenDirectory, committed with the transaction."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: dict[ChatRef, FakeCitizen] = {}

    def _find(self, chat: ChatRef) -> FakeCitizen | None:
        return self.pending.get(chat, self._store.citizens.get(chat))

    async def seen(self, chat: ChatRef, user_id: int | None, at: datetime) -> bool:
        if self._find(chat) is not None:
            return False
        self.pending[chat] = FakeCitizen(user_id=user_id, created_at=at, updated_at=at)
        return True

    async def subscribe(self, chat: ChatRef, on: bool, at: datetime) -> None:
        found = self._find(chat)
        row = FakeCitizen(None, at, at) if found is None else copy.copy(found)
        row.subscribed, row.updated_at = on, at
        self.pending[chat] = row

    async def is_subscribed(self, chat: ChatRef) -> bool:
        row = self._find(chat)
        return row is not None and row.subscribed

    async def subscribers(self) -> list[ChatRef]:
        rows = {**self._store.citizens, **self.pending}
        return [chat for chat, row in rows.items() if row.subscribed]


class FakeRemembered:
    """RememberedDetails, committed with the transaction (None: erased)."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.pending: dict[tuple[Platform, int], tuple[Remembered, datetime] | None] = {}

    def _all(self) -> dict[tuple[Platform, int], tuple[Remembered, datetime]]:
        merged = {**self._store.remembered, **self.pending}
        return {k: v for k, v in merged.items() if v is not None}

    async def get(self, platform: Platform, user_id: int) -> Remembered | None:
        found = self._all().get((platform, user_id))
        return None if found is None else found[0]

    async def remember(
        self, platform: Platform, user_id: int, details: Remembered, at: datetime
    ) -> None:
        self.pending[(platform, user_id)] = (details, at)

    async def forget(self, platform: Platform, user_id: int) -> bool:
        had = (platform, user_id) in self._all()
        self.pending[(platform, user_id)] = None
        return had

    async def forget_before(self, before: datetime) -> int:
        old = [k for k, (_, at) in self._all().items() if at < before]
        for key in old:
            self.pending[key] = None
        return len(old)


class FakeUnitOfWork:
    """One transaction on a FakeStore."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.requests = FakeRequests(store)
        self.lookups = FakeLookups(store)
        self.outbox = FakeOutbox(store)
        self.jobs = FakeJobs(store)
        self.drafts = FakeDrafts(store, self.requests)
        self.citizens = FakeCitizens(store)
        self.remembered = FakeRemembered(store)

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
        for draft_id, status in self.drafts.first_status.items():
            if self.store.drafts[draft_id].status is not status:
                # on SQL the second writer's UPDATE waits for the first and then matches no
                # row; the fake cannot wait, so a test that does this fails instead of passing
                raise RuntimeError(f"draft {draft_id}: two units of work changed it at once")
        self.store.requests.update(self.requests.pending)
        self.store.events.extend(self.requests.pending_events)
        if (cutoff := self.lookups.purged_before) is not None:
            self.store.failures[:] = [f for f in self.store.failures if f[1] >= cutoff]
        self.store.failures.extend(self.lookups.pending)
        self.store.alert_marks.update(self.lookups.pending_marks)
        self.store.outbox.extend(self.outbox.pending)
        self.store.jobs.update(self.jobs.pending)
        self.store.drafts.update(self.drafts.pending)
        self.store.draft_files.update(self.drafts.pending_files)
        self.store.citizens.update(self.citizens.pending)
        for key, value in self.remembered.pending.items():
            if value is None:
                self.store.remembered.pop(key, None)
            else:
                self.store.remembered[key] = value
        self.store.committed += 1
        self._discard()

    def _discard(self) -> None:
        self.requests.pending.clear()
        self.requests.added.clear()
        self.requests.pending_events.clear()
        self.lookups.pending.clear()
        self.lookups.pending_marks.clear()
        self.lookups.purged_before = None
        self.outbox.pending.clear()
        self.jobs.pending.clear()
        self.drafts.pending.clear()
        self.drafts.pending_files.clear()
        self.citizens.pending.clear()
        self.remembered.pending.clear()


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
