"""bot.ui.charts: a PNG with Persian labels, and the shaping of Persian for old renderers."""

from __future__ import annotations

import struct
import unicodedata
import warnings

from bot.ui import charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNITS = ["مدیریت آب و خاک و امور فنی و مهندسی", "مدیریت زراعت", "دفتر ریاست سازمان"]
SERIES = [("دریافتی", [4, 2, 1]), ("پاسخ داده شده", [2, 1, 0]), ("معوق", [1, 0, 0])]


def _size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_chart_is_a_png() -> None:
    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" where it would draw a box
        warnings.simplefilter("error")
        png = charts.grouped_bars("درخواست‌ها به تفکیک واحد", UNITS, SERIES,
                                  subtitle="۱ آذر ۱۴۰۵ تا ۱۵ آذر ۱۴۰۵")  # fmt: skip
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 10_000, "a real picture, not an empty canvas"
    width, height = _size(png)
    assert width == 990 and 300 < height < 2000


def test_many_units_are_cut_to_the_busiest() -> None:
    names = [f"واحد {i}" for i in range(40)]
    png = charts.grouped_bars("عنوان", names, [("دریافتی", list(range(40, 0, -1)))])
    assert png.startswith(PNG_SIGNATURE)
    _, height = _size(png)
    assert height < 2000  # 15 groups, not 40


def test_shape_joins_letters_and_orders_them_for_display() -> None:
    shaped = charts.shape("سلام")
    # contextual forms (Arabic Presentation Forms-B), in visual order: the last letter first
    assert all("\ufe70" <= ch <= "\ufeff" for ch in shaped)
    # س joins ل, which with ا makes the lam-alef ligature; ا never joins what follows, so م stands
    # alone; and the line reads right to left, so م comes first from the left
    assert [unicodedata.name(ch) for ch in shaped] == [
        "ARABIC LETTER MEEM ISOLATED FORM",
        "ARABIC LIGATURE LAM WITH ALEF FINAL FORM",
        "ARABIC LETTER SEEN INITIAL FORM",
    ]
    assert charts.shape("abc") == "abc"
    assert charts.shape("۱۲ روز") != "۱۲ روز"


def test_label_shapes_only_for_a_renderer_that_does_not() -> None:
    text = "مدیریت زراعت"
    if charts.lays_out_itself():  # matplotlib >= 3.11 lays out with libraqm
        assert charts.label(text) == text
    else:
        assert charts.label(text) == charts.shape(text)
