"""The process KPIs experiments measure (docs/experiments.md, docs/kpis.md "The catalog"): setup, cycle and
wait time of the executed routing steps, the cost of a support ticket and the contribution margin of a unit
sold. Written like every built-in KPI (parts.py): the formula shown is the formula computed; the catalog
(definitions.py) lists them after the others."""

from __future__ import annotations

from .parts import Kpi, define, part, support_cost_centers, with_standard_cost

OPS = "operations"

PROCESS_KPIS: tuple[Kpi, ...] = (
    define(
        "setup_time",
        "Setup time",
        "min/setup",
        "lower_is_better",
        "line supervisor",
        "Minutes per changeover: setup minutes over the routing steps that had a setup.",
        part(OPS, "setup_minutes", "1", where="setup_minutes > 0"),
    ),
    define(
        "cycle_time",
        "Cycle time",
        "min/unit",
        "lower_is_better",
        "line supervisor",
        "Machine minutes per unit processed at a routing step, its setup included.",
        part(OPS, "setup_minutes + run_minutes", "qty_good + qty_scrap"),
    ),
    define(
        "wait_time",
        "Wait time",
        "min/operation",
        "lower_is_better",
        "production planner",
        "Minutes a routing step waited in the work centre's queue before it started.",
        part(OPS, "wait_minutes", "1"),
    ),
    define(
        "cost_per_ticket",
        "Cost per ticket",
        "money/ticket",
        "lower_is_better",
        "support lead",
        "Expenses booked to support cost centres per ticket closed.",
        part(
            "gl_entries",
            "amount",
            where="account_type == 'expense'",
            prepare=support_cost_centers,
            rows="of support cost centres",
        ),
        part("support_tickets", None, "1", exclude_dims={"customer"}),
    ),
    define(
        "contribution_margin_per_unit",
        "Contribution margin per unit",
        "money/unit",
        "higher_is_better",
        "sales controller",
        "Selling price in base currency less the standard unit cost, per unit shipped.",
        part(
            "shipments",
            "(unit_price * _rate - std_unit_cost) * qty",
            "qty",
            prepare=with_standard_cost,
            rows="with the product's std_unit_cost and _rate, the rate to base currency",
        ),
    ),
)
