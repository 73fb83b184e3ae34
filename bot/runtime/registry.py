"""Handler registrations collected at import time and replayed onto fresh Routers.

aiogram lets a Router belong to one parent only, so module-level routers would tie a module
to a single Dispatcher for the life of the process. Tests (and restarts within one process)
build the dispatcher again and again, so each build gets fresh Routers from the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import F, Router

Handler = Callable[..., Any]


class Handlers:
    """Decorators like a Router's; `router()` builds a new Router with every handler on it."""

    def __init__(self, name: str, *, private_only: bool = False) -> None:
        self.name = name
        self.private_only = private_only
        self._registrations: list[tuple[str, Handler, tuple[Any, ...], dict[str, Any]]] = []

    def _collect(self, observer: str, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._registrations.append((observer, handler, filters, kwargs))
            return handler

        return register

    def message(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Register a message handler."""
        return self._collect("message", *filters, **kwargs)

    def callback_query(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Register a callback-query handler."""
        return self._collect("callback_query", *filters, **kwargs)

    def errors(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Register an error handler."""
        return self._collect("errors", *filters, **kwargs)

    def router(self) -> Router:
        """A fresh Router carrying every registered handler, in registration order."""
        router = Router(name=self.name)
        if self.private_only:
            router.message.filter(F.chat.type == "private")
            router.callback_query.filter(F.message.chat.type == "private")
        for observer, handler, filters, kwargs in self._registrations:
            getattr(router, observer).register(handler, *filters, **kwargs)
        return router
