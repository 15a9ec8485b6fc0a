"""Month-end in the demo ERP: bills, payroll payment, conversion applied at standard and the
residual variances per work centre, order close (usage and scrap), counts, VAT.

After it, the production cost centres' direct_labor, energy, variable_overhead and
fixed_overhead balances are zero (docs/accounting-rules.md)."""

from __future__ import annotations

import datetime as dt

from . import costing
from .master import ACCOUNT, STAGES
from .state import Sim


def _cash_out(
    sim: Sim,
    day: dt.date,
    description: str,
    doc: str,
    debits: list[tuple[str, str | None, int]],
    counterparty: str,
    other_credits: list[tuple[str, str | None, int]] | None = None,
) -> None:
    """A journal paid from the bank, with its bank line (matched to the GL cash line)."""
    other_credits = other_credits or []
    cash = sum(x[2] for x in debits) + sum(x[2] for x in other_credits)
    if cash == 0 and not debits:
        return
    jid = sim.ledger.post(day, description, doc, debits + other_credits + [(ACCOUNT["cash"], None, -cash)])
    if jid and cash:
        sim.bank(
            day,
            -cash,
            counterparty,
            doc,
            description,
            "other",
            sim.ledger.cash_entry_id(jid, ACCOUNT["cash"]),
        )


def close_month(
    sim: Sim, month_start: dt.date, month_end: dt.date, fixed_budget: dict[tuple[str, dt.date], int]
) -> None:
    """The month-end journals, in posting order (the demo is deterministic: the random draws keep it)."""
    units, run_cmin = _operations_done(sim, month_end)
    tag = f"{month_start:%Y-%m}"
    for site in sim.c.plants:
        _pay_site_bills(sim, site, month_start, month_end, tag, run_cmin, fixed_budget)
    # conversion applied at standard, and the residual variances, per work centre
    for wc in sim.c.wc_ids:
        _apply_conversion(sim, wc, units[wc], run_cmin[wc], month_end, tag)
    _close_orders(sim, month_end)
    _pay_and_accrue(sim, month_start, month_end, tag)
    _counts(sim, month_end)
    out, inp = sim.month_vat
    sim.month_vat = [0, 0]
    settle = month_end + dt.timedelta(days=10)
    while settle.weekday() >= 5:
        settle += dt.timedelta(days=1)
    sim.vat_due[settle] = (out, inp, tag)


def _operations_done(sim: Sim, month_end: dt.date) -> tuple[dict[str, int], dict[str, int]]:
    """Units and run time (centi-minutes) per work centre of the operations ended by the month end; the
    later ones stay for the next month."""
    c = sim.c
    hi = ((month_end - c.scale.start).days + 1) * 1440.0
    ops_now = [o for o in sim.month_ops if o[2] < hi]
    sim.month_ops = [o for o in sim.month_ops if o[2] >= hi]
    units = {wc: 0 for wc in c.wc_ids}
    run_cmin = {wc: 0 for wc in c.wc_ids}
    for wc, u, _end, run in ops_now:
        units[wc] += u
        run_cmin[wc] += int(round(run * 100))
    return units, run_cmin


def _pay_site_bills(
    sim: Sim,
    site: str,
    month_start: dt.date,
    month_end: dt.date,
    tag: str,
    run_cmin: dict[str, int],
    fixed_budget: dict[tuple[str, dt.date], int],
) -> None:
    """A plant's energy bill, consumables and fixed overhead (with its depreciation), per work centre; the
    actuals are kept for `_apply_conversion`."""
    c, rng = sim.c, sim.rng
    price = int(round(c.site_energy_price[site] * rng.uniform(0.96, 1.10) / 100)) * 100
    energy_lines, voh_lines, foh_lines = [], [], []
    for wc in [w for w in c.wc_ids if c.wc_site[w] == site]:
        cc = c.wc_cc[wc]
        labor_rate, voh_rate, foh_rate = c.wc_rates[wc]
        wh = sum(sim.month_wh.get(m, 0) for m in c.wc_machines[wc])
        energy = costing.energy_cost(wh, price)
        voh = costing.half_even_int(costing.hours_cost(run_cmin[wc], voh_rate) * int(rng.integers(950, 1081)), 1000)
        budget = fixed_budget.get((wc, month_start), 0)
        foh = costing.half_even_int(budget * int(rng.integers(970, 1051)), 1000)
        energy_lines.append((ACCOUNT["energy"], cc, energy))
        voh_lines.append((ACCOUNT["variable_overhead"], cc, voh))
        foh_lines.append((ACCOUNT["fixed_overhead"], cc, foh))
        sim.month_actuals[wc] = (energy, voh, foh, budget, wh)
    _cash_out(
        sim,
        month_end,
        f"Energy bill {site} {tag}",
        f"ENERGY-{site}-{tag}",
        energy_lines,
        "Stadtwerke Energie AG",
    )
    _cash_out(
        sim,
        month_end,
        f"Consumables and supplies {site} {tag}",
        f"SUPPLIES-{site}-{tag}",
        voh_lines,
        "Industrial Supplies Direct",
    )
    depreciation = [
        (ACCOUNT["accumulated_depreciation"], None, -costing.half_even_int(x[2] * 6, 10)) for x in foh_lines
    ]
    _cash_out(
        sim,
        month_end,
        f"Fixed plant overhead {site} {tag}",
        f"FOH-{site}-{tag}",
        foh_lines,
        "Facility Services GmbH",
        other_credits=depreciation,
    )


def _apply_conversion(sim: Sim, wc: str, u: int, run_cmin: int, month_end: dt.date, tag: str) -> None:
    """A work centre's conversion applied to WIP at standard for its `u` units, and the residual variances
    that bring its labour, energy and overhead balances to zero."""
    c = sim.c
    cc = c.wc_cc[wc]
    labor_rate, voh_rate, foh_rate = c.wc_rates[wc]
    labor_cmin, std_run_cmin, std_wh = sim.wc_standard[wc]
    energy, voh, foh, budget, wh = sim.month_actuals.pop(wc)
    qh, labor_actual = sim.month_labor.pop(wc, [0, 0])
    applied_labor = costing.hours_cost(u * labor_cmin, labor_rate)
    actual_hours_at_std = costing.half_even_int(qh * labor_rate, 400)
    site = c.wc_site[wc]
    std_price = c.site_energy_price[site]
    applied_energy = costing.energy_cost(u * std_wh, std_price)
    actual_kwh_at_std = costing.energy_cost(wh, std_price)
    applied_voh = costing.hours_cost(u * std_run_cmin, voh_rate)
    actual_mh_at_std = costing.hours_cost(run_cmin, voh_rate)
    applied_foh = costing.hours_cost(u * std_run_cmin, foh_rate)
    lines = [
        (
            ACCOUNT["inventory_wip"],
            None,
            applied_labor + applied_energy + applied_voh + applied_foh,
        ),
        (ACCOUNT["variance_labor_rate"], cc, labor_actual - actual_hours_at_std),
        (ACCOUNT["variance_labor_efficiency"], cc, actual_hours_at_std - applied_labor),
        (ACCOUNT["variance_energy"], cc, energy - applied_energy),
        (ACCOUNT["variance_overhead"], cc, (voh - applied_voh) + (foh - budget)),
        (ACCOUNT["variance_volume"], cc, budget - applied_foh),
        (ACCOUNT["direct_labor"], cc, -labor_actual),
        (ACCOUNT["energy"], cc, -energy),
        (ACCOUNT["variable_overhead"], cc, -voh),
        (ACCOUNT["fixed_overhead"], cc, -foh),
    ]
    del (
        actual_kwh_at_std,
        actual_mh_at_std,
    )  # price/usage and spending/efficiency split in the costing engine
    sim.ledger.post(
        month_end,
        f"Conversion applied and variances {wc} {tag}",
        f"MONTH-END-{wc}-{tag}",
        lines,
    )


def order_row(oid: str, o: dict) -> tuple:
    return (
        oid,
        o["site"],
        o["product"],
        float(o["planned"]),
        o["created"],
        o["due"],
        o["released_at"],
        o["completed_at"],
        o["closed"],
        o["status"],
    )


def _close_orders(sim: Sim, month_end: dt.date) -> None:
    """Close the orders completed by the month end; a closed order is final, so it is written and forgotten."""
    c = sim.c
    for oid in sim.completed:
        o = sim.orders.pop(oid)
        pid, site = o["product"], o["site"]
        usage = sum(
            costing.value_at_standard(o["issued"][comp] - o["planned"] * q, c.std_cost[comp]) for comp, q in c.bom[pid]
        )
        scrap = costing.value_at_standard(o["scrap"], c.std_cost[pid])
        o["closed"], o["status"] = month_end, "closed"
        sim.ledger.post(
            month_end,
            f"Order close {oid}",
            oid,
            [
                (ACCOUNT["variance_material_usage"], f"CC-{site}-{STAGES[0][0]}", usage),
                (ACCOUNT["variance_scrap"], f"CC-{site}-{STAGES[-1][0]}", scrap),
                (ACCOUNT["inventory_wip"], None, -(usage + scrap)),
            ],
        )
        sim.rows["production_orders"].append(order_row(oid, o))
    sim.completed = []


def _pay_and_accrue(sim: Sim, month_start: dt.date, month_end: dt.date, tag: str) -> None:
    c, rng = sim.c, sim.rng
    for site, cents in sorted(sim.month_payroll.items()):
        _cash_out(
            sim,
            month_end,
            f"Salaries {site} {tag}",
            f"SALARIES-{site}-{tag}",
            [(ACCOUNT["payroll_liability"], None, cents)],
            "Payroll net pay",
        )
    sim.month_payroll.clear()
    for site in c.plants:
        parts = sim.month_parts.pop((site, month_start), 0)
        _cash_out(
            sim,
            month_end,
            f"Maintenance parts {site} {tag}",
            f"MRO-{site}-{tag}",
            [(ACCOUNT["maintenance"], c.maint_cc[site], parts)],
            "MRO Parts Service",
        )
    for cc, budget in sorted(c.opex_monthly.items()):
        amount = int(budget // 100 * rng.uniform(0.9, 1.12)) * 100 + int(rng.integers(0, 100))
        _cash_out(
            sim,
            month_end,
            f"Operating expenses {cc} {tag}",
            f"OPEX-{cc}-{tag}",
            [(ACCOUNT["opex"], cc, amount)],
            "Various vendors (card and direct debit)",
        )
    for cc, monthly in sorted(c.depreciation_monthly.items()):
        sim.ledger.post(
            month_end,
            f"Depreciation {cc} {tag}",
            f"DEPR-{cc}-{tag}",
            [
                (ACCOUNT["depreciation"], cc, monthly),
                (ACCOUNT["accumulated_depreciation"], None, -monthly),
            ],
        )


def _counts(sim: Sim, month_end: dt.date) -> None:
    """Cycle counts: small stock differences at the plants, and damaged goods at the DC."""
    c, rng = sim.c, sim.rng
    when = dt.datetime.combine(month_end, dt.time(18, 0))
    for site in c.plants:
        for item in rng.choice(c.bought, size=2, replace=False):
            item = str(item)
            on_hand = sim.stock[(site, item)]
            if on_hand < 200:
                continue
            diff = int(rng.integers(-max(on_hand // 300, 1), max(on_hand // 600, 1) + 1))
            if diff == 0:
                continue
            sim.move(when, site, item, diff, "adjustment", f"COUNT-{site}-{month_end:%Y%m}")
            value = costing.value_at_standard(diff, c.std_cost[item])
            sim.ledger.post(
                month_end,
                f"Cycle count {site} {item}",
                f"COUNT-{site}-{month_end:%Y%m}",
                [
                    (ACCOUNT["inventory_raw"], None, value),
                    (ACCOUNT["inventory_adjustment"], f"CC-{site}-ADM", -value),
                ],
            )
    ws = c.warehouse_site
    candidates = [p for p in c.finished if sim.stock[(ws, p)] > 50]
    if candidates:
        pid = str(rng.choice(candidates))
        qty = int(rng.integers(1, 4))
        sim.move(when, ws, pid, -qty, "scrap", f"DAMAGE-{month_end:%Y%m}")
        value = costing.value_at_standard(qty, c.std_cost[pid])
        sim.ledger.post(
            month_end,
            f"Damaged stock written off {pid}",
            f"DAMAGE-{month_end:%Y%m}",
            [
                (ACCOUNT["inventory_adjustment"], c.warehouse_cc, value),
                (ACCOUNT["inventory_fg"], None, -value),
            ],
        )


def settle_vat(sim: Sim, day: dt.date) -> None:
    due = sim.vat_due.pop(day, None)
    if not due:
        return
    out, inp, tag = due
    _cash_out(
        sim,
        day,
        f"VAT return {tag}",
        f"VAT-{tag}",
        [(ACCOUNT["output_vat"], None, out)],
        "Tax authority",
        other_credits=[(ACCOUNT["input_vat"], None, -inp)],
    )
