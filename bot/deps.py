"""What handlers need from the application, injected by the dispatcher as `deps`."""

from __future__ import annotations

from dataclasses import dataclass

from desk.ports import Clock, UnitOfWorkFactory
from desk.routing import RoutingRules


@dataclass(frozen=True, slots=True)
class Deps:
    """The composition root hands this to every handler."""

    uow: UnitOfWorkFactory
    rules: RoutingRules
    clock: Clock
