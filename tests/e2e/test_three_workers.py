"""Three webhook workers on one PostgreSQL and one Redis behave as one bot (issue 15, item 4).

Three real `python -m bot webhook` processes share a fresh PostgreSQL database and the machine's
Redis. Both fake platforms post their one stream of updates, each update once answered, to a
round-robin front (nginx's part: the next worker in turn, the one after it when a worker does
not answer). Citizens on both platforms file complaints step by step while one worker is killed
with -9 a third of the way in; staff claim each card and answer it, all answers at once; then
some requests are pushed past their deadline and the deadlines job, due every second in every
worker, escalates them.

What a citizen and the staff would notice: every filing stored once, under the chat it came
from; each receipt, card and answer sent, and sent once unless the kill cut it (`CUT_WINDOW`);
each conversation in order (a step goes on only from the answer to the one before); every
escalation made once and told to its unit once although three workers run the job; Telegram
never written to faster than `TELEGRAM_MESSAGES_PER_SECOND` by the three together.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from desk.model import Platform
from desk.routing import load_rules
from desk.text import to_persian_digits
from tests.e2e.conftest import ROOT, wait_until
from tests.e2e.helpers import forget_redis, run_main, tracking_code, watch_inbox
from tests.e2e.test_faults import (
    CUT_WINDOW,
    PLATFORMS,
    Kill,
    assert_once_unless_cut,
    claim_card,
    complaint_steps,
    cut_gaps,
    name_of,
    patient,
    unit_of,
)
from tests.e2e.test_process import bot_env
from tests.e2e.test_webhook import BALE_SECRET, TELEGRAM_SECRET, free_port
from tests.e2e.test_webhook_process import healthy
from tests.fakebotapi import FakeBot, FakeBotAPI, FakeGroup, SentMessage

DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (DATABASE_URL and REDIS_URL),
        reason="TEST_DATABASE_URL and TEST_REDIS_URL not both set: the three-worker test skipped",
    ),
]

WORKERS = 3
PER_PLATFORM = 10  # citizens; the last two of each platform are left unanswered (escalated)
UNANSWERED = 2
RATE = 2  # TELEGRAM_MESSAGES_PER_SECOND, for all three workers together
STEP = 15.0  # a person waits this long before assuming the bot is down
PATIENCE = 150.0  # a killed worker's chats move on after its 60-second claims run out


class RoundRobin:
    """The reverse proxy: each POST to the next worker in turn; a worker that does not answer
    is skipped for that request (nginx's `proxy_next_upstream error`)."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.turn = itertools.cycle(range(len(upstreams)))
        self.by_worker = [0] * len(upstreams)
        self.skipped = 0
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.session.close()
        await self.runner.cleanup()

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        for _ in self.upstreams:
            n = next(self.turn)
            try:
                async with self.session.post(
                    self.upstreams[n] + request.path_qs, data=body, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as answer:  # fmt: skip
                    payload = await answer.read()
                    self.by_worker[n] += 1
                    return web.Response(status=answer.status, body=payload)
            except (aiohttp.ClientError, TimeoutError):
                self.skipped += 1
        return web.Response(status=502)


def record_edits(fake: FakeBot) -> list[tuple[float, SentMessage]]:
    """When the platform accepted each edit, and of which message (the fake keeps the edits of
    a message, not their times)."""
    edits: list[tuple[float, SentMessage]] = []
    apply = fake._apply_edit

    def applied(method: str, sent: SentMessage, *args: Any) -> Any:
        result = apply(method, sent, *args)
        edits.append((time.monotonic(), sent))
        return result

    fake._apply_edit = applied  # type: ignore[method-assign,assignment]
    return edits


async def fresh_database(admin_url: str) -> str:
    import asyncpg  # type: ignore[import-untyped]

    from storage.db import make_engine
    from storage.migrate import upgrade

    name = f"three_workers_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    engine = make_engine(url)
    try:
        await upgrade(engine)  # once, before the workers (each would otherwise race to do it)
    finally:
        await engine.dispose()
    return url


async def drop_database(admin_url: str, url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def query(url: str, sql: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


@pytest.mark.timeout(600)
async def test_three_workers_on_postgresql_and_redis_behave_as_one_bot(tmp_path: Path) -> None:
    assert DATABASE_URL and REDIS_URL
    # this run's own bots and people: nothing another run left in Redis applies to them
    serial = secrets.randbelow(10**6)
    tokens = {
        Platform.TELEGRAM: f"{7_300_000_000 + serial * 2}:three-{secrets.token_hex(8)}",
        Platform.BALE: f"{7_300_000_001 + serial * 2}:three-{secrets.token_hex(8)}",
    }
    people = 1_000_000 + serial * 100
    api = FakeBotAPI()
    await api.start()
    fakes = {p: api.add_bot(tokens[p], p.value, username=f"three_{p.value}_bot") for p in PLATFORMS}
    rules = load_rules(ROOT / "routing_rules.yaml")
    groups: dict[tuple[str, Platform], Any] = {}
    for unit in rules.units.values():
        for platform, chat_id in unit.chats.items():
            groups[(unit.key, platform)] = fakes[platform].group_chat(chat_id, unit.name)
    for platform, ids in rules.admins.items():
        for chat_id in ids:
            fakes[platform].group_chat(chat_id, "مدیران")
    for group in groups.values():
        group.promote(FakeGroup.DEFAULT_MEMBER_ID)
    edits = record_edits(fakes[Platform.TELEGRAM])

    url = await fresh_database(DATABASE_URL)
    env = bot_env(
        tmp_path,
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL,
        TELEGRAM_BOT_TOKEN=tokens[Platform.TELEGRAM],
        BALE_BOT_TOKEN=tokens[Platform.BALE],
        TELEGRAM_API_URL=api.base_url,
        BALE_API_URL=api.base_url,
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        BALE_WEBHOOK_SECRET=BALE_SECRET,
        TELEGRAM_MESSAGES_PER_SECOND=str(RATE),
        BALE_MESSAGES_PER_SECOND="30",
        SLA_CHECK_SECONDS="1",
        FILINGS_PER_HOUR="0",
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    ports = [free_port() for _ in range(WORKERS)]
    logs = [(tmp_path / f"worker{n}.log").open("wb") for n in range(WORKERS)]
    procs: list[asyncio.subprocess.Process] = []
    proxy = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    killed: list[Kill] = []  # no restart: the other workers send meanwhile

    async def launch(n: int) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", "--port", str(ports[n]),
            cwd=tmp_path, env=env, stdout=logs[n], stderr=logs[n],
        )  # fmt: skip
        procs.append(proc)  # stopped at the end whatever happens next
        for _ in range(600):
            if await healthy(f"http://127.0.0.1:{ports[n]}"):
                return proc
            assert proc.returncode is None, f"worker {n} exited with {proc.returncode}"
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker {n} never answered /healthz")

    def handled() -> int:
        return sum(f.handled_count() for f in fakes.values())

    async def file(platform: Platform, n: int) -> tuple[Platform, int, str]:
        fake = fakes[platform]
        citizen = fake.private_chat(people + n, name_of(n))
        replies: list[SentMessage] = []
        for how, value in complaint_steps(n):

            async def act(how: str = how, value: Any = value) -> list[SentMessage]:
                return await getattr(citizen, how)(value, timeout=STEP)  # type: ignore[no-any-return]

            replies = await patient(fake, citizen.chat_id, act, wait=PATIENCE)
        return platform, n, tracking_code(replies)

    def card_of(platform: Platform, n: int, code: str) -> Any:
        shown = to_persian_digits(code)
        group = groups[(unit_of(n), platform)].id
        return lambda m: (
            m.chat_id == group and m.method == "sendMessage" and shown in (m.text or "")
            and "کد رهگیری" in (m.text or "")
        )  # fmt: skip

    async def claim(platform: Platform, n: int, code: str) -> SentMessage:
        fake, group = fakes[platform], groups[(unit_of(n), platform)]
        card = await fake.wait_for(card_of(platform, n, code), timeout=PATIENCE)
        await claim_card(fake, group, card, n, step_timeout=STEP, wait=PATIENCE)
        return card

    def escalated(platform: Platform, n: int, code: str) -> Any:
        shown, group = to_persian_digits(code), groups[(unit_of(n), platform)].id
        return lambda m: (
            m.chat_id == group and "مهلت پاسخ درخواست" in (m.text or "") and shown in (m.text or "")
        )

    def answer_of(n: int) -> str:
        return f"پاسخ کارشناس به {name_of(n)}: فردا بازدید می‌شود."

    def told(n: int) -> Any:
        return lambda m: m.chat_id == people + n and answer_of(n) in (m.text or "")

    async def answer(platform: Platform, n: int, card: SentMessage) -> None:
        fake, group = fakes[platform], groups[(unit_of(n), platform)]
        staff = group.as_admin(900 + n, "کارشناس")
        await patient(
            fake,
            group.id,
            lambda: staff.send(answer_of(n), reply_to=card, timeout=STEP),
            wait=PATIENCE,
        )

    citizens = [(p, i * 2 + k) for i in range(PER_PLATFORM) for k, p in enumerate(PLATFORMS)]
    steps = len(citizens) * len(complaint_steps(0))
    try:
        for n in range(WORKERS):
            await launch(n)
        await proxy.start()
        exit_code, _, err = await run_main(["set-webhook", proxy.base], cwd=tmp_path, env=env)
        assert exit_code == 0, err
        async with watch_inbox(url, *fakes.values()):

            async def killer() -> None:
                await wait_until(lambda: handled() >= steps // 3, what="a third", timeout=300)
                now = time.monotonic()
                killed.append(Kill(now, restarted=now))
                procs[1].send_signal(signal.SIGKILL)
                await procs[1].wait()

            async def staggered(p: Platform, n: int) -> tuple[Platform, int, str]:
                await asyncio.sleep(n * 0.3)
                return await file(p, n)

            filed, _ = await asyncio.gather(
                asyncio.gather(*(staggered(p, n) for p, n in citizens)), killer()
            )
            answered = [(p, n, c) for p, n, c in filed if n // 2 < PER_PLATFORM - UNANSWERED]
            late = [(p, n, c) for p, n, c in filed if n // 2 >= PER_PLATFORM - UNANSWERED]
            cards = await asyncio.gather(*(claim(p, n, c) for p, n, c in answered))
            burst = time.monotonic()
            await asyncio.gather(
                *(answer(p, n, card) for (p, n, _), card in zip(answered, cards, strict=True))
            )
            for platform, n, _ in answered:
                await fakes[platform].wait_for(told(n), timeout=PATIENCE)
            # past the deadline: the deadlines job (every second, in each worker) escalates
            await query(url, "UPDATE requests SET due_at = now() - interval '1 minute' "
                        "WHERE code = ANY($1)", [c for _, _, c in late])  # fmt: skip
            for platform, n, code in late:
                await fakes[platform].wait_for(escalated(platform, n, code), timeout=60)
            await asyncio.sleep(3)  # three more ticks of the job in each live worker
        for n, proc in enumerate(procs):
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), 30) == 0, f"worker {n} stops cleanly"
        requests = await query(
            url, "SELECT code, platform, chat_id, name, text, unit FROM requests"
        )
        escalations = await query(
            url, "SELECT request_code, count(*) AS n FROM events WHERE action = 'escalated' "
            "GROUP BY request_code"
        )  # fmt: skip
        leftover = await query(url, "SELECT count(*) AS n FROM update_inbox WHERE state <> 'done'")
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        for log in logs:
            log.close()
        with contextlib.suppress(Exception):
            await proxy.stop()
        await api.stop()
        with contextlib.suppress(Exception):  # never hide the test's own failure
            await drop_database(DATABASE_URL, url)
        with contextlib.suppress(Exception):
            await forget_redis(REDIS_URL, [int(t.split(":")[0]) for t in tokens.values()])

    assert killed, "a worker was killed midway"
    assert all(proxy.by_worker), f"every worker took updates: {proxy.by_worker}"
    # every filing stored once, under the chat it came from
    in_db = {r["code"]: tuple(r)[1:] for r in requests}
    assert len(in_db) == len(requests) == len(citizens), "each filing stored once"
    for platform, n, code in filed:
        said = [value for how, value in complaint_steps(n) if how == "send"]
        assert said[1] == name_of(n), "the steps as complaint_steps has them"
        # each answer in its place: the conversation went step by step, in order
        assert in_db[code] == (platform.value, people + n, name_of(n), said[-1], unit_of(n)), (
            f"{code} filed as it was sent"
        )
        fake = fakes[platform]
        shown = to_persian_digits(code)
        assert_once_unless_cut(fake, people + n, killed, shown, "ثبت شد")  # the receipt
        copies = [m for m in fake.sent if card_of(platform, n, code)(m)]
        assert copies and all(
            g <= CUT_WINDOW for g in cut_gaps([m.at for m in copies[:-1]], killed)
        ), f"{len(copies)} cards of {code}"
    for platform, n, _ in answered:
        assert_once_unless_cut(fakes[platform], people + n, killed, answer_of(n))
    # the job: each late request escalated once, its unit told once, by three workers
    assert {r["request_code"]: r["n"] for r in escalations} == {c: 1 for _, _, c in late}
    for platform, n, code in late:
        notes = [m for m in fakes[platform].sent if escalated(platform, n, code)(m)]
        assert len(notes) == 1, f"{len(notes)} escalation notes of {code}"
    assert leftover[0]["n"] == 0, "every update stored was handled"
    # Telegram's rate across the workers: the answers and the card refreshes, all queued at
    # once by the staff's replies (sent by the outbox, each taking its slot in Redis)
    telegram = fakes[Platform.TELEGRAM]
    mine = {people + n: answer_of(n) for p, n, _ in answered if p is Platform.TELEGRAM}
    cards_shown = {  # every copy (a kill may have sent a card twice: the last is refreshed)
        m.message_id for p, n, code in answered if p is Platform.TELEGRAM
        for m in telegram.sent if card_of(p, n, code)(m)
    }  # fmt: skip
    times = sorted(
        [m.at for m in telegram.sent
         if m.at >= burst and m.chat_id in mine and mine[m.chat_id] in (m.text or "")]
        + [at for at, m in edits if at >= burst and m.message_id in cards_shown]
    )  # fmt: skip
    assert len(times) >= 2 * len(mine), f"answers and refreshes: {len(times)}"
    # over 3-second windows: a stall of this busy test process may bunch a few timestamps
    # (they are taken when the fake takes a call); without the shared rate about 12 fall in one
    worst = max(sum(1 for t in times[i:] if t < start + 3) for i, start in enumerate(times))
    assert worst <= 3 * RATE + 1, f"{worst} sends in 3 s on Telegram at {RATE} a second"
    assert times[-1] - times[0] >= 0.9 * (len(times) - 1) / RATE, "the sends kept the pace"
    unexpected = [
        v for f in fakes.values() for v in f.violations
        if not v.startswith("answerCallbackQuery: Bad Request: query is too old")
    ]  # fmt: skip
    assert not unexpected, unexpected
    written = [(tmp_path / f"worker{n}.log").read_text(errors="replace") for n in range(WORKERS)]
    for secret in (*tokens.values(), TELEGRAM_SECRET, BALE_SECRET):
        assert not any(secret in log for log in written), "a secret leaked into a worker's log"
    assert not any("Traceback" in log for log in written), "a worker failed unexpectedly"
    print(
        f"\nthree workers: {len(citizens)} citizens, {handled()} updates handled; updates per "
        f"worker {proxy.by_worker}, {proxy.skipped} posts passed on from the killed worker"
    )
