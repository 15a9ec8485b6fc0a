"""Guardrails on forecasts (docs/alerts.md, "Forecast breaches"): `model/guardrails.yaml` checked against the
KPIs a plan version projects, month by month.

The projected KPIs, from the plan tables (docs/planning.md), each a numerator over a denominator summed over
the members of the guardrail's scope (ratios are never averaged):

| KPI | dimensions | projected as |
| --- | --- | --- |
| `capacity_utilization` | site, work_center | required_hours ÷ available_hours (plan_capacity) |
| `overtime_share` | site, work_center | overtime_hours ÷ (available_hours + overtime_hours): the overtime share of the hours the plan needs staffed |
| `dio` | company | month-end `inventory` × days ÷ (cogs + variances) (plan_balances, plan_pnl) |
| `dso` | company | month-end `ar` × days ÷ revenue (plan_balances, plan_pnl); the plan's AR is net of VAT |
| `gross_margin` | site | Σ the `gross_margin` line (plan_pnl) |
| `maintenance_cost` | site | the site's recent maintenance cost per hour run × its plan required_hours (forecast_maintenance.py) |

Other KPIs are not projected; a guardrail on them, or split by a dimension the projection has not, or on a
grain other than month, is left to the actual alerts. Only months after the reference month (the version's as_of, else the last month of the
books) are checked: one `forecast_breach` alert per guardrail, scope and month outside the band."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ..kpis.definitions import Kpi
from .forecast_maintenance import MaintenanceDriver, project_maintenance
from .guardrails import Guardrail
from .model import Alert, alert_id, fmt_span, fmt_value, scope_words

KIND = "forecast_breach"
DIMS = ("site", "work_center")
#: the dimensions each projected KPI has
PROJECTED: dict[str, tuple[str, ...]] = {
    "capacity_utilization": DIMS,
    "overtime_share": DIMS,
    "dio": (),
    "dso": (),
    "gross_margin": ("site",),
    "maintenance_cost": ("site",),
}
SUMS = {"gross_margin", "maintenance_cost"}
PROJECTION_SCHEMA = {
    "kpi": pl.Utf8,
    "period": pl.Date,
    "site": pl.Utf8,
    "work_center": pl.Utf8,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
}


@dataclass(frozen=True)
class PlanVersion:
    """A plan version's rows as the plan tables hold them (without `version`), the month its forecast
    starts after, and what drives its maintenance cost (None: maintenance_cost is not projected)."""

    name: str
    capacity: pl.DataFrame  # period, work_center_id, required_hours, available_hours, utilization, overtime_hours
    balances: pl.DataFrame  # period, role, amount
    pnl: pl.DataFrame  # period, site_id, line, amount
    reference: dt.date  # first day of the last month not ahead (as_of, or the last month of the books)
    maintenance: MaintenanceDriver | None = None


def months_between(first: dt.date, later: dt.date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def projected_kpis(plan: PlanVersion, sites: Mapping[str, str]) -> pl.DataFrame:
    """(kpi, period, site, work_center, numerator, denominator) of the projected KPIs; `sites`: work centre →
    site."""
    rows: list[tuple] = []
    for r in plan.capacity.iter_rows(named=True):
        wc, site = r["work_center_id"], sites.get(r["work_center_id"])
        required, available, overtime = r["required_hours"], r["available_hours"], r["overtime_hours"]
        rows.append(("capacity_utilization", r["period"], site, wc, required, available))
        rows.append(("overtime_share", r["period"], site, wc, overtime, available + overtime))
    line = _by_period(plan.pnl, "line")
    role = _by_period(plan.balances, "role")
    for period in sorted({p for p, _ in role}):
        days = calendar.monthrange(period.year, period.month)[1]
        cogs = line.get((period, "cogs"), 0.0) + line.get((period, "variances"), 0.0)
        rows.append(("dio", period, None, None, role.get((period, "inventory"), 0.0) * days, cogs))
        rows.append(
            ("dso", period, None, None, role.get((period, "ar"), 0.0) * days, line.get((period, "revenue"), 0.0))
        )
    for r in plan.pnl.filter(pl.col("line") == "gross_margin").iter_rows(named=True):
        rows.append(("gross_margin", r["period"], r["site_id"], None, float(r["amount"]), None))
    if plan.maintenance is not None:
        for period, site, amount in project_maintenance(plan.capacity, plan.maintenance, sites):
            rows.append(("maintenance_cost", period, site, None, amount, None))
    return pl.DataFrame(rows, schema=PROJECTION_SCHEMA, orient="row")


def _by_period(frame: pl.DataFrame, key: str) -> dict[tuple[dt.date, str], float]:
    out: dict[tuple[dt.date, str], float] = {}
    for r in frame.iter_rows(named=True):
        k = (r["period"], r[key])
        out[k] = out.get(k, 0.0) + float(r["amount"])
    return out


def applies(g: Guardrail) -> bool:
    """Whether a guardrail can be checked on a plan's projection (module docstring)."""
    dims = PROJECTED.get(g.kpi)
    return dims is not None and g.grain == "month" and set(g.by) <= set(dims) and set(g.where) <= set(dims)


def check_forecast(
    plan: PlanVersion, guardrails: Sequence[Guardrail], catalog: Mapping[str, Kpi], sites: Mapping[str, str]
) -> list[Alert]:
    """The forecast_breach alerts of `plan`: every guardrail that applies, on every month ahead."""
    projection = projected_kpis(plan, sites).filter(pl.col("period") > plan.reference)
    alerts = []
    for g in (g for g in guardrails if applies(g) and g.kpi in catalog):
        rows = projection.filter(pl.col("kpi") == g.kpi)
        for dim, values in g.where.items():
            rows = rows.filter(pl.col(dim).is_in(values))
        grouped = rows.group_by(["period", *g.by]).agg(pl.col("numerator").sum(), pl.col("denominator").sum())
        for r in grouped.sort(["period", *g.by]).iter_rows(named=True):
            value = _value(g.kpi, r["numerator"], r["denominator"])
            if value is None:
                continue
            above = g.max is not None and value > g.max
            if above or (g.min is not None and value < g.min):
                alerts.append(_alert(plan, g, catalog[g.kpi], r, value, above))
    return alerts


def _value(kpi: str, numerator: float, denominator: float | None) -> float | None:
    if kpi in SUMS:
        return numerator
    return numerator / denominator if denominator else None


def _alert(plan: PlanVersion, g: Guardrail, kpi: Kpi, r: dict, value: float, above: bool) -> Alert:
    scope = {d: str(r[d]) for d in g.by}
    for dim, values in g.where.items():
        scope.setdefault(dim, ",".join(values))
    period: dt.date = r["period"]
    ahead = months_between(plan.reference, period)
    bound = g.max if above else g.min
    side = "above the maximum" if above else "below the minimum"
    explanation = (
        f"{kpi.name} {scope_words(scope)} is projected at {fmt_value(value, kpi.unit)} {fmt_span(period, period, 'month')}"
        f" ({ahead} month{'s' if ahead != 1 else ''} ahead, plan {plan.name}), {side} of "
        f"{fmt_value(bound, kpi.unit)} its guardrail allows."
    )
    last_day = period.replace(day=calendar.monthrange(period.year, period.month)[1])
    return Alert(
        id=alert_id(KIND, g.kpi, scope, period, plan.name, g.severity, "max" if above else "min"),
        kind=KIND,
        kpi=g.kpi,
        scope=scope,
        period_start=period,
        period_end=last_day,
        value=value,
        expected=None,
        bound=bound,
        severity=g.severity,
        explanation=explanation,
        grain="month",
        owner=g.owner,
        extra={"version": plan.name, "months_ahead": ahead},
    )
