"""Who is staff in a group: its administrators, as the messenger lists them, and the members
an administrator granted. A chat id alone authorises nobody.

The administrators are asked of the messenger (`AdminSource`) and kept for `ttl` seconds.
Someone not in the list who acts makes the roster ask once more before refusing (a freshly
promoted administrator works at once); such refreshes are at most one per person and chat every
`refresh_gap` seconds, so a stranger pressing buttons cannot make the bot hammer the messenger.
When the messenger does not answer, the last list known stays in force; a chat whose list was
never known has only its granted members. Nobody is let through for want of an answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from desk.model import Actor, ChatRef
from desk.ports import Clock

log = logging.getLogger(__name__)

ADMINS_TTL = 300.0  # seconds a group's list of administrators is trusted
REFRESH_GAP = 2.0  # seconds between two refreshes caused by one person's refusals in a chat
RETRY_AFTER_FAILURE = 30.0  # seconds before a list that could not be fetched is asked again


@dataclass(frozen=True, slots=True)
class ChatAdmin:
    """An administrator of a group as the messenger lists them."""

    user_id: int
    name: str = ""
    status: str = "administrator"  # "creator" or "administrator"


@dataclass(frozen=True, slots=True)
class Person:
    """Who acts in a group. `anonymous` is an administrator writing as the group, or a
    message sent as a channel: nobody can tell who it is, so it cannot act."""

    actor: Actor
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class Grant:
    """A member an administrator made staff of a group; revoked grants stay, for the audit."""

    chat: ChatRef
    user_id: int
    name: str
    granted_by: str  # Actor.label
    granted_at: datetime
    revoked_by: str | None = None
    revoked_at: datetime | None = None


class AdminsUnavailable(Exception):
    """The messenger did not list the administrators (network, a group that refuses the bot)."""


class AdminSource(Protocol):
    """Where the administrators of a group come from (the messenger's getChatAdministrators)."""

    async def administrators(self, chat: ChatRef) -> list[ChatAdmin]:
        """The group's administrators; raises AdminsUnavailable when it cannot tell."""


class GrantStore(Protocol):
    """Granted staff per group (its own short transactions)."""

    async def active(self, chat: ChatRef) -> list[Grant]:
        """The grants in force in a group, oldest first."""

    async def find(self, chat: ChatRef, user_id: int) -> Grant | None:
        """The grant in force for this member of a group, or None."""

    async def add(self, grant: Grant) -> None:
        """Store a new grant."""

    async def revoke(self, chat: ChatRef, user_id: int, by: str, at: datetime) -> bool:
        """End the grant in force (kept, marked revoked); False when there was none."""


class Standing(StrEnum):
    """What someone is in a group."""

    ADMIN = "admin"
    GRANTED = "granted"
    NOBODY = "nobody"
    ANONYMOUS = "anonymous"
    # not an administrator as far as is known, not granted, and the messenger did not answer
    # the last time it was asked: maybe a new administrator, maybe nobody; never let through
    UNCONFIRMED = "unconfirmed"

    @property
    def is_staff(self) -> bool:
        """Whether this standing may act."""
        return self in (Standing.ADMIN, Standing.GRANTED)


class GrantError(Exception):
    """Why a grant or revoke did not happen: 'not_admin', 'anonymous', 'already', 'admin',
    'not_granted', 'bot'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Known:
    admins: dict[int, ChatAdmin] | None = None  # None: never listed
    fetched_at: datetime | None = None  # when the list was last fetched successfully
    tried_at: datetime | None = None  # when the messenger was last asked, answered or not
    failed: bool = False  # the last ask failed


class OncePerPerson:
    """Whether something may happen again for a person in a group: at most once per (group,
    person) in `gap` seconds. The roster asks it before asking the messenger again about
    someone it refused (so a stranger's presses cannot hammer the API); the handlers before
    replying to a refused message in a group (so a member typing on and on cannot make the bot
    write into the group at their pace, spend its send quota and hold its lane)."""

    def __init__(self, gap: float, now: Callable[[], float] = time.monotonic) -> None:
        self.gap = gap
        self.now = now
        self._last: dict[tuple[ChatRef, int], float] = {}

    def due(self, chat: ChatRef, user_id: int) -> bool:
        """Whether it may happen now for this person in this group (and remember that it did)."""
        now = self.now()
        last = self._last.get((chat, user_id))
        if last is not None and now - last < self.gap:
            return False
        if len(self._last) > 10_000:  # forget old ones, keep the map small
            self._last = {k: t for k, t in self._last.items() if now - t < self.gap}
        self._last[(chat, user_id)] = now
        return True


@dataclass
class Roster:
    """Decides who is staff in a group; one per process, shared by both platforms."""

    source: AdminSource
    grants: GrantStore
    clock: Clock
    ttl: float = ADMINS_TTL
    refresh_gap: float = REFRESH_GAP
    retry_after_failure: float = RETRY_AFTER_FAILURE
    _known: dict[ChatRef, _Known] = field(default_factory=dict)
    _refreshes: OncePerPerson = field(init=False)

    def __post_init__(self) -> None:
        self._refreshes = OncePerPerson(self.refresh_gap, lambda: self.clock.now().timestamp())

    async def _fetch(self, chat: ChatRef, known: _Known) -> None:
        now = self.clock.now()
        known.tried_at = now
        try:
            admins = await self.source.administrators(chat)
        except AdminsUnavailable as exc:
            known.failed = True
            held = "the last known list stays" if known.admins is not None else "none known"
            log.warning(
                "administrators of %s:%s not fetched (%s); %s",
                chat.platform.value, chat.chat_id, exc, held,
            )  # fmt: skip
            return
        known.admins = {a.user_id: a for a in admins}
        known.fetched_at, known.failed = now, False

    def _stale(self, known: _Known) -> bool:
        now = self.clock.now()
        if known.failed and known.tried_at is not None:
            return now - known.tried_at >= timedelta(seconds=self.retry_after_failure)
        return known.fetched_at is None or now - known.fetched_at >= timedelta(seconds=self.ttl)

    async def administrators(self, chat: ChatRef, *, fresh: bool = False) -> dict[int, ChatAdmin]:
        """The group's administrators: cached, fetched when stale (or `fresh`)."""
        known = self._known.setdefault(chat, _Known())
        if fresh or self._stale(known):
            await self._fetch(chat, known)
        return dict(known.admins or {})

    async def standing(self, chat: ChatRef, person: Person) -> Standing:
        """What this person is in this group; a refusal is checked once more with a fresh list."""
        if person.anonymous:
            return Standing.ANONYMOUS
        user_id = person.actor.user_id
        if user_id in await self.administrators(chat):
            return Standing.ADMIN
        if await self.grants.find(chat, user_id) is not None:
            return Standing.GRANTED
        known = self._known[chat]
        if self._refreshes.due(chat, user_id):
            return await self._asked_again(chat, known, user_id)
        return Standing.UNCONFIRMED if known.failed else Standing.NOBODY

    async def confirm(self, chat: ChatRef, person: Person) -> Standing:
        """Ask the messenger afresh whether an unconfirmed person is an administrator (after
        a pause the caller chose); the standing once it answers, UNCONFIRMED while it does not."""
        known = self._known.setdefault(chat, _Known())
        return await self._asked_again(chat, known, person.actor.user_id)

    async def _asked_again(self, chat: ChatRef, known: _Known, user_id: int) -> Standing:
        """A fresh list, then: an administrator, or nobody (unconfirmed if it did not come)."""
        await self._fetch(chat, known)
        if user_id in (known.admins or {}):
            return Standing.ADMIN
        return Standing.UNCONFIRMED if known.failed else Standing.NOBODY

    async def grant(self, chat: ChatRef, *, by: Person, member: Actor, is_bot: bool) -> Grant:
        """An administrator makes a member staff of the group."""
        await self._admin_only(chat, by)
        if is_bot:
            raise GrantError("bot")
        if member.user_id in await self.administrators(chat):
            raise GrantError("admin")
        if await self.grants.find(chat, member.user_id) is not None:
            raise GrantError("already")
        grant = Grant(chat, member.user_id, member.name, by.actor.label, self.clock.now())
        await self.grants.add(grant)
        log.info("staff granted in %s:%s to user %s by user %s", chat.platform.value,
                 chat.chat_id, member.user_id, by.actor.user_id)  # fmt: skip
        return grant

    async def revoke(self, chat: ChatRef, *, by: Person, member: Actor) -> None:
        """An administrator takes a grant back (an administrator stays staff as such)."""
        await self._admin_only(chat, by)
        if not await self.grants.revoke(chat, member.user_id, by.actor.label, self.clock.now()):
            raise GrantError("admin" if member.user_id in await self.administrators(chat)
                             else "not_granted")  # fmt: skip
        log.info("staff revoked in %s:%s from user %s by user %s", chat.platform.value,
                 chat.chat_id, member.user_id, by.actor.user_id)  # fmt: skip

    async def staff(self, chat: ChatRef) -> tuple[list[ChatAdmin], list[Grant]]:
        """Everyone who is staff of a group now: its administrators (asked afresh) and grants."""
        admins = await self.administrators(chat, fresh=True)
        ordered = sorted(admins.values(), key=lambda a: (a.status != "creator", a.user_id))
        # every active grant, also one of a member who is an administrator now: it outlives a
        # demotion, so the administrators must see it to take it back
        return ordered, await self.grants.active(chat)

    async def _admin_only(self, chat: ChatRef, by: Person) -> None:
        standing = await self.standing(chat, by)
        if standing is Standing.ANONYMOUS:
            raise GrantError("anonymous")
        if standing is not Standing.ADMIN:
            raise GrantError("not_admin")
