"""The suite's shared compiled-statement cache (tests/sql_cache.py): two engines of one kind
compile a statement once between them; engines of different kinds never share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import CacheStats

from storage.db import make_engine
from tests.sql_cache import SharedCompiledCache, dialect_signature, shared_cache

ITEMS = table("items", column("id"), column("name"))


async def _run_twice_on_new_engines(tmp_path: Path, **options: Any) -> list[CacheStats]:
    hits: list[CacheStats] = []
    for name in ("one.db", "two.db"):
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / name}", **options)
        try:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("CREATE TABLE items (id INTEGER, name TEXT)")
                result = await conn.execute(select(ITEMS).where(ITEMS.c.id == 7))
                context = result.context
                assert isinstance(context, DefaultExecutionContext)
                hits.append(context.cache_hit)
        finally:
            await engine.dispose()
    return hits


async def test_a_second_engine_finds_the_first_ones_compiled_statement(tmp_path: Path) -> None:
    cache = SharedCompiledCache()
    hits = await _run_twice_on_new_engines(
        tmp_path / "shared", execution_options={"compiled_cache": cache}
    )
    assert hits == [CacheStats.CACHE_MISS, CacheStats.CACHE_HIT]
    # without it each engine compiles for itself, as SQLAlchemy does
    alone = await _run_twice_on_new_engines(tmp_path / "alone")
    assert alone == [CacheStats.CACHE_MISS, CacheStats.CACHE_MISS]


def test_the_suite_gives_every_engine_one_cache() -> None:
    first, second = (options["execution_options"] for options in (shared_cache(), shared_cache()))
    assert first["compiled_cache"] is second["compiled_cache"]


def test_dialects_of_different_kinds_or_settings_do_not_share() -> None:
    assert dialect_signature(sqlite.dialect()) == dialect_signature(sqlite.dialect())
    assert dialect_signature(sqlite.dialect()) != dialect_signature(postgresql.dialect())
    older, newer = postgresql.dialect(), postgresql.dialect()
    older.server_version_info, newer.server_version_info = (13, 0), (16, 2)
    assert dialect_signature(older) != dialect_signature(newer)


def test_a_key_of_another_shape_is_kept_as_it_is() -> None:
    cache = SharedCompiledCache()
    cache["plain"] = 1
    assert cache.get("plain") == 1 and list(cache) == ["plain"] and len(cache) == 1
    del cache["plain"]
    assert cache.get("plain") is None


def test_a_dialect_holding_objects_of_its_own_is_not_shared() -> None:
    plain, custom = sqlite.dialect(), sqlite.dialect(json_serializer=lambda value: "x")
    assert dialect_signature(plain) is not None
    assert dialect_signature(custom) is None
    cache = SharedCompiledCache()
    cache[(custom, "statement")] = "compiled for it"
    assert cache.get((sqlite.dialect(json_serializer=lambda value: "y"), "statement")) is None
    assert cache.get((custom, "statement")) == "compiled for it"
