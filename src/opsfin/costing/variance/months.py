"""The months of a variance bridge and the volume-plan version of each (docs/variances.md "Period and budget")."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from ...core.periods import month_end, month_start, parse_bound
from ...errors import UserError
from ...kpis.engine import Tables
from ..reads import costing_tables
from .common import MAX_MONTHS, VARIANCE_ROLES
from .reads import forecast_versions, plan_periods, posting_span


def _parse(value: str | dt.date | None, option: str, last: bool) -> dt.date | None:
    """A day, or a month (its first day, or its last when `last`); the error names the parameter."""
    return parse_bound(value, option, last)


def resolve_months(source: Tables | Any, start=None, end=None) -> list[dt.date]:
    """The months of the bridge. Variances close per month, so --from/--to must fall on month bounds;
    by default every month with gross-margin postings (revenue, COGS or a variance)."""
    t = costing_tables(source)
    lo, hi = _parse(start, "--from", False), _parse(end, "--to", True)
    if lo is None or hi is None:
        a, b = posting_span(t, ("revenue", "cogs", *VARIANCE_ROLES))
        if a is None or b is None:
            raise UserError("no revenue, COGS or variance postings in gl_entries: nothing to analyse")
        lo = lo or month_start(a)
        hi = hi or month_end(b)
    if lo != month_start(lo):
        raise UserError(
            "variances close per month; start on the first of a month (or use YYYY-MM)",
            param="start",
            value=lo,
        )
    if hi != month_end(hi):
        raise UserError(
            "variances close per month; end on the last day of a month (or use YYYY-MM)",
            param="end",
            value=hi,
        )
    if hi < lo:
        raise UserError("{param} " + f"{hi} is before " + "{start} " + f"{lo}", param="end", value=hi)
    count = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    if count > MAX_MONTHS:
        raise UserError(
            "{param} " + f"{lo} " + "{end} " + f"{hi}: {count} months; a bridge covers at most {MAX_MONTHS} months",
            param="start",
            value=lo,
        )
    return [dt.date(lo.year + (lo.month - 1 + k) // 12, (lo.month - 1 + k) % 12 + 1, 1) for k in range(count)]


def plan_versions(source: Tables | Any, months: list[dt.date], budget: str | None) -> dict[dt.date, str]:
    """The volume-plan version of each month: --budget, or the only version with rows for the period —
    not counting stored demand forecasts when one other version (the budget) covers the month."""
    t = costing_tables(source)
    by_month: dict[dt.date, set[str]] = defaultdict(set)
    for r in plan_periods(t, months[0], months[-1]):
        by_month[r["period"]].add(r["version"])
    if budget is not None:
        missing = [m for m in months if budget not in by_month.get(m, set())]
        if missing:
            known = sorted({r["version"] for r in plan_periods(t)})
            raise UserError(
                f"volume_plan has no rows for {', '.join(f'{m:%Y-%m}' for m in missing)}"
                f" (versions: {', '.join(known) or 'none'})",
                param="budget",
                value=budget,
            )
        return {m: budget for m in months}
    out = {}
    forecasts = forecast_versions(t) if any(len(vs) > 1 for vs in by_month.values()) else set()
    for m in months:
        vs = by_month.get(m, set())
        if len(vs) > 1 and len(vs - forecasts) == 1:
            vs = vs - forecasts  # the budget, not a demand forecast stored beside it (--budget picks one)
        if not vs:
            raise UserError(
                f"volume_plan has no rows for {m:%Y-%m}: load a plan, or choose " + "{param}/{end} within the plan",
                param="start",
            )
        if len(vs) > 1:
            raise UserError(
                f"several volume_plan versions cover {m:%Y-%m} ({', '.join(sorted(vs))}): name one with --budget"
            )
        out[m] = next(iter(vs))
    return out
