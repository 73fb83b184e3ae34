"""SQL implementations of desk.ports: one AsyncSession per unit of work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from sqlalchemy import ColumnElement, case, delete, func, insert, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from desk.model import (
    OPEN_STATUSES,
    Attachment,
    ChatRef,
    Contact,
    Draft,
    DraftFile,
    DraftStatus,
    Event,
    Kind,
    Notice,
    Platform,
    Request,
    Status,
)
from desk.people import Grant
from desk.ports import Remembered, RequestSearch
from desk.services import ChangedMeanwhile
from desk.text import ZWNJ
from storage.db import dialect_insert
from storage.tables import (
    AlertMarkRow,
    CitizenRow,
    DraftFileRow,
    DraftRow,
    EventRow,
    JobRunRow,
    LookupFailureRow,
    OutboxRow,
    RememberedRow,
    RequestRow,
    StaffGrantRow,
)


def _to_domain(row: RequestRow) -> Request:
    platform = Platform(row.platform) if row.platform is not None else None
    chat = ChatRef(platform, row.chat_id) if platform and row.chat_id is not None else None
    return Request(
        id=row.id,
        code=row.code,
        kind=Kind(row.kind),
        status=Status(row.status),
        text=row.text,
        created_at=row.created_at,
        updated_at=row.updated_at,
        chat=chat,
        user_id=row.user_id,
        topic=row.topic,
        county=row.county,
        contact=Contact(name=row.name, phone=row.phone, national_code=row.national_code),
        attachments=[Attachment.from_dict(a) for a in row.attachments or []],
        anonymous=row.anonymous,
        unnamed=row.unnamed,
        survey=row.survey,
        unit=row.unit,
        due_at=row.due_at,
        answer=row.answer,
        answered_at=row.answered_at,
        close_reason=row.close_reason,
        platform=platform,
        claimed_by=row.claimed_by,
        rating=row.rating,
        rated_at=row.rated_at,
        reopen_count=row.reopen_count,
        reminded_half_at=row.reminded_half_at,
        reminded_due_at=row.reminded_due_at,
        escalated_at=row.escalated_at,
        sla_started_at=row.sla_started_at,
        draft_id=row.draft_id,
        section=row.section,
        commenter_role=row.commenter_role,
        filing_key=row.filing_key,
        version=row.version,
    )


_MUTABLE = (
    "status", "unit", "due_at", "answer", "answered_at", "close_reason", "claimed_by", "rating",
    "rated_at", "reopen_count", "reminded_half_at", "reminded_due_at", "escalated_at",
    "sla_started_at", "updated_at",
)  # fmt: skip


def _to_row(request: Request) -> RequestRow:
    return RequestRow(
        code=request.code,
        kind=request.kind.value,
        status=request.status.value,
        platform=(request.platform or (request.chat.platform if request.chat else None)),
        chat_id=request.chat.chat_id if request.chat else None,
        user_id=request.user_id,
        topic=request.topic,
        county=request.county,
        name=request.contact.name,
        phone=request.contact.phone,
        national_code=request.contact.national_code,
        text=request.text,
        attachments=[a.to_dict() for a in request.attachments],
        anonymous=request.anonymous,
        unnamed=request.unnamed,
        survey=request.survey,
        unit=request.unit,
        due_at=request.due_at,
        answer=request.answer,
        answered_at=request.answered_at,
        close_reason=request.close_reason,
        claimed_by=request.claimed_by,
        rating=request.rating,
        rated_at=request.rated_at,
        reopen_count=request.reopen_count,
        reminded_half_at=request.reminded_half_at,
        reminded_due_at=request.reminded_due_at,
        escalated_at=request.escalated_at,
        sla_started_at=request.sla_started_at,
        draft_id=request.draft_id,
        section=request.section,
        commenter_role=request.commenter_role,
        filing_key=request.filing_key,
        created_at=request.created_at,
        updated_at=request.updated_at,
    )


class SqlRequests:
    """Requests and events on SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, request: Request) -> Request:
        """Insert a request and return it with its id."""
        row = _to_row(request)
        self.session.add(row)
        await self.session.flush()
        request.id = row.id
        return request

    async def get(self, code: str) -> Request | None:
        """The request with this code, or None."""
        row = (
            await self.session.execute(select(RequestRow).where(col(RequestRow.code) == code))
        ).scalar_one_or_none()
        return _to_domain(row) if row else None

    async def code_exists(self, code: str) -> bool:
        """Whether a code is taken."""
        found = await self.session.execute(
            select(col(RequestRow.id)).where(col(RequestRow.code) == code)
        )
        return found.first() is not None

    async def by_filing_key(self, key: str) -> Request | None:
        """The request filed under this idempotency key, or None."""
        row = (
            await self.session.execute(select(RequestRow).where(col(RequestRow.filing_key) == key))
        ).scalar_one_or_none()
        return _to_domain(row) if row else None

    async def by_chat(self, chat: ChatRef, limit: int) -> list[Request]:
        """A chat's requests, newest first."""
        rows = await self.session.execute(
            select(RequestRow)
            .where(
                col(RequestRow.platform) == chat.platform.value,
                col(RequestRow.chat_id) == chat.chat_id,
            )
            .order_by(col(RequestRow.created_at).desc(), col(RequestRow.id).desc())
            .limit(limit)
        )
        return [_to_domain(r) for r in rows.scalars()]

    async def search(self, unit: str, search: RequestSearch, limit: int) -> list[Request]:
        """A unit's requests matching any criterion of `search`, newest first (`RequestSearch`
        says how each matches)."""
        name, phone, code = col(RequestRow.name), col(RequestRow.phone), col(RequestRow.code)
        wanted: list[ColumnElement[bool]] = []
        if search.code:
            wanted.append(code == search.code)
        if search.phone:
            wanted.append(phone == search.phone)
        if search.digits:
            wanted.append(phone.contains(search.digits, autoescape=True))
            wanted.append(code.contains(search.digits, autoescape=True))
        if search.name:
            squeezed = func.lower(func.replace(func.replace(name, ZWNJ, ""), " ", ""))
            wanted.append(squeezed.contains(search.name, autoescape=True))
        if not wanted:
            return []
        rows = await self.session.execute(
            select(RequestRow)
            .where(col(RequestRow.unit) == unit, or_(*wanted))
            .order_by(col(RequestRow.created_at).desc(), col(RequestRow.id).desc())
            .limit(limit)
        )
        return [_to_domain(r) for r in rows.scalars()]

    async def filed_by(self, platform: Platform, user_id: int, since: datetime) -> list[datetime]:
        """When this account filed after `since` (exclusive), oldest first."""
        rows = await self.session.execute(
            select(col(RequestRow.created_at))
            .where(
                col(RequestRow.created_at) > since,
                col(RequestRow.platform) == platform.value,
                col(RequestRow.user_id) == user_id,
            )
            .order_by(col(RequestRow.created_at))
        )
        return list(rows.scalars())

    async def update(self, request: Request) -> None:
        """Write back the fields a use case may change, if nobody wrote the request since it
        was read (its version): else ChangedMeanwhile, and nothing is written."""
        values = {
            name: (v.value if isinstance(v := getattr(request, name), Status) else v)
            for name in _MUTABLE
        }
        result = await self.session.execute(
            sql_update(RequestRow)
            .where(col(RequestRow.code) == request.code, col(RequestRow.version) == request.version)
            .values(**values, version=request.version + 1)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            now = await self.session.scalar(
                select(col(RequestRow.status)).where(col(RequestRow.code) == request.code)
            )
            raise ChangedMeanwhile(request.code, str(now))
        request.version += 1

    async def open_with_deadline(self) -> list[Request]:
        """Open requests with a deadline, oldest deadline first."""
        rows = await self.session.execute(
            select(RequestRow)
            .where(
                col(RequestRow.status).in_([s.value for s in OPEN_STATUSES]),
                col(RequestRow.due_at).is_not(None),
            )
            .order_by(col(RequestRow.due_at))
        )
        return [_to_domain(r) for r in rows.scalars()]

    async def add_event(self, event: Event) -> None:
        """Append an event."""
        self.session.add(
            EventRow(
                request_code=event.request_code,
                action=event.action,
                at=event.at,
                actor=event.actor,
                status=event.status.value if event.status else None,
                note=event.note,
                update_key=event.update_key,
            )
        )

    async def events(self, code: str) -> list[Event]:
        """A request's events, oldest first."""
        rows = await self.session.execute(
            select(EventRow).where(col(EventRow.request_code) == code).order_by(col(EventRow.id))
        )
        return [
            Event(
                r.request_code,
                r.action,
                r.at,
                r.actor,
                Status(r.status) if r.status else None,
                r.note,
                r.update_key,
            )
            for r in rows.scalars()
        ]

    async def in_period(self, start: datetime, end: datetime) -> list[Request]:
        """Requests created in [start, end), oldest first."""
        rows = await self.session.execute(
            select(RequestRow)
            .where(col(RequestRow.created_at) >= start, col(RequestRow.created_at) < end)
            .order_by(col(RequestRow.created_at), col(RequestRow.id))
        )
        return [_to_domain(r) for r in rows.scalars()]

    async def events_for(self, codes: list[str]) -> dict[str, list[Event]]:
        """The events of these requests, each list oldest first; read in batches of 500 codes,
        well under SQLite's and asyncpg's limits on bound parameters."""
        found: dict[str, list[Event]] = {}
        unique = sorted(set(codes))
        for i in range(0, len(unique), _EVENT_BATCH):
            rows = await self.session.execute(
                select(EventRow)
                .where(col(EventRow.request_code).in_(unique[i : i + _EVENT_BATCH]))
                .order_by(col(EventRow.id))
            )
            for r in rows.scalars():
                found.setdefault(r.request_code, []).append(
                    Event(
                        r.request_code,
                        r.action,
                        r.at,
                        r.actor,
                        Status(r.status) if r.status else None,
                        r.note,
                    )
                )
        return found


_EVENT_BATCH = 500


class SqlLookups:
    """Failed look-ups on SQL, and the marks of alerts about them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_failure(self, chat: ChatRef, at: datetime, code: str | None = None) -> None:
        """Remember a failure (`code`: a failed proof of owning it)."""
        self.session.add(
            LookupFailureRow(platform=chat.platform.value, chat_id=chat.chat_id, at=at, code=code)
        )

    async def failures_since(self, chat: ChatRef, since: datetime) -> list[datetime]:
        """This chat's failures since `since`, oldest first."""
        rows = await self.session.execute(
            select(col(LookupFailureRow.at))
            .where(
                col(LookupFailureRow.platform) == chat.platform.value,
                col(LookupFailureRow.chat_id) == chat.chat_id,
                col(LookupFailureRow.at) > since,
            )
            .order_by(col(LookupFailureRow.at))
        )
        return list(rows.scalars())

    async def proof_failures_since(self, code: str, since: datetime) -> list[datetime]:
        """Failed proofs of owning `code` since `since`, from any chat, oldest first."""
        rows = await self.session.execute(
            select(col(LookupFailureRow.at))
            .where(col(LookupFailureRow.code) == code, col(LookupFailureRow.at) > since)
            .order_by(col(LookupFailureRow.at))
        )
        return list(rows.scalars())

    async def count_since(self, since: datetime) -> int:
        """Failures of every chat since `since`."""
        found = await self.session.execute(
            select(func.count()).where(col(LookupFailureRow.at) > since)
        )
        return int(found.scalar_one())

    async def claim_alert(self, name: str, at: datetime, quiet: timedelta) -> bool:
        """Move the mark to `at` unless it is younger than `quiet`; True when this moved it.

        A conditional UPDATE (or an INSERT that yields on conflict): on PostgreSQL a second
        transaction waits on the row and then finds the condition false; SQLite has one writer."""
        moved = await self.session.execute(
            sql_update(AlertMarkRow)
            .where(col(AlertMarkRow.name) == name, col(AlertMarkRow.at) <= at - quiet)
            .values(at=at)
        )
        if moved.rowcount:  # type: ignore[attr-defined]
            return True
        added = await self.session.execute(
            dialect_insert(self.session, AlertMarkRow).values(name=name, at=at)
            .on_conflict_do_nothing()
        )  # fmt: skip
        return bool(added.rowcount)  # type: ignore[attr-defined]

    async def purge_before(self, before: datetime) -> int:
        """Forget failures older than `before`; returns how many."""
        result = await self.session.execute(
            delete(LookupFailureRow).where(col(LookupFailureRow.at) < before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _outbox_values(notice: Notice, now: datetime) -> dict[str, Any]:
    return {
        "platform": notice.platform.value,
        "chat_id": notice.chat_id,
        "kind": notice.kind.value,
        "request_code": notice.code,
        "data": dict(notice.data),
        "next_attempt_at": now,
        "created_at": now,
        "tag": notice.tag,
        "attempts": 0,
        "failed": False,
    }


class SqlOutbox:
    """Notices queued in the same transaction as the change."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, notice: Notice) -> None:
        """Queue a notice for the delivery worker."""
        self.session.add(OutboxRow(**_outbox_values(notice, datetime.now(UTC))))

    async def add_many(self, notices: Iterable[Notice], chunk: int = 5_000) -> None:
        """Queue many notices with bulk INSERTs (no ORM object per row: a broadcast to 100,000
        subscribers would otherwise hold 100,000 of them in the session)."""
        now = datetime.now(UTC)
        batch: list[dict[str, Any]] = []
        for notice in notices:
            batch.append(_outbox_values(notice, now))
            if len(batch) >= chunk:
                await self.session.execute(insert(OutboxRow), batch)
                batch = []
        if batch:
            await self.session.execute(insert(OutboxRow), batch)

    async def progress(self, tag: str) -> tuple[int, int, int]:
        """(sent, failed, total) of a tagged broadcast."""
        rows = await self.session.execute(
            select(
                func.count(col(OutboxRow.sent_at)),
                func.sum(case((col(OutboxRow.failed).is_(True), 1), else_=0)),
                func.count(),
            ).where(col(OutboxRow.tag) == tag)
        )
        sent, failed, total = rows.one()
        return int(sent or 0), int(failed or 0), int(total or 0)


class SqlJobs:
    """Periodic jobs' last runs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def last_run(self, name: str) -> str | None:
        """The key of a job's last run."""
        row = await self.session.get(JobRunRow, name)
        return row.last_key if row else None

    async def set_last_run(self, name: str, key: str) -> None:
        """Remember a job's run."""
        row = await self.session.get(JobRunRow, name)
        if row is None:
            self.session.add(JobRunRow(name=name, last_key=key, at=datetime.now(UTC)))
        else:
            row.last_key, row.at = key, datetime.now(UTC)


def _draft(row: DraftRow) -> Draft:
    return Draft(
        id=row.id,
        title=row.title,
        summary=row.summary,
        unit=row.unit,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        status=DraftStatus(row.status),
        file_name=row.file_name,
        announced_at=row.announced_at,
        reminded_at=row.reminded_at,
        closed_at=row.closed_at,
        final_note=row.final_note,
        final_file_name=row.final_file_name,
        finalized_at=row.finalized_at,
        created_by=row.created_by,
        closed_by=row.closed_by,
        finalized_by=row.finalized_by,
        announce_total=row.announce_total,
        progress_reported=row.progress_reported,
    )


_DRAFT_FIELDS = (
    "title", "summary", "unit", "opens_at", "closes_at", "file_name", "announced_at",
    "reminded_at", "closed_at", "final_note", "final_file_name", "finalized_at", "created_by",
    "closed_by", "finalized_by", "announce_total", "progress_reported",
)  # fmt: skip


def _draft_values(draft: Draft) -> dict[str, Any]:
    return {"status": draft.status.value, **{name: getattr(draft, name) for name in _DRAFT_FIELDS}}


class SqlDrafts:
    """Drafts and their files on SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._seen: dict[int, dict[str, Any]] = {}  # each draft's fields as this session read them

    def _read(self, row: DraftRow) -> Draft:
        draft = _draft(row)
        assert draft.id is not None
        self._seen[draft.id] = _draft_values(draft)
        return draft

    async def add(self, draft: Draft, document: DraftFile) -> Draft:
        """Insert a draft and its document."""
        row = DraftRow(status=draft.status.value, **{f: getattr(draft, f) for f in _DRAFT_FIELDS})
        self.session.add(row)
        await self.session.flush()
        assert row.id is not None
        draft.id = row.id
        self._seen[row.id] = _draft_values(draft)
        await self.set_file(row.id, "document", document)
        return draft

    async def get(self, draft_id: int) -> Draft | None:
        """A draft by id, read afresh (not the session's copy of an earlier read)."""
        found = await self.session.execute(
            select(DraftRow)
            .where(col(DraftRow.id) == draft_id)
            .execution_options(populate_existing=True)
        )
        row = found.scalar_one_or_none()
        return self._read(row) if row else None

    async def all(self) -> list[Draft]:
        """Every draft, newest first, read afresh."""
        rows = await self.session.execute(
            select(DraftRow)
            .order_by(col(DraftRow.id).desc())
            .execution_options(populate_existing=True)
        )
        return [self._read(r) for r in rows.scalars()]

    async def update(self, draft: Draft) -> bool:
        """`DraftRepository.update`: one UPDATE of the changed fields, `WHERE id = … AND status
        = <as read>` (a compare-and-set: an admin's withdrawal and a job's progress mark, read
        at the same moment, were both written whole, and the job's copy turned the withdrawn
        draft back to open). It compares with this session's latest read of the draft (read
        it once, then write it); a draft with nothing changed is not written and True comes
        back without a look at its status."""
        assert draft.id is not None
        seen = self._seen.get(draft.id)
        if seen is None:
            raise RuntimeError(f"draft {draft.id} written without being read in this session")
        now = _draft_values(draft)
        changed = {name: value for name, value in now.items() if value != seen[name]}
        if not changed:
            return True
        result = await self.session.execute(
            sql_update(DraftRow)
            .where(col(DraftRow.id) == draft.id, col(DraftRow.status) == seen["status"])
            .values(**changed)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self._seen[draft.id] = now
        return True

    async def file(self, draft_id: int, role: str) -> DraftFile | None:
        """A stored file of a draft."""
        row = await self.session.get(DraftFileRow, (draft_id, role))
        return DraftFile(row.name, row.content, row.mime_type) if row else None

    async def set_file(self, draft_id: int, role: str, file: DraftFile) -> None:
        """Store or replace a file of a draft."""
        row = await self.session.get(DraftFileRow, (draft_id, role))
        if row is None:
            self.session.add(
                DraftFileRow(draft_id=draft_id, role=role, name=file.name,
                             mime_type=file.mime_type, content=file.content)
            )  # fmt: skip
        else:
            row.name, row.mime_type, row.content = file.name, file.mime_type, file.content

    async def comments(self, draft_id: int) -> list[Request]:
        """Comments on a draft, oldest first."""
        rows = await self.session.execute(
            select(RequestRow)
            .where(col(RequestRow.draft_id) == draft_id, col(RequestRow.kind) == "comment")
            .order_by(col(RequestRow.id))
        )
        return [_to_domain(r) for r in rows.scalars()]

    async def comment_counts(self) -> dict[int, int]:
        """The number of comments of every draft that has any, by draft id: one query."""
        draft_id = col(RequestRow.draft_id)
        rows = await self.session.execute(
            select(draft_id, func.count())
            .where(draft_id.is_not(None), col(RequestRow.kind) == "comment")
            .group_by(draft_id)
        )
        return {d: n for d, n in rows if d is not None}


class SqlCitizens:
    """Citizens' chats and subscriptions on SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, chat: ChatRef, user_id: int | None, at: datetime) -> bool:
        """Record a chat; True when it is new."""
        row = await self.session.get(CitizenRow, (chat.platform.value, chat.chat_id))
        if row is not None:
            return False
        self.session.add(
            CitizenRow(platform=chat.platform.value, chat_id=chat.chat_id, user_id=user_id,
                       created_at=at, updated_at=at)
        )  # fmt: skip
        return True

    async def subscribe(self, chat: ChatRef, on: bool, at: datetime) -> None:
        """Turn the subscription on or off."""
        row = await self.session.get(CitizenRow, (chat.platform.value, chat.chat_id))
        if row is None:
            row = CitizenRow(platform=chat.platform.value, chat_id=chat.chat_id, created_at=at,
                             updated_at=at)  # fmt: skip
            self.session.add(row)
        row.subscribed, row.updated_at = on, at

    async def is_subscribed(self, chat: ChatRef) -> bool:
        """Whether this chat wants news of drafts."""
        row = await self.session.get(CitizenRow, (chat.platform.value, chat.chat_id))
        return bool(row and row.subscribed)

    async def subscribers(self) -> list[ChatRef]:
        """Every subscribed chat."""
        rows = await self.session.execute(
            select(col(CitizenRow.platform), col(CitizenRow.chat_id)).where(
                col(CitizenRow.subscribed).is_(True)
            )
        )
        return [ChatRef(Platform(p), c) for p, c in rows.all()]


class SqlRemembered:
    """Returning citizens' details on SQL, one row per account."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, platform: Platform, user_id: int) -> Remembered | None:
        """The details this account gave last, or None."""
        row = await self.session.get(RememberedRow, (platform.value, user_id))
        return None if row is None else Remembered(row.name, row.phone, row.national_code)

    async def remember(
        self, platform: Platform, user_id: int, details: Remembered, at: datetime
    ) -> None:
        """Replace the account's details with these."""
        row = await self.session.get(RememberedRow, (platform.value, user_id))
        if row is None:
            row = RememberedRow(platform=platform.value, user_id=user_id, name=details.name,
                                phone=details.phone, updated_at=at)  # fmt: skip
            self.session.add(row)
        row.name, row.phone, row.national_code = details.name, details.phone, details.national_code
        row.updated_at = at

    async def forget(self, platform: Platform, user_id: int) -> bool:
        """Delete the account's row; True when there was one."""
        result = await self.session.execute(
            delete(RememberedRow).where(
                col(RememberedRow.platform) == platform.value,
                col(RememberedRow.user_id) == user_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def forget_before(self, before: datetime) -> int:
        """Delete the rows last written before `before`; how many."""
        result = await self.session.execute(
            delete(RememberedRow).where(col(RememberedRow.updated_at) < before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SqlUnitOfWork:
    """One session, one transaction; rolled back unless committed."""

    requests: SqlRequests
    lookups: SqlLookups
    outbox: SqlOutbox
    jobs: SqlJobs
    drafts: SqlDrafts
    citizens: SqlCitizens
    remembered: SqlRemembered

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        """Open a session and the repositories on it."""
        self.session = self._sessions()
        self.requests = SqlRequests(self.session)
        self.lookups = SqlLookups(self.session)
        self.outbox = SqlOutbox(self.session)
        self.jobs = SqlJobs(self.session)
        self.drafts = SqlDrafts(self.session)
        self.citizens = SqlCitizens(self.session)
        self.remembered = SqlRemembered(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back anything uncommitted and close the session."""
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        """Commit the transaction."""
        await self.session.commit()


class SqlGrants:
    """Granted staff per group on SQL (desk.people.GrantStore), each call its own transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @staticmethod
    def _in_force(chat: ChatRef) -> Any:
        return (
            (col(StaffGrantRow.platform) == chat.platform.value)
            & (col(StaffGrantRow.chat_id) == chat.chat_id)
            & col(StaffGrantRow.revoked_at).is_(None)
        )

    @staticmethod
    def _grant(row: StaffGrantRow) -> Grant:
        return Grant(ChatRef(Platform(row.platform), row.chat_id), row.user_id, row.name,
                     row.granted_by, row.granted_at, row.revoked_by, row.revoked_at)  # fmt: skip

    async def active(self, chat: ChatRef) -> list[Grant]:
        """The grants in force in a group, oldest first."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(StaffGrantRow).where(self._in_force(chat)).order_by(col(StaffGrantRow.id))
            )
            return [self._grant(row) for row in rows.scalars()]

    async def find(self, chat: ChatRef, user_id: int) -> Grant | None:
        """The grant in force for this member, or None."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(StaffGrantRow)
                .where(self._in_force(chat) & (col(StaffGrantRow.user_id) == user_id))
                .limit(1)
            )
            row = rows.scalars().first()
            return None if row is None else self._grant(row)

    async def add(self, grant: Grant) -> None:
        """Store a new grant."""
        async with self._sessions() as session, session.begin():
            session.add(
                StaffGrantRow(platform=grant.chat.platform.value, chat_id=grant.chat.chat_id,
                              user_id=grant.user_id, name=grant.name[:120],
                              granted_by=grant.granted_by[:200], granted_at=grant.granted_at)
            )  # fmt: skip

    async def revoke(self, chat: ChatRef, user_id: int, by: str, at: datetime) -> bool:
        """Mark the grant in force revoked; False when there was none."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                sql_update(StaffGrantRow)
                .where(self._in_force(chat) & (col(StaffGrantRow.user_id) == user_id))
                .values(revoked_by=by[:200], revoked_at=at)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
