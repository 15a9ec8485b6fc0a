"""The maintenance cost a plan implies (docs/alerts.md, "Forecast breaches"), for the `maintenance_cost`
guardrails of `opsfin alerts --include-forecast`.

A plan has no maintenance line of its own (maintenance is inside its opex), so the KPI is projected from the
plan's machine hours, per site:

    rate(site)              = maintenance_cost(site, window) ÷ hours run(site, window)
    maintenance(site, m)    = rate(site) × Σ required_hours(m) of the site's work centres (plan_capacity)

`maintenance_cost` is the catalog's KPI (Σ the GL's `maintenance` role, by the cost centre's site:
docs/kpis.md), computed by the KPI engine itself; the hours run are the `operations` rows' run and setup
minutes ÷ 60 (the actual counterpart of plan_capacity's required hours: standard run time plus setups),
by the site of their work centre. The window is the `months` months up to and including the reference
month. A site with maintenance cost but no hours run in the window, or without a work centre in the plan,
is projected at its monthly average over the window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..core.periods import add_months
from ..kpis.definitions import Kpi
from ..kpis.engine import compute_one

KPI = "maintenance_cost"


@dataclass(frozen=True)
class MaintenanceDriver:
    """Per site: the window's maintenance cost and machine hours run (module docstring), and the window."""

    cost: dict[str, float]
    hours: dict[str, float]
    months: int
    first: dt.date
    last: dt.date

    def rate(self, site: str) -> float | None:
        """Maintenance cost per hour run at `site`; None without hours run."""
        hours = self.hours.get(site, 0.0)
        return self.cost.get(site, 0.0) / hours if hours > 0 else None


def maintenance_driver(t: Any, kpi: Kpi, reference: dt.date, months: int) -> MaintenanceDriver:
    """The driver over the `months` months up to and including `reference` (a first day of a month)."""
    first, end = add_months(reference, 1 - months), add_months(reference, 1)
    frame = compute_one(t, kpi, "month", by=["site"], start=first, end=end - dt.timedelta(days=1))
    cost: dict[str, float] = {}
    for r in frame.iter_rows(named=True):
        if r["site"] is not None and r["value"] is not None:
            cost[r["site"]] = cost.get(r["site"], 0.0) + float(r["value"])
    o = t("operations")
    o = o.filter((o.end_at >= first) & (o.end_at < end))
    o = o.join(t("work_centers").select("work_center_id", "site_id"), "work_center_id")
    minutes = (o.run_minutes + o.setup_minutes).sum()
    rows = o.group_by("site_id").aggregate(minutes=minutes).to_pyarrow().to_pylist()
    hours = {r["site_id"]: float(r["minutes"] or 0) / 60 for r in rows}
    return MaintenanceDriver(cost, hours, months, first, reference)


def project_maintenance(
    capacity: pl.DataFrame, driver: MaintenanceDriver, sites: Mapping[str, str]
) -> list[tuple[dt.date, str, float]]:
    """(period, site, projected maintenance cost) for every month of `capacity` (plan_capacity rows) and
    every site with maintenance cost in the window; `sites`: work centre → site."""
    required: dict[tuple[dt.date, str], float] = {}
    for r in capacity.iter_rows(named=True):
        site = sites.get(r["work_center_id"])
        if site is not None:
            key = (r["period"], site)
            required[key] = required.get(key, 0.0) + r["required_hours"]
    out = []
    for period in sorted({r for r in capacity["period"].to_list()}):
        for site in sorted(driver.cost):
            rate = driver.rate(site)
            hours = required.get((period, site))
            if rate is not None and hours is not None:
                out.append((period, site, rate * hours))
            else:
                out.append((period, site, driver.cost[site] / driver.months))
    return out
