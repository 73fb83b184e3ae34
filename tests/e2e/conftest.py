"""End-to-end harness: the real app (aiogram, SQL, Alembic) polling a fake Bot API on loopback.

Both platforms run at once, exactly as in production: one process, one dispatcher, two bots,
each pointed at the fake server only through TELEGRAM_API_URL / BALE_API_URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.app import App, build_app
from bot.config import load_settings
from bot.sandbox.run import report_handling
from desk.model import Platform
from desk.routing import load_rules
from storage.db import make_engine
from tests.conftest import copy_migrated
from tests.fakebotapi import FakeBot, FakeBotAPI, FakeGroup
from tests.sql_cache import shared_cache

TELEGRAM_TOKEN = "111111:telegram-test-token-AAAAAAAA"
BALE_TOKEN = "222222:bale-test-token-BBBBBBBB"
ROOT = Path(__file__).resolve().parents[2]
UNPACED_CHAT_INTERVAL = 0.02  # seconds between two messages to one chat unless `paced`

# A Front whose SQLite file does not exist yet starts on a copy of the session's migrated
# template (tests/conftest.py), so the app's own migration at start finds the schema at head and
# does nothing: Alembic runs once per session, not once per test.
_TEMPLATE: dict[str, Path] = {}  # "path": the template, while the session lasts


def seed_database(db_url: str) -> None:
    """Copy the session's migrated template to a SQLite URL's file if it is not there yet."""
    url = make_url(db_url)
    template = _TEMPLATE.get("path")
    if template is None or url.get_backend_name() != "sqlite" or not url.database:
        return
    target = Path(url.database)
    if url.database == ":memory:" or target.exists():
        return
    copy_migrated(template, target)


@pytest.fixture(scope="session", autouse=True)
def _seed_from_template(migrated_sqlite: Path) -> Iterator[None]:
    """Lets `Front.start` seed new databases from the migrated template (`seed_database`)."""
    _TEMPLATE["path"] = migrated_sqlite
    yield
    _TEMPLATE.clear()


async def wait_until(condition: Any, *, what: str, timeout: float = 15) -> None:
    """Poll `condition` until true; fail the test with `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class MovableClock:
    """A clock the test moves; starts at the real time."""

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self._now = datetime.now(UTC)

    def now(self) -> Any:
        return self._now

    def set(self, moment: Any) -> None:
        self._now = moment

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self._now += timedelta(**delta)


class Front:
    """A running front office the tests can stop, restart and inspect."""

    def __init__(
        self,
        api: FakeBotAPI,
        db_url: str,
        clock: Any = None,
        *,
        private_chats: tuple[int, ...] = (),
        paced: bool = False,
        **settings: Any,
    ) -> None:
        """`private_chats`: ids in the routing rules that are people's private chats, not
        groups (a misconfigured admin chat); no fake group is made for them.

        `paced`: keep the platforms' per-chat rules in the outbox (a chat's messages 1 s apart,
        a group's 20 a minute). By default a chat's messages go 20 ms apart and a group has no
        minute cap: a test's receipt, card, copy and refresh then arrive in milliseconds, not
        seconds (half the wall time of the end-to-end tests went on that wait). The platform's
        own rate stays as configured. The per-chat rules are tested where they are measured
        (`tests/unit/test_rate_limiter.py`, `tests/integration/test_delivery_worker.py`)."""
        self.paced = paced
        self.api = api
        self.db_url = db_url
        self.extra = settings
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None
        self.clock = clock
        self.telegram: FakeBot = api.add_bot(TELEGRAM_TOKEN, "telegram", username="jihad_tg_bot")
        self.bale: FakeBot = api.add_bot(BALE_TOKEN, "bale", username="jihad_bale_bot")
        self.rules = load_rules(settings.get("routing_rules", ROOT / "routing_rules.yaml"))
        self.groups: dict[tuple[str, Platform], Any] = {}
        for unit in self.rules.units.values():
            for platform, chat_id in unit.chats.items():
                fake = self.bot(platform)
                self.groups[(unit.key, platform)] = fake.group_chat(chat_id, unit.name)
        for platform, ids in self.rules.admins.items():
            for chat_id in set(ids) - set(private_chats):
                self.groups[("admins", platform)] = self.bot(platform).group_chat(chat_id, "مدیران")
        # Staff are a group's administrators (and the members they grant). The default sender
        # of `group.send(...)` is made an administrator of every group here, so tests that
        # write as "the group" act as its staff; a test's own staff use `group.as_admin(...)`,
        # a plain member `group.as_member(...)`.
        for group in self.groups.values():
            group.promote(FakeGroup.DEFAULT_MEMBER_ID)

    def admins(self, platform: Platform) -> Any:
        """The fake admin group on a platform (from routing_rules.yaml's `admins`)."""
        return self.groups[("admins", platform)]

    def group(self, unit: str, platform: Platform) -> Any:
        """The fake staff group of a unit on a platform."""
        return self.groups[(unit, platform)]

    def bot(self, platform: Platform) -> FakeBot:
        """The fake side of one platform."""
        return self.telegram if platform is Platform.TELEGRAM else self.bale

    def settings(self) -> Any:
        """Settings as an operator would write them, pointing at the fake server."""
        values: dict[str, Any] = {
            "telegram_bot_token": TELEGRAM_TOKEN,
            "bale_bot_token": BALE_TOKEN,
            "telegram_api_url": self.api.base_url,
            "bale_api_url": self.api.base_url,
            "database_url": self.db_url,
            "routing_rules": ROOT / "routing_rules.yaml",
            # explicit, so a test with its own routing rules still gets the shipped directory
            "directory_file": ROOT / "directory.yaml",
            "polling_timeout": 1,
            "_env_file": None,
        }
        values.update(self.extra)
        return load_settings(**values)

    async def start(self, *, deliver: bool = True) -> None:
        """Build the app from settings and start polling both platforms."""
        seed_database(self.db_url)
        settings = self.settings()
        engine = make_engine(
            settings.database_url, pool_size=settings.database_pool_size, **shared_cache()
        )
        self.app = build_app(settings, clock=self.clock, engine=engine)
        if not self.paced:
            for limiter in self.app.delivery.limiters.values():
                limiter.limits = replace(
                    limiter.limits, per_chat_interval=UNPACED_CHAT_INTERVAL, group_per_minute=10**6
                )
        report_handling(self.app, (self.telegram, self.bale))
        self.app.deliver = deliver
        self.task = asyncio.create_task(self.app.run(handle_signals=False))
        # Wait until both bots have asked for updates: the app is then really running.
        marks = {id(fake): len(fake.calls) for fake in (self.telegram, self.bale)}
        for fake in (self.telegram, self.bale):
            await wait_until(
                lambda f=fake: any(m == "getUpdates" for m, _ in f.calls[marks[id(f)] :]),
                what=f"{fake.flavour} bot polling",
            )

    async def stop(self) -> None:
        """Stop polling gracefully (like SIGTERM)."""
        if self.app is None or self.task is None:
            return
        await self.app.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 15)
        self.app, self.task = None, None

    async def crash(self) -> None:
        """Kill the app mid-flight: the task is cancelled, nothing is shut down politely."""
        if self.app is None or self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        with contextlib.suppress(Exception):
            await self.app.close()
        self.app, self.task = None, None

    async def restart(self, *, deliver: bool = True) -> None:
        """Stop and start again on the same database."""
        await self.stop()
        await self.start(deliver=deliver)

    async def outbox(self) -> dict[str, int]:
        """Pending, sent and failed outbox rows."""
        assert self.app is not None
        return await self.app.outbox.counts()

    async def delivered(self, timeout: float = 20) -> None:
        """Wait until the outbox has nothing pending."""

        async def empty() -> bool:
            return (await self.outbox())["pending"] == 0

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await empty():
            if loop.time() > deadline:
                raise AssertionError(f"outbox not delivered: {await self.outbox()}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """A started fake Bot API."""
    server = FakeBotAPI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def front(api: FakeBotAPI, tmp_path: Path) -> AsyncIterator[Front]:
    """The front office running on both platforms against the fake API, on a fresh SQLite file."""
    running = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
        for fake in (running.telegram, running.bale):
            assert not fake.violations, f"{fake.flavour} protocol violations: {fake.violations}"


@pytest.fixture(params=[Platform.TELEGRAM, Platform.BALE], ids=["telegram", "bale"])
def platform(request: pytest.FixtureRequest) -> Platform:
    """Run a test once per messenger."""
    return request.param  # type: ignore[no-any-return]
