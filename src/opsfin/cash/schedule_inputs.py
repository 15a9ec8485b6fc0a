"""The schedule's problem read from the warehouse tables (docs/cash.md, "Production scheduled around cash").

- **Orders**: the production orders open at the end of as-of (created on or before it, not released by
  then) and the planned ones (created after it, due within the horizon); quantity, due date, site.
- **Hours**: per routing step, as the plan engine counts them (`planning.capacity.required_hours`: run
  minutes × qty + one setup per order). **Capacity** per work centre and day: the site's staffed hours
  on its working weekdays × machines × availability (`planning.capacity` readers, before as-of).
- **Materials**: the order's BOM components that are bought (a component with a BOM of its own comes from
  its own orders), at the plan's purchase price. Stock at as-of is given to the orders by due date; an
  order whose component is not covered cannot start before as-of + the supplier's lead time. Consumed
  stock is bought back (lot for lot, as the plan does) and paid the supplier's payment lag after the start.
- **Sales**: qty × the product's list price, collected the customers' payment lag after shipment: the lags
  of the customers who bought the product over `sales_months` before as-of, weighted by their sales (all
  customers' for a product without sales). Lags are `cash.payments.payment_lags` (customer terms until it
  is available).
- **Cash**: the bank balance at the end of as-of; the flows that do not depend on the schedule are the
  cash forecast's (`forecast_flows` without a plan version: open documents at their expected dates,
  payroll, tax and fixed costs at their run rate).
- **Costs per day**: late = the late rate × the order's contribution (qty × (list price − standard cost),
  at least 0); holding = qty × standard cost × the holding rate ÷ 365."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents, to_decimal
from ..planning.capacity import MON_FRI, availability, required_hours, resources, site_shift_hours, staffed_calendar
from ..planning.materials import bill_of_materials, suppliers_of, unit_prices
from ..planning.operations_config import OperationsConfig
from .forecast_flows import ForecastConfig, forecast_flows
from .forecast_inputs import expected_lags
from .forecast_reads import bank_balance
from .schedule_costs import ScheduleOrder, ScheduleProblem, Step

MAX_LAG_DAYS = 180  # a learned payment lag beyond this is taken as this (a thin history's guess)
CASH_TAIL_DAYS = MAX_LAG_DAYS + 30  # fixed flows read beyond the horizon: past any flow the schedule moves


@dataclass(frozen=True)
class ScheduleConfig:
    """`weeks` of days to schedule; `min_cash` (None: none); annual `overdraft_rate` and `holding_rate`;
    `late_rate`: share of an order's contribution lost per late day; the solver, its time limit in seconds;
    `sales_months` of sales orders before as-of that weight the customers of a product."""

    weeks: int = 4
    min_cash: Decimal | None = None
    overdraft_rate: Decimal = Decimal("0.08")
    holding_rate: Decimal = Decimal("0.20")
    late_rate: Decimal = Decimal("0.01")
    time_limit_s: float = 30.0
    solver: str = "SCIP"
    sales_months: int = 6


def open_orders(t: Any, as_of: dt.date, last: dt.date) -> pl.DataFrame:
    """The orders to schedule (module docstring), by due date then id."""
    po = t("production_orders")
    released_by = po.released_at.notnull() & (po.released_at.cast("date") <= as_of)
    open_then = (po.created_date <= as_of) & ~released_by
    planned = (po.created_date > as_of) & (po.due_date <= last)
    rows = po.filter(open_then | planned).select("order_id", "site_id", "product_id", "planned_qty", "due_date")
    return rows.to_polars().sort("due_date", "order_id")


def day_capacity(
    t: Any, as_of: dt.date, days: list[dt.date], config: OperationsConfig
) -> dict[tuple[str, dt.date], float]:
    """Hours per (work centre, day) (module docstring); only days with hours."""
    start = as_of + dt.timedelta(days=1)
    counts, site_of = resources(t)
    calendar = staffed_calendar(t, start, config.working_days_months)
    share = availability(t, start, config)
    out = {}
    for wc, n in counts.items():
        site = site_of[wc]
        weekdays, hours = calendar.get(site) or (MON_FRI, site_shift_hours(t, site))
        for day in days:
            if day.weekday() in weekdays and hours > 0:
                out[(wc, day)] = hours * n * share.get(wc, 1.0)
    return out


def order_steps(orders: pl.DataFrame, routings: list[dict]) -> dict[str, tuple[Step, ...]]:
    """{order: its steps in routing order}, the hours per work centre by the plan's `required_hours`."""
    first_step: dict[tuple[str, str], int] = {}
    for r in routings:
        key = (r["product_id"], r["work_center_id"])
        first_step[key] = min(first_step.get(key, r["step"]), r["step"])
    by_product: dict[str, list[dict]] = defaultdict(list)
    for r in routings:
        by_product[r["product_id"]].append(r)
    out = {}
    for row in orders.iter_rows(named=True):
        one = pl.DataFrame([{"period": row["due_date"], "product_id": row["product_id"], "qty": row["planned_qty"]}])
        hours, _labor = required_hours(
            one, by_product[row["product_id"]], {row["product_id"]: row["planned_qty"]}, True
        )
        ranked = sorted(hours.items(), key=lambda kv: first_step[(row["product_id"], kv[0][1])])
        out[row["order_id"]] = tuple(Step(wc, h) for (_, wc), h in ranked)
    return out


def party_lags(lags: pl.DataFrame, party_type: str) -> dict[str, int]:
    """{party: p50 days of `party_type`}, each at most MAX_LAG_DAYS."""
    rows = lags.filter(pl.col("party_type") == party_type).select("party_id", "p50_days").iter_rows()
    return {party: min(int(days), MAX_LAG_DAYS) for party, days in rows}


def collection_days(t: Any, as_of: dt.date, lags: pl.DataFrame, months: int) -> tuple[dict[str, int], int]:
    """({product: days from shipment to cash}, the days for a product without sales) (module docstring)."""
    customer = party_lags(lags, "customer")
    so = t("sales_orders")
    so = so.filter((so.ordered_date <= as_of) & (so.ordered_date > as_of - dt.timedelta(days=30 * months)))
    value = (so.qty * so.unit_price.cast("float64")).sum()
    sales = so.group_by("product_id", "customer_id").aggregate(value=value).to_polars()
    weighted: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for product, cust, value in sales.iter_rows():
        days = customer.get(cust)
        if days is None or not value:
            continue
        for key in (product, ""):
            weighted[key][0] += value * days
            weighted[key][1] += value
    pooled = round(weighted[""][0] / weighted[""][1]) if weighted[""][1] else 30
    return {p: round(s / w) for p, (s, w) in weighted.items() if p and w}, pooled


def fixed_flows(t: Any, as_of: dt.date, days: int) -> dict[dt.date, Decimal]:
    """The cash forecast's flows of the `days` days after as-of (no plan version), signed, per date."""
    flows = forecast_flows(t, as_of, days, None, ForecastConfig())
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for day, direction, amount in flows.select("date", "direction", "amount").iter_rows():
        out[day] += amount if direction == "in" else -amount
    return dict(out)


def stock_at(t: Any, as_of: dt.date) -> dict[tuple[str, str], float]:
    """{(site, item): quantity on hand at the end of as-of}."""
    mv = t("inventory_movements")
    mv = mv.filter(mv.moved_at < as_of + dt.timedelta(days=1))
    rows = mv.group_by("site_id", "product_id").aggregate(qty=mv.qty.sum()).to_polars()
    return {(site, item): float(qty) for site, item, qty in rows.iter_rows()}


def _purchases_known_by(t: Any, as_of: dt.date) -> Any:
    """The tables with purchase orders cut at as-of (the supplier of an item is its latest order by then)."""

    def read(name: str) -> Any:
        table = t(name)
        return table.filter(table.ordered_date <= as_of) if name == "purchase_orders" else table

    return read


@dataclass(frozen=True)
class Materials:
    """What buying an order's materials needs: BOM, suppliers, prices, stock, supplier payment lags."""

    bom: dict[str, list[tuple[str, float]]]
    suppliers: tuple[dict[tuple[str, str], str], dict[str, str], dict[str, int]]
    prices: dict[str, Decimal]
    stock: dict[tuple[str, str], float]
    pay_days: dict[str, int]


def order_materials(
    row: dict, m: Materials, as_of: dt.date, problems: list[str]
) -> tuple[dt.date, tuple[tuple[int, Decimal], ...]]:
    """(earliest start, ((days after start, amount paid), …)) of one order; uses up `m.stock`."""
    by_site, by_item, lead = m.suppliers
    earliest = as_of + dt.timedelta(days=1)
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for component, qty_per in m.bom.get(row["product_id"], []):
        if component in m.bom:
            continue  # made: its own production orders
        need = row["planned_qty"] * qty_per
        supplier = by_site.get((row["site_id"], component)) or by_item.get(component)
        if supplier is None:
            problems.append(f"{component}: no purchase order names its supplier; paid on the start day")
        key = (row["site_id"], component)
        if m.stock.get(key, 0.0) >= need - 1e-9:
            m.stock[key] -= need
        else:
            earliest = max(earliest, as_of + dt.timedelta(days=lead.get(supplier or "", 0)))
        paid[m.pay_days.get(supplier or "", 0)] += round_cents(to_decimal(need) * m.prices.get(component, Decimal(0)))
    return earliest, tuple(sorted(paid.items()))


def read_materials(t: Any, as_of: dt.date, lags: pl.DataFrame, operations: OperationsConfig) -> Materials:
    base = getattr(t, "base_currency", "EUR")
    start = as_of + dt.timedelta(days=1)
    return Materials(
        bill_of_materials(t),
        suppliers_of(_purchases_known_by(t, as_of)),
        unit_prices(t, start, operations, base),
        stock_at(t, as_of),
        party_lags(lags, "supplier"),
    )


def schedule_problem(
    t: Any, as_of: dt.date, config: ScheduleConfig, operations: OperationsConfig
) -> tuple[ScheduleProblem, list[str]]:
    """The problem of scheduling the orders of `config.weeks` weeks after `as_of`, and the problems found."""
    days = [as_of + dt.timedelta(days=i) for i in range(1, config.weeks * 7 + 1)]
    orders = open_orders(t, as_of, days[-1])
    lags = expected_lags(t, as_of)
    materials = read_materials(t, as_of, lags, operations)
    steps = order_steps(orders, t("routings").to_polars().to_dicts())
    products = {r["product_id"]: r for r in t("products").to_polars().to_dicts()}
    collect, pooled = collection_days(t, as_of, lags, config.sales_months)
    problems: list[str] = []
    built = []
    for row in orders.iter_rows(named=True):
        earliest, payments = order_materials(row, materials, as_of, problems)
        product = products[row["product_id"]]
        qty = to_decimal(row["planned_qty"])
        price, cost = to_decimal(product["list_price"]), to_decimal(product["std_unit_cost"])
        built.append(
            ScheduleOrder(
                row["order_id"],
                row["product_id"],
                row["planned_qty"],
                row["due_date"],
                earliest,
                steps[row["order_id"]],
                payments,
                round_cents(qty * price),
                collect.get(row["product_id"], pooled),
                max(Decimal(0), qty * (price - cost)) * config.late_rate,
                qty * cost * config.holding_rate / 365,
            )
        )
    problem = ScheduleProblem(
        as_of,
        tuple(days),
        day_capacity(t, as_of, days, operations),
        tuple(built),
        bank_balance(t, as_of),
        fixed_flows(t, as_of, len(days) + CASH_TAIL_DAYS),
        config.min_cash,
        config.overdraft_rate,
    )
    return problem, sorted(set(problems))
