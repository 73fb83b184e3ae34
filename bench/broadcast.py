"""Broadcast: announce a draft regulation to M subscribers, then watch the delivery worker send.

Subscribers are inserted directly (bulk), half on Telegram and half on Bale, each with a chat on
the fake Bot API. `desk.regulations.publish` queues one announcement per subscriber; we time
that, then let the delivery worker send for a fixed window and compare its rate with the
configured limit (30 messages/s per platform). Memory and CPU time are this process's, which
also hosts the fake Bot API and its record of every message (one event loop for both: the
delivery worker leaves the loop idle most of the time, so the fake stays in-process).

The fake Bot API does not enforce rate limits (it answers 429 only when a fault is injected),
so the limits are checked here, on the fake's own clock (the moment it accepted each message):
the most messages in any one-second window per platform (by its own clock the worker starts
at most the limit in any second; the fake's clock adds the jitter of the shared event loop, so
a stall, e.g. a garbage collection, can bunch a few requests) and the shortest gap between two
messages to one chat (none here: one announcement per subscriber).
429 answers are counted from the outbox (a 429 leaves `last_error` = "429: ..."), and every
subscriber must have received at most one announcement.

    python bench/broadcast.py [--small] [--subscribers M] [--window SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
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


def limit_check(front: Front, platform: Platform) -> dict[str, float]:
    """On the fake's clock: most messages in any one-second window, shortest gap per chat,
    how many subscribers got the announcement more than once."""
    sent = front.bot(platform).sent
    times = sorted(m.at for m in sent)
    worst, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1:
            first += 1
        worst = max(worst, last - first + 1)
    by_chat: dict[int, list[float]] = {}
    for m in sent:
        by_chat.setdefault(m.chat_id, []).append(m.at)
    gaps = [b - a for ts in by_chat.values() for a, b in itertools.pairwise(ts)]
    twice = sum(1 for c, ts in by_chat.items() if c >= FIRST_CHAT and len(ts) > 1)
    return {"worst": worst, "gap": min(gaps, default=float("nan")), "twice": twice}


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
            cpu = time.process_time()
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
            cpu = time.process_time() - cpu
            await app.delivery.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(worker, 30)
            async with app.sessions() as session:
                retried = await session.scalar(
                    select(func.count()).where(col_error().is_not(None)).select_from(OutboxRow)
                )
                too_many = await session.scalar(
                    select(func.count()).where(col_error().like("429%")).select_from(OutboxRow)
                )
            checks = {p: limit_check(front, p) for p in Platform}
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
            "too_many": too_many,
            "checks": checks,
            "cpu": cpu,
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
        ["CPU time of this process while sending (s)", r["cpu"]],
        ["rows with a send error (last_error set)", r["retried"]],
        ["429 answers (last_error 429)", r["too_many"]],
        ["protocol violations", len(r["violations"])],
        ["RSS at end (MB)", r["rss"]],
        ["peak RSS, ru_maxrss (MB)", r["peak"]],
    ]))  # fmt: skip
    print()
    rows = []
    for platform, x in r["rates"].items():
        c = r["checks"][platform]
        rows.append([platform.value, x["sent"], x["rate"], x["steady"],
                     100 * x["steady"] / RATE, RATE, c["worst"], c["gap"], c["twice"]])  # fmt: skip
    print(table(["platform", "sent", "msg/s whole window", "msg/s after 5 s", "% of limit",
                 "limit", "most in any 1 s", "min gap per chat (s)", "sent twice"],
                rows))  # fmt: skip
    print("\nThe fake Bot API does not enforce limits; 'most in any 1 s' and 'min gap per chat'")
    print("are measured on its clock; the worker starts at most the limit in any second by its")
    print("own clock, and the shared event loop's jitter can bunch a few requests on the fake's.")


if __name__ == "__main__":
    asyncio.run(main())
