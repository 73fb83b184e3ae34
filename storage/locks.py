"""One run of a scheduled job at a time across every worker process on one database.

On PostgreSQL a job holds a session-level advisory lock (`pg_try_advisory_lock`) for as long
as it runs, on a connection of its own; a worker that finds the lock taken skips that run (the
next tick comes soon, and the jobs are idempotent). The lock goes with the connection: a worker
killed mid-job frees it at once. SQLite serves one process (the README's sizing), so the lock
there is only this process's own: two runs of one job in one process never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# the first 8 bytes of sha256("jihad-front-office:" + name), a signed 64-bit key: stable across
# processes and releases, and apart from any other application's keys on a shared server
_PREFIX = b"jihad-front-office:"
# the jobs running in this process, per engine: SQLite's only lock, and on PostgreSQL it keeps a
# second tick of this worker off the server
_RUNNING: set[tuple[int, str]] = set()


log = logging.getLogger(__name__)

NAME_RETRY = 5.0  # seconds between two tries of a worker name another process holds
# the server's keepalives on the name's connection: a holder whose host died (no FIN ever
# comes) is dropped after about 10 + 3 × 5 s instead of the system's two hours
KEEPALIVE = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


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


class NameTaken(RuntimeError):
    """Another live process works under this worker name on this database."""


class WorkerName:
    """This worker's name, held on its database for as long as it runs.

    Inbox lanes and outbox chats are claimed under the worker's name, stable across restarts
    (its host, plus the port of a webhook worker) so that a restarted worker takes back at
    once what it held when it died. Two live processes under one name would each take the
    other's claims for their own and send the same chats: two polling processes on one host,
    webhook workers on one port of two addresses, clones sharing a hostname. So the name is
    held: on PostgreSQL by a session advisory lock on a connection of its own (one of the
    pool's, for as long as the process runs), on SQLite by an exclusive `flock` of a file
    beside the database. Both go with the process, a kill -9 included."""

    retry = NAME_RETRY

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._fd: int | None = None

    async def take(self, name: str, *, wait: float = 0.0) -> None:
        """Hold `name`; NameTaken if a live process still holds it after `wait` seconds (a
        restart after the host itself died: the server drops the dead host's connection, and
        its lock, within half a minute, see `KEEPALIVE`)."""
        deadline = time.monotonic() + wait
        said = False
        while not await self._try(name):
            left = deadline - time.monotonic()
            if left <= 0:
                raise NameTaken(_taken(name))
            if not said:
                log.warning("worker name %r is held by another process; waiting up to %.0f s "
                            "for it (a process that died lets it go)", name, left)  # fmt: skip
                said = True
            await asyncio.sleep(min(self.retry, left))

    async def _try(self, name: str) -> bool:
        if self.engine.dialect.name == "postgresql":
            conn = await self.engine.connect()
            try:
                for setting in KEEPALIVE:  # so the server notices a dead holder soon
                    await conn.execute(text(setting))
                key = lock_key("worker:" + name)
                got = (
                    await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
                ).scalar_one()
                await conn.commit()
            except BaseException:
                await conn.close()
                raise
            if not got:
                await conn.close()
                return False
            self._conn = conn
            return True
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True  # a database of this process alone
        path = Path(database).with_name(f"{Path(database).name}.{_safe(name)}.lock")
        # read-only is enough to lock; a file another user made (root, by hand) stays usable
        fd = os.open(path, os.O_CREAT | os.O_RDONLY, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def release(self) -> None:
        """Let the name go (at the stop; a dead process's goes with it)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:  # the connection goes back to the pool: its session's lock must not
                await conn.execute(text("SELECT pg_advisory_unlock_all()"))
                await conn.commit()
                await conn.close()
            except Exception:  # the database went away, and the lock with it
                with contextlib.suppress(Exception):
                    await conn.invalidate()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # the flock goes with the last descriptor


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


def _taken(name: str) -> str:
    return (
        f"another bot process runs as worker {name!r} on this database: stop it first (a "
        "second webhook worker on this host: give it another --port)"
    )
