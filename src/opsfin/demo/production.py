"""Production: replenishment planning, release with material issue, finite scheduling of
operations on machines within staffed shifts (with breakdowns and planned maintenance),
quality inspection and completion into finished-goods stock at standard cost."""

from __future__ import annotations

import datetime as dt

import numpy as np

from . import costing
from .demand import SPARE_SAFETY_STOCK
from .master import ACCOUNT, STAGES
from .state import Sim

TRANSFER_DAYS = 1
FG_COVER_DAYS = 3  # the distribution centre reorders a finished good when it holds fewer days of demand
BASE_BREAKDOWN_P = 0.035
SCRAP_RATE = 0.012  # the company's mean scrap at the last stage; the causes move it (demo/wear.py)
DEFECT_RATE = 0.004  # ... and the defects found at the other stages' inspections
DEFECT_CODES = ["DIM", "SURF", "ASSY", "LEAK", "ELEC"]


def is_workday(sim: Sim, site: str, day: dt.date) -> bool:
    return day.weekday() < sim.c.site_workdays[site]


def shift_window(sim: Sim, site: str, day: dt.date) -> tuple[float, float]:
    """Staffed window of a site on a day, in minutes since the simulation start."""
    shifts = sim.c.site_shifts[site]
    base = (day - sim.c.scale.start).days * 1440
    start = base + shifts[0][1] * 60
    return start, start + sum(h for _, _, h in shifts) * 60


def shift_at(sim: Sim, site: str, minute: float) -> str:
    day_min = minute % 1440
    for sid, start_h, hours in sim.c.site_shifts[site]:
        rel = (day_min - start_h * 60) % 1440
        if rel < hours * 60:
            return sid
    return sim.c.site_shifts[site][-1][0]  # overtime after the last shift counts to it


def plan_orders(sim: Sim, day: dt.date) -> None:
    """Reorder-point replenishment of each finished good into the distribution centre."""
    c = sim.c
    backlog_qty: dict[str, int] = {}
    for ln in sim.backlog:
        backlog_qty[ln[4]] = backlog_qty.get(ln[4], 0) + ln[5]
    spares = set(c.spares)
    for pid in c.finished:
        plant = c.product_plant[pid]
        if not is_workday(sim, plant, day):
            continue
        d = sim.demand_rate(pid, day) * sim.plan.demand_surge(plant, day)
        position = sim.stock[(c.warehouse_site, pid)] + sim.pipeline[pid] - backlog_qty.get(pid, 0)
        # a few days of demand; a spare part keeps a stock for its next lumpy order
        reorder_point = max(d * FG_COVER_DAYS, SPARE_SAFETY_STOCK) if pid in spares else d * FG_COVER_DAYS
        for _ in range(50):  # as many lots as it takes to get back above the reorder point
            if position >= reorder_point:
                break
            qty = min(max(sim.lot_size[pid], int(reorder_point + d * 4 - position)), sim.lot_size[pid])
            qty = int(-(-qty // 10) * 10)
            oid = sim.next_id("PO-M", 7)
            sim.orders[oid] = {
                "site": plant,
                "product": pid,
                "planned": qty,
                "created": day,
                "due": day + dt.timedelta(days=5),
                "released_at": None,
                "completed_at": None,
                "closed": None,
                "status": "open",
                "good": 0,
                "scrap": 0,
                "issued": {},
            }
            sim.unreleased.append(oid)
            sim.pipeline[pid] += qty
            position += qty


def release_orders(sim: Sim, day: dt.date) -> None:
    """Release open orders whose materials are on hand; issue materials to WIP at standard."""
    c = sim.c
    still = []
    for oid in sim.unreleased:
        o = sim.orders[oid]
        site = o["site"]
        start, _ = shift_window(sim, site, day)
        if not is_workday(sim, site, day):
            still.append(oid)
            continue
        need = {}
        for comp, qty_per in c.bom[o["product"]]:
            base = o["planned"] * qty_per
            need[comp] = base + int(round(base * sim.rng.uniform(0.0, 0.025)))
        if any(sim.stock[(site, comp)] < q for comp, q in need.items()):
            still.append(oid)
            continue
        when = sim.ts(start)
        value = 0
        for comp, q in need.items():
            sim.move(when, site, comp, -q, "issue", oid)
            value += costing.value_at_standard(q, c.std_cost[comp])
        o["issued"], o["released_at"], o["status"] = need, when, "released"
        sim.ledger.post(
            day,
            f"Material issue to {oid}",
            oid,
            [(ACCOUNT["inventory_wip"], None, value), (ACCOUNT["inventory_raw"], None, -value)],
        )
        sim.queues[f"{site}-{STAGES[0][0]}"].append((start, oid, 1, o["planned"]))
    sim.unreleased = still


def schedule_day(sim: Sim, day: dt.date) -> None:
    """Run every work centre's queue for one day, stage by stage (a flow shop)."""
    c = sim.c
    # the failing machines (whose extra breakdowns the anomaly adds) are left out of the company's mean
    working = [m for wc in c.wc_ids if is_workday(sim, c.wc_site[wc], day) for m in c.wc_machines[wc]]
    sim.wear.set_mean_hazard([m for m in working if not sim.plan.failing_machine(m, day)])
    for stage, (code, *_rest) in enumerate(STAGES):
        for site in c.plants:
            if not is_workday(sim, site, day):
                continue
            wc = f"{site}-{code}"
            _run_work_center(sim, day, site, wc, stage)


def _run_work_center(sim: Sim, day: dt.date, site: str, wc: str, stage: int) -> None:
    """Run the work centre's queue, first come first served, within the day's staffed window (and its
    overtime); a step that would not end in the window waits for the next day."""
    c = sim.c
    win_start, win_end = shift_window(sim, site, day)
    if sim.overtime_today.get(site):
        win_end += 120
    win_end = min(win_end, (c.days) * 1440.0)  # nothing runs past the simulated horizon
    avail, stops = _open_machines(sim, day, wc, win_start, win_end)
    machines = c.wc_machines[wc]
    avail_at = np.array([avail[m] for m in machines])
    remaining = []
    for item in sorted(sim.queues[wc]):
        ready = item[0]
        if ready >= win_end or not _run_step(sim, site, wc, stage, item, win_end, machines, avail, avail_at, stops):
            remaining.append(item)
    for m, a in avail.items():
        sim.machine_free[m] = a
        sim.wear.end_day(m, win_end - win_start, sim.plan.wear_speed(m, day))
    sim.queues[wc] = remaining


def _open_machines(
    sim: Sim, day: dt.date, wc: str, win_start: float, win_end: float
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """When each machine of the work centre is first available in the window (after its work of the day
    before and any planned maintenance), and the breakdown stopping it today, if any."""
    rng, wear = sim.rng, sim.wear
    avail, stops = {}, {}
    for m in sim.c.wc_machines[wc]:
        sim.windows.append((m, win_start, win_end))
        a = max(sim.machine_free.get(m, 0.0), win_start)
        planned = rng.random() < 1 / 30  # planned maintenance, about monthly: 3 hours at the start of the day
        if planned:
            sim.planned_stops.append((m, win_start, win_start + 180))
            _maintenance(sim, m, win_start, win_start + 180, "planned", "planned maintenance")
            a = max(a, win_start + 180)
        avail[m] = a
        wear.start_day(m, (day - sim.c.scale.start).days, planned)
        # wear moves the breakdowns to the worn machines; the company's mean hazard stays the base one
        if rng.random() < sim.plan.breakdown_probability(m, day, wear.hazard(m, BASE_BREAKDOWN_P)):
            if not sim.plan.failing_machine(m, day):  # a failing machine's repair does not cure its wear
                wear.repaired(m)
            b = float(rng.uniform(win_start, win_end - 60))
            length = float(rng.choice([45, 90, 150, 240]))
            if sim.plan.failing_machine(m, day):
                # a failing machine breaks down as soon as it starts, and stays down until repaired:
                # its work goes to the other machines, so its availability falls
                b, length = a, min(length * 3, max(win_end - a - 1, 1.0))
                avail[m] = a + length
            stops[m] = (b, b + length)
            sim.busy.append((m, b, b + length))
            reason = str(
                rng.choice(
                    [
                        "breakdown: spindle",
                        "breakdown: hydraulics",
                        "breakdown: sensor fault",
                        "breakdown: drive",
                        "breakdown: tooling",
                    ]
                )
            )
            _maintenance(sim, m, b, b + length, "breakdown", reason)
    return avail, stops


def _run_step(
    sim: Sim,
    site: str,
    wc: str,
    stage: int,
    item: tuple,
    win_end: float,
    machines: list[str],
    avail: dict[str, float],
    avail_at: np.ndarray,
    stops: dict[str, tuple[float, float]],
) -> bool:
    """Run one queued routing step (ready, order, step, units) on the first idle machine, else the one free
    soonest; a breakdown on the way stretches it. False, and nothing recorded, when it would end after
    `win_end`."""
    ready, oid, step, units = item
    wc_r, std_setup, _run_cmin, _labor_cmin, _wh = sim.c.routing[sim.orders[oid]["product"]][step - 1]
    free = avail_at <= ready  # the first idle machine, else the one free soonest
    i = int(free.argmax()) if free.any() else int(avail_at.argmin())
    m = machines[i]
    perf = sim.rng.uniform(0.83, 0.93)  # speed losses: minor stops and reduced speed
    drawn = round(std_setup * sim.rng.uniform(0.85, 1.35), 1)
    run = round(units * sim.c.machine_cycle[m] / 60 / perf, 2)
    start = max(avail[m], ready)
    setup = sim.experiments.setup(wc, sim.day_of(start), drawn)  # the demo's setup reduction (demo/experiments.py)
    end = start + setup + run
    stop = stops.get(m)
    interrupted = False
    if stop and start < stop[1] and end > stop[0]:
        if start >= stop[0]:
            start = stop[1]
            end = start + setup + run
        else:
            end += stop[1] - stop[0]
            interrupted = True
    if end > win_end:
        return False
    sim.experiments.note(wc, sim.day_of(end), setup, drawn, units)
    avail[m] = end
    avail_at[i] = end
    _record_step(sim, site, wc, stage, item, m, start, setup, run, end, stop if interrupted else None)
    return True


def _record_step(
    sim: Sim,
    site: str,
    wc: str,
    stage: int,
    item: tuple,
    m: str,
    start: float,
    setup: float,
    run: float,
    end: float,
    stop: tuple[float, float] | None,
) -> None:
    """The operation row of a step run on machine `m` (its run split around `stop`, a breakdown it waited
    through), its inspection, and the order's next step or, after the last stage, its completion."""
    rng, wear = sim.rng, sim.wear
    ready, oid, step, units = item
    last_stage = stage == len(STAGES) - 1
    shift_id = shift_at(sim, site, start)
    wear.run_today[m] = wear.run_today.get(m, 0.0) + run
    factor = wear.defect_factor(m, shift_id, sim.orders[oid]["product"], sim.day_of(start), units, last_stage)
    base_scrap = int(rng.binomial(units, SCRAP_RATE)) if last_stage else 0
    scrap = wear.defects(base_scrap, units, SCRAP_RATE, factor) if last_stage else 0
    good = units - scrap
    op_id = sim.next_id("OP", 8)
    wait = round(start - ready, 1)
    labor = round((setup + run) * 1.0, 2)
    sim.rows["operations"].append(
        (
            op_id,
            oid,
            step,
            wc,
            m,
            shift_id,
            sim.ts(start),
            sim.ts(end),
            setup,
            run,
            labor,
            float(good),
            float(scrap),
            wait,
        )
    )
    run_start = start + setup
    sim.busy.append((m, start, run_start))
    if stop is not None:
        sim.segments.append((m, run_start, stop[0], units, good, run))
        sim.segments.append((m, stop[1], end, units, good, run))
    else:
        sim.segments.append((m, run_start, end, units, good, run))
    sim.month_ops.append((wc, units, end, run))
    if last_stage or rng.random() < 0.15:
        base = base_scrap if last_stage else int(rng.binomial(units, DEFECT_RATE))
        defects = scrap if last_stage else wear.defects(base, units, DEFECT_RATE, factor)
        # the simulation draws a defect code where its base draw found defects (its draws keep their order)
        code = str(rng.choice(DEFECT_CODES)) if base else None
        if defects and code is None:
            code = str(wear.defect_rng.choice(DEFECT_CODES))
        sim.rows["quality_inspections"].append(
            (sim.next_id("QI", 8), oid, op_id, sim.ts(end + 5), float(units), float(defects), code if defects else None)
        )
    if last_stage:
        _complete(sim, oid, end, good, scrap)
    else:
        # the next step of the order's routing (the leak-tested families pass the rework cell, the others skip it)
        next_wc = sim.c.routing[sim.orders[oid]["product"]][step][0]
        sim.queues[next_wc].append((end + 30, oid, step + 1, units))


def _maintenance(sim: Sim, machine: str, start: float, end: float, kind: str, reason: str) -> None:
    rng = sim.rng
    sim.rows["downtime_events"].append((machine, sim.ts(start), sim.ts(end), reason, kind == "planned"))
    parts = int(rng.integers(80, 600) if kind == "planned" else rng.integers(150, 2500)) * 100 + int(
        rng.integers(0, 100)
    )
    hours = round((end - start) / 60 * (1.0 if kind == "planned" else 1.5), 2)
    sim.rows["maintenance_events"].append(
        (sim.next_id("MX", 7), machine, kind, sim.ts(start), sim.ts(end), parts, hours)
    )
    site = sim.c.wc_site[machine.rsplit("-", 1)[0]]
    sim.month_parts[(site, sim.day_of(end).replace(day=1))] += parts


def _complete(sim: Sim, oid: str, end: float, good: int, scrap: int) -> None:
    c = sim.c
    o = sim.orders[oid]
    pid, site = o["product"], o["site"]
    when = sim.ts(end)
    o.update(completed_at=when, status="completed", good=good, scrap=scrap)
    sim.completed.append(oid)
    sim.move(when, site, pid, good, "production", oid)
    value = costing.value_at_standard(good, c.std_cost[pid])
    sim.ledger.post(
        when.date(),
        f"Production receipt {oid}",
        oid,
        [(ACCOUNT["inventory_fg"], None, value), (ACCOUNT["inventory_wip"], None, -value)],
    )
    sim.move(when + dt.timedelta(minutes=1), site, pid, -good, "transfer", oid)
    sim.arrivals[when.date() + dt.timedelta(days=TRANSFER_DAYS)].append((pid, good, oid))
    sim.pipeline[pid] -= scrap  # the good units stay in the pipeline until they reach the DC


def receive_transfers(sim: Sim, day: dt.date) -> None:
    c = sim.c
    ws = c.warehouse_site
    for pid, qty, oid in sim.arrivals.pop(day, []):
        when = dt.datetime.combine(day, dt.time(7, 0))
        sim.move(when, ws, pid, qty, "transfer", oid)
        sim.pipeline[pid] -= qty
        from .people import warehouse_task

        warehouse_task(sim, day, "receive", oid, 1, qty)
        warehouse_task(sim, day, "putaway", oid, 1, qty)
