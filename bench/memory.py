"""Resident memory of the running bot with N requests stored, after some citizen traffic.

The app (both bots polling, delivery worker on) runs against the fake Bot API in this same
process, so the figure includes the fake server too: an upper bound for the bot alone.

    python bench/memory.py [--small] [--rows N] [--citizens K]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from _common import bulk_insert_requests, machine, peak_rss_mb, random_codes, rss_mb, table
from intake import workload

from storage import migrate
from storage.db import make_engine
from tests.e2e.conftest import Front
from tests.fakebotapi import FakeBotAPI


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="10,000 requests")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--citizens", type=int, default=100)
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.small else 100_000)
    print(f"machine: {machine()}")
    figures = [["interpreter before anything (MB)", rss_mb()]]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'front.db'}"
        engine = make_engine(url)
        await migrate.upgrade(engine)
        await bulk_insert_requests(engine, random_codes(rows))
        await engine.dispose()
        async with FakeBotAPI() as api:
            front = Front(api, url)
            await front.start()
            try:
                figures.append(["bot running, idle (MB)", rss_mb()])
                result = await workload(front.telegram, args.citizens, 1_000_000)
                await asyncio.sleep(2)
                figures.append([f"after {result['updates']} updates (MB)", rss_mb()])
            finally:
                await front.stop()
    figures.append(["peak RSS, ru_maxrss (MB)", peak_rss_mb()])
    print(f"{rows:,} requests stored; goal < 200 MB\n")
    print(table(["moment", "VmRSS"], figures))


if __name__ == "__main__":
    asyncio.run(main())
