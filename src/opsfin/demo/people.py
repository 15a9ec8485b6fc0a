"""Workforce: daily timesheets and payroll accrual, warehouse tasks, support tickets."""

from __future__ import annotations

import datetime as dt

from . import costing
from .master import ACCOUNT
from .state import Sim

# each support team's ticket volume, relative to a normally loaded team (the first)
SUPPORT_TEAM_LOAD = [1.0, 0.7, 1.15, 0.85, 0.6, 1.05, 0.9, 0.75]


def is_site_workday(sim: Sim, site: str, day: dt.date) -> bool:
    return day.weekday() < sim.c.site_workdays[site]


def decide_overtime(sim: Sim, day: dt.date) -> None:
    """Plants work two hours' overtime on days their queues are long (or when forced)."""
    c = sim.c
    for site in c.plants:
        load = sum(sum(item[3] for item in sim.queues[wc]) for wc in c.wc_ids if c.wc_site[wc] == site)
        daily = sum(sim.demand_rate(p, day) for p in c.finished if c.product_plant[p] == site)
        sim.overtime_today[site] = sim.plan.forced_overtime(site, day) or load > daily * 2.2


def staff_site(c, group: str) -> str:
    """The site a staff group (`op:WC`, `maint:SITE`, `adm:SITE`, `wh`, `sales`, `sup`) works at."""
    kind, _, key = group.partition(":")
    if kind == "op":
        return c.wc_site[key]
    if kind in ("maint", "adm"):
        return key
    return c.warehouse_site if kind in ("wh", "sales") else c.support_site


def hire_operators(sim: Sim, day: dt.date) -> None:
    """The operators hired today (demo/wear.py plan_hires) take their leaver's place, work centre, shift and
    pay: the staff lists keep their length, so the simulation's draws keep their order."""
    for h in sim.wear.hires:
        if h.day == day:
            _old, cc, rate, mult = sim.c.employees[h.group][h.index]
            sim.c.employees[h.group][h.index] = (h.employee_id, cc, rate, mult)


def book_timesheets(sim: Sim, day: dt.date) -> None:
    c, rng = sim.c, sim.rng
    hire_operators(sim, day)
    rows = sim.rows["timesheets"]
    payroll: dict[str, int] = {}
    for group, staff in c.employees.items():
        kind, _, key = group.partition(":")
        site = staff_site(c, group)
        if not is_site_workday(sim, site, day):
            continue
        shifts = c.site_shifts[site]
        for idx, (eid, cc, _rate, _mult) in enumerate(staff):
            if rng.random() < 0.04:  # absent
                continue
            wc = key if kind == "op" else None
            shift_id = (
                shifts[(idx // max(len(c.wc_machines.get(key, [1])), 1)) % len(shifts)][0]
                if kind == "op"
                else shifts[idx % len(shifts)][0]
            )
            regular_qh = 32
            overtime_qh = 0
            if kind == "op" and sim.overtime_today.get(site) and shift_id == shifts[-1][0]:
                overtime_qh = 8
            elif (
                kind == "op"
                and sim.overtime_today.get(site)
                and (rng.random() < 0.5 or sim.plan.forced_overtime(site, day))
            ):
                overtime_qh = 8
            elif kind != "op" and rng.random() < 0.03:
                overtime_qh = 4
            activity = {
                "op": "A-RUN",
                "maint": "A-MAINT",
                "wh": "A-SHIP",
                "sup": "A-SUPPORT",
                "sales": "A-ORDER",
            }.get(kind, "A-ADMIN")
            tid = sim.next_id("TS", 9)
            rows.append((tid, eid, day, shift_id, wc, cc, activity, regular_qh / 4, overtime_qh / 4))
            rate_1e4, mult4 = c.employee_rate[eid]
            cost = costing.timesheet_cost(regular_qh, overtime_qh, rate_1e4, mult4)
            payroll[cc] = payroll.get(cc, 0) + cost
            sim.month_payroll[site] += cost
            if wc:
                acc = sim.month_labor[wc]
                acc[0] += regular_qh + overtime_qh
                acc[1] += cost
    if payroll:
        lines: list[tuple[str, str | None, int]] = []
        for cc, cents in sorted(payroll.items()):
            kind = c.cc_kind[cc]
            role = "direct_labor" if kind == "production" else ("maintenance" if kind == "service" else "payroll")
            lines.append((ACCOUNT[role], cc, cents))
        lines.append((ACCOUNT["payroll_liability"], None, -sum(x[2] for x in lines)))
        sim.ledger.post(day, f"Payroll accrual {day}", f"PAYROLL-{day:%Y%m%d}", lines)


def warehouse_task(sim: Sim, day: dt.date, kind: str, ref: str, lines: int, units: int) -> None:
    c, rng = sim.c, sim.rng
    staff = c.employees["wh"]
    eid = staff[int(rng.integers(0, len(staff)))][0]
    base_min = {"receive": 5, "putaway": 4, "pick": 1.2, "pack": 0.8, "load": 4}[kind]  # minutes per line
    minutes = base_min * lines * rng.uniform(0.7, 1.4) + (units * 0.02 if kind in ("receive", "putaway") else 0)
    start = dt.datetime.combine(day, dt.time(6)) + dt.timedelta(minutes=float(rng.uniform(0, 900)))
    end = start + dt.timedelta(minutes=round(float(minutes), 1))
    sim.rows["warehouse_tasks"].append(
        (
            sim.next_id("WT", 9),
            c.warehouse_site,
            eid,
            kind,
            start,
            end,
            ref,
            int(lines),
            float(units),
        )
    )


def open_tickets(sim: Sim, day: dt.date) -> None:
    c, rng = sim.c, sim.rng
    if day.weekday() >= 5:
        return
    # a ticket is about a delivery: its customer is the one of an order shipped this month (else not known)
    served = sim.shipped_to[1] if sim.shipped_to[0] == day.replace(day=1) else []
    for t, cc in enumerate(c.support_ccs):
        staff = len(c.employees[f"sup:{cc}"])
        # an agent of a normally loaded team handles about 5.5 productive hours of tickets a day; the teams'
        # loads differ (SUPPORT_TEAM_LOAD)
        load = SUPPORT_TEAM_LOAD[t % len(SUPPORT_TEAM_LOAD)]
        mean = staff * 5.5 * 60 / 35 * load * sim.plan.support_volume_factor(cc, day)
        for _ in range(int(rng.poisson(mean))):
            opened = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=float(rng.uniform(0, 480)))
            handling = round(float(rng.lognormal(3.4, 0.5)), 1)
            closed = opened + dt.timedelta(hours=float(rng.exponential(20)) + handling / 60)
            if closed.date() > c.scale.end:
                closed_at, csat = None, None
            else:
                closed_at = closed
                csat = int(min(5, max(1, round(rng.normal(4.2 - handling / 200, 0.8)))))
            cust = served[int(rng.integers(0, len(served)))] if rng.random() < 0.85 and served else None
            sim.rows["support_tickets"].append((sim.next_id("TK", 8), cc, cust, opened, closed_at, handling, csat))
