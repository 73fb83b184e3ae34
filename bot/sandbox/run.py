"""Start the fake messenger, the real bot against it and the web page, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.app import App, build_app
from bot.config import load_settings
from bot.sandbox.fakebotapi import FakeBot, FakeBotAPI
from bot.sandbox.web import Chats, SandboxWeb
from desk.routing import load_rules
from storage.db import normalise_url

log = logging.getLogger(__name__)

# Fixed fake tokens: they only ever reach the fake server on loopback.
TELEGRAM_TOKEN = "7000001:sandbox-telegram-token-AAAAAAAA"  # noqa: S105
BALE_TOKEN = "7000002:sandbox-bale-token-BBBBBBBB"  # noqa: S105
DATABASE_URL = "sqlite+aiosqlite:///data/sandbox.db"
DEFAULT_PORT = 8080


def _fresh_sqlite(url: str) -> None:
    """The sandbox starts empty: the fake messenger forgets everything, so must the database."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)


def report_handling(app: App, fakes: Any) -> None:
    """The bot confirms updates at once (its inbox): tell the fake messenger when each is
    handled, so a person's message returns with the bot's answers."""
    by_id = {fake.id: fake for fake in fakes}
    for fake in by_id.values():
        fake.reports_handling = True

    def handled(bot_id: int, update_id: int) -> None:
        if bot_id in by_id:
            by_id[bot_id].mark_handled(update_id)

    app.dispatcher.on_handled.append(handled)


class Sandbox:
    """A whole front office on loopback: fake Telegram and Bale, the bot, the page."""

    def __init__(
        self,
        *,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        database_url: str = DATABASE_URL,
        **settings: Any,
    ) -> None:
        """`settings` override what the environment says (routing_rules, directory_file ...)."""
        self.port, self.host = port, host
        self.database_url = database_url
        self.extra = settings
        self.api = FakeBotAPI()
        self.fakes: dict[str, FakeBot] = {}  # the fake side of each platform, once started
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None
        self.url = ""  # the page's address with its key: what the person who started it opens
        self.origin = ""  # http://127.0.0.1:PORT
        self.key = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Start everything; returns the page's address once both bots are polling."""
        await self.api.start()
        self.fakes = fakes = {
            "telegram": self.api.add_bot(TELEGRAM_TOKEN, "telegram", username="jihad_sandbox_bot"),
            "bale": self.api.add_bot(BALE_TOKEN, "bale", username="jihad_sandbox_bot"),
        }
        values: dict[str, Any] = {
            "telegram_bot_token": TELEGRAM_TOKEN,
            "bale_bot_token": BALE_TOKEN,
            "telegram_api_url": self.api.base_url,
            "bale_api_url": self.api.base_url,
            "database_url": self.database_url,
            "redis_url": None,
            "polling_timeout": 1,
        }
        values.update(self.extra)
        settings = load_settings(**values)
        rules = load_rules(settings.routing_rules)
        chats = Chats.from_rules(fakes, rules)
        _fresh_sqlite(settings.database_url)
        self.app = build_app(settings, rules=rules)
        report_handling(self.app, fakes.values())
        self.task = asyncio.create_task(self.app.run(handle_signals=False), name="sandbox-bot")
        page = SandboxWeb(chats, {"organisation": rules.organisation})
        self._runner = web.AppRunner(page.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError:
            log.warning("port %s is taken: using a free one", self.port)
            await web.TCPSite(self._runner, self.host, 0).start()
        port = self._runner.addresses[-1][1]
        self.key = page.key
        self.origin = f"http://{self.host}:{port}"
        self.url = self.link()
        await self._polling(fakes.values())
        return self.url

    def link(self, **params: object) -> str:
        """The page's address with its key and these query parameters (as=citizen ...)."""
        query = urlencode({"k": self.key, **params})
        return f"{self.origin}/?{query}"

    async def _polling(self, fakes: Any, within: float = 30) -> None:
        """Wait until every bot has asked for updates (or the bot died trying)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        bots: list[FakeBot] = list(fakes)
        while not all(any(m == "getUpdates" for m, _ in fake.calls) for fake in bots):
            if self.task is not None and self.task.done():
                self.task.result()  # raises what stopped the bot
                raise RuntimeError("the bot stopped before polling")
            if loop.time() > deadline:
                raise TimeoutError("the bot did not start polling within 30 s")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop the page, the bot (finishing the update in hand) and the fake messenger."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.app is not None and self.task is not None:
            await self.app.stop()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.task, 15)
        self.app, self.task = None, None
        await self.api.stop()


async def serve(port: int = DEFAULT_PORT, **settings: Any) -> None:
    """Run the sandbox until Ctrl+C / SIGTERM (or until the bot stops)."""
    sandbox = Sandbox(port=port, **settings)
    try:
        url = await sandbox.start()
        print(f"Sandbox ready: open {url}", flush=True)
        second = sandbox.link(**{"as": "citizen", "platform": "bale", "id": 1002})
        staff = sandbox.link(**{"as": "staff", "unit": "water_soil"})
        admins = sandbox.link(**{"as": "admin"})
        print(f"  second citizen: {second} · staff group: {staff}", flush=True)
        print(f"  the admins' group alone (/publish, /report): {admins}", flush=True)
        print("  the address carries a secret key: keep it to yourself", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        assert sandbox.task is not None
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, sandbox.task}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    finally:
        await sandbox.stop()


__all__ = ["BALE_TOKEN", "DATABASE_URL", "TELEGRAM_TOKEN", "Sandbox", "serve"]
