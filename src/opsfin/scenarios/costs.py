"""The P&L costs of a scenario's shocks (docs/scenarios.md "Running a scenario"): rows (period, site_id,
line, amount) the plan engine adds to its `variances` and `opex` lines (planning.pnl.plan_pnl `extra`).

Standards stay as they are, so what a shock adds to the cost of what is made is a variance:
- `material_price`, `fx` on purchases, `scrap`: the receipts' difference, in the month received (shocks.py);
- `energy_price`: `size` % of the standard energy content (kWh per unit × the site's standard energy price)
  of the month's production in scope, at the production site;
- `wage`: `size` % of the standard labour content (labour minutes per unit × the work centre's standard
  rate) of the production in scope, and, for a shock without products, families or work centres,
  `size` % of the payroll opex of its sites (the GL's run rate before the plan);
- `labor_productivity`: `size` % of the standard labour content of the production in scope (more minutes
  a unit at the standard rate);
- `unit_cost`: `size` × the finished units made in scope (a levy per unit);
- overtime: the overtime hours the scenario needs beyond the base's, at each work centre's premium;
- `fixed_cost`: opex of `size` a month at each site in scope (no site: the company's).
Amounts are summed per month and site, then rounded half-even to the cent."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import polars as pl
from polars._typing import SchemaDict

from ..core.money import round_cents, to_decimal
from ..planning.operations import OperationsPlan
from .base import BaseCase
from .config import Shock, admits

EXTRA_SCHEMA: SchemaDict = {"period": pl.Date, "site_id": pl.Utf8, "line": pl.Utf8, "amount": pl.Decimal(18, 2)}
Book = dict[tuple[dt.date, str | None, str], Decimal]


def shock_costs(
    base: BaseCase,
    shocks: Sequence[Shock],
    ops: OperationsPlan,
    price_variances: Sequence[tuple[dt.date, str, Decimal]],
) -> pl.DataFrame:
    """The extra P&L rows of `shocks` on the scenario's operations `ops` (module docstring)."""
    book: Book = defaultdict(Decimal)
    for period, where, amount in price_variances:
        book[(period, where, "variances")] += amount
    content = [s for s in shocks if s.kind in ("energy_price", "wage", "labor_productivity", "unit_cost")]
    _content_costs(base, content, ops, book)
    _overtime(base, ops, book)
    for s in shocks:
        if s.kind == "fixed_cost":
            for m in base.months:
                if s.covers(m):
                    sites: list[str | None] = list(s.scope.sites) or [None]
                    for site in sites:
                        book[(m, site, "opex")] += s.size
        elif s.kind == "wage" and not (s.scope.products or s.scope.families or s.scope.work_centers):
            for payroll_site, amount in base.facts.payroll.items():
                if admits(s.scope.sites, payroll_site):
                    for m in base.months:
                        if s.covers(m) and m not in base.volumes.actual_months:
                            book[(m, payroll_site, "opex")] += amount * s.share
    rows = [(m, site, line, round_cents(v)) for (m, site, line), v in book.items()]
    rows = [r for r in rows if r[3] != 0]
    return pl.DataFrame(rows, schema=EXTRA_SCHEMA, orient="row")


def _content_costs(base: BaseCase, shocks: Sequence[Shock], ops: OperationsPlan, book: Book) -> None:
    """Energy, labour and per-unit costs of the production in scope."""
    if not shocks:
        return
    facts = base.facts
    steps: dict[str, list] = defaultdict(list)
    for step in facts.steps:
        steps[step.product_id].append(step)
    finished = set(base.volumes.lines["product_id"].to_list()) | set(base.volumes.shipments["product_id"].to_list())
    for r in ops.production.iter_rows(named=True):
        month, site, product, qty = r["period"], r["site_id"], r["product_id"], to_decimal(r["qty"])
        if month in base.volumes.actual_months:
            continue
        for s in shocks:
            sc = s.scope
            if not s.covers(month) or not facts.product_in(sc, product, site):
                continue
            if s.kind == "unit_cost":
                if product in finished:
                    book[(month, site, "variances")] += qty * s.size
                continue
            for step in steps.get(product, []):
                if admits(sc.work_centers, step.work_center_id):
                    content = step.energy if s.kind == "energy_price" else step.labor
                    book[(month, site, "variances")] += qty * content * s.share


def _overtime(base: BaseCase, ops: OperationsPlan, book: Book) -> None:
    """The premium of the overtime hours beyond the base's, per work centre and month."""
    before = {
        (m, wc): h for m, wc, h in base.plan.capacity.select("period", "work_center_id", "overtime_hours").iter_rows()
    }
    for m, wc, hours in ops.capacity.select("period", "work_center_id", "overtime_hours").iter_rows():
        more = to_decimal(hours) - to_decimal(before.get((m, wc), 0.0))
        if more and m not in base.volumes.actual_months:
            book[(m, base.facts.wc_site.get(wc), "variances")] += more * base.facts.premium.get(wc, Decimal(0))
