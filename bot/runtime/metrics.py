"""What `/metrics` reports, in the Prometheus text format (version 0.0.4), one registry per App.

Counters and the handling-time histogram are counted where the events happen: the inbox's
consumer (`bot/runtime/polling.py`: each update handled), the delivery worker
(`bot/workers/delivery/loop.py`: each send's outcome, each 429, each row parked) and the webhook
receiver (each request by answer). Gauges (inbox and outbox depth, parked rows) are read from
the database at each scrape (`bot/runtime/webhook.py`). Written by hand: the format is a few
lines of text, and prometheus_client would be one more dependency for them.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Mapping

PREFIX = "jihad"
# seconds one update takes through aiogram: a step is milliseconds; a reply waiting out a
# rate limit is seconds
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Histogram:
    """Counts per bucket (not cumulative until rendered), their sum and count."""

    def __init__(self, buckets: tuple[float, ...] = BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last: above every bucket (+Inf only)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Count one observation."""
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sum += value
        self.count += 1


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + body + "}" if body else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Metrics:
    """The process's counters; `render` writes them with the scrape's gauges."""

    def __init__(self) -> None:
        self.updates: Counter[str] = Counter()  # platform -> updates handled
        self.latency: dict[str, Histogram] = {}  # platform -> handling time
        self.sends: Counter[tuple[str, str]] = Counter()  # (platform, outcome)
        self.rate_limited: Counter[str] = Counter()  # platform -> 429s
        self.parked: Counter[str] = Counter()  # platform -> rows parked by this process
        self.webhook: Counter[tuple[str, int]] = Counter()  # (platform, HTTP status)

    def handled(self, platform: str, seconds: float) -> None:
        """One update went through the handlers (or was dropped by a middleware)."""
        self.updates[platform] += 1
        self.latency.setdefault(platform, Histogram()).observe(seconds)

    def sent(self, platform: str, outcome: str) -> None:
        """One send's outcome: "sent", or what its failure means (`Outcome`'s values)."""
        self.sends[(platform, outcome)] += 1
        if outcome == "rate_limited":
            self.rate_limited[platform] += 1

    def park(self, platform: str) -> None:
        """A row was set aside for good."""
        self.parked[platform] += 1

    def webhook_answer(self, platform: str, status: int) -> None:
        """A webhook request and how it was answered."""
        self.webhook[(platform, status)] += 1

    def render(self, gauges: Mapping[str, tuple[str, float | Mapping[str, float]]]) -> str:
        """The exposition text: these counters and `gauges` (name -> (help, value, or a value
        per platform))."""
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> str:
            full = f"{PREFIX}_{name}"
            out.append(f"# HELP {full} {help_text}")
            out.append(f"# TYPE {full} {kind}")
            return full

        name = family("updates_handled_total", "counter", "Updates handled from the inbox.")
        for platform, n in sorted(self.updates.items()):
            out.append(f"{name}{_labels([('platform', platform)])} {n}")
        name = family(
            "update_handling_seconds", "histogram", "Time one update takes through the handlers."
        )
        for platform, hist in sorted(self.latency.items()):
            running = 0
            for bound, n in zip((*hist.buckets, math.inf), hist.counts, strict=True):
                running += n
                labels = _labels([("platform", platform), ("le", _number(bound))])
                out.append(f"{name}_bucket{labels} {running}")
            out.append(f"{name}_sum{_labels([('platform', platform)])} {_number(hist.sum)}")
            out.append(f"{name}_count{_labels([('platform', platform)])} {hist.count}")
        name = family("sends_total", "counter", "Outbox sends by outcome.")
        for (platform, outcome), n in sorted(self.sends.items()):
            out.append(f"{name}{_labels([('platform', platform), ('outcome', outcome)])} {n}")
        name = family("rate_limited_total", "counter", "Sends the platform answered 429.")
        for platform, n in sorted(self.rate_limited.items()):
            out.append(f"{name}{_labels([('platform', platform)])} {n}")
        name = family("parked_total", "counter", "Outbox rows this process parked.")
        for platform, n in sorted(self.parked.items()):
            out.append(f"{name}{_labels([('platform', platform)])} {n}")
        name = family("webhook_requests_total", "counter", "Webhook requests by HTTP answer.")
        for (platform, status), n in sorted(self.webhook.items()):
            labels = _labels([("platform", platform), ("status", str(status))])
            out.append(f"{name}{labels} {n}")
        for gauge, (help_text, value) in gauges.items():
            name = family(gauge, "gauge", help_text)
            if isinstance(value, Mapping):
                for platform, v in sorted(value.items()):
                    out.append(f"{name}{_labels([('platform', platform)])} {_number(v)}")
            else:
                out.append(f"{name} {_number(value)}")
        return "\n".join(out) + "\n"
