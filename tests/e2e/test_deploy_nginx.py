"""deploy/nginx/jihad-bot.conf run by the real nginx (skipped where it is not installed) in
front of three stand-in webhook workers: the secret paths reach a worker as POST over TLS, with
a worker down the next one takes the update, the body limit holds, everything else is 404
without any worker seeing it, and the access log never holds a secret."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.unit.test_deploy import NGINX, NGINX_ARGS, SECRET, _certificate, _nginx_in

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Worker:
    """A stand-in for `python -m bot webhook`: records what reaches it."""

    port: int
    seen: list[tuple[str, str, str]] = field(default_factory=list)
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def record(request: web.Request) -> web.Response:
            body = await request.text()
            self.seen.append((request.method, request.path, request.headers["X-Forwarded-Proto"]))
            return web.json_response({"worker": self.port, "bytes": len(body)})

        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", record)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@dataclass
class Proxy:
    base: str
    workers: list[Worker]
    log: Path


@pytest.fixture
async def proxy(tmp_path: Path) -> AsyncIterator[Proxy]:
    _certificate(tmp_path)
    workers = [Worker(free_port()) for _ in range(3)]
    tls, plain = free_port(), free_port()
    site = NGINX.read_text()
    for number, worker in zip(("8081", "8082", "8083"), workers, strict=True):
        site = site.replace(f"127.0.0.1:{number}", f"127.0.0.1:{worker.port}")
    site = (
        site.replace("listen [::]:443 ssl;", "").replace("listen [::]:80;", "")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{tls} ssl;")
        .replace("listen 80;", f"listen 127.0.0.1:{plain};")
    )  # fmt: skip
    _nginx_in(tmp_path, site)
    for worker in workers:
        await worker.start()
    nginx = await asyncio.create_subprocess_exec(
        "nginx", "-g", "daemon off; master_process on; worker_processes 1;",
        *(a.format(folder=tmp_path) for a in NGINX_ARGS),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", tls)
                writer.close()
                break
            if nginx.returncode is not None:
                raise AssertionError((await nginx.stderr.read()).decode())  # type: ignore[union-attr]
            await asyncio.sleep(0.05)
        yield Proxy(f"https://127.0.0.1:{tls}", workers, tmp_path / "jihad-bot.access.log")
    finally:
        nginx.terminate()
        await nginx.wait()
        for worker in workers:
            await worker.stop()


async def call(proxy: Proxy, method: str, path: str, body: bytes = b"{}") -> tuple[int, str]:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, proxy.base + path, data=body, ssl=context) as answer,
    ):
        return answer.status, await answer.text()


@pytest.mark.slow
async def test_updates_reach_the_workers_and_nothing_else_does(proxy: Proxy) -> None:
    update = b'{"update_id": 1, "message": {"text": "salam"}}'
    for platform in ("telegram", "bale"):
        status, said = await call(proxy, "POST", f"/webhook/{platform}/{SECRET}", update)
        assert status == 200 and '"bytes": 46' in said
    seen = [s for w in proxy.workers for s in w.seen]
    assert sorted(seen) == sorted(
        [("POST", f"/webhook/{p}/{SECRET}", "https") for p in ("telegram", "bale")]
    )
    assert (await call(proxy, "GET", f"/webhook/telegram/{SECRET}"))[0] == 403
    for path in ("/", "/admin", "/webhook/telegram/short", f"/webhook/viber/{SECRET}"):
        assert (await call(proxy, "POST", path))[0] == 404, path
    # an update is kilobytes; two megabytes are refused before a worker reads them
    assert (await call(proxy, "POST", f"/webhook/bale/{SECRET}", b"x" * 2_000_000))[0] == 413
    assert (await call(proxy, "GET", "/healthz"))[0] == 200, "localhost may ask"
    assert len([s for w in proxy.workers for s in w.seen]) == 3, "only the three above"

    # two workers down (restarting): every update still reaches the one left
    await proxy.workers[0].stop()
    await proxy.workers[1].stop()
    for n in range(6):
        status, said = await call(proxy, "POST", f"/webhook/telegram/{SECRET}", update)
        assert status == 200 and f'"worker": {proxy.workers[2].port}' in said, n

    log = proxy.log.read_text()
    assert SECRET not in log and "/webhook/telegram/<secret>" in log
    assert '"POST /webhook/<cut>" 404' in log, "a wrong platform's path is cut off too"
