"""Every KPI of DESIGN.md v1, each defined once: which rows, which numerator and denominator.

A KPI is one or more *parts*. A part takes a source (sources.py), keeps some of its rows and says
what each row adds to the numerator and to the denominator. The engine sums both per period and
dimension member, so a roll-up recomputes the ratio from sums and never averages ratios.
Parts from different sources (labor_productivity: output ÷ hours) are summed side by side; such a KPI
can only be split by the dimensions every part carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from .sources import SOURCES, cost_center_kind, fx_to_base

Expr = Callable[[ir.Table], ir.Value]


@dataclass(frozen=True)
class Part:
    source: str
    num: Expr | None = None
    den: Expr | None = None
    keep: Expr | None = None                                   # row filter
    prepare: Callable[[object, ir.Table], ir.Table] | None = None  # extra joins (t, rel) -> rel
    exclude_dims: frozenset[str] = frozenset()


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
    kind: str = "ratio"        # ratio: value = numerator / denominator; sum: value = numerator; balance
    money: bool = False
    scale: float = 1.0         # value = scale × numerator / denominator
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


COGS_ROLES = ("cogs", "variance_material_price", "variance_invoice_price", "variance_material_usage",
              "variance_scrap", "variance_labor_rate", "variance_labor_efficiency", "variance_energy",
              "variance_overhead", "variance_volume")

R = "machine_readings"
KPIS: tuple[Kpi, ...] = (
    Kpi("availability", "Availability", "ratio", "higher_is_better", "plant manager",
        "Σ run_minutes / Σ planned_minutes (machine_readings)",
        "Share of planned production time the machines actually ran.",
        (Part(R, lambda r: r.run_minutes, lambda r: r.planned_minutes),)),
    Kpi("performance", "Performance", "ratio", "higher_is_better", "plant manager",
        "Σ (ideal_cycle_seconds · units_total) / Σ (run_minutes · 60)",
        "Speed while running, against the ideal cycle.",
        (Part(R, lambda r: r.ideal_cycle_seconds * r.units_total, lambda r: r.run_minutes * 60),)),
    Kpi("quality_rate", "Quality rate", "ratio", "higher_is_better", "quality manager",
        "Σ units_good / Σ units_total (machine_readings)", "Good units among all units made.",
        (Part(R, lambda r: r.units_good, lambda r: r.units_total),)),
    Kpi("oee", "OEE", "ratio", "higher_is_better", "plant manager",
        "Σ (ideal_cycle_seconds · units_good) / Σ (planned_minutes · 60)",
        "Overall equipment effectiveness: good output at ideal speed over planned time.",
        (Part(R, lambda r: r.ideal_cycle_seconds * r.units_good, lambda r: r.planned_minutes * 60),)),
    Kpi("capacity_utilization", "Capacity utilization", "ratio", "higher_is_better", "plant manager",
        "Σ (ideal_cycle_seconds · units_total) / Σ (planned_minutes · 60)",
        "Actual output over the output possible in planned time.",
        (Part(R, lambda r: r.ideal_cycle_seconds * r.units_total, lambda r: r.planned_minutes * 60),)),
    Kpi("output_units", "Output", "units", "higher_is_better", "plant manager",
        "Σ qty of inventory_movements with kind 'production'", "Units produced into stock.",
        (Part("production_output", lambda r: r.qty),), kind="sum"),
    Kpi("throughput_per_hour", "Throughput per hour", "units/h", "higher_is_better", "line supervisor",
        "Σ operations.qty_good / Σ operations.run_minutes · 60", "Good units per run hour.",
        (Part("operations", lambda r: r.qty_good, lambda r: r.run_minutes),), scale=60.0),
    Kpi("scrap_rate", "Scrap rate", "ratio", "lower_is_better", "quality manager",
        "Σ qty_scrap / Σ (qty_good + qty_scrap) (operations)", "Share of processed units scrapped.",
        (Part("operations", lambda r: r.qty_scrap, lambda r: r.qty_good + r.qty_scrap),)),
    Kpi("first_pass_yield", "First-pass yield", "ratio", "higher_is_better", "quality manager",
        "(Σ qty_inspected − Σ qty_defective) / Σ qty_inspected", "Share of inspected units without defect.",
        (Part("quality_inspections", lambda r: r.qty_inspected - r.qty_defective, lambda r: r.qty_inspected),)),
    Kpi("labor_productivity", "Labor productivity", "units/h", "higher_is_better", "plant manager",
        "output_units / Σ (regular_hours + overtime_hours) of production timesheets",
        "Units produced per paid production hour.",
        (Part("production_output", lambda r: r.qty, exclude_dims=frozenset({"product", "family"})),
         Part("timesheets", None, lambda r: r.regular_hours + r.overtime_hours, prepare=_production_cc,
              exclude_dims=frozenset({"cost_center", "work_center", "shift"})))),
    Kpi("overtime_share", "Overtime share", "ratio", "lower_is_better", "HR business partner",
        "Σ overtime_hours / Σ (regular_hours + overtime_hours)", "Share of hours paid as overtime.",
        (Part("timesheets", lambda r: r.overtime_hours, lambda r: r.regular_hours + r.overtime_hours),)),
    Kpi("support_utilization", "Support utilization", "ratio", "higher_is_better", "support lead",
        "Σ handling_minutes of tickets closed in P / (Σ hours of the support cost centre's timesheets · 60)",
        "Share of a support team's paid time spent handling tickets.",
        (Part("support_tickets", lambda r: r.handling_minutes, exclude_dims=frozenset({"customer"})),
         Part("timesheets", None, lambda r: (r.regular_hours + r.overtime_hours) * 60, prepare=_support_cc,
              exclude_dims=frozenset({"work_center", "shift"})))),
    Kpi("picks_per_hour", "Picks per hour", "lines/h", "higher_is_better", "DC manager",
        "Σ lines of pick tasks / Σ hours (finished_at − started_at) of those tasks", "Order lines picked per hour.",
        (Part("warehouse_tasks", lambda r: r.lines, lambda r: r.hours, keep=lambda r: r.kind == "pick"),)),
    Kpi("on_time_delivery", "On-time delivery", "ratio", "higher_is_better", "supply chain manager",
        "Σ qty shipped on or before promised_date / Σ qty shipped", "Share of shipped quantity on time.",
        (Part("shipments", lambda r: ibis.ifelse(r._date <= r.promised_date, r.qty, 0.0), lambda r: r.qty),)),
    Kpi("csat", "Customer satisfaction", "score 1–5", "higher_is_better", "support lead",
        "mean csat of tickets closed in P", "Average satisfaction score of closed tickets.",
        (Part("support_tickets", lambda r: r.csat, lambda r: ibis.literal(1.0), keep=lambda r: r.csat.notnull()),)),
    Kpi("energy_per_unit", "Energy per unit", "kWh/unit", "lower_is_better", "energy manager",
        "Σ kwh / Σ units_good (machine_readings)", "Energy drawn per good unit.",
        (Part(R, lambda r: r.kwh, lambda r: r.units_good),)),
    Kpi("maintenance_cost", "Maintenance cost", "money", "lower_is_better", "maintenance manager",
        "Σ amount of GL rows with role maintenance", "Maintenance spend booked in the ledger.",
        (Part("gl_entries", lambda r: r.amount, keep=lambda r: r.role == "maintenance"),), kind="sum", money=True),
    Kpi("maintenance_parts_cost", "Maintenance parts cost", "money", "lower_is_better", "maintenance manager",
        "Σ parts_cost of maintenance_events, dated by end_at", "Spare parts used on each machine.",
        (Part("maintenance_events", lambda r: r.parts_cost),), kind="sum", money=True),
    Kpi("supplier_on_time", "Supplier on-time", "ratio", "higher_is_better", "purchasing manager",
        "Σ qty received on or before the PO line's expected_date / Σ qty received",
        "Share of received quantity that arrived on time.",
        (Part("goods_receipts", lambda r: ibis.ifelse(r._date <= r.expected_date, r.qty, 0.0), lambda r: r.qty),)),
    Kpi("ppv_rate", "Purchase price variance rate", "ratio", "lower_is_better", "purchasing manager",
        "Σ (PO unit price in base currency − std_unit_cost) · qty received / Σ std_unit_cost · qty received",
        "How far purchase prices run above (+) or below (−) standard.",
        (Part("goods_receipts", lambda r: (r.unit_price * r._rate - r.std_unit_cost) * r.qty,
              lambda r: r.std_unit_cost * r.qty, prepare=_with_standard_cost),)),
    Kpi("days_to_pay", "Days to pay", "days", "lower_is_better", "credit controller",
        "mean of (received_date − invoice_date) over receipt allocations, weighted by the allocated amount",
        "How long customers take to pay, from invoice to money received.",
        (Part("receipt_allocations", lambda r: r.received_date.delta(r.invoice_date, unit="day") * _base_weight(r),
              _base_weight, prepare=_receipts_in_base),)),
    Kpi("revenue", "Revenue", "money", "higher_is_better", "CFO", "−Σ amount over role revenue",
        "Revenue recognised on shipment, base currency.",
        (Part("gl_entries", lambda r: -r.amount, keep=lambda r: r.role == "revenue"),), kind="sum", money=True),
    Kpi("cogs", "Cost of goods sold", "money", "lower_is_better", "CFO",
        "Σ amount over cogs and the variance_* roles", "Standard cost of goods shipped plus all variances.",
        (Part("gl_entries", lambda r: r.amount, keep=lambda r: r.role.isin(COGS_ROLES)),), kind="sum", money=True),
    Kpi("gross_margin", "Gross margin", "money", "higher_is_better", "CFO", "revenue − cogs",
        "Revenue less the cost of goods sold.",
        (Part("gl_entries", lambda r: -r.amount, keep=lambda r: r.role.isin(("revenue", *COGS_ROLES))),),
        kind="sum", money=True),
    Kpi("opex", "Operating expenses", "money", "lower_is_better", "CFO",
        "Σ amount over every other account of type expense", "Expenses outside cost of goods sold.",
        (Part("gl_entries", lambda r: r.amount,
              keep=lambda r: (r.account_type == "expense") & ~r.role.isin(COGS_ROLES)),), kind="sum", money=True),
    Kpi("dso", "Days sales outstanding", "days", "lower_is_better", "credit controller",
        "avg_AR / revenue · d", "Average receivables in days of revenue (company level).",
        kind="balance", company_only=True),
    Kpi("dio", "Days inventory outstanding", "days", "lower_is_better", "supply chain manager",
        "avg_inventory (raw + wip + fg) / cogs · d", "Average inventory in days of cost of goods sold.",
        kind="balance", company_only=True),
    Kpi("dpo", "Days payables outstanding", "days", "higher_is_better", "treasurer",
        "avg_AP / cogs · d (AP = −balance)", "Average payables in days of cost of goods sold.",
        kind="balance", company_only=True),
    Kpi("ccc", "Cash conversion cycle", "days", "lower_is_better", "CFO", "dso + dio − dpo",
        "Days between paying for inputs and collecting from customers.", kind="balance", company_only=True),
    Kpi("inventory_turns", "Inventory turns", "turns/year", "higher_is_better", "supply chain manager",
        "cogs / avg_inventory · 365/d (annualised)", "How often inventory turns over in a year.",
        kind="balance", company_only=True),
)

KPI_BY_ID: dict[str, Kpi] = {k.id: k for k in KPIS}
