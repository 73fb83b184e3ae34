"""The test-facing actors: a citizen in a private chat, a group and its members, a channel.

Tests play people through these: ``user.send("سلام")``, ``user.click("ثبت شکایت")``,
``user.send_photo()``, ``group.as_admin(7).send(...)``; each returns what the bot sent to that
chat while it handled the update. Start at :meth:`_Sender.send` and :meth:`_Sender.click`.
They are created by ``FakeBot.private_chat`` / ``group_chat`` / ``channel_chat`` (``methods``).
"""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.fakebotapi.platforms import CHANNEL_BOT, GROUP_ANONYMOUS_BOT, Json, _utf16_len
from bot.sandbox.fakebotapi.world import BotState, SentMessage, _Chat


class _Sender:
    """Sends updates into one chat as one user, and inspects what the bot sent there."""

    def __init__(self, bot: BotState, chat: _Chat, user: Json) -> None:
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
        self,
        size: int = 8_000,
        duration: int = 3,
        timeout: float = 10,
        caption: str | None = None,
        reply_to: SentMessage | int | None = None,
    ) -> list[SentMessage]:
        """Send a voice note (Bale omits "duration")."""
        extra = {"caption": caption} if caption else {}
        return await self._send_file(
            "voice", size, None, extra, timeout, reply_to, duration=duration
        )

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

    def __init__(self, bot: BotState, chat: _Chat) -> None:
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
