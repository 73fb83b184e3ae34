"""Who is staff in a group (desk.people.Roster) through fakes: the cache of administrators, the
refresh on a refusal, the last known list when the messenger does not answer, grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from aiogram.types import Message

from bot.handlers import grants as grant_commands
from bot.runtime.people import admins_of, confirm_waits
from desk.model import Actor, ChatRef, Platform
from desk.people import (
    AdminsUnavailable,
    ChatAdmin,
    Grant,
    GrantError,
    OncePerPerson,
    Person,
    Roster,
    Standing,
)

GROUP = ChatRef(Platform.TELEGRAM, -1001)
ADMIN = Person(Actor(Platform.TELEGRAM, 1, "مدیر"))
MEMBER = Person(Actor(Platform.TELEGRAM, 2, "عضو"))


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 8, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Source:
    """The messenger's getChatAdministrators, counted, able to fail."""

    def __init__(self, *ids: int) -> None:
        self.ids = set(ids)
        self.calls = 0
        self.down = False

    async def administrators(self, chat: ChatRef) -> list[ChatAdmin]:
        self.calls += 1
        if self.down:
            raise AdminsUnavailable("ServerError")
        return [ChatAdmin(i, f"n{i}") for i in sorted(self.ids)]


class Grants:
    def __init__(self) -> None:
        self.rows: list[Grant] = []

    async def active(self, chat: ChatRef) -> list[Grant]:
        return [g for g in self.rows if g.chat == chat and g.revoked_at is None]

    async def find(self, chat: ChatRef, user_id: int) -> Grant | None:
        return next((g for g in await self.active(chat) if g.user_id == user_id), None)

    async def add(self, grant: Grant) -> None:
        self.rows.append(grant)

    async def revoke(self, chat: ChatRef, user_id: int, by: str, at: datetime) -> bool:
        found = await self.find(chat, user_id)
        if found is None:
            return False
        index = self.rows.index(found)
        self.rows[index] = Grant(
            found.chat, found.user_id, found.name, found.granted_by, found.granted_at, by, at
        )
        return True


def roster(source: Source, clock: Clock, grants: Grants | None = None) -> Roster:
    return Roster(source, grants or Grants(), clock, ttl=300, refresh_gap=2, retry_after_failure=30)


async def test_administrators_are_cached_for_the_ttl() -> None:
    source, clock = Source(1), Clock()
    desk = roster(source, clock)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    assert source.calls == 1
    clock.advance(301)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    assert source.calls == 2


async def test_a_refusal_refreshes_once_so_a_new_admin_works_at_once() -> None:
    source, clock = Source(1), Clock()
    desk = roster(source, clock)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    clock.advance(5)
    source.ids.add(2)  # promoted after the list was cached
    assert await desk.standing(GROUP, MEMBER) is Standing.ADMIN
    assert source.calls == 2


async def test_refusals_do_not_hammer_the_messenger() -> None:
    source, clock = Source(1), Clock()
    desk = roster(source, clock)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    for _ in range(10):
        assert await desk.standing(GROUP, MEMBER) is Standing.NOBODY
    assert source.calls == 2, "one refresh for the stranger, however often they press"
    other = Person(Actor(Platform.TELEGRAM, 5, "دیگری"))
    assert await desk.standing(GROUP, other) is Standing.NOBODY
    assert source.calls == 3, "someone else's first refusal still asks (they may be new)"
    clock.advance(2)
    assert await desk.standing(GROUP, MEMBER) is Standing.NOBODY
    assert source.calls == 4


async def test_an_unreachable_messenger_keeps_the_last_known_list() -> None:
    source, clock = Source(1), Clock()
    desk = roster(source, clock)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    source.down = True
    clock.advance(301)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    assert await desk.standing(GROUP, MEMBER) is Standing.UNCONFIRMED, "never staff"
    calls = source.calls
    clock.advance(5)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    assert source.calls == calls, "a failed list is not asked again before retry_after_failure"


async def test_no_list_ever_known_lets_only_granted_members_through() -> None:
    source, clock, grants = Source(1), Clock(), Grants()
    source.down = True
    desk = roster(source, clock, grants)
    assert await desk.standing(GROUP, ADMIN) is Standing.UNCONFIRMED
    await grants.add(Grant(GROUP, 2, "عضو", "telegram:1 (مدیر)", clock.now()))
    assert await desk.standing(GROUP, MEMBER) is Standing.GRANTED


async def test_anonymous_senders_never_act() -> None:
    desk = roster(Source(1), Clock())
    assert await desk.standing(GROUP, Person(ADMIN.actor, anonymous=True)) is Standing.ANONYMOUS


async def test_only_admins_grant_and_revoke_and_both_are_recorded() -> None:
    source, clock, grants = Source(1), Clock(), Grants()
    desk = roster(source, clock, grants)
    with pytest.raises(GrantError, match="not_admin"):
        await desk.grant(GROUP, by=MEMBER, member=Actor(Platform.TELEGRAM, 3), is_bot=False)
    grant = await desk.grant(GROUP, by=ADMIN, member=MEMBER.actor, is_bot=False)
    assert grant.granted_by == "telegram:1 (مدیر)"
    assert await desk.standing(GROUP, MEMBER) is Standing.GRANTED
    with pytest.raises(GrantError, match="already"):
        await desk.grant(GROUP, by=ADMIN, member=MEMBER.actor, is_bot=False)
    with pytest.raises(GrantError, match="not_admin"):  # a granted member cannot grant
        await desk.grant(GROUP, by=MEMBER, member=Actor(Platform.TELEGRAM, 3), is_bot=False)
    with pytest.raises(GrantError, match="admin"):
        await desk.grant(GROUP, by=ADMIN, member=ADMIN.actor, is_bot=False)
    with pytest.raises(GrantError, match="bot"):
        await desk.grant(GROUP, by=ADMIN, member=Actor(Platform.TELEGRAM, 9), is_bot=True)
    await desk.revoke(GROUP, by=ADMIN, member=MEMBER.actor)
    clock.advance(3)
    assert await desk.standing(GROUP, MEMBER) is Standing.NOBODY
    assert grants.rows[0].revoked_by == "telegram:1 (مدیر)", "a revoke is kept for the audit"
    with pytest.raises(GrantError, match="not_granted"):
        await desk.revoke(GROUP, by=ADMIN, member=MEMBER.actor)


async def test_staff_lists_admins_first_and_grants() -> None:
    source, clock = Source(1, 4), Clock()
    desk = roster(source, clock)
    await desk.grant(GROUP, by=ADMIN, member=MEMBER.actor, is_bot=False)
    admins, granted = await desk.staff(GROUP)
    assert [a.user_id for a in admins] == [1, 4]
    assert [g.user_id for g in granted] == [2]


def test_both_platforms_answer_shapes_are_read() -> None:
    telegram = [
        {"status": "creator", "user": {"id": 1, "is_bot": False, "first_name": "A"},
         "is_anonymous": False},
        {"status": "administrator", "user": {"id": 2, "is_bot": False, "first_name": "B",
         "last_name": "C"}, "can_be_edited": False, "is_anonymous": True},
        {"status": "administrator", "user": {"id": 3, "is_bot": True, "first_name": "bot"}},
    ]  # fmt: skip
    bale = [
        {"status": "creator", "user": {"id": 10, "first_name": "D"}},  # no is_bot, no flags
        {"status": "administrator", "user": {"id": 11, "username": "e"}, "can_pin_messages": True},
        {"user": {"id": 12}},  # status left out: the method lists administrators only
        {"status": "member", "user": {"id": 13}},  # not an administrator, whatever it says
        {"status": "administrator"},  # no user: nobody
        "junk",
    ]
    assert [(a.user_id, a.name, a.status) for a in admins_of(telegram)] == [
        (1, "A", "creator"),
        (2, "B C", "administrator"),
    ]
    assert [(a.user_id, a.name) for a in admins_of(bale)] == [(10, "D"), (11, "e"), (12, "")]


async def test_a_grant_outlives_a_promotion_and_stays_on_the_list() -> None:
    """Granted, then promoted, then demoted: still staff by the grant, so the list shows the
    grant all along (the administrators must see it to take it back)."""
    source, clock = Source(1), Clock()
    desk = roster(source, clock)
    await desk.grant(GROUP, by=ADMIN, member=MEMBER.actor, is_bot=False)
    source.ids.add(MEMBER.actor.user_id)
    clock.advance(301)
    admins, granted = await desk.staff(GROUP)
    assert [a.user_id for a in admins] == [1, 2] and [g.user_id for g in granted] == [2]
    source.ids.discard(MEMBER.actor.user_id)
    clock.advance(301)
    assert await desk.standing(GROUP, MEMBER) is Standing.GRANTED


def test_a_refused_member_is_told_once_in_a_while_not_at_every_message() -> None:
    now = [0.0]
    notices = OncePerPerson(600, now=lambda: now[0])
    other_group = ChatRef(Platform.BALE, -1001)
    assert notices.due(GROUP, 2)
    assert not any(notices.due(GROUP, 2) for _ in range(100)), "a flood gets no more replies"
    assert notices.due(GROUP, 3) and notices.due(other_group, 2), "per person and group"
    now[0] = 601
    assert notices.due(GROUP, 2), "told again after ten minutes"


def _group_message(**extra: object) -> Message:
    chat = {"id": -1001, "type": "supergroup", "title": "آب", "is_forum": True}
    admin = {"id": 1, "is_bot": False, "first_name": "مدیر"}
    return Message.model_validate(
        {"message_id": 50, "date": 0, "chat": chat, "from": admin, "text": "/staff", **extra}
    )


def test_a_bare_staff_in_a_forum_topic_names_nobody() -> None:
    creator = {"id": 7, "is_bot": False, "first_name": "سازنده"}
    root = {
        "message_id": 40,
        "date": 0,
        "chat": {"id": -1001, "type": "supergroup"},
        "from": creator,
        "forum_topic_created": {"name": "شکایات", "icon_color": 1},
    }
    bot = SimpleNamespace(platform=Platform.TELEGRAM, id=999)
    in_topic = _group_message(message_thread_id=40, is_topic_message=True, reply_to_message=root)
    assert grant_commands._member(in_topic, bot) == "how"  # type: ignore[arg-type]
    member = {
        "message_id": 45,
        "date": 0,
        "chat": {"id": -1001, "type": "supergroup"},
        "from": {"id": 8, "is_bot": False, "first_name": "عضو"},
        "text": "سلام",
    }
    to_member = _group_message(message_thread_id=40, is_topic_message=True, reply_to_message=member)
    found = grant_commands._member(to_member, bot)  # type: ignore[arg-type]
    assert not isinstance(found, str) and found[0].user_id == 8


async def test_a_stranger_while_the_messenger_is_down_is_unconfirmed_never_staff() -> None:
    source, clock = Source(1), Clock()
    desk = roster(source, clock)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN
    source.down = True
    clock.advance(301)
    assert await desk.standing(GROUP, ADMIN) is Standing.ADMIN, "the last known list"
    assert await desk.standing(GROUP, MEMBER) is Standing.UNCONFIRMED
    assert not Standing.UNCONFIRMED.is_staff
    assert await desk.confirm(GROUP, MEMBER) is Standing.UNCONFIRMED
    source.down = False
    source.ids.add(MEMBER.actor.user_id)  # promoted during the outage
    assert await desk.confirm(GROUP, MEMBER) is Standing.ADMIN
    assert await desk.confirm(GROUP, Person(Actor(Platform.TELEGRAM, 5))) is Standing.NOBODY


def test_confirm_waits_double_and_add_up_to_the_budget() -> None:
    assert confirm_waits(60) == [2, 4, 8, 16, 30]
    assert confirm_waits(3) == [2, 1]
    assert confirm_waits(0) == []
