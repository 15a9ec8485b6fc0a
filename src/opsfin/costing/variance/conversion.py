"""The conversion side of the bridge: labor, energy and overhead per work centre and month, recomputed from
the operational rows as the standard-cost ERP closes them (Horngren ch. 7–8; docs/variances.md).

Integers throughout: times in centi-minutes, energy in Wh, rates in 1e-4, money in cents; timesheet hours
are exact Fractions of the hours as booked."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ...core.money import timesheet_pay, to_fraction
from ...core.periods import month_end
from ...kpis.engine import Tables
from ..reads import costing_tables
from .common import Piece, _add, _cents, _month_key, _to_1e4, he, he_div
from .reads import (
    conversion_bills,
    energy_wh,
    fixed_budgets,
    operation_sums,
    timesheet_shapes,
    work_centre_standards,
)

BILL_ROLES = ("energy", "variable_overhead", "fixed_overhead")


@dataclass
class ConversionInputs:
    """What the month-end close of each work centre is recomputed from."""

    #: work centre -> (cost centre, site, SR, VR, FR, SP), rates in 1e-4
    work_centres: dict[str, tuple[Any, Any, int, int, int, int]]
    #: (month, work centre) -> (machine, shift, product) -> [units, run cmin, std labor cmin, std run cmin, std Wh]
    operations: dict[tuple, dict[tuple, list[int]]]
    #: (month, work centre) -> shift -> [hours booked (exact), pay in cents]
    timesheets: dict[tuple, dict[Any, list]]
    #: (month, work centre) -> machine -> Wh
    energy_wh: dict[tuple, dict[Any, int]]
    #: (month, work centre, role) -> cents billed
    bills: dict[tuple, int]
    #: (month, cost centre) -> budgeted fixed overhead in cents
    fixed_budget: dict[tuple, int]

    def active(self, m: dt.date, w: str) -> bool:
        key = (m, w)
        return (
            key in self.operations
            or key in self.timesheets
            or key in self.energy_wh
            or any((m, w, r) in self.bills for r in BILL_ROLES)
        )


def _conversion(t: Tables, months: list[dt.date], versions: dict[dt.date, str]) -> list[Piece]:
    """Labor, energy and overhead per work centre and month, as the demo ERP closes them."""
    inputs = conversion_inputs(t, months[0], month_end(months[-1]), versions)
    pieces: list[Piece] = []
    for m in months:
        for w in sorted(inputs.work_centres):
            if inputs.active(m, w):
                pieces += _labor(m, w, inputs) + _energy(m, w, inputs) + _overhead(m, w, inputs)
    return pieces


# ------------------------------------------------------------------------------------------ inputs
def conversion_inputs(source: Any, lo: dt.date, hi: dt.date, versions: dict[dt.date, str]) -> ConversionInputs:
    t = costing_tables(source)
    wcs = {
        r["work_center_id"]: (
            r["cost_center_id"],
            r["site_id"],
            _to_1e4(r["std_labor_rate"]),
            _to_1e4(r["std_variable_overhead_rate"]),
            _to_1e4(r["std_fixed_overhead_rate"]),
            _to_1e4(r["std_energy_price"]),
        )
        for r in work_centre_standards(t)
    }
    cc_wc = {cc: w for w, (cc, *_rest) in wcs.items()}
    return ConversionInputs(
        wcs,
        _operations(t, lo, hi),
        timesheet_hours_and_pay(t, lo, hi),
        _energy_wh(t, lo, hi),
        _bills(t, lo, hi, cc_wc),
        _fixed_budget(t, lo, hi, versions),
    )


def _operations(t: Tables, lo: dt.date, hi: dt.date) -> dict[tuple, dict[tuple, list[int]]]:
    """Operations that ended in the month, with their standards (integers: centi-minutes, Wh)."""
    op_by: dict[tuple, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    for r in operation_sums(t, lo, hi):
        acc = op_by[(_month_key(r["month"]), r["work_center_id"])][(r["machine_id"], r["shift_id"], r["product_id"])]
        for i, k in enumerate(("u", "run_cmin", "std_lab", "std_run", "std_wh")):
            acc[i] += int(round(r[k] or 0))
    return op_by


def timesheet_hours_and_pay(source: Any, lo: dt.date, hi: dt.date) -> dict[tuple, dict[Any, list]]:
    """Per (month, work centre) and shift: the hours booked to the work centre, exactly as booked (no
    rounding to quarter-hours), and their pay in cents, each row paid by core/money's `timesheet_pay`
    (docs/accounting-rules.md "Labor pay"). Rows alike are paid alike, so each shape is paid once × its count."""
    ts_by: dict[tuple, dict[Any, list]] = defaultdict(lambda: defaultdict(lambda: [Fraction(0), 0]))
    for r in timesheet_shapes(costing_tables(source), lo, hi):
        regular, overtime, n = r["regular"], r["overtime"], r["n"]
        acc = ts_by[(_month_key(r["month"]), r["work_center_id"])][r["shift_id"]]
        acc[0] += (to_fraction(regular) + to_fraction(overtime)) * n
        acc[1] += int(timesheet_pay(regular, overtime, r["rate"], r["multiplier"]).scaleb(2)) * n
    return ts_by


def _energy_wh(t: Tables, lo: dt.date, hi: dt.date) -> dict[tuple, dict[Any, int]]:
    wh_by: dict[tuple, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    for r in energy_wh(t, lo, hi):
        wh_by[(_month_key(r["month"]), r["work_center_id"])][r["machine_id"]] += int(r["wh"] or 0)
    return wh_by


def _bills(t: Tables, lo: dt.date, hi: dt.date, cc_wc: dict[Any, str]) -> dict[tuple, int]:
    """The month's postings to the conversion cost roles, except the clearing journal itself."""
    bill_by: dict[tuple, int] = defaultdict(int)
    for r in conversion_bills(t, BILL_ROLES, lo, hi):
        if r["cost_center_id"] in cc_wc:
            bill_by[(_month_key(r["month"]), cc_wc[r["cost_center_id"]], r["role"])] += _cents(r["amount"])
    return bill_by


def _fixed_budget(t: Tables, lo: dt.date, hi: dt.date, versions: dict[dt.date, str]) -> dict[tuple, int]:
    return {
        (r["period"], r["cost_center_id"]): _cents(r["amount"])
        for r in fixed_budgets(t, lo, hi)
        if versions.get(r["period"]) == r["version"]
    }


# ------------------------------------------------------------------------------------------ pieces
def _piece(cat: str, m: dt.date, w: str, target: int) -> Piece:
    p = Piece(cat, m, target)
    _add(p.parts, "work_center", w, target)
    return p


def _labor(m: dt.date, w: str, inputs: ConversionInputs) -> list[Piece]:
    """Labor rate = −(actual pay − AH × SR); labor efficiency = −(AH × SR − standard labor h × SR)."""
    lr = inputs.work_centres[w][2]
    opsx, tsx = inputs.operations.get((m, w), {}), inputs.timesheets.get((m, w), {})
    hours = sum((v[0] for v in tsx.values()), Fraction(0))
    pay = sum(v[1] for v in tsx.values())
    applied_labor = he_div(sum(v[2] for v in opsx.values()) * lr, 600_000)  # cmin × 1e-4/h → cents
    ah_sr = he(hours * lr / 100)  # h × 1e-4 → cents
    rate = _piece("labor_rate", m, w, -(pay - ah_sr))
    for shift, (h, pp) in tsx.items():
        _add(rate.parts, "shift", shift, -(Fraction(pp) - h * lr / 100))
    efficiency = _piece("labor_efficiency", m, w, -(ah_sr - applied_labor))
    for shift, (h, _pp) in tsx.items():
        _add(efficiency.parts, "shift", shift, -h * lr / 100)
    for (_machine, shift, _product), v in opsx.items():
        _add(efficiency.parts, "shift", shift, Fraction(v[2] * lr, 600_000))
    return [rate, efficiency]


def _energy(m: dt.date, w: str, inputs: ConversionInputs) -> list[Piece]:
    """Energy price = −(bill − actual kWh × SP); energy usage = −(actual kWh × SP − standard kWh × SP)."""
    sp = inputs.work_centres[w][5]
    opsx, whx = inputs.operations.get((m, w), {}), inputs.energy_wh.get((m, w), {})
    wh = sum(whx.values())
    energy_bill = inputs.bills.get((m, w, "energy"), 0)
    akwh_sp = he_div(wh * sp, 100_000)
    applied_energy = he_div(sum(v[4] for v in opsx.values()) * sp, 100_000)
    price = _piece("energy_price", m, w, -(energy_bill - akwh_sp))
    for machine, x in whx.items():
        bill_share = Fraction(energy_bill * x, wh) if wh else Fraction(0)
        _add(price.parts, "machine", machine, -(bill_share - Fraction(x * sp, 100_000)))
    usage = _piece("energy_usage", m, w, -(akwh_sp - applied_energy))
    for machine, x in whx.items():
        _add(usage.parts, "machine", machine, -Fraction(x * sp, 100_000))
    for (machine, _shift, _product), v in opsx.items():
        _add(usage.parts, "machine", machine, Fraction(v[4] * sp, 100_000))
    return [price, usage]


def _overhead(m: dt.date, w: str, inputs: ConversionInputs) -> list[Piece]:
    """Variable overhead spending and efficiency (on machine hours), fixed overhead spending (against the
    budget) and production volume (budget − applied), Horngren ch. 8."""
    cc, _site, _lr, vr, fr, _sp = inputs.work_centres[w]
    opsx = inputs.operations.get((m, w), {})
    run_cmin = sum(v[1] for v in opsx.values())
    std_run = sum(v[3] for v in opsx.values())
    budget = inputs.fixed_budget.get((m, cc), 0)
    amh_vr = he_div(run_cmin * vr, 600_000)
    applied_voh = he_div(std_run * vr, 600_000)
    applied_foh = he_div(std_run * fr, 600_000)
    spending = _piece("var_overhead_spending", m, w, -(inputs.bills.get((m, w, "variable_overhead"), 0) - amh_vr))
    efficiency = _piece("var_overhead_efficiency", m, w, -(amh_vr - applied_voh))
    for (machine, shift, product), v in opsx.items():
        part = -Fraction((v[1] - v[3]) * vr, 600_000)
        _add(efficiency.parts, "machine", machine, part)
        _add(efficiency.parts, "shift", shift, part)
        _add(efficiency.parts, "product", product, part)
    fixed = _piece("fixed_overhead_spending", m, w, -(inputs.bills.get((m, w, "fixed_overhead"), 0) - budget))
    volume = _piece("production_volume", m, w, -(budget - applied_foh))
    return [spending, efficiency, fixed, volume]
