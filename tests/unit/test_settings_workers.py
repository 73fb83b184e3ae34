"""Several webhook workers need Redis beside PostgreSQL: the worker says so when it is missing."""

from __future__ import annotations

from bot.config import load_settings

PG = "postgresql://bot@db.example.ir/front"


def test_postgresql_without_redis_is_said_to_suit_one_worker_only() -> None:
    assert load_settings(database_url=PG, redis_url=None).alone_without_redis()
    assert not load_settings(database_url=PG, redis_url="redis://r:6379/0").alone_without_redis()
    # SQLite serves one process anyway: nothing to say
    assert not load_settings(database_url="sqlite:///x.db", redis_url=None).alone_without_redis()
