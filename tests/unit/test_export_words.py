"""The workbook is read by staff and the head: its statuses are theirs, not the citizen's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.ui import texts
from bot.ui.exports import events_sheet, requests_sheet
from desk.model import Contact, Event, Kind, Platform, Request, Status
from desk.reports import ExportData
from desk.routing import load_rules

RULES = load_rules(Path(__file__).resolve().parents[2] / "routing_rules.yaml")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _request(code: str, status: Status) -> Request:
    return Request(code=code, kind=Kind.COMPLAINT, status=status, text="آب قطع است",
                   created_at=NOW, updated_at=NOW, contact=Contact(name="علی"),
                   platform=Platform.BALE, unit="water_soil")  # fmt: skip


def test_every_status_in_a_workbook_is_in_the_staffs_words() -> None:
    requests = [_request(str(i), status) for i, status in enumerate(Status)]
    events = [Event(r.code, "status", NOW, "x", status=r.status) for r in requests]
    data = ExportData(start=NOW, end=NOW, requests=requests, surveys=[], events=events)
    written = [row[2] for row in requests_sheet(data, RULES).rows]
    written += [row[4] for row in events_sheet(data, RULES).rows]
    assert len(written) == 2 * len(Status)
    for status in written:
        assert isinstance(status, str) and status
        assert "شما" not in status and "این واحد" not in status and "{" not in status
    waiting = requests_sheet(data, RULES).rows[list(Status).index(Status.WAITING)][2]
    assert waiting == "در انتظار پاسخ متقاضی"
    assert set(texts.EXPORT_STATUS_NAMES) == set(Status)
