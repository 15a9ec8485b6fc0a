"""The plan's P&L per month and site (docs/planning.md "The P&L"): the `plan_pnl` rows without `version`.

Lines, every amount in base currency with costs positive:
- `revenue` and `cogs`: the volumes' (volumes.py): volume × price and volume × standard unit cost — the
  GL's `revenue` and `cogs` roles, to the cent, for months built from actual volumes.
- `variances`: manufacturing variances. A month of actuals has the GL's `variance_*` roles; a planned
  month has `variances.rate` (or the site's `by_site` rate) × the site's COGS, half-even to the cent — 0 by
  default. Energy and labour at standard are inside the standard cost, hence inside COGS; what energy
  and labour cost beyond standard is a variance (`variance_energy`, `variance_labor_*`), as the GL books it.
- `gross_margin` = revenue − cogs − variances.
- `opex`: the expense roles outside cost of sales (`OPEX_ROLES`: maintenance, depreciation, payroll, opex,
  inventory adjustments, other expenses such as exchange differences). A month of actuals has the GL's;
  a planned month the version's `budget_lines` on those roles; a month without budget lines the run rate
  (`run_rate`). The production cost roles (direct labor, energy, variable and fixed overhead) are not
  opex: they are absorbed into inventory at standard and their residuals are variances.
- `operating_income` = gross_margin − opex.

One row per month, site and line for every site any line has (zeros included); `site_id` null for costs of
cost centres without a site. No totals. Sites come from the sales' selling site and the cost centres'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import polars as pl
from polars._typing import SchemaDict

from ..canonical.tables import PLAN_PNL_LINES, PRODUCTION_COST_ROLES, VARIANCE_ROLES
from ..core.dimension_joins import reach
from ..core.money import round_cents, to_fraction
from ..core.periods import add_months
from ..costing.reads import fetch, month_of
from .config import PlanningConfig
from .inputs import PlanInputs
from .volumes import MONEY

PNL_COLUMNS = ("period", "site_id", "line", "amount")
PNL_SCHEMA: SchemaDict = {"period": pl.Date, "site_id": pl.Utf8, "line": pl.Utf8, "amount": MONEY}
#: account roles outside cost of sales whose expense accounts are the plan's opex
NOT_OPEX = ("cogs", *VARIANCE_ROLES, *PRODUCTION_COST_ROLES)
SUM_T = "decimal(38, 2)"
COST_SCHEMA: SchemaDict = {"period": pl.Date, "site_id": pl.Utf8, "amount": MONEY}


@dataclass(frozen=True)
class Opex:
    """The opex of every plan month per site, and where each month's came from: `actual`, `budget <name>`
    or `run rate <first>..<last>` (the months averaged)."""

    amounts: pl.DataFrame  # period, site_id, amount
    sources: dict[dt.date, str]


def plan_pnl(inputs: PlanInputs, extra: pl.DataFrame | None = None) -> tuple[pl.DataFrame, Opex]:
    """The P&L rows (period, site_id, line, amount) for the inputs' months and where each month's opex came
    from (its budgets' lines, the first that has lines for it; the run rate otherwise).
    `extra` (period, site_id, line `variances` or `opex`, amount): costs added to those lines (a scenario's
    shocks, docs/scenarios.md)."""
    t, volumes, config, budgets = inputs.tables, inputs.volumes, inputs.config, inputs.budgets
    months = sorted(inputs.months)
    actual = sorted(m for m in months if m in volumes.actual_months)
    gl = gl_costs(t, actual) if actual else pl.DataFrame(schema={**COST_SCHEMA, "line": pl.Utf8})
    sales = volumes.sales.filter(pl.col("period").is_in(months))
    more = extra if extra is not None else pl.DataFrame(schema={**COST_SCHEMA, "line": pl.Utf8})
    variances = pl.concat(
        [gl.filter(pl.col("line") == "variances").drop("line"), _planned_variances(sales, actual, config)]
        + [more.filter(pl.col("line") == "variances").select(pl.col(c).cast(k) for c, k in COST_SCHEMA.items())]
    )
    opex = plan_opex(t, months, actual, gl.filter(pl.col("line") == "opex").drop("line"), config, budgets)
    extra_opex = more.filter(pl.col("line") == "opex").select(pl.col(c).cast(k) for c, k in COST_SCHEMA.items())
    return _statement(months, sales, variances, pl.concat([opex.amounts, extra_opex])), opex


def _planned_variances(sales: pl.DataFrame, actual: list[dt.date], config: PlanningConfig) -> pl.DataFrame:
    """rate × COGS per planned month and site, half-even to the cent; none when every rate is 0."""
    rates = config.variances
    planned = sales.filter(~pl.col("period").is_in(actual))
    if rates.rate == 0 and not any(rates.by_site.values()) or planned.is_empty():
        return pl.DataFrame(schema=COST_SCHEMA)
    amounts = [
        round_cents(cogs * rates.for_site(site))
        for site, cogs in zip(planned["site_id"].to_list(), planned["cogs"].to_list(), strict=True)
    ]
    return planned.select("period", "site_id", amount=pl.Series(amounts, dtype=MONEY))


# ------------------------------------------------------------------------------------------ the GL
def _gl_rows(t: Any, start: dt.date, end: dt.date) -> ibis.Table:
    """GL expense rows posted in [start, end] (first days of months; end's month included) with their role,
    month and the site of their cost centre (null without one)."""
    g = t("gl_entries")
    a = t("accounts").select(_a="account_id", role="role", _type="type")
    g = g.join(a, g.account_id == a._a)
    last = add_months(end, 1)
    g = g.filter((g._type == "expense") & (g.posting_date.cast("date") >= start) & (g.posting_date.cast("date") < last))
    rel = g.select(cost_center=g.cost_center_id, role=g.role, period=month_of(g.posting_date), amount=g.amount)
    return reach(t, rel, "gl_entries", {"site"}, keep_rows=True)


def gl_costs(t: Any, months: Sequence[dt.date]) -> pl.DataFrame:
    """The GL's variances and opex (module docstring) per month of `months` and site: period, site_id,
    line (`variances` or `opex`), amount (debit +)."""
    rel = _gl_rows(t, min(months), max(months))
    line = ibis.ifelse(rel.role.isin(list(VARIANCE_ROLES)), "variances", "opex")
    rel = rel.filter(rel.role.isin(list(VARIANCE_ROLES)) | ~rel.role.isin(list(NOT_OPEX))).mutate(line=line)
    expr = rel.group_by("period", site_id=rel.site, line=rel.line).aggregate(amount=rel.amount.cast(SUM_T).sum())
    frame = _frame(expr.select("period", "site_id", "amount", "line"))
    return frame.filter(pl.col("period").is_in(list(months)))


def run_rate(t: Any, first: dt.date, n: int) -> tuple[pl.DataFrame, str]:
    """The GL's opex per site averaged over the `n` months before `first` that the books cover (the window
    ends at the last month with postings when `first` is later; when nothing was posted before `first`,
    the first `n` months of the books): site_id, amount (Σ ÷ the months of the window, exactly, then half-even
    to the cent), and the window
    as `run rate YYYY-MM..YYYY-MM` (`run rate: no GL` without postings)."""
    g = t("gl_entries")
    span = fetch(g.aggregate(first=g.posting_date.cast("date").min(), last=g.posting_date.cast("date").max()))[0]
    if span["first"] is None:
        return pl.DataFrame(schema={"site_id": pl.Utf8, "amount": MONEY}), "run rate: no GL"
    books_first, books_last = span["first"].replace(day=1), span["last"].replace(day=1)
    end = min(add_months(first, -1), books_last)
    if end < books_first:
        end = min(add_months(books_first, n - 1), books_last)
    start = max(add_months(end, 1 - n), books_first)
    span_months = (end.year - start.year) * 12 + end.month - start.month + 1  # fewer than n at the books' start
    rows = _gl_rows(t, start, end)
    rows = rows.filter(~rows.role.isin(list(NOT_OPEX)))
    expr = rows.group_by(site_id=rows.site).aggregate(amount=rows.amount.cast(SUM_T).sum())
    sums = fetch(expr)
    window = f"run rate {start:%Y-%m}..{end:%Y-%m}"
    amounts = [round_cents(to_fraction(r["amount"]) / span_months) for r in sums]
    frame = pl.DataFrame(
        {"site_id": [r["site_id"] for r in sums], "amount": amounts}, schema={"site_id": pl.Utf8, "amount": MONEY}
    )
    return frame, window


def budget_opex(t: Any, version: str, months: Sequence[dt.date]) -> tuple[pl.DataFrame, set[dt.date]]:
    """The version's budget_lines on the opex roles per month and site (period, site_id, amount), and the
    months it has any budget line for."""
    b = t("budget_lines")
    b = b.filter((b.version == version) & b.period.cast("date").isin(list(months)))
    covered = {r["period"] for r in fetch(b.select(period=b.period.cast("date")).distinct())}
    if not covered:
        return pl.DataFrame(schema=COST_SCHEMA), covered
    a = t("accounts").select(_a="account_id", _role="role", _type="type")
    j = b.join(a, b.account_id == a._a)
    j = j.filter((j._type == "expense") & ~j._role.isin(list(NOT_OPEX)))
    rel = reach(
        t,
        j.select(cost_center=j.cost_center_id, period=j.period.cast("date"), amount=j.amount),
        "gl_entries",
        {"site"},
        keep_rows=True,
    )
    expr = rel.group_by("period", site_id=rel.site).aggregate(amount=rel.amount.cast(SUM_T).sum())
    return _frame(expr), covered


def plan_opex(
    t: Any,
    months: list[dt.date],
    actual: list[dt.date],
    gl_opex: pl.DataFrame,
    config: PlanningConfig,
    budgets: Sequence[str],
) -> Opex:
    """Each month's opex per site: the GL's for months of actuals, else the first of `budgets` with budget
    lines that month, else the run rate (a copy of it in every such month)."""
    sources: dict[dt.date, str] = {m: "actual" for m in actual}
    parts = [gl_opex]
    for version in dict.fromkeys(budgets):
        todo = [m for m in months if m not in sources]
        if not todo:
            break
        amounts, covered = budget_opex(t, version, todo)
        parts.append(amounts)
        sources.update({m: f"budget {version}" for m in covered})
    todo = [m for m in months if m not in sources]
    if todo:
        rate, window = run_rate(t, todo[0], config.opex.run_rate_months)
        parts.append(pl.DataFrame({"period": todo}, schema={"period": pl.Date}).join(rate, how="cross"))
        sources.update({m: window for m in todo})
    return Opex(pl.concat([p.select(list(COST_SCHEMA)) for p in parts]), dict(sorted(sources.items())))


# ------------------------------------------------------------------------------------------ the statement
def _frame(expr: ibis.Table) -> pl.DataFrame:
    frame = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    casts: SchemaDict = {"period": pl.Date, "site_id": pl.Utf8, "amount": MONEY, "line": pl.Utf8}
    return frame.with_columns(**{c: pl.col(c).cast(casts[c]) for c in frame.columns if c in casts})


def _statement(months: list[dt.date], sales: pl.DataFrame, variances: pl.DataFrame, opex: pl.DataFrame) -> pl.DataFrame:
    """The six lines for every month and every site any of them has, zeros where a site has none."""
    parts = {
        "revenue": sales.select("period", "site_id", amount="revenue"),
        "cogs": sales.select("period", "site_id", amount="cogs"),
        "variances": variances,
        "opex": opex,
    }
    sites = pl.concat([p.select("site_id") for p in parts.values()]).unique()
    grid = pl.DataFrame({"period": months}, schema={"period": pl.Date}).join(sites, how="cross")
    wide = grid
    for line, part in parts.items():
        summed = part.group_by("period", "site_id").agg(pl.col("amount").sum().alias(line))
        wide = wide.join(summed, on=["period", "site_id"], how="left", nulls_equal=True)
    zero = pl.lit(Decimal(0), dtype=MONEY)
    wide = wide.with_columns(*(pl.col(c).fill_null(zero).cast(MONEY) for c in parts))
    wide = wide.with_columns(gross_margin=pl.col("revenue") - pl.col("cogs") - pl.col("variances"))
    wide = wide.with_columns(operating_income=pl.col("gross_margin") - pl.col("opex"))
    long = wide.unpivot(index=["period", "site_id"], on=list(PLAN_PNL_LINES), variable_name="line", value_name="amount")
    order = {line: i for i, line in enumerate(PLAN_PNL_LINES)}
    long = long.with_columns(
        pl.col("amount").cast(MONEY), _o=pl.col("line").replace_strict(order, return_dtype=pl.Int32)
    )
    return long.sort("period", "site_id", "_o", nulls_last=True).drop("_o").select(list(PNL_COLUMNS))
