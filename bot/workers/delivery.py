"""The outbox worker: sends what the desk queued, at each platform's pace, and never drops it.

- Rows of one chat go out in order: only the oldest unsent row of a chat is ever in flight.
- Rate limits per platform: a global rate, one message a second per chat, and for groups a
  cap per minute (Telegram: 30/s, 1/s, 20/min; Bale: settable, conservative by default).
  The outbox is read in batches and sends to different chats overlap in flight, so the
  platform's rate is reached, not just approached (bench/broadcast.py).
- 429 waits `retry_after`, and nothing else goes to that platform meanwhile; 5xx, timeouts,
  dropped connections and Bale's `bot limit exceed` / `local_rate_limited` back off
  exponentially; 403 marks the chat unreachable; a 400 that no retry can fix is kept as
  failed, with its error, for an operator to see.
- A row is marked sent right after the API confirmed it, so a restart resends only what was
  not confirmed: at most the messages in flight at a crash, one per chat.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)

from bot.runtime.boundary import Outcome, Verdict, classify
from bot.runtime.platforms import PlatformBot, max_file_size
from bot.ui import keyboards, render
from bot.ui.workbooks import comments_workbook
from desk.model import (
    Attachment,
    AttachmentKind,
    ChatRef,
    Draft,
    Notice,
    NoticeKind,
    Platform,
    Request,
)
from desk.ports import Clock, SystemClock
from desk.routing import RoutingRules, admin_chats
from storage.delivery import Pending, SqlDelivery
from storage.repositories import SqlUnitOfWork

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0  # after an outage ends, a row waits at most this long more
HELD_RETRY = 60.0  # a group that refuses the bot is tried again this often, at most
TOKEN_RETRY = 300.0  # a platform that refuses the token is tried again this often
PARK_AFTER_MINUTES = 15
PARK_AFTER = timedelta(minutes=PARK_AFTER_MINUTES)  # then a row failing alone is set aside
ALERT_EVERY = 60.0  # at most one message about parked rows a minute, per admin chat
# After this many seconds without an answer from a platform (and nothing in flight), its next
# send goes alone, for at most as long again: it may be slow (a new connection), and sends
# paced from its start would reach the API right behind it.
COLD = 1.0
_GROUP_KINDS = frozenset(
    {NoticeKind.STAFF_CARD, NoticeKind.CARD_REFRESH, NoticeKind.STAFF_NOTE, NoticeKind.STAFF_COPY}
)


@dataclass
class Limits:
    """How fast one platform may be written to."""

    per_second: float
    per_chat_interval: float = 1.0
    group_per_minute: int = 20


@dataclass
class RateLimiter:
    """Even pacing for the platform, spacing per chat, a sliding minute per group.

    The platform-wide limit is paced, not bursty: one slot every 1/per_second seconds, and
    the slots follow a schedule: a send that goes a little after its slot (the event loop was
    busy) does not push every later slot back, or the rate would fall short of the limit by
    the average lateness. A send later than `slack` (a fraction of an interval) starts a new
    schedule. On top of the pacing, no one-second window ever holds more than per_second
    messages (rounded up): catching up never crowds a second (a bucket holding a second's worth
    would allow twice the rate across a window boundary)."""

    limits: Limits
    _next_global: float | None = None
    _last: dict[int, float] = field(default_factory=dict)
    _minute: dict[int, deque[float]] = field(default_factory=dict)
    _second: deque[float] = field(default_factory=deque)  # the platform's newest sends

    @property
    def slack(self) -> float:
        """How late (in intervals) a send may be and still keep the schedule: half an
        interval, less when per_second has a fraction (so the + 1 bound above still holds)."""
        return min(0.5, 1 - self.limits.per_second % 1)

    @property
    def per_window(self) -> int:
        """Most messages in any one second."""
        return max(1, math.ceil(self.limits.per_second))

    def global_wait(self, now: float) -> float:
        """Seconds until the platform's next slot (0 or less: a message may go now)."""
        wait = 0.0 if self._next_global is None else self._next_global - now
        if len(self._second) >= self.per_window:
            # the per_window-th newest send must be a second old before another may go
            wait = max(wait, self._second[-self.per_window] + 1 - now)
        return wait

    def wait_time(self, chat_id: int, group: bool, now: float) -> float:
        """Seconds until a message to this chat may go."""
        waits = [0.0, self.global_wait(now)]
        last = self._last.get(chat_id)
        if last is not None:
            waits.append(last + self.limits.per_chat_interval - now)
        if group:
            window = self._minute.get(chat_id)
            cap = self.limits.group_per_minute
            if window is not None and len(window) >= cap:
                # the cap-th newest send must be a minute old before another may go
                waits.append(window[-cap] + 60 - now)
        return max(waits)

    def take(self, chat_id: int, group: bool, now: float) -> None:
        """Count a message to this chat as sent now."""
        interval = 1 / self.limits.per_second
        slot = self._next_global
        # on schedule (or a little late): the next slot follows this one, not `now`
        base = now if slot is None or now - slot > self.slack * interval else slot
        self._next_global = base + interval
        self._second.append(now)
        while len(self._second) > self.per_window:
            self._second.popleft()
        self._last[chat_id] = now
        if group:
            window = self._minute.setdefault(chat_id, deque())
            window.append(now)
            while len(window) > self.limits.group_per_minute:
                window.popleft()

    def not_before(self, moment: float) -> None:
        """The next slot is no earlier than `moment`."""
        if self._next_global is None or self._next_global < moment:
            self._next_global = moment

    def pause(self, seconds: float, now: float) -> None:
        """The platform answered 429 with retry_after: nothing goes on it for `seconds`."""
        self.not_before(now + seconds)


class Permanent(Exception):
    """A send that no retry can make succeed."""


class SourceFailed(Exception):
    """Fetching a file from the platform it lives on failed: that platform's trouble, not the
    target's (a refused Bale token must not pause Telegram)."""

    def __init__(self, platform: Platform, error: Exception) -> None:
        super().__init__(f"fetching from {platform.value}: {type(error).__name__}: {error}")
        self.platform = platform
        self.error = error


class DeliveryWorker:
    """Sends outbox rows until stopped; `wake()` after queuing makes it look at once.

    The database is read in batches: one query returns the head (oldest unsent row) of every
    chat among the `batch` oldest unsent rows, and the worker sends from that snapshot at each
    platform's pace. It reads again when told something was queued (`wake`), when a chat whose
    next row it already saw is done, when the snapshot runs low, and every `idle_poll` seconds
    when idle (`refresh` seconds when busy), for rows queued by another process. Each send is
    its own task, so sends to different chats overlap in flight (up to `concurrency` per
    platform) while the limiter keeps the pace; each row is marked sent, committed, as soon as
    the API confirms it, before its chat's next row may go."""

    held_retry = HELD_RETRY
    token_retry = TOKEN_RETRY

    def __init__(
        self,
        *,
        store: SqlDelivery,
        sessions: Any,
        bots: dict[Platform, PlatformBot],
        rules: RoutingRules,
        clock: Clock,
        limits: dict[Platform, Limits],
        concurrency: int = 32,
        idle_poll: float = 0.5,
        refresh: float = 5.0,
        batch: int = 500,
        wall: Clock | None = None,
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.bots = bots
        self.rules = rules
        self.clock = clock  # business time: what cards say (overdue, dates)
        # physical time for retries and sending: a test may move the business clock by days
        self.wall = wall or SystemClock()
        self.limiters = {p: RateLimiter(limits[p]) for p in bots}
        self.concurrency = concurrency
        self.idle_poll = idle_poll
        self.refresh = refresh
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: set[tuple[Platform, int]] = set()
        self._busy: dict[Platform, int] = dict.fromkeys(Platform, 0)
        self._answered: dict[Platform, float] = dict.fromkeys(Platform, -math.inf)
        self._probe: dict[Platform, tuple[int, float]] = {}  # (row id, sent at): goes alone
        # the snapshot: each chat's head, oldest first, until it is done
        self._heads: dict[tuple[Platform, int], Pending] = {}
        self._more: frozenset[tuple[Platform, int]] = frozenset()
        self._full = False
        self._stale = True
        self._fetched_at = -math.inf
        self._last_take = -math.inf
        self._fetching = False
        self._done_while_fetching: set[int] = set()
        self._held: set[tuple[Platform, int]] = set()  # groups refusing the bot (held_chats)
        self._token_refused: set[Platform] = set()
        self._worked: dict[Platform, datetime] = {}  # the last send each platform took
        self._alert_due = True  # rows parked before a restart are told about too
        self._alert_at = -math.inf
        self._held_loaded = False

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._stale = True
        self._wake.set()

    async def stop(self) -> None:
        """Finish what is in flight and stop."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """The loop: pick each chat's oldest due row, send within the limits, repeat."""
        tasks: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                delay = await self._round(tasks)
            except Exception:
                log.exception("delivery round failed; retrying")
                self._stale = True
                delay = 1.0
            if self._stopping:
                break
            self._wake.clear()
            timer = loop.call_later(max(delay, 0.0), self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _max_age(self, now: float) -> float:
        """How old the snapshot may get: `idle_poll` when idle, `refresh` while sending."""
        idle = not self._in_flight and now - self._last_take > 1.0
        return self.idle_poll if idle else self.refresh

    def _needs_fetch(self, now: float) -> bool:
        if self._stale or now - self._fetched_at >= self._max_age(now):
            return True
        # more rows beyond the window: read on before the snapshot runs dry
        return self._full and len(self._heads) - len(self._in_flight) < self.batch // 4

    async def _fetch(self, now: float) -> None:
        self._stale = False
        self._fetching = True
        self._done_while_fetching.clear()
        try:
            due = await self.store.due(self.batch)
        finally:
            self._fetching = False
        self._fetched_at = now
        # a row finished while the query ran may come back as unsent: leave its chat for the
        # next look (which then sees the outcome), so it is never sent twice
        done = self._done_while_fetching
        self._heads = {(h.platform, h.chat_id): h for h in due.heads if h.id not in done}
        self._more, self._full = due.more, due.full
        if done:
            self._stale = True

    async def _round(self, tasks: set[asyncio.Task[None]]) -> float:
        """Start sends for everything ready; return how long to sleep before the next look."""
        if not self._held_loaded:
            self._held = {(h.platform, h.chat_id) for h in await self.store.held()}
            self._held_loaded = True
        if self._alert_due and time.monotonic() - self._alert_at > ALERT_EVERY:
            await self._alert_parked()
        if self._needs_fetch(time.monotonic()):
            await self._fetch(time.monotonic())
        now_wall = self.wall.now()
        now = time.monotonic()
        next_look = max(0.0, self._fetched_at + self._max_age(now) - now)
        held: set[Platform] = set()  # platforms that may send nothing more this round
        for key, item in self._heads.items():
            platform = item.platform
            if platform in held or key in self._in_flight or platform not in self.bots:
                continue
            wait = (item.next_attempt_at - now_wall).total_seconds()
            if wait > 0:
                next_look = min(next_look, wait)
                continue
            limiter = self.limiters[platform]
            busy = self._busy[platform]
            probe = self._probe.get(platform)
            if busy >= self.concurrency:
                held.add(platform)  # a send finishing wakes the loop
            elif probe is not None and now - probe[1] < COLD:
                next_look = min(next_look, probe[1] + COLD - now)
                held.add(platform)
            elif (wait := limiter.global_wait(now)) > 0:
                next_look = min(next_look, wait)
                held.add(platform)
            else:
                group = item.kind in _GROUP_KINDS or item.kind is NoticeKind.BROADCAST
                wait = limiter.wait_time(item.chat_id, group, now)
                if wait > 0:
                    next_look = min(next_look, wait)
                    continue
                limiter.take(item.chat_id, group, now)
                self._last_take = now
                if not busy and now - self._answered[platform] > COLD:
                    self._probe[platform] = (item.id, now)
                self._in_flight.add(key)
                self._busy[platform] += 1
                task = asyncio.create_task(self._deliver(item))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                continue
            if len(held) == len(self.bots):
                break
        return next_look

    async def _deliver(self, item: Pending) -> None:
        key = (item.platform, item.chat_id)
        retry: Pending | None = None
        try:
            message_id, role = await self._send(item)
        except Exception as exc:
            retry = await self._failed(item, exc)
        else:
            await self._succeeded(item, message_id, role)
        finally:
            # the outcome is committed (or its write failed: the row is still unsent and the
            # next look reads it again); either way this snapshot of the row is used up
            self._in_flight.discard(key)
            self._busy[item.platform] -= 1
            answered = self._answered[item.platform] = time.monotonic()
            if self._probe.get(item.platform, (None,))[0] == item.id:
                # the first answer after a quiet spell: pace the next send from here
                del self._probe[item.platform]
                limiter = self.limiters[item.platform]
                limiter.not_before(answered + 1 / limiter.limits.per_second)
            if self._fetching:
                self._done_while_fetching.add(item.id)
            head = self._heads.get(key)
            if head is not None and head.id == item.id:
                if retry is None:
                    del self._heads[key]
                else:
                    self._heads[key] = retry  # as the database now has it: due later
            if key in self._more:
                self._stale = True  # the chat's next row is waiting: look again
            self._wake.set()

    async def _succeeded(self, item: Pending, message_id: int | None, role: str | None) -> None:
        now = self.wall.now()
        await self.store.mark_sent(item, now, message_id=message_id or None,
                                   link_role=role)  # fmt: skip
        self._worked[item.platform] = now
        if item.platform in self._token_refused:
            self._token_refused.discard(item.platform)
            log.warning("%s accepts the bot token again; sending resumes", item.platform.value)
        key = (item.platform, item.chat_id)
        if key in self._held:
            self._held.discard(key)
            alert = {"template": "released", "platform": item.platform.value,
                     "chat_id": item.chat_id}  # fmt: skip
            if await self.store.release_chat(
                item.platform, item.chat_id, now, alerts=self._alerts(alert, skip=key)
            ):
                log.warning("%s group %s takes messages again; its queue resumes",
                            item.platform.value, item.chat_id)  # fmt: skip

    async def _failed(self, item: Pending, exc: Exception) -> Pending | None:
        """Act on a failed send as its classification says (`bot/runtime/boundary.py`); returns the
        row as it now waits, or None when it is finished with (parked, dropped, done)."""
        if isinstance(exc, SourceFailed):
            return await self._source_failed(item, exc)
        if isinstance(exc, Permanent):
            verdict = Verdict(Outcome.PERMANENT, str(exc))
        else:
            verdict = classify(exc, group=self._is_group(item))
        platform = item.platform
        now = self.wall.now()
        match verdict.outcome:
            case Outcome.RATE_LIMITED:
                # the platform says slow down: nothing goes on it until the wait has passed
                self.limiters[platform].pause(verdict.wait, time.monotonic())
                return await self._later(item, verdict.wait, verdict.reason, failing=False)
            case Outcome.TRANSIENT:
                if self._stuck(item, now, transient=True):
                    await self._park(item, f"{verdict.reason} (for {PARK_AFTER_MINUTES} min)")
                    return None
                return await self._later(item, self._backoff(item.attempts), verdict.reason)
            case Outcome.UNAUTHORIZED:
                await self._token_refused_by(platform, verdict.reason)
                self.limiters[platform].pause(self.token_retry, time.monotonic())
                return await self._later(item, self.token_retry, verdict.reason, failing=False)
            case Outcome.BLOCKED:
                count = await self.store.block_chat(platform, item.chat_id, verdict.reason, now)
                log.warning("chat %s:%s unreachable (%s); %d messages dropped from the queue",
                            platform.value, item.chat_id, verdict.reason, count)  # fmt: skip
                return None
            case Outcome.HELD if verdict.new_chat_id is not None:
                # upgraded to a supergroup: the admins are told once (to put the new id in
                # routing_rules.yaml), and what is queued goes to the new id meanwhile
                await self._hold(item, verdict, now)
                moved = await self.store.move_chat(platform, item.chat_id, verdict.new_chat_id)
                log.warning("%s group %s is now %s; %d queued messages moved there",
                            platform.value, item.chat_id, verdict.new_chat_id, moved)  # fmt: skip
                self._stale = True
                return None
            case Outcome.HELD:
                await self._hold(item, verdict, now)
                delay = min(self.held_retry, self._backoff(item.attempts))
                return await self._later(item, delay, verdict.reason, failing=False)
            case Outcome.DONE:
                log.info("outbox %d (%s): %s; nothing left to do", item.id, item.kind.value,
                         verdict.reason)  # fmt: skip
                await self.store.done(item, now, verdict.reason)
                return None
            case Outcome.PERMANENT:
                await self._park(item, verdict.reason)
                return None
        log.error("outbox %d (%s) failed: %s", item.id, item.kind.value, verdict.reason)
        if self._stuck(item, now, transient=False):
            await self._park(item, f"{verdict.reason} (for {PARK_AFTER_MINUTES} min)")
            return None
        return await self._later(item, self._backoff(item.attempts), verdict.reason)

    async def _source_failed(self, item: Pending, exc: SourceFailed) -> Pending | None:
        """The file could not be fetched from its own platform: retry on that platform's
        terms, without pausing the target; a file that is gone is parked."""
        verdict = classify(exc.error, group=False)
        reason = f"{exc.platform.value}: {verdict.reason}"
        match verdict.outcome:
            case Outcome.RATE_LIMITED:
                return await self._later(item, verdict.wait, reason, failing=False)
            case Outcome.UNAUTHORIZED:
                return await self._later(item, self.token_retry, reason, failing=False)
            case Outcome.TRANSIENT | Outcome.UNKNOWN:
                if self._stuck(item, self.wall.now(), transient=False):
                    await self._park(item, f"{reason} (for {PARK_AFTER_MINUTES} min)")
                    return None
                return await self._later(item, self._backoff(item.attempts), reason)
        await self._park(item, reason)
        return None

    def _stuck(self, item: Pending, now: datetime, *, transient: bool) -> bool:
        """Whether a row has failed long enough to be parked: an unclassified failure after
        PARK_AFTER; a transient one only when the platform took other messages meanwhile (an
        outage holds every row and parks none)."""
        since = item.failing_since
        if since is None or now - since < PARK_AFTER:
            return False
        if not transient:
            return True
        worked = self._worked.get(item.platform)
        return worked is not None and worked > since + PARK_AFTER / 2

    async def _park(self, item: Pending, reason: str) -> None:
        log.error("outbox %d (%s) to %s parked: %s", item.id, item.kind.value,
                  item.platform.value, reason)  # fmt: skip
        # an alert that cannot be sent is not alerted about (no loop); the others are, in batches
        await self.store.park(item, reason, alerted=item.kind is NoticeKind.ADMIN_ALERT)
        self._alert_due = True

    async def _hold(self, item: Pending, verdict: Verdict, now: datetime) -> None:
        key = (item.platform, item.chat_id)
        if key in self._held:
            return
        alert = {"template": "held", "platform": item.platform.value, "chat_id": item.chat_id,
                 "reason": verdict.reason, "new_chat_id": verdict.new_chat_id}  # fmt: skip
        newly = await self.store.hold_chat(
            item.platform, item.chat_id, verdict.reason, now,
            new_chat_id=verdict.new_chat_id, alerts=self._alerts(alert, skip=key),
        )  # fmt: skip
        self._held.add(key)  # after the write: a failed write is tried again next time
        if newly:
            log.error("%s group %s refuses the bot (%s); its messages are held and the admin "
                      "chats told", item.platform.value, item.chat_id, verdict.reason)  # fmt: skip

    async def _token_refused_by(self, platform: Platform, reason: str) -> None:
        if platform in self._token_refused:
            return
        self._token_refused.add(platform)
        log.error("%s refuses the bot token (401): check %s_BOT_TOKEN; messages to %s wait, "
                  "the other platform is served", platform.value, platform.value.upper(),
                  platform.value)  # fmt: skip
        try:
            for other in (p for p in self.bots if p is not platform):
                alert = {"template": "token", "platform": platform.value, "other": other.value}
                await self.store.queue(self._alerts(alert, only=other), self.wall.now())
        except Exception:
            self._token_refused.discard(platform)  # told next time instead
            raise

    def _alerts(
        self,
        data: dict[str, Any],
        *,
        skip: tuple[Platform, int] | None = None,
        only: Platform | None = None,
    ) -> list[Notice]:
        """One alert notice per admin chat on every platform served (but `skip`)."""
        return [
            Notice(chat.platform, chat.chat_id, NoticeKind.ADMIN_ALERT, None, dict(data))
            for chat in admin_chats(self.rules.admins)
            if chat.platform in self.bots
            and (only is None or chat.platform is only)
            and (chat.platform, chat.chat_id) != skip
        ]

    async def _alert_parked(self) -> None:
        """Tell the admin chats about rows parked since the last look, in one message each."""

        def notices(rows: list[Any]) -> list[Notice]:
            listed = [
                {"id": r[0], "kind": r[1], "platform": r[2], "error": (r[3] or "")[:160]}
                for r in rows[:5]
            ]
            return self._alerts({"template": "parked", "count": len(rows), "rows": listed})

        self._alert_due = False
        if await self.store.alert_parked(notices, self.wall.now()):
            self._alert_at = time.monotonic()  # the next one waits ALERT_EVERY: one per batch
            self.wake()

    def _is_group(self, item: Pending) -> bool:
        """Whether a row goes to a staff or admin group (held on refusal, never dropped)."""
        if item.kind in _GROUP_KINDS or item.kind is NoticeKind.ADMIN_ALERT:
            return True
        chat = item.chat_id
        return chat in self.rules.admins.get(item.platform, frozenset()) or (
            self.rules.unit_for_chat(item.platform, chat) is not None
        )

    async def _later(
        self, item: Pending, delay: float, error: str, *, failing: bool = True
    ) -> Pending:
        """Try the row again after `delay`. `failing` (a transient or unclassified failure)
        starts or continues its run of failures, which may end in parking; waiting on a rate
        limit, a held group or a refused token is no failure of the row and ends the run."""
        log.warning("outbox %d (%s) to %s: %s; retry in %.1fs", item.id, item.kind.value,
                    item.platform.value, error, delay)  # fmt: skip
        now = self.wall.now()
        when = now + timedelta(seconds=delay)
        since = (item.failing_since or now) if failing else None
        await self.store.retry_later(item, when, error, failing_since=since)
        return replace(item, attempts=item.attempts + 1, next_attempt_at=when,
                       failing_since=since)  # fmt: skip

    @staticmethod
    def _backoff(attempts: int) -> float:
        # 0.5 s, 1 s, 2 s, ... capped at a minute, with jitter so retries do not bunch up
        jitter = 0.75 + random.random() / 2
        return float(min(MAX_BACKOFF, 0.5 * 2 ** min(attempts, 12) * jitter))

    # --- sending each kind ---------------------------------------------------------------------

    async def _request(self, code: str | None) -> Request | None:
        if code is None:
            return None
        async with SqlUnitOfWork(self.sessions) as tx:
            return await tx.requests.get(code)

    async def _send(self, item: Pending) -> tuple[int | None, str | None]:
        """Send one row; returns (message id, link role) for the thread map."""
        bot = self.bots[item.platform]
        ui = bot.ui
        chat = ChatRef(item.platform, item.chat_id)
        if item.kind is NoticeKind.CARD_REFRESH:
            # before the request is read: the state read next covers every refresh queued
            await self.store.supersede_refreshes(item, self.wall.now())
        request = await self._request(item.code)
        if item.code is not None and request is None:
            raise Permanent(f"request {item.code} does not exist")
        now = self.clock.now()
        match item.kind:
            case NoticeKind.STAFF_CARD:
                assert request is not None
                text = render.staff_card(ui, request, self.rules, chat, now, item.data)
                sent = await bot.send_message(
                    item.chat_id, text, reply_markup=self._card_markup(request, chat)
                )
                return sent.message_id, "card"
            case NoticeKind.CARD_REFRESH:
                assert request is not None
                card_id = await self.store.card(item.platform, item.chat_id, request.code)
                text = render.staff_card(ui, request, self.rules, chat, now)
                if card_id is None:
                    # no card to edit: its send was parked, or the platform's answer to it
                    # named no message id. Staff must still see the truth: a new card.
                    log.warning("outbox %d: no card of %s in %s:%s to edit; sending it anew",
                                item.id, request.code, item.platform.value,
                                item.chat_id)  # fmt: skip
                    sent = await bot.send_message(
                        item.chat_id, text, reply_markup=self._card_markup(request, chat)
                    )
                    return sent.message_id, "card"
                # "not modified" is classified as done; any `ok: true` answer (a Message, true,
                # Bale's stub) is a success (`bot/runtime/boundary.py`): the edit's answer is
                # not used
                await bot.edit_message_text(
                    text=text, chat_id=item.chat_id, message_id=card_id,
                    reply_markup=self._card_markup(request, chat),
                )  # fmt: skip
                return None, None
            case NoticeKind.STAFF_NOTE:
                text = render.staff_note(ui, request, self.rules, item.data)
                return (await self._thread_text(bot, item, text)).message_id, "note"
            case NoticeKind.BROADCAST:
                if str(item.data.get("template", "")).startswith("draft_"):
                    draft = await self._draft(item)
                    sent = await bot.send_message(
                        item.chat_id, render.draft_admin(ui, draft, item.data)
                    )
                    return sent.message_id, None
                if item.data.get("template") == "digest":
                    units = item.data.get("units") or {}
                    assert isinstance(units, dict)
                    text = render.digest(ui, self.rules, units, now)
                else:
                    assert request is not None
                    text = render.escalation(ui, request, self.rules)
                sent = await bot.send_message(item.chat_id, text)
                return sent.message_id, ("note" if request else None)
            case NoticeKind.CITIZEN_TEXT:
                assert request is not None
                text = render.citizen_notice(ui, request, self.rules, item.data)
                template = item.data.get("template")
                markup: InlineKeyboardMarkup | None = None
                if template == "answer":
                    markup = keyboards.rating(request.code)
                elif template == "question":
                    markup = keyboards.reply_to_question(request.code)
                sent = await bot.send_message(item.chat_id, text, reply_markup=markup)
                role = {"answer": "answer", "question": "question"}.get(str(template), "notice")
                return sent.message_id, role
            case (
                NoticeKind.DRAFT_ANNOUNCE
                | NoticeKind.DRAFT_REMINDER
                | NoticeKind.DRAFT_DIGEST
                | NoticeKind.DRAFT_OUTCOME
            ):
                return await self._send_draft(bot, item, request)
            case NoticeKind.ADMIN_ALERT:
                text = render.admin_alert(ui, self.rules, item.data)
                return (await bot.send_message(item.chat_id, text)).message_id, None
            case NoticeKind.STAFF_COPY | NoticeKind.CITIZEN_COPY:
                copy = await self._send_file(bot, item)
                copied = "attachment" if item.kind is NoticeKind.STAFF_COPY else None
                return (copy.message_id if copy else None), copied
        raise Permanent(f"unknown notice kind {item.kind}")

    async def _draft(self, item: Pending) -> Draft:
        draft_id = int(str(item.data["draft"]))
        async with SqlUnitOfWork(self.sessions) as tx:
            draft = await tx.drafts.get(draft_id)
        if draft is None:
            raise Permanent(f"draft {draft_id} does not exist")
        return draft

    async def _send_draft(
        self, bot: PlatformBot, item: Pending, request: Request | None
    ) -> tuple[int | None, str | None]:
        ui = bot.ui
        draft = await self._draft(item)
        assert draft.id is not None
        now = self.clock.now()
        if item.kind in (NoticeKind.DRAFT_ANNOUNCE, NoticeKind.DRAFT_REMINDER):
            if not draft.is_open_at(now):
                return None, None  # closed before this citizen's turn came: nothing to say
            text = (
                render.draft_card(ui, draft, self.rules, announce=True)
                if item.kind is NoticeKind.DRAFT_ANNOUNCE
                else render.draft_reminder(ui, draft)
            )
            sent = await bot.send_message(
                item.chat_id, text, reply_markup=keyboards.draft_actions(draft.id)
            )
            return sent.message_id, None
        if item.kind is NoticeKind.DRAFT_DIGEST:
            async with SqlUnitOfWork(self.sessions) as tx:
                comments = await tx.drafts.comments(draft.id)
            workbook = comments_workbook(draft, comments)
            text = render.draft_digest(ui, draft, comments)
            # a caption takes 1,024 characters; cutting rendered text could end inside an
            # escaped title, which the platform refuses: a longer digest goes as its own message
            caption = text if len(text) <= 1024 else None
            sent = await bot.send_document(
                item.chat_id,
                BufferedInputFile(workbook, filename=f"comments-{draft.id}.xlsx"),
                caption=caption,
            )
            await self.store.link(item.platform, item.chat_id, sent.message_id,
                                  f"d{draft.id}", "digest", self.wall.now())  # fmt: skip
            if caption is None:
                note = await bot.send_message(item.chat_id, text)
                await self.store.link(item.platform, item.chat_id, note.message_id,
                                      f"d{draft.id}", "digest", self.wall.now())  # fmt: skip
            return sent.message_id, None
        # the outcome, to one commenter: the note, their comment's code, the final file
        assert request is not None
        text = render.draft_outcome(ui, draft, request.code)
        final = await self.document(bot, draft.id, "final")
        if final is None or len(text) > 1024:
            sent = await bot.send_message(item.chat_id, text)
            if final is not None:
                await self.remember(bot, draft.id, "final", final,
                                    await bot.send_document(item.chat_id, final))  # fmt: skip
            return sent.message_id, None
        sent = await bot.send_document(item.chat_id, final, caption=text)
        await self.remember(bot, draft.id, "final", final, sent)
        return sent.message_id, None

    async def remember(
        self, bot: PlatformBot, draft_id: int, role: str, given: Any, sent: Message
    ) -> None:
        """After a first upload, keep the platform's file id for everyone after."""
        if isinstance(given, BufferedInputFile) and sent.document is not None:
            key = f"draft:{draft_id}:{role}"
            await self.store.remember_upload(key, bot.platform, sent.document.file_id)

    async def document(self, bot: PlatformBot, draft_id: int, role: str) -> Any:
        """A draft's file for this bot: its file id when uploaded before, else the bytes."""
        key = f"draft:{draft_id}:{role}"
        cached = await self.store.uploaded(key, bot.platform)
        if cached is not None:
            return cached
        async with SqlUnitOfWork(self.sessions) as tx:
            stored = await tx.drafts.file(draft_id, role)
        if stored is None:
            return None
        return BufferedInputFile(stored.content, filename=stored.name)

    def _card_markup(self, request: Request, chat: ChatRef) -> InlineKeyboardMarkup | None:
        if request.kind.value in ("survey", "comment") or not request.is_open:
            return None
        if not render.card_is_live(request, self.rules, chat):
            return None
        return keyboards.card_actions(request.code, claimed=request.claimed_by is not None)

    async def _reply_to(self, item: Pending) -> int | None:
        if item.code is None:
            return None
        return await self.store.card(item.platform, item.chat_id, item.code)

    async def _thread_text(self, bot: PlatformBot, item: Pending, text: str) -> Message:
        card = await self._reply_to(item)
        kwargs: dict[str, Any] = {}
        if card is not None:
            kwargs = {"reply_to_message_id": card, "allow_sending_without_reply": True}
        return await bot.send_message(item.chat_id, text, **kwargs)

    async def _send_file(self, bot: PlatformBot, item: Pending) -> Message | None:
        """An attachment (or an album of them) by file id on the same platform, re-uploaded
        across platforms, as a reply to the card in a staff chat."""
        source = Platform(str(item.data.get("source") or item.platform.value))
        card = await self._reply_to(item) if item.kind is NoticeKind.STAFF_COPY else None
        extra: dict[str, Any] = {}
        if card is not None:
            extra = {"reply_to_message_id": card, "allow_sending_without_reply": True}
        files = item.data.get("files")
        if isinstance(files, list):
            group = [Attachment.from_dict(raw) for raw in files if isinstance(raw, dict)]
            sent = await self._send_album(bot, item, group, source, extra)
            if item.kind is NoticeKind.STAFF_COPY and item.code is not None:
                for message in sent[1:]:  # the first is linked with the row (mark_sent)
                    if message.message_id:
                        await self.store.link(item.platform, item.chat_id, message.message_id,
                                              item.code, "attachment", self.wall.now())  # fmt: skip
            return sent[0] if sent else None  # empty: all sent before a crash
        raw = item.data["file"]
        assert isinstance(raw, dict)
        return await self._send_one(bot, item, Attachment.from_dict(raw), source, extra)

    async def _file(self, source: Platform, attachment: Attachment, target: Platform) -> Any:
        assert attachment.file_id is not None
        if source is not target:
            return await self._transfer(source, attachment, target)
        return attachment.file_id

    async def _send_one(
        self,
        bot: PlatformBot,
        item: Pending,
        attachment: Attachment,
        source: Platform,
        extra: dict[str, Any],
    ) -> Message:
        if attachment.kind is AttachmentKind.LOCATION:
            assert attachment.latitude is not None and attachment.longitude is not None
            return await bot.send_location(
                item.chat_id, attachment.latitude, attachment.longitude, **extra
            )
        file = await self._file(source, attachment, item.platform)
        senders = {
            AttachmentKind.PHOTO: bot.send_photo,
            AttachmentKind.VOICE: bot.send_voice,
            AttachmentKind.VIDEO: bot.send_video,
            AttachmentKind.AUDIO: bot.send_audio,
            AttachmentKind.DOCUMENT: bot.send_document,
        }
        send: Any = senders[attachment.kind]
        sent: Message = await send(item.chat_id, file, **extra)
        return sent

    async def _send_album(
        self,
        bot: PlatformBot,
        item: Pending,
        group: list[Attachment],
        source: Platform,
        extra: dict[str, Any],
    ) -> list[Message]:
        """One sendMediaGroup where the platform groups these kinds (Telegram: photos with
        videos, documents, audio; Bale: photos with videos, as Balethon documents), else the
        files one by one. An album the platform refuses as such is sent one by one too."""
        visual = all(a.kind in (AttachmentKind.PHOTO, AttachmentKind.VIDEO) for a in group)
        if len(group) >= 2 and (visual or item.platform is Platform.TELEGRAM):
            media: list[Any] = []
            for attachment in group:
                file = await self._file(source, attachment, item.platform)
                cls = {
                    AttachmentKind.PHOTO: InputMediaPhoto,
                    AttachmentKind.VIDEO: InputMediaVideo,
                    AttachmentKind.DOCUMENT: InputMediaDocument,
                    AttachmentKind.AUDIO: InputMediaAudio,
                }[attachment.kind]
                media.append(cls(media=file))
            try:
                return list(await bot.send_media_group(item.chat_id, media, **extra))
            except TelegramBadRequest as exc:
                if classify(exc, group=True).outcome is not Outcome.PERMANENT:
                    raise
                log.warning("outbox %d: %s refused the album (%s); sending its files one by one",
                            item.id, item.platform.value, exc.message)  # fmt: skip
        return await self._one_by_one(bot, item, group, source, extra)

    async def _one_by_one(
        self,
        bot: PlatformBot,
        item: Pending,
        group: list[Attachment],
        source: Platform,
        extra: dict[str, Any],
    ) -> list[Message]:
        """An album's files one at a time, a second apart (the chat's own pace), each one's
        sending recorded on the row (`done`), so a retry after a failure half-way sends only
        the rest (the retry's snapshot of the row shares this data)."""
        done = int(str(item.data.get("done") or 0))
        interval = self.limiters[item.platform].limits.per_chat_interval
        sent: list[Message] = []
        for index, attachment in enumerate(group):
            if index < done:
                continue
            if sent:
                await asyncio.sleep(interval)
            sent.append(await self._send_one(bot, item, attachment, source, extra))
            item.data["done"] = index + 1
            await self.store.set_data(item.id, item.data)
        return sent

    async def _transfer(self, source: Platform, attachment: Attachment, target: Platform) -> Any:
        """Download from the platform the file lives on, to upload on the other one."""
        source_bot = self.bots.get(source)
        if source_bot is None:
            raise Permanent(f"no {source.value} bot to fetch the file from")
        if (attachment.file_size or 0) > max_file_size(target, attachment.kind):
            raise Permanent("file too large for the other platform")
        assert attachment.file_id is not None
        try:
            data = await source_bot.download(attachment.file_id)
        except Exception as exc:
            raise SourceFailed(source, exc) from exc
        if data is None:  # pragma: no cover - download() without destination returns BytesIO
            raise Permanent("download returned nothing")
        name = attachment.file_name or f"{attachment.kind.value}"
        return BufferedInputFile(data.read(), filename=name)


def default_limits(
    bale_per_second: float, telegram_per_second: float = 30.0
) -> dict[Platform, Limits]:
    """Telegram's documented limits (30/s at most); Bale's settable; one a second per chat and
    20 a minute per group on both."""
    return {
        Platform.TELEGRAM: Limits(per_second=telegram_per_second),
        Platform.BALE: Limits(per_second=bale_per_second),
    }
