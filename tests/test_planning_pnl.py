"""The plan engine's P&L (docs/planning.md): volumes → revenue and COGS that tie to the GL to the cent, the
planned variances, opex from budget lines or the run rate, and the statement's shape.

The truth is computed here, independently of the engine: plain SQL over gl_entries joined to accounts by
role, the demo's own budget_lines, and small invoices worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import ibis
import polars as pl
import pyarrow as pa
import pytest

from opsfin.kpis.engine import Tables
from opsfin.planning.config import PlanningConfig, parse_planning_config
from opsfin.planning.inputs import PlanInputs
from opsfin.planning.pnl import plan_pnl, run_rate
from opsfin.planning.volumes import actual_sales, actual_volumes, version_volumes
from opsfin.runs.planning import compute_plan
from opsfin.runs.tables import reading_tables

LINES = ("revenue", "cogs", "variances", "gross_margin", "opex", "operating_income")
OPEX_ROLES = ("maintenance", "depreciation", "payroll", "opex", "inventory_adjustment", "other")
TINY_MONTHS = [dt.date(2024, m, 1) for m in range(1, 5)]


def cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _gl_by_month(ws, role: str) -> dict[dt.date, Decimal]:
    rows = ws.sql(
        "SELECT date_trunc('month', g.posting_date)::DATE AS m, sum(g.amount) AS s FROM gl_entries g "
        "JOIN accounts a ON a.account_id = g.account_id WHERE a.role = ? GROUP BY 1",
        [role],
    )
    return dict(zip(rows["m"].to_list(), rows["s"].to_list(), strict=True))


def _line_totals(pnl: pl.DataFrame, line: str) -> dict[dt.date, Decimal]:
    summed = pnl.filter(pl.col("line") == line).group_by("period").agg(pl.col("amount").sum())
    return dict(zip(summed["period"].to_list(), summed["amount"].to_list(), strict=True))


# ------------------------------------------------------------------------------------------ the tie-out
@pytest.fixture(scope="module")
def tiny_actual(tiny_demo):
    months, result = compute_plan(tiny_demo, "actual")
    return months, result


def test_actual_volumes_tie_to_the_gl_every_month(tiny_demo, tiny_actual):
    months, result = tiny_actual
    assert months == TINY_MONTHS
    foreign = tiny_demo.sql("SELECT count(*) AS n FROM ar_invoices WHERE currency <> 'EUR'")["n"][0]
    assert foreign > 0  # the conversion at the invoice date's rate is exercised
    gl_revenue, gl_cogs = _gl_by_month(tiny_demo, "revenue"), _gl_by_month(tiny_demo, "cogs")
    revenue, cogs = _line_totals(result.pnl, "revenue"), _line_totals(result.pnl, "cogs")
    for m in months:
        assert revenue[m] == -gl_revenue[m], m
        assert cogs[m] == gl_cogs[m], m
    assert revenue[months[0]] > 0


def test_actual_months_carry_the_books_variances_and_opex(tiny_demo, tiny_actual):
    months, result = tiny_actual
    variance_roles = tiny_demo.sql("SELECT DISTINCT role FROM accounts WHERE role LIKE 'variance_%'")["role"].to_list()
    for m in months:
        expected_var = sum((_gl_by_month(tiny_demo, r).get(m, Decimal(0)) for r in variance_roles), Decimal(0))
        expected_opex = Decimal(0)
        for role in OPEX_ROLES:
            rows = tiny_demo.sql(
                "SELECT sum(g.amount) AS s FROM gl_entries g JOIN accounts a USING (account_id) "
                "WHERE a.role = ? AND a.type = 'expense' AND date_trunc('month', g.posting_date)::DATE = ?",
                [role, m],
            )
            expected_opex += rows["s"][0] or Decimal(0)
        assert _line_totals(result.pnl, "variances")[m] == expected_var
        assert _line_totals(result.pnl, "opex")[m] == expected_opex
    assert set(result.opex_sources.values()) == {"actual"}


def test_statement_shape_and_arithmetic(tiny_actual):
    _months, result = tiny_actual
    pnl = result.pnl
    assert pnl.columns == ["period", "site_id", "line", "amount"]
    assert pnl.schema["amount"] == pl.Decimal(18, 2)
    assert set(pnl["line"].unique()) == set(LINES)
    assert pnl.select("period", "site_id", "line").is_duplicated().sum() == 0  # no total rows, one row per key
    wide = pnl.pivot(on="line", index=["period", "site_id"], values="amount")
    for r in wide.to_dicts():
        assert r["gross_margin"] == r["revenue"] - r["cogs"] - r["variances"]
        assert r["operating_income"] == r["gross_margin"] - r["opex"]
    # revenue is booked at the selling site, the distribution centre of the tiny company
    sold = pnl.filter((pl.col("line") == "revenue") & (pl.col("amount") != 0))
    assert set(sold["site_id"]) == {"W1"}


# ------------------------------------------------------------------------------------------ rounding by hand
def _backend() -> Tables:
    con = ibis.duckdb.connect()
    d = dt.date
    money, price, rate = pa.decimal128(18, 2), pa.decimal128(18, 4), pa.decimal128(18, 8)
    tables = {
        "ar_invoices": pa.table(
            {
                "invoice_id": ["I1", "I2"],
                "so_id": ["S1", "S2"],
                "invoice_date": [d(2024, 3, 10), d(2024, 3, 20)],
                "currency": ["USD", "EUR"],
            }
        ),
        "ar_invoice_lines": pa.table(
            {
                "invoice_id": ["I1", "I1", "I2", "I2"],
                "line": [1, 2, 1, 2],
                "product_id": ["A", "A", "B", "B"],
                "qty": [1.0, 1.0, 3.0, 1.0],
                "amount": pa.array([Decimal("10.01"), Decimal("10.01"), Decimal("3.00"), Decimal("1.00")], money),
            }
        ),
        "products": pa.table(
            {"product_id": ["A", "B"], "std_unit_cost": pa.array([Decimal("0.0050"), Decimal("1.0050")], price)}
        ),
        "sales_orders": pa.table({"so_id": ["S1", "S2"], "site_id": ["W1", "W2"]}),
        "fx_rates": pa.table(
            {
                "rate_date": [d(2024, 3, 1), d(2024, 3, 15)],
                "currency": ["USD", "USD"],
                "rate_to_base": pa.array([Decimal("0.33333333"), Decimal("0.50000000")], rate),
            }
        ),
    }
    for name, data in tables.items():
        con.create_table(name, ibis.memtable(data))
    return Tables(con, "EUR")


def test_rounding_is_the_postings_per_invoice_and_per_line():
    sales = actual_sales(_backend(), "EUR", dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    by_site = {r["site_id"]: r for r in sales.to_dicts()}
    # I1 (USD, rate of 1 March, not the later one of 15 March): net 20.02 × 0.33333333 = 6.6733332666 → 6.67
    # (each line alone would give 3.34 + 3.34 = 6.68); COGS 1 × 0.005 = 0.005 → 0.00 per line, twice
    assert by_site["W1"]["revenue"] == Decimal("6.67")
    assert by_site["W1"]["cogs"] == Decimal("0.00")
    # I2 (EUR): revenue the lines' 4.00; COGS 3 × 1.005 = 3.015 → 3.02 (half to even), 1.005 → 1.00
    assert by_site["W2"]["revenue"] == Decimal("4.00")
    assert by_site["W2"]["cogs"] == Decimal("4.02")
    assert all(r["period"] == dt.date(2024, 3, 1) for r in by_site.values())


def test_a_missing_rate_is_a_user_error():
    from opsfin.errors import UserError

    t = _backend()
    t.backend.raw_sql("DELETE FROM fx_rates WHERE rate_date = DATE '2024-03-01'")
    t._tables.clear()
    with pytest.raises(UserError, match="I1: no fx_rates row for USD on or before 2024-03-10"):
        actual_sales(t, "EUR", dt.date(2024, 3, 1), dt.date(2024, 3, 12))


# ------------------------------------------------------------------------------------------ a version
def test_budget_volumes_value_as_the_demo_budget(tiny_demo):
    """The demo's budget_lines hold revenue and COGS of B2024's volume_plan at the plan price and standard
    cost: the engine's P&L of the same volumes matches them month by month."""
    budget = tiny_demo.sql(
        "SELECT b.period, a.role, sum(b.amount) AS s FROM budget_lines b JOIN accounts a USING (account_id) "
        "WHERE b.version = 'B2024' AND a.role IN ('revenue', 'cogs') GROUP BY ALL"
    )
    expected = {(r["period"], r["role"]): r["s"] for r in budget.to_dicts()}
    with reading_tables(tiny_demo) as t:
        vols = version_volumes(t, "B2024", TINY_MONTHS)
        pnl, opex = plan_pnl(PlanInputs(t, vols, TINY_MONTHS, PlanningConfig(), ["B2024"]))
    for m in TINY_MONTHS:
        assert _line_totals(pnl, "revenue")[m] == -expected[(m, "revenue")]
        assert _line_totals(pnl, "cogs")[m] == expected[(m, "cogs")]
        assert _line_totals(pnl, "variances")[m] == 0
    assert vols.problems == () and set(vols.shipments["site_id"]) == {"W1"}  # split by the actual mix
    assert set(opex.sources.values()) == {"budget B2024"}


def test_opex_from_budget_lines_and_variance_rates(tiny_demo):
    config = parse_planning_config({"variances": {"rate": 0.02, "by_site": {"W1": 0.05}}})
    months = [dt.date(2024, 2, 1)]
    with reading_tables(tiny_demo) as t:
        vols = version_volumes(t, "B2024", months)
        pnl, _ = plan_pnl(PlanInputs(t, vols, months, config, ["B2024"]))
    rows = {(r["site_id"], r["line"]): r["amount"] for r in pnl.to_dicts()}
    cogs_w1 = rows[("W1", "cogs")]
    assert rows[("W1", "variances")] == cents(cogs_w1 * Decimal("0.05"))
    opex = tiny_demo.sql(
        "SELECT c.site_id, sum(b.amount) AS s FROM budget_lines b JOIN accounts a USING (account_id) "
        "JOIN cost_centers c USING (cost_center_id) WHERE b.version = 'B2024' AND b.period = DATE '2024-02-01' "
        f"AND a.type = 'expense' AND a.role IN {OPEX_ROLES} GROUP BY 1"
    )
    for r in opex.to_dicts():
        assert rows[(r["site_id"], "opex")] == r["s"], r["site_id"]
    assert sum(v for (_, line), v in rows.items() if line == "opex") == sum(opex["s"].to_list())


def test_run_rate_is_the_average_of_the_months_before(tiny_demo):
    first = dt.date(2024, 4, 1)
    with reading_tables(tiny_demo) as t:
        rate, window = run_rate(t, first, 3)
        vols = version_volumes(t, "B2024", [first])
        pnl, opex = plan_pnl(PlanInputs(t, vols, [first], PlanningConfig(), []))
    assert window == "run rate 2024-01..2024-03"
    assert opex.sources == {first: window}
    spent = tiny_demo.sql(
        "SELECT c.site_id, sum(g.amount) AS s FROM gl_entries g JOIN accounts a USING (account_id) "
        "LEFT JOIN cost_centers c USING (cost_center_id) WHERE g.posting_date < DATE '2024-04-01' "
        f"AND a.type = 'expense' AND a.role IN {OPEX_ROLES} GROUP BY 1"
    )
    expected = {r["site_id"]: cents(r["s"] / 3) for r in spent.to_dicts()}
    got = {r["site_id"]: r["amount"] for r in pnl.filter(pl.col("line") == "opex").to_dicts()}
    assert got == expected
    assert dict(zip(rate["site_id"].to_list(), rate["amount"].to_list(), strict=True)) == expected


def test_actual_volumes_feed_shipments_by_selling_site(tiny_demo):
    with reading_tables(tiny_demo) as t:
        vols = actual_volumes(t, [dt.date(2024, 2, 1)], "EUR")
    shipped = tiny_demo.sql(
        "SELECT o.product_id, sum(s.qty) AS q FROM shipments s JOIN sales_orders o ON o.so_id = s.so_id "
        "AND o.line = s.line WHERE s.shipped_date BETWEEN DATE '2024-02-01' AND DATE '2024-02-29' GROUP BY 1"
    )
    assert vols.shipments.columns == ["period", "site_id", "product_id", "qty"]
    got = dict(zip(vols.shipments["product_id"].to_list(), vols.shipments["qty"].to_list(), strict=True))
    assert got == dict(zip(shipped["product_id"].to_list(), shipped["q"].to_list(), strict=True))
