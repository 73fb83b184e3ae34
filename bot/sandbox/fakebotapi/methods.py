"""The Bot API methods one bot account answers: validation, sending, editing, chats, commands.

:class:`FakeBot` maps each method name to an ``_api_*`` coroutine (:attr:`FakeBot.handlers`);
each checks its parameters as Telegram does (answering 400 / 403 and recording a violation),
then changes the world (``world``). Flavour differences are asked of ``platforms``; Bale has no
``setMyCommands`` family. Tests also create their chats here (:meth:`FakeBot.private_chat`).
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from bot.sandbox.fakebotapi.people import FakeGroup, FakeUser
from bot.sandbox.fakebotapi.platforms import (
    _BALE_HTML,
    _HTML_TAG,
    _NOT_MODIFIED,
    DOWNLOAD_LIMIT,
    FILE_UPLOAD_LIMIT,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    PHOTO_UPLOAD_LIMIT,
    Json,
    _html_error,
    _utf16_len,
    administrator_json,
    edit_answer_body,
)
from bot.sandbox.fakebotapi.world import ApiError, BotState, SentMessage, Upload, _Chat, _StoredFile

Handler = Callable[[Json, dict[str, Upload]], Awaitable[Any]]

# fmt: off
_MEDIA_KEYS = ("photo", "document", "voice", "video", "audio", "animation", "sticker",
               "video_note", "location", "contact")
_SEND_MEDIA = {
    "sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice", "sendVideo": "video",
    "sendAudio": "audio", "sendAnimation": "animation", "sendSticker": "sticker",
    "sendVideoNote": "video_note",
}
# fmt: on


def _to_int(value: Any, name: str) -> int:
    """Convert a required integer parameter or answer 400."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid or missing {name}") from None


def _other_than(update_id: int, update: Json) -> bool:
    """Keep every update but this one (a webhook's 2xx confirms it alone)."""
    return bool(update["update_id"] != update_id)


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


class FakeBot(BotState):
    """One bot account (token) on the fake server: its state and the Bot API methods it answers."""

    def __init__(self, token: str, flavour: str, username: str, first_update_id: int = 1) -> None:
        """Create the bot; use :meth:`FakeBotAPI.add_bot` instead."""
        super().__init__(token, flavour, username, first_update_id)
        self._senders: dict[int, FakeUser | FakeGroup] = {}
        # fmt: off
        self.handlers: dict[str, Handler] = {
            "getMe": self._api_get_me, "getUpdates": self._api_get_updates,
            "setWebhook": self._api_set_webhook, "deleteWebhook": self._api_delete_webhook,
            "getWebhookInfo": self._api_get_webhook_info,
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
        # webhook delivery (setWebhook): the updates are POSTed to `webhook_url` in order, each
        # until the bot answers 2xx (as Telegram retries), instead of waiting for getUpdates
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_retry = 0.05  # seconds before the first retry of a refused update; doubles
        self.webhook_retry_max = 1.0
        self.webhook_verify_tls = True  # False: a test's self-signed certificate is taken
        self.webhook_posts: list[tuple[int, int]] = []  # (update id, HTTP status; 0: no answer)
        self.webhook_error: tuple[int, str] | None = None  # (unix time, message) of the last
        self._webhook_task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- the tests' chats
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

    # ----------------------------------------------------------------- checks
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
        """getWebhookInfo as Telegram answers it (the url empty without a webhook; the last
        delivery error while there is one)."""
        info: Json = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            info["ip_address"] = "127.0.0.1"
            if self.webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    async def _api_set_webhook(self, p: Json, up: dict[str, Upload]) -> bool:
        """setWebhook: `url` (empty: removed); Telegram's `secret_token` is sent back in the
        X-Telegram-Bot-Api-Secret-Token header of every update (Bale's setWebhook takes the url
        alone: a secret_token there is not sent back)."""
        url = str(p.get("url") or "")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise self._reject("setWebhook", 400, "Bad Request: secret token contains unallowed "
                               "characters")  # fmt: skip
        if url and not url.startswith(("https://", "http://")):
            raise self._reject("setWebhook", 400, "Bad Request: bad webhook: An HTTPS URL must "
                               "be provided for webhook")  # fmt: skip
        if p.get("drop_pending_updates") in (True, "true", "True"):
            self._confirm(lambda u: False)
        self.webhook_url = url
        self.webhook_secret = None if self.is_bale or secret is None else str(secret)
        self.webhook_error = None
        if url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._post_updates())
        await self._notify()
        return True

    async def _api_delete_webhook(self, p: Json, up: dict[str, Upload]) -> bool:
        """deleteWebhook: getUpdates works again; `drop_pending_updates` drops what waits."""
        if p.get("drop_pending_updates") in (True, "true", "True"):
            self._confirm(lambda u: False)
        self.webhook_url, self.webhook_secret, self.webhook_error = "", None, None
        await self._notify()
        return True

    async def _post_updates(self) -> None:
        """Webhook delivery: each pending update POSTed in order; a 2xx confirms it, anything
        else (or no answer) is retried after a growing pause, as Telegram does."""
        import aiohttp  # the fake's client side: only a bot with a webhook needs one

        delay = self.webhook_retry
        async with aiohttp.ClientSession() as session:
            while True:
                await self._wait(
                    lambda: self._closing or not self.webhook_url or bool(self._updates), 3600
                )
                if self._closing or not self.webhook_url:
                    return
                update = self._updates[0]
                headers = {}
                if self.webhook_secret is not None:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
                status = 0
                try:
                    async with session.post(
                        self.webhook_url, json=update, headers=headers,
                        timeout=aiohttp.ClientTimeout(total=10),
                        ssl=self.webhook_verify_tls,
                    ) as answer:  # fmt: skip
                        status = answer.status
                        await answer.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {type(exc).__name__}"
                else:
                    error = f"Wrong response from the webhook: {status}"
                self.webhook_posts.append((update["update_id"], status))
                if 200 <= status < 300:
                    delay = self.webhook_retry
                    self._confirm(partial(_other_than, update["update_id"]))
                    await self._notify()
                    continue
                self.webhook_error = (int(time.time()), error)
                await asyncio.sleep(delay)
                delay = min(self.webhook_retry_max, delay * 2)

    async def _stop_webhook(self) -> None:
        """Stop posting (the server stops)."""
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _api_get_updates(self, p: Json, up: dict[str, Upload]) -> list[Json]:
        """getUpdates: confirm by offset, then long-poll up to `timeout` seconds; refused while
        a webhook is set, as Telegram refuses it."""
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                           "use deleteWebhook to delete the webhook first")  # fmt: skip
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
        return edit_answer_body(shape, sent.result)

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
        return administrator_json(
            self.is_bale, user, creator=user_id == chat.owner, anonymous=anonymous
        )

    async def _api_leave_chat(self, p: Json, up: dict[str, Upload]) -> bool:
        """leaveChat (later sends to the chat answer 403)."""
        self._chat_of("leaveChat", p.get("chat_id"), check_access=False).left = True
        return True

    async def _api_set_commands(self, p: Json, up: dict[str, Upload]) -> bool:
        """setMyCommands (Telegram only), per scope: `default`, `all_private_chats`,
        `all_group_chats`, … (a chat-bound scope is not modelled and refused)."""
        scope = self._scope_of(p)
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise self._reject("setMyCommands", 400, "Bad Request: commands must be a list")
        for command in commands:
            name, description = str(command.get("command", "")), str(command.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 1 <= len(description) <= 256:
                raise self._reject("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = commands
        self.scoped_commands[scope] = commands
        return True

    def _scope_of(self, p: Json) -> str:
        scope = p.get("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in ("default", "all_private_chats", "all_group_chats",
                        "all_chat_administrators"):  # fmt: skip
            raise self._reject("setMyCommands", 400, "Bad Request: BOT_COMMAND_SCOPE_INVALID")
        return str(kind)

    async def _api_delete_commands(self, p: Json, up: dict[str, Upload]) -> bool:
        """deleteMyCommands (Telegram only)."""
        self.scoped_commands.pop(self._scope_of(p), None)
        self.commands = []
        return True

    async def _api_get_commands(self, p: Json, up: dict[str, Upload]) -> list[Json]:
        """getMyCommands (Telegram only)."""
        return self.scoped_commands.get(self._scope_of(p), [])
