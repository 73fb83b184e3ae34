"""Faults on purpose: `kill -9` of the real `python -m bot` while citizens file and staff answer,
a Bot API that answers 429 / 5xx / slowly / not at all, and a database that refuses to write."""

from __future__ import annotations

import asyncio
import math
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from bot.ui import texts
from desk.model import ChatRef, Platform
from desk.text import to_persian_digits
from storage.repositories import SqlUnitOfWork
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN, Front, wait_until
from tests.e2e.helpers import run_main, said, tracking_code, watch_inbox
from tests.e2e.test_process import process_env
from tests.fakebotapi import FakeBot, FakeBotAPI, SentMessage

PLATFORMS = (Platform.TELEGRAM, Platform.BALE)
COUNTIES = {
    "birjand": "بیرجند", "qaenat": "قائنات", "ferdows": "فردوس", "nehbandan": "نهبندان",
    "sarbisheh": "سربیشه", "darmian": "درمیان", "sarayan": "سرایان", "boshruyeh": "بشرویه",
    "khusf": "خوسف", "zirkuh": "زیرکوه",
}  # fmt: skip
# (topic button, county button, unit): twenty units, so that no staff group's own limit
# (20 messages a minute on Telegram) is what the test waits for
ROUTES = [
    ("آب و آبیاری", "فردوس", "water_soil"),
    ("زراعت", "بیرجند", "agronomy"),
    ("باغبانی", "قائنات", "horticulture"),
    ("دام و طیور", "نهبندان", "livestock"),
    ("آفات و بیماری‌های گیاهی", "سربیشه", "plant_protection"),
    ("اراضی و تغییر کاربری", "درمیان", "land_affairs"),
    ("بیمه محصولات کشاورزی", "سرایان", "insurance"),
    ("نهاده‌ها (بذر، کود، سم، علوفه)", "بشرویه", "commerce"),
    ("ترویج و آموزش", "خوسف", "extension"),
    ("شیلات و آبزیان", "زیرکوه", "fisheries"),
    *[("مجوزها و پروانه‌ها", name, f"county_{key}") for key, name in COUNTIES.items()],
]


def unit_of(n: int) -> str:
    """The unit citizen n's complaint is routed to."""
    return ROUTES[n % len(ROUTES)][2]


def name_of(n: int) -> str:
    """A distinct valid name per citizen (names take letters only)."""
    return "شهروند " + "".join("ابپتثجچحخد"[int(d)] for d in str(n))


def complaint_steps(n: int, *, photo: bool = False) -> list[tuple[str, Any]]:
    """The steps of a complaint (without attachments, or with one photo), routed to
    `unit_of(n)`."""
    topic, county, _unit = ROUTES[n % len(ROUTES)]
    return [
        ("send", "/start"),
        ("click", texts.BTN_COMPLAINT),
        ("click", topic),
        ("click", county),
        ("send", name_of(n)),
        ("send_contact", "+989151234567"),
        ("click", texts.BTN_NO_NATIONAL_CODE),
        ("send", f"آب چاه کشاورزی شماره {to_persian_digits(str(n))} سه هفته است قطع شده."),
        *(
            [("send_photo", None), ("click", texts.BTN_DONE)]
            if photo
            else [("click", texts.BTN_NO_ATTACHMENTS)]
        ),
        ("click", texts.BTN_CONFIRM),
    ]


async def patient(
    fake: FakeBot, chat_id: int, act: Callable[[], Awaitable[list[SentMessage]]], *, wait: float
) -> list[SentMessage]:
    """One step of a person who does not give up: if the bot is down (no answer in time), the
    update stays pending (with the messenger or in the bot's inbox); wait until the restarted
    bot has handled it and return
    what it said meanwhile. (Sending again would be a second, different update.)"""
    update_id = fake._next_update_id  # the update `act` pushes (no await before the push)
    mark = len(fake.sent)
    try:
        return await act()
    except TimeoutError:
        await wait_until(
            lambda: fake.is_handled(update_id), what=f"update {update_id}", timeout=wait
        )
        return [m for m in fake.sent[mark:] if m.chat_id == chat_id]


async def file_complaint(
    front: Front, platform: Platform, n: int, *, step_timeout: float, wait: float
) -> str:
    """A citizen files a complaint step by step; returns the tracking code of the receipt."""
    fake = front.bot(platform)
    citizen = fake.private_chat(20_000 + n, f"شهروند{n}")
    replies: list[SentMessage] = []
    for how, value in complaint_steps(n):

        async def act(how: str = how, value: Any = value) -> list[SentMessage]:
            return await getattr(citizen, how)(value, timeout=step_timeout)  # type: ignore[no-any-return]

        replies = await patient(fake, citizen.chat_id, act, wait=wait)
    return tracking_code(replies)


async def answer_card(
    front: Front, platform: Platform, n: int, code: str, *, step_timeout: float, wait: float
) -> str:
    """Staff wait for the card and answer by replying to it; returns the answer text."""
    fake = front.bot(platform)
    group = front.group(unit_of(n), platform)
    shown = to_persian_digits(code)
    card = await fake.wait_for(
        lambda m: m.chat_id == group.id and m.method == "sendMessage" and shown in (m.text or ""),
        timeout=wait,
    )
    answer = f"پاسخ کارشناس به {name_of(n)}: کارشناس فردا بازدید می‌کند."
    staff = group.as_admin(900, "کارشناس")
    await patient(
        fake, group.id, lambda: staff.send(answer, reply_to=card, timeout=step_timeout), wait=wait
    )
    return answer


async def claim_card(
    fake: FakeBot, group: Any, card: SentMessage, n: int, *, step_timeout: float, wait: float
) -> Any:
    """Staff member 900 + n presses «برداشتن» on the card, waiting out a bot that is down;
    returns them (to answer next)."""
    staff = group.as_admin(900 + n, "کارشناس")
    await patient(
        fake,
        group.id,
        lambda: staff.click(texts.BTN_CLAIM, message=card, timeout=step_timeout),
        wait=wait,
    )
    return staff


def answered(chat_id: int, answer: str, m: SentMessage) -> bool:
    """The staff answer reached this chat."""
    return m.chat_id == chat_id and answer in (m.text or "")


def assert_once(fake: FakeBot, chat_id: int, *contains: str) -> None:
    """Exactly one message the API confirmed (sendMessage) to this chat contains all the texts."""
    hits = [
        m
        for m in fake.sent
        if m.chat_id == chat_id
        and m.method == "sendMessage"
        and all(c in (m.text or "") for c in contains)
    ]
    assert len(hits) == 1, f"{len(hits)} messages to {chat_id} contain {contains!r}"


async def launch_bot(
    fakes: tuple[FakeBot, ...], cwd: Path, env: dict[str, str], log: Any, *, timeout: float
) -> asyncio.subprocess.Process:
    """Start the real `python -m bot`; return once every platform has polled."""
    marks = [len(f.calls) for f in fakes]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env, stdout=log, stderr=log
    )
    await wait_until(
        lambda: all(
            any(m == "getUpdates" for m, _ in f.calls[mark:])
            for f, mark in zip(fakes, marks, strict=True)
        ),
        what="every platform polling",
        timeout=timeout,
    )
    return proc


async def tear_down(
    proc: asyncio.subprocess.Process, api: FakeBotAPI, log: Any, watching: Any = None
) -> None:
    """The end of a real-process test: the bot killed if it still runs, the inbox watcher
    left, the log closed, the fake API stopped."""
    if proc.returncode is None:
        proc.kill()
        await proc.wait()
    if watching is not None:
        await watching.__aexit__(None, None, None)
    log.close()
    await api.stop()


# ------------------------------------------------------------------------------------ kill -9
# A message the API confirmed can go out a second time only if the bot was killed after the
# API confirmed it and before the bot recorded that (a database write: milliseconds, more under
# load). Copies sent earlier than this before a kill are duplicates the bot had no excuse for.
CUT_WINDOW = 1.0


@dataclass(frozen=True)
class Kill:
    """A kill -9 of the bot, and when its successor was up (polling). A request the killed
    process wrote just before it died may be read by the fake API (its event loop busy with
    the citizens' side) after the kill: until the successor runs nothing else can send it."""

    at: float
    restarted: float


def cut_gaps(copies: list[float], kills: list[Kill]) -> list[float]:
    """For each early copy of one message (when the API took it), the seconds to the kill that
    cut its record (negative: the API read it after the kill, before the restart); inf where
    no kill explains it. A kill explains one copy: a message sent twice by the process it
    killed was sent twice for no reason."""
    used: set[int] = set()
    gaps = []
    for at in copies:
        cut = next((i for i, k in enumerate(kills) if at <= k.restarted), None)
        if cut is None or cut in used or kills[cut].at - at > CUT_WINDOW:
            gaps.append(math.inf)
            continue
        used.add(cut)
        gaps.append(kills[cut].at - at)
    return gaps


def assert_once_unless_cut(
    fake: FakeBot, chat_id: int, kills: list[Kill], *contains: str
) -> list[float]:
    """At least one message to this chat contains all the texts; each earlier copy was cut by
    a kill of its own (`cut_gaps`). Returns those gaps."""
    hits = [
        m
        for m in fake.sent
        if m.chat_id == chat_id
        and m.method == "sendMessage"
        and all(c in (m.text or "") for c in contains)
    ]
    assert hits, f"nothing to {chat_id} contains {contains!r}"
    gaps = cut_gaps([early.at for early in hits[:-1]], kills)
    assert all(gap <= CUT_WINDOW for gap in gaps), (
        f"{len(hits)} messages to {chat_id} contain {contains!r}, the first not cut by a "
        f"kill: sent at {[round(h.at, 2) for h in hits]}, "
        f"kills at {[(round(k.at, 2), round(k.restarted, 2)) for k in kills]}"
    )
    return gaps


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_kill_9_at_random_points_while_200_citizens_file_and_staff_answer(
    tmp_path: Path,
) -> None:
    rng = random.Random(7)
    per_platform = 100
    api = FakeBotAPI()
    await api.start()
    db = tmp_path / "bot.db"
    # The fake's side only (bots, staff groups); the bot itself is the subprocess below.
    front = Front(api, f"sqlite+aiosqlite:///{db}")
    env = process_env(tmp_path, api)
    log = (tmp_path / "bot.log").open("wb")
    fakes = (front.telegram, front.bale)

    async def launch() -> asyncio.subprocess.Process:
        return await launch_bot(fakes, tmp_path, env, log, timeout=60)

    def handled() -> int:
        return sum(f.handled_count() for f in fakes)

    steps = len(complaint_steps(0))
    total = 2 * per_platform * (steps + 1)  # + one staff answer each
    kill_at = sorted(rng.sample(range(total // 10, total * 8 // 10), 3))
    kills: list[Kill] = []
    watching = watch_inbox(db, *fakes)
    await watching.__aenter__()
    proc = await launch()

    async def killer() -> None:
        nonlocal proc
        for point in kill_at:
            await wait_until(
                lambda p=point: handled() >= p, what=f"{point} handled updates", timeout=180
            )
            await asyncio.sleep(rng.random() * 0.3)  # somewhere inside the next handlers
            killed = time.monotonic()
            proc.kill()
            await proc.wait()
            proc = await launch()
            kills.append(Kill(killed, restarted=time.monotonic()))

    async def citizen(platform: Platform, n: int) -> tuple[Platform, int, str, str]:
        await asyncio.sleep(rng.random() * 3)
        code = await file_complaint(front, platform, n, step_timeout=10, wait=120)
        answer = await answer_card(front, platform, n, code, step_timeout=10, wait=120)
        return platform, n, code, answer

    try:
        runs = [citizen(p, i * 2 + k) for i in range(per_platform) for k, p in enumerate(PLATFORMS)]
        results, _ = await asyncio.gather(asyncio.gather(*runs), killer())
        assert len(kills) == 3, kills

        # every update the bot had fetched but not finished is handled after the last restart
        await wait_until(lambda: all(f.unhandled() == 0 for f in fakes), what="all handled")
        for platform, n, _code, answer in results:
            fake = front.bot(platform)
            await fake.wait_for(partial(answered, 20_000 + n, answer), timeout=120)
    finally:
        await tear_down(proc, api, log, watching)

    with sqlite3.connect(db) as conn:
        in_db = {
            row[0]: row[1:] for row in conn.execute("select code, platform, chat_id from requests")
        }
    for platform, n, code, answer in results:
        assert code in in_db, f"{code} got a receipt but is not in the database"
        assert in_db[code] == (platform.value, 20_000 + n)
        fake = front.bot(platform)
        shown = to_persian_digits(code)
        assert_once_unless_cut(fake, 20_000 + n, kills, shown, "ثبت شد")  # the receipt
        assert_once_unless_cut(fake, 20_000 + n, kills, answer)
        group = front.group(unit_of(n), platform).id
        assert_once_unless_cut(fake, group, kills, shown, "کد رهگیری")  # the card
    assert len(in_db) == len(results), "no request was filed twice"
    for fake in fakes:
        assert not fake.violations, fake.violations


# ------------------------------------------------------------------------------------ API faults
@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_api_429_5xx_slow_and_dropped_for_a_minute_loses_nothing(front: Front) -> None:
    """For a minute, four API calls a second fail: 429 with retry_after, Bale's rate-limit
    error, 500, a response slower than the client waits, a dropped connection. Twenty citizens
    file meanwhile and staff answer: every reply, card and answer arrives, none twice."""
    rng = random.Random(11)
    faulty = asyncio.Event()

    async def storm(seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            kind = rng.choice(["429", "500", "timeout", "drop", "bale_limit"])
            token = rng.choice([TELEGRAM_TOKEN, BALE_TOKEN])
            if kind == "bale_limit" and token == TELEGRAM_TOKEN:
                kind = "429"
            method = rng.choice(["sendMessage", "sendMessage", "editMessageText", None])
            front.api.fail(
                method,
                kind,
                times=1,
                retry_after=1,
                delay=1.5 if kind == "timeout" else 0,
                token=token,
            )
            faulty.set()
            await asyncio.sleep(0.25)
        # a fault waits for a matching call; the minute is over, unused ones with it
        front.api.clear_faults()

    async def citizen(platform: Platform, n: int) -> tuple[Platform, int, str, str]:
        await faulty.wait()
        await asyncio.sleep(rng.random() * 20)
        code = await file_complaint(front, platform, n, step_timeout=150, wait=150)
        answer = await answer_card(front, platform, n, code, step_timeout=150, wait=150)
        return platform, n, code, answer

    runs = [citizen(p, 100 + i * 2 + k) for i in range(10) for k, p in enumerate(PLATFORMS)]
    results, _ = await asyncio.gather(asyncio.gather(*runs), storm(60))
    for platform, n, code, answer in results:
        fake = front.bot(platform)
        # an outbox row waits at most a minute more once the storm is over
        await fake.wait_for(partial(answered, 20_000 + n, answer), timeout=90)
        assert_once(fake, 20_000 + n, answer)
        assert_once(
            fake, front.group(unit_of(n), platform).id, to_persian_digits(code), "کد رهگیری"
        )
    await front.delivered(timeout=90)  # a row backs off a minute at most after the storm
    assert (await front.outbox())["pending"] == 0
    assert any(m == "sendMessage" for m, _ in front.telegram.calls), "faults really hit"


# ------------------------------------------------------------------------------------ a crash
@pytest.mark.slow
async def test_a_crash_between_filing_and_receipt_files_once_and_sends_one_receipt(
    front: Front, platform: Platform
) -> None:
    """The request is committed, the receipt is being retried (the API answers 500), the bot
    dies. After the restart the same confirm comes again: the same request, one card, one
    receipt with its code, and the citizen's conversation is over."""
    fake = front.bot(platform)
    chat_id = 20_600
    citizen = fake.private_chat(chat_id, "شهروند")
    for how, value in complaint_steps(600)[:-1]:
        await getattr(citizen, how)(value)
    assert front.app is not None
    sessions = front.app.sessions
    token = TELEGRAM_TOKEN if platform is Platform.TELEGRAM else BALE_TOKEN
    front.api.fail("sendMessage", "500", times=100_000, token=token)
    confirm = fake._next_update_id
    with pytest.raises(TimeoutError):
        await citizen.click(texts.BTN_CONFIRM, timeout=3)

    async def filed() -> list[Any]:
        async with SqlUnitOfWork(sessions) as tx:
            return await tx.requests.by_chat(ChatRef(platform, chat_id), 10)

    assert len(await filed()) == 1, "committed before the receipt"
    await front.crash()
    assert not fake.is_handled(confirm), "cut short by the crash"
    front.api.clear_faults()
    await front.start()
    await wait_until(lambda: fake.is_handled(confirm), what="the confirm handled again")
    await front.delivered()
    mine = await filed()
    assert len(mine) == 1, "filed once"
    shown = to_persian_digits(mine[0].code)
    assert_once(fake, chat_id, shown, "ثبت شد")
    assert_once(fake, front.group(unit_of(600), platform).id, shown, "کد رهگیری")
    assert "خوش آمدید" in said(await citizen.send("/start")), "no draft left to abandon"


# ------------------------------------------------------------------------------------ database
async def test_database_locked_on_confirm_asks_to_try_again_and_keeps_the_draft(
    front: Front, platform: Platform
) -> None:
    fake = front.bot(platform)
    citizen = fake.private_chat(20_500, "شهروند")
    for how, value in complaint_steps(500)[:-1]:
        await getattr(citizen, how)(value)
    assert front.app is not None
    engine = front.app.engine.sync_engine
    refused: list[str] = []

    def locked(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # the handler's writes are refused; the inbox's own (the update stored, its lane
        # claimed) go through, else the update would wait unconfirmed until the lock is gone
        inbox = "update_inbox" in statement or "inbox_lanes" in statement
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and not inbox:
            refused.append(statement.split()[2] if len(statement.split()) > 2 else statement)
            raise OperationalError(statement, None, sqlite3.OperationalError("database is locked"))

    event.listen(engine, "before_cursor_execute", locked)
    try:
        replies = said(await citizen.click(texts.BTN_CONFIRM))
    finally:
        event.remove(engine, "before_cursor_execute", locked)
    assert refused, "the write was attempted"
    assert texts.ERR_TRY_AGAIN in replies
    assert "کد رهگیری" not in replies
    async with SqlUnitOfWork(front.app.sessions) as tx:
        assert await tx.requests.by_chat(ChatRef(platform, 20_500), 10) == [], (
            "nothing half-written"
        )
    assert (await front.outbox())["pending"] == 0, "no notice for a request that does not exist"

    # the lock is gone: the same confirm button on the same summary now files the complaint
    code = tracking_code(await citizen.click(texts.BTN_CONFIRM))
    async with SqlUnitOfWork(front.app.sessions) as tx:
        mine = await tx.requests.by_chat(ChatRef(platform, 20_500), 10)
    assert [r.code for r in mine] == [code]
    assert "۵۰۰" in mine[0].text or "500" in mine[0].text, "the draft was intact"


async def process_rig(tmp_path: Path) -> tuple[FakeBotAPI, Path, Front, dict[str, str]]:
    """A started fake API, the bot's SQLite file, the fake's side of both platforms (a `Front`
    never started: the bot is the process) and the process's environment."""
    api = FakeBotAPI()
    await api.start()
    db = tmp_path / "bot.db"
    return api, db, Front(api, f"sqlite+aiosqlite:///{db}"), process_env(tmp_path, api)


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_restarted_bot_sends_at_once_what_the_killed_one_was_sending(
    tmp_path: Path,
) -> None:
    # the bot dies while a card's send is out; the restarted bot takes that group's queue back
    # at once (it claims chats under the same name), not after the dead one's 60-s claim
    api, db, front, env = await process_rig(tmp_path)
    fakes = (front.telegram, front.bale)
    group = front.group(unit_of(0), Platform.TELEGRAM)
    api.fail("sendMessage", "drop", delay=10, chat_id=group.id)  # the card's send hangs, undone
    log = (tmp_path / "bot.log").open("wb")
    async with watch_inbox(db, *fakes):
        proc = await launch_bot(fakes, tmp_path, env, log, timeout=60)
        try:
            code = await file_complaint(front, Platform.TELEGRAM, 0, step_timeout=10, wait=30)
            await wait_until(lambda: api.injected["drop"] == 1, what="the card's send out")
            proc.kill()
            await proc.wait()
            proc = await launch_bot(fakes, tmp_path, env, log, timeout=60)
            back = time.monotonic()
            shown = to_persian_digits(code)
            card = await front.telegram.wait_for(
                lambda m: m.chat_id == group.id and shown in (m.text or ""), timeout=60
            )
        finally:
            await tear_down(proc, api, log)
    assert card.at - back < 10, f"the card went {card.at - back:.1f} s after the restart"


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_second_bot_under_the_same_worker_name_refuses_to_start(tmp_path: Path) -> None:
    # an operator runs `python -m bot` by hand beside the service on one host: it would share
    # the running bot's claims on inbox lanes and outbox chats, and send the same chats
    api, db, front, env = await process_rig(tmp_path)
    fakes = (front.telegram, front.bale)
    log = (tmp_path / "bot.log").open("wb")
    proc = await launch_bot(fakes, tmp_path, env, log, timeout=60)
    try:
        second = {**env, "WORKER_NAME_WAIT": "0"}  # refused at once, not after a minute
        code, _, err = await asyncio.wait_for(run_main([], cwd=tmp_path, env=second), 60)
        assert code == 1, err
        assert "another bot process runs as worker" in err and ":polling" in err
        assert proc.returncode is None, "the running bot goes on"
        async with watch_inbox(db, *fakes):
            citizen = front.telegram.private_chat(20_900, "شهروند")
            assert said(await citizen.send("/start", timeout=20)), "and still answers"
    finally:
        await tear_down(proc, api, log)
