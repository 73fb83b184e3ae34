"""Sizing: what 1, 2 and 3 webhook workers on PostgreSQL and Redis carry, beside a bare aiogram bot.

Each round starts real `python -m bot webhook` processes (1, then 2, then 3) on a fresh
PostgreSQL database (created, migrated here, dropped after) and the machine's Redis (the shared
limits and send rate; bot ids of this run only, their keys deleted after). The fake Bot API
(tests/fakebotapi.py) plays both platforms in this process; its updates are posted to the
workers as a platform does through nginx: `--connections` posts in flight per platform (Telegram's
`max_connections`), the workers' URLs taken in turn (nginx's round robin). Each citizen does a
conversation: /start, three menu presses, then a short complaint (topic, county, name, contact,
no national code, description, no attachments, confirm): 13 updates, each sent once the answer
to the previous one has come. Two phases per round:

- saturation: `--citizens` per platform all at once; updates/s handled, latency, CPU;
- the platforms' limits: updates arriving at TELEGRAM_MESSAGES_PER_SECOND (30) on Telegram and
  BALE_MESSAGES_PER_SECOND (5, bot/config.py) on Bale for `--paced-seconds`; latency.

Latency: from the update entering the platform's queue to the first answer in its chat
(a message or an edit) recorded by the fake. CPU: utime + stime of the worker processes from
/proc/<pid>/stat over the phase, per update; PostgreSQL's backends serving the run's database
likewise. Last, a bare aiogram bot (one Dispatcher, one handler answering each message with its
text, aiogram's own webhook handler) in its own process takes the same saturation load.

    python bench/workers.py [--workers 1,2,3] [--citizens 40] [--paced-seconds 8]
        [--connections 40] [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/15]

Environment: BENCH_DATABASE_URL / BENCH_REDIS_URL (else TEST_DATABASE_URL / TEST_REDIS_URL)
stand for the flags' defaults. BENCH_PYTHONPATH: folders put on the workers' path after the
project's (a `sitecustomize.py` there that counts each statement and whether SQLAlchemy found
it compiled, say).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from _common import ROOT, latency_row, machine, table

from bot.ui import texts
from tests.e2e.helpers import forget_redis
from tests.fakebotapi import FakeBot, FakeBotAPI, FakeGroup, FakeUser

SECRET = os.environ.get("BENCH_WEBHOOK_SECRET") or "s" * 8 + secrets.token_hex(16)
HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
TICK = os.sysconf("SC_CLK_TCK")
MENU = [texts.BTN_CONTACT, texts.BTN_TRACK, texts.BTN_CANCEL]
STEPS_PER_CITIZEN = 13
THINK = 0.2  # seconds of quiet in a chat before its citizen takes the next step
DESCRIPTION = "آب چاه کشاورزی ما از سه هفته پیش قطع شده و کسی پاسخگو نیست."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def other_than(update_id: int, update: dict[str, Any]) -> bool:
    """Keep every pending update of the fake but this one (its 2xx confirms it alone)."""
    return bool(update["update_id"] != update_id)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def load_average() -> str:
    with open("/proc/loadavg", encoding="ascii") as avg:
        return " ".join(avg.read().split()[:3])


# ----------------------------------------------------------------------------- the platform side
@dataclass
class Side:
    """One fake bot, its citizens' answers watched, its updates posted to the workers' URLs."""

    fake: FakeBot
    path: str  # /webhook/<platform>/<secret>
    connections: int
    urls: list[str] = field(default_factory=list)
    queue: asyncio.Queue[tuple[dict[str, Any], float]] = field(default_factory=asyncio.Queue)
    answered: dict[int, asyncio.Event] = field(default_factory=dict)
    posters: list[asyncio.Task[None]] = field(default_factory=list)
    pushed_at: dict[int, float] = field(default_factory=dict)  # chat -> when its update came
    failures: int = 0
    off_course: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self.fake
        record, edit, push = fake._record, fake._apply_edit, fake._push

        def recorded(*args: Any, **kwargs: Any) -> Any:
            sent = record(*args, **kwargs)
            self._answer(sent.chat_id)
            return sent

        def edited(method: str, sent: Any, *args: Any, **kwargs: Any) -> Any:
            result = edit(method, sent, *args, **kwargs)
            self._answer(sent.chat_id)
            return result

        async def pushed(body: dict[str, Any]) -> int:
            update_id = await push(body)
            self.queue.put_nowait(({**body, "update_id": update_id}, time.perf_counter()))
            return update_id

        fake._record, fake._apply_edit, fake._push = recorded, edited, pushed  # type: ignore[method-assign]

    def _answer(self, chat_id: int) -> None:
        event = self.answered.get(chat_id)
        if event is not None:
            event.set()

    def start(self, urls: list[str]) -> None:
        self.urls = urls
        turn = itertools.cycle(range(len(urls)))
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

        async def poster() -> None:
            while True:
                update, _ = await self.queue.get()
                body = json.dumps(update).encode()
                headers = {"Content-Type": "application/json", HEADER: SECRET}
                while True:
                    url = self.urls[next(turn)] + self.path
                    try:
                        async with session.post(url, data=body, headers=headers) as answer:
                            await answer.read()
                            if 200 <= answer.status < 300:
                                break
                    except aiohttp.ClientError:
                        pass
                    self.failures += 1
                    await asyncio.sleep(0.05)
                self.fake._confirm(partial(other_than, update["update_id"]))
                await self.fake._notify()

        self.posters = [asyncio.create_task(poster()) for _ in range(self.connections)]
        self.posters.append(asyncio.create_task(self._close_later(session)))

    @staticmethod
    async def _close_later(session: aiohttp.ClientSession) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await session.close()

    async def stop(self) -> None:
        for task in self.posters:
            task.cancel()
        await asyncio.gather(*self.posters, return_exceptions=True)
        self.posters = []


class Pacer:
    """Hands out one slot every 1/rate seconds (the platform's arrival rate); None: no limit."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1 / rate if rate else 0.0
        self.next = 0.0

    async def take(self) -> None:
        if not self.interval:
            return
        now = time.perf_counter()
        slot = max(self.next, now)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


async def step(
    side: Side, chat: FakeUser, pacer: Pacer, latencies: list[float],
    act: Callable[[], Awaitable[Any]],
) -> None:  # fmt: skip
    """One update and its answer: latency from the update's push to the first answer."""
    await pacer.take()
    event = side.answered.setdefault(chat.chat_id, asyncio.Event())
    event.clear()
    began = time.perf_counter()
    await act()  # returns at the worker's 200
    await asyncio.wait_for(event.wait(), 60)
    latencies.append(time.perf_counter() - began)
    # the citizen reads the whole answer (some steps answer in two messages) before the next
    # step: nothing more in the chat for THINK seconds
    while True:
        event.clear()
        try:
            await asyncio.wait_for(event.wait(), THINK)
        except TimeoutError:
            return


class OffCourse(Exception):
    """A conversation did not go as a citizen expects (the button to press never came)."""


async def click(chat: FakeUser, button: str) -> None:
    """Press a button, waiting a little if the message showing it has not come yet."""
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        try:
            await chat.click(button, timeout=60)
            return
        except LookupError:
            await asyncio.sleep(0.02)
    said = [(m.method, (m.current_text() or "")[:80]) for m in chat.messages()[-4:]]
    raise OffCourse(f"chat {chat.chat_id}: no button {button!r} came within 10 s; said: {said}")


async def citizen(side: Side, chat_id: int, pacer: Pacer, latencies: list[float]) -> None:
    """/start, three menu presses, a short complaint: 13 updates."""
    chat = side.fake.private_chat(chat_id, "شهروند")
    acts: list[Callable[[], Awaitable[Any]]] = [lambda: chat.send("/start", timeout=60)]
    acts += [lambda t=t: chat.send(t, timeout=60) for t in MENU]  # type: ignore[misc]
    acts += [
        lambda: chat.send(texts.BTN_COMPLAINT, timeout=60),
        lambda: click(chat, "آب و آبیاری"),
        lambda: click(chat, "فردوس"),
        lambda: chat.send("علی رضایی", timeout=60),
        lambda: chat.send_contact(f"+98915{chat_id % 10_000_000:07d}", timeout=60),
        lambda: click(chat, texts.BTN_NO_NATIONAL_CODE),
        lambda: chat.send(DESCRIPTION, timeout=60),
        lambda: click(chat, texts.BTN_NO_ATTACHMENTS),
        lambda: click(chat, texts.BTN_CONFIRM),
    ]
    try:
        for act in acts:
            await step(side, chat, pacer, latencies, act)
    except OffCourse as lost:
        side.off_course.append(str(lost))


async def echo_citizen(side: Side, chat_id: int, pacer: Pacer, latencies: list[float]) -> None:
    """The bare bot's citizen: 13 text messages, each answered with its text."""
    chat = side.fake.private_chat(chat_id, "شهروند")
    words = ["/start", *MENU, texts.BTN_COMPLAINT, "آب و آبیاری", "فردوس", "علی رضایی",
             "09151234567", texts.BTN_NO_NATIONAL_CODE, DESCRIPTION, texts.BTN_NO_ATTACHMENTS,
             texts.BTN_CONFIRM]  # fmt: skip
    for word in words:
        await step(side, chat, pacer, latencies, lambda w=word: chat.send(w, timeout=60))  # type: ignore[misc]


# ----------------------------------------------------------------------------- the processes
@dataclass
class Processes:
    procs: list[asyncio.subprocess.Process]
    urls: list[str]

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def wait_healthy(base: str, proc: asyncio.subprocess.Process, path: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if proc.returncode is not None:
                raise SystemExit(f"a process at {base} exited with {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(base + path) as answer:
                    if answer.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise SystemExit(f"{base} never answered")


async def start_workers(count: int, env: dict[str, str], folder: Path) -> Processes:
    procs, urls = [], []
    for n in range(count):
        port = free_port()
        log = (folder / f"worker{n}.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", "--host", "127.0.0.1", "--port", str(port),
            cwd=folder, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        procs.append(proc)
        urls.append(f"http://127.0.0.1:{port}")
    for proc, url in zip(procs, urls, strict=True):
        await wait_healthy(url, proc, "/healthz")
    return Processes(procs, urls)


async def start_bare(env: dict[str, str], folder: Path) -> Processes:
    port = free_port()
    log = (folder / "bare.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__)), "--bare-bot", str(port),
        cwd=folder, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    await wait_healthy(url, proc, "/up")
    return Processes([proc], [url])


def bare_bot(port: int) -> None:
    """A plain aiogram bot: one Dispatcher, one handler echoing each message, aiogram's own
    webhook handler on aiohttp (it answers 200 at once and handles in a task)."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    dispatcher = Dispatcher()

    @dispatcher.message()
    async def answer(message: Message) -> None:
        await message.answer(message.text or "…")

    app = web.Application()

    async def up(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/up", up)
    api = TelegramAPIServer.from_base(os.environ["BARE_API_URL"])
    for platform in ("telegram", "bale"):
        bot = Bot(os.environ[f"BARE_{platform.upper()}_TOKEN"], session=AiohttpSession(api=api))
        SimpleRequestHandler(dispatcher, bot).register(app, path=f"/webhook/{platform}/{SECRET}")
    web.run_app(app, host="127.0.0.1", port=port, print=None)


# ----------------------------------------------------------------------------- a round
async def phase(
    sides: dict[str, Side], procs: Processes, citizens: dict[str, int], first_id: int,
    rates: dict[str, float | None], walk: Any, pg: Any,
) -> dict[str, Any]:  # fmt: skip
    latencies: dict[str, list[float]] = {name: [] for name in sides}
    cpu0, pg0, own0 = procs.cpu(), await pg.cpu(), time.process_time()
    began = time.perf_counter()
    runs = []
    for name, side in sides.items():
        pacer = Pacer(rates[name])
        base = first_id + (0 if name == "telegram" else 500_000)
        runs += [walk(side, base + i, pacer, latencies[name]) for i in range(citizens[name])]
    await asyncio.gather(*runs)
    seconds = time.perf_counter() - began
    cpu, pg_cpu, own = procs.cpu() - cpu0, await pg.cpu() - pg0, time.process_time() - own0
    every = [x for values in latencies.values() for x in values]
    return {"updates": len(every), "seconds": seconds, "per_second": len(every) / seconds,
            "cpu_ms": cpu / len(every) * 1000, "pg_ms": pg_cpu / len(every) * 1000,
            "bench_ms": own / len(every) * 1000, **latency_row(every),
            "by": {n: latency_row(v) for n, v in latencies.items() if v}}  # fmt: skip


class PostgresCpu:
    """CPU of the PostgreSQL backends connected to one database (read from /proc)."""

    def __init__(self, admin_url: str | None, database: str | None) -> None:
        self.admin_url, self.database = admin_url, database
        self.seen: dict[int, float] = {}

    async def cpu(self) -> float:
        if self.admin_url is None:
            return 0.0
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(self.admin_url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
            )
        finally:
            await conn.close()
        for row in rows:
            self.seen[row["pid"]] = cpu_seconds(row["pid"])
        return sum(self.seen.values())


def make_sides(api: FakeBotAPI, tokens: dict[str, str], connections: int) -> dict[str, Side]:
    from desk.model import Platform as Messenger
    from desk.routing import load_rules

    sides = {}
    for name, token in tokens.items():
        fake = api.add_bot(token, name, username=f"bench_{name}_{token[:4]}_bot")
        sides[name] = Side(fake, f"/webhook/{name}/{SECRET}", connections)
    rules = load_rules(ROOT / "routing_rules.yaml")
    for unit in rules.units.values():
        for messenger, chat_id in unit.chats.items():
            sides[messenger.value].fake.group_chat(chat_id, unit.name).promote(
                FakeGroup.DEFAULT_MEMBER_ID
            )
    for messenger, ids in rules.admins.items():
        for chat_id in ids:
            sides[Messenger(messenger).value].fake.group_chat(chat_id, "مدیران")
    return sides


async def database(admin_url: str, name: str, *, drop: bool) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if drop:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        else:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def round_of(
    label: str, count: int, args: argparse.Namespace, serial: int, folder: Path
) -> dict[str, Any]:
    """One round: `count` workers (0: the bare aiogram bot) on a fresh database, two phases."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    tokens = {
        "telegram": f"{7_100_000_000 + serial * 2}:bench-{secrets.token_hex(8)}",
        "bale": f"{7_100_000_001 + serial * 2}:bench-{secrets.token_hex(8)}",
    }
    api = FakeBotAPI()
    await api.start()
    sides = make_sides(api, tokens, args.connections)
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))}
    path = [str(ROOT), *filter(None, [os.environ.get("BENCH_PYTHONPATH")])]
    env.update(PYTHONPATH=os.pathsep.join(path), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    name, url, pg = None, None, PostgresCpu(None, None)
    procs: Processes | None = None
    try:
        if count:
            name = f"bench_workers_{os.getpid()}_{serial}"
            url = await database(args.database_url, name, drop=False)
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()
            pg = PostgresCpu(args.database_url, name)
            env.update(
                DATABASE_URL=url, REDIS_URL=args.redis_url, WEBHOOK_SECRET=SECRET,
                TELEGRAM_BOT_TOKEN=tokens["telegram"], BALE_BOT_TOKEN=tokens["bale"],
                TELEGRAM_API_URL=api.base_url, BALE_API_URL=api.base_url,
                ROUTING_RULES=str(ROOT / "routing_rules.yaml"),
                DIRECTORY_FILE=str(ROOT / "directory.yaml"),
            )  # fmt: skip
            procs = await start_workers(count, env, folder)
            walk: Any = citizen
        else:
            env.update(
                BENCH_WEBHOOK_SECRET=SECRET, BARE_API_URL=api.base_url,
                BARE_TELEGRAM_TOKEN=tokens["telegram"], BARE_BALE_TOKEN=tokens["bale"],
            )  # fmt: skip
            procs = await start_bare(env, folder)
            walk = echo_citizen
        for side in sides.values():
            side.start(procs.urls)
        none: dict[str, float | None] = {"telegram": None, "bale": None}
        warm = {"telegram": 2 * max(count, 1), "bale": 2 * max(count, 1)}
        await phase(sides, procs, warm, 100_000, none, walk, pg)
        many = {"telegram": args.citizens, "bale": args.citizens}
        saturation = await phase(sides, procs, many, 1_000_000, none, walk, pg)
        result = {"label": label, "workers": count, "saturation": saturation}
        if count:
            rates: dict[str, float | None] = {"telegram": 30.0, "bale": 5.0}
            paced = {n: max(1, round(r * args.paced_seconds / STEPS_PER_CITIZEN) + 1)
                     for n, r in rates.items() if r}  # fmt: skip
            result["paced"] = await phase(sides, procs, paced, 2_000_000, rates, walk, pg)
        problems = [v for s in sides.values() for v in s.fake.violations]
        result["violations"] = problems
        result["retries"] = sum(s.failures for s in sides.values())
        result["off_course"] = [x for s in sides.values() for x in s.off_course]
        return result
    finally:
        for side in sides.values():
            await side.stop()
        if procs is not None:
            await procs.stop()
        await api.stop()
        if name is not None:
            await database(args.database_url, name, drop=True)
            await forget_redis(args.redis_url, [int(t.split(":")[0]) for t in tokens.values()])


async def run(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.workers.split(",") if c]
    print(f"machine: {machine()}; load average before: {load_average()}")
    print(f"{args.citizens} citizens per platform × {STEPS_PER_CITIZEN} updates at saturation; "
          f"{args.connections} posts in flight per platform\n")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.logs or tmp)
        for serial, count in enumerate([*counts, 0] if args.bare else counts):
            label = f"{count} worker{'s' if count > 1 else ''}" if count else "bare aiogram bot"
            result = await round_of(label, count, args, serial, folder)
            results.append(result)
            sat = result["saturation"]
            print(f"{label}: {sat['per_second']:.0f} updates/s, {sat['cpu_ms']:.1f} ms CPU per "
                  f"update; load average {load_average()}", flush=True)  # fmt: skip
            if result["off_course"]:
                print(
                    f"  {len(result['off_course'])} conversations off course, e.g. "
                    f"{result['off_course'][0]}"
                )
            if result["violations"]:
                print(f"  protocol violations: {result['violations'][:3]}")
    rows = []
    for r in results:
        s, p = r["saturation"], r.get("paced")
        rows.append([
            r["label"], s["updates"], round(s["per_second"]), round(s["p50"]), round(s["p99"]),
            round(p["p50"]) if p else "—", round(p["p99"]) if p else "—",
            round(p["by"]["telegram"]["p99"]) if p else "—",
            round(p["by"]["bale"]["p99"]) if p else "—",
            round(s["cpu_ms"], 1), round(s["pg_ms"], 1) if r["workers"] else "—",
            round(s["bench_ms"], 1),
        ])  # fmt: skip
    print()
    print(table(
        ["", "updates", "updates/s", "p50 ms", "p99 ms", "at limits p50 ms", "at limits p99 ms",
         "Telegram p99", "Bale p99", "worker CPU ms/update", "PostgreSQL CPU ms/update",
         "bench process CPU ms/update"], rows,
    ))  # fmt: skip
    print(f"\nload average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2,3", help="worker counts, in turn")
    parser.add_argument("--citizens", type=int, default=40, help="per platform, at saturation")
    parser.add_argument("--paced-seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=40, help="posts in flight per platform")
    parser.add_argument("--no-bare", dest="bare", action="store_false")
    env = os.environ.get
    database = env("BENCH_DATABASE_URL") or env("TEST_DATABASE_URL") or DEFAULT_DATABASE
    parser.add_argument("--database-url", default=database)
    redis = env("BENCH_REDIS_URL") or env("TEST_REDIS_URL") or DEFAULT_REDIS
    parser.add_argument("--redis-url", default=redis)
    parser.add_argument("--logs", help="keep the processes' logs in this folder")
    parser.add_argument("--bare-bot", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_bot:
        bare_bot(args.bare_bot)
        return
    if args.logs:
        Path(args.logs).mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
