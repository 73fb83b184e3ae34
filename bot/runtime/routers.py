"""The one audience filter every citizen router shares: private chats only.

Each module of bot/handlers and bot/conversations builds its own plain aiogram Router in a
factory, its audience filter set once on it, and bot/handlers.build_router includes them in one
explicit order. A factory makes a new Router each time it is called: aiogram lets a Router
belong to one parent only, and tests (and restarts within one process) build the dispatcher
again and again.
"""

from __future__ import annotations

from aiogram import F, Router


def private_router(name: str) -> Router:
    """A Router whose messages and presses all come from private chats."""
    router = Router(name=name)
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    return router
