"""One slow chat among many: does a reply waiting out a 20 s `retry_after` hold up the others?

Telegram answers a bot writing too fast to one chat with 429 and a `retry_after`; the bot's
direct reply waits it out (`bot/runtime/retry.py`). One citizen sends /start and their reply
meets a 20 s `retry_after`; then N other citizens (half on each platform) send /start at once.
Each citizen's wait is from pushing the update to the bot's answer in their chat.

    python bench/slow_chat.py [--citizens 150] [--retry-after 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

from _common import latency_row, machine, table

from tests.e2e.conftest import TELEGRAM_TOKEN, Front
from tests.fakebotapi import FakeBot, FakeBotAPI


async def start(fake: FakeBot, chat_id: int, waits: dict[int, float]) -> None:
    chat = fake.private_chat(chat_id, "شهروند")
    since = len(fake.sent)
    began = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        await chat.send("/start", timeout=120)
    await fake.wait_for(lambda m: m.chat_id == chat_id, timeout=120, since=since)
    waits[chat_id] = time.perf_counter() - began


async def run(citizens: int, retry_after: int) -> None:
    api = FakeBotAPI()
    await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        front = Front(api, f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await front.start()
        try:
            # the next sendMessage of the Telegram bot, the slow citizen's reply, meets the 429
            api.fail("sendMessage", "429", times=1, retry_after=retry_after, token=TELEGRAM_TOKEN)
            waits: dict[int, float] = {}
            slow = asyncio.create_task(start(front.telegram, 9_000, waits))
            while not api.injected["429"]:  # noqa: ASYNC110 - the fake's counter, polled
                await asyncio.sleep(0.01)
            others = [
                start(front.telegram if n % 2 else front.bale, 10_000 + n, waits)
                for n in range(citizens)
            ]
            began = time.perf_counter()
            await asyncio.gather(*others)
            everyone = time.perf_counter() - began
            await slow
        finally:
            await front.stop()
            await api.stop()
    rest = [w for chat, w in waits.items() if chat != 9_000]
    held = sum(1 for w in rest if w >= retry_after - 1)
    print(machine())
    lat = latency_row(rest)
    print(
        table(
            ["citizens", "waited ≥ retry_after − 1 s", "p50 ms", "p95 ms", "max ms",
             "all answered (s)", "slow chat (s)"],
            [[citizens, held, round(lat["p50"]), round(lat["p95"]), round(lat["max"]),
              round(everyone, 1), round(waits[9_000], 1)]],
        )
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=150)
    parser.add_argument("--retry-after", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.citizens, args.retry_after))


if __name__ == "__main__":
    main()
