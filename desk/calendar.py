"""Jalali dates and working days, in plain Python (desk/ may not import jdatetime).

The SLA counts working days in Tehran: Saturday to Wednesday by default, minus the holidays
an operator lists in Jalali dates. The conversion is the well-known arithmetic one
(Borkowski / jalaali-js), exact for the years anyone will file a complaint in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from desk.text import to_latin_digits

TEHRAN = ZoneInfo("Asia/Tehran")

_BREAKS = (
    -61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324,
    2394, 2456, 3178,
)  # fmt: skip


def _jal_cal(jy: int) -> tuple[int, int, int]:
    """(leap, gregorian year, day of March of Farvardin 1) for Jalali year jy."""
    gy = jy + 621
    leap_j = -14
    jp = _BREAKS[0]
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += jump // 33 * 8 + (jump % 33) // 4
        jp = jm
    n = jy - jp
    leap_j += n // 33 * 8 + ((n % 33) + 3) // 4
    if jump % 33 == 4 and jump - n == 4:
        leap_j += 1
    leap_g = gy // 4 - (gy // 100 + 1) * 3 // 4 - 150
    march = 20 + leap_j - leap_g
    if jump - n < 6:
        n = n - jump + (jump + 4) // 33 * 33
    leap = (((n + 1) % 33) - 1) % 4
    if leap == -1:
        leap = 4
    return leap, gy, march


def jalali_to_gregorian(jy: int, jm: int, jd: int) -> date:
    """The Gregorian date of a Jalali date."""
    if not (1 <= jm <= 12 and 1 <= jd <= 31) or (jm > 6 and jd > 30):
        raise ValueError(f"no such Jalali date {jy}-{jm}-{jd}")
    leap, gy, march = _jal_cal(jy)
    if jm == 12 and jd == 30 and leap != 0:
        raise ValueError(f"{jy} is not a leap year: Esfand has 29 days")
    start = date(gy, 3, march)
    offset = (jm - 1) * 31 - (jm // 7) * (jm - 7) + jd - 1
    return start + timedelta(days=offset)


def gregorian_to_jalali(day: date) -> tuple[int, int, int]:
    """The Jalali (year, month, day) of a Gregorian date."""
    jy = day.year - 621
    _, _, march = _jal_cal(jy)
    start = date(day.year, 3, march)
    offset = (day - start).days
    if offset < 0:
        jy -= 1
        _, gy, march = _jal_cal(jy)
        offset = (day - date(gy, 3, march)).days
    if offset < 186:
        return jy, offset // 31 + 1, offset % 31 + 1
    offset -= 186
    return jy, 7 + offset // 30, offset % 30 + 1


_JALALI = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


def parse_jalali(text: str) -> date:
    """'1405-09-03', '1405/9/3' or Persian digits → the Gregorian date."""
    match = _JALALI.match(to_latin_digits(str(text).strip()))
    if not match:
        raise ValueError(f"not a Jalali date (YYYY-MM-DD): {text!r}")
    return jalali_to_gregorian(*(int(g) for g in match.groups()))


def local_date(moment: datetime) -> date:
    """The date in Tehran of an aware moment."""
    return moment.astimezone(TEHRAN).date()


def start_of_day(day: date) -> datetime:
    """00:00 in Tehran of a date, as an aware UTC datetime."""
    return datetime.combine(day, time(0, 0), TEHRAN).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """23:59:59 in Tehran of a date, as an aware UTC datetime."""
    return datetime.combine(day, time(23, 59, 59), TEHRAN).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days count as working days."""

    working_days: tuple[int, ...] = (5, 6, 0, 1, 2)  # Saturday to Wednesday
    holidays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, working_days: Iterable[int], holidays: Iterable[date]) -> WorkCalendar:
        """Build from any iterables."""
        return cls(tuple(working_days), frozenset(holidays))

    def is_working(self, day: date) -> bool:
        """Whether staff work on this date."""
        return day.weekday() in self.working_days and day not in self.holidays

    def due(self, filed_at: datetime, days: int) -> datetime:
        """End of the `days`-th working day after the filing day (the filing day never counts)."""
        if days <= 0:
            raise ValueError("an SLA needs at least one working day")
        day = local_date(filed_at)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working(day):
                counted += 1
        return end_of_day(day)


def half_time(filed_at: datetime, due_at: datetime) -> datetime:
    """The moment half the time to answer is gone."""
    return filed_at + (due_at - filed_at) / 2
