"""Telegram vs Bale: the two flavours, their limits and text rules, and the answers that differ.

Start with :func:`edit_answer_body` and :func:`_with_bale_quirks`: what a real Bale answers where
Telegram answers otherwise (a ``{"message_id": 0}`` stub for an edit, messages without
``file_unique_id`` and ``chat.type``, shorter administrator records). The text rules
(:func:`_html_error`, the length limits) are Telegram's; Bale gets no HTML, and the fake records
a violation when the bot sends some. Nothing here holds state: the methods in ``methods`` ask.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

Json = dict[str, Any]  # a Bot API object, as JSON

TELEGRAM = "telegram"
BALE = "bale"
MB = 1024 * 1024
PHOTO_UPLOAD_LIMIT = 10 * MB
FILE_UPLOAD_LIMIT = 50 * MB
DOWNLOAD_LIMIT = 20 * MB
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
EDIT_ANSWERS = ("message", "true", "stub", "null", "random")
GROUP_ANONYMOUS_BOT = 1087968824  # Telegram's sender of an anonymous administrator's messages
CHANNEL_BOT = 136817688  # Telegram's sender of messages sent on behalf of a channel

# fmt: off
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)([^<>]*)>")
_TG_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a", "tg-spoiler",
    "span", "blockquote", "tg-emoji",
})
_BALE_HTML = re.compile(
    r"</?(?:b|i|u|s|a|code|pre|strong|em|ins|del|strike|span|tg-spoiler|blockquote)(?:\s[^>]*)?>",
    re.IGNORECASE,
)
# fmt: on
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


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


def edit_answer_body(shape: str, message: Json) -> Any:
    """What a successful edit answers in a shape: "message" (the edited message, Telegram's),
    "true", "stub" (``{"message_id": 0}``, seen from Bale) or "null"."""
    if shape == "true":
        return True
    if shape == "stub":
        return {"message_id": 0}
    if shape == "null":
        return None
    return {**message, "edit_date": int(time.time())}


def administrator_json(bale: bool, user: Json, *, creator: bool, anonymous: bool) -> Json:
    """One getChatAdministrators entry as the flavour lists it: Telegram's ChatMemberOwner /
    ChatMemberAdministrator with every right; Bale's creator with only `status` and `user`, and
    administrators with some `can_*` flags, no `is_anonymous`."""
    if creator:
        if bale:
            return {"status": "creator", "user": user}
        return {"status": "creator", "user": user, "is_anonymous": anonymous}
    if bale:
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
