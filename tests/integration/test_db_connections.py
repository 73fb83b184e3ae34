"""PostgreSQL's pooled connections: one that rested and died is replaced before anyone uses it;
one used a moment ago is not checked first (each check cost a BEGIN and a ROLLBACK), so a
database gone within that moment costs one failed statement, after which the pool is renewed.
Against the machine's PostgreSQL (TEST_DATABASE_URL), skipped without it; last, SQLite's pool
keeps its connections too."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from storage.migrate import upgrade
from storage.pg_direct import PgDirect


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate(url: str, pid: int) -> None:
    admin = make_engine(url, pool_pre_ping=True)
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


@pytest.fixture
async def pool(pg_url: str) -> AsyncIterator[Callable[[float], AsyncEngine]]:
    """An engine of one pooled connection, checked once it rested `ping_after` seconds."""
    made: list[AsyncEngine] = []

    def make(ping_after: float) -> AsyncEngine:
        made.append(make_engine(pg_url, ping_after=ping_after, pool_size=1, max_overflow=0))
        return made[-1]

    yield make
    for engine in made:
        await engine.dispose()


async def test_a_connection_that_rested_and_died_is_replaced_before_use(
    pg_url: str, pool: Callable[[float], AsyncEngine]
) -> None:
    engine = pool(0.2)
    first = await backend_pid(engine)
    await terminate(pg_url, first)  # the database restarted, a proxy timed the link out
    await asyncio.sleep(0.3)
    second = await backend_pid(engine)  # no error: checked, found dead, connected again
    assert second != first


async def test_a_connection_used_a_moment_ago_is_trusted_and_one_failure_renews_the_pool(
    pg_url: str, pool: Callable[[float], AsyncEngine]
) -> None:
    engine = pool(60)
    first = await backend_pid(engine)
    assert await backend_pid(engine) == first, "the same connection, not checked again"
    await terminate(pg_url, first)
    with pytest.raises(DBAPIError) as failed:
        await backend_pid(engine)  # gone within the moment: this one statement fails
    assert failed.value.connection_invalidated
    assert await backend_pid(engine) != first, "the next one has a new connection"


async def test_a_connection_lost_under_a_statement_straight_on_asyncpg_renews_the_pool(
    pg_url: str,
) -> None:
    """The inbox's and the conversations' statements bypass SQLAlchemy's execution (which
    would renew the pool itself when a connection dies under it): the database restarting
    under a pool of two costs one failed statement, not one per connection."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(
        pg_url, ping_after=60, pool_size=2,
        connect_args={"server_settings": {"search_path": schema}},
    )  # fmt: skip
    try:
        await upgrade(engine)
        direct = PgDirect(engine)
        async with engine.connect() as one, engine.connect() as two:  # both in the pool
            pids = [
                int((await c.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                for c in (one, two)
            ]
        assert await direct.read("telegram:1:1") == (None, {})
        for pid in pids:
            await terminate(pg_url, pid)  # the database restarted under both
        with pytest.raises(Exception):  # noqa: B017 - asyncpg's, whatever it says
            await direct.read("telegram:1:1")  # gone within the moment: this statement fails
        both = await asyncio.gather(*(direct.read("telegram:1:1") for _ in pids))
        assert both == [(None, {})] * 2, "the next two at once work, on both connections"
        assert await backend_pid(engine) not in pids, "new ones"
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def test_a_sqlite_burst_opens_the_pool_once_and_keeps_it(tmp_path: Path) -> None:
    """SQLite too keeps at most `pool_size` connections: a burst wider than the pool waits for
    one instead of opening (a thread, the file, four PRAGMAs) and closing extra ones, and a
    second burst opens none."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'burst.db'}", pool_size=3)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda conn, record: opened.append(conn))

    async def one() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)

    try:
        await asyncio.gather(*(one() for _ in range(12)))
        assert len(opened) == 3
        await asyncio.gather(*(one() for _ in range(12)))
        assert len(opened) == 3
    finally:
        await engine.dispose()


async def test_an_in_memory_sqlite_database_still_opens() -> None:
    """The fixed pool is for a SQLite file: `sqlite:///:memory:` (one shared connection in
    SQLAlchemy, no pool size) opens and answers as before."""
    for url in ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite://"):
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        finally:
            await engine.dispose()


async def test_a_sqlite_connection_is_rolled_back_when_given_back_only_if_it_is_mid_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given back after a commit or an inline rollback, a connection is not rolled back again
    (a round trip to aiosqlite's thread each); given back with a write still open at the
    database (raw DBAPI use, which SQLAlchemy's Connection does not see), it is: the write is
    undone and the file is not left locked for the next writer."""
    import aiosqlite

    rollbacks: list[object] = []
    real = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(self)
        await real(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}", pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        rollbacks.clear()  # SQLAlchemy's own, after its first look at the new connection
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert rollbacks == [], "the commit's connection is not rolled back again"
        async with engine.connect() as conn:  # a read, closed with its transaction open
            await conn.execute(text("SELECT x FROM t"))
        assert len(rollbacks) == 1, "the read's transaction is rolled back once, at its close"

        async with engine.connect() as conn:  # a write the Connection does not know of
            driver = (await conn.get_raw_connection()).driver_connection
            assert isinstance(driver, aiosqlite.Connection)
            await driver.execute("INSERT INTO t VALUES (2)")
            assert driver.in_transaction
        assert len(rollbacks) == 2, "the open write was rolled back when given back"
        other = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}")
        try:
            async with other.begin() as conn:  # would wait out the busy timeout if locked
                async with asyncio.timeout(5):
                    await conn.execute(text("INSERT INTO t VALUES (3)"))
            async with other.connect() as conn:
                rows = (await conn.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all()
        finally:
            await other.dispose()
        assert rows == [1, 3]
    finally:
        await engine.dispose()
