"""Dispatcher middlewares: platform context for handlers, the inbox's done mark with the
handler's effects, the ban list operators edit and the per-chat flood limit for citizens
(shared by every worker through Redis when REDIS_URL is set)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.ports import UpdateScope
from bot.runtime.limits import SharedOrLocal
from bot.runtime.platforms import PlatformBot
from bot.ui import texts
from desk.model import Platform
from desk.ports import Clock
from desk.routing import RoutingRules, RulesError

log = logging.getLogger(__name__)

NextHandler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PlatformContext(BaseMiddleware):
    """Gives every handler `ui`, the renderer of the platform the update came from."""

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """Inject `ui`."""
        bot = data["bot"]
        assert isinstance(bot, PlatformBot)
        data["ui"] = bot.ui
        return await handler(event, data)


_UPDATE_KEY: ContextVar[str | None] = ContextVar("update_key", default=None)


def current_update_key() -> str | None:
    """`bot id:update id` of the update being handled: the same when it is handled again."""
    return _UPDATE_KEY.get()


class Handling:
    """Set by the inbox consumer around one update: whether its done mark was written with
    the handler's effects (else the consumer marks it itself)."""

    __slots__ = ("marked",)

    def __init__(self) -> None:
        self.marked = False


HANDLING: ContextVar[Handling | None] = ContextVar("handling", default=None)


class MarkHandled(BaseMiddleware):
    """Updates are handled from the inbox (`bot/runtime/polling.py`); the handler's FSM
    changes are written together with the mark that its inbox row is done, in one transaction
    (`storage`: the `UpdateScope` port, filled by `storage.fsm.UpdateScopedStorage`). A crash
    before that commit leaves the row pending: the update is handled again after the restart,
    from the conversation's old state; after it, never again."""

    def __init__(self, storage: UpdateScope, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """Handle inside the update's scope; tell the consumer the mark is written."""
        assert isinstance(event, Update)
        bot_id = data["bot"].id
        try:
            event.event_type  # noqa: B018 - raises for an update we could not parse
        except UpdateTypeLookupError:
            log.warning("update %s has no content we understand; skipped", event.update_id)
            return None
        uid = event.update_id
        token = _UPDATE_KEY.set(f"{bot_id}:{uid}")
        try:
            async with self.storage.update(bot_id, uid, self.clock.now()):
                result = await handler(event, data)
        finally:
            _UPDATE_KEY.reset(token)
        handling = HANDLING.get()
        if handling is not None:
            handling.marked = True
        return result


def _origin(event: Update) -> tuple[int | None, int | None, str | None]:
    """The chat id, the sender's id and the chat type of an update (None where absent)."""
    message = event.message or event.edited_message
    if message is not None:
        sender = message.from_user.id if message.from_user else None
        return message.chat.id, sender, message.chat.type
    query = event.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        return (chat.id if chat else None), query.from_user.id, (chat.type if chat else None)
    return None, None, None


class BanListError(RulesError):
    """The ban list file is malformed; the message names the file and the entry
    (a RulesError, so `python -m bot` and `check` report it as one line)."""


def parse_ban_list(path: Path) -> dict[tuple[Platform, int], str]:
    """Read `banned.yaml`: a list under `banned`, each `platform:chat_id` or a mapping
    with `chat: platform:chat_id` and an optional `reason`. A missing file bans nobody."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BanListError(f"{path}: not readable YAML ({type(exc).__name__})") from None
    items = data.get("banned") if isinstance(data, dict) else None
    if items is None:
        items = []
    if not isinstance(items, list):
        raise BanListError(f"{path}: `banned` must be a list")
    out: dict[tuple[Platform, int], str] = {}
    for number, item in enumerate(items, 1):
        entry, reason = (
            (item.get("chat"), item.get("reason"))
            if isinstance(item, dict)
            else (
                item,
                None,
            )
        )
        platform, _, chat = str(entry).partition(":")
        try:
            key = (Platform(platform.strip().lower()), int(chat.strip()))
        except ValueError:
            raise BanListError(
                f"{path}: entry {number} must look like telegram:123456 or bale:123456"
            ) from None
        out[key] = str(reason or "")
    return out


class BanList:
    """The ban list file, re-read whenever its modification time or size changes.

    A file that turns malformed while running keeps the last good list (and logs why);
    at start a malformed file stops the bot, like the routing rules do."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._stat()
        self._banned = parse_ban_list(path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def banned(self) -> dict[tuple[Platform, int], str]:
        """The current list, re-read if the file changed."""
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._banned = parse_ban_list(self.path)
            except BanListError as exc:
                log.error("ban list not reloaded, the previous one stays: %s", exc)
            else:
                log.info("ban list reloaded: %d chats", len(self._banned))
        return self._banned

    def is_banned(self, platform: Platform, *ids: int | None) -> bool:
        """Whether any of these chat or user ids is banned on the platform."""
        banned = self.banned()
        return any(i is not None and (platform, i) in banned for i in ids)


class IgnoreBanned(BaseMiddleware):
    """Updates from a banned chat (or sender) are dropped: logged without content,
    a button press answered silently so the client stops its spinner."""

    def __init__(self, bans: BanList) -> None:
        self.bans = bans

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """Drop or pass."""
        assert isinstance(event, Update)
        bot = data["bot"]
        assert isinstance(bot, PlatformBot)
        chat_id, sender_id, _ = _origin(event)
        if not self.bans.is_banned(bot.platform, chat_id, sender_id):
            return await handler(event, data)
        log.info("update %s from a banned chat on %s ignored", event.update_id, bot.platform)
        if event.callback_query is not None:
            with contextlib.suppress(Exception):
                await bot.answer_callback_query(event.callback_query.id)
        return None


class FloodLimit(BaseMiddleware):
    """At most `per_minute` messages, edits and button presses a minute from one citizen's
    private chat.

    A sliding window per chat: a message beyond the limit is not handled; the first one gets a
    polite notice, the rest nothing, until the oldest counted message is a minute old. Ignored
    messages do not count. With `shared` limits (Redis, REDIS_URL) the window is one for every
    worker (`storage.limits`); without them, or while Redis does not answer, it is this
    process's own, in memory (lost on restart). Group chats — the units' staff chats and the
    admin chats — are never limited."""

    WINDOW = 60.0

    def __init__(
        self,
        per_minute: int,
        rules: RoutingRules,
        now: Callable[[], float] = time.monotonic,
        shared: SharedOrLocal | None = None,
    ) -> None:
        self.per_minute = per_minute
        self.now = now
        self.shared = shared or SharedOrLocal(None)
        self.exempt: set[tuple[Platform, int]] = {
            (platform, chat_id)
            for unit in rules.units.values()
            for platform, chat_id in unit.chats.items()
        } | {(platform, chat_id) for platform, ids in rules.admins.items() for chat_id in ids}
        self._seen: dict[tuple[Platform, int], deque[float]] = {}
        self._warned: set[tuple[Platform, int]] = set()
        self._calls = 0

    def _sweep(self, now: float) -> None:
        """Forget chats quiet for a minute, so memory stays bounded by recent senders."""
        for key in [k for k, times in self._seen.items() if now - times[-1] >= self.WINDOW]:
            del self._seen[key]
            self._warned.discard(key)

    def _local(self, key: tuple[Platform, int]) -> tuple[bool, bool]:
        """This process's own window: whether to handle, and (if not) whether to say so."""
        now = self.now()
        self._calls += 1
        if self._calls % 1000 == 0:
            self._sweep(now)
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self.WINDOW:
            times.popleft()
        if len(times) < self.per_minute:
            times.append(now)
            self._warned.discard(key)
            return True, False
        if key in self._warned:
            return False, False
        self._warned.add(key)
        return False, True

    async def verdict(self, platform: Platform, chat_id: int) -> tuple[bool, bool]:
        """Count one message of a citizen's chat: whether to handle it, and (when not) whether
        this is the first one over the limit, to be told to slow down."""
        shared = await self.shared.ask(
            lambda s: s.flood(platform, chat_id, self.per_minute, self.WINDOW)
        )
        return self._local((platform, chat_id)) if shared is None else shared

    async def __call__(
        self, handler: NextHandler, event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        """Count, and pass or drop."""
        assert isinstance(event, Update)
        bot = data["bot"]
        assert isinstance(bot, PlatformBot)
        # messages, edits of them and button presses all count: each may make the bot write
        query = event.callback_query
        message = event.message or event.edited_message
        if message is None and query is not None and isinstance(query.message, Message):
            message = query.message
        if self.per_minute <= 0 or message is None or message.chat.type != "private":
            return await handler(event, data)
        if (bot.platform, message.chat.id) in self.exempt:
            return await handler(event, data)
        handle, notice = await self.verdict(bot.platform, message.chat.id)
        if handle:
            return await handler(event, data)
        if query is not None:  # stop the button's spinner; nothing else is done for it
            with contextlib.suppress(Exception):
                await query.answer()
        if notice:
            log.info("chat %s on %s is over the flood limit; slowed", message.chat.id, bot.platform)
            with contextlib.suppress(Exception):
                await bot.send_message(message.chat.id, texts.FLOOD_SLOW_DOWN)
        return None
