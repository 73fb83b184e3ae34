"""At-least-once polling with one lane per chat.

aiogram's own polling either handles updates one at a time (and confirms each offset after its
handler) or starts a task per update and confirms the offset at once, so a crash loses the
updates in hand. `LaneDispatcher` keeps the first guarantee and drops the first limit:

- updates of different chats are handled concurrently, those of one chat strictly in order (one
  lane per chat, so a citizen's conversation and a staff group's replies never overtake
  themselves);
- the offset sent to getUpdates is the lowest update still in hand, so an update is confirmed to
  the messenger only when it and every update before it have been handled. A crash or `kill -9`
  therefore loses nothing: the messenger sends the unfinished ones again, and
  `SkipHandledUpdates` (which remembers handled update ids in the database) skips those that had
  finished;
- at most `max_in_flight` updates are in hand per bot; one slow handler (a reply being retried
  for a minute) holds up only its own chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update, User
from aiogram.utils.backoff import Backoff, BackoffConfig

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


class LanePolling:
    """The polling loop of one bot: fetch, start each update in its chat's lane, confirm."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        max_in_flight: int,
        busy_poll: float,
        drain_seconds: float,
        context: dict[str, Any],
    ) -> None:
        self.abandoned = False  # set by a crash: no draining
        self.dispatcher = dispatcher
        self.bot = bot
        self.max_in_flight = max_in_flight
        self.busy_poll = busy_poll
        self.idle_pause = 1.0  # between empty answers when polling without a long-poll timeout
        self.pause = busy_poll  # grows while polls bring nothing new (a handler stuck retrying)
        self.drain_seconds = drain_seconds
        self.context = context
        self.in_hand: dict[int, asyncio.Task[None]] = {}
        self.finished: set[int] = set()  # handled, but above the confirmed offset
        self.lanes: dict[Hashable, asyncio.Task[None]] = {}
        self.highest: int | None = None

    def offset(self) -> int | None:
        """Confirm everything below the lowest update still in hand."""
        if self.in_hand:
            low = min(self.in_hand)
            self.finished = {u for u in self.finished if u >= low}
            return low
        self.finished.clear()
        return None if self.highest is None else self.highest + 1

    def start(self, update: Update) -> None:
        """Handle `update` after the previous update of its chat."""
        lane = lane_of(update)
        before = self.lanes.get(lane)
        task = asyncio.create_task(self._handle(update, before), name=f"update-{update.update_id}")
        self.in_hand[update.update_id] = task
        self.lanes[lane] = task

        def done(_: asyncio.Task[None], uid: int = update.update_id) -> None:
            self.in_hand.pop(uid, None)
            self.finished.add(uid)
            if self.lanes.get(lane) is task:
                del self.lanes[lane]

        task.add_done_callback(done)

    async def _handle(self, update: Update, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])
        # aiogram's own path: middlewares, handlers, errors router; exceptions are logged there
        await self.dispatcher._process_update(bot=self.bot, update=update, **self.context)

    async def _wait_for_room(self) -> None:
        """Wait a little while updates are in hand, and until there is room for more."""
        if not self.in_hand:
            return
        lowest = self.in_hand[min(self.in_hand)]
        await asyncio.wait([lowest], timeout=self.pause)
        while len(self.in_hand) >= self.max_in_flight:
            await asyncio.wait(list(self.in_hand.values()), return_when=asyncio.FIRST_COMPLETED)

    async def run(
        self,
        polling_timeout: int,
        allowed_updates: list[str] | None,
        backoff_config: BackoffConfig,
    ) -> None:
        """Poll until cancelled; on cancel, let the updates in hand finish for a while."""
        backoff = Backoff(config=backoff_config)
        request_timeout = {}
        if self.bot.session.timeout:
            request_timeout["request_timeout"] = int(self.bot.session.timeout + polling_timeout)
        try:
            while True:
                await self._wait_for_room()
                request = GetUpdates(
                    offset=self.offset(),
                    # while updates are in hand the messenger answers at once anyway
                    timeout=0 if self.in_hand else polling_timeout,
                    allowed_updates=allowed_updates,
                )
                try:
                    updates = await self.bot(request, **request_timeout)
                except TelegramUnauthorizedError:
                    raise
                except Exception as exc:
                    log.warning(
                        "getUpdates failed (%s); retry in %.1fs",
                        type(exc).__name__,
                        backoff.next_delay,
                    )
                    await backoff.asleep()
                    continue
                backoff.reset()
                known = self.in_hand.keys() | self.finished
                fresh = [u for u in updates if u.update_id not in known]
                # the lowest update in hand holds the offset: while nothing new comes, ask less
                # often (up to once a second) instead of re-reading the same updates
                self.pause = self.busy_poll if fresh else min(self.pause * 2, 1.0)
                for update in fresh:
                    self.highest = max(self.highest or 0, update.update_id)
                    self.start(update)
                if not updates and not self.in_hand and polling_timeout == 0:
                    # POLLING_TIMEOUT=0: the messenger answers at once; do not spin on it
                    await asyncio.sleep(self.idle_pause)
        finally:
            await self._drain()

    async def _drain(self) -> None:
        """Give the updates in hand time to finish; cut off, they come again after a restart."""
        if not self.in_hand:
            return
        tasks = list(self.in_hand.values())
        if not self.abandoned:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait(tasks, timeout=self.drain_seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class LaneDispatcher(Dispatcher):
    """A Dispatcher whose polling is `LanePolling` (see the module docstring)."""

    max_in_flight = 64
    busy_poll = 0.1
    drain_seconds = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pollers: dict[asyncio.Task[Any], LanePolling] = {}
        self.refused: set[Any] = set()  # platforms whose token was refused
        self.bot_count = 0

    async def start_polling(self, *bots: Bot, **kwargs: Any) -> None:
        """aiogram's start_polling, counting the bots (to know when none is left)."""
        self.bot_count = len(bots)
        self.refused = set()
        await super().start_polling(*bots, **kwargs)

    def abandon(self) -> None:
        """Drop everything in hand at once, as a crash would (the cancelled `start_polling`
        leaves aiogram's polling tasks running otherwise); unconfirmed updates come again."""
        for task, poller in list(self._pollers.items()):
            poller.abandoned = True
            task.cancel()

    async def _polling(
        self,
        bot: Bot,
        polling_timeout: int = 30,
        handle_as_tasks: bool = True,  # lanes replace both of aiogram's modes
        backoff_config: BackoffConfig = DEFAULT_BACKOFF,
        allowed_updates: list[str] | None = None,
        tasks_concurrency_limit: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Poll `bot` with lanes until cancelled. A platform that refuses the token is said
        so in one line and left: the others go on (`refused`)."""
        platform = str(getattr(bot, "platform", "bot"))
        try:
            user = await self._me(bot, platform, backoff_config)
            log.info("polling %s @%s with one lane per chat", platform, user.username)
        except TelegramUnauthorizedError:
            await self._refuse(bot, platform)
            return
        poller = LanePolling(
            self,
            bot,
            max_in_flight=self.max_in_flight,
            busy_poll=self.busy_poll,
            drain_seconds=self.drain_seconds,
            context=kwargs,
        )
        task = asyncio.current_task()
        assert task is not None
        self._pollers[task] = poller
        try:
            await poller.run(polling_timeout, allowed_updates, backoff_config)
        except TelegramUnauthorizedError:
            await self._refuse(bot, platform)
        finally:
            self._pollers.pop(task, None)

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
