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

from collections.abc import Callable
from dataclasses import dataclass, field

import ibis.expr.types as ir

from ..canonical.tables import VARIANCE_ROLES
from .expressions import Expression
from .sources import SOURCES, cost_center_kind, fx_to_base

Expr = Callable[[ir.Table], ir.Value]


@dataclass(frozen=True)
class Part:
    source: str
    num: Expr | None = None
    den: Expr | None = None
    keep: Expr | None = None  # row filter
    prepare: Callable[[object, ir.Table], ir.Table] | None = None  # extra joins (t, rel) -> rel
    exclude_dims: frozenset[str] = frozenset()
    rows: str = ""  # what `prepare` adds, for the formula text


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    unit: str
    direction: str
    owner: str
    formula: str
    description: str
    parts: tuple[Part, ...] = ()
    kind: str = "ratio"  # ratio: value = numerator / denominator; sum: value = numerator; balance
    money: bool = False
    scale: float = 1.0  # value = scale × numerator / denominator
    company_only: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def dims(self) -> frozenset[str]:
        if self.company_only or not self.parts:
            return frozenset()
        sets = [SOURCES[p.source].dims - p.exclude_dims for p in self.parts]
        return frozenset.intersection(*sets)


def _f(x: ir.Value) -> ir.Value:
    return x.cast("float64")


def _production_cc(t, rel: ir.Table) -> ir.Table:
    return cost_center_kind(t, rel, "production")


def _support_cc(t, rel: ir.Table) -> ir.Table:
    return cost_center_kind(t, rel, "support")


def _with_standard_cost(t, rel: ir.Table) -> ir.Table:
    p = t("products").select(_p="product_id", std_unit_cost="std_unit_cost")
    rel = rel.join(p, rel.product == p._p).drop("_p")
    return fx_to_base(t, rel, "currency", "_date", t.base_currency)


def _receipts_in_base(t, rel: ir.Table) -> ir.Table:
    return fx_to_base(t, rel, "currency", "received_date", t.base_currency)


def _base_weight(r: ir.Table) -> ir.Value:
    """Allocated amount in base currency, as a weight (DOUBLE: Ibis cannot mix decimal precisions)."""
    return r.amount.cast("float64") * r._rate.cast("float64")


def _part(
    source: str,
    num: str | None,
    den: str | None = None,
    where: str | None = None,
    prepare: Callable[[object, ir.Table], ir.Table] | None = None,
    rows: str = "",
    exclude_dims: set[str] | frozenset[str] = frozenset(),
) -> Part:
    """A part written in the KPI expression language, the language of custom KPIs (expressions.py)."""

    def at(side: str) -> str:
        return f"built-in KPI part over {source} {side}"

    return Part(
        source,
        Expression(num, at("numerator")) if num else None,
        Expression(den, at("denominator")) if den else None,
        Expression(where, at("filter")) if where else None,
        prepare,
        frozenset(exclude_dims),
        rows,
    )


def formula_of(parts: tuple[Part, ...], kind: str, scale: float = 1.0) -> str:
    """The formula text of expression parts, exactly what the engine sums: `sum(num) / sum(den) over source`."""

    def context(p: Part) -> str:
        text = f"over {p.source}" + (f" {p.rows}" if p.rows else "")
        return text + (f" where {p.keep.text}" if isinstance(p.keep, Expression) else "")

    def side(attr: str) -> str:
        chosen = [p for p in parts if getattr(p, attr) is not None]
        terms = [f"sum({getattr(p, attr).text})" + (f" {context(p)}" if len(parts) > 1 else "") for p in chosen]
        return " + ".join(terms)

    text = side("num") if kind == "sum" else f"{side('num')} / {side('den')}"
    if kind != "sum" and scale != 1.0:
        text = f"{scale:g} * {text}"
    return text if len(parts) > 1 else f"{text} {context(parts[0])}"


def _kpi(
    id: str,
    name: str,
    unit: str,
    direction: str,
    owner: str,
    description: str,
    *parts: Part,
    kind: str = "ratio",
    money: bool = False,
    scale: float = 1.0,
) -> Kpi:
    return Kpi(
        id,
        name,
        unit,
        direction,
        owner,
        formula_of(parts, kind, scale),
        description,
        parts,
        kind=kind,
        money=money,
        scale=scale,
    )


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
        _kpi(id, name, "ratio", "higher_is_better", owner, description, _part(R, num, den))
        for id, name, owner, description, num, den in OEE_FAMILY
    ),
    _kpi(
        "output_units",
        "Output",
        "units",
        "higher_is_better",
        "plant manager",
        "Units produced into stock (inventory movements of kind production).",
        _part("production_output", "qty"),
        kind="sum",
    ),
    _kpi(
        "throughput_per_hour",
        "Throughput per hour",
        "units/h",
        "higher_is_better",
        "line supervisor",
        "Good units per run hour.",
        _part("operations", "qty_good", "run_minutes"),
        scale=60.0,
    ),
    _kpi(
        "scrap_rate",
        "Scrap rate",
        "ratio",
        "lower_is_better",
        "quality manager",
        "Share of processed units scrapped.",
        _part("operations", "qty_scrap", "qty_good + qty_scrap"),
    ),
    _kpi(
        "first_pass_yield",
        "First-pass yield",
        "ratio",
        "higher_is_better",
        "quality manager",
        "Share of inspected units without defect.",
        _part("quality_inspections", "qty_inspected - qty_defective", "qty_inspected"),
    ),
    _kpi(
        "labor_productivity",
        "Labor productivity",
        "units/h",
        "higher_is_better",
        "plant manager",
        "Units produced per paid production hour.",
        _part("production_output", "qty", exclude_dims={"product", "family"}),
        _part(
            T,
            None,
            PAID_HOURS,
            prepare=_production_cc,
            rows="of production cost centres",
            exclude_dims={"cost_center", "work_center", "shift"},
        ),
    ),
    _kpi(
        "overtime_share",
        "Overtime share",
        "ratio",
        "lower_is_better",
        "HR business partner",
        "Share of hours paid as overtime.",
        _part(T, "overtime_hours", PAID_HOURS),
    ),
    _kpi(
        "support_utilization",
        "Support utilization",
        "ratio",
        "higher_is_better",
        "support lead",
        "Share of a support team's paid time spent handling tickets (tickets closed in the period).",
        _part("support_tickets", "handling_minutes", exclude_dims={"customer"}),
        _part(
            T,
            None,
            f"({PAID_HOURS}) * 60",
            prepare=_support_cc,
            rows="of support cost centres",
            exclude_dims={"work_center", "shift"},
        ),
    ),
    _kpi(
        "picks_per_hour",
        "Picks per hour",
        "lines/h",
        "higher_is_better",
        "DC manager",
        "Order lines picked per hour (hours = finished_at − started_at of the task).",
        _part("warehouse_tasks", "lines", "hours", where="kind == 'pick'"),
    ),
    _kpi(
        "on_time_delivery",
        "On-time delivery",
        "ratio",
        "higher_is_better",
        "supply chain manager",
        "Share of shipped quantity shipped on or before the promised date.",
        _part("shipments", "if_else(_date <= promised_date, qty, 0.0)", "qty"),
    ),
    # a mean is a ratio: Σ csat over the number of scored tickets
    _kpi(
        "csat",
        "Customer satisfaction",
        "score 1–5",
        "higher_is_better",
        "support lead",
        "Average satisfaction score of tickets closed in the period.",
        _part("support_tickets", "csat", "1", where="not_null(csat)"),
    ),
    _kpi(
        "energy_per_unit",
        "Energy per unit",
        "kWh/unit",
        "lower_is_better",
        "energy manager",
        "Energy drawn per good unit.",
        _part(R, "kwh", "units_good"),
    ),
    _kpi(
        "maintenance_cost",
        "Maintenance cost",
        "money",
        "lower_is_better",
        "maintenance manager",
        "Maintenance spend booked in the ledger.",
        _part(GL, "amount", where="role == 'maintenance'"),
        kind="sum",
        money=True,
    ),
    _kpi(
        "maintenance_parts_cost",
        "Maintenance parts cost",
        "money",
        "lower_is_better",
        "maintenance manager",
        "Spare parts used on each machine, dated by the event's end_at.",
        _part("maintenance_events", "parts_cost"),
        kind="sum",
        money=True,
    ),
    _kpi(
        "supplier_on_time",
        "Supplier on-time",
        "ratio",
        "higher_is_better",
        "purchasing manager",
        "Share of received quantity that arrived on or before the PO line's expected date.",
        _part("goods_receipts", "if_else(_date <= expected_date, qty, 0.0)", "qty"),
    ),
    _kpi(
        "ppv_rate",
        "Purchase price variance rate",
        "ratio",
        "lower_is_better",
        "purchasing manager",
        "How far purchase prices run above (+) or below (−) standard.",
        _part(
            "goods_receipts",
            "(unit_price * _rate - std_unit_cost) * qty",
            "std_unit_cost * qty",
            prepare=_with_standard_cost,
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
        _kpi(id, name, "money", direction, "CFO", description, _part(GL, amount, where=rows), kind="sum", money=True)
        for id, name, direction, description, amount, rows in LEDGER_SUMS
    ),
    # Working capital stays in Python (working_capital.py): averages of period-end balances, not sums of rows.
    *(
        Kpi(id, name, unit, direction, owner, formula, description, kind="balance", company_only=True)
        for id, name, unit, direction, owner, formula, description in WORKING_CAPITAL
    ),
)

KPI_BY_ID: dict[str, Kpi] = {k.id: k for k in KPIS}
