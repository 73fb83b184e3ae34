"""How fast the delivery worker may write to each platform: a paced global rate, one message a
second per chat, a cap per minute for groups (Telegram: 30/s, 1/s, 20/min; Bale: settable,
conservative by default), and the back-off of a row that keeps failing."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from desk.model import Platform

MAX_BACKOFF = 60.0  # after an outage ends, a row waits at most this long more
# After this many seconds without an answer from a platform (and nothing in flight), its next
# send goes alone, for at most as long again: it may be slow (a new connection), and sends
# paced from its start would reach the API right behind it.
COLD = 1.0


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


def backoff(attempts: int) -> float:
    """Seconds before a failed row's next try: 0.5 s, 1 s, 2 s, ... capped at a minute, with
    jitter so retries do not bunch up."""
    jitter = 0.75 + random.random() / 2
    return float(min(MAX_BACKOFF, 0.5 * 2 ** min(attempts, 12) * jitter))


def default_limits(
    bale_per_second: float, telegram_per_second: float = 30.0
) -> dict[Platform, Limits]:
    """Telegram's documented limits (30/s at most); Bale's settable; one a second per chat and
    20 a minute per group on both."""
    return {
        Platform.TELEGRAM: Limits(per_second=telegram_per_second),
        Platform.BALE: Limits(per_second=bale_per_second),
    }


def limiters_for(
    limits: Mapping[Platform, Limits], platforms: Iterable[Platform]
) -> dict[Platform, RateLimiter]:
    """One limiter for each platform served, shared by the loop and the sender."""
    return {p: RateLimiter(limits[p]) for p in platforms}
