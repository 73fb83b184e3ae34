"""Shared pieces of the benchmarks: the machine, percentiles, a running front office, bulk rows."""

from __future__ import annotations

import math
import os
import platform
import random
import resource
import statistics
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from desk.tracking import check_digit  # noqa: E402


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS), in MB."""
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def latency_row(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies in seconds, as milliseconds."""
    return {
        "p50": percentile(values, 50) * 1000,
        "p95": percentile(values, 95) * 1000,
        "p99": percentile(values, 99) * 1000,
        "max": max(values) * 1000,
        "mean": statistics.fmean(values) * 1000,
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain Markdown table."""

    def cell(value: Any) -> str:
        return f"{value:,.2f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def random_codes(count: int, seed: int = 1) -> list[str]:
    """`count` distinct valid tracking codes (fast, seeded; the bot uses `secrets`)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        body = str(rng.randrange(100_000_000, 1_000_000_000))
        seen.add(body + check_digit(body))
    return list(seen)


def request_rows(codes: Sequence[str], start_chat: int = 10_000_000) -> Iterator[dict[str, Any]]:
    """Plain dicts for `requests` rows (answered complaints), one per code."""
    now = datetime.now(UTC)
    for i, code in enumerate(codes):
        yield {
            "code": code,
            "kind": "complaint",
            "status": "answered",
            "platform": "telegram",
            "chat_id": start_chat + i,
            "user_id": start_chat + i,
            "topic": "water",
            "county": "birjand",
            "name": None,
            "phone": None,
            "national_code": None,
            "text": "کمبود آب در روستا و نیاز به پیگیری سهمیه آب کشاورزی " * 3,
            "attachments": [],
            "anonymous": True,
            "survey": None,
            "unit": "water_soil",
            "due_at": now,
            "answer": "پاسخ کارشناس",
            "answered_at": now,
            "reopen_count": 0,
            "created_at": now,
            "updated_at": now,
        }


async def bulk_insert_requests(engine: Any, codes: Sequence[str], chunk: int = 20_000) -> None:
    """Insert one `requests` row per code with executemany, `chunk` rows per statement."""
    from storage.tables import RequestRow

    insert = RequestRow.__table__.insert()  # type: ignore[attr-defined]
    rows = request_rows(codes)
    async with engine.begin() as conn:
        while True:
            batch = [row for _, row in zip(range(chunk), rows, strict=False)]
            if not batch:
                break
            await conn.execute(insert, batch)
