"""Polling into the update inbox, and handling from it: one lane per chat.

`InboxPolling` (one per bot) writes every batch getUpdates brings to the inbox in one INSERT,
committed, and confirms the batch to the messenger at once with the next offset: the messenger
never waits for a handler, and a slow chat holds up no offset. `InboxConsumer` (one per process)
claims chat lanes in the inbox (`Inbox.claim`: a lease per lane, so several workers could share
one PostgreSQL inbox) and handles them:

- updates of different chats concurrently, those of one chat strictly in order (a citizen's
  conversation and a staff group's replies never overtake themselves); one slow handler (a
  reply waiting out a 20 s `retry_after`) holds up only its own chat;
- at most `max_in_flight` updates are being handled at once;
- the done mark is written in the same transaction as the handler's FSM changes
  (`MarkHandled`, `storage.fsm`). A crash or `kill -9` therefore loses nothing (the rows stay
  pending and are handled after the restart) and does nothing twice (a done row is never handed
  out again, and a redelivered update is not stored twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import deque
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update, User
from aiogram.utils.backoff import Backoff, BackoffConfig
from pydantic import ValidationError

from bot.ports import Inbox
from bot.runtime.metrics import Metrics
from bot.runtime.middlewares import HANDLING, Handling
from desk.inbox import Claimed, Incoming

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


def lane_of(update: Update) -> Hashable:
    """The chat an update belongs to; updates without one get a lane of their own."""
    for event in (
        update.message,
        update.edited_message,
        update.channel_post,
        update.edited_channel_post,
        update.my_chat_member,
        update.chat_member,
        update.chat_join_request,
    ):
        chat = getattr(event, "chat", None)
        if chat is not None:
            return ("chat", chat.id)
    query = update.callback_query
    if query is not None:
        if query.message is not None:
            return ("chat", query.message.chat.id)
        return ("user", query.from_user.id)
    return ("update", update.update_id)


def lane_key(bot_id: int, update: Update) -> str:
    """The inbox's lane of an update: the bot and the chat (`"111:chat:42"`)."""
    lane = lane_of(update)
    assert isinstance(lane, tuple)
    return f"{bot_id}:{lane[0]}:{lane[1]}"


def stored_json(update: Update) -> dict[str, Any]:
    """An update as the inbox keeps it: the fields the messenger sent, by their API names."""
    return update.model_dump(mode="json", by_alias=True, exclude_unset=True)


def default_worker(port: int | None = None) -> str:
    """This worker's name in the inbox's leases: the host's (a restarted worker takes its own
    lanes back at once); a webhook worker adds its port, so the workers of one host
    (jihad-webhook@81, @82 …) each hold their own lanes."""
    host = socket.gethostname()[:80]
    return f"{host}:polling" if port is None else f"{host}:webhook-{port}"


class InboxPolling:
    """The polling loop of one bot: fetch, store the batch, confirm it at once."""

    def __init__(self, bot: Bot, inbox: Inbox, consumer: InboxConsumer) -> None:
        self.bot = bot
        self.inbox = inbox
        self.consumer = consumer
        self.idle_pause = 1.0  # between empty answers when polling without a long-poll timeout

    async def run(
        self,
        polling_timeout: int,
        allowed_updates: list[str] | None,
        backoff_config: BackoffConfig,
    ) -> None:
        """Poll until cancelled."""
        backoff = Backoff(config=backoff_config)
        request_timeout = {}
        if self.bot.session.timeout:
            request_timeout["request_timeout"] = int(self.bot.session.timeout + polling_timeout)
        offset: int | None = None
        while True:
            request = GetUpdates(
                offset=offset, timeout=polling_timeout, allowed_updates=allowed_updates
            )
            try:
                updates = await self.bot(request, **request_timeout)
            except TelegramUnauthorizedError:
                raise
            except Exception as exc:
                log.warning(
                    "getUpdates failed (%s); retry in %.1fs", type(exc).__name__, backoff.next_delay
                )
                await backoff.asleep()
                continue
            backoff.reset()
            if updates:
                await self._store(updates, backoff)
                offset = max(u.update_id for u in updates) + 1  # confirmed with the next call
            elif polling_timeout == 0:
                # POLLING_TIMEOUT=0: the messenger answers at once; do not spin on it
                await asyncio.sleep(self.idle_pause)

    async def _store(self, updates: list[Update], backoff: Backoff) -> None:
        """Write the batch (one INSERT); retried while the database refuses, unconfirmed."""
        while True:
            try:
                await store_updates(self.inbox, self.consumer, self.bot.id, updates)
                break
            except Exception as exc:
                log.warning("%d updates not stored (%s); retry in %.1fs", len(updates),
                            type(exc).__name__, backoff.next_delay)  # fmt: skip
                await backoff.asleep()
        backoff.reset()


async def store_updates(
    inbox: Inbox, consumer: InboxConsumer | None, bot_id: int, updates: list[Update]
) -> set[int]:
    """Store updates a bot received in the inbox, in one INSERT, and tell this process's
    consumer (if any): what polling does with each batch, and what a webhook would do with each
    update before it answers the platform. Returns the update ids new to the inbox; raises what
    the database raised (nothing is stored then: the platform must keep the updates)."""
    rows = [Incoming(u.update_id, lane_key(bot_id, u), stored_json(u)) for u in updates]
    worker = consumer.worker if consumer is not None else ""
    fresh, earlier = await inbox.store_seeing(bot_id, rows, datetime.now(UTC), worker=worker)
    if consumer is not None:
        consumer.offer(bot_id, [u for u in updates if u.update_id in fresh], earlier)
    return fresh


Key = tuple[int, int]  # (bot id, update id)


class InboxConsumer:
    """Claims lanes of the inbox and handles their updates, each lane in order.

    A claim round (one transaction) lets go of lanes idle for `linger` seconds, renews the
    leases, claims lanes with pending updates and reads the pending updates of every lane held.
    An update this process has just stored for a lane it already holds (a conversation going on)
    is queued at once, without a round: the lease makes the lane this worker's alone."""

    poll_every = 1.0  # a claim round at least this often (other workers' rows, retries)
    lease = 60.0  # seconds a claimed lane stays this worker's without renewal
    linger = 2.0  # seconds an emptied lane is kept before it is let go
    keep_parsed = 10_000  # updates kept parsed in memory; beyond, read back from the inbox

    def __init__(
        self,
        dispatcher: Dispatcher,
        inbox: Inbox,
        *,
        worker: str,
        max_in_flight: int,
        drain_seconds: float,
    ) -> None:
        self.dispatcher = dispatcher
        self.inbox = inbox
        self.worker = worker
        self.max_in_flight = max_in_flight
        self.hold = max(4 * max_in_flight, 100)  # updates claimed and in memory at most
        self.drain_seconds = drain_seconds
        self.bots: dict[int, Bot] = {}
        self.context: dict[str, Any] = {}
        self.on_handled: list[Callable[[int, int], None]] = []
        self.metrics: Metrics | None = None  # each update handled, and how long it took
        self.queues: dict[str, deque[Claimed]] = {}
        self.runners: dict[str, asyncio.Task[None]] = {}
        self.held: dict[str, float] = {}  # lanes this worker holds: lease end (monotonic)
        self.idle: dict[str, float] = {}  # held lanes with nothing queued: since when
        self.taken: set[Key] = set()  # in memory: queued or being handled
        self.waiting: dict[str, set[Key]] = {}  # stored here, not queued yet, per lane
        self.unfinished: dict[Key, Claimed] = {}  # handled, but the done mark failed
        # handled here lately: a round that read the inbox before their done mark was
        # committed must not hand them out again
        self.done: set[Key] = set()
        self._done_order: deque[Key] = deque()
        self.payloads: dict[int, dict[str, Any]] = {}
        self.parsed: dict[Key, Update] = {}  # what this process stored
        self.slots = asyncio.Semaphore(max_in_flight)
        self.handling = 0
        self.peak = 0  # the most updates handled at once
        self.rounds = 0
        self.abandoned = False
        self._wake = asyncio.Event()
        self._renewed = 0.0
        self._expired = 0.0
        self._task: asyncio.Task[None] | None = None

    def add(self, bot: Bot, context: dict[str, Any]) -> None:
        """Serve this bot's lanes (its polling runs); start the rounds with the first bot."""
        self.bots[bot.id] = bot
        self.context = context
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="inbox")
        self.wake()

    def offer(
        self, bot_id: int, updates: list[Update], earlier: dict[str, set[int]] | None = None
    ) -> None:
        """Updates this process has just stored: queue those of lanes it holds, claim soon
        for the rest. `earlier`: per lane, the other updates pending there when these were
        stored; one this process has not in hand (another worker stored it) comes first, so
        the lane waits for a round, which reads its updates in order."""
        tick = time.monotonic()
        claim = False
        for update in updates:
            key = (bot_id, update.update_id)
            lane = lane_key(bot_id, update)
            before = (earlier or {}).get(lane, ())
            direct = (
                self.held.get(lane, 0.0) > tick + self.lease / 2
                and not self.waiting.get(lane)
                and len(self.taken) < self.hold
                and all((bot_id, u) in self.taken or (bot_id, u) in self.done for u in before)
            )
            if direct or len(self.parsed) < self.keep_parsed:
                self.parsed[key] = update
            if direct:
                self._queue(Claimed(0, bot_id, update.update_id, lane, None))
            else:
                self.waiting.setdefault(lane, set()).add(key)
                claim = True
        if claim:
            self.wake()

    def wake(self) -> None:
        """Run a claim round now."""
        self._wake.set()

    async def run(self) -> None:
        """Claim rounds until cancelled; a round at once when another worker stores an update
        in a lane this one holds (`Inbox.watch`), else at least each `poll_every`."""
        with contextlib.suppress(Exception):  # a dead run of this worker left its leases
            await self.inbox.release(self.worker)
        watch = asyncio.create_task(self.inbox.watch(self.worker, self.wake), name="inbox-watch")
        try:
            await self._rounds()
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)

    async def _rounds(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # comes as the wait ends, and `stop` would then wait for this loop for ever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_every):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._round()
            except Exception as exc:
                log.warning("inbox not read (%s); retry soon", type(exc).__name__)
                await asyncio.sleep(self.poll_every)

    async def _round(self) -> None:
        """Let lingering lanes go, claim more, queue what is new."""
        if self.unfinished:
            await self._finish_later()
        if not self.bots:
            return
        self.rounds += 1
        tick = time.monotonic()
        renew = bool(self.held) and tick - self._renewed > self.lease / 3
        expire = tick - self._expired > self.lease / 4
        let_go = {lane for lane, since in self.idle.items() if tick - since >= self.linger}
        for lane in let_go:  # from now on, rows stored for them wait for a round
            del self.idle[lane]
            self.held.pop(lane, None)
        now = datetime.now(UTC)
        rows = await self.inbox.claim(
            self.worker, list(self.bots), now, now + timedelta(seconds=self.lease),
            lanes=max(0, self.hold - len(self.taken)), let_go=let_go, renew=renew,
            expire=expire, taken=self.taken,
        )  # fmt: skip
        if renew:
            self._renewed = tick
            for lane in self.held:
                self.held[lane] = tick + self.lease
        if expire:
            self._expired = tick
        for row in rows:
            self.held.setdefault(row.lane, tick + self.lease)
        rows = [r for r in rows if self._new((r.bot_id, r.update_id))]
        unread = [r.id for r in rows if (r.bot_id, r.update_id) not in self.parsed]
        if unread:
            self.payloads.update(await self.inbox.payloads(unread))
        for row in rows:
            key = (row.bot_id, row.update_id)
            if self._new(key):  # (offer may have queued, even handled, it during `payloads`)
                self._queue(row)
            waiting = self.waiting.get(row.lane)
            if waiting is not None:
                waiting.discard(key)
                if not waiting:
                    del self.waiting[row.lane]

    def _new(self, key: Key) -> bool:
        """Neither handled here lately nor in hand (queued by `offer` while a round was out)."""
        return key not in self.done and key not in self.taken

    def _queue(self, row: Claimed) -> None:
        self.taken.add((row.bot_id, row.update_id))
        self.idle.pop(row.lane, None)
        self.queues.setdefault(row.lane, deque()).append(row)
        if row.lane not in self.runners:
            self.runners[row.lane] = asyncio.create_task(
                self._lane(row.lane), name=f"lane-{row.lane}"
            )

    async def _lane(self, lane: str) -> None:
        """Handle a lane's queued updates in order."""
        queue = self.queues[lane]
        try:
            while queue:
                row = queue[0]
                await self._handle(row)
                queue.popleft()
                key = (row.bot_id, row.update_id)
                self._remember_done(key)
                self.taken.discard(key)
        finally:
            self.runners.pop(lane, None)
            if not queue and self.queues.get(lane) is queue:
                del self.queues[lane]
                self.idle[lane] = time.monotonic()  # let go after `linger`

    def _remember_done(self, key: Key) -> None:
        self.done.add(key)
        self._done_order.append(key)
        if len(self._done_order) > self.keep_parsed:
            self.done.discard(self._done_order.popleft())

    def _update(self, row: Claimed, bot: Bot) -> Update | None:
        update = self.parsed.pop((row.bot_id, row.update_id), None)
        if update is not None:
            return update
        payload = self.payloads.pop(row.id, None)
        try:
            return Update.model_validate(payload, context={"bot": bot})
        except ValidationError:
            log.warning("inbox row %s (update %s) cannot be read; skipped", row.id, row.update_id)
            return None

    async def _handle(self, row: Claimed) -> None:
        """One update through aiogram (middlewares, handlers, errors router), then marked."""
        bot = self.bots[row.bot_id]
        update = self._update(row, bot)
        handling = Handling()
        if update is not None:
            async with self.slots:
                self.handling += 1
                self.peak = max(self.peak, self.handling)
                token = HANDLING.set(handling)
                began = time.perf_counter()
                try:
                    await self.dispatcher._process_update(bot=bot, update=update, **self.context)
                finally:
                    HANDLING.reset(token)
                    self.handling -= 1
                    if self.metrics is not None:
                        platform = str(getattr(getattr(bot, "platform", None), "value", "bot"))
                        self.metrics.handled(platform, time.perf_counter() - began)
        if not handling.marked:  # failed, or not for a handler: done all the same
            try:
                await self.inbox.finish(row.bot_id, [row.update_id], datetime.now(UTC))
            except Exception as exc:
                log.warning("update %s not marked done (%s); retried", row.update_id,
                            type(exc).__name__)  # fmt: skip
                self.unfinished[(row.bot_id, row.update_id)] = row
        for hook in self.on_handled:
            hook(row.bot_id, row.update_id)

    async def _finish_later(self) -> None:
        for key, row in list(self.unfinished.items()):
            try:
                await self.inbox.finish(row.bot_id, [row.update_id], datetime.now(UTC))
            except Exception:
                return
            del self.unfinished[key]

    async def stop(self) -> None:
        """Stop claiming; give the updates in hand time to finish (unless abandoned), then let
        every lane go. Cut off, the rest stays pending and is handled after a restart."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        tasks = list(self.runners.values())
        if tasks and not self.abandoned:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait(tasks, timeout=self.drain_seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if not self.abandoned:
            with contextlib.suppress(Exception):
                await self.inbox.release(self.worker)

    def tasks(self) -> list[asyncio.Task[None]]:
        """The claim rounds' task and the lanes' runners (`abandon` cancels them, unawaited)."""
        return [t for t in (self._task, *self.runners.values()) if t is not None]

    def abandon(self) -> None:
        """Drop everything in hand at once, as a crash would: no drain, leases left."""
        self.abandoned = True
        if self._task is not None:
            self._task.cancel()
        for task in list(self.runners.values()):
            task.cancel()


class LaneDispatcher(Dispatcher):
    """A Dispatcher that polls into the inbox and handles from it (see the module docstring).
    `use_inbox` must be called before polling. With `by_webhook` set, `start_polling` polls
    nothing: the webhook receiver (`bot/runtime/webhook.py`) stores the updates, and the rest
    (the consumer, the stop on a signal, the drain) runs as in polling."""

    max_in_flight = 64
    drain_seconds = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pollers: set[asyncio.Task[Any]] = set()
        self.refused: set[Any] = set()  # platforms whose token was refused
        self.bot_count = 0
        self.inbox: Inbox | None = None
        self.worker = default_worker()
        self.consumer: InboxConsumer | None = None
        self.on_handled: list[Callable[[int, int], None]] = []  # (bot id, update id), each
        self.metrics: Metrics | None = None
        self.by_webhook = False  # updates come by webhook: no getUpdates

    def use_inbox(self, inbox: Inbox, *, worker: str | None = None) -> None:
        """The inbox updates go through, and this worker's name in it."""
        self.inbox = inbox
        self.worker = worker or self.worker

    async def start_polling(self, *bots: Bot, **kwargs: Any) -> None:
        """aiogram's start_polling, counting the bots (to know when none is left), with the
        inbox's consumer beside the pollers; on a stop it drains and lets its lanes go."""
        assert self.inbox is not None, "use_inbox first"
        self.bot_count = len(bots)
        self.refused = set()
        self.consumer = InboxConsumer(
            self, self.inbox, worker=self.worker, max_in_flight=self.max_in_flight,
            drain_seconds=self.drain_seconds,
        )  # fmt: skip
        self.consumer.on_handled = self.on_handled
        self.consumer.metrics = self.metrics
        consumer = self.consumer
        try:
            await super().start_polling(*bots, **kwargs)
        except asyncio.CancelledError:  # killed, not stopped: nothing in hand may go on
            consumer.abandon()
            raise
        finally:
            if not consumer.abandoned:
                await consumer.stop()

    def abandon(self) -> None:
        """Drop everything in hand at once, as a crash would (the cancelled `start_polling`
        leaves aiogram's polling tasks running otherwise); pending rows are handled after the
        restart."""
        for task in list(self._pollers):
            task.cancel()
        if self.consumer is not None:
            self.consumer.abandon()

    async def settled(self, within: float = 10) -> bool:
        """Wait up to `within` seconds until no update is in handling any more (after
        `stop_polling` or `abandon`, whose cancelled tasks are not awaited there); False if
        some task is still running then."""
        tasks = [*self._pollers, *(self.consumer.tasks() if self.consumer else ())]
        if not tasks:
            return True
        _, running = await asyncio.wait(tasks, timeout=within)
        return not running

    async def _polling(
        self,
        bot: Bot,
        polling_timeout: int = 30,
        handle_as_tasks: bool = True,  # the inbox replaces both of aiogram's modes
        backoff_config: BackoffConfig = DEFAULT_BACKOFF,
        allowed_updates: list[str] | None = None,
        tasks_concurrency_limit: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Poll `bot` into the inbox until cancelled. A platform that refuses the token is said
        so in one line and left: the others go on (`refused`)."""
        platform = str(getattr(bot, "platform", "bot"))
        if self.by_webhook:  # the receiver stores; here only the consumer serves the bot
            assert self.consumer is not None
            self.consumer.add(bot, kwargs)
            log.info("%s updates come by webhook into the inbox", platform)
            await asyncio.Event().wait()  # until the stop cancels it
        try:
            user = await self._me(bot, platform, backoff_config)
            log.info("polling %s @%s into the inbox", platform, user.username)
        except TelegramUnauthorizedError:
            await self._refuse(bot, platform)
            return
        assert self.inbox is not None and self.consumer is not None
        self.consumer.add(bot, kwargs)
        poller = InboxPolling(bot, self.inbox, self.consumer)
        task = asyncio.current_task()
        assert task is not None
        self._pollers.add(task)
        try:
            await poller.run(polling_timeout, allowed_updates, backoff_config)
        except TelegramUnauthorizedError:
            await self._refuse(bot, platform)
        finally:
            self._pollers.discard(task)

    @staticmethod
    async def _me(bot: Bot, platform: str, backoff_config: BackoffConfig) -> User:
        """getMe, retried while the platform answers 5xx, HTML pages or nothing."""
        backoff = Backoff(config=backoff_config)
        while True:
            try:
                return await bot.me()
            except TelegramUnauthorizedError:
                raise
            except Exception as exc:
                log.warning("%s getMe failed (%s); retry in %.1fs", platform,
                            type(exc).__name__, backoff.next_delay)  # fmt: skip
                await backoff.asleep()

    async def _refuse(self, bot: Bot, platform: str) -> None:
        """Say once that the token is refused; stop polling if no platform is left, else wait
        (a finished polling task would stop aiogram's polling of every bot)."""
        log.error("%s refuses the bot token (401 Unauthorized): check %s_BOT_TOKEN; "
                  "this platform is not served", platform, platform.upper())  # fmt: skip
        self.refused.add(getattr(bot, "platform", platform))
        if len(self.refused) >= self.bot_count:
            log.error("no platform accepts its token; stopping")
            with contextlib.suppress(RuntimeError):
                await self.stop_polling()
        await asyncio.Event().wait()
