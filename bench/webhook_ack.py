"""Webhook mode: how soon a platform hears 200, and how many updates a second one worker takes.

`python -m bot webhook` (the App, in this process) on loopback with SQLite; N citizens (half on
each platform) each post /start to the secret path, `--concurrency` requests in flight at once,
as a platform's `max_connections` allows. The answer waits only for the inbox's INSERT; the
handling follows from the inbox. Reported: the 200's latency, and the time until every update
was answered in its chat.

    python bench/webhook_ack.py [--citizens 400] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
from _common import latency_row, machine, table

from desk.model import Platform
from tests.e2e.test_webhook import HEADER, TELEGRAM_SECRET, HookedFront, start_update
from tests.fakebotapi import FakeBotAPI


async def run(citizens: int, concurrency: int) -> None:
    api = FakeBotAPI()
    await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        front = HookedFront(api, f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await front.start()
        acks: list[float] = []
        slots = asyncio.Semaphore(concurrency)
        try:
            chats = []
            for n in range(citizens):
                platform = Platform.TELEGRAM if n % 2 else Platform.BALE
                chat = 20_000 + n
                front.bot(platform).private_chat(chat, "شهروند")
                chats.append((platform, chat))
            async with aiohttp.ClientSession() as session:

                async def post(n: int, platform: Platform, chat: int) -> None:
                    body = json.dumps(start_update(1_000_000 + n, chat)).encode()
                    async with slots:
                        began = time.perf_counter()
                        async with session.post(
                            front.url(platform), data=body,
                            headers={"Content-Type": "application/json", HEADER: TELEGRAM_SECRET},
                        ) as answer:  # fmt: skip
                            assert answer.status == 200, answer.status
                        acks.append(time.perf_counter() - began)

                began = time.perf_counter()
                await asyncio.gather(*(post(n, p, c) for n, (p, c) in enumerate(chats)))
                posted = time.perf_counter() - began
                while any(not front.bot(p).messages_to(c) for p, c in chats):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                answered = time.perf_counter() - began
        finally:
            await front.stop()
            await api.stop()
    print(machine())
    lat = latency_row(acks)
    print(
        table(
            ["updates", "in flight", "200 p50 ms", "200 p95 ms", "200 p99 ms", "posted (s)",
             "all answered (s)", "updates/s"],
            [[citizens, concurrency, round(lat["p50"], 1), round(lat["p95"], 1),
              round(lat["p99"], 1), round(posted, 2), round(answered, 2),
              round(citizens / answered)]],
        )
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.citizens, args.concurrency))


if __name__ == "__main__":
    main()
