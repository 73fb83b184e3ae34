"""What `/healthz` and `/metrics` read from the database: the inbox's and the outbox's backlog
(rows pending, the oldest one's age) and the outbox rows parked (failed and unsent, as
`python -m bot outbox` lists them). Three small aggregate queries in one read; the indexes on
(state, lane) and (sent_at, failed, next_attempt_at) serve them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from desk.inbox import Backlog, Backlogs
from storage.inbox import INBOX, PENDING
from storage.tables import OutboxRow


def _age(now: datetime, oldest: datetime | None) -> float | None:
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite hands naive datetimes back where a column lost its zone
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


class SqlHealth:
    """The backlogs, each call one short read."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def backlogs(self, now: datetime) -> Backlogs:
        """Inbox and outbox backlogs now; raises what the database raises when it is down."""
        async with self._sessions() as session:
            inbox = (
                await session.execute(
                    select(func.count(), func.min(INBOX.c.received_at)).where(
                        INBOX.c.state == PENDING
                    )
                )
            ).one()
            unsent = col(OutboxRow.sent_at).is_(None) & col(OutboxRow.failed).is_(False)
            outbox = (
                await session.execute(
                    select(func.count(), func.min(OutboxRow.created_at)).where(unsent)
                )
            ).one()
            parked = await session.scalar(
                select(func.count()).where(
                    col(OutboxRow.failed).is_(True) & col(OutboxRow.sent_at).is_(None)
                )
            )
        return Backlogs(
            inbox=Backlog(int(inbox[0]), _age(now, inbox[1])),
            outbox=Backlog(int(outbox[0]), _age(now, outbox[1])),
            parked=int(parked or 0),
        )
