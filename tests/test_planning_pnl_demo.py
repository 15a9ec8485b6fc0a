"""The tie-out on the demo-scale company (seed 42; the shared `demo_company` fixture of tests/conftest.py):
built from actual volumes over the last 18 months, plan revenue and COGS equal the GL's `revenue` and `cogs`
roles in every month, to the cent, recomputed here with plain SQL (docs/planning.md "It ties to the books").
The plan is computed, not stored: the shared company is never written to."""

from __future__ import annotations

import pytest

from opsfin.core.periods import add_months
from opsfin.runs.planning import compute_plan


@pytest.mark.slow
def test_actual_volumes_tie_to_the_gl_on_the_demo_company(demo_company):
    last = demo_company.sql("SELECT max(shipped_date) AS d FROM shipments")["d"][0].replace(day=1)
    first = add_months(last, -17)
    months, result = compute_plan(demo_company, "actual", start=f"{first:%Y-%m}", end=f"{last:%Y-%m}")
    assert len(months) == 18
    gl = demo_company.sql(
        "SELECT date_trunc('month', g.posting_date)::DATE AS period, a.role, sum(g.amount) AS s "
        "FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id WHERE a.role IN ('revenue', 'cogs') "
        "GROUP BY ALL"
    )
    books = {(r["period"], r["role"]): r["s"] for r in gl.to_dicts()}
    pnl = result.pnl.to_dicts()
    for m in months:
        revenue = sum(r["amount"] for r in pnl if r["period"] == m and r["line"] == "revenue")
        cogs = sum(r["amount"] for r in pnl if r["period"] == m and r["line"] == "cogs")
        assert revenue == -books[(m, "revenue")], m
        assert cogs == books[(m, "cogs")], m
    foreign = demo_company.sql("SELECT count(*) AS n FROM ar_invoices WHERE currency <> 'EUR'")["n"][0]
    assert foreign > 100
