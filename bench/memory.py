"""Resident memory of the bot: `import bot.app`, the running bot idle and after citizen and staff
traffic, each with aiogram's models built lazily (`bot/runtime/lean_aiogram.py`, what
`python -m bot`
does) and eagerly (aiogram imported first, so it builds all of them itself, as `import aiogram`
does anywhere else).

Every figure is from a fresh interpreter. `import bot.app` is timed and measured in its own
process (VmRSS after the import), `--repeats` times per mode: the median, and the range. The bot
is the real `python -m bot` (both messengers polling, delivery worker and scheduler on), pointed
at the fake Bot API that this script hosts on loopback; its memory is read from
/proc/<pid>/status (VmRSS now, VmHWM the peak). The traffic: K citizens × 5 menu updates at
once, then C complaints per messenger, each with a contact and a photo, its card claimed by a
staff member with the inline button, answered by a reply in the unit's group and rated by the
citizen. At exit the bot writes how many of aiogram's models pydantic had built. For comparison
a bare aiogram bot that only polls and echoes, in its own process too.

    python bench/memory.py [--small] [--rows N] [--citizens K] [--complaints C] [--repeats R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import bulk_insert_requests, machine, random_codes, table
from intake import workload

from bot.ui import texts
from desk.model import Platform
from desk.text import to_persian_digits
from storage import migrate
from storage.db import make_engine
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN, Front, wait_until
from tests.e2e.helpers import watch_inbox
from tests.e2e.test_staff_desk import WATER, file_water_complaint
from tests.fakebotapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
MODES = ("lean", "eager")

# How many of aiogram's pydantic models are built, and how many exist.
COUNT = """
def aiogram_models():
    from pydantic import BaseModel
    found, stack = set(), [BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    mine = [m for m in found if m.__module__.startswith("aiogram.")]
    return sum(1 for m in mine if m.__pydantic_complete__), len(mine)
"""

# `eager`: aiogram imported before the bot's code, which then leaves it as it is.
START = """
import sys
if sys.argv[1] == "eager":
    import aiogram
else:
    from bot.runtime.lean_aiogram import import_aiogram_lazily
    import_aiogram_lazily()
"""

IMPORT = (
    "import time\nbegan = time.perf_counter()\n" + START + "import bot.app\n"
    "seconds = time.perf_counter() - began\n" + COUNT + "import json\n"
    "rss = [int(line.split()[1]) / 1024 for line in open('/proc/self/status')"
    " if line.startswith('VmRSS:')][0]\n"
    "print(json.dumps([seconds, rss, *aiogram_models()]))\n"
)

# The bot as `python -m bot`, plus an exit hook that writes the count of built models.
BOT = (
    START + COUNT + "import atexit, json, runpy\n"
    "counted = sys.argv[2]\n"
    "atexit.register(lambda: open(counted, 'w').write(json.dumps(aiogram_models())))\n"
    "sys.argv = ['bot']\n"
    "runpy.run_module('bot', run_name='__main__', alter_sys=True)\n"
)

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


def measure_import(repeats: int) -> list[list[object]]:
    """`import bot.app` in fresh interpreters, alternating the modes."""
    runs: dict[str, list[list[float]]] = {mode: [] for mode in MODES}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(repeats):
        for mode in MODES:
            out = subprocess.run(
                [sys.executable, "-c", IMPORT, mode],
                cwd=ROOT, env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            runs[mode].append(json.loads(out.strip().splitlines()[-1]))
    rows: list[list[object]] = []
    for mode in MODES:
        seconds = [r[0] for r in runs[mode]]
        rss = [r[1] for r in runs[mode]]
        built, total = runs[mode][-1][2:]
        rows.append([f"import bot.app, {mode}",
                     f"{statistics.median(rss):.1f} ({min(rss):.1f}–{max(rss):.1f})",
                     f"{statistics.median(seconds):.2f} ({min(seconds):.2f}–{max(seconds):.2f})",
                     f"{built:.0f} of {total:.0f}"])  # fmt: skip
    return rows


async def desk_round(front: Front, platform: Platform, user_id: int) -> None:
    """A complaint with a photo; the card claimed, answered by a reply, and rated."""
    fake = front.bot(platform)
    citizen = fake.private_chat(user_id, "علی")
    code = await file_water_complaint(citizen)
    water = front.group(WATER, platform)
    shown = to_persian_digits(code)
    card = await fake.wait_for(
        lambda m: m.chat_id == water.id and m.method == "sendMessage" and shown in (m.text or ""),
        timeout=60,
    )
    staff = water.as_admin(user_id + 1, "احمد")
    mark = len(fake.sent)
    await staff.click(texts.BTN_CLAIM, message=card, timeout=60)
    await fake.wait_for(
        lambda m: m.chat_id == citizen.chat_id and "در حال بررسی" in (m.text or ""),
        since=mark, timeout=60,
    )  # fmt: skip
    mark = len(fake.sent)
    await staff.send("کارشناس روز شنبه برای بازدید مراجعه می‌کند.", reply_to=card, timeout=60)
    answer = await fake.wait_for(
        lambda m: m.chat_id == citizen.chat_id and "روز شنبه" in (m.text or ""),
        since=mark, timeout=60,
    )  # fmt: skip
    await citizen.click("۵ عالی", message=answer, timeout=60)


async def measure_bot(
    folder: Path, mode: str, rows: int, citizens: int, complaints: int
) -> list[list[object]]:
    url = f"sqlite:///{folder / f'front-{mode}.db'}"
    engine = make_engine(url)
    await migrate.upgrade(engine)
    await bulk_insert_requests(engine, random_codes(rows))
    await engine.dispose()
    counted = folder / f"models-{mode}.json"
    figures: list[list[object]] = []
    async with FakeBotAPI() as api:
        front = Front(api, url)  # the fake's side: the bots, the staff groups
        env = {
            **{k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))},
            "PYTHONPATH": str(ROOT),
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
        marks = {id(fake): len(fake.calls) for fake in (front.telegram, front.bale)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", BOT, mode, str(counted), cwd=folder, env=env
        )
        watching = watch_inbox(folder / f"front-{mode}.db", front.telegram, front.bale)
        await watching.__aenter__()  # the bot confirms at once: it says what it has handled
        try:
            for fake in (front.telegram, front.bale):
                await polling_started(fake.calls, marks[id(fake)])
            await asyncio.sleep(3)
            figures.append([f"bot, {mode}, idle", *memory_of(proc.pid)])
            result = await workload(front.telegram, citizens, 1_000_000)
            await asyncio.sleep(2)
            figures.append([f"bot, {mode}, after {result['updates']} menu updates",
                            *memory_of(proc.pid)])  # fmt: skip
            for platform in (Platform.TELEGRAM, Platform.BALE):
                await asyncio.gather(*(desk_round(front, platform, 3_000_000 + 10 * i)
                                       for i in range(complaints)))  # fmt: skip
            await asyncio.sleep(2)
            figures.append([f"bot, {mode}, then {complaints} complaints per messenger "
                            "filed, claimed, answered, rated", *memory_of(proc.pid)])  # fmt: skip
        finally:
            proc.terminate()
            await proc.wait()
            await watching.__aexit__(None, None, None)
    built, total = json.loads(counted.read_text())
    figures[-1].append(f"{built} of {total}")
    return figures


async def polling_started(api_calls: Sequence[tuple[str, object]], mark: int) -> None:
    await wait_until(
        lambda: any(m == "getUpdates" for m, _ in api_calls[mark:]), what="polling", timeout=60
    )


async def measure_bare(citizens: int) -> list[object]:
    async with FakeBotAPI() as api:
        token = "444000:bare-memory-token-DDDDDDDD"
        fake = api.add_bot(token, "telegram", username="bare_bot")
        mark = len(fake.calls)
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE, token, api.base_url)
        try:
            await polling_started(fake.calls, mark)
            await asyncio.sleep(3)
            result = await workload(fake, citizens, 2_000_000)
            await asyncio.sleep(2)
            return [f"bare aiogram echo, after {result['updates']} updates",
                    *memory_of(proc.pid)]  # fmt: skip
        finally:
            proc.terminate()
            await proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="10,000 requests")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--citizens", type=int, default=100)
    parser.add_argument("--complaints", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.small else 100_000)
    print(f"machine: {machine()}")
    import aiogram
    import pydantic

    print(f"aiogram {aiogram.__version__}, pydantic {pydantic.VERSION}")
    imports = measure_import(args.repeats)
    print(f"\nfresh interpreter, {args.repeats} runs per mode: median (min–max)")
    print(table(["import", "VmRSS MB", "seconds", "aiogram models built"], imports))
    print(f"\n{rows:,} requests stored; goal < 200 MB")
    figures: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for mode in MODES:
            figures += await measure_bot(Path(folder), mode, rows, args.citizens, args.complaints)
    figures.append(await measure_bare(args.citizens))
    shown = [[row[0], f"{row[1]:.1f}", f"{row[2]:.1f}", *row[3:4]] for row in figures]
    print(table(["process, moment", "VmRSS MB", "peak VmHWM MB", "aiogram models built"],
                [row + [""] * (4 - len(row)) for row in shown]))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
