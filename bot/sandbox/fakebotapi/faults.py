"""Fault injection: the failures tests ask for, and the seeded "reality" profile.

:class:`FaultInjection` is mixed into ``FakeBotAPI`` (``server``); read :meth:`_pick_fault`
first: a call meets a pending ``fail()``, then a refusing chat, then the reality draw. What each
kind answers is in ``responses._fault_response``; "timeout" and "ok_garbage" are carried out by
the server itself (a late answer; the call done, answered with an unreadable result).

Fault kinds (``FakeBotAPI.fail(method, kind, ...)``, ``refuse_chat(..., kind)``, ``reality``):

- ``429``: HTTP 429 JSON "Too Many Requests: retry after N" with ``parameters.retry_after``.
- ``429_bare``: HTTP 429 JSON "Too Many Requests" without parameters / retry_after.
- ``429_text``: HTTP 429 ``text/plain`` ``local_rate_limited`` (Envoy-style edge proxy).
- ``429_html``: HTTP 429 nginx HTML page "429 Too Many Requests".
- ``420``: HTTP 420 JSON "Flood wait".
- ``bale_limit``: HTTP 400 JSON "bot limit exceed" (Bale's rate limit).
- ``bale_limit_any``: HTTP 200 JSON ``ok: false``, error_code 429, "bot limit exceed".
- ``500``: HTTP 500 JSON "Internal Server Error".
- ``502_html``: HTTP 502 nginx HTML page "502 Bad Gateway".
- ``503_text``: HTTP 503 ``text/plain`` "upstream connect error or disconnect/reset ...".
- ``timeout``: answers normally (the call is carried out) after ``delay`` seconds.
- ``drop``: the connection is aborted without an answer (the call is not carried out).
- ``401``: HTTP 401 JSON "Unauthorized".
- ``403``: HTTP 403 JSON "Forbidden: bot was blocked by the user".
- ``403_kicked``: HTTP 403 JSON "Forbidden: bot was kicked from the group chat".
- ``403_not_member``: HTTP 403 JSON "Forbidden: bot is not a member of the group chat".
- ``chat_not_found``: HTTP 400 JSON "Bad Request: chat not found".
- ``400``: HTTP 400 JSON "Bad Request: can't parse entities: ..." (a refusal no retry fixes).
- ``ok_garbage``: the call is carried out, but the answer is ``ok: true`` with a result that
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass

from bot.sandbox.fakebotapi.methods import FakeBot
from bot.sandbox.fakebotapi.platforms import Json

FAULT_KINDS = (
    "429", "500", "bale_limit", "timeout", "drop", "403",
    "429_bare", "429_text", "429_html", "420", "bale_limit_any", "502_html", "503_text",
    "401", "403_kicked", "403_not_member", "chat_not_found", "400", "ok_garbage",
)  # fmt: skip
REALITY_KINDS = (  # what reality() draws from by default: transient and rate-limit answers
    "429", "429_bare", "429_text", "429_html", "420", "bale_limit", "bale_limit_any",
    "500", "502_html", "503_text", "drop", "ok_garbage",
)  # fmt: skip
POLL_SAFE_KINDS = ("500", "502_html", "503_text", "429_bare", "timeout")  # never lose updates
REALITY_TIMEOUT_DELAY = 0.2  # a reality "timeout" is only a late answer


@dataclass
class _Fault:
    """A pending fault injection."""

    method: str | None
    kind: str
    remaining: int
    retry_after: int
    delay: float
    token: str | None
    chat_id: int | None = None


@dataclass
class _Reality:
    """The randomised "reality" profile: seeded faults on a share of the calls."""

    rng: random.Random
    rate: float
    token: str | None
    kinds: tuple[str, ...]
    poll_kinds: tuple[str, ...]


class FaultInjection:
    """The fault switches of the fake server (``FakeBotAPI`` inherits them)."""

    _bots: dict[str, FakeBot]

    def __init__(self) -> None:
        """No fault pending, no reality profile."""
        self._faults: list[_Fault] = []
        self._reality: _Reality | None = None
        self.injected: Counter[str] = Counter()  # faults answered, per kind (all sources)
        self.injected_log: list[tuple[str, str, str]] = []  # (token, method, kind) in order

    def fail(
        self,
        method: str | None,
        kind: str,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 0.0,
        token: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next `times` calls of method (None: any but getUpdates) fail with kind;
        with `chat_id`, only calls to that chat (one slow chat: a 429 with a long
        `retry_after` to one citizen, as Telegram answers a bot writing too fast to one chat)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        self._faults.append(_Fault(method, kind, times, retry_after, delay, token, chat_id))

    def refuse_chat(
        self, token: str, chat_id: int, seconds: float, kind: str = "403_kicked"
    ) -> None:
        """For `seconds`, every call of this bot with this chat_id answers the fault kind."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        self._bots[token]._refusals[int(chat_id)] = (time.monotonic() + seconds, kind)

    def restore_chat(self, token: str, chat_id: int) -> None:
        """End a refuse_chat early: the chat takes the bot back."""
        self._bots[token]._refusals.pop(int(chat_id), None)

    def reality(
        self,
        seed: int,
        rate: float = 0.1,
        token: str | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> None:
        """From now on each call (of token's bot; None: all) fails with probability `rate`, with
        a kind drawn by ``random.Random(seed)`` from `kinds` (default REALITY_KINDS). getUpdates
        only gets POLL_SAFE_KINDS (of `kinds`, when given); Bale bots answer edits at random."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be within [0, 1], not {rate!r}")
        mix = REALITY_KINDS if kinds is None else tuple(kinds)
        unknown = [kind for kind in mix if kind not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"kinds must be among {FAULT_KINDS}, not {unknown}")
        poll = tuple(k for k in (POLL_SAFE_KINDS if kinds is None else mix) if k in POLL_SAFE_KINDS)
        self._reality = _Reality(random.Random(seed), rate, token, mix, poll)
        for bot in self._bots.values():
            self._reality_edits(bot, self._reality)

    def reality_off(self) -> None:
        """Stop the reality profile (faults from fail() and refuse_chat still apply)."""
        self._reality = None
        for bot in self._bots.values():
            bot._random_edits = False

    @staticmethod
    def _reality_edits(bot: FakeBot, reality: _Reality) -> None:
        """Make a Bale bot under the reality profile answer edits at random (seeded)."""
        bot._random_edits = bot.is_bale and reality.token in (None, bot.token)
        if bot._random_edits:
            bot.edit_seed = reality.rng.getrandbits(32)

    def clear_faults(self) -> None:
        """Forget the faults not yet used up: the messenger is healthy again."""
        self._faults.clear()

    def _take_fault(self, method: str, token: str, params: Json) -> _Fault | None:
        """Consume the first pending fault matching this call."""
        for fault in self._faults:
            if fault.token not in (None, token):
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            if fault.method is None and method == "getUpdates":
                continue
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _pick_fault(self, bot: FakeBot, method: str, params: Json) -> tuple[str, int, float] | None:
        """(kind, retry_after, delay) of the fault this call meets: fail(), then a refusing
        chat, then the reality profile; None for a healthy call."""
        fault = self._take_fault(method, bot.token, params)
        if fault is not None:
            return fault.kind, fault.retry_after, fault.delay
        kind = bot._refusal(method, params)
        if kind is not None:
            return kind, 1, 0.0
        reality = self._reality
        if reality is None or reality.token not in (None, bot.token):
            return None
        mix = reality.poll_kinds if method == "getUpdates" else reality.kinds
        if not mix or reality.rng.random() >= reality.rate:
            return None
        kind = reality.rng.choice(mix)
        return kind, 1, REALITY_TIMEOUT_DELAY if kind == "timeout" else 0.0
