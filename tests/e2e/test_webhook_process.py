"""`python -m bot webhook` and `python -m bot set-webhook` as an operator runs them: one line for
a missing secret, the webhook registered and removed with one line per platform (the secret
never printed), a real worker process killed -9 right after answering 200 and started again
(the update is answered after the restart, and the conversation goes on), a clean stop on
SIGTERM, no token or secret in the logs."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.ui import texts
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN
from tests.e2e.helpers import run_main
from tests.e2e.test_process import bot_env
from tests.e2e.test_webhook import BALE_SECRET, TELEGRAM_SECRET, free_port
from tests.fakebotapi import FakeBotAPI, SentMessage


def saying(chat_id: int, text: str) -> Callable[[SentMessage], bool]:
    """A message to this chat with this text in it."""
    return lambda m: m.chat_id == chat_id and text in (m.text or "")


async def healthy(base: str) -> bool:
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as answer:
            return answer.status == 200
    except aiohttp.ClientError:
        return False


async def test_webhook_without_a_secret_is_one_line_exit_2(tmp_path: Path) -> None:
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, BALE_BOT_TOKEN=BALE_TOKEN,
                  TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET)  # fmt: skip
    code, out, err = await run_main(["webhook", "--port", "1"], cwd=tmp_path, env=env)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "error: webhook mode needs a secret per platform: set WEBHOOK_SECRET (or "
        "BALE_WEBHOOK_SECRET); make one with `openssl rand -hex 32`"
    ]
    code, _, err = await run_main(["set-webhook", "https://bot.example.ir"], cwd=tmp_path, env=env)
    assert code == 2 and "BALE_WEBHOOK_SECRET" in err and TELEGRAM_SECRET not in err
    short = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, WEBHOOK_SECRET="short-secret")
    code, _, err = await run_main(["webhook"], cwd=tmp_path, env=short)
    assert code == 2 and "WEBHOOK_SECRET" in err and "short-secret" not in err
    code, _, err = await run_main(
        ["set-webhook", "https://bot.example.ir/hook"], cwd=tmp_path, env=env
    )
    assert code == 2 and "without a path" in err


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_worker_killed_after_its_200_answers_after_the_restart(
    tmp_path: Path,
) -> None:
    api = FakeBotAPI()
    await api.start()
    telegram = api.add_bot(TELEGRAM_TOKEN, "telegram")
    bale = api.add_bot(BALE_TOKEN, "bale")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        BALE_BOT_TOKEN=BALE_TOKEN,
        TELEGRAM_API_URL=api.base_url,
        BALE_API_URL=api.base_url,
        TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
        BALE_WEBHOOK_SECRET=BALE_SECRET,
    )
    code, out, err = await run_main(["set-webhook", base], cwd=tmp_path, env=env)
    assert code == 0, err
    assert out.splitlines() == [
        f"telegram: webhook set to {base}/webhook/telegram/<secret>",
        f"bale: webhook set to {base}/webhook/bale/<secret>",
    ]
    assert telegram.webhook_url == f"{base}/webhook/telegram/{TELEGRAM_SECRET}"
    assert bale.webhook_url == f"{base}/webhook/bale/{BALE_SECRET}"
    log = (tmp_path / "bot.log").open("wb")

    async def launch() -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", "--port", str(port),
            cwd=tmp_path, env={**env, "PYTHONPATH": str(Path(__file__).parents[2])},
            stdout=log, stderr=log,
        )  # fmt: skip
        for _ in range(300):
            if await healthy(base):
                return proc
            await asyncio.sleep(0.1)
        raise AssertionError("the webhook worker never answered /healthz")

    proc = None
    try:
        proc = await launch()
        citizens = [telegram.private_chat(9601, "کاربر"), bale.private_chat(9602, "کاربر")]
        for citizen in citizens:
            await citizen.send("/start")  # returns at the 200; the welcome follows
            await citizen.bot.wait_for(saying(citizen.chat_id, "میز خدمت"))
        for citizen in citizens:
            await citizen.send(texts.BTN_HEAD)  # the 200: the update is in the inbox
        proc.kill()  # SIGKILL at once: most likely before it was handled, maybe after
        await proc.wait()
        assert telegram.pending_updates() == bale.pending_updates() == 0, "all confirmed"

        proc = await launch()
        for citizen in citizens:
            await citizen.bot.wait_for(saying(citizen.chat_id, texts.ASK_NAME), timeout=20)
        await asyncio.sleep(0.5)
        for citizen in citizens:
            asked = [m for m in citizen.messages() if texts.ASK_NAME in (m.text or "")]
            # once; twice when the kill fell between the reply and the commit of the update's
            # done mark (the update is then handled again from the old state: README, Design)
            assert len(asked) in (1, 2), len(asked)
            await citizen.send("شهروند آزمایشی")
            await citizen.bot.wait_for(saying(citizen.chat_id, "شماره همراه"), timeout=10)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0, "SIGTERM stops the worker cleanly"

        code, out, _ = await run_main(["set-webhook", "--delete"], cwd=tmp_path, env=env)
        assert code == 0 and out.splitlines() == [
            "telegram: webhook removed (polling works again)",
            "bale: webhook removed (polling works again)",
        ]
        assert telegram.webhook_url == bale.webhook_url == ""
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()
        await api.stop()
    logs = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    assert "webhook mode for telegram, bale" in logs
    assert telegram.calls_of("getUpdates") == [] == bale.calls_of("getUpdates")
    for secret in (TELEGRAM_TOKEN, BALE_TOKEN, TELEGRAM_SECRET, BALE_SECRET):
        assert secret not in logs, "a secret leaked into the logs"


async def test_a_port_already_taken_is_one_line_exit_1(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    api.add_bot(TELEGRAM_TOKEN, "telegram")
    api.add_bot(BALE_TOKEN, "bale")
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, BALE_BOT_TOKEN=BALE_TOKEN,
                  TELEGRAM_API_URL=api.base_url, BALE_API_URL=api.base_url,
                  WEBHOOK_SECRET=TELEGRAM_SECRET)  # fmt: skip
    try:
        code, _, err = await run_main(["webhook", "--port", str(port)], cwd=tmp_path, env=env)
        code_health, _, err_health = await run_main(
            ["run"], cwd=tmp_path, env={**env, "HEALTH_PORT": str(port)}
        )
    finally:
        taken.close()
        await api.stop()
    assert code == 1 and err.strip().splitlines()[-1].startswith(
        f"error: cannot listen on 127.0.0.1:{port} ("
    ), err
    assert code_health == 1 and f"cannot listen on 127.0.0.1:{port}" in err_health
    assert "Traceback" not in err + err_health and TELEGRAM_SECRET not in err
