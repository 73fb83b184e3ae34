"""What durable SQLite costs: filings per second with `synchronous=FULL` (what the bot runs)
against `NORMAL` (what it ran before), on a file in a temporary folder.

Each filing is the real use case (`desk.services.file_request` through SqlUnitOfWork): one
transaction writing the request, its two events and its card in the outbox. Filings run one
after another (the worst case for syncing: one commit each) and 20 at a time.

    python bench/durability.py [--small] [--filings N]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import ROOT, latency_row, machine, table

from desk import services
from desk.model import ChatRef, Contact, Kind, NewRequest, Platform
from desk.routing import load_rules
from storage import migrate
from storage.db import make_engine, session_factory
from storage.repositories import SqlUnitOfWork


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def filing(n: int) -> NewRequest:
    return NewRequest(
        kind=Kind.COMPLAINT,
        chat=ChatRef(Platform.TELEGRAM, 10_000 + n),
        user_id=10_000 + n,
        text="آب چاه کشاورزی ما از سه هفته پیش قطع شده و کسی پاسخگو نیست.",
        topic="water",
        county="ferdows",
        contact=Contact(name="علی رضایی", phone="09151234567"),
    )


async def measure(folder: Path, synchronous: str, filings: int, parallel: int) -> dict[str, Any]:
    engine = make_engine(f"sqlite+aiosqlite:///{folder / f'{synchronous}.db'}",
                         sqlite_synchronous=synchronous)  # fmt: skip
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
        assert mode == {"FULL": 2, "NORMAL": 1}[synchronous], mode
        sessions = session_factory(engine)
        rules, clock = load_rules(ROOT / "routing_rules.yaml"), Clock()
        latencies: list[float] = []

        async def one(n: int) -> None:
            began = time.perf_counter()
            await services.file_request(filing(n), uow=lambda: SqlUnitOfWork(sessions),
                                        rules=rules, clock=clock)  # fmt: skip
            latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        for start in range(0, filings, parallel):
            await asyncio.gather(*(one(n) for n in range(start, min(filings, start + parallel))))
        elapsed = time.perf_counter() - began
    finally:
        await engine.dispose()
    with sqlite3.connect(folder / f"{synchronous}.db") as db:
        stored = db.execute("select count(*) from requests").fetchone()[0]
    assert stored == filings, stored
    return {"per_second": filings / elapsed, **latency_row(latencies)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="200 filings")
    parser.add_argument("--filings", type=int)
    args = parser.parse_args()
    filings = args.filings or (200 if args.small else 1_000)
    print(f"machine: {machine()}; {filings} filings per run")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for parallel in (1, 20):
            for synchronous in ("NORMAL", "FULL"):
                result = await measure(Path(tmp) / f"{parallel}", synchronous, filings, parallel)
                rows.append([synchronous, str(parallel), f"{result['per_second']:.0f}",
                             f"{result['p50']:.1f}", f"{result['p99']:.1f}"])  # fmt: skip
    print(table(["synchronous", "at once", "filings/s", "p50 ms", "p99 ms"], rows))


if __name__ == "__main__":
    asyncio.run(main())
