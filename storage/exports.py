"""What an export of a period reads: requests and survey answers filed in it, events that
happened in it. Plain domain objects (`desk.reports.ExportData`); bot/ui/exports.py turns them
into files, reading them through the `ExportQueries` port (bot/ports.py) that `SqlExports` fills.

A period is [start, end): `end` is exclusive, so the last day is whole (a request filed at
23:59:59.9 Tehran on the last day is in it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from desk.model import Event, Kind, Request, Status
from desk.ports import UnitOfWorkFactory
from desk.reports import ExportData
from storage.repositories import SqlUnitOfWork, _to_domain
from storage.tables import EventRow, RequestRow


async def collect(session: AsyncSession, start: datetime, end: datetime) -> ExportData:
    """Read a period's requests, survey answers and events."""
    rows = await session.execute(
        select(RequestRow)
        .where(col(RequestRow.created_at) >= start, col(RequestRow.created_at) < end)
        .order_by(col(RequestRow.created_at), col(RequestRow.id))
    )
    requests: list[Request] = []
    surveys: list[Request] = []
    for row in rows.scalars():
        request = _to_domain(row)
        (surveys if request.kind is Kind.SURVEY else requests).append(request)
    found = await session.execute(
        select(EventRow)
        .where(col(EventRow.at) >= start, col(EventRow.at) < end)
        .order_by(col(EventRow.at), col(EventRow.id))
    )
    events = [
        Event(r.request_code, r.action, r.at, r.actor, Status(r.status) if r.status else None,
              r.note)
        for r in found.scalars()
    ]  # fmt: skip
    return ExportData(start, end, requests, surveys, events)


async def collect_with(uow: UnitOfWorkFactory, start: datetime, end: datetime) -> ExportData:
    """The same through the bot's unit-of-work factory (which is SQL storage)."""
    async with uow() as tx:
        if not isinstance(tx, SqlUnitOfWork):  # pragma: no cover - wiring mistake
            raise TypeError("exports read SQL storage")
        return await collect(tx.session, start, end)


class SqlExports:
    """The `ExportQueries` port on SQL: each period read in a session of its own."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def period(self, start: datetime, end: datetime) -> ExportData:
        """A period's requests, survey answers and events."""
        async with self._sessions() as session:
            return await collect(session, start, end)


__all__ = ["ExportData", "SqlExports", "collect", "collect_with"]
