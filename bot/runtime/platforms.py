"""Telegram and Bale: API servers, raw-JSON repair before aiogram parses it, text per platform."""

from __future__ import annotations

import html
import json
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Update
from pydantic import ValidationError

from bot.runtime.boundary import BaleReplies, ForgivingCallbackAnswers, PlatformSession
from bot.runtime.retry import RetryRequests
from desk.model import AttachmentKind, Platform

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_TEXT = 4096

# Bale reads every text as its Markdown; these characters in citizens' text would be taken
# as markup, so they become look-alikes that Bale leaves alone. Angle brackets go too, so
# nothing that looks like an HTML tag ever reaches Bale.
_BALE_NEUTRAL = str.maketrans(
    {"*": "∗", "_": "‗", "[": "［", "]": "］", "`": "ˋ", "<": "‹", ">": "›"}
)


def max_file_size(platform: Platform, kind: AttachmentKind) -> int:
    """The largest attachment we accept: what the bot can fetch (getFile) and re-send."""
    if platform is Platform.BALE and kind is AttachmentKind.PHOTO:
        return 10 * MB
    return 20 * MB


class Renderer:
    """Formats text for one platform: HTML for Telegram, plain Markdown-safe text for Bale."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.html = platform is Platform.TELEGRAM

    def shown(self, text: object) -> str:
        """How a value embedded with `esc` reads on this platform: as typed on Telegram (HTML
        entities render back), with Bale's look-alikes for Markdown and angle brackets."""
        value = str(text)
        return value if self.html else value.translate(_BALE_NEUTRAL)

    def esc(self, text: object) -> str:
        """Make a citizen's (or anyone's) text safe to embed."""
        return html.escape(str(text), quote=False) if self.html else self.shown(text)

    def bold(self, text: str) -> str:
        """Bold where the platform can show it (Telegram), plain elsewhere."""
        return f"<b>{self.esc(text)}</b>" if self.html else self.esc(text)

    def code(self, text: str) -> str:
        """Tap-to-copy on Telegram, plain elsewhere."""
        return f"<code>{self.esc(text)}</code>" if self.html else self.esc(text)

    def fmt(self, template: str, **values: object) -> str:
        """Fill a template from bot.ui.texts; every value is escaped unless wrapped in Raw."""
        safe = {k: (v.text if isinstance(v, Raw) else self.esc(v)) for k, v in values.items()}
        return template.format(**safe)


def plain(template: str, **values: object) -> str:
    """Fill a template for a destination the platform never parses as markup: a button's
    label, the pop-up notice of a press, a file name. Anything sent as a message goes through
    `Renderer.fmt` instead (tests/unit/test_one_way_to_format.py holds the handlers to it)."""
    return template.format(**values)


class Raw:
    """A value already rendered for the platform (e.g. bold), so fmt must not escape it."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _fill(obj: dict[str, Any], defaults: dict[str, Any]) -> None:
    for key, value in defaults.items():
        obj.setdefault(key, value)


_MEDIA_DEFAULTS: dict[str, dict[str, Any]] = {
    "voice": {"duration": 0},
    "audio": {"duration": 0},
    "video": {"duration": 0, "width": 0, "height": 0},
    "video_note": {"duration": 0, "length": 0},
    "animation": {"duration": 0, "width": 0, "height": 0},
    "sticker": {
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "width": 0,
        "height": 0,
    },
}


_FILE_FIELDS = ("document", "voice", "audio", "video", "video_note", "animation", "sticker")


def _chat_type(chat: dict[str, Any], sender: Any, channel: bool) -> str:
    """What a chat without `type` is: a channel post's chat is a channel, a chat with a title
    is a group, a chat whose id is its sender's own id is private; anything else is taken as a
    group, never as private (a group's message must not reach the citizens' handlers)."""
    if channel:
        return "channel"
    if chat.get("title"):
        return "group"
    if isinstance(sender, dict) and sender.get("id") == chat.get("id"):
        return "private"
    return "group"


def _repair_file(obj: dict[str, Any]) -> None:
    """Bale may leave `file_unique_id` out; the file id identifies the file as well."""
    if "file_unique_id" not in obj and isinstance(obj.get("file_id"), str):
        obj["file_unique_id"] = obj["file_id"][:64]


def _repair_message(
    message: dict[str, Any], *, channel: bool = False, person: Any = None, chat_type: str = ""
) -> None:
    """Fill fields Bale may omit in a message so aiogram's models accept it. `person` is who
    acts (a button's presser: the message under a button is the bot's own); `chat_type` is a
    type already known for this chat (a replied-to message is in the same chat)."""
    message.setdefault("date", 0)
    sender = message.get("from")
    chat = message.get("chat")
    if isinstance(chat, dict) and not chat.get("type"):
        chat["type"] = chat_type or _chat_type(chat, person or sender, channel)
    if isinstance(sender, dict):
        _fill(sender, {"is_bot": False, "first_name": ""})
    for field, defaults in _MEDIA_DEFAULTS.items():
        if isinstance(message.get(field), dict):
            _fill(message[field], defaults)
    for field in _FILE_FIELDS:
        if isinstance(message.get(field), dict):
            _repair_file(message[field])
    for size in message.get("photo") or []:
        if isinstance(size, dict):
            _fill(size, {"width": 0, "height": 0})
            _repair_file(size)
    if isinstance(message.get("contact"), dict):
        message["contact"].setdefault("first_name", "")
    reply = message.get("reply_to_message")
    if isinstance(reply, dict):
        known = str(chat.get("type") or "") if isinstance(chat, dict) else ""
        same = isinstance(chat, dict) and (reply.get("chat") or {}).get("id") == chat.get("id")
        _repair_message(reply, channel=channel, chat_type=known if same else "")


def _fill_update(update: dict[str, Any]) -> None:
    """Fill, in place, what Bale leaves out of an update."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if isinstance(update.get(key), dict):
            _repair_message(update[key], channel=key.endswith("channel_post"))
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        message = callback.get("message")
        if isinstance(message, dict):
            _repair_message(message, person=callback.get("from"))
        chat_id = message.get("chat", {}).get("id") if isinstance(message, dict) else None
        callback.setdefault("chat_instance", str(chat_id or callback.get("id", "")))
        sender = callback.get("from")
        if isinstance(sender, dict):
            _fill(sender, {"is_bot": False, "first_name": ""})


def _dropped(update: dict[str, Any], exc: ValidationError) -> dict[str, Any]:
    # One unparseable update must not stall polling: keep its id so the offset moves on.
    fields = sorted({".".join(map(str, e["loc"][:3])) for e in exc.errors()})
    log.warning(
        "dropping update %s that cannot be parsed (%s)", update.get("update_id"), ", ".join(fields)
    )
    return {"update_id": update.get("update_id", 0)}


def repair_update(update: dict[str, Any]) -> dict[str, Any]:
    """Fill what Bale leaves out; an update aiogram still cannot parse becomes an empty one."""
    _fill_update(update)
    try:
        Update.model_validate(update)
    except ValidationError as exc:
        return _dropped(update, exc)
    return update


def parse_update(update: dict[str, Any], bot: Bot) -> tuple[dict[str, Any], Update]:
    """`repair_update` and aiogram's parse in one validation (a webhook's body): the repaired
    JSON (to store) and the update (to handle); one that cannot be parsed becomes an empty
    update, logged, as in polling."""
    _fill_update(update)
    try:
        return update, Update.model_validate(update, context={"bot": bot})
    except ValidationError as exc:
        empty = _dropped(update, exc)
        return empty, Update.model_validate(empty, context={"bot": bot})


def repairing_json_loads(content: str) -> Any:
    """json.loads for the API session that repairs answers on the way in: the updates of
    getUpdates, and the message a send returns (Bale leaves `duration`, `type` and the like
    out of the voice, video, sticker … it echoes back, as it does in updates)."""
    data = json.loads(content)
    if not isinstance(data, dict):
        return data
    result = data.get("result")
    if isinstance(result, list):
        if result and all(isinstance(u, dict) and "update_id" in u for u in result):
            data["result"] = [repair_update(u) for u in result]
        else:  # sendMediaGroup: a list of messages
            for item in result:
                if isinstance(item, dict) and "message_id" in item and "chat" in item:
                    _repair_message(item)
    elif isinstance(result, dict) and "message_id" in result and "chat" in result:
        _repair_message(result)
    return data


class PlatformBot(Bot):
    """An aiogram Bot that knows which messenger it talks to."""

    platform: Platform

    @property
    def ui(self) -> Renderer:
        """The text renderer for this bot's platform."""
        return Renderer(self.platform)


def make_bot(
    platform: Platform,
    token: str,
    api_url: str,
    *,
    timeout: float = 60,
    retry: bool = True,
    proxy: str | None = None,
) -> PlatformBot:
    """A bot whose session talks to `api_url` (through `proxy` when set), repairs updates
    before parsing and reads every answer as the platform gives it (`bot/runtime/boundary.py`).

    `retry` adds in-call retries for replies in handlers; the delivery worker's bots go
    without, because the worker retries itself, durably, without blocking other chats."""
    session = PlatformSession(
        platform_name=platform.value,
        api=TelegramAPIServer.from_base(api_url),
        json_loads=repairing_json_loads,
        timeout=timeout,
        proxy=proxy,
    )
    default = DefaultBotProperties(
        parse_mode=ParseMode.HTML if platform is Platform.TELEGRAM else None,
        link_preview_is_disabled=True if platform is Platform.TELEGRAM else None,
    )
    bot = PlatformBot(token, session=session, default=default)
    bot.platform = platform
    session.middleware(ForgivingCallbackAnswers())
    if platform is Platform.BALE:
        session.middleware(BaleReplies())
    if retry:
        session.middleware(RetryRequests())
    return bot
