"""`python -m bot` as an operator runs it: settings errors, polling both platforms,
a kill -9 in the middle of a conversation, a clean stop on SIGTERM, nothing secret in the logs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.ui import texts
from tests.e2e.conftest import BALE_TOKEN, ROOT, TELEGRAM_TOKEN, wait_until
from tests.e2e.helpers import run_main, said, tracking_code, watch_inbox
from tests.fakebotapi import FakeBotAPI


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: only what an operator would set."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_URL"))}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        ROUTING_RULES=str(ROOT / "routing_rules.yaml"),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def process_env(tmp_path: Path, api: FakeBotAPI, **extra: str) -> dict[str, str]:
    """The environment of a real `python -m bot` against the fake API on both platforms."""
    return bot_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        BALE_BOT_TOKEN=BALE_TOKEN,
        TELEGRAM_API_URL=api.base_url,
        BALE_API_URL=api.base_url,
        POLLING_TIMEOUT="1",
        **({"LOG_LEVEL": "WARNING"} | extra),
    )


async def run_once(
    tmp_path: Path, *args: str, process: bool = False, **extra: str
) -> tuple[int, str]:
    """`python -m bot ARGS` to completion in a clean environment: (exit code, stderr). Its own
    `main(argv)` in this process, or with `process` a real interpreter (the entry point itself)."""
    env = bot_env(tmp_path, PYTHONPATH=str(ROOT), **extra)
    if not process:
        code, _, said_err = await run_main(list(args), cwd=tmp_path, env=env)
        return code, said_err
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, err.decode()


@pytest.mark.parametrize(
    "process", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["main", "process"]
)
async def test_malformed_token_stops_start_with_one_clear_line(
    tmp_path: Path, process: bool
) -> None:
    """In-process and once as a real `python -m bot`: the exit code leaves the interpreter."""
    secret = "12345:this-is-secret"
    code, err = await run_once(
        tmp_path, process=process, TELEGRAM_BOT_TOKEN=secret.replace(":", "")
    )
    assert code == 2
    assert err.strip().count("\n") == 0, f"one line expected: {err!r}"
    assert "TELEGRAM_BOT_TOKEN" in err and "this-is-secret" not in err


async def test_malformed_url_is_named(tmp_path: Path) -> None:
    code, err = await run_once(tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, BALE_API_URL="nope")
    assert code == 2 and "BALE_API_URL" in err and TELEGRAM_TOKEN not in err


async def test_broken_routing_rules_name_the_line(tmp_path: Path) -> None:
    rules = (ROOT / "routing_rules.yaml").read_text(encoding="utf-8")
    broken = rules.replace("    unit: water_soil", "    unit: water_and_soil", 1)
    line = broken.splitlines().index("    unit: water_and_soil")  # the rule starts a line above
    (tmp_path / "rules.yaml").write_text(broken, encoding="utf-8")
    code, err = await run_once(
        tmp_path, TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, ROUTING_RULES=str(tmp_path / "rules.yaml")
    )
    assert code == 2 and f"line {line}" in err and "water_and_soil" in err


async def test_run_without_token_is_an_error_not_the_sandbox(tmp_path: Path) -> None:
    code, err = await run_once(tmp_path, "run")
    assert code == 2, err
    assert err.strip().count("\n") == 0, f"one line expected: {err!r}"
    assert "TELEGRAM_BOT_TOKEN" in err and "BALE_BOT_TOKEN" in err
    assert not (tmp_path / "data" / "sandbox.db").exists(), "no sandbox was started"


@pytest.mark.slow
@pytest.mark.timing  # the page within 10 s of the start: measured with the machine to itself
@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", [[], ["sandbox"]])
async def test_no_token_says_what_to_set(tmp_path: Path, command: list[str]) -> None:
    """No token, no command: one line says so and the browser sandbox starts; its page answers
    with the printed (keyed) address only."""
    import http.cookiejar
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *command,
        "--port",
        str(port),
        cwd=tmp_path,
        env=bot_env(tmp_path, PYTHONPATH=str(ROOT)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert ready.startswith(f"Sandbox ready: open http://127.0.0.1:{port}/?k="), ready
        url = ready.split("open ", 1)[1].strip()
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = await asyncio.to_thread(lambda: browser.open(url, timeout=10).read())
        elapsed = time.monotonic() - started
        assert 'dir="rtl"' in page.decode() and elapsed < 10, f"page after {elapsed:.1f} s"
        bare = url.split("?", 1)[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            await asyncio.to_thread(lambda: urllib.request.urlopen(bare, timeout=10))
        assert refused.value.code == 403, "the address without its key"
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 20)
        err = (await proc.stderr.read()).decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if not command:
        first = err.splitlines()[0]
        assert "TELEGRAM_BOT_TOKEN" in first and "BALE_BOT_TOKEN" in first and "sandbox" in first
    assert code == 0, err
    assert (tmp_path / "data" / "sandbox.db").exists(), "the sandbox uses its own SQLite file"


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_kill_9_mid_conversation_then_sigterm(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    telegram = api.add_bot(TELEGRAM_TOKEN, "telegram")
    bale = api.add_bot(BALE_TOKEN, "bale")
    env = process_env(tmp_path, api, LOG_LEVEL="INFO")
    log = (tmp_path / "bot.log").open("wb")

    async def launch() -> asyncio.subprocess.Process:
        marks = (len(telegram.calls), len(bale.calls))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=log, stderr=log
        )
        await wait_until(
            lambda: (
                any(m == "getUpdates" for m, _ in telegram.calls[marks[0] :])
                and any(m == "getUpdates" for m, _ in bale.calls[marks[1] :])
            ),
            what="both platforms polling",
            timeout=30,
        )
        return proc

    proc = None
    watching = watch_inbox(tmp_path / "bot.db", telegram, bale)
    await watching.__aenter__()
    try:
        proc = await launch()
        citizens = [telegram.private_chat(9501, "کاربر"), bale.private_chat(9502, "کاربر")]
        for citizen in citizens:
            await citizen.send("/start")
            await citizen.click(texts.BTN_HEAD)
            await citizen.send("شهروند آزمایشی")
            await citizen.send("09151234567")
        proc.kill()  # SIGKILL: no goodbye
        await proc.wait()

        proc = await launch()
        for citizen in citizens:
            await citizen.send("پیام پس از راه‌اندازی دوباره بات؛ اطلاعات قبلی نباید گم شود.")
            summary = said(await citizen.click(texts.BTN_NO_ATTACHMENTS))
            assert "شهروند آزمایشی" in summary and "۰۹۱۵۱۲۳۴۵۶۷" in summary
            assert tracking_code(await citizen.click(texts.BTN_CONFIRM))

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0, "SIGTERM stops the bot cleanly"
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        await watching.__aexit__(None, None, None)
        log.close()
        await api.stop()
    logs = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    assert "polling" in logs
    for secret in (TELEGRAM_TOKEN, BALE_TOKEN, "09151234567", "9151234567"):
        assert secret not in logs, f"{secret!r} leaked into the logs"
