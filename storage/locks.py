"""One run of a scheduled job at a time across every worker process on one database.

On PostgreSQL a job holds a session-level advisory lock (`pg_try_advisory_lock`) for as long
as it runs, on a connection of its own; a worker that finds the lock taken skips that run (the
next tick comes soon, and the jobs are idempotent). The lock goes with the connection: a worker
killed mid-job frees it at once. SQLite serves one process (the README's sizing), so the lock
there is only this process's own: two runs of one job in one process never overlap.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# the first 8 bytes of sha256("jihad-front-office:" + name), a signed 64-bit key: stable across
# processes and releases, and apart from any other application's keys on a shared server
_PREFIX = b"jihad-front-office:"
# the jobs running in this process, per engine: SQLite's only lock, and on PostgreSQL it keeps a
# second tick of this worker off the server
_RUNNING: set[tuple[int, str]] = set()


def lock_key(name: str) -> int:
    """The advisory lock key of a job's name."""
    digest = hashlib.sha256(_PREFIX + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SqlJobLocks:
    """`bot.ports.JobLocks` on the bot's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.shared = engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        """True inside while this worker holds the job's lock; False: another one runs it."""
        here = (id(self.engine), name)
        if here in _RUNNING:
            yield False
            return
        _RUNNING.add(here)
        try:
            if not self.shared:
                yield True
                return
            key = lock_key(name)
            async with self.engine.connect() as conn:
                got = (
                    await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
                ).scalar_one()
                await conn.commit()  # no transaction stays open while the job runs
                try:
                    yield bool(got)
                finally:
                    if got:
                        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                        await conn.commit()
        finally:
            _RUNNING.discard(here)
