"""Engine and session factory from DATABASE_URL; nothing is built at import time."""

from __future__ import annotations

import math
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def normalise_url(url: str) -> str:
    """Pick the async driver for a plain URL (sqlite:// → aiosqlite, postgresql:// → asyncpg)."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")
PING_AFTER = 5.0  # seconds a pooled PostgreSQL connection may rest before it is checked


def make_engine(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    ping_after: float = PING_AFTER,
    pool_size: int = 20,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and its parent folder created; at
    most `pool_size` connections on either database, opened as they are needed and kept.

    SQLite syncs every commit to disk (`synchronous=FULL`): with NORMAL in WAL mode a power cut
    can roll back the last commits, a filing among them whose receipt (with its tracking code)
    the citizen already has. The cost is measured by bench/durability.py.

    Statement parameters (citizens' names, phones, national codes, complaint texts) are
    never shown: not in exception messages (`[parameters: ...]`), not in echo logs.
    PostgreSQL's pooled connections are checked before use once they have rested
    `ping_after` seconds (`ping_when_rested`); at most `pool_size` are opened, as they are
    needed, and kept (no overflow: one opened beyond the pool was closed when given back,
    and under load a connection was opened, its SSL refused, its types and statements
    prepared again, many times a second); a caller waits for one when all are in use."""
    if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"sqlite_synchronous must be one of {SQLITE_SYNCHRONOUS}")
    url = normalise_url(url)
    kwargs["hide_parameters"] = True
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # a fixed pool, as on PostgreSQL: an overflow connection (SQLAlchemy's default,
            # 5 + 10) was opened (a thread, the file, four PRAGMAs) and closed again for 40 of
            # every 100 updates of 20 citizens at once; a caller waits for one when all are in
            # use. An in-memory database has SQLAlchemy's one shared connection (no pool size).
            kwargs.setdefault("pool_size", pool_size)
            kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_reset_on_return", None)  # `rollback_if_open` instead
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        rollback_if_open(engine)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # the connection used last is handed out first: under light traffic the others rest (and
    # are checked when next used) while one stays warm and is not
    kwargs.setdefault("pool_use_lifo", True)
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_when_rested(engine, ping_after)
    return engine


def rollback_if_open(engine: AsyncEngine) -> None:
    """A SQLite connection given back to the pool is rolled back only when a transaction is
    still open on it (sqlite3's `in_transaction`: the database's own autocommit flag).

    SQLAlchemy's default rolls back every connection given back, also after a commit; on
    aiosqlite each rollback is a round trip to the connection's thread: 5.6 of them per
    update in the e2e tests, for 2.9 commits, nearly all of them with nothing to roll back.
    A connection given back while it cannot be used (collected, the loop gone) is left to
    be closed, as SQLAlchemy leaves it."""

    @event.listens_for(engine.sync_engine, "reset")
    def _reset(dbapi_conn: Any, _record: Any, state: Any) -> None:
        if not state.asyncio_safe:
            return
        driver = getattr(dbapi_conn, "driver_connection", dbapi_conn)
        try:
            open_ = getattr(driver, "in_transaction", True)
        except ValueError:  # aiosqlite's, once its connection is closed: nothing to roll back
            return
        if open_:
            dbapi_conn.rollback()


def ping_when_rested(engine: AsyncEngine, after: float) -> None:
    """Check a pooled connection before use only when it has rested `after` seconds or more
    (a database restart, a proxy's idle timeout); a dead one is replaced before anyone uses
    it, and the rest of the pool with it (InvalidatePoolError: the pool connects again).

    SQLAlchemy's `pool_pre_ping` checks every checkout, and on asyncpg each check is a BEGIN
    and a ROLLBACK: 7 of the 20 round trips an update made to PostgreSQL (2026-12-02). A
    connection used a moment ago is taken as alive; if the database went away within that
    moment, the statement fails and SQLAlchemy renews the whole pool at once, as it does for
    a connection that dies while in use."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _rested_from(dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    sync = engine.sync_engine

    @event.listens_for(sync, "checkout")
    def _check_if_rested(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("checked_in")
        if since is None:
            return  # new
        if time.monotonic() - since < after and since > _DISTRUSTED.get(sync, -math.inf):
            return  # used a moment ago, and no connection of the pool lost since
        try:
            dbapi_conn.ping()
        except Exception as error:
            # the others rested as long: renew the whole pool, not one dead ping at a time
            raise exc.InvalidatePoolError("the database connection rested and died") from error


# per engine: when a connection was last lost under a statement run outside SQLAlchemy's
# execution (`storage.pg_direct`), which cannot renew the pool itself
_DISTRUSTED: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def distrust_pool(engine: AsyncEngine) -> None:
    """Check every connection given back to the pool before now at its next checkout, as
    one that rested: a dead one then renews the whole pool (`ping_when_rested`), as
    SQLAlchemy does when a connection dies under its own statement."""
    _DISTRUSTED[engine.sync_engine] = time.monotonic()


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT into `table` in the session's dialect, which can take ON CONFLICT clauses
    (`on_conflict_do_nothing`, `on_conflict_do_update`): SQLite and PostgreSQL only."""
    return insert_for(session.get_bind().dialect.name, table)


def insert_for(dialect: str, table: Any) -> Any:
    """`dialect_insert` by the dialect's name (for statements built once and kept)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(dialect)  # pragma: no cover - SQLite and PostgreSQL only


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
