"""/metrics' text (bot/runtime/metrics.py): what Prometheus' text format 0.0.4 asks of it."""

from __future__ import annotations

import re

from bot.runtime.metrics import Metrics

_SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? (\+Inf|-?[0-9.e+-]+)$')


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    metrics = Metrics()
    for seconds in (0.001, 0.004, 0.004, 0.2, 45.0):  # 0.001 is a bound: counted in le="0.001"
        metrics.handled("bale", seconds)
    lines = metrics.render({}).splitlines()
    bucket = {
        m[1]: int(m[2])
        for m in (re.match(r'.*_bucket\{platform="bale",le="([^"]+)"\} (\d+)', x) for x in lines)
        if m
    }
    assert bucket["0.001"] == 1 and bucket["0.0025"] == 1 and bucket["0.005"] == 3
    assert bucket["0.25"] == 4 and bucket["30"] == 4 and bucket["+Inf"] == 5
    assert list(bucket.values()) == sorted(bucket.values()), "cumulative"
    assert 'jihad_update_handling_seconds_count{platform="bale"} 5' in lines
    assert 'jihad_updates_handled_total{platform="bale"} 5' in lines
    (total,) = [x for x in lines if x.startswith("jihad_update_handling_seconds_sum")]
    assert abs(float(total.split()[1]) - 45.209) < 1e-9


def test_sends_429s_and_parked_rows_are_counted_per_platform() -> None:
    metrics = Metrics()
    for outcome in ("sent", "sent", "rate_limited", "transient", "rate_limited"):
        metrics.sent("telegram", outcome)
    metrics.park("bale")
    metrics.webhook_answer("telegram", 404)
    lines = metrics.render({"outbox_depth": ("Rows.", 7), "x_seconds": ("Ages.", {"bale": 1.5})})
    text = lines.splitlines()
    assert 'jihad_sends_total{platform="telegram",outcome="sent"} 2' in text
    assert 'jihad_sends_total{platform="telegram",outcome="rate_limited"} 2' in text
    assert 'jihad_rate_limited_total{platform="telegram"} 2' in text
    assert 'jihad_parked_total{platform="bale"} 1' in text
    assert 'jihad_webhook_requests_total{platform="telegram",status="404"} 1' in text
    assert "# TYPE jihad_outbox_depth gauge" in text and "jihad_outbox_depth 7" in text
    assert 'jihad_x_seconds{platform="bale"} 1.5' in text
    assert lines.endswith("\n")
    for line in text:
        assert line.startswith(("# HELP ", "# TYPE ")) or _SAMPLE.match(line), line
