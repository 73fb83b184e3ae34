"""Charts for admins as PNG bytes: data in, picture out, nothing else touched.

Persian in a chart needs two things a plain glyph renderer does not do: letters joined in their
contextual forms (shaping) and the line laid out right to left (bidi). Matplotlib 3.11 and later
lay text out with libraqm, which does both; before that, matplotlib draws code points one by one,
left to right, so the text must be shaped and reordered beforehand (`arabic_reshaper` and
`python-bidi`). Doing it twice would turn the text back to front, so `label` asks the installed
matplotlib which it is. DejaVu Sans, bundled with matplotlib, has the Arabic-script letters and
the Persian digits, so no system font is needed.

Matplotlib is imported when a chart is drawn, not when the bot starts: most runs never draw one.
The `Figure` API is used directly (no pyplot), so a chart can be drawn in a worker thread; charts
are drawn one at a time, because figures still share matplotlib's font cache.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from io import BytesIO

from desk.text import to_persian_digits

FONT = "DejaVu Sans"
COLOURS = ("#3b7dd8", "#2e9e5b", "#d9534f", "#f0ad4e", "#7e57c2")
MAX_BARS = 15  # groups shown; more would not be readable in a messenger's preview
LABEL_CHARS = 38  # a unit's name is cut (with «…») beyond this
# Figures share matplotlib's font cache (FreeType objects); two bots may ask for a chart at once
_DRAWING = threading.Lock()


def shape(text: str) -> str:
    """Persian joined into its contextual letter forms and put in visual (left-to-right) order,
    for a renderer that does neither."""
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


@cache
def lays_out_itself() -> bool:
    """Whether the installed matplotlib shapes and orders right-to-left text (libraqm)."""
    from matplotlib import ft2font

    return getattr(ft2font, "__libraqm_version__", None) is not None


def label(text: str) -> str:
    """Text ready to hand to matplotlib: shaped beforehand only when it will not shape it."""
    return text if lays_out_itself() else shape(text)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def grouped_bars(
    title: str,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    subtitle: str = "",
) -> bytes:
    """A horizontal bar chart read right to left: one group of bars per name in `groups` (the
    first at the top, names on the right), one bar per series, counts at the bars' ends in
    Persian digits, the legend below. Returns PNG bytes."""
    with _DRAWING:
        return _draw(title, groups, series, subtitle)


def _draw(
    title: str, groups: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], subtitle: str
) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    names = [label(_short(name)) for name in groups[:MAX_BARS]]
    count = len(names)
    width = 0.8 / max(len(series), 1)
    height = 1.6 + max(count, 1) * (0.15 + 0.2 * max(len(series), 1))  # inches
    figure = Figure(figsize=(9, height), dpi=110)
    axes = figure.add_subplot()
    largest = 0
    for index, (name, values) in enumerate(series):
        shown = [int(v) for v in values[:count]]
        largest = max([largest, *shown])
        # the first series at the top of each group: bars go downwards from the group's centre
        positions = [g - 0.4 + width * (index + 0.5) for g in range(count)]
        axes.barh(
            positions, shown, height=width * 0.92, color=COLOURS[index % len(COLOURS)],
            label=label(name),
        )  # fmt: skip
        for position, value in zip(positions, shown, strict=True):
            if value:  # at the bar's end, outside it: the x axis runs right to left
                axes.annotate(
                    to_persian_digits(value), (value, position), xytext=(-3, 0),
                    textcoords="offset points", ha="right", va="center", fontsize=8,
                    fontfamily=FONT,
                )  # fmt: skip
    axes.set_yticks(range(count), names, fontfamily=FONT, fontsize=10)
    axes.set_ylim(count - 0.5, -0.5)  # the first group at the top
    axes.set_xlim(max(largest, 1) * 1.15, 0)  # bars grow from the right edge to the left
    axes.yaxis.tick_right()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: to_persian_digits(int(x))))
    axes.tick_params(axis="x", labelsize=8)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "left"):
        axes.spines[side].set_visible(False)
    axes.set_title(label(title), fontfamily=FONT, fontsize=13, loc="right", pad=20)
    if subtitle:
        # in points above the axes, so it sits under the title whatever the figure's height
        axes.annotate(label(subtitle), (1.0, 1.0), xycoords="axes fraction", xytext=(0, 4),
                      textcoords="offset points", ha="right", va="bottom", fontfamily=FONT,
                      fontsize=9, color="#555555")  # fmt: skip
    if series:
        handles, texts = axes.get_legend_handles_labels()
        figure.legend(
            handles[::-1], texts[::-1], loc="lower center", ncols=len(series), frameon=False,
            prop={"family": FONT, "size": 9},
        )  # fmt: skip
    figure.tight_layout(rect=(0, 0.45 / height, 1, 1))  # half an inch for the legend
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
