"""Every KPI of docs/kpis.md, each defined once: which rows, which numerator and denominator.

A KPI is one or more *parts*. A part takes a source (sources.py), keeps some of its rows and says
what each row adds to the numerator and to the denominator. The engine sums both per period and
dimension member, so a roll-up recomputes the ratio from sums and never averages ratios.
Parts from different sources (labor_productivity: output ÷ hours) are summed side by side; such a KPI
can only be split by the dimensions every part carries.

Numerators, denominators and filters are written in the expression language of custom KPIs
(expressions.py), and a KPI's formula text is made from them (`formula_of`), so the formula shown is
the formula computed. What stays in Python says why beside it (joins in `prepare`, days_to_pay,
working capital).
"""

from __future__ import annotations

import ibis.expr.types as ir

from ..canonical.tables import VARIANCE_ROLES
from .definitions_process import PROCESS_KPIS
from .parts import (
    Kpi,
    Part,
    define,
    part,
    production_cost_centers,
    support_cost_centers,
    with_standard_cost,
)
from .sources import fx_to_base


def _receipts_in_base(t, rel: ir.Table) -> ir.Table:
    return fx_to_base(t, rel, "currency", "received_date", t.base_currency)


def _base_weight(r: ir.Table) -> ir.Value:
    """Allocated amount in base currency, as a weight (DOUBLE: Ibis cannot mix decimal precisions)."""
    return r.amount.cast("float64") * r._rate.cast("float64")


COGS_ROLES = ("cogs", *VARIANCE_ROLES)

R = "machine_readings"
T = "timesheets"
GL = "gl_entries"
PAID_HOURS = "regular_hours + overtime_hours"
COGS = f"role in {COGS_ROLES!r}"
# The OEE family: ratios of machine readings where higher is better (OEE = availability × performance ×
# quality rate). (id, name, owner, description, numerator, denominator)
OEE_FAMILY = (
    (
        "availability",
        "Availability",
        "plant manager",
        "Share of planned production time the machines actually ran.",
        "run_minutes",
        "planned_minutes",
    ),
    (
        "performance",
        "Performance",
        "plant manager",
        "Speed while running, against the ideal cycle.",
        "ideal_cycle_seconds * units_total",
        "run_minutes * 60",
    ),
    (
        "quality_rate",
        "Quality rate",
        "quality manager",
        "Good units among all units made.",
        "units_good",
        "units_total",
    ),
    (
        "oee",
        "OEE",
        "plant manager",
        "Overall equipment effectiveness: good output at ideal speed over planned time.",
        "ideal_cycle_seconds * units_good",
        "planned_minutes * 60",
    ),
    (
        "capacity_utilization",
        "Capacity utilization",
        "plant manager",
        "Actual output over the output possible in planned time.",
        "ideal_cycle_seconds * units_total",
        "planned_minutes * 60",
    ),
)
# The ledger sums of the CFO: GL amounts in the base currency, summed (kind "sum", money).
# (id, name, direction, description, amount, the GL rows summed)
LEDGER_SUMS = (
    (
        "revenue",
        "Revenue",
        "higher_is_better",
        "Revenue recognised on shipment, base currency.",
        "-amount",
        "role == 'revenue'",
    ),
    (
        "cogs",
        "Cost of goods sold",
        "lower_is_better",
        "Standard cost of goods shipped plus all variances.",
        "amount",
        COGS,
    ),
    (
        "gross_margin",
        "Gross margin",
        "higher_is_better",
        "Revenue less the cost of goods sold.",
        "-amount",
        f"role in {('revenue', *COGS_ROLES)!r}",
    ),
    (
        "opex",
        "Operating expenses",
        "lower_is_better",
        "Expenses outside cost of goods sold.",
        "amount",
        f"account_type == 'expense' and role not in {COGS_ROLES!r}",
    ),
)
# Working capital, company level: (id, name, unit, direction, owner, formula, description)
WORKING_CAPITAL = (
    (
        "dso",
        "Days sales outstanding",
        "days",
        "lower_is_better",
        "credit controller",
        "avg_AR / revenue · d",
        "Average receivables in days of revenue (company level).",
    ),
    (
        "dio",
        "Days inventory outstanding",
        "days",
        "lower_is_better",
        "supply chain manager",
        "avg_inventory (raw + wip + fg) / cogs · d",
        "Average inventory in days of cost of goods sold.",
    ),
    (
        "dpo",
        "Days payables outstanding",
        "days",
        "higher_is_better",
        "treasurer",
        "avg_AP / cogs · d (AP = −balance)",
        "Average payables in days of cost of goods sold.",
    ),
    (
        "ccc",
        "Cash conversion cycle",
        "days",
        "lower_is_better",
        "CFO",
        "dso + dio − dpo",
        "Days between paying for inputs and collecting from customers.",
    ),
    (
        "inventory_turns",
        "Inventory turns",
        "turns/year",
        "higher_is_better",
        "supply chain manager",
        "cogs / avg_inventory · 365/d (annualised)",
        "How often inventory turns over in a year.",
    ),
)
KPIS: tuple[Kpi, ...] = (
    *(
        define(id, name, "ratio", "higher_is_better", owner, description, part(R, num, den))
        for id, name, owner, description, num, den in OEE_FAMILY
    ),
    define(
        "output_units",
        "Output",
        "units",
        "higher_is_better",
        "plant manager",
        "Units produced into stock (inventory movements of kind production).",
        part("production_output", "qty"),
        kind="sum",
    ),
    define(
        "throughput_per_hour",
        "Throughput per hour",
        "units/h",
        "higher_is_better",
        "line supervisor",
        "Good units per run hour.",
        part("operations", "qty_good", "run_minutes"),
        scale=60.0,
    ),
    define(
        "scrap_rate",
        "Scrap rate",
        "ratio",
        "lower_is_better",
        "quality manager",
        "Share of processed units scrapped.",
        part("operations", "qty_scrap", "qty_good + qty_scrap"),
    ),
    define(
        "first_pass_yield",
        "First-pass yield",
        "ratio",
        "higher_is_better",
        "quality manager",
        "Share of inspected units without defect.",
        part("quality_inspections", "qty_inspected - qty_defective", "qty_inspected"),
    ),
    define(
        "labor_productivity",
        "Labor productivity",
        "units/h",
        "higher_is_better",
        "plant manager",
        "Units produced per paid production hour.",
        part("production_output", "qty", exclude_dims={"product", "family"}),
        part(
            T,
            None,
            PAID_HOURS,
            prepare=production_cost_centers,
            rows="of production cost centres",
            exclude_dims={"cost_center", "work_center", "shift"},
        ),
    ),
    # the load a constraint shows: capacity_utilization counts only the hours a machine had work (OEE's
    # planned time), so it stays near availability however long the queue; staffed time does not
    define(
        "machine_load",
        "Machine load",
        "ratio",
        "higher_is_better",
        "production planner",
        "Busy minutes (setup and run) of a work centre's operations over its operators' paid minutes.",
        part("operations", "setup_minutes + run_minutes", exclude_dims={"machine", "product", "family"}),
        part(
            T,
            None,
            f"({PAID_HOURS}) * 60",
            prepare=production_cost_centers,
            rows="of production cost centres",
            exclude_dims={"cost_center"},
        ),
    ),
    define(
        "overtime_share",
        "Overtime share",
        "ratio",
        "lower_is_better",
        "HR business partner",
        "Share of hours paid as overtime.",
        part(T, "overtime_hours", PAID_HOURS),
    ),
    define(
        "support_utilization",
        "Support utilization",
        "ratio",
        "higher_is_better",
        "support lead",
        "Share of a support team's paid time spent handling tickets (tickets closed in the period).",
        part("support_tickets", "handling_minutes", exclude_dims={"customer"}),
        part(
            T,
            None,
            f"({PAID_HOURS}) * 60",
            prepare=support_cost_centers,
            rows="of support cost centres",
            exclude_dims={"work_center", "shift"},
        ),
    ),
    define(
        "picks_per_hour",
        "Picks per hour",
        "lines/h",
        "higher_is_better",
        "DC manager",
        "Order lines picked per hour (hours = finished_at − started_at of the task).",
        part("warehouse_tasks", "lines", "hours", where="kind == 'pick'"),
    ),
    define(
        "on_time_delivery",
        "On-time delivery",
        "ratio",
        "higher_is_better",
        "supply chain manager",
        "Share of shipped quantity shipped on or before the promised date.",
        part("shipments", "if_else(_date <= promised_date, qty, 0.0)", "qty"),
    ),
    # a mean is a ratio: Σ csat over the number of scored tickets
    define(
        "csat",
        "Customer satisfaction",
        "score 1–5",
        "higher_is_better",
        "support lead",
        "Average satisfaction score of tickets closed in the period.",
        part("support_tickets", "csat", "1", where="not_null(csat)"),
    ),
    define(
        "energy_per_unit",
        "Energy per unit",
        "kWh/unit",
        "lower_is_better",
        "energy manager",
        "Energy drawn per good unit.",
        part(R, "kwh", "units_good"),
    ),
    define(
        "maintenance_cost",
        "Maintenance cost",
        "money",
        "lower_is_better",
        "maintenance manager",
        "Maintenance spend booked in the ledger.",
        part(GL, "amount", where="role == 'maintenance'"),
        kind="sum",
        money=True,
    ),
    define(
        "maintenance_parts_cost",
        "Maintenance parts cost",
        "money",
        "lower_is_better",
        "maintenance manager",
        "Spare parts used on each machine, dated by the event's end_at.",
        part("maintenance_events", "parts_cost"),
        kind="sum",
        money=True,
    ),
    define(
        "supplier_on_time",
        "Supplier on-time",
        "ratio",
        "higher_is_better",
        "purchasing manager",
        "Share of received quantity that arrived on or before the PO line's expected date.",
        part("goods_receipts", "if_else(_date <= expected_date, qty, 0.0)", "qty"),
    ),
    define(
        "ppv_rate",
        "Purchase price variance rate",
        "ratio",
        "lower_is_better",
        "purchasing manager",
        "How far purchase prices run above (+) or below (−) standard.",
        part(
            "goods_receipts",
            "(unit_price * _rate - std_unit_cost) * qty",
            "std_unit_cost * qty",
            prepare=with_standard_cost,
            rows="with the product's std_unit_cost and _rate, the rate to base currency",
        ),
    ),
    # Stays in Python: a difference of dates and a currency weight, which the expression language lacks.
    Kpi(
        "days_to_pay",
        "Days to pay",
        "days",
        "lower_is_better",
        "credit controller",
        "mean of (received_date − invoice_date) over receipt allocations, weighted by the allocated amount",
        "How long customers take to pay, from invoice to money received.",
        (
            Part(
                "receipt_allocations",
                lambda r: r.received_date.delta(r.invoice_date, unit="day") * _base_weight(r),
                _base_weight,
                prepare=_receipts_in_base,
            ),
        ),
    ),
    *(
        define(id, name, "money", direction, "CFO", description, part(GL, amount, where=rows), kind="sum", money=True)
        for id, name, direction, description, amount, rows in LEDGER_SUMS
    ),
    # Working capital stays in Python (working_capital.py): averages of period-end balances, not sums of rows.
    *(
        Kpi(id, name, unit, direction, owner, formula, description, kind="balance", company_only=True)
        for id, name, unit, direction, owner, formula, description in WORKING_CAPITAL
    ),
    *PROCESS_KPIS,  # setup, cycle and wait time, cost per ticket, contribution margin per unit
)

KPI_BY_ID: dict[str, Kpi] = {k.id: k for k in KPIS}
