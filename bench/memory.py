"""Resident memory of the running bot with N requests stored, idle and after citizen traffic.

The bot is the real `python -m bot` in its own process (both messengers polling, delivery
worker and scheduler on), pointed at the fake Bot API that this script hosts on loopback; its
memory is read from /proc/<pid>/status (VmRSS now, VmHWM the peak). For comparison the same is
measured for a bare aiogram bot that only polls, in its own process too.

    python bench/memory.py [--small] [--rows N] [--citizens K]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _common import bulk_insert_requests, machine, random_codes, table
from intake import workload

from storage import migrate
from storage.db import make_engine
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN, Front, wait_until
from tests.fakebotapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import asyncio, sys
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
async def main():
    bot = Bot(sys.argv[1], session=AiohttpSession(api=TelegramAPIServer.from_base(sys.argv[2])))
    dp = Dispatcher()
    @dp.message()
    async def echo(message):
        await message.answer(message.text or "-")
    await dp.start_polling(bot, polling_timeout=1, handle_signals=False)
asyncio.run(main())
"""


def memory_of(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of a process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def polling_started(api_calls: Sequence[tuple[str, object]], mark: int) -> None:
    await wait_until(
        lambda: any(m == "getUpdates" for m, _ in api_calls[mark:]), what="polling", timeout=60
    )


async def measure_bot(folder: Path, rows: int, citizens: int) -> list[list[object]]:
    url = f"sqlite:///{folder / 'front.db'}"
    engine = make_engine(url)
    await migrate.upgrade(engine)
    await bulk_insert_requests(engine, random_codes(rows))
    await engine.dispose()
    figures: list[list[object]] = []
    async with FakeBotAPI() as api:
        front = Front(api, url)  # the fake's side: the bots, the staff groups
        env = {
            **{k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))},
            "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "BALE_BOT_TOKEN": BALE_TOKEN,
            "TELEGRAM_API_URL": api.base_url,
            "BALE_API_URL": api.base_url,
            "DATABASE_URL": url,
            "ROUTING_RULES": str(ROOT / "routing_rules.yaml"),
            "DIRECTORY_FILE": str(ROOT / "directory.yaml"),
            "POLLING_TIMEOUT": "1",
            "LOG_LEVEL": "WARNING",
        }
        mark = len(front.telegram.calls)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=folder, env=env
        )
        try:
            await polling_started(front.telegram.calls, mark)
            await asyncio.sleep(3)
            figures.append(["front office, idle", *memory_of(proc.pid)])
            result = await workload(front.telegram, citizens, 1_000_000)
            await asyncio.sleep(2)
            figures.append([f"front office, after {result['updates']} updates",
                            *memory_of(proc.pid)])  # fmt: skip
        finally:
            proc.terminate()
            await proc.wait()

        token = "444000:bare-memory-token-DDDDDDDD"
        fake = api.add_bot(token, "telegram", username="bare_bot")
        mark = len(fake.calls)
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE, token, api.base_url)
        try:
            await polling_started(fake.calls, mark)
            await asyncio.sleep(3)
            result = await workload(fake, citizens, 2_000_000)
            await asyncio.sleep(2)
            figures.append([f"bare aiogram echo, after {result['updates']} updates",
                            *memory_of(proc.pid)])  # fmt: skip
        finally:
            proc.terminate()
            await proc.wait()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="10,000 requests")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--citizens", type=int, default=100)
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.small else 100_000)
    print(f"machine: {machine()}")
    print(f"{rows:,} requests stored, {args.citizens} citizens × 5 updates; goal < 200 MB\n")
    with tempfile.TemporaryDirectory() as folder:
        figures = await measure_bot(Path(folder), rows, args.citizens)
    print(table(["process, moment", "VmRSS MB", "peak VmHWM MB"], figures))


if __name__ == "__main__":
    asyncio.run(main())
