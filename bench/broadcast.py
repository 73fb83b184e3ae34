"""Broadcast: announce a draft regulation to M subscribers, then watch the delivery worker send.

Subscribers are inserted directly (bulk), half on Telegram and half on Bale, each with a chat on
the fake Bot API. `desk.regulations.publish` queues one announcement per subscriber; we time
that, then let the delivery worker send for a fixed window and compare its rate with the
configured limit (30 messages/s per platform). Memory is this process's, which also hosts the
fake Bot API and its record of every message.

    python bench/broadcast.py [--small] [--subscribers M] [--window SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import machine, peak_rss_mb, rss_mb, table
from sqlalchemy import func, select

from desk import regulations
from desk.model import DraftFile, Platform
from storage.tables import CitizenRow, OutboxRow
from tests.e2e.conftest import Front
from tests.fakebotapi import FakeBotAPI

RATE = 30.0
PDF = b"%PDF-1.4\n" + b"0" * 20_000 + b"\n%%EOF\n"
FIRST_CHAT = 50_000_000


async def add_subscribers(front: Front, count: int) -> None:
    """Chats on the fake API, then `citizens` rows in bulk, alternating platforms."""
    assert front.app is not None
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        platform = Platform.TELEGRAM if i % 2 == 0 else Platform.BALE
        chat_id = FIRST_CHAT + i
        front.bot(platform).private_chat(chat_id, "مشترک")
        rows.append({"platform": platform.value, "chat_id": chat_id, "user_id": chat_id,
                     "subscribed": True, "created_at": now, "updated_at": now})  # fmt: skip
    insert = CitizenRow.__table__.insert()  # type: ignore[attr-defined]
    async with front.app.engine.begin() as conn:
        for start in range(0, count, 20_000):
            await conn.execute(insert, rows[start : start + 20_000])


def announcements(front: Front, platform: Platform) -> int:
    """Announcements sent so far to subscribers on one platform."""
    return sum(1 for m in front.bot(platform).sent if m.chat_id >= FIRST_CHAT)


async def run(subscribers: int, window: float, folder: Path) -> dict[str, Any]:
    async with FakeBotAPI() as api:
        front = Front(
            api,
            f"sqlite+aiosqlite:///{folder / 'front.db'}",
            telegram_messages_per_second=RATE,
            bale_messages_per_second=RATE,
        )
        # the worker is started by hand below, after the draft is queued
        await front.start(deliver=False)
        assert front.app is not None
        app = front.app
        try:
            began = time.perf_counter()
            await add_subscribers(front, subscribers)
            insert_seconds = time.perf_counter() - began
            desk = app.dispatcher["deps"].desk
            began = time.perf_counter()
            await regulations.publish(
                desk,
                title="دستورالعمل توزیع آب کشاورزی در کم‌آبی",
                summary="سهمیه آب هر بهره‌بردار در ماه‌های کم‌آبی بر پایه سطح زیر کشت است.",
                unit="water_soil",
                document=DraftFile("دستورالعمل.pdf", PDF, "application/pdf"),
                days=14,
            )
            enqueue_seconds = time.perf_counter() - began
            async with app.sessions() as session:
                queued = await session.scalar(select(func.count()).select_from(OutboxRow))
            worker = asyncio.create_task(app.delivery.run())
            started = time.monotonic()
            deadline = started + window
            samples: list[tuple[float, dict[Platform, int]]] = []
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                counts = {p: announcements(front, p) for p in Platform}
                samples.append((time.monotonic(), counts))
                if sum(counts.values()) >= subscribers:
                    break
            elapsed = time.monotonic() - started
            await app.delivery.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(worker, 30)
            async with app.sessions() as session:
                retried = await session.scalar(
                    select(func.count()).where(col_error().is_not(None)).select_from(OutboxRow)
                )
            rates = {}
            for platform in Platform:
                sent = samples[-1][1][platform]
                # steady state: from the first sample 5 s in to the last sample still sending
                warm = [(t, c[platform]) for t, c in samples if t >= started + 5]
                busy = [(t, n) for t, n in warm if n < subscribers // 2] or warm
                span = busy[-1][0] - warm[0][0] if warm else 0.0
                rates[platform] = {
                    "sent": sent,
                    "rate": sent / elapsed,
                    "steady": (busy[-1][1] - warm[0][1]) / span if span > 0 else float("nan"),
                }
            statuses = [call for fake in (front.telegram, front.bale) for call in fake.calls]
        finally:
            await front.stop()
        return {
            "subscribers": subscribers,
            "insert_seconds": insert_seconds,
            "enqueue_seconds": enqueue_seconds,
            "queued": queued,
            "window": elapsed,
            "rates": rates,
            "retried": retried,
            "calls": len(statuses),
            "violations": front.telegram.violations + front.bale.violations,
            "rss": rss_mb(),
            "peak": peak_rss_mb(),
        }


def col_error() -> Any:
    from sqlmodel import col

    return col(OutboxRow.last_error)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="5,000 subscribers")
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--window", type=float, default=60.0, help="seconds of sending")
    args = parser.parse_args()
    subscribers = args.subscribers or (5_000 if args.small else 100_000)
    print(f"machine: {machine()}")
    print(f"{subscribers:,} subscribers (half Telegram, half Bale), limit {RATE:g}/s each\n")
    with tempfile.TemporaryDirectory() as folder:
        r = await run(subscribers, args.window, Path(folder))
    print(table(["step", "value"], [
        ["bulk insert of subscribers (s)", r["insert_seconds"]],
        ["publish → announcements queued (s)", r["enqueue_seconds"]],
        ["outbox rows queued", r["queued"]],
        ["sending window (s)", r["window"]],
        ["rows with a send error (last_error set)", r["retried"]],
        ["protocol violations", len(r["violations"])],
        ["RSS at end (MB)", r["rss"]],
        ["peak RSS, ru_maxrss (MB)", r["peak"]],
    ]))  # fmt: skip
    print()
    rows = []
    for platform, x in r["rates"].items():
        rows.append([platform.value, x["sent"], x["rate"], x["steady"],
                     100 * x["steady"] / RATE, RATE])  # fmt: skip
    print(table(["platform", "sent", "msg/s whole window", "msg/s after 5 s", "% of limit",
                 "limit"], rows))  # fmt: skip
    print("\n429 answers: the fake Bot API answers none unless a fault is injected (none here);")
    print("rows with a send error above counts every failed attempt the worker recorded.")


if __name__ == "__main__":
    asyncio.run(main())
