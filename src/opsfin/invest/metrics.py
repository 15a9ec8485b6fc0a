"""The worth of a stream of dated cash flows (docs/investments.md "Evaluating a case"): NPV, every real IRR,
MIRR, payback, discounted payback and profitability index.

Times are in years from the first flow. Dated flows follow the XNPV/XIRR conventions of spreadsheets:
actual/365, discounted to the first flow's date (`year_fractions`); periodic flows are times 0, 1, 2, ….
Every real IRR is found by scanning the NPV curve over a log-spaced grid of rates from −99 % to 1,000 %
for sign changes and refining each with scipy's `brentq`; a root where the curve only touches zero
without crossing it is not found, and the grid's spacing (about 0.2 % of 1 + rate) bounds how close two
IRRs may be to be told apart."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from scipy.optimize import brentq

from ..core.money import round_cents

DAYS_PER_YEAR = 365
LOWEST_RATE = -0.99
HIGHEST_RATE = 10.0
GRID_POINTS = 4001
NO_SIGN_CHANGE = "all flows have one sign"
NO_CROSSING = "NPV never crosses zero between −99 % and 1,000 %"
Flows = Sequence[tuple[dt.date, Decimal]]


def year_fractions(dates: Sequence[dt.date]) -> list[float]:
    """Actual/365 years from the first date (the XNPV convention)."""
    first = dates[0]
    return [(d - first).days / DAYS_PER_YEAR for d in dates]


def discount_factors(rate: float, times: Sequence[float]) -> np.ndarray:
    """1 / (1 + rate) ** t for each time."""
    return np.power(1.0 + rate, -np.asarray(times, dtype=float))


def npv(rate: float, times: Sequence[float], amounts: Sequence[float]) -> float:
    """The present value at time 0 of `amounts` paid at `times` (years), at `rate` a year."""
    return float(np.dot(np.asarray(amounts, dtype=float), discount_factors(rate, times)))


def every_irr(times: Sequence[float], amounts: Sequence[float]) -> tuple[list[float], str | None]:
    """Every rate in [−99 %, 1,000 %] where the NPV crosses zero, ascending; with none, the reason."""
    values = np.asarray(amounts, dtype=float)
    if not (values > 0).any() or not (values < 0).any():
        return [], NO_SIGN_CHANGE
    grid = np.geomspace(1 + LOWEST_RATE, 1 + HIGHEST_RATE, GRID_POINTS) - 1
    t = np.asarray(times, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        curve = np.power(1.0 + grid[:, None], -t[None, :]) @ values
    roots: list[float] = []
    for i in range(len(grid) - 1):
        a, b = curve[i], curve[i + 1]
        if not (math.isfinite(a) and math.isfinite(b)):
            continue
        if a == 0:
            roots.append(float(grid[i]))
        elif a * b < 0:
            roots.append(float(brentq(npv, grid[i], grid[i + 1], args=(times, amounts), xtol=1e-14, maxiter=200)))
    if math.isfinite(curve[-1]) and curve[-1] == 0:
        roots.append(float(grid[-1]))
    return roots, (None if roots else NO_CROSSING)


def mirr(times: Sequence[float], amounts: Sequence[float], finance_rate: float, reinvest_rate: float) -> float | None:
    """Modified IRR: the money in carried forward to the last flow at `reinvest_rate`, the money out
    discounted to time 0 at `finance_rate`; (future in / present out) ** (1 / years) − 1. None without
    money both in and out, or when all flows fall on one day."""
    span = max(times) - min(times)
    inflow = sum(a * (1 + reinvest_rate) ** (span - t) for t, a in zip(times, amounts, strict=True) if a > 0)
    outflow = -sum(a / (1 + finance_rate) ** t for t, a in zip(times, amounts, strict=True) if a < 0)
    if inflow <= 0 or outflow <= 0 or span <= 0:
        return None
    return float((inflow / outflow) ** (1 / span) - 1)


def payback_years(times: Sequence[float], amounts: Sequence[float], rate: float | None = None) -> float | None:
    """The time from which the running total of the flows (discounted at `rate` when given) stays at or
    above zero; None when it ends below zero. Flows arrive on their dates: no spreading within a period."""
    values = list(amounts) if rate is None else list(np.asarray(amounts, float) * discount_factors(rate, times))
    running, since = 0.0, None
    for t, a in zip(times, values, strict=True):
        running += a
        if running < -1e-9 * max(1.0, abs(a)):
            since = None
        elif since is None:
            since = t
    return since


def profitability_index(rate: float, times: Sequence[float], amounts: Sequence[float]) -> float | None:
    """Present value of the money in / present value of the money out (1 + NPV / PV out); None without
    money out."""
    factors = discount_factors(rate, times)
    values = np.asarray(amounts, dtype=float)
    out = -float(np.dot(np.minimum(values, 0), factors))
    return None if out <= 0 else float(np.dot(np.maximum(values, 0), factors)) / out


@dataclass(frozen=True)
class Worth:
    """One case's figures at a rate (rates as fractions, months as 12 × actual/365 years)."""

    npv: Decimal
    irr: list[float]
    reason: str | None
    mirr: float | None
    payback_months: float | None
    discounted_payback_months: float | None
    profitability_index: float | None


def _months(years: float | None) -> float | None:
    return None if years is None else round(years * 12, 2)


def worth(flows: Flows, rate: float, finance_rate: float | None = None, reinvest_rate: float | None = None) -> Worth:
    """The figures of dated flows (sorted by date, one per date) at `rate`; MIRR's finance and reinvestment
    rates default to `rate`."""
    times = year_fractions([d for d, _ in flows])
    amounts = [float(a) for _, a in flows]
    factors = discount_factors(rate, times)
    present = sum((a * Decimal(repr(float(f))) for (_, a), f in zip(flows, factors, strict=True)), Decimal(0))
    irrs, reason = every_irr(times, amounts)
    fin = rate if finance_rate is None else finance_rate
    reinvest = rate if reinvest_rate is None else reinvest_rate
    return Worth(
        npv=round_cents(present),
        irr=irrs,
        reason=reason,
        mirr=mirr(times, amounts, fin, reinvest),
        payback_months=_months(payback_years(times, amounts)),
        discounted_payback_months=_months(payback_years(times, amounts, rate)),
        profitability_index=profitability_index(rate, times, amounts),
    )
