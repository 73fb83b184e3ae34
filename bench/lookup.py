"""Tracking-code look-ups: `desk.services.lookup` through SqlUnitOfWork on a big `requests` table.

SQLite always (a file in a temp folder); PostgreSQL too when TEST_DATABASE_URL is set (a fresh
schema, dropped afterwards). 2,000 random existing codes are looked up one after another.

    python bench/lookup.py [--small] [--rows N] [--lookups K]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import bulk_insert_requests, latency_row, machine, random_codes, table
from sqlalchemy import text

from desk import services
from desk.model import ChatRef, Platform
from storage import migrate
from storage.db import make_engine, session_factory
from storage.repositories import SqlUnitOfWork


class Clock:
    def now(self) -> Any:
        from datetime import UTC, datetime

        return datetime.now(UTC)


async def measure(engine: Any, rows: int, lookups: int) -> dict[str, Any]:
    await migrate.upgrade(engine)
    codes = random_codes(rows)
    began = time.perf_counter()
    await bulk_insert_requests(engine, codes)
    inserted = time.perf_counter() - began
    sessions = session_factory(engine)
    chosen = random.Random(7).sample(codes, lookups)
    chat = ChatRef(Platform.TELEGRAM, 42)
    clock = Clock()
    latencies = []
    for code in chosen:
        t = time.perf_counter()
        found = await services.lookup(code, chat=chat, uow=lambda: SqlUnitOfWork(sessions),
                                      clock=clock)  # fmt: skip
        latencies.append(time.perf_counter() - t)
        assert found.request.code == code
    return {"insert": inserted, **latency_row(latencies)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="100,000 rows")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--lookups", type=int, default=2_000)
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.small else 1_000_000)
    print(f"machine: {machine()}")
    print(f"{rows:,} requests stored, {args.lookups:,} look-ups of existing codes\n")
    results: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'lookup.db'}")
        try:
            results.append(["SQLite", await measure(engine, rows, args.lookups)])
        finally:
            await engine.dispose()
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        schema = f"bench_{os.getpid()}"
        admin = make_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(url, connect_args={"server_settings": {"search_path": schema}})
        try:
            results.append(["PostgreSQL", await measure(engine, rows, args.lookups)])
        finally:
            await engine.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            await admin.dispose()
    else:
        print("TEST_DATABASE_URL not set: PostgreSQL skipped\n")
    print(table(["database", "bulk insert s", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                [[n, r["insert"], r["p50"], r["p95"], r["p99"], r["max"]]
                 for n, r in results]))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
