"""bot.workers.delivery.RateLimiter on explicit clocks: pacing per platform, per chat, per group."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.workers.delivery import Limits, RateLimiter


def send(limiter: RateLimiter, chat: int, group: bool, now: float) -> float:
    """Send as soon as allowed at or after `now`; returns when it went."""
    at = now + max(0.0, limiter.wait_time(chat, group, now))
    limiter.take(chat, group, at)
    return at


def test_a_fresh_limiter_lets_the_first_message_go_at_any_now() -> None:
    for now in (0.0, 12.5, 1e9):
        assert RateLimiter(Limits(per_second=30)).wait_time(1, False, now) == 0.0


def test_telegram_paces_thirty_a_second_across_chats() -> None:
    limiter = RateLimiter(Limits(per_second=30))
    times = [send(limiter, chat, False, 0.0) for chat in range(90)]
    assert times[1] == pytest.approx(1 / 30)
    assert times[-1] == pytest.approx(89 / 30)
    assert sum(1 for t in times if t < 1 - 1e-9) == 30


def test_bale_style_five_a_second() -> None:
    limiter = RateLimiter(Limits(per_second=5))
    times = [send(limiter, chat, False, 0.0) for chat in range(10)]
    assert sum(1 for t in times if t < 1 - 1e-9) == 5
    assert times[5] == pytest.approx(1.0)


def test_the_same_chat_needs_a_second_between_messages() -> None:
    limiter = RateLimiter(Limits(per_second=30))
    limiter.take(7, False, 0.0)
    assert limiter.wait_time(7, False, 0.1) == pytest.approx(0.9)
    assert limiter.wait_time(8, False, 0.1) == 0.0


def test_a_group_gets_at_most_twenty_a_minute() -> None:
    limiter = RateLimiter(Limits(per_second=30))
    times = [send(limiter, -100, True, 0.0) for _ in range(25)]
    assert times[19] == pytest.approx(19.0)  # one a second for the first twenty
    assert times[20] == pytest.approx(60.0)  # the 21st waits until the first is a minute old
    assert times[21] == pytest.approx(61.0)


def test_the_minute_cap_is_for_groups_only() -> None:
    limiter = RateLimiter(Limits(per_second=30))
    times = [send(limiter, 5, False, 0.0) for _ in range(25)]
    assert times[-1] == pytest.approx(24.0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.booleans(), st.floats(0, 3, allow_nan=False)),
        min_size=1,
        max_size=80,
    ),
    st.sampled_from([5.0, 30.0]),
)
def test_property_limits_hold_for_any_sequence(sends, per_second) -> None:
    limiter = RateLimiter(Limits(per_second=per_second))
    now = 0.0
    log: list[tuple[float, int, bool]] = []
    for chat, group, delay in sends:
        now += delay
        now = send(limiter, chat, group, now)
        log.append((now, chat, group))
    times = [t for t, _, _ in log]
    for i, start in enumerate(times):
        in_second = [t for t in times[i:] if t < start + 1 - 1e-9]
        assert len(in_second) <= per_second + 1
    for chat in {c for _, c, _ in log}:
        mine = [t for t, c, _ in log if c == chat]
        assert all(b - a >= 1 - 1e-9 for a, b in itertools.pairwise(mine))
        group_times = [t for t, c, g in log if c == chat and g]
        for i, start in enumerate(group_times):
            assert len([t for t in group_times[i:] if t < start + 60 - 1e-9]) <= 20


def test_a_late_send_keeps_the_schedule_so_the_rate_is_the_limit() -> None:
    # every send 2 ms after it was allowed (a busy event loop). Pacing from each send would
    # give 1 / (1/30 + 0.002) = 28.3 a second; on the schedule only the one-second cap
    # (at most 30 in any second) lets the lateness count, once a second rather than per send
    limiter = RateLimiter(Limits(per_second=30))
    at = 0.0
    times = []
    for chat in range(601):
        at = at + max(0.0, limiter.wait_time(chat, False, at)) + 0.002
        limiter.take(chat, False, at)
        times.append(at)
    assert (len(times) - 1) / (times[-1] - times[0]) >= 0.99 * 30


def test_a_send_far_behind_its_slot_starts_a_new_schedule() -> None:
    limiter = RateLimiter(Limits(per_second=30))
    limiter.take(1, False, 0.0)
    limiter.take(2, False, 5.0)  # nothing for five seconds: no burst to make up for it
    assert limiter.wait_time(3, False, 5.0) == pytest.approx(1 / 30)


def test_a_429_pauses_the_whole_platform() -> None:
    limiter = RateLimiter(Limits(per_second=30))
    limiter.take(1, False, 0.0)
    limiter.pause(3.0, 0.5)
    assert limiter.global_wait(0.5) == pytest.approx(3.0)
    assert limiter.wait_time(99, False, 0.5) == pytest.approx(3.0)  # any chat
    limiter.pause(1.0, 0.5)  # a shorter pause does not shorten the longer one
    assert limiter.global_wait(0.5) == pytest.approx(3.0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.floats(0, 0.05, allow_nan=False)),
        min_size=1,
        max_size=200,
    ),
    st.sampled_from([5.0, 2.7, 30.0]),
)
def test_property_late_sends_never_crowd_a_second(sends, per_second) -> None:
    """Whatever the lateness, no one-second window holds more than per_second (rounded up)."""
    limiter = RateLimiter(Limits(per_second=per_second))
    now, times = 0.0, []
    for chat, late in sends:
        now = now + max(0.0, limiter.wait_time(chat, False, now)) + late
        limiter.take(chat, False, now)
        times.append(now)
    cap = math.ceil(per_second)
    for i, start in enumerate(times):
        assert len([t for t in times[i:] if t < start + 1 - 1e-9]) <= cap
