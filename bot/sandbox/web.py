"""The sandbox's web page and its small JSON API over the fake messenger (same event loop).

Only the person who started the sandbox may use it, not the web pages their browser visits:
every request needs the secret key printed with the address (`/?k=KEY` sets an HttpOnly,
SameSite=Strict cookie and redirects to the clean address); only `127.0.0.1:PORT`,
`localhost:PORT` and `[::1]:PORT` are served as Host (DNS rebinding); every POST carries the
page's own Origin and JSON (the upload: multipart with an `X-Sandbox: 1` header, which a
cross-site form cannot send); uploaded files come back as downloads (nosniff, a sandboxing
CSP; plain photo types inline), under unguessable ids.

The page (`page.html`, inline CSS and JS, no build step, nothing from the internet) polls
`GET /api/messages` every half second and acts through `POST /api/send`, `/api/click`,
`/api/contact` and `/api/file`, which call the same FakeUser / FakeGroup methods the e2e
tests use. Each call waits until the bot has handled the update, as the tests do. In a unit's
group the page writes as a staff member, in the admins' group as an admin (both the groups'
administrators); anywhere else as the citizen whose id is the chat's.
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aiohttp import web

from bot.sandbox.fakebotapi import FakeBot, FakeGroup, FakeUser, SentMessage
from bot.ui.render import phone_text
from desk.directory import display_phone, parse_phone
from desk.routing import RoutingRules

Json = dict[str, Any]

STAFF_MEMBER_ID = (
    7_100_001  # not a bot's id (the Telegram bot is 7000001): a person, an admin of the groups
)
ADMIN_MEMBER_ID = 7_100_002  # another person: an administrator of the admins' group
ADMINS_TITLE = "مدیران"  # the admins' group as the fake messenger names it
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^<>]*>")
_KEEP_TAGS = {"b": "b", "strong": "b", "i": "i", "em": "i", "code": "code"}
_MEDIA_KINDS = ("photo", "document", "voice", "video", "audio", "animation", "sticker")
KEY_PARAM = "k"
UPLOAD_HEADER = "X-Sandbox"
_INLINE_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}  # never SVG: it runs JS
# A photo the bot sends (the head's chart) comes as multipart without a type of its own: its
# first bytes say which of the plain image types it is.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_FILE_CSP = "default-src 'none'; sandbox"
_PAGE_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def telegram_html(text: str) -> str:
    """Telegram HTML made safe for the page: b/i/code kept (no attributes), all else text."""
    out: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        out.append(html.escape(html.unescape(text[position : match.start()]), quote=False))
        tag = _KEEP_TAGS.get(match.group(2).lower())
        if tag is not None:
            out.append(f"<{match.group(1)}{tag}>")
        position = match.end()
    out.append(html.escape(html.unescape(text[position:]), quote=False))
    return "".join(out)


def plain_html(text: str) -> str:
    """Plain text (Bale, or what a person typed) escaped for the page."""
    return html.escape(text, quote=False)


@dataclass
class Chats:
    """The fake messenger as the page sees it: two bots and the known group chats."""

    bots: dict[str, FakeBot]
    units: list[Json]  # {"key", "name", "chats": {"telegram": id, "bale": id}}
    admins: dict[str, list[int]] = field(default_factory=dict)
    groups: dict[tuple[str, int], FakeGroup] = field(default_factory=dict)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # handle -> (platform, id)
    _handles: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_rules(cls, bots: dict[str, FakeBot], rules: RoutingRules) -> Chats:
        """Every unit's staff group and the admins' groups of routing_rules.yaml, per platform."""
        chats = cls(bots=bots, units=[])
        for unit in rules.units.values():
            ids = {platform.value: chat_id for platform, chat_id in unit.chats.items()}
            chats.units.append({"key": unit.key, "name": unit.name, "chats": ids})
            for name, chat_id in ids.items():
                chats.add_group(name, chat_id, unit.name)
        for platform, admin_ids in rules.admins.items():
            chats.admins[platform.value] = sorted(admin_ids)
            for chat_id in chats.admins[platform.value]:
                if (platform.value, chat_id) not in chats.groups:
                    chats.add_group(platform.value, chat_id, ADMINS_TITLE)
        return chats

    def file_url(self, platform: str, file_id: str) -> str:
        """The page's address of a file: an unguessable handle, not the messenger's file id."""
        handle = self._handles.get((platform, file_id))
        if handle is None:
            handle = secrets.token_urlsafe(18)
            self._handles[(platform, file_id)] = handle
            self.files[handle] = (platform, file_id)
        return f"/api/file/{handle}"

    def add_group(self, platform: str, chat_id: int, title: str) -> None:
        """Make a group chat the bot knows (a unit's staff group, the admins' group)."""
        self.groups[(platform, chat_id)] = self.bots[platform].group_chat(chat_id, title)

    def bot(self, platform: str) -> FakeBot:
        """The fake side of one platform; a bad name is the client's error."""
        if platform not in self.bots:
            raise web.HTTPBadRequest(text=f"unknown platform {platform!r}")
        return self.bots[platform]

    def sender(self, platform: str, chat_id: int) -> Any:
        """Who acts in a chat: a staff member in a unit's group, an admin in the admins' group,
        else the citizen (chat id = id)."""
        group = self.groups.get((platform, chat_id))
        if group is not None:
            if chat_id in self.admins.get(platform, ()):  # /publish, /report, /export ...
                return group.as_member(ADMIN_MEMBER_ID, "مدیر", "نمونه", admin=True)
            return group.as_member(STAFF_MEMBER_ID, "کارشناس", "نمونه", admin=True)
        if chat_id <= 0:
            raise web.HTTPBadRequest(text="a citizen id must be a positive number")
        user: FakeUser = self.bot(platform).private_chat(chat_id, "شهروند", str(chat_id))
        return user


def _sent_index(bot: FakeBot, chat_id: int) -> dict[int, SentMessage]:
    return {m.message_id: m for m in bot.messages_to(chat_id) if not m.deleted}


def _media(chats: Chats, message: Json, platform: str) -> Json | None:
    if message.get("photo"):
        largest = message["photo"][-1]
        return {"kind": "photo", "url": chats.file_url(platform, largest["file_id"])}
    for kind in _MEDIA_KINDS:
        if kind in message:
            obj = message[kind]
            return {
                "kind": kind,
                "name": obj.get("file_name") or kind,
                "url": chats.file_url(platform, obj["file_id"]),
            }
    return None


def card_phone(number: str) -> str:
    """A contact card's number as the directory writes one («۰۵۶-۳۲۲۳۱۵۰۰» between
    left-to-right marks); a number that is not Iranian as it came, in Persian digits."""
    text = number.strip()
    if re.fullmatch(r"98\d{10}", text):  # a shared contact's number often comes without its +
        text = "+" + text
    with contextlib.suppress(ValueError):
        text = display_phone(parse_phone(text))
    return phone_text(text)


def _contact(message: Json) -> Json | None:
    """A contact card (the bot's sendContact, a number the citizen shares): name and phone."""
    contact = message.get("contact")
    if not isinstance(contact, dict):
        return None
    name = " ".join(str(contact[k]) for k in ("first_name", "last_name") if contact.get(k))
    return {"name": name, "phone": card_phone(str(contact.get("phone_number") or ""))}


def _buttons(markup: Json | None) -> list[list[Json]]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [
        [
            {k: b[k] for k in ("text", "callback_data", "url") if k in b}
            for b in row
            if isinstance(b, dict)
        ]
        for row in rows
    ]


def _keyboard(bot: FakeBot, chat_id: int) -> list[list[Json]]:
    """The reply keyboard now shown in a chat (the newest keyboard or removal wins)."""
    for sent in reversed(bot.messages_to(chat_id)):
        markup = sent.reply_markup or {}
        if markup.get("remove_keyboard"):
            return []
        if "keyboard" in markup:
            return [
                [{"text": b} if isinstance(b, str) else {"text": b.get("text"), **b} for b in row]
                for row in markup["keyboard"]
            ]
    return []


def timeline(chats: Chats, platform: str, chat_id: int) -> Json:
    """Everything in one chat, oldest first, as the page draws it; `rev` changes on any change."""
    bot = chats.bot(platform)
    chat = bot._chats.get(chat_id)
    if chat is None:
        return {"rev": "0", "messages": [], "keyboard": []}
    sent = _sent_index(bot, chat_id)
    messages: list[Json] = []
    edits = 0
    for message_id in sorted(chat.messages):
        message = chat.messages[message_id]
        mine = sent.get(message_id)
        is_bot = (message.get("from") or {}).get("id") == bot.id
        item: Json = {
            "id": message_id,
            "from": "bot" if is_bot else "user",
            "name": (message.get("from") or {}).get("first_name", ""),
            "date": message.get("date"),
            "media": _media(chats, message, platform),
            "contact": _contact(message),
        }
        reply = message.get("reply_to_message")
        if reply:
            quoted = reply.get("text") or reply.get("caption") or "…"
            item["reply_to"] = {"id": reply.get("message_id"), "text": str(quoted)[:80]}
        if mine is not None:
            text = mine.current_text() or ""
            item["html"] = plain_html(text) if bot.is_bale else telegram_html(text)
            item["buttons"] = _buttons(mine.current_markup())
            item["edited"] = bool(mine.edits)
            # the apps open a reply to a ForceReply question by themselves
            item["force_reply"] = bool((mine.reply_markup or {}).get("force_reply"))
            edits += len(mine.edits)
        else:
            text = str(message.get("text") or message.get("caption") or "")
            if "location" in message:
                text = "موقعیت مکانی"
            item["html"] = plain_html(text)
            item["buttons"] = []
        messages.append(item)
    last = max(chat.messages, default=0)
    rev = f"{len(chat.messages)}.{last}.{edits}"
    return {"rev": rev, "messages": messages, "keyboard": _keyboard(bot, chat_id)}


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise web.HTTPBadRequest(text=f"{name} must be a number") from None


def fake_phone(user_id: int) -> str:
    """The number a citizen's contact button shares: a well-formed Iranian mobile, per id."""
    return f"98915{user_id % 10_000_000:07d}"


def _image_type(content: bytes) -> str:
    """The plain image type these bytes start with ("" for anything else)."""
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _IMAGE_MAGIC if content.startswith(magic)), "")


def _refuse(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=f"sandbox: {reason}\n", headers=_PAGE_HEADERS)


class SandboxWeb:
    """The aiohttp application of the page and its API, for the holder of `key` only."""

    def __init__(self, chats: Chats, info: Json, key: str | None = None) -> None:
        """Serve these chats; `info` goes to the page as-is; `key`: the secret (else a new one)."""
        self.chats = chats
        self.info = info
        self.key = key or secrets.token_urlsafe(24)
        self.app = web.Application(client_max_size=25 * 1024 * 1024, middlewares=[self.guard])
        self.app.router.add_get("/", self.page)
        self.app.router.add_get("/api/config", self.config)
        self.app.router.add_get("/api/messages", self.messages)
        self.app.router.add_post("/api/send", self.send)
        self.app.router.add_post("/api/click", self.click)
        self.app.router.add_post("/api/contact", self.contact)
        self.app.router.add_post("/api/file", self.upload)
        self.app.router.add_get("/api/file/{handle}", self.download)

    @staticmethod
    def _port(request: web.Request) -> int | None:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        return int(sockname[1]) if sockname else None

    def cookie_name(self, port: int | None) -> str:
        """Cookies ignore ports: two sandboxes on one machine keep a cookie each."""
        return f"sandbox_key_{port}"

    def _holds_key(self, request: web.Request, port: int | None) -> bool:
        given = request.query.get(KEY_PARAM)
        if given is not None:
            return secrets.compare_digest(given.encode(), self.key.encode())
        cookie = request.cookies.get(self.cookie_name(port), "")
        return secrets.compare_digest(cookie.encode(), self.key.encode())

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Host, key, Origin and body type, before any handler runs."""
        port = self._port(request)
        host = (request.headers.get("Host") or "").lower()
        if port is None or host not in {f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")}:
            return _refuse(421, "this address is served as 127.0.0.1 or localhost only")
        if not self._holds_key(request, port):
            return _refuse(403, "open the address the sandbox printed (it carries ?k=...)")
        site = request.headers.get("Sec-Fetch-Site")
        if request.path.startswith("/api/") and site in ("cross-site", "same-site"):
            return _refuse(403, "the API answers this page only")
        if request.method not in ("GET", "HEAD"):
            if request.headers.get("Origin", "").lower() != f"http://{host}":
                return _refuse(403, "a request from another origin")
            if request.path == "/api/file":
                if request.headers.get(UPLOAD_HEADER) != "1":
                    return _refuse(403, f"an upload needs the {UPLOAD_HEADER} header")
                if request.content_type != "multipart/form-data":
                    return _refuse(415, "an upload is multipart/form-data")
            elif request.content_type != "application/json":
                return _refuse(415, "the API takes application/json only")
        response = await handler(request)
        for name, value in _PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The one HTML page; `?k=KEY` leaves the key in a cookie and goes to the clean address."""
        if KEY_PARAM in request.query:
            rest = [(k, v) for k, v in request.query.items() if k != KEY_PARAM]
            target = request.rel_url.with_query(rest) if rest else request.rel_url.with_query(None)
            response = web.Response(status=303, headers={"Location": str(target)})
            response.set_cookie(
                self.cookie_name(self._port(request)),
                self.key,
                httponly=True,
                samesite="Strict",
                path="/",
            )
            return response
        text = resources.files("bot.sandbox").joinpath("page.html").read_text(encoding="utf-8")
        return web.Response(text=text, content_type="text/html", charset="utf-8")

    async def config(self, request: web.Request) -> web.Response:
        """Units, their groups per platform, the admins' groups."""
        return web.json_response(
            {**self.info, "units": self.chats.units, "admins": self.chats.admins}
        )

    async def messages(self, request: web.Request) -> web.Response:
        """A chat's timeline; `since` = the rev the page has: unchanged answers without messages."""
        platform = request.query.get("platform", "telegram")
        chat_id = _int(request.query.get("chat"), "chat")
        data = timeline(self.chats, platform, chat_id)
        if request.query.get("since") == data["rev"]:
            return web.json_response({"rev": data["rev"], "unchanged": True})
        return web.json_response(data)

    async def _act(self, action: Any) -> web.Response:
        try:
            await action
        except TimeoutError:
            return web.json_response({"ok": False, "error": "the bot did not answer"}, status=504)
        except (LookupError, ValueError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def _body(self, request: web.Request) -> tuple[Json, Any]:
        body = await request.json()
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="a JSON object is expected")
        platform = str(body.get("platform", "telegram"))
        return body, self.chats.sender(platform, _int(body.get("chat"), "chat"))

    async def send(self, request: web.Request) -> web.Response:
        """Text from the input (or a reply keyboard button), optionally as a reply."""
        body, sender = await self._body(request)
        text = str(body.get("text") or "")
        if not text.strip():
            raise web.HTTPBadRequest(text="empty text")
        reply_to = body.get("reply_to")
        reply = _int(reply_to, "reply_to") if reply_to is not None else None
        return await self._act(sender.send(text, reply_to=reply))

    async def click(self, request: web.Request) -> web.Response:
        """An inline button pressed on one of the bot's messages."""
        body, sender = await self._body(request)
        message_id = _int(body.get("message_id"), "message_id")
        target = _sent_index(sender.bot, sender.chat_id).get(message_id)
        if target is None:
            raise web.HTTPNotFound(text="no such message")
        return await self._act(sender.click_data(str(body.get("data")), target))

    async def contact(self, request: web.Request) -> web.Response:
        """The request_contact button: share the citizen's own (fake) number."""
        _, sender = await self._body(request)
        return await self._act(sender.send_contact(fake_phone(sender.chat_id)))

    async def upload(self, request: web.Request) -> web.Response:
        """A photo or a file picked in the page, sent with its bytes."""
        form = await request.post()
        platform = str(form.get("platform", "telegram"))
        sender = self.chats.sender(platform, _int(form.get("chat"), "chat"))
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise web.HTTPBadRequest(text="no file")
        content = upload.file.read()
        caption = str(form.get("caption") or "") or None
        reply_to = form.get("reply_to")
        reply = _int(reply_to, "reply_to") if reply_to else None
        mime = upload.content_type or "application/octet-stream"
        if mime.startswith("image/") and form.get("as") != "document":
            return await self._act(
                sender.send_photo(content=content, caption=caption, reply_to=reply)
            )
        return await self._act(
            sender.send_document(
                content=content,
                file_name=upload.filename or "file",
                mime_type=mime,
                caption=caption,
                reply_to=reply,
            )
        )

    async def download(self, request: web.Request) -> web.Response:
        """The bytes of a file in a chat: a download, or a plain photo type shown inline."""
        found = self.chats.files.get(request.match_info["handle"])
        stored = self.chats.bot(found[0])._files.get(found[1]) if found else None
        if stored is None:
            raise web.HTTPNotFound()
        kind = (stored.mime_type or "").lower()
        if stored.kind == "photo" and kind not in _INLINE_IMAGES:
            kind = _image_type(stored.content)
        headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": _FILE_CSP}
        if kind not in _INLINE_IMAGES:
            kind = "application/octet-stream"
            name = (stored.file_name or "file").encode("ascii", "replace").decode()
            safe = re.sub(r"[^\w.-]", "_", name)
            headers["Content-Disposition"] = f'attachment; filename="{safe}"'
        return web.Response(body=stored.content, content_type=kind, headers=headers)
