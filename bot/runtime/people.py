"""Who acts in a group, as the messengers say: getChatAdministrators on both platforms, and the
sender of a message or a press turned into a `desk.people.Person`.

getChatAdministrators is read as raw JSON, not as aiogram's ChatMember models: Bale's
administrators come with only some of the `can_*` flags and its creator with `status` and `user`
alone (Balethon's and python-bale-bot's ChatMember: every field but those two optional), which
aiogram's strict ChatMemberAdministrator refuses. Only `status` and `user.id` are needed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Message, User

from bot.conversations.common import name_of
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot
from bot.ui import texts
from desk.model import Actor, ChatRef, Platform
from desk.people import AdminsUnavailable, ChatAdmin, Person, Standing

log = logging.getLogger(__name__)

# Telegram's stand-ins for people who write as someone else: an anonymous administrator
# (@GroupAnonymousBot), a message sent as a channel (@Channel_Bot), a channel's automatic
# forward into its discussion group (777000). None of them says who the person is.
GROUP_ANONYMOUS_BOT = 1087968824
CHANNEL_BOT = 136817688
TELEGRAM_SERVICE = 777000
STAND_INS = frozenset({GROUP_ANONYMOUS_BOT, CHANNEL_BOT, TELEGRAM_SERVICE})
ADMIN_STATUSES = frozenset({"creator", "administrator"})
# seconds a handler waits for the list (passing failures retried meanwhile by the bot's
# RetryRequests) before using the last one known
LOOKUP_TIMEOUT = 5.0


class GetChatAdministratorsRaw(TelegramMethod[list[dict[str, Any]]]):
    """getChatAdministrators with its answer kept as plain JSON objects."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getChatAdministrators"

    chat_id: int


def admins_of(result: list[Any]) -> list[ChatAdmin]:
    """The people among a getChatAdministrators answer: entries with a user id whose status is
    creator or administrator (a missing status counts as administrator: the method lists
    nothing else); bots, the bot itself included, are left out."""
    admins: list[ChatAdmin] = []
    for entry in result:
        user = entry.get("user") if isinstance(entry, dict) else None
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            continue
        status = str(entry.get("status") or "administrator")
        if status not in ADMIN_STATUSES or user.get("is_bot") is True:
            continue
        name = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip()
        admins.append(ChatAdmin(int(user["id"]), name or str(user.get("username") or ""), status))
    return admins


class BotAdmins:
    """desk.people.AdminSource over the running bots, one per platform."""

    def __init__(self, bots: dict[Platform, PlatformBot], timeout: float = LOOKUP_TIMEOUT) -> None:
        self.bots = bots
        self.timeout = timeout

    async def administrators(self, chat: ChatRef) -> list[ChatAdmin]:
        """Ask the chat's messenger; any failure (or a slow answer) is AdminsUnavailable."""
        bot = self.bots.get(chat.platform)
        if bot is None:
            raise AdminsUnavailable(f"no {chat.platform.value} bot")
        try:
            result = await asyncio.wait_for(
                bot(GetChatAdministratorsRaw(chat_id=chat.chat_id)), self.timeout
            )
        except Exception as exc:  # network, 4xx, 5xx, a held group, a timeout: all the same here
            raise AdminsUnavailable(type(exc).__name__) from exc
        return admins_of(result if isinstance(result, list) else [])


def person_of(event: Message | CallbackQuery, platform: Platform) -> Person:
    """Who acts: a press's presser; a message's sender, anonymous when it is sent as a chat
    (an anonymous administrator, a channel) or by one of Telegram's stand-ins."""
    user: User | None = event.from_user
    actor = Actor(platform, user.id, name_of(user)) if user is not None else Actor(platform, 0)
    if isinstance(event, CallbackQuery):
        return Person(actor, anonymous=user is None)
    anonymous = (
        user is None
        or event.sender_chat is not None
        or (platform is Platform.TELEGRAM and user.id in STAND_INS)
    )
    return Person(actor, anonymous=anonymous)


async def standing_of(event: Message | CallbackQuery, chat: ChatRef, deps: Deps) -> Standing:
    """What the sender of an event is in a group (nobody, without a roster)."""
    return await _standing(person_of(event, chat.platform), chat, deps)


async def _standing(person: Person, chat: ChatRef, deps: Deps) -> Standing:
    if deps.roster is None:
        return Standing.ANONYMOUS if person.anonymous else Standing.NOBODY
    return await deps.roster.standing(chat, person)


def confirm_waits(budget: float) -> list[float]:
    """The pauses before asking the messenger again about someone it could not confirm:
    2, 4, 8 … seconds, `budget` (STAFF_CONFIRM_SECONDS) in all."""
    waits: list[float] = []
    step = 2.0
    while sum(waits) < budget:
        waits.append(min(step, budget - sum(waits)))
        step *= 2
    return waits


async def staff_or_notice(
    event: Message | CallbackQuery, chat: ChatRef, deps: Deps, *, notice: str = texts.STAFF_ONLY
) -> Person | None:
    """The person acting, when they are staff of the group; otherwise a short polite notice
    (an alert for a press; a reply for a message, at most once per person and group in ten
    minutes across every worker: `Deps.refusals`), a log line, and None: nothing else happens."""
    person = person_of(event, chat.platform)
    standing = await _standing(person, chat, deps)
    for pause in confirm_waits(deps.staff_confirm_seconds):
        # the messenger did not say who the administrators are: a new administrator's answer
        # must not be lost to a passing outage, so the group's own queue waits and asks again
        if standing is not Standing.UNCONFIRMED or deps.roster is None:
            break
        await asyncio.sleep(pause)
        standing = await deps.roster.confirm(chat, person)
    if standing.is_staff:
        return person
    what = "press" if isinstance(event, CallbackQuery) else "message"
    log.warning(
        "%s in %s:%s refused: user %s is not staff (%s)",
        what, chat.platform.value, chat.chat_id, person.actor.user_id, standing.value,
    )  # fmt: skip
    text = {
        Standing.ANONYMOUS: texts.STAFF_ANONYMOUS,
        Standing.UNCONFIRMED: texts.STAFF_UNCONFIRMED,
    }.get(standing, notice)
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif standing is Standing.UNCONFIRMED or await deps.refusals.due(chat, person.actor.user_id):
        await event.reply(text)
    return None
