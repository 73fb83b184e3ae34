"""PostgreSQL's pooled connections: one that rested and died is replaced before anyone uses it;
one used a moment ago is not checked first (each check cost a BEGIN and a ROLLBACK), so a
database gone within that moment costs one failed statement, after which the pool is renewed.
Against the machine's PostgreSQL (TEST_DATABASE_URL), skipped without it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from tests.integration.conftest import PG_SKIP


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(PG_SKIP)
    return url


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
async def engines(pg_url: str) -> AsyncIterator[list[AsyncEngine]]:
    made: list[AsyncEngine] = []
    yield made
    for engine in made:
        await engine.dispose()


async def test_a_connection_that_rested_and_died_is_replaced_before_use(
    pg_url: str, engines: list[AsyncEngine]
) -> None:
    engine = make_engine(pg_url, ping_after=0.2, pool_size=1, max_overflow=0)
    engines.append(engine)
    first = await backend_pid(engine)
    await terminate(pg_url, first)  # the database restarted, a proxy timed the link out
    await asyncio.sleep(0.3)
    second = await backend_pid(engine)  # no error: checked, found dead, connected again
    assert second != first


async def test_a_connection_used_a_moment_ago_is_trusted_and_one_failure_renews_the_pool(
    pg_url: str, engines: list[AsyncEngine]
) -> None:
    engine = make_engine(pg_url, ping_after=60, pool_size=1, max_overflow=0)
    engines.append(engine)
    first = await backend_pid(engine)
    assert await backend_pid(engine) == first, "the same connection, not checked again"
    await terminate(pg_url, first)
    with pytest.raises(DBAPIError) as failed:
        await backend_pid(engine)  # gone within the moment: this one statement fails
    assert failed.value.connection_invalidated
    assert await backend_pid(engine) != first, "the next one has a new connection"
