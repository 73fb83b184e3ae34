"""desk.retention's store on SQL: which requests are past retention, and clearing them."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Text, and_, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from desk.model import Event, Status
from desk.retention import PERSONAL_FIELDS, Cutoff, Holding
from storage.repositories import SqlRemembered, SqlRequests
from storage.tables import OutboxRow, RememberedRow, RequestRow

_BATCH = 500  # codes per UPDATE, well under every backend's limit on bound parameters
_FINISHED = (Status.CLOSED.value, Status.ANSWERED.value)


def _past(cutoff: Cutoff) -> ColumnElement[bool]:
    """Closed, or answered and no longer reopenable; unchanged since the cutoff."""
    return and_(
        col(RequestRow.updated_at) < cutoff.changed_before,
        or_(
            col(RequestRow.status) == Status.CLOSED.value,
            and_(
                col(RequestRow.status) == Status.ANSWERED.value,
                col(RequestRow.answered_at) < cutoff.answered_before,
            ),
        ),
    )


def _has_attachments() -> ColumnElement[bool]:
    # JSON is stored as text: '[]' (or 'null') means none, on SQLite and PostgreSQL alike
    return and_(
        col(RequestRow.attachments).is_not(None),
        cast(col(RequestRow.attachments), Text).not_in(["[]", "null"]),
    )


def _holding(code: str, values: dict[str, Any]) -> Holding:
    files = values["attachments"] if isinstance(values["attachments"], list) else []
    fields = tuple(
        name
        for name in PERSONAL_FIELDS
        if (files if name == "attachments" else values[name] not in (None, ""))
    )
    return Holding(code, fields, len(files))


class SqlRetention:
    """One session, one transaction; rolled back unless committed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        """Open a session."""
        self.session = self._sessions()
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

    async def count_past(self, cutoff: Cutoff) -> int:
        """How many requests are past retention."""
        found = await self.session.scalar(
            select(func.count()).select_from(RequestRow).where(_past(cutoff))
        )
        return int(found or 0)

    async def holdings(self, cutoff: Cutoff) -> list[Holding]:
        """Requests past retention with a personal field still set, oldest first."""
        rows = await self.session.execute(
            select(
                col(RequestRow.code),
                col(RequestRow.name),
                col(RequestRow.phone),
                col(RequestRow.national_code),
                col(RequestRow.attachments),
            )
            .where(
                _past(cutoff),
                or_(
                    col(RequestRow.name).is_not(None),
                    col(RequestRow.phone).is_not(None),
                    col(RequestRow.national_code).is_not(None),
                    _has_attachments(),
                ),
            )
            .order_by(col(RequestRow.created_at), col(RequestRow.id))
        )
        return [
            _holding(code, dict(zip(PERSONAL_FIELDS, values, strict=True)))
            for code, *values in rows.all()
        ]

    async def erase(self, codes: list[str]) -> None:
        """Clear name, phone, national code and attachments; never of an open request."""
        for start in range(0, len(codes), _BATCH):
            await self.session.execute(
                update(RequestRow)
                .where(
                    col(RequestRow.code).in_(codes[start : start + _BATCH]),
                    col(RequestRow.status).in_(_FINISHED),
                )
                .values(name=None, phone=None, national_code=None, attachments=[])
            )

    async def add_event(self, event: Event) -> None:
        """Append an event."""
        await SqlRequests(self.session).add_event(event)

    def _finished_notices(self, cutoff: Cutoff) -> ColumnElement[bool]:
        return and_(
            col(OutboxRow.request_code).in_(select(col(RequestRow.code)).where(_past(cutoff))),
            or_(col(OutboxRow.sent_at).is_not(None), col(OutboxRow.failed).is_(True)),
        )

    async def count_finished_notices(self, cutoff: Cutoff) -> int:
        """Sent or failed outbox rows of requests past retention."""
        found = await self.session.scalar(
            select(func.count()).select_from(OutboxRow).where(self._finished_notices(cutoff))
        )
        return int(found or 0)

    async def delete_finished_notices(self, cutoff: Cutoff) -> int:
        """Delete them; pending rows are left for the delivery worker (a later run takes them)."""
        result = await self.session.execute(delete(OutboxRow).where(self._finished_notices(cutoff)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def count_remembered(self, before: datetime) -> int:
        """Accounts whose remembered details were last given before `before`."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(RememberedRow)
            .where(col(RememberedRow.updated_at) < before)
        )
        return int(found or 0)

    async def forget_remembered(self, before: datetime) -> int:
        """Erase those details; how many accounts."""
        return await SqlRemembered(self.session).forget_before(before)
