"""Period grains and calendars (DESIGN.md: day, ISO week from Monday, month, quarter, year)."""

from __future__ import annotations

import datetime as dt

from ..errors import UserError

GRAINS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def grain_code(grain: str) -> str:
    try:
        return GRAINS[grain]
    except KeyError:
        raise UserError(f"unknown grain {grain!r}; choose one of {', '.join(GRAINS)}") from None


def period_start(day: dt.date, grain: str) -> dt.date:
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
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    y, m = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + y, m + 1, 1)


def calendar(first: dt.date, last: dt.date, grain: str) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(period_start, first day inside, last day inside) for every period touching [first, last];
    the first and last periods are clipped to the range."""
    out = []
    p = period_start(first, grain)
    while p <= last:
        nxt = next_period(p, grain)
        out.append((p, max(p, first), min(nxt - dt.timedelta(days=1), last)))
        p = nxt
    return out


def parse_day(value: str | dt.date | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option}: {value!r} is not a date (use YYYY-MM-DD)") from None
