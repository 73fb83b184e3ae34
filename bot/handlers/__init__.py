"""All routers, included in one explicit order."""

from __future__ import annotations

from aiogram import Router

from bot.conversations import common, complaint, head, suggestion, survey
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


def build_router() -> Router:
    """The root router. Order matters: who is staff (/staff, /unstaff, /staff_list) first, so a
    /staff replying to a card is never taken for an answer; then staff groups (their own filter),
    then cancel and /start mid-way before any conversation step, the flows, follow-ups, the
    citizen menu, and last the catch-all for unexpected button presses."""
    root = Router(name="root")
    root.include_routers(
        errors.router.router(),
        grants.router.router(),
        staff.router.router(),
        admin.router.router(),
        common.router.router(),
        complaint.router.router(),
        suggestion.router.router(),
        head.router.router(),
        survey.router.router(),
        followup.router.router(),
        drafts.router.router(),
        directory.router.router(),
        citizen.router.router(),
        fallback.router.router(),
    )
    return root
