"""The real webhook worker behind the real nginx with deploy/nginx/jihad-bot.conf (skipped where
nginx is not installed): the fake platforms post over TLS to the URL `set-webhook` registered,
nginx passes the secret paths to the worker (the other two upstreams down: it tries the next),
the citizens are answered on both platforms, /healthz comes through, and neither nginx's
access log nor the worker's log holds a secret."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.webhook import register
from tests.e2e.test_deploy_nginx import Proxy, call, free_port
from tests.e2e.test_webhook import WELCOMED, HookedFront
from tests.fakebotapi import FakeBotAPI
from tests.unit.test_deploy import NGINX, NGINX_ARGS, SECRET, _certificate, _nginx_in

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")


@pytest.fixture
async def behind_nginx(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[tuple[HookedFront, Proxy]]:
    _certificate(tmp_path)
    front = HookedFront(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    front.extra.update(telegram_webhook_secret=SECRET, bale_webhook_secret=SECRET)
    front.registered = ["by nginx's URL below"]  # not the worker's own address
    tls, plain = free_port(), free_port()
    site = NGINX.read_text().replace("127.0.0.1:8081", f"127.0.0.1:{front.port}")
    for number in ("8082", "8083"):  # two workers down
        site = site.replace(f"127.0.0.1:{number}", f"127.0.0.1:{free_port()}")
    site = (
        site.replace("listen [::]:443 ssl;", "").replace("listen [::]:80;", "")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{tls} ssl;")
        .replace("listen 80;", f"listen 127.0.0.1:{plain};")
    )  # fmt: skip
    _nginx_in(tmp_path, site)
    nginx = await asyncio.create_subprocess_exec(
        "nginx", "-g", "daemon off; master_process on; worker_processes 1;",
        *(a.format(folder=tmp_path) for a in NGINX_ARGS),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await front.start()
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", tls)
                writer.close()
                break
            await asyncio.sleep(0.05)
        for fake in (front.telegram, front.bale):
            fake.webhook_verify_tls = False  # the test's self-signed certificate
        yield front, Proxy(f"https://127.0.0.1:{tls}", [], tmp_path / "jihad-bot.access.log")
    finally:
        await front.stop()
        nginx.terminate()
        await nginx.wait()


async def test_the_worker_behind_nginx_answers_both_platforms(
    behind_nginx: tuple[HookedFront, Proxy], caplog: pytest.LogCaptureFixture
) -> None:
    front, proxy = behind_nginx
    with caplog.at_level(logging.DEBUG):
        code, lines = await register(front.settings(), proxy.base, delete=False)
        assert code == 0, lines
        for fake, chat in ((front.telegram, 16101), (front.bale, 16102)):
            assert fake.webhook_url == f"{proxy.base}/webhook/{fake.flavour}/{SECRET}"
            replies = await fake.private_chat(chat, "علی").send("/start")
            assert WELCOMED in (replies[0].text or "")
            assert [status for _, status in fake.webhook_posts] == [200]
        status, text = await call(proxy, "GET", "/healthz")
        assert status == 200 and json.loads(text)["database"] == {"ok": True}
    log = proxy.log.read_text()
    assert "/webhook/telegram/<secret>" in log and "/webhook/bale/<secret>" in log
    assert SECRET not in log and SECRET not in caplog.text
