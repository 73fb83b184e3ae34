"""Fake Telegram / Bale Bot API server on loopback: the e2e tests' fake and the sandbox's messenger.

The bot under test talks to it over real HTTP (``TelegramAPIServer.from_base(api.base_url)``);
tests play citizens and staff through :class:`FakeUser` / :class:`FakeGroup` and read what the
bot sent from :attr:`FakeBot.sent`.  ``send()``/``click()`` wait until the bot confirms the update
with a later ``getUpdates(offset=...)``, so poll with ``handle_as_tasks=False``.

Fault kinds (``FakeBotAPI.fail(method, kind, ...)``, ``refuse_chat(..., kind)``, ``reality``):

- ``429``: HTTP 429 JSON "Too Many Requests: retry after N" with ``parameters.retry_after``.
- ``429_bare``: HTTP 429 JSON "Too Many Requests" without parameters / retry_after.
- ``429_text``: HTTP 429 ``text/plain`` ``local_rate_limited`` (Envoy-style edge proxy).
- ``429_html``: HTTP 429 nginx HTML page "429 Too Many Requests".
- ``420``: HTTP 420 JSON "Flood wait".
- ``bale_limit``: HTTP 400 JSON "bot limit exceed" (Bale's rate limit).
- ``bale_limit_any``: HTTP 200 JSON ``ok: false``, error_code 429, "bot limit exceed".
- ``500``: HTTP 500 JSON "Internal Server Error".
- ``502_html``: HTTP 502 nginx HTML page "502 Bad Gateway".
- ``503_text``: HTTP 503 ``text/plain`` "upstream connect error or disconnect/reset ...".
- ``timeout``: answers normally (the call is carried out) after ``delay`` seconds.
- ``drop``: the connection is aborted without an answer (the call is not carried out).
- ``401``: HTTP 401 JSON "Unauthorized".
- ``403``: HTTP 403 JSON "Forbidden: bot was blocked by the user".
- ``403_kicked``: HTTP 403 JSON "Forbidden: bot was kicked from the group chat".
- ``403_not_member``: HTTP 403 JSON "Forbidden: bot is not a member of the group chat".
- ``chat_not_found``: HTTP 400 JSON "Bad Request: chat not found".
- ``400``: HTTP 400 JSON "Bad Request: can't parse entities: ..." (a refusal no retry fixes).
- ``ok_garbage``: the call is carried out, but the answer is ``ok: true`` with a result that
  does not parse as the declared type.

Profiles and switches:

- ``FakeBotAPI.fail(method, kind, times, retry_after, delay, token)``: the next calls fail.
- ``FakeBotAPI.refuse_chat(token, chat_id, seconds, kind)`` / ``restore_chat``: a chat refuses
  the bot for a while (calls are recorded in ``FakeBot.refused``).
- ``FakeBotAPI.reality(seed, rate, token, kinds)`` / ``reality_off()``: seeded random faults
  on every call (getUpdates only gets transient ones); counted in ``FakeBotAPI.injected``.
- ``FakeBot.edit_answer``: what edits answer: "message" (Telegram's default), "true", "stub"
  (``{"message_id": 0}``, seen from Bale: Bale's default), "null" or "random" (seeded by
  ``FakeBot.edit_seed``).
- ``FakeBot.bale_quirks``: Bale leaves ``file_unique_id`` and ``chat.type`` out of messages.
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiohttp import web

TELEGRAM = "telegram"
BALE = "bale"
MB = 1024 * 1024
PHOTO_UPLOAD_LIMIT = 10 * MB
FILE_UPLOAD_LIMIT = 50 * MB
DOWNLOAD_LIMIT = 20 * MB
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
FAULT_KINDS = (
    "429", "500", "bale_limit", "timeout", "drop", "403",
    "429_bare", "429_text", "429_html", "420", "bale_limit_any", "502_html", "503_text",
    "401", "403_kicked", "403_not_member", "chat_not_found", "400", "ok_garbage",
)  # fmt: skip
REALITY_KINDS = (  # what reality() draws from by default: transient and rate-limit answers
    "429", "429_bare", "429_text", "429_html", "420", "bale_limit", "bale_limit_any",
    "500", "502_html", "503_text", "drop", "ok_garbage",
)  # fmt: skip
POLL_SAFE_KINDS = ("500", "502_html", "503_text", "429_bare", "timeout")  # never lose updates
REALITY_TIMEOUT_DELAY = 0.2  # a reality "timeout" is only a late answer
EDIT_ANSWERS = ("message", "true", "stub", "null", "random")

# fmt: off
_STRING_FIELDS = frozenset({  # form fields kept as strings (everything else is JSON-decoded)
    "text", "caption", "parse_mode", "phone_number", "first_name", "last_name", "vcard", "title",
    "address", "description", "callback_query_id", "inline_message_id", "file_id", "photo",
    "document", "voice", "video", "audio", "animation", "sticker", "video_note", "thumbnail",
    "url", "action", "emoji", "name", "query", "business_connection_id", "message_effect_id",
    "foursquare_id", "google_place_id", "language_code", "secret_token", "question", "payload",
})
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)([^<>]*)>")
_TG_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "tg-spoiler",
    "span", "blockquote", "tg-emoji",
})
_BALE_HTML = re.compile(
    r"</?(?:b|i|u|s|a|code|pre|strong|em|ins|del|strike|span|tg-spoiler|blockquote)(?:\s[^>]*)?>",
    re.IGNORECASE,
)
_MEDIA_KEYS = ("photo", "document", "voice", "video", "audio", "animation", "sticker",
               "video_note", "location", "contact")
_SEND_MEDIA = {
    "sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice", "sendVideo": "video",
    "sendAudio": "audio", "sendAnimation": "animation", "sendSticker": "sticker",
    "sendVideoNote": "video_note",
}
_HEADERS = {  # magic bytes so fake files look like what they claim to be
    "photo": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "document": b"%PDF-1.4\n", "voice": b"OggS",
    "audio": b"ID3", "video": b"\x00\x00\x00\x18ftypmp42", "animation": b"GIF89a",
    "sticker": b"RIFF\x00\x00\x00\x00WEBP",
}
_MIME = {"voice": "audio/ogg", "audio": "audio/mpeg", "video": "video/mp4",
         "animation": "image/gif"}
# fmt: on
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)

Json = dict[str, Any]
Upload = tuple[bytes, str | None, str | None]
Handler = Callable[[Json, dict[str, Upload]], Awaitable[Any]]


GROUP_ANONYMOUS_BOT = 1087968824  # Telegram's sender of an anonymous administrator's messages
CHANNEL_BOT = 136817688  # Telegram's sender of messages sent on behalf of a channel


class ApiError(Exception):
    """An error answer of the fake API (HTTP status, description, optional parameters)."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        """Remember the answer to send."""
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _error_response(status: int, description: str, parameters: Json | None = None) -> web.Response:
    """Build a Bot API error JSON response."""
    body: Json = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return _json_response(body, status)


def _json_response(body: Any, status: int = 200) -> web.Response:
    """Build a JSON response keeping non-ASCII text readable."""
    return web.json_response(body, status=status, dumps=partial(json.dumps, ensure_ascii=False))


def _nginx_page(status: str) -> str:
    """nginx's default error page for a status line such as "502 Bad Gateway"."""
    return (
        f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center>"
        "<hr><center>nginx</center></body></html>"
    )


_UPSTREAM_RESET = (
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
)
_GARBAGE = {"message_id": "not-a-number", "weird": [1]}
_JSON_FAULTS: dict[str, tuple[int, str]] = {
    "500": (500, "Internal Server Error"),
    "bale_limit": (400, "bot limit exceed"),
    "403": (403, "Forbidden: bot was blocked by the user"),
    "429_bare": (429, "Too Many Requests"),
    "420": (420, "Flood wait"),
    "401": (401, "Unauthorized"),
    "403_kicked": (403, "Forbidden: bot was kicked from the group chat"),
    "403_not_member": (403, "Forbidden: bot is not a member of the group chat"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "400": (400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'),
}


def _fault_response(kind: str, retry_after: int) -> web.Response | None:
    """The answer of a fault kind; None when the call goes on ("timeout", "ok_garbage")."""
    if kind == "429":
        description = f"Too Many Requests: retry after {retry_after}"
        return _error_response(429, description, {"retry_after": retry_after})
    if kind in _JSON_FAULTS:
        return _error_response(*_JSON_FAULTS[kind])
    if kind == "bale_limit_any":
        return _json_response({"ok": False, "error_code": 429, "description": "bot limit exceed"})
    if kind == "429_text":
        return web.Response(status=429, text="local_rate_limited", content_type="text/plain")
    if kind == "429_html":
        page = _nginx_page("429 Too Many Requests")
        return web.Response(status=429, text=page, content_type="text/html")
    if kind == "502_html":
        page = _nginx_page("502 Bad Gateway")
        return web.Response(status=502, text=page, content_type="text/html")
    if kind == "503_text":
        return web.Response(status=503, text=_UPSTREAM_RESET, content_type="text/plain")
    return None


def _decode_form(key: str, value: str) -> Any:
    """Decode one form field the way Telegram does (JSON-encoded unless a string field)."""
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def _html_error(text: str) -> str | None:
    """Return why Telegram would refuse this HTML text, or None when it parses."""
    stack: list[str] = []
    pos = 0
    for match in _HTML_TAG.finditer(text):
        if "<" in text[pos : match.start()]:
            return f"Unsupported start tag at byte offset {len(text[:pos].encode())}"
        pos = match.end()
        closing, name = match.group(1), match.group(2).lower()
        if name not in _TG_TAGS:
            return f'Unsupported start tag "{name}" at byte offset {match.start()}'
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f'Unmatched end tag at byte offset {match.start()}, expected "</{name}>"'
    if "<" in text[pos:]:
        return "Unsupported start tag at the end of the text"
    if stack:
        return f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return None


def _to_int(value: Any, name: str) -> int:
    """Convert a required integer parameter or answer 400."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid or missing {name}") from None


def _update_kind(update: Json) -> str:
    """The update type (first key other than update_id)."""
    return next((k for k in update if k != "update_id"), "empty")


def _media_of(content: Json) -> Json | None:
    """Describe the media part of a message content dict."""
    for key in _MEDIA_KEYS:
        if key not in content:
            continue
        obj = content[key]
        if key == "photo":
            obj = obj[-1]
        if key in ("location", "contact"):
            return {"type": key, **obj}
        return {"type": key, "file_id": obj["file_id"], "size": obj.get("file_size")}
    return None


_QUIRK_FILES = ("document", "voice", "video", "audio")
_QUIRK_CHATS = frozenset({"private", "group", "supergroup"})
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")


def _strip_bale_quirks(message: Json) -> None:
    """Remove in place what Bale leaves out of a message: file_unique_id and chat.type."""
    chat = message.get("chat")
    if isinstance(chat, dict) and chat.get("type") in _QUIRK_CHATS:
        del chat["type"]
    for size in message.get("photo") or []:
        if isinstance(size, dict):
            size.pop("file_unique_id", None)
    for key in _QUIRK_FILES:
        if isinstance(message.get(key), dict):
            message[key].pop("file_unique_id", None)
    reply = message.get("reply_to_message")
    if isinstance(reply, dict):
        _strip_bale_quirks(reply)


def _with_bale_quirks(result: Any) -> Any:
    """A copy of an answer's result (updates, a message, messages) shaped as Bale does."""
    result = copy.deepcopy(result)
    for item in result if isinstance(result, list) else [result]:
        if not isinstance(item, dict):
            continue
        if "update_id" in item:
            messages = [item.get(key) for key in _MESSAGE_KEYS]
            query = item.get("callback_query")
            if isinstance(query, dict):
                messages.append(query.get("message"))
            for message in messages:
                if isinstance(message, dict):
                    _strip_bale_quirks(message)
        elif "message_id" in item and "chat" in item:
            _strip_bale_quirks(item)
    return result


@dataclass
class SentMessage:
    """A message the bot sent (or copied / forwarded) and everything later done to it."""

    message_id: int
    chat_id: int
    method: str
    text: str | None
    params: Json
    reply_markup: Json | None = None
    reply_to_message_id: int | None = None
    edits: list[Json] = field(default_factory=list)
    media: Json | None = None
    date: int = 0
    result: Json = field(default_factory=dict, repr=False)
    deleted: bool = False
    edit_methods: list[str] = field(default_factory=list, repr=False)
    at: float = field(default_factory=time.monotonic)  # when the API accepted it
    unreadable_answer: bool = False  # sent, but answered with an ok_garbage result

    def current_markup(self) -> Json | None:
        """Reply markup after the latest edit (an edit without reply_markup drops inline ones)."""
        markup = self.reply_markup
        if markup is not None and "inline_keyboard" not in markup:
            return markup
        for edit in self.edits:
            markup = edit.get("reply_markup")
        return markup

    def buttons(self) -> list[str]:
        """Texts of all buttons currently shown (inline or reply keyboard), flattened."""
        markup = self.current_markup() or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b if isinstance(b, str) else str(b.get("text")) for row in rows for b in row]

    def inline_button(self, text: str) -> Json | None:
        """The current inline button with this text, if any."""
        for row in (self.current_markup() or {}).get("inline_keyboard") or []:
            for button in row:
                if button.get("text") == text:
                    return dict(button)
        return None

    def current_text(self) -> str | None:
        """Text or caption after the latest edit, as sent (HTML markup included)."""
        text = self.text
        for method, edit in zip(self.edit_methods, self.edits, strict=True):
            if method == "editMessageText":
                text = edit.get("text")
            elif method == "editMessageCaption":
                text = edit.get("caption")
        return text

    def seen(self) -> str:
        """What the person reads after the latest edit: HTML tags and entities rendered away
        where the text was sent as HTML (a value escaped for HTML reads as it was typed)."""
        text, mode = self.text, self.params.get("parse_mode")
        for method, edit in zip(self.edit_methods, self.edits, strict=True):
            if method in ("editMessageText", "editMessageCaption"):
                text = edit.get("text" if method == "editMessageText" else "caption")
                mode = edit.get("parse_mode")
        if text and isinstance(mode, str) and mode.upper() == "HTML":
            return html.unescape(_HTML_TAG.sub("", text))
        return text or ""


@dataclass
class _StoredFile:
    """A file known to the server (user-sent or uploaded by the bot)."""

    file_id: str
    file_unique_id: str
    kind: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None
    extra: Json = field(default_factory=dict)
    url: str | None = None

    def as_json(self) -> Json:
        """Telegram file object (PhotoSize / Document / Voice ...)."""
        obj: Json = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        obj.update(self.extra)
        if self.file_name:
            obj["file_name"] = self.file_name
        if self.mime_type:
            obj["mime_type"] = self.mime_type
        obj["file_size"] = len(self.content)
        return obj


@dataclass
class _Chat:
    """Server-side state of one chat."""

    id: int
    obj: Json
    messages: dict[int, Json] = field(default_factory=dict)
    next_id: int = 1
    blocked: bool = False
    left: bool = False
    admins: set[int] = field(default_factory=set)
    owner: int | None = None  # the creator, listed as "creator" by getChatAdministrators
    anonymous_admins: set[int] = field(default_factory=set)  # admins who write as the group
    members: dict[int, Json] = field(default_factory=dict)  # User objects of known members

    def new_message_id(self) -> int:
        """Allocate the next message id of this chat."""
        self.next_id += 1
        return self.next_id - 1


@dataclass
class _Fault:
    """A pending fault injection."""

    method: str | None
    kind: str
    remaining: int
    retry_after: int
    delay: float
    token: str | None


@dataclass
class _Reality:
    """The randomised "reality" profile: seeded faults on a share of the calls."""

    rng: random.Random
    rate: float
    token: str | None
    kinds: tuple[str, ...]
    poll_kinds: tuple[str, ...]


class FakeBot:
    """State of one bot account (token) on the fake server."""

    def __init__(self, token: str, flavour: str, username: str, first_update_id: int = 1) -> None:
        """Create the bot; use :meth:`FakeBotAPI.add_bot` instead."""
        if flavour not in (TELEGRAM, BALE):
            raise ValueError(f"flavour must be {TELEGRAM!r} or {BALE!r}, not {flavour!r}")
        self.token, self.flavour, self.username = token, flavour, username
        self.id = int(token.split(":", maxsplit=1)[0])
        self.sent: list[SentMessage] = []
        self.lose_confirmations = False
        self.lost_updates: list[Json] = []
        self.calls: list[tuple[str, Json]] = []
        self.violations: list[str] = []
        self.callback_answers: list[Json] = []
        self.commands: list[Json] = []
        self.allowed_updates: list[str] | None = None
        self.last_poll: float | None = None
        self.edit_answer = "stub" if flavour == BALE else "message"
        self.edit_seed = self.id  # seeds the "random" edit answers
        self.edit_answers: list[str] = []  # the shape each successful edit answered in
        self.bale_quirks = False
        self.refused: list[tuple[str, int]] = []  # (method, chat_id) refused by refuse_chat
        self._refusals: dict[int, tuple[float, str]] = {}  # chat_id -> (until, fault kind)
        self._random_edits = False  # set on Bale bots while FakeBotAPI.reality is on
        self._chats: dict[int, _Chat] = {}
        self._senders: dict[int, FakeUser | FakeGroup] = {}
        self._files: dict[str, _StoredFile] = {}
        self._updates: list[Json] = []
        self._next_update_id = first_update_id
        self._confirmed: dict[int, int] = {}
        self._callbacks: dict[str, bool] = {}
        self._serial = itertools.count(1)
        self._rng = random.Random(self.id)
        self._cond = asyncio.Condition()
        self._closing = False
        # fmt: off
        self.handlers: dict[str, Handler] = {
            "getMe": self._api_get_me, "getUpdates": self._api_get_updates,
            "deleteWebhook": self._api_true, "getWebhookInfo": self._api_get_webhook_info,
            "sendMessage": self._api_send_message, "editMessageText": self._api_edit_text,
            "editMessageReplyMarkup": self._api_edit_markup,
            "editMessageCaption": self._api_edit_caption, "deleteMessage": self._api_delete,
            "answerCallbackQuery": self._api_answer_callback,
            "sendLocation": self._api_send_location, "sendContact": self._api_send_contact,
            "sendMediaGroup": self._api_send_media_group, "copyMessage": self._api_copy,
            "forwardMessage": self._api_forward, "getFile": self._api_get_file,
            "sendChatAction": self._api_chat_action, "getChat": self._api_get_chat,
            "getChatMember": self._api_get_chat_member, "leaveChat": self._api_leave_chat,
            "getChatAdministrators": self._api_get_chat_administrators,
            "close": self._api_true, "logOut": self._api_true,
            "setMyCommands": self._api_set_commands, "deleteMyCommands": self._api_delete_commands,
            "getMyCommands": self._api_get_commands,
        }
        # fmt: on
        for method, kind in _SEND_MEDIA.items():
            self.handlers[method] = partial(self._api_send_media, method, kind)
        if self.is_bale:
            for method in ("setMyCommands", "deleteMyCommands", "getMyCommands"):
                del self.handlers[method]
        self._canonical = {name.lower(): name for name in self.handlers}

    # ----------------------------------------------------------------- public helpers
    @property
    def edit_answer(self) -> str:
        """What successful edits answer: "message", "true", "stub", "null" or "random"."""
        return self._edit_answer

    @edit_answer.setter
    def edit_answer(self, value: str) -> None:
        if value not in EDIT_ANSWERS:
            raise ValueError(f"edit_answer must be one of {EDIT_ANSWERS}, not {value!r}")
        self._edit_answer = value

    @property
    def edit_seed(self) -> int:
        """Seed of the "random" edit answers; setting it (even to the same value) restarts them."""
        return self._edit_seed

    @edit_seed.setter
    def edit_seed(self, value: int) -> None:
        self._edit_seed = value
        self._edit_rng = random.Random(value)

    @property
    def is_bale(self) -> bool:
        """True for the Bale flavour."""
        return self.flavour == BALE

    @property
    def user_json(self) -> Json:
        """The bot's own User object."""
        name = self.username
        return {"id": self.id, "is_bot": True, "first_name": name, "username": name}

    def private_chat(
        self,
        user_id: int,
        first_name: str = "کاربر",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        """Create (or return the existing) private chat with a user; chat id = user id."""
        existing = self._senders.get(user_id)
        if isinstance(existing, FakeUser):
            return existing
        user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (("last_name", last_name), ("username", username)):
            if value is not None:
                user[key] = value
        if language_code is not None:
            user["language_code"] = language_code
        chat_obj = {k: v for k, v in user.items() if k not in ("is_bot", "language_code")}
        chat = self._add_chat(user_id, {**chat_obj, "type": "private"})
        sender = FakeUser(self, chat, user)
        self._senders[user_id] = sender
        return sender

    def channel_chat(self, chat_id: int, title: str) -> FakeGroup:
        """Create a channel the bot is a member of (post into it with :meth:`FakeGroup.post`)."""
        chat = self._add_chat(chat_id, {"id": chat_id, "type": "channel", "title": title})
        group = FakeGroup(self, chat)
        self._senders[chat_id] = group
        return group

    def group_chat(self, chat_id: int, title: str) -> FakeGroup:
        """Create (or return the existing) group chat ("group" on Bale, else "supergroup")."""
        existing = self._senders.get(chat_id)
        if isinstance(existing, FakeGroup):
            return existing
        kind = "group" if self.is_bale else "supergroup"
        chat = self._add_chat(chat_id, {"id": chat_id, "type": kind, "title": title})
        group = FakeGroup(self, chat)
        self._senders[chat_id] = group
        return group

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """All messages the bot sent to a chat (deleted ones included, flagged)."""
        return [m for m in self.sent if m.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Json]:
        """Params of every call of one API method."""
        return [params for name, params in self.calls if name == method]

    def pending_updates(self) -> int:
        """Number of updates not yet confirmed by the bot."""
        return len(self._updates)

    def upload(
        self, content: bytes, kind: str, file_name: str | None = None, mime_type: str | None = None
    ) -> Json:
        """Store a file a user sends; return its file object dict."""
        return self._store(self._new_file(kind, content, file_name, mime_type)).as_json()

    def file_content(self, file_id: str) -> bytes:
        """Bytes of a stored file (e.g. one the bot uploaded)."""
        return self._files[file_id].content

    async def wait_for(
        self, predicate: Callable[[SentMessage], bool], timeout: float = 10, since: int = 0
    ) -> SentMessage:
        """Wait for a sent message (re-checked after every edit) matching predicate."""
        found: list[SentMessage] = []

        def check() -> bool:
            found[:] = [m for m in self.sent[since:] if predicate(m)][:1]
            return bool(found)

        if not await self._wait(check, timeout):
            texts = [(m.chat_id, m.current_text()) for m in self.sent[since:]]
            raise TimeoutError(f"no sent message matched within {timeout}s; sent: {texts}")
        return found[0]

    # ----------------------------------------------------------------- internals
    def _add_chat(self, chat_id: int, obj: Json) -> _Chat:
        """Register a chat the bot may talk to."""
        if chat_id in self._chats:
            raise ValueError(f"chat {chat_id} already exists with another type")
        chat = _Chat(chat_id, obj)
        self._chats[chat_id] = chat
        return chat

    def _fake_bytes(self, kind: str, size: int) -> bytes:
        """Deterministic fake file content with a plausible magic header."""
        head = _HEADERS.get(kind, b"")[:size]
        return head + self._rng.randbytes(size - len(head))

    def _new_file(
        self,
        kind: str,
        content: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
        duration: int = 3,
        url: str | None = None,
    ) -> _StoredFile:
        """Create (not yet store) a file object of a kind, flavour-aware."""
        n = next(self._serial)
        extra: Json = {}
        if kind in ("photo", "video", "animation", "video_note"):
            extra = {"width": 1280, "height": 720}
        elif kind == "sticker":
            extra = {"width": 512, "height": 512}
        if kind in ("video", "animation", "audio", "video_note") or (
            kind == "voice" and not self.is_bale
        ):
            extra["duration"] = duration
        if kind == "sticker" and not self.is_bale:
            extra.update(type="regular", is_animated=False, is_video=False, emoji="👍")
        if kind in ("video", "voice", "audio", "animation"):
            mime_type = mime_type or _MIME[kind]
        if kind == "animation":
            file_name = file_name or "animation.gif"
        prefix = {"photo": "AgAC", "sticker": "CAAC"}.get(kind, "BQAC")
        file_id = f"{prefix}{self.id}x{n}{self._rng.getrandbits(40):010x}"
        return _StoredFile(
            file_id, f"AQAD{n}{self.id}", kind, content, file_name, mime_type, extra, url
        )

    def _store(self, stored: _StoredFile) -> _StoredFile:
        """Keep a file so getFile / download / resending by file_id work."""
        self._files[stored.file_id] = stored
        return stored

    def _content_json(self, stored: _StoredFile) -> Json:
        """Message content fields for a file of its kind."""
        if stored.kind == "photo":
            return {"photo": [stored.as_json()]}
        content = {stored.kind: stored.as_json()}
        if stored.kind == "animation" and not self.is_bale:
            content["document"] = stored.as_json()
        return content

    def _violation(self, text: str) -> None:
        """Record a protocol violation."""
        self.violations.append(text)

    def _reject(self, method: str, status: int, description: str) -> ApiError:
        """Record a violation and build the matching error."""
        self._violation(f"{method}: {description}")
        return ApiError(status, description)

    async def _notify(self) -> None:
        """Wake everybody waiting on this bot's state."""
        async with self._cond:
            self._cond.notify_all()

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until predicate holds; False on timeout."""
        async with self._cond:
            try:
                async with asyncio.timeout(timeout):
                    await self._cond.wait_for(predicate)
            except TimeoutError:
                return False
        return True

    async def _push(self, body: Json) -> int:
        """Queue an update for the bot and return its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({**body, "update_id": update_id})
        await self._notify()
        return update_id

    async def _deliver(self, body: Json, chat_id: int, timeout: float) -> list[SentMessage]:
        """Push an update, wait for its confirmation, return messages sent to chat_id meanwhile."""
        start = len(self.sent)
        update_id = await self._push(body)
        if not await self._wait(lambda: update_id in self._confirmed, timeout):
            polled = "never"
            if self.last_poll is not None:
                polled = f"{time.monotonic() - self.last_poll:.1f}s ago"
            texts = [m.current_text() for m in self.sent[start:] if m.chat_id == chat_id]
            raise TimeoutError(
                f"{self.flavour} bot {self.id}: update {update_id} ({_update_kind(body)}) "
                f"not confirmed within {timeout}s (last getUpdates {polled}; is the bot "
                f"polling with handle_as_tasks=False?). Sent to chat {chat_id} "
                f"meanwhile: {texts}. Pending updates: {len(self._updates)}. "
                f"Violations: {self.violations}"
            )
        return [m for m in self.sent[start : self._confirmed[update_id]] if m.chat_id == chat_id]

    def requeue_lost(self) -> list[int]:
        """Deliver again the updates whose confirmation was lost (as after a crash before the
        messenger saw the new offset); returns their ids. Call while the bot is stopped."""
        lost, self.lost_updates = self.lost_updates, []
        for update in lost:
            self._confirmed.pop(update["update_id"], None)
        self._updates = sorted(lost + self._updates, key=lambda u: u["update_id"])
        return [u["update_id"] for u in lost]

    def is_confirmed(self, update_id: int) -> bool:
        """Whether the bot has confirmed this update."""
        return update_id in self._confirmed

    def _confirm(self, keep: Callable[[Json], bool]) -> bool:
        """Drop pending updates for which keep() is false, marking them confirmed."""
        kept = []
        for update in self._updates:
            if keep(update):
                kept.append(update)
            else:
                self._confirmed[update["update_id"]] = len(self.sent)
        dropped = len(kept) != len(self._updates)
        self._updates = kept
        return dropped

    def _wanted(self, update: Json) -> bool:
        """Whether allowed_updates lets this update through (else a violation is recorded)."""
        kind = _update_kind(update)
        allowed = self.allowed_updates
        ok = kind in allowed if allowed else kind not in _NOT_DEFAULT_UPDATES
        if not ok:
            update_id = update["update_id"]
            self._violation(f"update {update_id} ({kind}) dropped: not in allowed_updates")
        return ok

    def _chat_of(self, method: str, chat_id: Any, check_access: bool = True) -> _Chat:
        """Resolve a chat_id parameter, answering 400/403 like Telegram."""
        try:
            chat = self._chats.get(int(chat_id))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise self._reject(method, 400, "Bad Request: chat not found")
        if check_access and chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if check_access and chat.left:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        return chat

    def _check_text(self, method: str, text: str, parse_mode: Any, caption: bool) -> str:
        """Validate text/caption formatting and length; return the text as users see it."""
        plain = text
        if self.is_bale:
            if parse_mode:
                self._violation(f"{method}: parse_mode={parse_mode!r} sent to Bale")
            if _BALE_HTML.search(text):
                self._violation(f"{method}: HTML markup sent to Bale: {text[:80]!r}")
        elif isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
            error = _html_error(text)
            if error:
                raise self._reject(method, 400, f"Bad Request: can't parse entities: {error}")
            plain = html.unescape(_HTML_TAG.sub("", text))
        limit = MAX_CAPTION if caption else MAX_TEXT
        if _utf16_len(plain) > limit:
            what = "message caption" if caption else "message"
            raise self._reject(method, 400, f"Bad Request: {what} is too long")
        return plain

    def _message_text(self, method: str, p: Json) -> str:
        """Validate a required text parameter; return the visible text."""
        text = p.get("text")
        if not isinstance(text, str) or not text.strip():
            raise self._reject(method, 400, "Bad Request: message text is empty")
        return self._check_text(method, text, p.get("parse_mode"), caption=False)

    def _check_markup(self, method: str, markup: Any, inline_only: bool = False) -> None:
        """Validate reply_markup (button texts, callback_data size, button kinds)."""
        if markup is None:
            return
        if not isinstance(markup, dict) or (inline_only and "inline_keyboard" not in markup):
            raise self._reject(method, 400, "Bad Request: can't parse reply keyboard markup")
        if "inline_keyboard" in markup:
            for button in (b for row in markup["inline_keyboard"] for b in row):
                if not isinstance(button, dict):
                    raise self._reject(method, 400, "Bad Request: can't parse inline keyboard")
                if not str(button.get("text", "")).strip():
                    raise self._reject(method, 400, "Bad Request: inline button text is empty")
                data = button.get("callback_data")
                if data is not None and len(str(data).encode()) > MAX_CALLBACK_DATA:
                    raise self._reject(method, 400, "Bad Request: BUTTON_DATA_INVALID")
                if len(button) < 2:
                    raise self._reject(
                        method,
                        400,
                        "Bad Request: can't parse inline keyboard "
                        "button: Text buttons are unallowed in the inline keyboard",
                    )
        elif "keyboard" in markup:
            for button in (b for row in markup["keyboard"] for b in row):
                text = button if isinstance(button, str) else button.get("text", "")
                if not str(text).strip():
                    raise self._reject(method, 400, "Bad Request: keyboard button text is empty")
        elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
            raise self._reject(method, 400, "Bad Request: can't parse reply keyboard markup")

    def _reply_target(self, method: str, chat: _Chat, p: Json) -> int | None:
        """The message id being replied to (reply_parameters or reply_to_message_id). Bale
        threads by reply_to_message_id only: no Bale library sends reply_parameters (Balethon,
        python-bale-bot), so the Bale flavour ignores it, as an unknown field."""
        params = p.get("reply_parameters")
        params = params if isinstance(params, dict) and not self.is_bale else {}
        target = params.get("message_id", p.get("reply_to_message_id"))
        if target is None:
            return None
        target = _to_int(target, "reply message_id")
        if target in chat.messages:
            return target
        if params.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
            return None
        raise self._reject(method, 400, "Bad Request: message to be replied not found")

    def _record(
        self,
        method: str,
        chat: _Chat,
        p: Json,
        content: Json,
        text: str | None,
        media: Json | None,
        reply_to: int | None,
        extra: Json | None = None,
    ) -> SentMessage:
        """Create the bot's message in a chat and record it as sent."""
        message_id = chat.new_message_id()
        now = int(time.time())
        message: Json = {
            "message_id": message_id,
            "from": self.user_json,
            "chat": chat.obj,
            "date": now,
            **(extra or {}),
            **content,
        }
        if reply_to is not None:
            replied = dict(chat.messages[reply_to])
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        chat.messages[message_id] = message
        sent = SentMessage(
            message_id, chat.id, method, text, p, markup, reply_to, [], media, now, message
        )
        self.sent.append(sent)
        return sent

    def _resolve_file(
        self, method: str, kind: str, value: Any, uploads: dict[str, Upload], field_name: str
    ) -> tuple[_StoredFile, bool]:
        """Find the file a send call refers to: upload, known file_id or URL; (file, is_new)."""
        upload = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise self._reject(method, 400, "Bad Request: file attachment not found")
        elif value is None:
            upload = uploads.get(field_name)
        if upload is not None:
            content, file_name, mime = upload
            limit = PHOTO_UPLOAD_LIMIT if kind == "photo" else FILE_UPLOAD_LIMIT
            if len(content) > limit:
                raise self._reject(method, 413, "Request Entity Too Large")
            return self._new_file(kind, content, file_name, mime), True
        if isinstance(value, str) and value in self._files:
            stored = self._files[value]
            if stored.kind != kind and not (kind == "document" and stored.kind != "photo"):
                raise self._reject(
                    method, 400, f"Bad Request: can't use file of type {stored.kind} as {kind}"
                )
            return stored, False
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._new_file(kind, b"", value.rsplit("/", 1)[-1] or None, url=value), True
        if value is None:
            raise self._reject(method, 400, f"Bad Request: there is no {field_name} in the request")
        raise self._reject(method, 400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _caption(self, method: str, p: Json) -> tuple[str | None, Json]:
        """Validate an optional caption; return (raw caption, content fields)."""
        caption = p.get("caption")
        if not caption:
            return None, {}
        return caption, {
            "caption": self._check_text(method, str(caption), p.get("parse_mode"), caption=True)
        }

    # ----------------------------------------------------------------- API methods
    async def _api_true(self, p: Json, up: dict[str, Upload]) -> bool:
        """Methods that just answer true."""
        return True

    async def _api_get_me(self, p: Json, up: dict[str, Upload]) -> Json:
        """getMe."""
        return {
            **self.user_json,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_get_webhook_info(self, p: Json, up: dict[str, Upload]) -> Json:
        """getWebhookInfo (no webhook set)."""
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _api_get_updates(self, p: Json, up: dict[str, Upload]) -> list[Json]:
        """getUpdates: confirm by offset, then long-poll up to `timeout` seconds."""
        self.last_poll = time.monotonic()
        offset = _to_int(p.get("offset") or 0, "offset")
        limit = min(max(_to_int(p.get("limit") or 100, "limit"), 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        if isinstance(p.get("allowed_updates"), list):
            self.allowed_updates = list(p["allowed_updates"])
        if offset < 0:
            keep_ids = {u["update_id"] for u in self._updates[offset:]}
            self._confirm(lambda u: u["update_id"] in keep_ids)
        elif offset:
            before = list(self._updates)
            self._confirm(lambda u: u["update_id"] >= offset)
            if self.lose_confirmations:
                self.lost_updates += [u for u in before if u["update_id"] < offset]
        await self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._confirm(self._wanted):
                await self._notify()
            remaining = deadline - loop.time()
            if self._updates or self._closing or remaining <= 0:
                break
            await self._wait(lambda: bool(self._updates) or self._closing, remaining)
        self.last_poll = time.monotonic()
        return self._updates[:limit]

    async def _api_send_message(self, p: Json, up: dict[str, Upload]) -> Json:
        """sendMessage."""
        method = "sendMessage"
        chat = self._chat_of(method, p.get("chat_id"))
        plain = self._message_text(method, p)
        self._check_markup(method, p.get("reply_markup"))
        reply_to = self._reply_target(method, chat, p)
        return self._record(method, chat, p, {"text": plain}, p["text"], None, reply_to).result

    async def _api_send_media(self, method: str, kind: str, p: Json, up: dict[str, Upload]) -> Json:
        """sendPhoto / sendDocument / sendVoice / sendVideo / sendAudio / sendAnimation ..."""
        chat = self._chat_of(method, p.get("chat_id"))
        caption, content = self._caption(method, p)
        self._check_markup(method, p.get("reply_markup"))
        reply_to = self._reply_target(method, chat, p)
        stored, is_new = self._resolve_file(method, kind, p.get(kind), up, kind)
        if is_new:
            self._store(stored)
        media = {
            "type": kind,
            "file_id": stored.file_id,
            "size": len(stored.content),
            "uploaded": is_new,
            "file_name": stored.file_name,
            "url": stored.url,
        }
        content = {**self._content_json(stored), **content}
        return self._record(method, chat, p, content, caption, media, reply_to).result

    async def _api_send_location(self, p: Json, up: dict[str, Upload]) -> Json:
        """sendLocation."""
        method = "sendLocation"
        chat = self._chat_of(method, p.get("chat_id"))
        try:
            location = {"latitude": float(p["latitude"]), "longitude": float(p["longitude"])}
        except (KeyError, TypeError, ValueError):
            raise self._reject(method, 400, "Bad Request: wrong latitude/longitude") from None
        self._check_markup(method, p.get("reply_markup"))
        reply_to = self._reply_target(method, chat, p)
        media = {"type": "location", **location}
        return self._record(method, chat, p, {"location": location}, None, media, reply_to).result

    async def _api_send_contact(self, p: Json, up: dict[str, Upload]) -> Json:
        """sendContact."""
        method = "sendContact"
        chat = self._chat_of(method, p.get("chat_id"))
        if not p.get("phone_number") or not p.get("first_name"):
            raise self._reject(method, 400, "Bad Request: phone_number and first_name required")
        keys = ("phone_number", "first_name", "last_name", "vcard")
        contact: Json = {k: p[k] for k in keys if k in p}
        self._check_markup(method, p.get("reply_markup"))
        reply_to = self._reply_target(method, chat, p)
        media: Json = {"type": "contact", **contact}
        return self._record(method, chat, p, {"contact": contact}, None, media, reply_to).result

    async def _api_send_media_group(self, p: Json, up: dict[str, Upload]) -> list[Json]:
        """sendMediaGroup (2-10 items, one message each, shared media_group_id)."""
        method = "sendMediaGroup"
        chat = self._chat_of(method, p.get("chat_id"))
        items = p.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise self._reject(method, 400, "Bad Request: media group must have 2-10 items")
        reply_to = self._reply_target(method, chat, p)
        prepared = []
        for item in items:
            kind = str(item.get("type"))
            if kind not in ("photo", "video", "document", "audio"):
                raise self._reject(method, 400, f"Bad Request: can't use {kind} in a media group")
            stored, is_new = self._resolve_file(method, kind, item.get("media"), up, "media")
            caption, content = self._caption(method, item)
            prepared.append((item, stored, is_new, caption, content))
        group_id = str(next(self._serial) * 1000 + self.id)
        results = []
        for item, stored, is_new, caption, content in prepared:
            if is_new:
                self._store(stored)
            media = {
                "type": stored.kind,
                "file_id": stored.file_id,
                "size": len(stored.content),
                "uploaded": is_new,
                "item": item,
            }
            sent = self._record(
                method,
                chat,
                p,
                {**self._content_json(stored), **content},
                caption,
                media,
                reply_to,
                {"media_group_id": group_id},
            )
            results.append(sent.result)
        return results

    def _source_message(self, method: str, p: Json) -> Json:
        """The message copyMessage / forwardMessage refers to."""
        source_chat = self._chat_of(method, p.get("from_chat_id"), check_access=False)
        source = source_chat.messages.get(_to_int(p.get("message_id"), "message_id"))
        if source is None:
            verb = "copy" if method == "copyMessage" else "forward"
            raise self._reject(method, 400, f"Bad Request: message to {verb} not found")
        if "text" not in source and not any(k in source for k in _MEDIA_KEYS):
            raise self._reject(method, 400, "Bad Request: message can't be copied")
        return source

    async def _api_copy(self, p: Json, up: dict[str, Upload]) -> Json:
        """copyMessage: same content (optionally a new caption), returns MessageId."""
        method = "copyMessage"
        chat = self._chat_of(method, p.get("chat_id"))
        source = self._source_message(method, p)
        content = {k: source[k] for k in (*_MEDIA_KEYS, "text", "caption") if k in source}
        text: str | None = source.get("text", source.get("caption"))
        if "caption" in p and "text" not in source:
            text, caption = self._caption(method, p)
            content.pop("caption", None)
            content.update(caption)
        self._check_markup(method, p.get("reply_markup"))
        reply_to = self._reply_target(method, chat, p)
        media = _media_of(content)
        if media is not None:
            media.update(from_chat_id=source["chat"]["id"], message_id=source["message_id"])
        sent = self._record(method, chat, p, content, text, media, reply_to)
        return {"message_id": sent.message_id}

    async def _api_forward(self, p: Json, up: dict[str, Upload]) -> Json:
        """forwardMessage: same content with forward origin, returns the Message."""
        method = "forwardMessage"
        chat = self._chat_of(method, p.get("chat_id"))
        source = self._source_message(method, p)
        content = {k: source[k] for k in (*_MEDIA_KEYS, "text", "caption") if k in source}
        sender = source.get("from", {})
        extra = {
            "forward_origin": {"type": "user", "sender_user": sender, "date": source["date"]},
            "forward_from": sender,
            "forward_date": source["date"],
        }
        text = source.get("text", source.get("caption"))
        media = _media_of(content)
        return self._record(method, chat, p, content, text, media, None, extra).result

    def _editable(self, method: str, p: Json) -> SentMessage:
        """The bot message an edit call targets."""
        if p.get("inline_message_id"):
            raise self._reject(method, 400, "Bad Request: inline messages are not supported")
        chat = self._chat_of(method, p.get("chat_id"))
        message_id = _to_int(p.get("message_id"), "message_id")
        for sent in reversed(self.sent):
            if sent.chat_id == chat.id and sent.message_id == message_id and not sent.deleted:
                return sent
        if message_id in chat.messages:
            raise self._reject(method, 400, "Bad Request: message can't be edited")
        raise self._reject(method, 400, "Bad Request: message to edit not found")

    def _apply_edit(self, method: str, sent: SentMessage, p: Json, changes: Json) -> Any:
        """Apply an edit (not-modified check on Telegram); answer in the edit_answer shape."""
        markup = p.get("reply_markup")
        before = {k: sent.result.get(k) for k in changes}, sent.result.get("reply_markup")
        if not self.is_bale and before == (changes, markup):
            raise ApiError(400, _NOT_MODIFIED)
        sent.edits.append(p)
        sent.edit_methods.append(method)
        for key, value in changes.items():
            if value is None:
                sent.result.pop(key, None)
            else:
                sent.result[key] = value
        if markup is None:
            sent.result.pop("reply_markup", None)
        else:
            sent.result["reply_markup"] = markup
        shape = self.edit_answer
        if shape == "random" or self._random_edits:
            shape = self._edit_rng.choice(("message", "true", "stub", "null"))
        self.edit_answers.append(shape)
        if shape == "true":
            return True
        if shape == "stub":
            return {"message_id": 0}
        if shape == "null":
            return None
        return {**sent.result, "edit_date": int(time.time())}

    def _refusal(self, method: str, params: Json) -> str | None:
        """The fault kind a refusing chat answers this call with (and record it), if any."""
        if not self._refusals or "chat_id" not in params:
            return None
        try:
            chat_id = int(params["chat_id"])
        except (TypeError, ValueError):
            return None
        until, kind = self._refusals.get(chat_id, (0.0, ""))
        if time.monotonic() >= until:
            self._refusals.pop(chat_id, None)
            return None
        self.refused.append((method, chat_id))
        return kind

    async def _api_edit_text(self, p: Json, up: dict[str, Upload]) -> Any:
        """editMessageText (answer shaped by edit_answer)."""
        method = "editMessageText"
        sent = self._editable(method, p)
        plain = self._message_text(method, p)
        self._check_markup(method, p.get("reply_markup"), inline_only=True)
        if "text" not in sent.result:
            raise self._reject(method, 400, "Bad Request: there is no text in the message to edit")
        return self._apply_edit(method, sent, p, {"text": plain})

    async def _api_edit_markup(self, p: Json, up: dict[str, Upload]) -> Any:
        """editMessageReplyMarkup (answer shaped by edit_answer)."""
        method = "editMessageReplyMarkup"
        sent = self._editable(method, p)
        self._check_markup(method, p.get("reply_markup"), inline_only=True)
        return self._apply_edit(method, sent, p, {})

    async def _api_edit_caption(self, p: Json, up: dict[str, Upload]) -> Any:
        """editMessageCaption (answer shaped by edit_answer)."""
        method = "editMessageCaption"
        sent = self._editable(method, p)
        _, caption = self._caption(method, p)
        self._check_markup(method, p.get("reply_markup"), inline_only=True)
        if "text" in sent.result:
            raise self._reject(method, 400, "Bad Request: there is no caption in the message")
        return self._apply_edit(method, sent, p, {"caption": caption.get("caption")})

    async def _api_delete(self, p: Json, up: dict[str, Upload]) -> bool:
        """deleteMessage (bot's or user's messages)."""
        method = "deleteMessage"
        chat = self._chat_of(method, p.get("chat_id"), check_access=False)
        message_id = _to_int(p.get("message_id"), "message_id")
        if chat.messages.pop(message_id, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        for sent in self.sent:
            if sent.chat_id == chat.id and sent.message_id == message_id:
                sent.deleted = True
        return True

    async def _api_answer_callback(self, p: Json, up: dict[str, Upload]) -> bool:
        """answerCallbackQuery (each query may be answered once)."""
        method = "answerCallbackQuery"
        query_id = str(p.get("callback_query_id"))
        if self._callbacks.get(query_id, True):
            raise self._reject(
                method,
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(p.get("text") or "")) > 200:
            raise self._reject(method, 400, "Bad Request: MESSAGE_TOO_LONG")
        self._callbacks[query_id] = True
        self.callback_answers.append(p)
        return True

    async def _api_get_file(self, p: Json, up: dict[str, Upload]) -> Json:
        """getFile (refuses files over 20 MB)."""
        stored = self._files.get(str(p.get("file_id")))
        if stored is None:
            raise self._reject("getFile", 400, "Bad Request: invalid file_id")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": f"files/{stored.file_id}",
        }

    async def _api_chat_action(self, p: Json, up: dict[str, Upload]) -> bool:
        """sendChatAction."""
        self._chat_of("sendChatAction", p.get("chat_id"))
        return True

    async def _api_get_chat(self, p: Json, up: dict[str, Upload]) -> Json:
        """getChat (ChatFullInfo)."""
        chat = self._chat_of("getChat", p.get("chat_id"), check_access=False)
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **chat.obj,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _api_get_chat_member(self, p: Json, up: dict[str, Upload]) -> Json:
        """getChatMember ("administrator" for the bot and group admins, else "member")."""
        chat = self._chat_of("getChatMember", p.get("chat_id"), check_access=False)
        user_id = _to_int(p.get("user_id"), "user_id")
        sender = self._senders.get(user_id)
        user = (
            sender.user
            if isinstance(sender, FakeUser)
            else {"id": user_id, "is_bot": False, "first_name": "کاربر"}
        )
        if user_id == self.id:
            user = self.user_json
        if user_id != self.id and user_id not in chat.admins:
            return {"status": "member", "user": user}
        rights = dict.fromkeys(
            (
                "can_be_edited",
                "is_anonymous",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_send_welcome_messages",
            ),
            True,
        )
        rights.update(can_be_edited=False, is_anonymous=False)
        return {"status": "administrator", "user": user, **rights}

    async def _api_get_chat_administrators(self, p: Json, up: dict[str, Upload]) -> list[Json]:
        """getChatAdministrators: the creator and the administrators, the bot among them.

        Telegram answers ChatMemberOwner (`creator`, `is_anonymous`) and ChatMemberAdministrator
        with every right; Bale, as Balethon and python-bale-bot model it, the creator with only
        `status` and `user`, and administrators with some `can_*` flags, no `is_anonymous`."""
        method = "getChatAdministrators"
        chat = self._chat_of(method, p.get("chat_id"))
        if chat.obj.get("type") == "private":
            raise self._reject(
                method, 400, "Bad Request: there are no administrators in the private chat"
            )
        ids = ([chat.owner] if chat.owner is not None else []) + sorted(chat.admins - {chat.owner})
        result = [self._member_json(chat, user_id) for user_id in ids]
        result.append(self._member_json(chat, self.id))
        return result

    def _member_json(self, chat: _Chat, user_id: int) -> Json:
        """One administrator as this flavour lists it."""
        user = self.user_json if user_id == self.id else chat.members.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": "مدیر"}
        anonymous = user_id in chat.anonymous_admins
        if user_id == chat.owner:
            if self.is_bale:
                return {"status": "creator", "user": user}
            return {"status": "creator", "user": user, "is_anonymous": anonymous}
        if self.is_bale:
            flags = ("can_change_info", "can_delete_messages", "can_invite_users",
                     "can_restrict_members", "can_pin_messages")  # fmt: skip
            return {"status": "administrator", "user": user, "can_be_edited": False,
                    **dict.fromkeys(flags, True), "can_promote_members": False}  # fmt: skip
        rights = dict.fromkeys(
            ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
             "can_restrict_members", "can_promote_members", "can_change_info",
             "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
             "can_pin_messages"),
            True,
        )  # fmt: skip
        return {"status": "administrator", "user": user, "can_be_edited": False,
                "is_anonymous": anonymous, **rights}  # fmt: skip

    async def _api_leave_chat(self, p: Json, up: dict[str, Upload]) -> bool:
        """leaveChat (later sends to the chat answer 403)."""
        self._chat_of("leaveChat", p.get("chat_id"), check_access=False).left = True
        return True

    async def _api_set_commands(self, p: Json, up: dict[str, Upload]) -> bool:
        """setMyCommands (Telegram only)."""
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise self._reject("setMyCommands", 400, "Bad Request: commands must be a list")
        for command in commands:
            name, description = str(command.get("command", "")), str(command.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 1 <= len(description) <= 256:
                raise self._reject("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = commands
        return True

    async def _api_delete_commands(self, p: Json, up: dict[str, Upload]) -> bool:
        """deleteMyCommands (Telegram only)."""
        self.commands = []
        return True

    async def _api_get_commands(self, p: Json, up: dict[str, Upload]) -> list[Json]:
        """getMyCommands (Telegram only)."""
        return self.commands


class _Sender:
    """Sends updates into one chat as one user, and inspects what the bot sent there."""

    def __init__(self, bot: FakeBot, chat: _Chat, user: Json) -> None:
        """Bind a chat and the user who acts in it."""
        self.sender_chat: Json | None = None  # set: the messages are sent as this chat
        self.bot, self.chat, self.user = bot, chat, user

    @property
    def chat_id(self) -> int:
        """Id of the chat this sender acts in."""
        return self.chat.id

    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this chat."""
        return self.bot.messages_to(self.chat.id)

    def last(self) -> SentMessage | None:
        """Newest (not deleted) message the bot sent to this chat."""
        alive = [m for m in self.messages() if not m.deleted]
        return alive[-1] if alive else None

    def keyboard(self) -> list[str]:
        """Reply keyboard buttons currently shown in this chat ([] after ReplyKeyboardRemove)."""
        for sent in reversed(self.messages()):
            markup = sent.reply_markup or {}
            if "keyboard" in markup:
                return sent.buttons()
            if markup.get("remove_keyboard"):
                return []
        return []

    def _reply_button(self, text: str) -> Json | None:
        """The reply keyboard button with this text currently shown, if any."""
        for sent in reversed(self.messages()):
            markup = sent.reply_markup or {}
            if markup.get("remove_keyboard"):
                return None
            if "keyboard" in markup:
                for raw in (b for row in markup["keyboard"] for b in row):
                    button = {"text": raw} if isinstance(raw, str) else raw
                    if button.get("text") == text:
                        return button
                return None
        return None

    def _new_message(self, content: Json, reply_to: SentMessage | int | None = None) -> Json:
        """Create and remember a message sent by this user."""
        message: Json = {
            "message_id": self.chat.new_message_id(),
            "from": self.user,
            "chat": self.chat.obj,
            "date": int(time.time()),
        }
        if self.sender_chat is not None:
            message["sender_chat"] = self.sender_chat
        if reply_to is not None:
            target = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
            if target not in self.chat.messages:
                raise ValueError(f"message {target} does not exist in chat {self.chat.id}")
            replied = dict(self.chat.messages[target])
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        message.update(content)
        self.chat.messages[message["message_id"]] = message
        return message

    async def _send_content(
        self, content: Json, reply_to: SentMessage | int | None, timeout: float
    ) -> list[SentMessage]:
        """Send a message update and wait until the bot has handled it."""
        message = self._new_message(content, reply_to)
        return await self.bot._deliver({"message": message}, self.chat.id, timeout)

    async def _send_file(
        self,
        kind: str,
        size: int,
        content: bytes | None,
        extra: Json,
        timeout: float,
        reply_to: SentMessage | int | None = None,
        **kw: Any,
    ) -> list[SentMessage]:
        """Store a fake file of a kind and send it as a message."""
        data = content if content is not None else self.bot._fake_bytes(kind, size)
        stored = self.bot._store(self.bot._new_file(kind, data, **kw))
        body = self.bot._content_json(stored)
        if kind == "photo":
            thumb = self.bot._store(self.bot._new_file("photo", data[: min(len(data), 4_000)]))
            thumb.extra = {"width": 90, "height": 51}
            body["photo"].insert(0, thumb.as_json())
        return await self._send_content({**body, **extra}, reply_to, timeout)

    async def send(
        self, text: str, reply_to: SentMessage | int | None = None, timeout: float = 10
    ) -> list[SentMessage]:
        """Send a text message; return what the bot sent to this chat while handling it."""
        content: Json = {"text": text}
        if text.startswith("/") and not self.bot.is_bale:
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return await self._send_content(content, reply_to, timeout)

    async def send_contact(
        self,
        phone_number: str,
        user_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        timeout: float = 10,
        *,
        phone_book: bool = False,
    ) -> list[SentMessage]:
        """Share a contact: by default the sender's own, with their `user_id`, as a
        request_contact button does; `user_id=` another person's account card; `phone_book`
        a card from the phone book of a number with no account, which has no `user_id`."""
        contact: Json = {
            "phone_number": phone_number,
            "first_name": first_name or self.user["first_name"],
        }
        if not phone_book:
            contact["user_id"] = self.user["id"] if user_id is None else user_id
        if last_name:
            contact["last_name"] = last_name
        return await self._send_content({"contact": contact}, None, timeout)

    async def send_photo(
        self,
        size: int = 50_000,
        caption: str | None = None,
        content: bytes | None = None,
        timeout: float = 10,
        reply_to: SentMessage | int | None = None,
    ) -> list[SentMessage]:
        """Send a photo (PhotoSize list, largest last; bytes downloadable via getFile)."""
        extra = {"caption": caption} if caption else {}
        return await self._send_file("photo", size, content, extra, timeout, reply_to)

    async def send_document(
        self,
        size: int = 10_000,
        file_name: str = "doc.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        content: bytes | None = None,
        timeout: float = 10,
        reply_to: SentMessage | int | None = None,
    ) -> list[SentMessage]:
        """Send a document."""
        extra = {"caption": caption} if caption else {}
        return await self._send_file(
            "document",
            size,
            content,
            extra,
            timeout,
            reply_to,
            file_name=file_name,
            mime_type=mime_type,
        )

    async def send_voice(
        self, size: int = 8_000, duration: int = 3, timeout: float = 10
    ) -> list[SentMessage]:
        """Send a voice note (Bale omits "duration")."""
        return await self._send_file("voice", size, None, {}, timeout, duration=duration)

    async def send_video(
        self,
        size: int = 200_000,
        duration: int = 5,
        caption: str | None = None,
        timeout: float = 10,
    ) -> list[SentMessage]:
        """Send a video."""
        extra = {"caption": caption} if caption else {}
        return await self._send_file(
            "video", size, None, extra, timeout, duration=duration, file_name="video.mp4"
        )

    async def send_animation(self, size: int = 30_000, timeout: float = 10) -> list[SentMessage]:
        """Send a GIF (Telegram also fills "document", as the real one does)."""
        return await self._send_file("animation", size, None, {}, timeout)

    async def send_sticker(self, size: int = 20_000, timeout: float = 10) -> list[SentMessage]:
        """Send a sticker (Bale: without type / is_animated / is_video)."""
        return await self._send_file("sticker", size, None, {}, timeout)

    async def send_audio(self, size: int = 40_000, timeout: float = 10) -> list[SentMessage]:
        """Send a music file (audio)."""
        return await self._send_file("audio", size, None, {}, timeout, file_name="song.mp3")

    async def send_video_note(self, size: int = 60_000, timeout: float = 10) -> list[SentMessage]:
        """Send a round video note."""
        return await self._send_file("video_note", size, None, {}, timeout)

    async def send_dice(
        self, emoji: str = "🎲", value: int = 3, timeout: float = 10
    ) -> list[SentMessage]:
        """Throw a dice (an animated emoji with a value)."""
        return await self._send_content({"dice": {"emoji": emoji, "value": value}}, None, timeout)

    async def send_poll(
        self, question: str = "?", options: tuple[str, ...] = ("1", "2"), timeout: float = 10
    ) -> list[SentMessage]:
        """Send a poll, shaped as the current Bot API describes it."""
        poll: Json = {
            "id": str(next(self.bot._serial)),
            "question": question,
            "options": [
                {"persistent_id": str(n), "text": text, "voter_count": 0}
                for n, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return await self._send_content({"poll": poll}, None, timeout)

    async def send_location(
        self, latitude: float, longitude: float, timeout: float = 10
    ) -> list[SentMessage]:
        """Share a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return await self._send_content({"location": location}, None, timeout)

    async def click(
        self, button_text: str, message: SentMessage | None = None, timeout: float = 10
    ) -> list[SentMessage]:
        """Press an inline button (newest message showing it), else a reply keyboard button."""
        candidates = (
            [message] if message else [m for m in reversed(self.messages()) if not m.deleted]
        )
        for sent in candidates:
            button = sent.inline_button(button_text)
            if button is None:
                continue
            if "callback_data" not in button:
                raise ValueError(f"button {button_text!r} has no callback_data: {button}")
            return await self.click_data(str(button["callback_data"]), sent, timeout)
        reply_button = None if message else self._reply_button(button_text)
        if reply_button is not None:
            if reply_button.get("request_contact") or reply_button.get("request_location"):
                raise ValueError(
                    f"{button_text!r} requests contact/location: use send_contact / send_location"
                )
            return await self.send(button_text, timeout=timeout)
        shown = [m.buttons() for m in candidates if m.buttons()][:3]
        raise LookupError(
            f"no button {button_text!r} in chat {self.chat.id}; newest buttons: "
            f"{shown}; reply keyboard: {self.keyboard()}"
        )

    async def click_data(
        self, data: str, message: SentMessage, timeout: float = 10
    ) -> list[SentMessage]:
        """Send a callback_query with any data on a bot message (Bale: no chat_instance)."""
        if message.deleted:
            raise ValueError(f"message {message.message_id} was deleted")
        query_id = f"{self.bot.id}{next(self.bot._serial):08d}"
        self.bot._callbacks[query_id] = False
        query: Json = {
            "id": query_id,
            "from": self.user,
            "message": self.chat.messages.get(message.message_id, message.result),
        }
        if not self.bot.is_bale:
            query["chat_instance"] = str(abs(hash((self.bot.id, self.chat.id))))
        query["data"] = data
        result = await self.bot._deliver({"callback_query": query}, self.chat.id, timeout)
        if not self.bot._callbacks[query_id]:
            self.bot._violation(f"callback_query {query_id} (data={data!r}) was not answered")
        return result

    async def send_raw(self, update_body: Json, timeout: float = 10) -> list[SentMessage]:
        """Push an arbitrary update body (update_id is filled in) and wait for handling."""
        return await self.bot._deliver(dict(update_body), self.chat.id, timeout)


class FakeUser(_Sender):
    """A person in a private chat with the bot (chat id = user id)."""

    @property
    def id(self) -> int:
        """The user's id."""
        return int(self.user["id"])

    def block(self) -> None:
        """Block the bot: later sends to this chat answer 403."""
        self.chat.blocked = True

    def unblock(self) -> None:
        """Unblock the bot."""
        self.chat.blocked = False


class FakeMember(_Sender):
    """A member acting in a group chat."""

    @property
    def id(self) -> int:
        """The member's user id."""
        return int(self.user["id"])


class FakeGroup(_Sender):
    """A group chat; sends as a default member unless you use :meth:`as_member`."""

    DEFAULT_MEMBER_ID = 99_999_001

    def __init__(self, bot: FakeBot, chat: _Chat) -> None:
        """Bind the chat with a default member as sender."""
        super().__init__(
            bot, chat, {"id": self.DEFAULT_MEMBER_ID, "is_bot": False, "first_name": "عضو"}
        )

    @property
    def id(self) -> int:
        """The group's chat id."""
        return self.chat.id

    @property
    def title(self) -> str:
        """The group's title."""
        return str(self.chat.obj["title"])

    def as_member(
        self,
        user_id: int,
        first_name: str = "عضو",
        last_name: str | None = None,
        username: str | None = None,
        admin: bool = False,
    ) -> FakeMember:
        """A handle sending into this group as the given member."""
        user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        self.chat.members[user_id] = user
        if admin:
            self.chat.admins.add(user_id)
        return FakeMember(self.bot, self.chat, user)

    def as_admin(
        self,
        user_id: int,
        first_name: str = "عضو",
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeMember:
        """A handle sending into this group as one of its administrators."""
        return self.as_member(user_id, first_name, last_name, username, admin=True)

    def set_admins(self, *user_ids: int, owner: int | None = None) -> None:
        """The group's administrators are these (and `owner`, listed as its creator)."""
        self.chat.admins = set(user_ids) | ({owner} if owner is not None else set())
        self.chat.owner = owner

    def admins(self) -> set[int]:
        """The user ids of the group's administrators now."""
        return set(self.chat.admins)

    def promote(self, member: FakeMember | int, *, anonymous: bool = False) -> None:
        """Make a member an administrator (`anonymous`: one who writes as the group)."""
        user_id = member if isinstance(member, int) else member.id
        self.chat.admins.add(user_id)
        if anonymous:
            self.chat.anonymous_admins.add(user_id)

    def demote(self, member: FakeMember | int) -> None:
        """Take a member's administrator rights away."""
        user_id = member if isinstance(member, int) else member.id
        self.chat.admins.discard(user_id)
        self.chat.anonymous_admins.discard(user_id)
        if self.chat.owner == user_id:
            self.chat.owner = None

    def as_anonymous_admin(self) -> FakeMember:
        """An anonymous administrator: Telegram sends their messages from @GroupAnonymousBot
        with the group itself as `sender_chat` (who it is, nobody can tell)."""
        user: Json = {"id": GROUP_ANONYMOUS_BOT, "is_bot": True, "first_name": "Group",
                      "username": "GroupAnonymousBot"}  # fmt: skip
        member = FakeMember(self.bot, self.chat, user)
        member.sender_chat = dict(self.chat.obj)
        return member

    def as_channel(self, channel_id: int, title: str) -> FakeMember:
        """A member writing as a channel: `from` is @Channel_Bot, `sender_chat` the channel."""
        user: Json = {"id": CHANNEL_BOT, "is_bot": True, "first_name": "Channel",
                      "username": "Channel_Bot"}  # fmt: skip
        member = FakeMember(self.bot, self.chat, user)
        member.sender_chat = {"id": channel_id, "type": "channel", "title": title}
        return member

    def kick_bot(self) -> None:
        """Remove the bot from the group: later sends answer 403."""
        self.chat.left = True

    async def post(self, text: str, timeout: float = 10) -> list[SentMessage]:
        """Publish a post in a channel (a ``channel_post`` update: no sender, the chat signs)."""
        message = self._new_message({"text": text, "sender_chat": self.chat.obj})
        message.pop("from", None)
        return await self.bot._deliver({"channel_post": message}, self.chat.id, timeout)


class FakeBotAPI:
    """The fake Bot API HTTP server; serves several bots, each by its token."""

    def __init__(self) -> None:
        """Create a stopped server."""
        self.base_url = ""
        self._bots: dict[str, FakeBot] = {}
        self._faults: list[_Fault] = []
        self._reality: _Reality | None = None
        self.injected: Counter[str] = Counter()  # faults answered, per kind (all sources)
        self.injected_log: list[tuple[str, str, str]] = []  # (token, method, kind) in order
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a random free port."""
        app = web.Application(client_max_size=128 * MB)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Release long polls and shut the server down."""
        for bot in self._bots.values():
            bot._closing = True
            await bot._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        """Start on entering an ``async with`` block."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop on leaving an ``async with`` block."""
        await self.stop()

    def add_bot(
        self, token: str, flavour: str, username: str | None = None, first_update_id: int = 1
    ) -> FakeBot:
        """Register a bot token with a flavour ("telegram" or "bale")."""
        if token in self._bots:
            raise ValueError(f"bot {token!r} already registered")
        bot = FakeBot(token, flavour, username or f"{flavour}_test_bot", first_update_id)
        self._bots[token] = bot
        if self._reality is not None:
            self._reality_edits(bot, self._reality)
        return bot

    def bot(self, token: str) -> FakeBot:
        """The registered bot with this token."""
        return self._bots[token]

    def fail(
        self,
        method: str | None,
        kind: str,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 0.0,
        token: str | None = None,
    ) -> None:
        """Make the next `times` calls of method (None: any but getUpdates) fail with kind."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        self._faults.append(_Fault(method, kind, times, retry_after, delay, token))

    def refuse_chat(
        self, token: str, chat_id: int, seconds: float, kind: str = "403_kicked"
    ) -> None:
        """For `seconds`, every call of this bot with this chat_id answers the fault kind."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        self._bots[token]._refusals[int(chat_id)] = (time.monotonic() + seconds, kind)

    def restore_chat(self, token: str, chat_id: int) -> None:
        """End a refuse_chat early: the chat takes the bot back."""
        self._bots[token]._refusals.pop(int(chat_id), None)

    def reality(
        self,
        seed: int,
        rate: float = 0.1,
        token: str | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> None:
        """From now on each call (of token's bot; None: all) fails with probability `rate`, with
        a kind drawn by ``random.Random(seed)`` from `kinds` (default REALITY_KINDS). getUpdates
        only gets POLL_SAFE_KINDS (of `kinds`, when given); Bale bots answer edits at random."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be within [0, 1], not {rate!r}")
        mix = REALITY_KINDS if kinds is None else tuple(kinds)
        unknown = [kind for kind in mix if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"kinds must be among {FAULT_KINDS}, not {unknown}")
        poll = tuple(k for k in (POLL_SAFE_KINDS if kinds is None else mix) if k in POLL_SAFE_KINDS)
        self._reality = _Reality(random.Random(seed), rate, token, mix, poll)
        for bot in self._bots.values():
            self._reality_edits(bot, self._reality)

    def reality_off(self) -> None:
        """Stop the reality profile (faults from fail() and refuse_chat still apply)."""
        self._reality = None
        for bot in self._bots.values():
            bot._random_edits = False

    @staticmethod
    def _reality_edits(bot: FakeBot, reality: _Reality) -> None:
        """Make a Bale bot under the reality profile answer edits at random (seeded)."""
        bot._random_edits = bot.is_bale and reality.token in (None, bot.token)
        if bot._random_edits:
            bot.edit_seed = reality.rng.getrandbits(32)

    def clear_faults(self) -> None:
        """Forget the faults not yet used up: the messenger is healthy again."""
        self._faults.clear()

    def _take_fault(self, method: str, token: str) -> _Fault | None:
        """Consume the first pending fault matching this call."""
        for fault in self._faults:
            if fault.token not in (None, token):
                continue
            if fault.method is None and method == "getUpdates":
                continue
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _pick_fault(self, bot: FakeBot, method: str, params: Json) -> tuple[str, int, float] | None:
        """(kind, retry_after, delay) of the fault this call meets: fail(), then a refusing
        chat, then the reality profile; None for a healthy call."""
        fault = self._take_fault(method, bot.token)
        if fault is not None:
            return fault.kind, fault.retry_after, fault.delay
        kind = bot._refusal(method, params)
        if kind is not None:
            return kind, 1, 0.0
        reality = self._reality
        if reality is None or reality.token not in (None, bot.token):
            return None
        mix = reality.poll_kinds if method == "getUpdates" else reality.kinds
        if not mix or reality.rng.random() >= reality.rate:
            return None
        kind = reality.rng.choice(mix)
        return kind, 1, REALITY_TIMEOUT_DELAY if kind == "timeout" else 0.0

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[Json, dict[str, Upload]]:
        """Read params from query string, JSON, urlencoded or multipart bodies."""
        params: Json = {k: _decode_form(k, v) for k, v in request.query.items()}
        uploads: dict[str, Upload] = {}
        if not request.can_read_body:
            return params, uploads
        if request.content_type == "application/json":
            body = await request.json()
            for key, value in (body if isinstance(body, dict) else {}).items():
                nested = isinstance(value, str) and value.startswith(("{", "["))
                params[key] = _decode_form(key, value) if nested else value
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[key] = (value.file.read(), value.filename, value.content_type)
                else:
                    text = value.decode() if isinstance(value, bytes | bytearray) else value
                    params[key] = _decode_form(key, text)
        return params, uploads

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one Bot API call."""
        bot = self._bots.get(request.match_info["token"])
        if bot is None:
            return _error_response(401, "Unauthorized")
        name = request.match_info["method"]
        method = bot._canonical.get(name.lower(), name)
        try:
            params, uploads = await self._read_params(request)
        except ValueError:
            return _error_response(400, "Bad Request: can't parse request body")
        bot.calls.append((method, params))
        fault = self._pick_fault(bot, method, params)
        garbage = False
        if fault is not None:
            kind, retry_after, delay = fault
            self.injected[kind] += 1
            self.injected_log.append((bot.token, method, kind))
            if delay > 0:
                await asyncio.sleep(delay)
            if kind == "drop":
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)
            response = _fault_response(kind, retry_after)
            if response is not None:
                return response
            garbage = kind == "ok_garbage"  # carried out below, answered with garbage
        handler = bot.handlers.get(method)
        if handler is None:
            bot._violation(f"{method}: method not found ({bot.flavour})")
            return _error_response(404, "Not Found: method not found")
        mark = len(bot.sent)
        try:
            result = await handler(params, uploads)
        except ApiError as error:
            return _error_response(error.status, error.description, error.parameters)
        except Exception as exc:  # a bug in the fake itself or a wildly malformed call
            bot._violation(f"{method}: fake server crashed on {params}: {exc!r}")
            return _error_response(500, f"Internal Server Error: {exc!r}")
        await bot._notify()
        if garbage:
            for sent in bot.sent[mark:]:
                sent.unreadable_answer = True  # the bot cannot know its message id
            return _json_response({"ok": True, "result": _GARBAGE})
        if bot.bale_quirks and bot.is_bale:
            result = _with_bale_quirks(result)
        return _json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """Serve file bytes at /file/bot<token>/files/<file_id>."""
        bot = self._bots.get(request.match_info["token"])
        if bot is None:
            return _error_response(401, "Unauthorized")
        path = request.match_info["path"]
        stored = bot._files.get(path.removeprefix("files/")) if path.startswith("files/") else None
        if stored is None:
            return _error_response(404, "Not Found")
        return web.Response(body=stored.content, content_type="application/octet-stream")
