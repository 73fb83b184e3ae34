"""Data retention: citizens' personal data leaves finished, old requests; the statistics stay.

A request is *past retention* when it can no longer change in a way that needs the citizen:
it is closed, or answered and past the 7 days in which it could be reopened, and it has not
changed for N days (`updated_at`, so a late rating restarts the count). Open requests are never
touched.

From such a request the name, phone, national code and attachments (file ids, locations) are
removed, an «anonymised» event records which fields went, and the outbox rows of that request
that are finished (sent or given up on) are deleted, since they may carry copies of attachments
and of the messages exchanged. Kept: the tracking code, kind, status, unit, topic, county, the
text and the answer (the organisation's record), dates, deadline, rating, reopen count, events,
message links and the chat id (the citizen still finds the request under «درخواست‌های من»).

The name and phone remembered for a returning citizen (offered as «همان قبلی» at the next
filing) go too when the account's last filing with them is older than N days.

Running it again changes nothing: a request without personal data is left alone, and its
finished outbox rows are already gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from desk.model import Event
from desk.ports import Clock
from desk.staff import REOPEN_WINDOW

PERSONAL_FIELDS = ("name", "phone", "national_code", "attachments")
ACTION = "anonymised"
ACTOR = "retention"


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Which requests are past retention."""

    changed_before: datetime  # closed or answered, and nothing changed since
    answered_before: datetime  # answered ones: no longer reopenable


@dataclass(frozen=True, slots=True)
class Holding:
    """The personal data one request past retention still holds."""

    code: str
    fields: tuple[str, ...]  # a subset of PERSONAL_FIELDS, in that order
    files: int = 0  # how many attachments


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What a run removed, or would remove with `dry_run`."""

    cutoff: Cutoff
    past: int  # requests past retention, with or without personal data
    holdings: tuple[Holding, ...]
    notices: int  # finished outbox rows of requests past retention
    dry_run: bool
    remembered: int = 0  # accounts whose remembered name and phone were last given before it

    def count(self, field: str) -> int:
        """How many requests hold this field."""
        return sum(field in h.fields for h in self.holdings)

    @property
    def files(self) -> int:
        """Attachments in all."""
        return sum(h.files for h in self.holdings)


class RetentionStore(Protocol):
    """One transaction over the requests past retention."""

    async def __aenter__(self) -> Self:
        """Open the transaction."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""

    async def count_past(self, cutoff: Cutoff) -> int:
        """How many requests are past retention."""

    async def holdings(self, cutoff: Cutoff) -> list[Holding]:
        """Requests past retention that still hold personal data, oldest first."""

    async def count_finished_notices(self, cutoff: Cutoff) -> int:
        """Sent or failed outbox rows of requests past retention."""

    async def erase(self, codes: list[str]) -> None:
        """Clear the personal fields of these (closed or answered) requests."""

    async def add_event(self, event: Event) -> None:
        """Append to a request's audit trail."""

    async def delete_finished_notices(self, cutoff: Cutoff) -> int:
        """Delete sent or failed outbox rows of requests past retention; returns how many."""

    async def count_remembered(self, before: datetime) -> int:
        """Accounts whose remembered details were last given before `before`."""

    async def forget_remembered(self, before: datetime) -> int:
        """Erase those details; how many accounts."""

    async def commit(self) -> None:
        """Make the changes durable."""


RetentionStoreFactory = Callable[[], RetentionStore]


def cutoff(now: datetime, older_than_days: int) -> Cutoff:
    """The cutoff of a run at `now`."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    return Cutoff(now - timedelta(days=older_than_days), now - REOPEN_WINDOW)


async def apply(
    store: RetentionStoreFactory, *, clock: Clock, older_than_days: int, dry_run: bool = False
) -> RetentionReport:
    """Remove personal data from requests past retention (or only say what, with `dry_run`)."""
    now = clock.now()
    limit = cutoff(now, older_than_days)
    async with store() as tx:
        past = await tx.count_past(limit)
        holdings = tuple(h for h in await tx.holdings(limit) if h.fields)
        notices = await tx.count_finished_notices(limit)
        remembered = await tx.count_remembered(limit.changed_before)
        report = RetentionReport(limit, past, holdings, notices, dry_run, remembered)
        if dry_run:
            return report
        await tx.erase([h.code for h in holdings])
        for holding in holdings:
            note = ", ".join(
                f"attachments ({holding.files})" if field == "attachments" else field
                for field in holding.fields
            )
            await tx.add_event(Event(holding.code, ACTION, now, ACTOR, note=note))
        deleted = await tx.delete_finished_notices(limit)
        forgotten = await tx.forget_remembered(limit.changed_before)
        await tx.commit()
    return RetentionReport(limit, past, holdings, deleted, dry_run, forgotten)
