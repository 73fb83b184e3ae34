"""The fake messenger's memory: chats, messages, files, the updates queue, per bot account.

:class:`BotState` is one bot token's world: its chats (:class:`_Chat`), the files it knows
(:class:`_StoredFile`), what the bot sent (:class:`SentMessage`, each with its later edits) and
the updates waiting for ``getUpdates``. Start at :meth:`BotState._deliver`: a test's update is
queued, and the call returns once the bot confirmed it with a later offset. The Bot API methods
that read and change this world are in ``methods`` (``FakeBot`` extends ``BotState``).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.sandbox.fakebotapi.platforms import _HTML_TAG, BALE, EDIT_ANSWERS, TELEGRAM, Json

Upload = tuple[bytes, str | None, str | None]  # (content, file name, MIME type) of a file part

# fmt: off
_HEADERS = {  # magic bytes so fake files look like what they claim to be
    "photo": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "document": b"%PDF-1.4\n", "voice": b"OggS",
    "audio": b"ID3", "video": b"\x00\x00\x00\x18ftypmp42", "animation": b"GIF89a",
    "sticker": b"RIFF\x00\x00\x00\x00WEBP",
}
_MIME = {"voice": "audio/ogg", "audio": "audio/mpeg", "video": "video/mp4",
         "animation": "image/gif"}
# fmt: on
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """An error answer of the fake API (HTTP status, description, optional parameters)."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        """Remember the answer to send."""
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _update_kind(update: Json) -> str:
    """The update type (first key other than update_id)."""
    return next((k for k in update if k != "update_id"), "empty")


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


class BotState:
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
        self.commands: list[Json] = []  # the menu of the scope set last
        self.scoped_commands: dict[str, list[Json]] = {}  # per BotCommandScope type
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
        self._files: dict[str, _StoredFile] = {}
        self._updates: list[Json] = []
        self._next_update_id = first_update_id
        self._confirmed: dict[int, int] = {}
        # handled: update id -> len(sent) then. A bot that confirms at once (an inbox) says
        # when it has handled an update through `mark_handled` (`reports_handling`); else an
        # update counts as handled once confirmed.
        self.reports_handling = False
        self._handled: dict[int, int] = {}
        self._first_update_id = first_update_id
        self._notes: set[asyncio.Task[None]] = set()
        self._callbacks: dict[str, bool] = {}
        self._serial = itertools.count(1)
        self._rng = random.Random(self.id)
        self._cond = asyncio.Condition()
        self._closing = False

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

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """All messages the bot sent to a chat (deleted ones included, flagged)."""
        return [m for m in self.sent if m.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Json]:
        """Params of every call of one API method."""
        return [params for name, params in self.calls if name == method]

    def pending_updates(self) -> int:
        """Number of updates not yet confirmed by the bot."""
        return len(self._updates)

    def mark_handled(self, update_id: int) -> None:
        """The bot has handled this update (its replies are sent): see `reports_handling`."""
        self._handled.setdefault(update_id, len(self.sent))
        task = asyncio.get_running_loop().create_task(self._notify())
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)

    def is_handled(self, update_id: int) -> bool:
        """Whether the bot has handled this update."""
        return update_id in self._handled

    def handled_count(self) -> int:
        """How many updates the bot has handled."""
        return len(self._handled)

    def unhandled(self) -> int:
        """Number of updates pushed and not yet handled."""
        pushed = range(self._first_update_id, self._next_update_id)
        return sum(1 for u in pushed if u not in self._handled)

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
        """Push an update, wait until it is handled (`reports_handling`; else confirmed), return
        messages sent to chat_id meanwhile."""
        start = len(self.sent)
        update_id = await self._push(body)
        if not await self._wait(lambda: update_id in self._handled, timeout):
            polled = "never"
            if self.last_poll is not None:
                polled = f"{time.monotonic() - self.last_poll:.1f}s ago"
            texts = [m.current_text() for m in self.sent[start:] if m.chat_id == chat_id]
            raise TimeoutError(
                f"{self.flavour} bot {self.id}: update {update_id} ({_update_kind(body)}) "
                f"not handled within {timeout}s (last getUpdates {polled}; is the bot "
                f"polling with handle_as_tasks=False?). Sent to chat {chat_id} "
                f"meanwhile: {texts}. Pending updates: {len(self._updates)}. "
                f"Violations: {self.violations}"
            )
        return [m for m in self.sent[start : self._handled[update_id]] if m.chat_id == chat_id]

    def requeue_lost(self) -> list[int]:
        """Deliver again the updates whose confirmation was lost (as after a crash before the
        messenger saw the new offset); returns their ids. Call while the bot is stopped."""
        lost, self.lost_updates = self.lost_updates, []
        for update in lost:
            self._confirmed.pop(update["update_id"], None)
            if not self.reports_handling:
                self._handled.pop(update["update_id"], None)
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
                if not self.reports_handling:
                    self._handled[update["update_id"]] = len(self.sent)
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
