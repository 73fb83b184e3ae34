"""Soak: citizens on both platforms file, staff claim and answer, for a few minutes, while the
fake Bot API answers like reality does (a random mix of rate limits in every shape, 5xx pages,
dropped connections, answers that cannot be parsed, Bale's stub edits), one unit's group
refuses the bot for a while, and the real `python -m bot` is killed with -9 twice.

Every receipt, card, card refresh and answer arrives; nothing arrives twice unless the API
confirmed it in the instant before a kill (CUT_WINDOW) or read it after the kill, before the
restart (`Kill`); the refusing group's queue resumes
within the held-retry bound once it takes the bot back; every parked row was alerted.
The figures are printed (`-s`) and quoted in the README.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.workers.delivery import HELD_RETRY
from desk.model import Platform
from desk.text import to_persian_digits
from tests.e2e.conftest import BALE_TOKEN, Front, wait_until
from tests.e2e.helpers import tracking_code, watch_inbox
from tests.e2e.test_faults import (
    CUT_WINDOW,
    PLATFORMS,
    Kill,
    assert_once_unless_cut,
    claim_card,
    complaint_steps,
    cut_gaps,
    launch_bot,
    name_of,
    patient,
    tear_down,
    unit_of,
)
from tests.e2e.test_process import process_env
from tests.fakebotapi import FakeBotAPI, SentMessage

PER_PLATFORM = 30
HELD_SPELL = 12.0  # seconds the refusing group keeps the bot out
STEP = 15.0  # a person waits this long for an answer before assuming the bot is down
PATIENCE = 150.0


def steps(n: int) -> list[tuple[str, Any]]:
    """A complaint with one photo, routed to `unit_of(n)`."""
    return complaint_steps(n, photo=True)


def saying(chat_id: int, text: str) -> Callable[[SentMessage], bool]:
    """A message to this chat that contains `text`."""
    return lambda m: m.chat_id == chat_id and text in (m.text or "")


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_soak_under_reality_with_two_kills(tmp_path: Path) -> None:
    rng = random.Random(2026)
    api = FakeBotAPI()
    await api.start()
    db = tmp_path / "bot.db"
    front = Front(api, f"sqlite+aiosqlite:///{db}")  # the fake's side; the bot is a process
    env = process_env(tmp_path, api, BALE_MESSAGES_PER_SECOND="30", FILINGS_PER_HOUR="0")
    log_path = tmp_path / "bot.log"
    log = log_path.open("wb")
    fakes = (front.telegram, front.bale)
    held_group = front.group(unit_of(1), Platform.BALE)  # a Bale unit's group refuses for a while

    async def launch() -> asyncio.subprocess.Process:
        return await launch_bot(fakes, tmp_path, env, log, timeout=90)

    def handled() -> int:
        return sum(f.handled_count() for f in fakes)

    total = 2 * PER_PLATFORM * (len(steps(0)) + 2)  # + a claim and an answer each
    kill_at = sorted(rng.sample(range(total // 5, total * 7 // 10), 2))
    kills: list[Kill] = []
    spell: dict[str, float] = {}
    started = time.monotonic()
    watching = watch_inbox(db, *fakes)
    await watching.__aenter__()
    proc = await launch()
    api.reality(seed=2026, rate=0.08)

    async def killer() -> None:
        nonlocal proc
        for point in kill_at:
            await wait_until(lambda p=point: handled() >= p, what=f"{point} handled", timeout=400)
            await asyncio.sleep(rng.random() * 0.3)
            killed = time.monotonic()
            proc.kill()
            await proc.wait()
            proc = await launch()
            kills.append(Kill(killed, restarted=time.monotonic()))

    async def refuser() -> None:
        # from the group's first card on: its claim, answer and refreshes follow in the spell
        await wait_until(
            lambda: any(m.chat_id == held_group.id for m in front.bale.sent),
            what="a card in the refusing group",
            timeout=400,
        )
        spell["from"] = time.monotonic()
        api.refuse_chat(BALE_TOKEN, held_group.id, HELD_SPELL, kind="403_kicked")
        spell["to"] = spell["from"] + HELD_SPELL

    async def person(platform: Platform, n: int) -> tuple[Platform, int, str, str]:
        fake = front.bot(platform)
        citizen = fake.private_chat(30_000 + n, f"شهروند{n}")
        await asyncio.sleep(rng.random() * 20)
        replies: list[SentMessage] = []
        for how, value in steps(n):

            async def act(how: str = how, value: Any = value) -> list[SentMessage]:
                if how == "send_photo":
                    return await citizen.send_photo(timeout=STEP)
                return await getattr(citizen, how)(value, timeout=STEP)  # type: ignore[no-any-return]

            replies = await patient(fake, citizen.chat_id, act, wait=PATIENCE)
        code = tracking_code(replies)
        group = front.group(unit_of(n), platform)
        shown = to_persian_digits(code)
        card = await fake.wait_for(
            lambda m: (
                m.chat_id == group.id and m.method == "sendMessage" and shown in (m.text or "")
            ),
            timeout=PATIENCE,
        )
        staff = await claim_card(fake, group, card, n, step_timeout=STEP, wait=PATIENCE)
        answer = f"پاسخ کارشناس به {name_of(n)}: فردا بازدید می‌شود."
        await patient(
            fake, group.id, lambda: staff.send(answer, reply_to=card, timeout=STEP), wait=PATIENCE
        )
        return platform, n, code, answer

    try:
        runs = [person(p, i * 2 + k) for i in range(PER_PLATFORM) for k, p in enumerate(PLATFORMS)]
        results, _, _ = await asyncio.gather(asyncio.gather(*runs), killer(), refuser())
        for platform, n, _code, answer in results:
            await front.bot(platform).wait_for(saying(30_000 + n, answer), timeout=PATIENCE)

        def drained() -> bool:
            with sqlite3.connect(db) as conn:
                return not conn.execute(
                    "select count(*) from outbox where sent_at is null and not failed"
                ).fetchone()[0]

        await wait_until(drained, what="the outbox drained", timeout=PATIENCE)
        api.reality_off()
        elapsed = time.monotonic() - started
    finally:
        await tear_down(proc, api, log, watching)

    assert len(kills) == 2 and spell, (kills, spell)
    with sqlite3.connect(db) as conn:
        in_db = {r[0]: r[1:] for r in conn.execute("select code, platform, chat_id from requests")}
        parked = conn.execute(
            "select id, kind, alerted, last_error from outbox where failed and sent_at is null"
        ).fetchall()
        held = conn.execute("select count(*) from held_chats").fetchone()[0]
    cut_gaps_seen: list[float] = []  # from a copy the API confirmed to the kill that cut its record
    for platform, n, code, answer in results:
        fake = front.bot(platform)
        assert in_db[code] == (platform.value, 30_000 + n), f"{code} filed as it was sent"
        shown = to_persian_digits(code)
        cut_gaps_seen += assert_once_unless_cut(fake, 30_000 + n, kills, shown, "ثبت شد")  # receipt
        cut_gaps_seen += assert_once_unless_cut(fake, 30_000 + n, kills, answer)  # the answer
        group = front.group(unit_of(n), platform).id
        # the card: a second copy only after a kill, or after an answer that named no message
        # id (the refresh then sends a new card: staff see the truth)
        copies = [
            m
            for m in fake.sent
            if m.chat_id == group
            and m.method == "sendMessage"
            and shown in (m.text or "")
            and "کد رهگیری" in (m.text or "")
        ]
        assert copies, f"no card of {code}"
        # a copy answered unreadably is excused (the refresh sends the card anew); each other
        # early copy needs a kill of its own
        early = [c for c in copies[:-1] if not c.unreadable_answer]
        gaps = cut_gaps([c.at for c in early], kills)
        cut_gaps_seen += gaps
        assert all(gap <= CUT_WINDOW for gap in gaps), (
            f"{len(copies)} cards of {code}, one neither cut by a kill nor unreadable: "
            f"sent at {[round(c.at, 2) for c in copies]}, kills at "
            f"{[(round(k.at, 2), round(k.restarted, 2)) for k in kills]}; the bot's log of it: "
            f"{[line for line in log_path.read_text().splitlines() if code in line]}"
        )
        cards = copies
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "select id, kind, sent_at is not null, failed, attempts, last_error from outbox"
                " where request_code = ? order by id",
                (code,),
            ).fetchall()
        assert any(answer[:20] in (c.current_text() or "") for c in cards), (
            f"the card of {code} was refreshed to show the answer: "
            f"{[(c.message_id, c.current_text(), c.edit_methods) for c in cards]}; rows {rows}"
        )
        # the photo is threaded under the card, unless the platform's answer to the card
        # named no message id: then it follows in the group unthreaded
        unthreaded = cards[0].unreadable_answer
        photos = [
            m
            for m in fake.sent
            if m.chat_id == group
            and m.method == "sendPhoto"
            and m.at >= cards[0].at
            and (unthreaded or m.reply_to_message_id in {c.message_id for c in cards})
        ]
        assert photos, f"the photo of {code} followed its card"
    assert len(in_db) == len(results), "no request was filed twice"
    assert held == 0, "the refusing group is no longer held"
    assert all(alerted for _, _, alerted, _ in parked), f"every parked row was alerted: {parked}"

    # the held group: refused for HELD_SPELL seconds, then its queue resumed within the bound
    bale = front.bale
    # the sends the refusal turned away (not the look-ups of the group's administrators, which
    # a staff member's press makes and which hold nothing: only a refused send holds a group)
    refused_calls = [
        m for m, c in bale.refused if c == held_group.id and m != "getChatAdministrators"
    ]
    after = [m.at for m in bale.sent if m.chat_id == held_group.id and m.at >= spell["to"]]
    assert refused_calls, "the refusing group refused some of the bot's sends"
    assert after, "the group's queue went on once it took the bot back"
    resumed = min(after) - spell["to"]
    assert resumed <= HELD_RETRY + 5, f"the held group waited {resumed:.1f}s after it was back"
    told = [
        m
        for p in Platform
        for m in front.bot(p).sent
        if m.chat_id == front.admins(p).id and "نمی‌تواند در گروه" in (m.text or "")
    ]
    assert 1 <= len(told) <= 2 * 3, (
        f"the admin chats were told (once per hold, per platform): refused {refused_calls}"
    )
    for fake in fakes:
        # a button press handled again after a kill is answered again, and the platform
        # refuses that second answer: expected, and the bot goes on (ForgivingCallbackAnswers)
        unexpected = [
            v
            for v in fake.violations
            if not v.startswith("answerCallbackQuery: Bad Request: query is too old")
        ]
        assert not unexpected, unexpected
    duplicates = sum(
        len(
            [
                m
                for m in f.sent
                if m.chat_id == c and m.method == "sendMessage" and (m.text or "") == t
            ]
        )
        - 1
        for f in fakes
        for c, t in {(m.chat_id, m.text) for m in f.sent if m.method == "sendMessage" and m.text}
    )
    print(
        f"\nsoak: {len(results)} citizens, {handled()} updates handled in {elapsed:.0f}s, "
        f"kills at {[round(k.at - started) for k in kills]}s; injected {dict(api.injected)}; "
        f"held group refused {len(refused_calls)} calls and resumed {resumed:.1f}s after the "
        f"spell; {len(told)} held alerts; parked {len(parked)}; identical texts sent twice "
        f"{duplicates}; {len(cut_gaps_seen)} receipts, answers "
        f"or cards sent again after a kill, their first copy confirmed "
        f"{min(cut_gaps_seen, default=0):.2f} to {max(cut_gaps_seen, default=0):.2f}s before it"
    )
