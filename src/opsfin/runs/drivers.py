"""`opsfin drivers` on a workspace (docs/scenarios.md "The driver tree"): the period's driver values from the
KPI engine and the books, the version's plan of the period as the budget, the month before as the prior,
and the sensitivities from the scenario engine run on the version's plan of that one month.

Only the period's month is planned (the base and each move), so a tree costs one plan build per driver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import polars as pl

from ..core.money import to_decimal
from ..core.periods import add_months, month_end, parse_month
from ..costing.reads import fetch
from ..errors import UserError
from ..kpis.definitions import KPI_BY_ID
from ..kpis.engine import compute, compute_one
from ..kpis.working_capital import INVENTORY, RunningBalances, daily_ledger
from ..planning.inputs import PlanInputs
from ..planning.volumes import ACTUAL, volumes_for
from ..scenarios.driver_sensitivity import moves, sensitivities
from ..scenarios.drivers import AVAILABILITY, driver_tree, tree_nodes
from ..scenarios.engine import BaseCase, prepare_base
from .planning import load_planning_config, source_span
from .scenarios import opening_cash, overtime_share

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

Progress = Callable[[str], None]
Values = dict[str, Any]
#: the tree's nodes whose value is a company-level KPI of the catalog (docs/kpis.md)
KPI_NODES = {
    "revenue": "revenue",
    "cost_of_sales": "cogs",
    "gross_margin": "gross_margin",
    "opex": "opex",
    "material_price": "ppv_rate",
    "scrap_rate": "scrap_rate",
    "labor_productivity": "labor_productivity",
    "overtime_share": "overtime_share",
    "energy_per_unit": "energy_per_unit",
    AVAILABILITY: "availability",
    "dso": "dso",
    "dio": "dio",
    "dpo": "dpo",
    "working_capital": "ccc",
}


@dataclass(frozen=True)
class DriverReport:
    """The tree of `period` against `version`: one row per node (scenarios.drivers.driver_tree)."""

    period: dt.date
    version: str
    nodes: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """`{"period": "YYYY-MM", "version", "nodes": [...]}`."""
        return {"period": f"{self.period:%Y-%m}", "version": self.version, "nodes": self.nodes}


def driver_report(
    ws: WorkspaceFolder, period: str | None = None, version: str | None = None, progress: Progress | None = None
) -> DriverReport:
    """The driver tree of `period` (YYYY-MM; default: the last month with shipments) against `version`
    (default: the first version, by name, whose volume_plan covers the period)."""
    from .tables import reading_tables

    say = progress or (lambda _text: None)
    config = load_planning_config(ws.model_dir)
    with reading_tables(ws) as t:
        month = parse_month(period, "--period") if period else source_span(t, ACTUAL)[1]
        version = check_version(t, version, month) if version else default_version(t, month)
        prior = add_months(month, -1)
        say(f"actuals of {prior:%Y-%m} and {month:%Y-%m}: KPIs and the books")
        actual = actual_values(t, [prior, month], config.site_mix_months)
        say(f"the plan of {version} for {month:%Y-%m}")
        volumes = volumes_for(t, version, [month], t.base_currency, config.site_mix_months)
        base = prepare_base(
            PlanInputs(t, volumes, [month], config, (version,)),
            opening_cash=opening_cash(t, month),
            overtime_share=overtime_share(ws),
            name=version,
        )
        budget = plan_values(t, base, month)
        scale = {**actual[month], "volume": budget.get("volume"), "price": budget.get("price")}
        runs = moves(base, month, scale, overtime_multiplier(t), list_margins(t))
        sens = sensitivities(base, month, runs, say)
    nodes = tree_nodes(base.facts.wc_site)
    return DriverReport(month, version, driver_tree(nodes, actual[month], budget, actual[prior], sens))


def default_version(t: Any, month: dt.date) -> str:
    """The first version (by name) with volume_plan rows in `month`; a UserError when none has."""
    vp = t("volume_plan")
    names = sorted(r["version"] for r in fetch(vp.filter(vp.period == month).select("version").distinct()))
    if not names:
        raise UserError(
            f"no plan version has volumes for {month:%Y-%m}: give --version (a version with volume_plan rows)"
        )
    return names[0]


def check_version(t: Any, version: str, month: dt.date) -> str:
    """`version` when it has volume_plan rows in `month`; a UserError naming --version otherwise."""
    vp = t("volume_plan")
    if not fetch(vp.filter((vp.version == version) & (vp.period == month)).limit(1)):
        raise UserError(
            "{param} " + f"{version!r} has no volume_plan rows in {month:%Y-%m}",
            param="version",
            value=version,
            hint="`opsfin plan list` shows the versions",
        )
    return version


def overtime_multiplier(t: Any) -> float:
    """The mean overtime multiplier of the employees of work centres (1 when none)."""
    e = t("employees")
    e = e.filter(e.work_center_id.notnull())
    value = fetch(e.aggregate(m=e.overtime_multiplier.mean()))[0]["m"]
    return float(value) if value is not None else 1.0


# ------------------------------------------------------------------------------------------ values
def actual_values(t: Any, months: list[dt.date], site_mix_months: int) -> dict[dt.date, Values]:
    """The drivers and totals of each month of actuals: the KPI engine's values (company level,
    availability also per work centre), the books' cash flow, and volume, price and mix from the
    shipments. One read per source for all the months."""
    first, last = min(months), month_end(max(months))
    out: dict[dt.date, Values] = {m: {} for m in months}
    node_of = {kpi: node for node, kpi in KPI_NODES.items()}
    for frame in compute(t, sorted(node_of), "month", start=first, end=last):
        for r in frame.iter_rows(named=True):
            if r["period_start"] in out:
                out[r["period_start"]][node_of[r["kpi"]]] = r["value"]
    by_wc = compute_one(t, KPI_BY_ID["availability"], "month", ["work_center"], None, first, last)
    for r in by_wc.iter_rows(named=True):
        if r["period_start"] in out:
            out[r["period_start"]][f"{AVAILABILITY}:{r['work_center']}"] = r["value"]
    cash = RunningBalances(daily_ledger(t, ("cash",)))
    shipped = volumes_for(t, ACTUAL, months, t.base_currency, site_mix_months).shipments
    for m, values in out.items():
        if all(v is None for v in values.values()):  # no actuals in the month: nothing, not zeros
            continue
        for node in ("revenue", "cost_of_sales", "gross_margin", "opex"):
            values[node] = to_decimal(values[node]) if values.get(node) is not None else None
        if values.get("gross_margin") is not None and values.get("opex") is not None:
            values["operating_income"] = values["gross_margin"] - values["opex"]
        values["cash_flow"] = cash.flow(("cash",), m, month_end(m))
        values.update(_volume_price_mix(t, shipped.filter(pl.col("period") == m), values.get("revenue")))
    return out


def list_margins(t: Any) -> dict[str, Decimal]:
    """Each product's list price − standard unit cost: the weights of the mix."""
    rows = fetch(t("products").select("product_id", "list_price", "std_unit_cost"))
    return {r["product_id"]: to_decimal(r["list_price"]) - to_decimal(r["std_unit_cost"]) for r in rows}


def _volume_price_mix(t: Any, shipments: pl.DataFrame, revenue: Decimal | None) -> Values:
    """Units shipped, revenue per unit, and the mix: Σ qty × (list price − std cost) ÷ Σ qty."""
    qty = shipments.group_by("product_id").agg(pl.col("qty").sum())
    units = float(qty["qty"].sum()) if qty.height else 0.0
    if not units:
        return {"volume": 0.0, "price": None, "mix": None}
    margin = list_margins(t)
    mix = sum((to_decimal(q) * margin.get(p, Decimal(0)) for p, q in qty.iter_rows()), Decimal(0))
    price = revenue / to_decimal(units) if revenue is not None else None
    return {"volume": units, "price": price, "mix": mix / to_decimal(units)}


def plan_values(t: Any, base: BaseCase, month: dt.date) -> Values:
    """The budget of the tree: the base plan's P&L lines and cash flow of `month`, its volume, price and mix,
    and DSO, DIO and DPO as the KPIs define them, on the books' balances before the month and the plan's at
    its end."""
    pnl = base.plan.pnl.filter(pl.col("period") == month).group_by("line").agg(pl.col("amount").sum())
    line = {r["line"]: to_decimal(r["amount"]) for r in pnl.iter_rows(named=True)}
    bal = base.plan.balances.filter(pl.col("period") == month)
    role = {r["role"]: to_decimal(r["amount"]) for r in bal.iter_rows(named=True)}
    cost = line.get("cogs", Decimal(0)) + line.get("variances", Decimal(0))
    out: Values = {
        "revenue": line.get("revenue"),
        "cost_of_sales": cost,
        "gross_margin": line.get("gross_margin"),
        "opex": line.get("opex"),
        "operating_income": line.get("operating_income"),
        "cash_flow": role.get("net_cash_flow"),
    }
    out.update(_volume_price_mix(t, base.volumes.shipments.filter(pl.col("period") == month), out["revenue"]))
    out.update(_plan_days(t, month, line.get("revenue"), cost, role))
    return out


def _plan_days(t: Any, month: dt.date, revenue: Decimal | None, cost: Decimal, role: dict[str, Decimal]) -> Values:
    """DSO, DIO, DPO and their cycle (docs/kpis.md): average of the books' balance the day before the month
    and the plan's month-end balance, ÷ the plan's revenue or cost of sales × the month's days."""
    before = month - dt.timedelta(days=1)
    books = RunningBalances(daily_ledger(t, ("ar", "ap", *INVENTORY)))
    days = Decimal((month_end(month) - month).days + 1)
    opening = {
        "ar": books.balance(("ar",), before),
        "inventory": books.balance(INVENTORY, before),
        "ap": -books.balance(("ap",), before),
    }

    def days_of(name: str, flow: Decimal | None) -> float | None:
        if not flow or name not in role:
            return None
        return float((opening[name] + role[name]) / 2 / flow * days)

    out = {"dso": days_of("ar", revenue), "dio": days_of("inventory", cost), "dpo": days_of("ap", cost)}
    if all(out[k] is not None for k in ("dso", "dio", "dpo")):
        out["working_capital"] = out["dso"] + out["dio"] - out["dpo"]  # type: ignore[operator]
    return out
