"""What handlers need from the application, injected by the dispatcher as `deps`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.ports import DraftFiles, ExportQueries, MessageLinks, NoLinks
from bot.runtime.boundary import Verdict
from bot.runtime.limits import OncePerGroupMember
from bot.runtime.middlewares import current_update_key
from desk.directory import Directory
from desk.model import Platform
from desk.people import Roster
from desk.ports import Clock, UnitOfWorkFactory
from desk.routing import RoutingRules
from desk.services import LookupWatch, Quotas
from desk.staff import Desk


@dataclass(frozen=True, slots=True)
class Deps:
    """The composition root hands this to every handler."""

    uow: UnitOfWorkFactory
    rules: RoutingRules
    clock: Clock
    wake_delivery: Callable[[], None] = field(default=lambda: None)
    links: MessageLinks = field(default_factory=NoLinks)  # which request a message belongs to
    delivery: DraftFiles | None = None  # a draft's files, by file id once uploaded per platform
    exports: ExportQueries | None = None  # what an export of a period reads
    directory: Directory | None = None  # «تماس با ما»: loaded from DIRECTORY_FILE at start
    quotas: Quotas = field(default_factory=Quotas)  # FILINGS_PER_HOUR, … (off unless given)
    roster: Roster | None = None  # who is staff in a group; without one, nobody is
    # a refused message in a group is answered once per person and group in ten minutes
    # (across every worker when the composition root gives it Redis)
    refusals: OncePerGroupMember = field(
        default_factory=lambda: OncePerGroupMember("refusal", 600.0)
    )
    # a staff or admin group found refusing the bot by a handler's own reply: held, and the
    # admin chats told (the delivery worker's `hold_group`); None: only logged
    group_refused: Callable[[Platform, int, Verdict], Awaitable[None]] | None = None
    staff_confirm_seconds: float = 60.0  # STAFF_CONFIRM_SECONDS
    failed_lookups_alert: int = 0  # FAILED_LOOKUPS_ALERT (off unless given)

    @property
    def lookup_watch(self) -> LookupWatch:
        """When the admins hear of a wave of failed look-ups, and where."""
        return LookupWatch(self.failed_lookups_alert, self.rules.admins)

    @property
    def desk(self) -> Desk:
        """The collaborators of the staff-side use cases."""
        return Desk(self.uow, self.rules, self.clock, self.quotas, current_update_key)
