"""Periods: days, months and the grains results roll up to (docs/kpis.md "Periods, dating and clipping").

Grains are calendar periods: `day`; `week` — ISO weeks, starting on Monday; `month`; `quarter`;
`year`. A period is named by its first day (`period_start`). Parsing a day or a month from text gives
a `UserError` that names the value, never a traceback.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import re
from typing import TYPE_CHECKING, NamedTuple

from ..errors import UserError, param_of

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: grain → the truncation unit warehouse expressions use (Ibis `truncate`)
GRAINS: dict[str, str] = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class ClippedPeriod(NamedTuple):
    """One period of a range: its calendar start and the first and last days inside the range."""

    start: dt.date
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        """How many days of the range fall in this period."""
        return (self.last - self.first).days + 1


# ------------------------------------------------------------------------------------------ grains
def check_grain(grain: str) -> str:
    """The grain itself, or a UserError naming it and the grains there are."""
    if grain not in GRAINS:
        raise UserError(f"unknown grain {grain!r}; choose one of {', '.join(GRAINS)}")
    return grain


def grain_code(grain: str) -> str:
    """The truncation unit of a grain (`month` → `M`)."""
    return GRAINS[check_grain(grain)]


def month_start(day: dt.date) -> dt.date:
    """The first day of the month of `day`."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of the month of `day` (2024-02-10 → 2024-02-29)."""
    return day.replace(day=_calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before, if negative) the month of `day`."""
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(y, m + 1, 1)


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the `grain` period holding `day` (a Monday for weeks)."""
    check_grain(grain)
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_period(start: dt.date, grain: str) -> dt.date:
    """The first day of the period after the one starting on `start`."""
    check_grain(grain)
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    return add_months(start, _MONTHS_IN[grain])


def period_end(day: dt.date, grain: str) -> dt.date:
    """The last day of the `grain` period holding `day` (a Sunday for weeks)."""
    return next_period(period_start(day, grain), grain) - dt.timedelta(days=1)


def iso_week(day: dt.date) -> str:
    """The ISO week holding `day`, as `YYYY-Www` (2024-12-30 → `2025-W01`: weeks belong to the year of
    their Thursday)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# ------------------------------------------------------------------------------------------ clipping
def calendar(first: dt.date, last: dt.date, grain: str) -> list[ClippedPeriod]:
    """Every period touching [first, last], oldest first; the first and last are clipped to the range
    (they keep their calendar start but hold only the days inside). Empty when last < first."""
    out: list[ClippedPeriod] = []
    if last < first:
        return out
    p = period_start(first, grain)
    while p <= last:
        nxt = next_period(p, grain)
        out.append(ClippedPeriod(p, max(p, first), min(nxt - dt.timedelta(days=1), last)))
        p = nxt
    return out


# ------------------------------------------------------------------------------------------ parsing
def parse_day(value: str | dt.date | None, option: str) -> dt.date | None:
    """`YYYY-MM-DD` → the date (a date or None passes through); a UserError naming `option` and the value."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _not_a_date(value, option, "use YYYY-MM-DD") from None


def parse_month(text: str, option: str = "period") -> dt.date:
    """`YYYY-MM` → the first day of that month (`2024-03` → 2024-03-01); a UserError naming the value."""
    match = _MONTH.fullmatch(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        what = "give a month as YYYY-MM, e.g. 2024-03"
        param = param_of(option)
        raise (UserError(what, param=param, value=text) if param else UserError(f"{option} {text!r}: {what}"))
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def parse_period(text: str, option: str = "period") -> tuple[dt.date, dt.date]:
    """`YYYY-MM` → (first day, last day) of the month; a UserError naming the value otherwise."""
    first = parse_month(text, option)
    return first, month_end(first)


def parse_bound(value: str | dt.date | None, option: str, last: bool = False) -> dt.date | None:
    """A range bound given as a day (`YYYY-MM-DD`) or a month (`YYYY-MM`: its first day, or its last day
    when `last`); a date or None passes through. A UserError naming `option` and the value otherwise."""
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if _MONTH.fullmatch(text):
        try:
            first = parse_month(text, option)
        except UserError:
            pass
        else:
            return month_end(first) if last else first
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _not_a_date(value, option, "use YYYY-MM-DD or YYYY-MM") from None


def _not_a_date(value: object, option: str, hint: str) -> UserError:
    param = param_of(option)
    if param is None:
        return UserError(f"{option}: {value!r} is not a date ({hint})")
    return UserError("{param}: " + repr(value) + " is not a date", param=param, value=value, hint=hint)


def range_error(first: dt.date, last: dt.date) -> UserError:
    """The error of a range whose first day is after its last (`--from 2024-05-01 is after --to 2024-04-01`
    on the command line, `from … is after to …` in the API)."""
    return UserError(
        "{param} " + first.isoformat() + " is after {end} " + last.isoformat(),
        param="start",
        value=first,
    )


def in_range(day: ir.Value, start: dt.date | None, end: dt.date | None) -> ir.BooleanValue:
    """`start ≤ day ≤ end` on the date of `day` (an Ibis date or timestamp value); an open side is not
    checked. The one date-range filter of the warehouse reads."""
    import ibis

    cond = ibis.literal(True)
    if start is not None:
        cond &= day.cast("date") >= start
    if end is not None:
        cond &= day.cast("date") <= end
    return cond
