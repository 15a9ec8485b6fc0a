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

from ..core.frames import polars_frame
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
    return polars_frame(agg)


_SCHEMA = {
    "period_start": pl.Date,
    "kpi": pl.Utf8,
    "value": pl.Float64,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
}


def ledger_roles(kpis: list[str]) -> tuple[str, ...]:
    """The roles the KPIs read (dso reads a tenth of the ledger)."""
    return tuple(sorted({r for k in kpis for r in NEEDS.get(k, ROLES)}))


def working_capital(
    t, kpis: list[str], grain: str, start: dt.date | None, end: dt.date | None, ledger: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The KPIs per period. `ledger`: a `daily_ledger` of these roles or more, read once for several calls
    (only the roles the KPIs read are used, so the periods shown are those of their own postings)."""
    roles = ledger_roles(kpis)
    ledger = daily_ledger(t, roles) if ledger is None else ledger.filter(pl.col("role").is_in(roles))
    if ledger.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    days = ledger["posting_date"]
    # without --from/--to every period is whole (docs/kpis.md: only --from/--to clip, and d counts the days
    # inside); the first and last days with postings to those roles only choose which periods are shown
    first_day, last_day = days.min(), days.max()
    assert isinstance(first_day, dt.date) and isinstance(last_day, dt.date)  # the ledger is not empty
    first = start or period_start(first_day, grain)
    last = end or next_period(period_start(last_day, grain), grain) - dt.timedelta(days=1)
    balances = RunningBalances(ledger)
    rows = []
    for p, lo, hi in calendar(first, last, grain):
        parts = _period_parts(balances, lo, hi)
        values = _kpi_values(parts)
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
    return pl.DataFrame(rows, schema=_SCHEMA)


class RunningBalances:
    """Balance(role, t) of the daily ledger: per role its dates and cumulative sums, read at any day by
    binary search."""

    def __init__(self, ledger: pl.DataFrame) -> None:
        self._running: dict[str, tuple[list[dt.date], list[Decimal]]] = {}
        for day, role, amount in ledger.sort("posting_date").iter_rows():
            dates, sums = self._running.setdefault(role, ([], []))
            dates.append(day)
            sums.append((sums[-1] if sums else Decimal(0)) + amount)

    def balance(self, roles: tuple[str, ...], t_: dt.date) -> Decimal:
        """Σ of the roles' cumulative amounts up to and including `t_`."""
        total = Decimal(0)
        for r in roles:
            dates, sums = self._running.get(r, ([], []))
            i = bisect_right(dates, t_)
            if i:
                total += sums[i - 1]
        return total

    def flow(self, roles: tuple[str, ...], lo: dt.date, hi: dt.date) -> Decimal:
        """What the roles moved in [lo, hi]."""
        return self.balance(roles, hi) - self.balance(roles, lo - dt.timedelta(days=1))


def _period_parts(balances: RunningBalances, lo: dt.date, hi: dt.date) -> dict[str, tuple[Decimal, Decimal]]:
    """(numerator, denominator) of dso, dio, dpo and inventory turns for the period [lo, hi] of d days."""
    d = (hi - lo).days + 1
    before = lo - dt.timedelta(days=1)
    avg_ar = (balances.balance(("ar",), before) + balances.balance(("ar",), hi)) / 2
    avg_ap = -(balances.balance(("ap",), before) + balances.balance(("ap",), hi)) / 2
    avg_inv = (balances.balance(INVENTORY, before) + balances.balance(INVENTORY, hi)) / 2
    revenue = -balances.flow(("revenue",), lo, hi)
    cogs = balances.flow(COGS_ROLES, lo, hi)
    return {
        "dso": (avg_ar * d, revenue),
        "dio": (avg_inv * d, cogs),
        "dpo": (avg_ap * d, cogs),
        "inventory_turns": (cogs * 365, avg_inv * d),
    }


def _kpi_values(parts: dict[str, tuple[Decimal, Decimal]]) -> dict[str, float | None]:
    """Each KPI's value (None when its denominator is zero); ccc = dso + dio − dpo when all three exist."""
    values = {k: (float(n / q) if q else None) for k, (n, q) in parts.items()}
    if all(values[k] is not None for k in ("dso", "dio", "dpo")):
        values["ccc"] = values["dso"] + values["dio"] - values["dpo"]  # type: ignore[operator]
    else:
        values["ccc"] = None
    return values
