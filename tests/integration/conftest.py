"""Databases for the storage tests: SQLite always, PostgreSQL when TEST_DATABASE_URL is set.

Every test gets a schema built by `storage.migrate.upgrade` (Alembic), never by create_all; on
SQLite a copy of the file the session migrated once (tests/conftest.py), upgraded again (a no-op).
On PostgreSQL each test process has its own schema (search_path), migrated by Alembic once and
dropped at the end of the session; each test starts on it emptied (every table but Alembic's
truncated, sequences restarted: one statement, where migrating a fresh schema per test took
0.3 s), so tests repeat cleanly and leave nothing behind, even next to other users of the
database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from desk.ports import UnitOfWorkFactory
from storage.db import make_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlUnitOfWork
from tests.conftest import copy_migrated
from tests.sql_cache import shared_cache

PG_SKIP = "TEST_DATABASE_URL not set: PostgreSQL tests skipped"
REDIS_SKIP = "TEST_REDIS_URL not set: Redis tests skipped"


@dataclass
class Database:
    """An upgraded database, and how to open it again as a restarted bot would."""

    backend: str
    engine: AsyncEngine
    reopen: Callable[[], AsyncEngine]

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return session_factory(self.engine)

    def uow(self) -> UnitOfWorkFactory:
        sessions = self.sessions
        return lambda: SqlUnitOfWork(sessions)


async def _sqlite(tmp_path: Path, template: Path) -> AsyncIterator[Database]:
    # a copy of the session's Alembic-migrated file; the upgrade then finds it at head
    copy_migrated(template, tmp_path / "db" / "front.db")
    url = f"sqlite:///{tmp_path / 'db' / 'front.db'}"
    engine = make_engine(url, **shared_cache())
    await upgrade(engine)
    db = Database("sqlite", engine, lambda: make_engine(url, **shared_cache()))
    yield db
    await db.engine.dispose()


# This process's schema on each PostgreSQL URL, migrated by Alembic on first use and dropped at
# the end of the session (`_drop_worker_schemas`).
_SCHEMAS: dict[str, str] = {}
_MADE: list[tuple[str, str]] = []  # every schema this process made, to drop at the end


def _options(schema: str) -> dict[str, Any]:
    return {"connect_args": {"server_settings": {"search_path": schema}}, **shared_cache()}


async def _worker_schema(url: str) -> str:
    """This process's schema on `url`: made and brought to head by Alembic the first time."""
    schema = _SCHEMAS.get(url)
    if schema is not None:
        return schema
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        await admin.dispose()
    _SCHEMAS[url] = schema
    _MADE.append((url, schema))  # dropped at the end even if its migration fails
    engine = make_engine(url, **_options(schema))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return schema


async def _drop(url: str, schema: str) -> None:
    admin = make_engine(url)
    try:
        async with admin.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await admin.dispose()


async def _emptied(engine: AsyncEngine) -> None:
    """Every table of the schema emptied and its sequences restarted, but Alembic's version;
    a test that stepped the schema back (a migration's own test) is brought to head again.
    A lock left by an earlier test (a connection it left mid-transaction) is waited for 5 s
    at most: `lock_timeout` raises then, and the caller starts a new schema."""
    await upgrade(engine)
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
        tables = await conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        )
        names = tables.scalars().all()
        listed = ", ".join(f'"{name}"' for name in names)
        await conn.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))


async def _ready(url: str) -> tuple[AsyncEngine, dict[str, Any]]:
    """An engine on this process's schema, emptied; a new schema if the old one is stuck."""
    schema = await _worker_schema(url)
    options = _options(schema)
    engine = make_engine(url, **options)
    try:
        await _emptied(engine)
    except DBAPIError:
        await engine.dispose()
        del _SCHEMAS[url]  # left stuck; dropped with the others at the end
        options = _options(await _worker_schema(url))
        engine = make_engine(url, **options)
    return engine, options


async def _postgresql(url: str) -> AsyncIterator[Database]:
    engine, options = await _ready(url)
    db = Database("postgresql", engine, lambda: make_engine(url, **options))
    try:
        yield db
    finally:
        await db.engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _drop_worker_schemas() -> Iterator[None]:
    """At the end of the session, the schemas this process made are dropped."""
    yield

    async def drop() -> None:
        for url, schema in _MADE:
            with contextlib.suppress(DBAPIError):  # still locked: a later session's to see
                await _drop(url, schema)

    if _MADE:
        asyncio.run(drop())
    _SCHEMAS.clear()
    _MADE.clear()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path
) -> AsyncIterator[Database]:
    """An Alembic-upgraded database on each backend available."""
    if request.param == "sqlite":
        async for database in _sqlite(tmp_path, migrated_sqlite):
            yield database
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(PG_SKIP)
    async for database in _postgresql(url):
        yield database


@pytest.fixture
def engine(db: Database) -> AsyncEngine:
    """The upgraded engine alone, for tests that only need SQL."""
    return db.engine


@pytest.fixture
async def sqlite_db(tmp_path: Path, migrated_sqlite: Path) -> AsyncIterator[Database]:
    """Only SQLite: for what is about a file on disk."""
    async for database in _sqlite(tmp_path, migrated_sqlite):
        yield database


def _url_or_skip(name: str, reason: str) -> str:
    url = os.environ.get(name)
    if not url:
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_url() -> str:
    return _url_or_skip("TEST_DATABASE_URL", PG_SKIP)


@pytest.fixture
def redis_url() -> str:
    return _url_or_skip("TEST_REDIS_URL", REDIS_SKIP)
