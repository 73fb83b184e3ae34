"""The outbox loop: reads each chat's oldest unsent row, sends it at its platform's pace
through the sender it was given (`bot/workers/delivery/senders.py`), and acts on the outcome.

- Rows of one chat go out in order: only the oldest unsent row of a chat is ever in flight.
- Rate limits per platform (`pacing.py`). The outbox is read in batches and sends to
  different chats overlap in flight, so the platform's rate is reached, not just approached
  (bench/broadcast.py).
- 429 waits `retry_after`, and nothing else goes to that platform meanwhile; 5xx, timeouts,
  dropped connections and Bale's `bot limit exceed` / `local_rate_limited` back off
  exponentially; 403 marks the chat unreachable; a 400 that no retry can fix is kept as
  failed, with its error, for an operator to see.
- A row is marked sent right after the API confirmed it, so a restart resends only what was
  not confirmed: at most the messages in flight at a crash, one per chat. A confirmed send whose
  record fails (the database restarting, SQLite busy) is recorded again, never sent again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.ports import NoSharedRate, OutboxStore, Sender, SharedRate
from bot.runtime.boundary import Outcome, Verdict, classify
from bot.runtime.metrics import Metrics
from bot.workers.delivery.errors import Permanent, SourceFailed
from bot.workers.delivery.pacing import COLD, RateLimiter, backoff
from desk.model import Notice, NoticeKind, Platform
from desk.outbox import Pending
from desk.ports import Clock, SystemClock
from desk.routing import RoutingRules, admin_chats

log = logging.getLogger(__name__)

HELD_RELOAD = 30.0  # seconds between two reads of the held groups (other workers hold too)
HELD_RETRY = 60.0  # a group that refuses the bot is tried again this often, at most
TOKEN_RETRY = 300.0  # a platform that refuses the token is tried again this often
RECORD_RETRY = (0.2, 5.0)  # a confirmed send's record is written again after 0.2 s, up to 5 s
RECORD_PATIENCE = 600.0  # for at most this long; then the row is left to be read and sent again
PARK_AFTER_MINUTES = 15
PARK_AFTER = timedelta(minutes=PARK_AFTER_MINUTES)  # then a row failing alone is set aside
ALERT_EVERY = 60.0  # at most one message about parked rows a minute, per admin chat
_GROUP_KINDS = frozenset(
    {NoticeKind.STAFF_CARD, NoticeKind.CARD_REFRESH, NoticeKind.STAFF_NOTE, NoticeKind.STAFF_COPY}
)


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
    held_reload = HELD_RELOAD
    token_retry = TOKEN_RETRY
    record_patience = RECORD_PATIENCE

    def __init__(
        self,
        *,
        store: OutboxStore,
        send: Sender,
        platforms: Iterable[Platform],
        rules: RoutingRules,
        limiters: Mapping[Platform, RateLimiter],
        concurrency: int = 32,
        idle_poll: float = 0.5,
        refresh: float = 5.0,
        batch: int = 500,
        wall: Clock | None = None,
        shared: SharedRate | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        # the platforms' rates across every worker (Redis), on top of this worker's own pacing
        self.shared: SharedRate = shared or NoSharedRate()
        self._shared_failing = False
        self.metrics = metrics or Metrics()  # sends by outcome, 429s, parked rows (/metrics)
        self.send = send  # one row to the platform: `NoticeSender`, or a test's fake
        self.platforms = tuple(platforms)  # the platforms served (a bot for each)
        self.rules = rules
        # physical time for retries and sending: a test may move the business clock by days
        self.wall = wall or SystemClock()
        self.limiters = limiters  # shared with the sender (an album's files keep the chat's pace)
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
        # rows finished while the outbox was read: row id -> (its chat, the row to retry or None)
        self._done_while_fetching: dict[int, tuple[tuple[Platform, int], Pending | None]] = {}
        self._held: set[tuple[Platform, int]] = set()  # groups refusing the bot (held_chats)
        self._token_refused: set[Platform] = set()
        self._worked: dict[Platform, datetime] = {}  # the last send each platform took
        self._alert_due = True  # rows parked before a restart are told about too
        self._alert_at = -math.inf
        self._held_loaded_at = -math.inf
        self._held_changes = 0  # this worker's own holds and releases, counted

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
        try:
            await self.store.release()  # the other workers may take this one's chats now
        except Exception:
            log.warning("could not let this worker's chats go; they free themselves in a minute")

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
        # a row finished while the query ran may come back as unsent: it is left out, so it is
        # never sent twice. Only a chat with more rows behind it needs another look (its next
        # row may not be in this snapshot): looking again for every send that overlapped the
        # query kept the loop reading once a send at 50 a second (2026-12-02: 60 reads and
        # half the pace, whenever sends and reads lined up)
        done = self._done_while_fetching
        self._heads = {(h.platform, h.chat_id): h for h in due.heads if h.id not in done}
        for key, retry in done.values():
            if retry is not None and key not in self._heads:
                self._heads[key] = retry  # failed meanwhile: due again as the database has it
        self._more, self._full = due.more, due.full
        if any(key in due.more for key, _ in done.values()):
            self._stale = True

    async def _round(self, tasks: set[asyncio.Task[None]]) -> float:
        """Start sends for everything ready; return how long to sleep before the next look."""
        if time.monotonic() - self._held_loaded_at > self.held_reload:
            # read again now and then: another worker may have held a group this one sends to
            # next (and must then release, and say so). A hold or release of this worker's
            # own while the read was out wins: the read is thrown away and made again.
            changes = self._held_changes
            read = {(h.platform, h.chat_id) for h in await self.store.held()}
            if changes == self._held_changes:
                self._held = read
                self._held_loaded_at = time.monotonic()
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
            if platform in held or key in self._in_flight or platform not in self.platforms:
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
            if len(held) == len(self.platforms):
                break
        return next_look

    async def _deliver(self, item: Pending) -> None:
        key = (item.platform, item.chat_id)
        retry: Pending | None = None
        try:
            await self._shared_slot(item.platform)
            message_id, role = await self.send(item)
        except Exception as exc:
            try:
                retry = await self._failed(item, exc)
            except Exception as write:  # the database: the row is still unsent, read again
                self._unrecorded(item, "its failure", write)
        else:
            self.metrics.sent(item.platform.value, "sent")
            try:
                await self._succeeded(item, message_id, role)
            except Exception as write:  # after the mark: a held group's release, say
                self._unrecorded(item, "what followed its send", write)
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
                self._done_while_fetching[item.id] = (key, retry)
            head = self._heads.get(key)
            if head is not None and head.id == item.id:
                if retry is None:
                    del self._heads[key]
                else:
                    self._heads[key] = retry  # as the database now has it: due later
            if key in self._more:
                self._stale = True  # the chat's next row is waiting: look again
            self._wake.set()

    @staticmethod
    def _unrecorded(item: Pending, what: str, exc: Exception) -> None:
        """A write about a send failed: one line, no traceback, and no task ends on it (asyncio
        would print its exception, traceback and all, whenever the task is collected)."""
        log.warning("outbox %d: %s could not be recorded (%s); the outbox is read again",
                    item.id, what, type(exc).__name__)  # fmt: skip

    async def _shared_slot(self, platform: Platform) -> None:
        """Wait for this send's slot in the rate all workers share. Without an answer from
        Redis the send goes on this worker's own pacing (a 429 then slows it, as alone)."""
        try:
            wait = await self.shared.slot(platform, self.limiters[platform].limits.per_second)
        except Exception as exc:
            if not self._shared_failing:
                log.warning("shared send rate unavailable (%s); pacing this worker alone",
                            type(exc).__name__)  # fmt: skip
            self._shared_failing = True
            return
        if self._shared_failing:
            log.warning("shared send rate available again")
            self._shared_failing = False
        if wait > 0:
            await asyncio.sleep(wait)

    async def _succeeded(self, item: Pending, message_id: int | None, role: str | None) -> None:
        now = self.wall.now()
        if not await self._record_sent(item, now, message_id or None, role):
            return
        self._worked[item.platform] = now
        if item.platform in self._token_refused:
            self._token_refused.discard(item.platform)
            log.warning("%s accepts the bot token again; sending resumes", item.platform.value)
        key = (item.platform, item.chat_id)
        if key in self._held:
            self._held.discard(key)
            self._held_changes += 1
            alert = {"template": "released", "platform": item.platform.value,
                     "chat_id": item.chat_id}  # fmt: skip
            try:
                released = await self.store.release_chat(
                    item.platform, item.chat_id, now, alerts=self._alerts(alert, skip=key)
                )
            finally:
                self._held_changes += 1  # a read of the held groups made meanwhile is stale
            if released:
                log.warning("%s group %s takes messages again; its queue resumes",
                            item.platform.value, item.chat_id)  # fmt: skip

    async def _record_sent(
        self, item: Pending, now: datetime, message_id: int | None, role: str | None
    ) -> bool:
        """Mark the row sent; False if it could not be. The platform has the message: while
        the write fails it is tried again (the chat stays in flight, so the row is not read and
        sent again), until it goes through or the worker stops; a row left unmarked then is
        sent again after the restart, as after a crash (so too after `record_patience`: a
        write failing that long is not a database restarting)."""
        delay, longest = RECORD_RETRY
        give_up = time.monotonic() + self.record_patience
        while True:
            try:
                await self.store.mark_sent(item, now, message_id=message_id, link_role=role)
                return True
            except Exception as exc:
                if self._stopping or time.monotonic() + delay > give_up:
                    log.error("outbox %d was sent but could not be marked sent (%s); it will "
                              "be sent again", item.id, type(exc).__name__)  # fmt: skip
                    return False
                log.warning("outbox %d was sent but could not be marked sent (%s); "
                            "marking it again in %.1f s", item.id, type(exc).__name__,
                            delay)  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)

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
        self.metrics.sent(platform.value, verdict.outcome.value)
        match verdict.outcome:
            case Outcome.RATE_LIMITED:
                # the platform says slow down: nothing goes on it until the wait has passed
                self.limiters[platform].pause(verdict.wait, time.monotonic())
                return await self._later(item, verdict.wait, verdict.reason, failing=False)
            case Outcome.TRANSIENT:
                if self._stuck(item, now, transient=True):
                    await self._park(item, f"{verdict.reason} (for {PARK_AFTER_MINUTES} min)")
                    return None
                return await self._later(item, backoff(item.attempts), verdict.reason)
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
                delay = min(self.held_retry, backoff(item.attempts))
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
        return await self._later(item, backoff(item.attempts), verdict.reason)

    async def _source_failed(self, item: Pending, exc: SourceFailed) -> Pending | None:
        """The file could not be fetched from its own platform: retry on that platform's
        terms, without pausing the target; a file that is gone is parked."""
        verdict = classify(exc.error, group=False)
        reason = f"{exc.platform.value}: {verdict.reason}"
        self.metrics.sent(item.platform.value, "source_failed")
        match verdict.outcome:
            case Outcome.RATE_LIMITED:
                return await self._later(item, verdict.wait, reason, failing=False)
            case Outcome.UNAUTHORIZED:
                return await self._later(item, self.token_retry, reason, failing=False)
            case Outcome.TRANSIENT | Outcome.UNKNOWN:
                if self._stuck(item, self.wall.now(), transient=False):
                    await self._park(item, f"{reason} (for {PARK_AFTER_MINUTES} min)")
                    return None
                return await self._later(item, backoff(item.attempts), reason)
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
        self.metrics.park(item.platform.value)
        self._alert_due = True

    async def _hold(self, item: Pending, verdict: Verdict, now: datetime) -> None:
        await self._hold_chat(item.platform, item.chat_id, verdict, now)

    async def hold_group(self, platform: Platform, chat_id: int, verdict: Verdict) -> None:
        """A handler's own reply found a staff or admin group refusing the bot: hold the group
        and tell the admin chats, as a refused outbox row does; the next row sent there
        releases it (and says so)."""
        await self._hold_chat(platform, chat_id, verdict, self.wall.now())
        self.wake()  # the alerts are queued

    async def _hold_chat(
        self, platform: Platform, chat_id: int, verdict: Verdict, now: datetime
    ) -> None:
        key = (platform, chat_id)
        if key in self._held:
            return
        alert = {"template": "held", "platform": platform.value, "chat_id": chat_id,
                 "reason": verdict.reason, "new_chat_id": verdict.new_chat_id}  # fmt: skip
        newly = await self.store.hold_chat(
            platform, chat_id, verdict.reason, now,
            new_chat_id=verdict.new_chat_id, alerts=self._alerts(alert, skip=key),
        )  # fmt: skip
        self._held.add(key)  # after the write: a failed write is tried again next time
        self._held_changes += 1
        if newly:
            log.error("%s group %s refuses the bot (%s); its messages are held and the admin "
                      "chats told", platform.value, chat_id, verdict.reason)  # fmt: skip

    async def _token_refused_by(self, platform: Platform, reason: str) -> None:
        if platform in self._token_refused:
            return
        self._token_refused.add(platform)
        log.error("%s refuses the bot token (401): check %s_BOT_TOKEN; messages to %s wait, "
                  "the other platform is served", platform.value, platform.value.upper(),
                  platform.value)  # fmt: skip
        try:
            for other in (p for p in self.platforms if p is not platform):
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
            if chat.platform in self.platforms
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
        return self.rules.is_office_chat(item.platform, item.chat_id)

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
