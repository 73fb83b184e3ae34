"""bot.ui.report_text: the report and the overdue list in Persian, per platform, within message
limits.

The numbers come from the hand-worked month of tests/unit/test_reports.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.runtime.platforms import Renderer
from bot.ui import report_text as text
from desk import reports
from desk.model import Platform
from desk.routing import load_rules
from tests.unit.test_reports import NOW, dataset

RULES = load_rules(Path(__file__).resolve().parents[2] / "routing_rules.yaml")
TELEGRAM, BALE = Renderer(Platform.TELEGRAM), Renderer(Platform.BALE)


def test_durations_in_days_hours_and_minutes() -> None:
    assert text.duration(timedelta(days=2, hours=3, minutes=40)) == "۲ روز و ۳ ساعت"
    assert text.duration(timedelta(days=1)) == "۱ روز"
    assert text.duration(timedelta(hours=26)) == "۱ روز و ۲ ساعت"
    assert text.duration(timedelta(hours=10, minutes=15)) == "۱۰ ساعت و ۱۵ دقیقه"
    assert text.duration(timedelta(hours=5)) == "۵ ساعت"
    assert text.duration(timedelta(minutes=45, seconds=59)) == "۴۵ دقیقه"
    assert text.duration(timedelta(seconds=20)) == "کمتر از یک دقیقه"
    assert text.duration(None) == "—"


def test_numbers_in_persian() -> None:
    assert text.decimal(11 / 3) == "۳٫۷"
    assert text.decimal(3.25) == "۳٫۳"  # half up, not to even
    assert text.decimal(4.0) == "۴٫۰"
    assert text.percent(1 / 3) == "۳۳٪"
    assert text.percent(2 / 3) == "۶۷٪"
    assert text.percent(0.0) == "۰٪"
    assert text.percent(None) == "—"


def _report() -> tuple[reports.Report, reports.Period]:
    requests, events = dataset()
    period = reports.parse_period("۱۴۰۵-۰۹-۰۱ ۱۴۰۵-۰۹-۱۵", NOW)
    return reports.compute(requests, events, period.start, period.end, NOW), period


def test_the_report_text() -> None:
    report, period = _report()
    [message] = text.messages(text.report_blocks(BALE, report, period, RULES), 4000)
    lines = message.split("\n")
    assert lines[:3] == [
        "📊 گزارش میز خدمت",
        "بازه: ۱ آذر ۱۴۰۵ تا ۱۵ آذر ۱۴۰۵",
        "وضعیت در ۱۹ آذر ۱۴۰۵، ساعت ۱۵:۳۰",
    ]
    total = message.split("\n\n")[1]
    assert total == (
        "جمع کل\n"
        "دریافتی ۸: پاسخ داده شده ۳، بسته بدون پاسخ ۱، باز ۳ (معوق ۱)"
        "، نظرسنجی و نظر بر پیش‌نویس ۱ (پاسخ جداگانه ندارند)\n"
        "زمان معمول نخستین اقدام: ۳ ساعت؛ زمان معمول پاسخ: ۲۳ ساعت\n"
        "بازگشایی: ۵۰٪؛ رضایت: ۳٫۰ از ۵ (۴ امتیاز)"
    )
    assert (
        "▫️ مدیریت آب و خاک و امور فنی و مهندسی\n"
        "دریافتی ۴: پاسخ داده شده ۲، بسته بدون پاسخ ۰، باز ۲ (معوق ۱)\n"
        "زمان معمول نخستین اقدام: ۲ ساعت؛ زمان معمول پاسخ: ۱ روز و ۲ ساعت\n"
        "بازگشایی: ۳۳٪؛ رضایت: ۳٫۷ از ۵ (۳ امتیاز)"
    ) in message
    assert (
        "▫️ مدیریت زراعت\n"
        "دریافتی ۲: پاسخ داده شده ۱، بسته بدون پاسخ ۰، باز ۱ (معوق ۰)\n"
        "زمان معمول نخستین اقدام: ۱۰ ساعت و ۱۵ دقیقه؛ زمان معمول پاسخ: ۲۰ ساعت\n"
        "بازگشایی: ۱۰۰٪؛ رضایت: ۱٫۰ از ۵ (۱ امتیاز)"
    ) in message
    assert (
        "▫️ پیشنهاد و انتقاد\n"
        "دریافتی ۲: پاسخ داده شده ۱، بسته بدون پاسخ ۰، باز ۱ (معوق ۰)\n"
        "زمان معمول نخستین اقدام: ۴۵ دقیقه؛ زمان معمول پاسخ: ۱۰ ساعت\n"
        "بازگشایی: ۰٪؛ رضایت: ۴٫۰ از ۵ (۱ امتیاز)"
    ) in message
    assert "▫️ نظرسنجی\nدریافتی ۱ (پاسخ جداگانه ندارد)" in message
    # units busiest first, then kinds in the menu's order
    order = ["به تفکیک واحد", "مدیریت آب و خاک", "مدیریت زراعت", "دفتر ریاست سازمان",
             "اداره روابط عمومی", "به تفکیک نوع درخواست", "▫️ شکایت", "▫️ پیشنهاد و انتقاد",
             "▫️ پیام به رئیس سازمان", "▫️ نظرسنجی"]  # fmt: skip
    positions = [message.index(name) for name in order]
    assert positions == sorted(positions)
    assert "<" not in message  # Bale: no HTML
    assert "·" not in message, "«·» reads as the Persian zero"


def test_every_rows_parts_add_up_to_what_was_received() -> None:
    report, _ = _report()
    for row in [report.total, *report.by_unit, *report.by_kind]:
        assert row.answered + row.closed + row.open + row.read_only == row.received, row
    assert (report.total.closed, report.total.read_only) == (1, 1)


def test_telegram_gets_bold_headings() -> None:
    report, period = _report()
    [message] = text.messages(text.report_blocks(TELEGRAM, report, period, RULES), 4000)
    assert message.startswith("<b>📊 گزارش میز خدمت</b>\n")
    assert "<b>جمع کل</b>\n" in message


def test_an_empty_report_says_so_and_has_no_chart() -> None:
    period = reports.parse_period("1405-01-01 1405-01-02", NOW)
    empty = reports.compute([], {}, period.start, period.end, NOW)
    blocks = text.report_blocks(BALE, empty, period, RULES)
    assert blocks[-1] == "در این بازه درخواستی ثبت نشده است."
    assert text.report_chart(empty, period, RULES) is None


def test_the_chart_of_a_report_is_a_png() -> None:
    report, period = _report()
    png = text.report_chart(report, period, RULES)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")


def test_long_reports_are_split_between_blocks() -> None:
    blocks = [f"بلوک {i}\n" + "ب" * 900 for i in range(10)]
    chunks = text.messages(blocks, 4000)
    assert all(len(chunk) <= 4000 for chunk in chunks)
    assert len(chunks) == 3  # 4 blocks of ~908 characters (and 3 blank lines) per message
    assert "\n\n".join(chunks) == "\n\n".join(blocks)  # nothing lost, no block cut
    huge = text.messages(["x" * 9000, "y"], 4000)
    assert [len(c) for c in huge] == [4000, 4000, 1000 + 2 + 1]


def test_card_links_only_for_supergroups() -> None:
    assert text.card_url(-1001000000004, 57) == "https://t.me/c/1000000004/57"
    assert text.card_url(-4012345, 57) is None  # a basic group has no message links
    assert text.card_url(5100000004, 57) is None


def test_overdue_lines_with_and_without_links() -> None:
    requests, _ = dataset()
    late = [r for r in requests if r.is_overdue(NOW)]  # R3, R9, R10
    assert [r.code for r in late] == ["R3", "R9", "R10"]
    links = {"R3": "https://t.me/c/1000000004/57"}
    lines = text.overdue_lines(TELEGRAM, late, RULES, NOW, links)
    assert lines[0] == "<b>⏰ درخواست‌های معوق: ۳</b>"
    # R3 due T0+5d = 26 Nov 20:30 UTC = 1405-09-06 00:00 Tehran; now 1405-09-19: 13 days
    assert lines[1] == (
        '• <a href="https://t.me/c/1000000004/57">R۳</a> — شکایت — '
        "مدیریت آب و خاک و امور فنی و مهندسی\n   مهلت: ۶ آذر ۱۴۰۵ — ۱۳ روز تأخیر"
    )
    assert lines[2].startswith("• <code>R۹</code> — ")
    bale = text.overdue_lines(BALE, late, RULES, NOW, links)
    assert bale[1].startswith("• R۳ — شکایت") and "t.me" not in "\n".join(bale)
    assert text.overdue_lines(BALE, [], RULES, NOW, {}) == ["هیچ درخواست معوقی نیست."]
