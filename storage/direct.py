"""The statements every update runs, straight on the database's driver: which set an engine
takes. `storage.pg_direct` on asyncpg, `storage.sqlite_direct` on aiosqlite; elsewhere None,
and `storage.inbox` and `storage.fsm` run their SQLAlchemy statements instead."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.pg_direct import PgDirect
from storage.sqlite_direct import SqliteDirect


def direct_for(engine: AsyncEngine) -> PgDirect | SqliteDirect | None:
    """`PgDirect` on PostgreSQL, `SqliteDirect` on aiosqlite; None elsewhere."""
    if engine.dialect.name == "postgresql":
        return PgDirect(engine)
    if engine.dialect.driver == "aiosqlite":
        return SqliteDirect(engine)
    return None
