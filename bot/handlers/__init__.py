"""Every router of the bot, built afresh and included in one explicit order."""

from __future__ import annotations

from aiogram import Router

from bot.conversations import common, complaint, head, publish, suggestion, survey
from bot.conversations.common import Prompts
from bot.handlers import (
    admin,
    citizen,
    directory,
    drafts,
    errors,
    fallback,
    followup,
    grants,
    staff,
)


def build_router() -> tuple[Router, Prompts]:
    """The root router, and the questions of its conversations' states (the dispatcher hands
    them to the handlers as `prompts`).

    Order matters: who is staff (/staff, /unstaff, /staff_list) first, so a /staff replying to a
    card is never taken for an answer; then staff groups and admin chats (their own filters; an
    admin command before a /publish step, the outsiders' notices last); then cancel and /start
    mid-way before any conversation step, the flows, follow-ups, the citizen menu, and last the
    catch-all for unexpected button presses."""
    flows = [
        complaint.flow(),
        suggestion.flow(),
        head.flow(),
        survey.flow(),
        followup.flow(),
        drafts.flow(),
        directory.flow(),
        citizen.flow(),
    ]
    root = Router(name="root")
    root.include_routers(
        errors.router(),
        grants.router(),
        staff.router(),
        admin.router(),
        publish.router(),
        admin.outsiders_router(),
        common.router(),
        *(flow.router for flow in flows),  # the citizen menu's last
        fallback.router(),
    )
    return root, Prompts(*flows)
