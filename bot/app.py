"""Composition root: settings → engine, storage, rules, bots, dispatcher; start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiogram import Router
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings, SettingsError
from bot.conversations.common import Prompts
from bot.deps import Deps
from bot.handlers import give_back, lend_router
from bot.runtime.boundary import Outcome, classify
from bot.runtime.limits import OncePerGroupMember, SharedOrLocal
from bot.runtime.metrics import Metrics
from bot.runtime.middlewares import (
    BanList,
    FloodLimit,
    IgnoreBanned,
    MarkHandled,
    PlatformContext,
)
from bot.runtime.people import BotAdmins
from bot.runtime.platforms import PlatformBot, make_bot
from bot.runtime.polling import LaneDispatcher, default_worker
from bot.runtime.routers import filters_on_the_loop
from bot.runtime.webhook import Monitor, Receiver, WebServer, web_app
from bot.ui import texts
from bot.workers.delivery import (
    DeliveryWorker,
    NoticeSender,
    StoredDraftFiles,
    default_limits,
    limiters_for,
)
from bot.workers.scheduler import Jobs, build_scheduler
from desk.directory import Directory, load_directory
from desk.model import Platform
from desk.people import Roster
from desk.ports import Clock, SystemClock
from desk.routing import RoutingRules, load_rules
from storage import migrate
from storage.db import make_engine, session_factory
from storage.delivery import SqlDelivery
from storage.exports import SqlExports
from storage.fsm import SQLStorage, UpdateScopedStorage
from storage.health import SqlHealth
from storage.inbox import SqlInbox
from storage.limits import RedisLimits
from storage.locks import NameTaken as NameTaken  # noqa: PLC0414  (re-exported for __main__)
from storage.locks import SqlJobLocks, WorkerName
from storage.rate import RedisRate
from storage.repositories import SqlGrants, SqlUnitOfWork

log = logging.getLogger(__name__)


POLISH_RETRY_MAX = 300.0  # seconds between tries of a start-up call that keeps failing


class TokensRefused(RuntimeError):
    """Every platform refused its token: nothing is left to serve."""


async def polish(platform: Platform, bot: PlatformBot, *, webhook: bool = False) -> None:
    """The calls that only polish a start, retried in the background until they work:
    `deleteWebhook` on both platforms when polling (Balethon calls it before polling on Bale
    too: a token that ever had a webhook receives no updates by polling otherwise), `getMe` in
    webhook mode instead (nothing else calls the platform before a reply: /healthz then knows
    it answers), and the command menu on Telegram (Bale documents no `setMyCommands`). A
    refusal no retry can fix (400, 404, a bad token, which polling reports) is logged once
    and left."""
    calls: list[tuple[str, Any]] = [
        ("getMe", bot.me)
        if webhook
        else ("deleteWebhook", lambda: bot.delete_webhook(drop_pending_updates=False))
    ]
    if platform is Platform.TELEGRAM:  # citizens' menu in private chats, /help in groups
        for scope, menu in (
            (BotCommandScopeAllPrivateChats(), texts.COMMANDS_PRIVATE),
            (BotCommandScopeAllGroupChats(), texts.COMMANDS_GROUPS),
        ):
            commands = [BotCommand(command=c, description=d) for c, d in menu]
            calls.append(
                ("setMyCommands", partial(bot.set_my_commands, commands=commands, scope=scope))
            )
    for name, call in calls:
        delay = 1.0
        while True:
            try:
                await call()
                break
            except Exception as exc:
                verdict = classify(exc, group=False)
                if verdict.outcome not in (Outcome.RATE_LIMITED, Outcome.TRANSIENT):
                    log.warning("%s %s refused (%s); going on without it", platform.value, name,
                                verdict.reason)  # fmt: skip
                    break
                wait = max(verdict.wait, delay)
                log.warning("%s %s failed (%s); retry in %.0fs", platform.value, name,
                            verdict.reason, wait)  # fmt: skip
                await asyncio.sleep(wait)
                delay = min(POLISH_RETRY_MAX, delay * 2)


@dataclass
class App:
    """Everything one running front office consists of."""

    settings: Settings
    rules: RoutingRules
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: BaseStorage
    dispatcher: LaneDispatcher
    bots: dict[Platform, PlatformBot]
    clock: Clock
    delivery: DeliveryWorker
    delivery_bots: dict[Platform, PlatformBot]
    scheduler: Jobs
    outbox: SqlDelivery  # what the worker reads and marks, for operators' and tests' looks
    inbox: SqlInbox
    metrics: Metrics
    monitor: Monitor  # /healthz and /metrics
    # the dispatcher's tree, lent by bot.handlers; given back at `close`, and then None
    handlers: tuple[Router, Prompts] | None
    # the flood limit's and the refusal notices' counts in Redis (none without REDIS_URL)
    limits: SharedOrLocal = field(default_factory=lambda: SharedOrLocal(None))
    deliver: bool = True  # tests switch the worker off to hold messages in the outbox
    web: WebServer | None = None  # webhook mode's server, or HEALTH_PORT's beside polling
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _polish: list[asyncio.Task[None]] = field(default_factory=list)
    _name: WorkerName | None = None  # this worker's name, held on the database while it runs

    async def prepare(self, *, webhook: bool = False) -> None:
        """Upgrade the schema; tell each platform what it needs before polling, in the
        background (`polish`), so a platform answering 5xx or an HTML page at start delays
        the command menu, never the start."""
        await migrate.upgrade(self.engine)
        for platform, bot in self.bots.items():
            self._polish.append(
                asyncio.create_task(
                    polish(platform, bot, webhook=webhook), name=f"polish-{platform.value}"
                )
            )

    def webhook_secrets(self) -> dict[Platform, str]:
        """Each served platform's webhook secret; a SettingsError names one without."""
        secrets = {p: self.settings.webhook_secret_for(p) for p in self.bots}
        missing = [p.value.upper() for p, s in secrets.items() if not s]
        if missing:
            raise SettingsError(
                "webhook mode needs a secret per platform: set WEBHOOK_SECRET (or "
                + ", ".join(f"{m}_WEBHOOK_SECRET" for m in missing)
                + "); make one with `openssl rand -hex 32`"
            )
        return {p: s for p, s in secrets.items() if s}

    async def run(
        self, *, handle_signals: bool = True, webhook: tuple[str, int] | None = None
    ) -> None:
        """Poll every platform until stopped; each batch is stored in the inbox and confirmed,
        chats are handled from there concurrently, each chat in order (`bot/runtime/polling.py`).
        `webhook` (host, port): no polling; the platforms post their updates to the secret
        paths there, which store them in the inbox (`bot/runtime/webhook.py`), with /healthz
        and /metrics beside. Polling serves those two on HEALTH_PORT when set."""
        try:
            secrets = self.webhook_secrets() if webhook is not None else {}
            if webhook is not None and webhook[1] and self.dispatcher.worker == default_worker():
                self.dispatcher.worker = default_worker(webhook[1])  # not named by the caller
            if webhook is None or webhook[1]:
                await self._hold_name()  # before anything is migrated, told or served
            await self.prepare(webhook=webhook is not None)
            self.scheduler.start()
            self.dispatcher.by_webhook = webhook is not None
            if webhook is not None:
                receiver = Receiver(self.bots, secrets, self.inbox,
                                    lambda: self.dispatcher.consumer, self.metrics)  # fmt: skip
                self.web = WebServer(web_app(self.monitor, receiver))
                await self.web.start(*webhook)
                if self.dispatcher.worker == default_worker():  # not named by the caller
                    self.dispatcher.worker = default_worker(self.web.port)
                log.info("webhook mode for %s on %s:%d (/webhook/<platform>/<secret>, "
                         "/healthz, /metrics)", ", ".join(p.value for p in self.bots),
                         webhook[0], self.web.port)  # fmt: skip
                if self.settings.alone_without_redis():
                    log.warning("REDIS_URL is not set: fine for one webhook worker; several "
                                "would each keep their own send rate and flood limit")  # fmt: skip
            else:
                if self.settings.health_port:
                    self.web = WebServer(web_app(self.monitor))
                    await self.web.start(self.settings.health_host, self.settings.health_port)
                    log.info("/healthz and /metrics on %s:%d", self.settings.health_host,
                             self.web.port)  # fmt: skip
                log.info("polling %s", ", ".join(p.value for p in self.bots))
            if self._name is None:  # a webhook on a port the system picked: known only now
                await self._hold_name()
            # the outbox's claims of chats go by the inbox's name for this worker, stable across
            # restarts: a restarted worker takes back at once what it held when it died
            self.outbox.worker = self.dispatcher.worker
            if self.deliver:
                self._tasks.append(asyncio.create_task(self.delivery.run(), name="delivery"))
            await self.dispatcher.start_polling(
                *self.bots.values(),
                handle_as_tasks=False,
                handle_signals=handle_signals,
                close_bot_session=True,
                polling_timeout=self.settings.polling_timeout,
                allowed_updates=None,
            )
        except asyncio.CancelledError:  # killed, not stopped: nothing in hand may go on
            self.dispatcher.abandon()
            raise
        finally:
            await self.close()
        refused = self.dispatcher.refused
        if refused and refused >= set(self.bots):
            raise TokensRefused(sorted(p.value for p in refused))

    async def _hold_name(self) -> None:
        """Hold this worker's name while the process runs (`storage.locks.WorkerName`): no
        second live process may claim lanes and chats under it."""
        self._name = WorkerName(self.engine)
        await self._name.take(self.dispatcher.worker, wait=self.settings.worker_name_wait)

    async def stop(self) -> None:
        """Ask polling to finish the update in hand and stop."""
        with contextlib.suppress(RuntimeError):  # polling never started
            await self.dispatcher.stop_polling()

    async def close(self) -> None:
        """Stop the workers, release the storage and the database; the worker's name is let
        go whatever fails before (a restart in this process must be able to take it)."""
        try:
            if self.web is not None:
                await self.web.stop()
                self.web = None
            await self.scheduler.stop()  # the jobs running finish first
            await self.delivery.stop()
            for task in self._polish:
                task.cancel()
            await asyncio.gather(*self._polish, return_exceptions=True)
            self._polish.clear()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 10)
            self._tasks.clear()
            await self.delivery.shared.close()
            await self.limits.close()
            for bot in (*self.bots.values(), *self.delivery_bots.values()):
                await bot.session.close()
            await self.storage.close()
        finally:
            try:
                if self._name is not None:
                    await self._name.release()
            finally:
                await self._give_back_handlers()
                await self.engine.dispose()

    async def _give_back_handlers(self) -> None:
        """Lend the router tree on once no update of this app is in it (once only)."""
        if self.handlers is None:
            return
        handlers, self.handlers = self.handlers, None
        if await self.dispatcher.settled():  # else the tree stays with this dispatcher
            give_back(*handlers, self.dispatcher)


def _fsm_storage(sessions: async_sessionmaker[AsyncSession]) -> BaseStorage:
    """Conversation state in the database, always (also with REDIS_URL): written in the same
    transaction as the update's done mark, so a crash never leaves a conversation moved on
    while its update is still to be handled. In Redis the two writes were apart, and the three
    workers' test caught a kill between them: the county button taken as the citizen's name."""
    return SQLStorage(sessions)


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rules: RoutingRules | None = None,
    engine: AsyncEngine | None = None,
    directory: Directory | None = None,
) -> App:
    """Build the whole object graph from settings; nothing connects until `run`."""
    rules = rules or load_rules(settings.routing_rules)
    directory = directory or load_directory(settings.directory_file, rules)
    tokens = settings.tokens()
    bans = BanList(settings.banned_file)  # a malformed file stops the start, naming itself
    rules.check_chats(list(tokens))
    clock = clock or SystemClock()
    engine = engine or make_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = session_factory(engine)
    storage = UpdateScopedStorage(_fsm_storage(sessions), sessions)
    bots = {
        platform: make_bot(
            platform, token, settings.api_url(platform), proxy=settings.proxy(platform)
        )
        for platform, token in tokens.items()
    }
    delivery_bots = {
        platform: make_bot(
            platform, token, settings.api_url(platform), retry=False, proxy=settings.proxy(platform)
        )
        for platform, token in tokens.items()
    }
    outbox = SqlDelivery(sessions)  # the outbox rows, message links and uploaded files

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    limiters = limiters_for(
        default_limits(settings.bale_messages_per_second, settings.telegram_messages_per_second),
        delivery_bots,
    )
    draft_files = StoredDraftFiles(outbox, uow)
    sender = NoticeSender(
        bots=delivery_bots, rules=rules, clock=clock, wall=SystemClock(), uow=uow,
        outbox=outbox, links=outbox, files=draft_files, limiters=limiters,
    )  # fmt: skip
    metrics = Metrics()
    # the flood limit and the refusal notices: one count for every worker when Redis is there
    # Redis keys carry each platform's bot id: deployments (provinces) may share one Redis
    bot_ids = {platform: bot.id for platform, bot in bots.items()}
    limits = SharedOrLocal(
        RedisLimits(settings.redis_url, bots=bot_ids) if settings.redis_url else None
    )
    delivery = DeliveryWorker(
        store=outbox, send=sender, platforms=delivery_bots, rules=rules, limiters=limiters,
        shared=RedisRate(settings.redis_url, bots=bot_ids) if settings.redis_url else None,
        metrics=metrics,
    )  # fmt: skip
    deps = Deps(
        uow=uow,
        rules=rules,
        clock=clock,
        wake_delivery=delivery.wake,
        links=outbox,
        delivery=draft_files,
        exports=SqlExports(sessions),
        directory=directory,
        quotas=settings.quotas(),
        # the handlers' bots: a passing failure is retried within BotAdmins' time limit
        roster=Roster(
            BotAdmins(bots), SqlGrants(sessions), clock, ttl=settings.staff_admins_seconds
        ),
        failed_lookups_alert=settings.failed_lookups_alert,
        staff_confirm_seconds=settings.staff_confirm_seconds,
        refusals=OncePerGroupMember("refusal", 600.0, limits),
        group_refused=delivery.hold_group,
    )
    inbox = SqlInbox(sessions)
    dispatcher = LaneDispatcher(storage=storage, deps=deps)
    dispatcher.use_inbox(inbox)
    dispatcher.metrics = metrics
    # aiogram's FSM middleware reads the conversation's state before the handlers; it goes
    # after ours, so that read is inside the update's scope (state and draft read once per
    # update, by one query) and a banned or flooding chat's update reads nothing
    dispatcher.update.outer_middleware.unregister(dispatcher.fsm)
    dispatcher.update.outer_middleware(PlatformContext())
    dispatcher.update.outer_middleware(MarkHandled(storage, clock))
    dispatcher.update.outer_middleware(IgnoreBanned(bans))
    dispatcher.update.outer_middleware(FloodLimit(settings.flood_per_minute, rules, shared=limits))
    dispatcher.update.outer_middleware(dispatcher.fsm)
    router, prompts = lend_router()  # given back when the app closes
    dispatcher.include_router(router)
    filters_on_the_loop(dispatcher)
    dispatcher["prompts"] = prompts  # the conversations' questions, for every handler
    scheduler = build_scheduler(
        deps.desk,
        inbox,
        delivery.wake,
        every_seconds=settings.sla_check_seconds,
        locks=SqlJobLocks(engine),
    )
    return App(
        settings=settings,
        rules=rules,
        engine=engine,
        sessions=sessions,
        storage=storage,
        dispatcher=dispatcher,
        bots=bots,
        clock=clock,
        delivery=delivery,
        delivery_bots=delivery_bots,
        scheduler=scheduler,
        outbox=outbox,
        inbox=inbox,
        metrics=metrics,
        handlers=(router, prompts),
        limits=limits,
        monitor=Monitor(
            SqlHealth(sessions),
            {p: [bots[p], delivery_bots[p]] for p in bots},
            metrics,
            max_inbox_lag=settings.health_max_inbox_lag,
        ),
    )
