"""All routers, included in one explicit order: errors, conversation control, flows, citizen."""

from __future__ import annotations

from aiogram import Router

from bot.conversations import common, complaint, head, suggestion, survey
from bot.handlers import citizen, errors


def build_router() -> Router:
    """The root router; order matters: cancel and /start mid-way come before any step."""
    root = Router(name="root")
    root.include_routers(
        errors.router.router(),
        common.router.router(),
        complaint.router.router(),
        suggestion.router.router(),
        head.router.router(),
        survey.router.router(),
        citizen.router.router(),
    )
    return root
