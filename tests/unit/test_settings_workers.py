"""Several webhook workers need Redis beside PostgreSQL: the worker says so when it is missing."""

from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings

PG = "postgresql://bot@db.example.ir/front"


def test_postgresql_without_redis_is_said_to_suit_one_worker_only() -> None:
    assert load_settings(database_url=PG, redis_url=None).alone_without_redis()
    assert not load_settings(database_url=PG, redis_url="redis://r:6379/0").alone_without_redis()
    # SQLite serves one process anyway: nothing to say
    assert not load_settings(database_url="sqlite:///x.db", redis_url=None).alone_without_redis()


def test_a_pool_too_small_for_a_workers_own_connections_is_refused_at_start() -> None:
    """A worker on PostgreSQL keeps two connections for itself (its name's lock, the LISTEN for
    other workers' updates): a pool of 2 would leave none for the updates."""
    with pytest.raises(SettingsError, match=r"database_pool_size|DATABASE_POOL_SIZE"):
        load_settings(database_url=PG, database_pool_size=2)
    assert load_settings(database_url=PG, database_pool_size=3).database_pool_size == 3
