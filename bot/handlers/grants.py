"""Who is staff, managed in the group itself: an administrator replies `/staff` to a member's
message to make them staff, `/unstaff` to take it back; `/staff_list` shows everyone who is;
`/help` tells the group's staff what they (and, in an admin group, the admins) can do.

Served in every unit group and admin group of routing_rules.yaml (groups only). Grants are
stored (desk.people.Roster, storage `staff_grants`), logged, and revokes kept for the audit.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import BaseFilter, Command
from aiogram.types import Message

from bot.conversations.common import name_of
from bot.deps import Deps
from bot.handlers.admin import admin_group
from bot.runtime.people import person_of, staff_or_notice
from bot.runtime.platforms import PlatformBot, Raw, Renderer
from bot.ui import texts
from bot.ui.report_text import line_messages
from desk.model import Actor, ChatRef
from desk.people import GrantError


def _staff_group(message: Message, bot: PlatformBot, deps: Deps) -> ChatRef | None:
    """A unit's group or an admin group of the routing rules (`admin_group` logs a private
    chat listed as an admin chat, once)."""
    in_group = message.chat.type in ("group", "supergroup")
    if in_group and deps.rules.unit_for_chat(bot.platform, message.chat.id) is not None:
        return ChatRef(bot.platform, message.chat.id)
    return admin_group(message, bot.platform, deps)


class StaffGroup(BaseFilter):
    """Passes messages in a unit's group or an admin group; injects `group_chat`."""

    async def __call__(
        self, message: Message, bot: PlatformBot, deps: Deps
    ) -> bool | dict[str, Any]:
        """Check the chat against routing_rules.yaml."""
        chat = _staff_group(message, bot, deps)
        return False if chat is None else {"group_chat": chat}


def _member(message: Message, bot: PlatformBot) -> tuple[Actor, bool] | str:
    """The member whose message was replied to (and whether a bot), or why there is none."""
    replied = message.reply_to_message
    # in a forum's topic every message "replies" to the topic's first (service) message: a
    # bare /staff there names nobody, it does not make the topic's creator staff
    topic_root = replied is not None and (
        replied.forum_topic_created is not None
        or (message.is_topic_message is True and replied.message_id == message.message_thread_id)
    )
    if replied is None or topic_root:
        return "how"
    person = person_of(replied, bot.platform)
    if person.anonymous or replied.from_user is None:
        return "nameless"
    user = replied.from_user
    return Actor(bot.platform, user.id, name_of(user)), user.is_bot or user.id == bot.id


def _shown(name: str) -> str:
    return name or texts.STAFF_NAMELESS


async def _change(
    message: Message, chat: ChatRef, deps: Deps, ui: Renderer, bot: PlatformBot, *, grant: bool
) -> None:
    if deps.roster is None:
        return
    command = "/staff" if grant else "/unstaff"
    member = _member(message, bot)
    if isinstance(member, str):
        if member == "how":
            await message.reply(ui.fmt(texts.STAFF_GRANT_HOW, command=Raw(ui.code(command))))
        else:
            await message.reply(texts.STAFF_GRANT_ERRORS[member])
        return
    actor, is_bot = member
    by = person_of(message, bot.platform)
    try:
        if grant:
            await deps.roster.grant(chat, by=by, member=actor, is_bot=is_bot)
        else:
            await deps.roster.revoke(chat, by=by, member=actor)
    except GrantError as exc:
        await message.reply(ui.fmt(texts.STAFF_GRANT_ERRORS[exc.reason], name=_shown(actor.name)))
        return
    done = texts.STAFF_GRANTED if grant else texts.STAFF_REVOKED
    await message.reply(ui.fmt(done, name=_shown(actor.name), by=_shown(by.actor.name)))


async def staff_grant(
    message: Message, group_chat: ChatRef, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """An administrator's `/staff`, replying to a member's message: the member is staff now."""
    await _change(message, group_chat, deps, ui, bot, grant=True)


async def staff_revoke(
    message: Message, group_chat: ChatRef, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """An administrator's `/unstaff`, replying to a granted member's message: no longer staff."""
    await _change(message, group_chat, deps, ui, bot, grant=False)


async def staff_list(message: Message, group_chat: ChatRef, deps: Deps, ui: Renderer) -> None:
    """Everyone who is staff of this group: its administrators (asked afresh) and the granted."""
    chat = group_chat
    if deps.roster is None:
        return
    if await staff_or_notice(message, chat, deps) is None:
        return
    admins, grants = await deps.roster.staff(chat)
    admin_ids = {a.user_id for a in admins}
    lines = [ui.bold(texts.STAFF_LIST_TITLE), "", texts.STAFF_LIST_ADMINS]
    lines += [ui.fmt(texts.STAFF_LIST_LINE, name=_shown(a.name)) for a in admins] or [
        texts.STAFF_LIST_NO_ADMINS
    ]
    lines += ["", texts.STAFF_LIST_GRANTED]
    lines += [
        ui.fmt(texts.STAFF_LIST_GRANT_LINE, name=_shown(g.name), by=_by_name(g.granted_by))
        + (texts.STAFF_LIST_ALSO_ADMIN if g.user_id in admin_ids else "")
        for g in grants
    ] or [texts.STAFF_LIST_NONE]
    for chunk in line_messages(lines, 4000):
        await message.reply(chunk)


async def help_command(message: Message, group_chat: ChatRef, deps: Deps, ui: Renderer) -> None:
    """`/help`, for the group's staff only: what staff do on cards (a unit's group) or the
    admin commands (an admin group), and who is staff."""
    if await staff_or_notice(message, group_chat, deps) is None:
        return
    if group_chat.chat_id in deps.rules.admins.get(group_chat.platform, frozenset()):
        what = ui.fmt(texts.HELP_ADMIN)
    else:
        what = ui.fmt(texts.HELP_STAFF, claim=texts.BTN_CLAIM, transfer=texts.BTN_TRANSFER,
                      ask=texts.BTN_ASK, close=texts.BTN_CLOSE,
                      templates=texts.BTN_TEMPLATES)  # fmt: skip
    await message.reply(f"{what}\n\n{ui.fmt(texts.HELP_PEOPLE)}")


def _by_name(label: str) -> str:
    """The name in an Actor.label ('telegram:1 (name)'), else the label."""
    head, _, rest = label.partition(" (")
    return rest[:-1] if rest.endswith(")") else head


def router() -> Router:
    """Who is staff, in every unit group and admin group: `StaffGroup` set once on the router."""
    router = Router(name="grants")
    router.message.filter(StaffGroup())
    router.message.register(staff_grant, Command("staff"))
    router.message.register(staff_revoke, Command("unstaff"))
    router.message.register(staff_list, Command("staff_list"))
    router.message.register(help_command, Command("help"))
    return router
