"""DSO, DIO, DPO, the cash conversion cycle and inventory turns (company level, docs/kpis.md).

Balance(role, t) is the cumulative Σ amount up to and including t; AP is −balance. For each balance
X, avg_X = (X at the day before P starts + X at P's last day) / 2, with P clipped by --from/--to and
d its number of days inside. The ledger is aggregated per day and role in the warehouse (Ibis);
the few period edges are then read off the running balance."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from decimal import Decimal

import polars as pl

from ..core.periods import calendar, next_period, period_start
from .definitions import COGS_ROLES

INVENTORY = ("inventory_raw", "inventory_wip", "inventory_fg")
ROLES = ("ar", "ap", *INVENTORY, "revenue", *COGS_ROLES)
NEEDS = {
    "dso": ("ar", "revenue"),
    "dio": (*INVENTORY, *COGS_ROLES),
    "dpo": ("ap", *COGS_ROLES),
    "inventory_turns": (*INVENTORY, *COGS_ROLES),
    "ccc": ROLES,
}


def daily_ledger(t, roles: tuple[str, ...] = ROLES) -> pl.DataFrame:
    g = t("gl_entries")
    a = t("accounts").select(_a="account_id", role="role")
    j = g.join(a, g.account_id == a._a)
    j = j.filter(j.role.isin(roles))
    agg = j.group_by([j.posting_date, j.role]).aggregate(amount=j.amount.cast("decimal(38, 2)").sum())
    return pl.from_arrow(agg.to_pyarrow())  # type: ignore[return-value]


# long: the balance method of docs/kpis.md in one place; 81 lines since ruff format
def working_capital(t, kpis: list[str], grain: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    # only the roles the asked KPIs read are aggregated (dso reads a tenth of the ledger)
    ledger = daily_ledger(t, tuple(sorted({r for k in kpis for r in NEEDS.get(k, ROLES)})))
    if ledger.is_empty():
        return pl.DataFrame(
            schema={
                "period_start": pl.Date,
                "kpi": pl.Utf8,
                "value": pl.Float64,
                "numerator": pl.Float64,
                "denominator": pl.Float64,
            }
        )
    days = ledger["posting_date"]
    # without --from/--to every period is whole (docs/kpis.md: only --from/--to clip, and d counts the days
    # inside); the first and last days with postings to those roles only choose which periods are shown
    first_day, last_day = days.min(), days.max()
    assert isinstance(first_day, dt.date) and isinstance(last_day, dt.date)  # the ledger is not empty
    first = start or period_start(first_day, grain)
    last = end or next_period(period_start(last_day, grain), grain) - dt.timedelta(days=1)
    # running balance per role: dates and cumulative sums, read at any day by binary search
    running: dict[str, tuple[list[dt.date], list[Decimal]]] = {}
    for day, role, amount in ledger.sort("posting_date").iter_rows():
        dates, sums = running.setdefault(role, ([], []))
        dates.append(day)
        sums.append((sums[-1] if sums else Decimal(0)) + amount)

    def balance(roles: tuple[str, ...], t_: dt.date) -> Decimal:
        total = Decimal(0)
        for r in roles:
            dates, sums = running.get(r, ([], []))
            i = bisect_right(dates, t_)
            if i:
                total += sums[i - 1]
        return total

    def flow(roles: tuple[str, ...], lo: dt.date, hi: dt.date) -> Decimal:
        return balance(roles, hi) - balance(roles, lo - dt.timedelta(days=1))

    inventory = INVENTORY
    rows = []
    for p, lo, hi in calendar(first, last, grain):
        d = (hi - lo).days + 1
        before = lo - dt.timedelta(days=1)
        avg_ar = (balance(("ar",), before) + balance(("ar",), hi)) / 2
        avg_ap = -(balance(("ap",), before) + balance(("ap",), hi)) / 2
        avg_inv = (balance(inventory, before) + balance(inventory, hi)) / 2
        revenue = -flow(("revenue",), lo, hi)
        cogs = flow(COGS_ROLES, lo, hi)
        parts = {
            "dso": (avg_ar * d, revenue),
            "dio": (avg_inv * d, cogs),
            "dpo": (avg_ap * d, cogs),
            "inventory_turns": (cogs * 365, avg_inv * d),
        }
        values = {k: (float(n / q) if q else None) for k, (n, q) in parts.items()}
        if all(values[k] is not None for k in ("dso", "dio", "dpo")):
            values["ccc"] = values["dso"] + values["dio"] - values["dpo"]  # type: ignore[operator]
        else:
            values["ccc"] = None
        for k in kpis:
            n, q = parts.get(k, (None, None))
            rows.append(
                {
                    "period_start": p,
                    "kpi": k,
                    "value": values[k],
                    "numerator": float(n) if n is not None else None,
                    "denominator": float(q) if q is not None else None,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "period_start": pl.Date,
            "kpi": pl.Utf8,
            "value": pl.Float64,
            "numerator": pl.Float64,
            "denominator": pl.Float64,
        },
    )
