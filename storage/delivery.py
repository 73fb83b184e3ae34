"""The delivery worker's view of the outbox: what is due, sent, retried, failed; message links.

`SqlDelivery` fills the ports `OutboxStore`, `MessageLinks` and `UploadedFiles` (bot/ports.py);
its values (`Pending`, `Due`, `HeldChat`, `Parked`) live in desk/outbox.py."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from desk.model import Notice, NoticeKind, Platform
from desk.outbox import Due, HeldChat, Parked, Pending
from storage.db import dialect_insert
from storage.repositories import _outbox_values
from storage.tables import (
    BlockedChatRow,
    HeldChatRow,
    MessageLinkRow,
    OutboxChatRow,
    OutboxRow,
    UploadedFileRow,
)

_PENDING_COLUMNS = (
    col(OutboxRow.id),
    col(OutboxRow.platform),
    col(OutboxRow.chat_id),
    col(OutboxRow.kind),
    col(OutboxRow.request_code),
    col(OutboxRow.data),
    col(OutboxRow.attempts),
    col(OutboxRow.next_attempt_at),
    col(OutboxRow.failing_since),
)


def _pending(row: Any) -> Pending:
    return Pending(
        id=row[0],
        platform=Platform(row[1]),
        chat_id=row[2],
        kind=NoticeKind(row[3]),
        code=row[4],
        data=dict(row[5] or {}),
        attempts=row[6],
        next_attempt_at=row[7],
        failing_since=row[8],
    )


__all__ = ["Due", "HeldChat", "Parked", "Pending", "SqlDelivery"]


class SqlDelivery:
    """Outbox rows and message links on SQL; every call is its own short transaction."""

    # How long a chat stays this worker's without a new look at what is due (every few
    # seconds while it sends): a worker that died leaves its chats to the others after this.
    CLAIM = timedelta(seconds=60)

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        worker: str | None = None,
        max_chats: int = 1000,
    ) -> None:
        self._sessions = sessions
        # the most chats one worker holds at once, the rest left to the others: two full reads
        # of what is due (500 rows each, at most a chat each); the platform's rate, shared by
        # all workers, is the limit anyway, and a dead worker's chats move on after `CLAIM`
        self.max_chats = max_chats
        # who claims chats (`outbox_chats`): unique per process unless named; the app names it
        # as the inbox names the worker (host and port), so a restarted worker takes back at
        # once the chats it held when it died instead of waiting out their claims (`CLAIM`)
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def due(self, limit: int = 500) -> Due:
        """A batch of heads, oldest first, in two queries of plain columns (no ORM objects: this
        runs often): rows of one request or person first, then rows of a mass sending (a
        `tag`, such as a draft's announcement to 100,000 subscribers), so that a card or an
        answer queued during a broadcast does not wait for the broadcast to finish. Order
        within a chat holds within each of the two; across them it does not matter (a draft's
        announcement and a complaint's answer are unrelated)."""
        # rows of chats another live worker holds are not ours to see: each worker reads the
        # oldest rows of the chats left to it (so several workers share one outbox)
        now = datetime.now(UTC)
        others = (
            select(OutboxChatRow.chat_id)  # type: ignore[call-overload]
            .where(
                col(OutboxChatRow.platform) == col(OutboxRow.platform),
                col(OutboxChatRow.chat_id) == col(OutboxRow.chat_id),
                col(OutboxChatRow.claimed_by) != self.worker,
                col(OutboxChatRow.claimed_until) >= now,
            )
            .exists()
        )
        async with self._sessions() as session:
            own = await self._oldest(session, col(OutboxRow.tag).is_(None) & ~others, limit)
            mass = await self._oldest(session, col(OutboxRow.tag).is_not(None) & ~others, limit)
        rows = [*own, *mass]
        seen: set[tuple[Platform, int]] = set()
        more: set[tuple[Platform, int]] = set()
        heads = []
        for row in rows:
            key = (Platform(row[1]), row[2])
            if key in seen:
                more.add(key)
            else:
                seen.add(key)
                heads.append(_pending(row))
        mine = await self._claim([(h.platform, h.chat_id) for h in heads]) if heads else set()
        heads = [h for h in heads if (h.platform, h.chat_id) in mine]
        return Due(heads, frozenset(more & mine), len(own) >= limit or len(mass) >= limit)

    async def _claim(self, chats: list[tuple[Platform, int]]) -> set[tuple[Platform, int]]:
        """Claim (or keep) chats no other live worker holds, oldest first, up to `max_chats`
        in all; returns the chats now this worker's. Chats of this worker with nothing left to
        send are let go first, so a worker's share follows what is due.

        The claim is one INSERT … ON CONFLICT DO UPDATE … WHERE, on SQLite and PostgreSQL
        alike: a chat is taken when free, when its claim ran out, or when it is already ours."""
        now = datetime.now(UTC)
        table = OutboxChatRow.__table__  # type: ignore[attr-defined]
        unsent = (
            select(OutboxRow.id)  # type: ignore[call-overload]
            .where(
                col(OutboxRow.platform) == table.c.platform,
                col(OutboxRow.chat_id) == table.c.chat_id,
                col(OutboxRow.sent_at).is_(None),
                col(OutboxRow.failed).is_(False),
            )
            .exists()
        )
        async with self._sessions() as session, session.begin():
            await session.execute(delete(table).where(table.c.claimed_by == self.worker, ~unsent))
            held = {
                (Platform(p), c)
                for p, c in await session.execute(
                    select(table.c.platform, table.c.chat_id).where(
                        table.c.claimed_by == self.worker, table.c.claimed_until >= now
                    )
                )
            }
            room = max(0, self.max_chats - len(held))
            wanted = [k for k in chats if k in held] + [k for k in chats if k not in held][:room]
            if not wanted:
                return set()
            values = [
                {"platform": p.value, "chat_id": c, "claimed_by": self.worker,
                 "claimed_until": now + self.CLAIM}
                for p, c in wanted
            ]  # fmt: skip
            upsert = dialect_insert(session, OutboxChatRow)
            statement = upsert.values(values).on_conflict_do_update(
                index_elements=["platform", "chat_id"],
                set_={"claimed_by": upsert.excluded.claimed_by,
                      "claimed_until": upsert.excluded.claimed_until},
                where=(table.c.claimed_by == self.worker) | (table.c.claimed_until < now),
            ).returning(table.c.platform, table.c.chat_id)  # fmt: skip
            claimed = (await session.execute(statement)).all()
        return {(Platform(p), c) for p, c in claimed}

    async def release(self) -> None:
        """Let every chat of this worker go (it stops): another worker may take them at once."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(OutboxChatRow).where(col(OutboxChatRow.claimed_by) == self.worker)
            )

    @staticmethod
    async def _oldest(session: AsyncSession, which: Any, limit: int) -> list[Any]:
        """The `limit` oldest unsent rows matching `which`, as plain column tuples."""
        result = await session.execute(
            select(*_PENDING_COLUMNS)
            .where(col(OutboxRow.sent_at).is_(None), col(OutboxRow.failed).is_(False), which)
            .order_by(col(OutboxRow.id))
            .limit(limit)
        )
        return list(result.all())

    async def mark_sent(
        self,
        item: Pending,
        now: datetime,
        *,
        message_id: int | None,
        link_role: str | None = None,
    ) -> None:
        """Record a confirmed send, and which request the new message belongs to (one UPDATE,
        committed before this returns)."""
        async with self._sessions() as session, session.begin():
            await self._update(session, item, sent_at=now, message_id=message_id)
            if link_role and message_id is not None and item.code is not None:
                await self._link(session, item.platform, item.chat_id, message_id, item.code,
                                 link_role, now)  # fmt: skip

    async def retry_later(
        self, item: Pending, when: datetime, error: str, *, failing_since: datetime | None = None
    ) -> None:
        """Try again at `when`; `failing_since` is the start of the row's run of failures
        (None: it is waiting, not failing)."""
        async with self._sessions() as session, session.begin():
            await self._update(session, item, next_attempt_at=when, last_error=error[:500],
                               failing_since=failing_since)  # fmt: skip

    async def park(self, item: Pending, error: str, *, alerted: bool = False) -> None:
        """Give up on a row (no retry can fix it, or it failed too long in a way nothing
        names): kept as failed with its error; the admin chats are told unless `alerted`."""
        async with self._sessions() as session, session.begin():
            await self._update(session, item, failed=True, last_error=error[:500],
                               alerted=alerted)  # fmt: skip

    async def give_up(self, item: Pending, error: str) -> None:
        """A permanent failure (the API refuses the message itself); kept for operators."""
        await self.park(item, error)

    async def set_data(self, row_id: int, data: dict[str, Any]) -> None:
        """Keep a row's progress (the files of an album sent so far)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(OutboxRow).where(col(OutboxRow.id) == row_id).values(data=dict(data))
            )

    async def done(self, item: Pending, now: datetime, note: str) -> None:
        """Nothing is left to do for a row (an edit that changes nothing): counted as sent."""
        async with self._sessions() as session, session.begin():
            await self._update(session, item, sent_at=now, last_error=note[:500])

    async def supersede_refreshes(self, item: Pending, now: datetime) -> int:
        """Other queued refreshes of the same card are covered by this one, which is rendered
        from the request as it is now (read after this): they are marked sent."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(OutboxRow)
                .where(
                    col(OutboxRow.platform) == item.platform.value,
                    col(OutboxRow.chat_id) == item.chat_id,
                    col(OutboxRow.request_code) == item.code,
                    col(OutboxRow.kind) == NoticeKind.CARD_REFRESH.value,
                    col(OutboxRow.sent_at).is_(None),
                    col(OutboxRow.failed).is_(False),
                    col(OutboxRow.id) != item.id,
                )
                .values(sent_at=now, last_error=f"covered by refresh {item.id}")
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def hold_chat(
        self,
        platform: Platform,
        chat_id: int,
        reason: str,
        now: datetime,
        *,
        new_chat_id: int | None = None,
        alerts: list[Notice] | None = None,
    ) -> bool:
        """A group refuses the bot: remember it (once) and queue `alerts` with that record.
        Returns whether it was newly held."""
        async with self._sessions() as session, session.begin():
            # one statement: two holds of one group at once (a handler's reply and an outbox
            # row, or two workers) make one record and one set of alerts, never an error
            held = dialect_insert(session, HeldChatRow).values(
                platform=platform.value, chat_id=chat_id, since=now, reason=reason[:300],
                new_chat_id=new_chat_id,
            )  # fmt: skip
            result = await session.execute(held.on_conflict_do_nothing())
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            await self._queue(session, alerts or [], now)
            return True

    async def move_chat(self, platform: Platform, old: int, new: int) -> int:
        """A group became a supergroup with a new id: its queued rows go there."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(OutboxRow)
                .where(
                    col(OutboxRow.platform) == platform.value,
                    col(OutboxRow.chat_id) == old,
                    col(OutboxRow.sent_at).is_(None),
                    col(OutboxRow.failed).is_(False),
                )
                .values(chat_id=new)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def release_chat(
        self, platform: Platform, chat_id: int, now: datetime, *, alerts: list[Notice] | None = None
    ) -> bool:
        """A held group took a message again: forget the hold, queue `alerts`."""
        async with self._sessions() as session, session.begin():
            row = await session.get(HeldChatRow, (platform.value, chat_id))
            if row is None:
                return False
            await session.delete(row)
            await self._queue(session, alerts or [], now)
            return True

    async def held(self) -> list[HeldChat]:
        """Every group held now."""
        async with self._sessions() as session:
            rows = (await session.execute(select(HeldChatRow))).scalars().all()
            return [
                HeldChat(Platform(r.platform), r.chat_id, r.since, r.reason or "", r.new_chat_id)
                for r in rows
            ]

    async def alert_parked(self, alerts: Any, now: datetime) -> int:
        """Rows parked since the last look: `alerts(rows)` makes the notices for the admin
        chats, queued in the same transaction that marks the rows told. Returns how many."""
        async with self._sessions() as session, session.begin():
            rows = await session.execute(
                select(
                    col(OutboxRow.id),
                    col(OutboxRow.kind),
                    col(OutboxRow.platform),
                    col(OutboxRow.last_error),
                )
                .where(
                    col(OutboxRow.failed).is_(True),
                    col(OutboxRow.alerted).is_(False),
                    col(OutboxRow.sent_at).is_(None),
                )
                .order_by(col(OutboxRow.id))
                .limit(1000)
            )
            found = list(rows.all())
            if not found:
                return 0
            await self._queue(session, alerts(found), now)
            await session.execute(
                update(OutboxRow)
                .where(col(OutboxRow.id).in_([r[0] for r in found]))
                .values(alerted=True)
            )
            return len(found)

    async def parked(self, limit: int = 200) -> list[Parked]:
        """Rows given up on, newest first."""
        async with self._sessions() as session:
            blocked = {
                (r.platform, r.chat_id)
                for r in (await session.execute(select(BlockedChatRow))).scalars()
            }
            rows = await session.execute(
                select(OutboxRow)
                .where(col(OutboxRow.failed).is_(True), col(OutboxRow.sent_at).is_(None))
                .order_by(col(OutboxRow.id).desc())
                .limit(limit)
            )
            return [
                Parked(
                    id=r.id or 0,
                    platform=Platform(r.platform),
                    chat_id=r.chat_id,
                    kind=NoticeKind(r.kind),
                    code=r.request_code,
                    attempts=r.attempts,
                    created_at=r.created_at,
                    error=r.last_error or "",
                    blocked=(r.platform, r.chat_id) in blocked,
                )
                for r in rows.scalars()
            ]

    async def requeue(self, ids: list[int] | None, now: datetime) -> int:
        """Send parked rows again (`None`: every parked row of a chat that is not blocked)."""
        async with self._sessions() as session, session.begin():
            which: list[Any] = [col(OutboxRow.failed).is_(True), col(OutboxRow.sent_at).is_(None)]
            if ids is not None:
                which.append(col(OutboxRow.id).in_(ids))
            else:
                blocked = select(BlockedChatRow).where(
                    col(BlockedChatRow.platform) == col(OutboxRow.platform),
                    col(BlockedChatRow.chat_id) == col(OutboxRow.chat_id),
                )
                which.append(~blocked.exists())
            result = await session.execute(
                update(OutboxRow)
                .where(*which)
                .values(failed=False, alerted=False, failing_since=None, next_attempt_at=now)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def queue(self, notices: list[Notice], now: datetime) -> None:
        """Queue notices in a transaction of their own."""
        async with self._sessions() as session, session.begin():
            await self._queue(session, notices, now)

    @staticmethod
    async def _queue(session: AsyncSession, notices: list[Notice], now: datetime) -> None:
        if notices:
            await session.execute(insert(OutboxRow), [_outbox_values(n, now) for n in notices])

    @staticmethod
    async def _update(session: AsyncSession, item: Pending, **values: Any) -> None:
        """Count an attempt on one row and set `values`."""
        result = await session.execute(
            update(OutboxRow)
            .where(col(OutboxRow.id) == item.id)
            .values(attempts=col(OutboxRow.attempts) + 1, **values)
        )
        assert result.rowcount == 1, f"outbox row {item.id} is gone"  # type: ignore[attr-defined]

    async def block_chat(self, platform: Platform, chat_id: int, reason: str, now: datetime) -> int:
        """403: the chat blocked or removed the bot. Its pending rows fail; returns how many."""
        async with self._sessions() as session, session.begin():
            if await session.get(BlockedChatRow, (platform.value, chat_id)) is None:
                session.add(
                    BlockedChatRow(platform=platform.value, chat_id=chat_id, since=now,
                                   reason=reason[:200])
                )  # fmt: skip
            result = await session.execute(
                update(OutboxRow)
                .where(
                    col(OutboxRow.platform) == platform.value,
                    col(OutboxRow.chat_id) == chat_id,
                    col(OutboxRow.sent_at).is_(None),
                )
                .values(failed=True, alerted=True, last_error=f"chat unreachable: {reason}"[:500])
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def is_blocked(self, platform: Platform, chat_id: int) -> bool:
        """Whether a chat answered 403 before."""
        async with self._sessions() as session:
            return await session.get(BlockedChatRow, (platform.value, chat_id)) is not None

    async def unblock(self, platform: Platform, chat_id: int) -> None:
        """The chat wrote to the bot again: it is reachable."""
        async with self._sessions() as session, session.begin():
            row = await session.get(BlockedChatRow, (platform.value, chat_id))
            if row is not None:
                await session.delete(row)

    @staticmethod
    async def _link(
        session: AsyncSession,
        platform: Platform,
        chat_id: int,
        message_id: int,
        code: str,
        role: str,
        now: datetime,
    ) -> None:
        key = (platform.value, chat_id, message_id)
        if await session.get(MessageLinkRow, key) is None:
            session.add(
                MessageLinkRow(platform=platform.value, chat_id=chat_id, message_id=message_id,
                               request_code=code, role=role, created_at=now)
            )  # fmt: skip

    async def link(
        self, platform: Platform, chat_id: int, message_id: int, code: str, role: str,
        now: datetime,
    ) -> None:  # fmt: skip
        """Remember that a message belongs to a request's thread."""
        async with self._sessions() as session, session.begin():
            await self._link(session, platform, chat_id, message_id, code, role, now)

    async def linked(
        self, platform: Platform, chat_id: int, message_id: int
    ) -> tuple[str, str] | None:
        """(request code, role) of a message in a thread, or None."""
        async with self._sessions() as session:
            row = await session.get(MessageLinkRow, (platform.value, chat_id, message_id))
            return (row.request_code, row.role) if row else None

    async def card(self, platform: Platform, chat_id: int, code: str) -> int | None:
        """The message id of the newest card of a request in a chat."""
        async with self._sessions() as session:
            found = await session.execute(
                select(func.max(MessageLinkRow.message_id)).where(
                    col(MessageLinkRow.platform) == platform.value,
                    col(MessageLinkRow.chat_id) == chat_id,
                    col(MessageLinkRow.request_code) == code,
                    col(MessageLinkRow.role) == "card",
                )
            )
            value = found.scalar_one_or_none()
            return int(value) if value is not None else None

    async def counts(self) -> dict[str, int]:
        """Pending, sent and failed rows, for health checks and tests."""
        async with self._sessions() as session:
            pending = await session.scalar(
                select(func.count()).where(col(OutboxRow.sent_at).is_(None),
                                           col(OutboxRow.failed).is_(False))
            )  # fmt: skip
            sent = await session.scalar(
                select(func.count()).where(col(OutboxRow.sent_at).is_not(None))
            )
            failed = await session.scalar(
                select(func.count()).where(col(OutboxRow.failed).is_(True))
            )
            return {"pending": pending or 0, "sent": sent or 0, "failed": failed or 0}

    async def uploaded(self, key: str, platform: Platform) -> str | None:
        """The file id a platform gave a document we uploaded before."""
        async with self._sessions() as session:
            row = await session.get(UploadedFileRow, (key, platform.value))
            return row.file_id if row else None

    async def remember_upload(self, key: str, platform: Platform, file_id: str) -> None:
        """Keep a platform's file id, so the next citizen gets the file without an upload."""
        async with self._sessions() as session, session.begin():
            row = await session.get(UploadedFileRow, (key, platform.value))
            if row is None:
                session.add(UploadedFileRow(key=key, platform=platform.value, file_id=file_id))
            else:
                row.file_id = file_id
