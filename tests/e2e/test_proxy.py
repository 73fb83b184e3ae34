"""TELEGRAM_PROXY / BALE_PROXY: each platform's calls go through its own proxy, http or socks5.

Two tiny proxies on loopback (an HTTP CONNECT tunnel and a SOCKS5 one) record where they were
asked to connect; the bot's sessions are built exactly as `build_app` builds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

import pytest

from bot.config import load_settings
from bot.runtime.platforms import make_bot
from desk.model import Platform
from tests.e2e.conftest import BALE_TOKEN, TELEGRAM_TOKEN
from tests.fakebotapi import FakeBotAPI


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


class Proxy:
    """A loopback proxy that tunnels to whatever it is asked and remembers the targets."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.targets: list[tuple[str, int]] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"{self.kind}://127.0.0.1:{port}"

    async def _open(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            host, port = await (self._connect(reader, writer) if self.kind == "http"
                                else self._socks(reader, writer))  # fmt: skip
        except (asyncio.IncompleteReadError, ValueError):
            writer.close()
            return
        self.targets.append((host, port))
        up_reader, up_writer = await asyncio.open_connection(host, port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    @staticmethod
    async def _connect(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[str, int]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        verb, target, _ = head.split("\r\n", 1)[0].split(" ")
        if verb != "CONNECT":
            raise ValueError(verb)
        host, port = target.rsplit(":", 1)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        return host, int(port)

    @staticmethod
    async def _socks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[str, int]:
        version, methods = await reader.readexactly(2)
        await reader.readexactly(methods)
        if version != 5:
            raise ValueError(version)
        writer.write(b"\x05\x00")  # no authentication
        _, _connect, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = ".".join(str(b) for b in await reader.readexactly(4))
        elif kind == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            raise ValueError(kind)
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        writer.write(b"\x05\x00\x00\x01" + bytes(4) + b"\x00\x00")
        await writer.drain()
        return host, port

    async def __aenter__(self) -> Proxy:
        self.server = await asyncio.start_server(self._open, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_bot(TELEGRAM_TOKEN, "telegram")
        server.add_bot(BALE_TOKEN, "bale")
        yield server


@pytest.mark.parametrize("kind", ["http", "socks5"])
async def test_each_platform_goes_through_its_own_proxy(
    api: FakeBotAPI, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(api.base_url.rsplit(":", 1)[1])
    async with Proxy(kind) as proxy:
        monkeypatch.setenv("BALE_PROXY", proxy.url)
        monkeypatch.delenv("TELEGRAM_PROXY", raising=False)
        settings = load_settings(
            telegram_bot_token=TELEGRAM_TOKEN, bale_bot_token=BALE_TOKEN,
            telegram_api_url=api.base_url, bale_api_url=api.base_url,
        )  # fmt: skip
        bots = {
            p: make_bot(p, token, settings.api_url(p), proxy=settings.proxy(p))
            for p, token in settings.tokens().items()
        }
        try:
            me = await bots[Platform.BALE].get_me()
            assert me.username == "bale_test_bot"
            assert proxy.targets == [("127.0.0.1", port)], "Bale's call went through the proxy"
            await bots[Platform.TELEGRAM].get_me()
            assert len(proxy.targets) == 1, "Telegram's call went direct: no TELEGRAM_PROXY"
        finally:
            for bot in bots.values():
                await bot.session.close()


def test_a_proxy_setting_is_checked_and_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import SettingsError

    monkeypatch.setenv("TELEGRAM_PROXY", "ftp://user:hunter2@example")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "TELEGRAM_PROXY" in str(error.value) and "hunter2" not in str(error.value)
    monkeypatch.setenv("TELEGRAM_PROXY", "socks5://user:hunter2@127.0.0.1:1080")
    settings = load_settings()
    assert settings.proxy(Platform.TELEGRAM) == "socks5://user:hunter2@127.0.0.1:1080"
    assert "hunter2" not in repr(settings)
