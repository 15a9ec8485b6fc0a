"""Capacity per work centre and month (docs/planning.md, "Operations and balances").

- **Required hours** (machine hours): Σ over the month's production of each routing step, qty ×
  `std_run_minutes_per_unit` ÷ 60, plus, with `setup_per_order`, `std_setup_minutes` ÷ 60 per production
  order, the orders being ⌈qty ÷ the product's average lot size⌉ (its production orders of the
  `lot_size_months` before the plan; one order a month without any). Labor hours are qty ×
  `std_labor_minutes_per_unit` ÷ 60, reported beside (`OperationsPlan.labor`).
- **Available hours** = working days of the month × the site's staffed shift hours a day × machines of the
  work centre (employees assigned to it for a team without machines, else 1) × its availability. The
  working weekdays and the staffed shifts are read from the site's production timesheets of the
  `working_days_months` before the plan (a weekday counts when it was worked at least half as often as the
  most worked one); a site without timesheets works Mon–Fri on all its shifts, and a problem says so.
  Availability: OperationsConfig `availability_basis`, from the machine readings and downtime events of the
  `availability_months` before the plan (1 without readings).
- utilization = required ÷ available (0 when nothing is available: then every required hour is overtime);
  overtime_hours = max(0, required − available); each month a work centre is over 100 % (or needs hours
  where none are available) is a problem line.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import polars as pl

from ..core.frames import ColumnTypes
from ..core.periods import add_months
from .operations_config import OperationsConfig
from .production import Read, days_in

CAPACITY_SCHEMA: ColumnTypes = {
    "period": pl.Date,
    "work_center_id": pl.Utf8,
    "required_hours": pl.Float64,
    "available_hours": pl.Float64,
    "utilization": pl.Float64,
    "overtime_hours": pl.Float64,
}
LABOR_SCHEMA: ColumnTypes = {"period": pl.Date, "work_center_id": pl.Utf8, "labor_hours": pl.Float64}
MON_FRI = frozenset(range(5))


def lot_sizes(t: Read, start: dt.date, months: int) -> dict[str, float]:
    """Average planned quantity of each product's production orders created in the months before `start`."""
    po = t("production_orders")
    po = po.filter((po.created_date >= add_months(start, -months)) & (po.created_date < start))
    rows = po.group_by("product_id").aggregate(lot=po.planned_qty.mean()).to_pyarrow().to_pylist()
    return {r["product_id"]: float(r["lot"]) for r in rows if r["lot"]}


def staffed_calendar(t: Read, start: dt.date, months: int) -> dict[str, tuple[frozenset[int], float]]:
    """{site: (working weekdays, 0 = Monday; staffed shift hours a day)} from production timesheets."""
    ts, wc, sh = t("timesheets"), t("work_centers"), t("shifts")
    ts = ts.filter(ts.work_center_id.notnull() & (ts.work_date >= add_months(start, -months)) & (ts.work_date < start))
    j = ts.join(wc.select("work_center_id", "site_id"), "work_center_id")
    days = j.select("site_id", "work_date").distinct().to_pyarrow().to_pylist()
    shifts = j.select("site_id", "shift_id").distinct().join(sh.select("shift_id", "hours"), "shift_id")
    hours: dict[str, float] = defaultdict(float)
    for row in shifts.to_pyarrow().to_pylist():
        hours[row["site_id"]] += float(row["hours"])
    worked: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in days:
        worked[row["site_id"]][row["work_date"].weekday()] += 1
    out = {}
    for site, counts in worked.items():
        most = max(counts.values())
        out[site] = (frozenset(d for d, n in counts.items() if 2 * n >= most), hours[site])
    return out


def availability(t: Read, start: dt.date, config: OperationsConfig) -> dict[str, float]:
    """Each work centre's availability (module docstring) over `availability_months` before `start`."""
    lo = add_months(start, -config.availability_months)
    m = t("machines").select("machine_id", "work_center_id")
    r = t("machine_readings")
    r = r.filter((r.hour_start >= lo) & (r.hour_start < start)).join(m, "machine_id")
    sums = r.group_by("work_center_id").aggregate(planned=r.planned_minutes.sum(), run=r.run_minutes.sum())
    readings = {x["work_center_id"]: x for x in sums.to_pyarrow().to_pylist()}
    d = t("downtime_events")
    d = d.filter((d.start_at >= lo) & (d.start_at < start)).join(m, "machine_id")
    minutes = (d.end_at.epoch_seconds() - d.start_at.epoch_seconds()) / 60
    stops = d.group_by(["work_center_id", "planned"]).aggregate(minutes=minutes.sum()).to_pyarrow().to_pylist()
    lost: dict[tuple[str, bool], float] = {
        (x["work_center_id"], bool(x["planned"])): float(x["minutes"]) for x in stops
    }
    out = {}
    for wc, x in readings.items():
        planned = float(x["planned"] or 0)
        if config.availability_basis == "run":
            out[wc] = float(x["run"] or 0) / planned if planned else 1.0
            continue
        staffed = planned + lost.get((wc, True), 0.0)
        out[wc] = max(0.0, planned - lost.get((wc, False), 0.0)) / staffed if staffed else 1.0
    return out


def resources(t: Read) -> tuple[dict[str, int], dict[str, str]]:
    """({work centre: machines, else employees assigned, else 1}, {work centre: site})."""
    wc = t("work_centers").select("work_center_id", "site_id").to_pyarrow().to_pylist()
    m = t("machines")
    machines = {
        r["work_center_id"]: r["n"]
        for r in m.group_by("work_center_id").aggregate(n=m.count()).to_pyarrow().to_pylist()
    }
    e = t("employees")
    e = e.filter(e.work_center_id.notnull())
    people = {
        r["work_center_id"]: r["n"]
        for r in e.group_by("work_center_id").aggregate(n=e.count()).to_pyarrow().to_pylist()
    }
    counts = {
        r["work_center_id"]: machines.get(r["work_center_id"]) or people.get(r["work_center_id"]) or 1 for r in wc
    }
    return counts, {r["work_center_id"]: r["site_id"] for r in wc}


def required_hours(
    production: pl.DataFrame, routings: list[dict], lots: dict[str, float], setup_per_order: bool
) -> tuple[dict[tuple[dt.date, str], float], dict[tuple[dt.date, str], float]]:
    """({(month, work centre): machine hours}, {(month, work centre): labor hours}) of `production`."""
    steps: dict[str, list[dict]] = defaultdict(list)
    for step in routings:
        steps[step["product_id"]].append(step)
    machine: dict[tuple[dt.date, str], float] = defaultdict(float)
    labor: dict[tuple[dt.date, str], float] = defaultdict(float)
    for row in production.iter_rows(named=True):
        qty = row["qty"]
        if qty <= 0:
            continue
        lot = lots.get(row["product_id"])
        orders = math.ceil(qty / lot - 1e-9) if lot else 1
        for step in steps.get(row["product_id"], []):
            key = (row["period"], step["work_center_id"])
            setup = orders * float(step["std_setup_minutes"]) if setup_per_order else 0.0
            machine[key] += (qty * float(step["std_run_minutes_per_unit"]) + setup) / 60
            labor[key] += qty * float(step["std_labor_minutes_per_unit"]) / 60
    return dict(machine), dict(labor)


def site_shift_hours(t: Read, site: str) -> float:
    """Hours a day of all the shifts of `site`."""
    sh = t("shifts")
    return float(sh.filter(sh.site_id == site).hours.sum().to_pyarrow().as_py() or 0.0)


def working_days(month: dt.date, weekdays: frozenset[int]) -> int:
    """Days of `month` that fall on `weekdays`."""
    return sum(1 for d in range(days_in(month)) if (month + dt.timedelta(days=d)).weekday() in weekdays)


def capacity_frame(
    required: dict[tuple[dt.date, str], float],
    months: list[dt.date],
    counts: dict[str, int],
    site_of: dict[str, str],
    calendar: dict[str, tuple[frozenset[int], float]],
    available_share: dict[str, float],
) -> tuple[pl.DataFrame, list[str]]:
    """The plan_capacity rows (without `version`) of every work centre and month, and the overloads."""
    rows, problems = [], []
    for month in months:
        for wc in sorted(counts):
            weekdays, hours = calendar.get(site_of[wc], (MON_FRI, 0.0))
            available = working_days(month, weekdays) * hours * counts[wc] * available_share.get(wc, 1.0)
            need = required.get((month, wc), 0.0)
            utilization = need / available if available else 0.0
            overtime = max(0.0, need - available)
            rows.append((month, wc, need, available, utilization, overtime))
            if utilization > 1 or (need and not available):
                share = f"{utilization:.0%}" if available else "no hours available"
                problems.append(
                    f"{wc} is overloaded in {month:%Y-%m}: {need:.1f} h required, {available:.1f} h available "
                    f"({share}); {overtime:.1f} h overtime"
                )
    return pl.DataFrame(rows, schema=CAPACITY_SCHEMA, orient="row"), problems


def plan_capacity(
    t: Read, made: pl.DataFrame, months: list[dt.date], config: OperationsConfig
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(capacity rows, labor hours per work centre and month, problems) for the production `made`."""
    start = min(months)
    routings = t("routings").to_pyarrow().to_pylist()
    lots = lot_sizes(t, start, config.lot_size_months)
    machine, labor = required_hours(made, routings, lots, config.setup_per_order)
    counts, site_of = resources(t)
    calendar = staffed_calendar(t, start, config.working_days_months)
    problems = []
    for site in sorted({site_of[wc] for _, wc in machine if wc in site_of} - set(calendar)):
        calendar[site] = (MON_FRI, site_shift_hours(t, site))
        problems.append(f"{site}: no production timesheets before {start:%Y-%m}; planned Mon–Fri on all its shifts")
    capacity, overloads = capacity_frame(machine, months, counts, site_of, calendar, availability(t, start, config))
    labor_rows = [(m, wc, h) for (m, wc), h in sorted(labor.items())]
    return capacity, pl.DataFrame(labor_rows, schema=LABOR_SCHEMA, orient="row"), problems + overloads
