"""Plans and standards: the demand model, a volume plan and budget per simulated year,
fixed-overhead rates from budgeted machine hours, and the rolled-up standard costs."""

from __future__ import annotations

import datetime as dt

from . import costing
from .bottleneck import rework_share, set_rework_cycle
from .demand import spare_daily_demand
from .master import ACCOUNT, INDIRECT_STAGES, REWORK_STAGE, SPARE_FAMILY, STAGES
from .state import Sim

TARGET_LOAD = 0.66  # share of the constraint's capacity the plan uses
SPEED = 0.88  # machines run at 83-93% of their ideal speed (production._run_step)
FIXED_OH_PER_MACHINE = 7_500_00  # cents per machine and month
INDIRECT_STATION_OVERHEAD = 0.25  # of a machine's, for a transport tugger or an inspection station
# list price = standard cost × the family's markup (a gross margin of about a third after discounts and variances)
MARKUP = {"Pumps": 1.65, "Valves": 1.7, "Controllers": 1.85, "Sensors": 1.75, SPARE_FAMILY: 2.3}
PLAN_PRICE = 0.955  # the plan's price: list less the average discount
# operating expenses a month (rent, IT, insurance, marketing, travel, fees), a share of the planned revenue
# spread over the cost centres of the kind; the distribution centre's per expected order line
OPEX_SHARE = {"admin": 0.028, "sales": 0.032, "support": 0.004}
WAREHOUSE_OPEX_PER_LINE = 50  # cents: building, equipment, packaging
WAREHOUSE_DEPRECIATION_PER_LINE = 20  # cents: racking and forklifts
ADMIN_DEPRECIATION_SHARE = 0.003  # offices and IT equipment, of the planned revenue


def months(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    out = []
    m = start.replace(day=1)
    while m <= end:
        nxt = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        out.append((m, nxt - dt.timedelta(days=1)))
        m = nxt
    return out


def plan_demand(sim: Sim) -> None:
    """Mean daily demand per finished good, the regular ones sized to the plant's constraint capacity (the
    spare parts' few units come on top)."""
    c, rng = sim.c, sim.rng
    for p in c.spares:
        sim.daily_demand[p] = spare_daily_demand()
        sim.lot_size[p] = 20
    for site in c.plants:
        products = [p for p in c.regular if c.product_plant[p] == site]
        shifts_h = sum(h for _, _, h in c.site_shifts[site])
        week_minutes = shifts_h * 60 * c.site_workdays[site]
        # the constraint: the stage every product passes with the fewest units an hour (stations ÷ cycle)
        per_unit = max(
            c.machine_cycle[c.wc_machines[f"{site}-{code}"][0]] / len(c.wc_machines[f"{site}-{code}"])
            for code, *_ in STAGES
            if code != REWORK_STAGE
        )
        capacity = week_minutes * 60 / per_unit * SPEED / 7
        weights = rng.dirichlet(np.ones(len(products)) * 3)
        for p, w in zip(products, weights, strict=True):
            sim.daily_demand[p] = capacity * TARGET_LOAD * float(w)
        set_rework_cycle(c, site, rework_share(c, {p: sim.daily_demand[p] for p in products}, site))
        for p in products:
            # a lot must fit one machine's staffed day on the product's slowest step, with room for setup
            slowest = max(c.machine_cycle[c.wc_machines[step[0]][0]] for step in c.routing[p])
            machine_day = shifts_h * 60 * 60 / slowest * 0.42  # two lots fit one machine-day
            sim.lot_size[p] = max(20, int(min(sim.daily_demand[p] * 2, machine_day) // 10 * 10))
    for wc in c.wc_ids:
        # every product passing the work centre has its standard (the cycle is the machines')
        step = next(s for p in c.finished for s in c.routing[p] if s[0] == wc)
        sim.wc_standard[wc] = (step[3], step[2], step[4])


def volume_plan(sim: Sim) -> list[tuple]:
    """The budget's volumes: each product's mean demand times its family's trend and season at mid-month.
    Made before the year, it knows neither the promotions nor the injected demand shift."""
    c = sim.c
    rows = []
    for first, last in months(c.scale.start, c.scale.end):
        version = f"B{first.year}"
        days = (last - first).days + 1
        mid = first + dt.timedelta(days=14)
        for p in c.finished:
            profile = sim.demand.product_factor(p, mid) if sim.demand is not None else 1.0
            qty = round(sim.daily_demand[p] * days * profile / 10) * 10
            price = int(round(c.list_price[p] * PLAN_PRICE / 100)) * 100
            rows.append((version, first, p, float(qty), price))
    return rows


def set_fixed_overhead_rates(sim: Sim, plan_rows: list[tuple]) -> dict[tuple[str, dt.date], int]:
    """Rate = budgeted fixed overhead / budgeted machine hours of the first plan year (Horngren ch. 8).
    Returns the monthly fixed-overhead budget per work centre (cents)."""
    c = sim.c
    first_year = plan_rows[0][0]
    machine_cmin = {wc: 0 for wc in c.wc_ids}
    n_months = len({r[1] for r in plan_rows if r[0] == first_year})
    for version, _period, p, qty, _price in plan_rows:
        if version != first_year:
            continue
        for wc, _setup, run_cmin, _labor, _wh in c.routing[p]:
            machine_cmin[wc] += int(qty) * run_cmin
    budget = {}
    for wc in c.wc_ids:
        # a tugger or an inspection station costs a fraction of a line machine (master.INDIRECT_STAGES)
        share = INDIRECT_STATION_OVERHEAD if wc.split("-")[1] in INDIRECT_STAGES else 1.0
        monthly = int(FIXED_OH_PER_MACHINE * share) * len(c.wc_machines[wc])
        # rate in 1e-4 per machine hour: 12 months' budget over the year's budgeted hours
        rate = costing.half_even_int(monthly * n_months * 100 * 6000, max(machine_cmin[wc], 1))
        labor, var_oh, _ = c.wc_rates[wc]
        c.wc_rates[wc] = (labor, var_oh, int(round(rate / 100)) * 100)
        for first, _last in months(c.scale.start, c.scale.end):
            budget[(wc, first)] = monthly
    return budget


def roll_up_standard_costs(sim: Sim) -> None:
    c = sim.c
    for p in c.finished:
        steps = []
        for wc, _setup, run_cmin, labor_cmin, wh in c.routing[p]:
            lr, vr, fr = c.wc_rates[wc]
            steps.append((labor_cmin, run_cmin, wh, lr, vr, fr, c.site_energy_price[c.wc_site[wc]]))
        c.std_cost[p] = costing.rolled_up_cost(c.material_std[p], steps)


def set_prices_and_expenses(sim: Sim, plan_rows: list[tuple]) -> list[tuple]:
    """List prices as the family's markup on the rolled-up standard (so they follow the standards, made after
    the volume plan), the plan rows repriced at them, and the non-production cost centres' monthly operating
    expenses and depreciation, sized to the first plan year's revenue and the expected order lines."""
    c = sim.c
    for p in c.finished:
        c.list_price[p] = int(round(c.std_cost[p] * MARKUP[c.product_family[p]] / 100)) * 100
    priced = [(v, m, p, q, int(round(c.list_price[p] * PLAN_PRICE / 100)) * 100) for v, m, p, q, _ in plan_rows]
    first_year = priced[0][0]
    n_months = len({r[1] for r in priced if r[0] == first_year})
    monthly_revenue = sum(q * price for v, _m, _p, q, price in priced if v == first_year) / 100 / n_months
    lines = c.scale.orders_per_day * c.scale.lines_per_order * 261 / 12  # order lines a month (weekdays)
    for kind, share in OPEX_SHARE.items():
        ccs = sorted(cc for cc, k in c.cc_kind.items() if k == kind)
        for cc in ccs:
            c.opex_monthly[cc] = int(monthly_revenue * share / len(ccs))
    c.opex_monthly[c.warehouse_cc] = int(lines * WAREHOUSE_OPEX_PER_LINE)
    c.depreciation_monthly = {
        c.warehouse_cc: int(lines * WAREHOUSE_DEPRECIATION_PER_LINE) // 100 * 100,
        c.admin_cc: int(monthly_revenue * ADMIN_DEPRECIATION_SHARE) // 100 * 100,
    }
    return priced


def budget_lines(sim: Sim, plan_rows: list[tuple], fixed_budget: dict) -> list[tuple]:
    """Budget per version (year), month, cost centre and account, in GL sign (debit +)."""
    c = sim.c
    rows = []
    qty = {(r[1], r[2]): (r[3], r[4]) for r in plan_rows}
    for first, _last in months(c.scale.start, c.scale.end):
        version = f"B{first.year}"
        revenue = sum(costing.value_at_standard(int(qty[(first, p)][0]), qty[(first, p)][1]) for p in c.finished)
        cogs = sum(costing.value_at_standard(int(qty[(first, p)][0]), c.std_cost[p]) for p in c.finished)
        rows.append((version, first, c.sales_cc, ACCOUNT["revenue"], -revenue))
        rows.append((version, first, c.sales_cc, ACCOUNT["cogs"], cogs))
        for wc in c.wc_ids:
            units = sum(int(qty[(first, p)][0]) for p in c.finished if c.product_plant[p] == c.wc_site[wc])
            labor_cmin, run_cmin, wh = sim.wc_standard[wc]
            lr, vr, _fr = c.wc_rates[wc]
            cc = c.wc_cc[wc]
            rows.append(
                (
                    version,
                    first,
                    cc,
                    ACCOUNT["direct_labor"],
                    costing.hours_cost(units * labor_cmin, lr),
                )
            )
            rows.append(
                (
                    version,
                    first,
                    cc,
                    ACCOUNT["energy"],
                    costing.energy_cost(units * wh, c.site_energy_price[c.wc_site[wc]]),
                )
            )
            rows.append(
                (
                    version,
                    first,
                    cc,
                    ACCOUNT["variable_overhead"],
                    costing.hours_cost(units * run_cmin, vr),
                )
            )
            rows.append((version, first, cc, ACCOUNT["fixed_overhead"], fixed_budget[(wc, first)]))
        staff = staff_payroll_budget(sim, first)
        for site in c.plants:
            cc = c.maint_cc[site]
            machines = sum(len(c.wc_machines[wc]) for wc in c.wc_ids if c.wc_site[wc] == site)
            parts = machines * MAINTENANCE_PARTS_PER_MACHINE
            rows.append((version, first, cc, ACCOUNT["maintenance"], parts + staff.pop(cc, 0)))
        for cc, amount in sorted(staff.items()):
            rows.append((version, first, cc, ACCOUNT["payroll"], amount))
        for cc, amount in sorted(c.opex_monthly.items()):
            rows.append((version, first, cc, ACCOUNT["opex"], amount))
    return rows


MAINTENANCE_PARTS_PER_MACHINE = 2_000_00  # cents a month: planned services and breakdowns (production.py)
PRESENCE = 0.96  # people/book_timesheets: 4 % of staff are absent on a given day


def staff_payroll_budget(sim: Sim, first: dt.date) -> dict[str, int]:
    """The month's expected pay of the staff outside production (cents per cost centre): each person's 8
    regular hours on each working day of their site, times the share present; overtime is not budgeted.
    Production labor is budgeted as direct labor at standard above; maintenance staff go with maintenance."""
    from .people import staff_site

    c = sim.c
    days = [first + dt.timedelta(days=i) for i in range(31) if (first + dt.timedelta(days=i)).month == first.month]
    pay: dict[str, int] = {}
    for group, staff in c.employees.items():
        if group.startswith("op:"):
            continue
        workdays = sum(1 for d in days if d.weekday() < c.site_workdays[staff_site(c, group)])
        for eid, cc, _rate, _mult in staff:
            rate_1e4, _mult4 = c.employee_rate[eid]
            pay[cc] = pay.get(cc, 0) + costing.half_even_int(round(rate_1e4 * 8 * workdays * PRESENCE), 100)
    return pay


import numpy as np  # noqa: E402  (used by plan_demand)
