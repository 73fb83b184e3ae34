"""Intake throughput and latency: simulated citizens against the real app and a bare echo bot.

The front office polls into its update inbox (`bot/runtime/polling.py`: each batch stored and
confirmed at once, then handled from the inbox, chats concurrently, each chat in order); the
bare echo bot runs with aiogram's default polling (a task
per update, offsets confirmed at once) and, for reference, one update at a time.
Every citizen sends /start and a few menu presses through the fake Bot API on loopback; all
citizens run at once (asyncio.gather). Latency is from pushing an update to the moment the bot
has handled it *and* an answer has reached the citizen's chat.

    python bench/intake.py [--small] [--citizens N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import latency_row, machine, table

from bot.ui import texts
from tests.e2e.conftest import Front
from tests.fakebotapi import FakeBot, FakeBotAPI

STEPS = ["/start", texts.BTN_CONTACT, texts.BTN_TRACK, texts.BTN_CANCEL, texts.BTN_MINE]


async def citizen(fake: FakeBot, user_id: int, latencies: list[float]) -> None:
    """One citizen's session: each step waits for the bot's answer before the next."""
    chat = fake.private_chat(user_id, "شهروند")
    for step in STEPS:
        since = len(fake.sent)
        began = time.perf_counter()
        await chat.send(step, timeout=120)
        await fake.wait_for(lambda m: m.chat_id == user_id, timeout=120, since=since)
        latencies.append(time.perf_counter() - began)


async def workload(fake: FakeBot, citizens: int, first_id: int) -> dict[str, Any]:
    """All citizens at once; updates per second and latency percentiles."""
    latencies: list[float] = []
    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(citizen(fake, first_id + i, latencies) for i in range(citizens)))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {"updates": len(latencies), "seconds": elapsed, "per_second": len(latencies) / elapsed,
            "cpu_ms": 1000 * cpu / len(latencies), **latency_row(latencies)}  # fmt: skip


async def front_office(api: FakeBotAPI, citizens: int, folder: Path) -> dict[str, Any]:
    """The real app (both bots polling, delivery worker on, SQLite file)."""
    front = Front(api, f"sqlite+aiosqlite:///{folder / 'front.db'}")
    await front.start()
    try:
        await workload(front.telegram, 5, 900_000)  # warm-up: imports, first queries
        result = await workload(front.telegram, citizens, 1_000_000)
    finally:
        await front.stop()
    problems = front.telegram.violations + front.bale.violations
    if problems:
        raise SystemExit(f"protocol violations: {problems[:5]}")
    return result


async def echo(api: FakeBotAPI, citizens: int, *, as_tasks: bool, first_id: int) -> dict[str, Any]:
    """A bare aiogram bot answering every message with its text, polled the same way."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    token = f"{333000 + first_id // 1_000_000}:echo-bench-token-CCCCCCCC"
    fake = api.add_bot(token, "telegram", username=f"echo{first_id}_bot")
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def answer(message: Message) -> None:
        await message.answer(message.text or "…")

    task = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_as_tasks=as_tasks, polling_timeout=1, handle_signals=False
        )
    )
    try:
        await workload(fake, 5, first_id - 100_000)
        return await workload(fake, citizens, first_id)
    finally:
        await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)
        await bot.session.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="50 citizens instead of 200")
    parser.add_argument("--citizens", type=int)
    args = parser.parse_args()
    citizens = args.citizens or (50 if args.small else 200)
    print(f"machine: {machine()}")
    print(f"{citizens} citizens × {len(STEPS)} updates each, all at once, Telegram flavour\n")
    results: dict[str, dict[str, Any]] = {}
    async with FakeBotAPI() as api:
        with tempfile.TemporaryDirectory() as folder:
            results["front office (update inbox, lanes per chat)"] = await front_office(
                api, citizens, Path(folder)
            )
        results["echo bot (handle_as_tasks=False)"] = await echo(
            api, citizens, as_tasks=False, first_id=2_000_000
        )
        results["echo bot (handle_as_tasks=True)"] = await echo(
            api, citizens, as_tasks=True, first_id=3_000_000
        )
    headers = [
        "bot",
        "updates",
        "seconds",
        "updates/s",
        "CPU ms/update",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
    ]
    rows = [
        [
            name,
            r["updates"],
            r["seconds"],
            r["per_second"],
            r["cpu_ms"],
            r["p50"],
            r["p95"],
            r["p99"],
            r["max"],
        ]
        for name, r in results.items()
    ]
    print(table(headers, rows))
    ours = results["front office (update inbox, lanes per chat)"]["per_second"]
    tasks = results["echo bot (handle_as_tasks=True)"]["per_second"]
    one = results["echo bot (handle_as_tasks=False)"]["per_second"]
    print(
        f"\nratio front office / bare echo, aiogram's default polling: {ours / tasks:.3f} "
        "(goal ≥ 0.5)"
    )
    print(f"ratio front office / bare echo, one update at a time: {ours / one:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
