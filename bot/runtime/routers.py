"""The one audience filter every citizen router shares: private chats only.

Each module of bot/handlers and bot/conversations builds its own plain aiogram Router in a
factory, its audience filter set once on it, and bot/handlers.build_router includes them in one
explicit order. A factory makes a new Router each time it is called: aiogram lets a Router
belong to one parent only. Building the tree costs 25-30 ms of CPU, so a closed app gives it
back for the next dispatcher of the process (`bot.handlers.lend_router`, `give_back`).
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router


def private_router(name: str) -> Router:
    """A Router whose messages and presses all come from private chats."""
    router = Router(name=name)
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    return router


def filters_on_the_loop(root: Router) -> int:
    """Run every plain (non-coroutine) filter of `root`'s tree on the event loop; returns how
    many were changed.

    aiogram calls a filter that is not a coroutine, such as every `F.…` magic filter (the
    private-chat filter above included), through `asyncio.to_thread`: a round trip to a worker
    thread per filter per update, about 40 for one /start. Ours only read attributes of the
    update, so a thread buys nothing and costs a hand-off each way. Handlers are untouched
    (ours are all coroutines). Call once, after every router is included."""
    changed = 0
    for router in root.chain_tail:
        for observer in router.observers.values():
            holders = [observer._handler, *observer.handlers]  # _handler: router-level filters
            for holder in holders:
                for filter_object in holder.filters or ():
                    if not filter_object.awaitable:
                        filter_object.callback = _on_the_loop(filter_object.callback)
                        filter_object.awaitable = True
                        changed += 1
    return changed


def _on_the_loop(check: Any) -> Any:
    """A coroutine function calling the plain filter `check` (same arguments)."""

    async def run(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return run
