"""The money KPIs against the budget of the month (runs/kpi_budget.py) and the overview tile's text."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from opsfin.present.kpi_figures import budget_text
from opsfin.runs.kpi_budget import kpi_budgets
from web_support import logged_in_client

MARCH = dt.date(2024, 3, 1)


def test_budget_text_worked_by_hand():
    # 895,648.32 against 826,613.80: +69,034.52 / 826,613.80 = +8.35…%
    assert budget_text(Decimal("895648.32"), Decimal("826613.80"), "B2024", "money", "EUR") == (
        "+8.4% vs budget B2024 (EUR 826,613.80)"
    )
    assert budget_text(Decimal("96.80"), Decimal("100.00"), "B2025", "money", "EUR") == (
        "-3.2% vs budget B2025 (EUR 100.00)"
    )
    assert budget_text(Decimal("5.00"), Decimal("0.00"), "B2024", "money", "EUR") == (
        "+EUR 5.00 vs budget B2024 (EUR 0.00)"
    )
    assert budget_text(None, Decimal("1"), "B2024", "money", "EUR") == ""


def _budget_by_hand(ws) -> dict[str, Decimal]:
    """B2024's budget lines of 2024-03 summed by account role with plain SQL: revenue is the credit of the
    revenue accounts; cogs the cogs and variance roles; opex the maintenance, opex and payroll roles
    (direct labour, energy and the overheads are production costs booked to cogs, not opex)."""
    rows = ws.sql(
        """SELECT
             -sum(b.amount) FILTER (WHERE a.role = 'revenue') AS revenue,
             sum(b.amount) FILTER (WHERE a.role = 'cogs' OR a.role LIKE 'variance%') AS cogs,
             sum(b.amount) FILTER (WHERE a.role IN ('maintenance', 'opex', 'payroll')) AS opex
           FROM budget_lines b JOIN accounts a USING (account_id)
           WHERE b.version = 'B2024' AND b.period = DATE '2024-03-01'"""
    ).to_dicts()[0]
    return {k: Decimal(str(v)) for k, v in rows.items()}


def test_the_tiny_demos_budget_of_march_2024(tiny_demo):
    with tiny_demo.engine_tables() as t:
        got = kpi_budgets(t, [MARCH, dt.date(2024, 5, 1)])
    want = _budget_by_hand(tiny_demo)
    assert want["revenue"] > 0 and want["cogs"] > 0 and want["opex"] > 0
    assert got[("revenue", MARCH)] == ("B2024", want["revenue"])
    assert got[("cogs", MARCH)] == ("B2024", want["cogs"])
    assert got[("gross_margin", MARCH)] == ("B2024", want["revenue"] - want["cogs"])
    assert got[("opex", MARCH)] == ("B2024", want["opex"])
    assert not [k for k in got if k[1] == dt.date(2024, 5, 1)]  # no budget lines after 2024-04
    assert {k[0] for k in got} == {"revenue", "cogs", "gross_margin", "opex"}


@pytest.fixture(scope="module")
def client(tiny_demo, tmp_path_factory):
    with logged_in_client(tiny_demo, tmp_path_factory.mktemp("kpi_budget_web")) as c:
        yield c


def _tile(html: str, kpi: str) -> str:
    m = re.search(rf'data-kpi="?{kpi}"?.*?(?=data-kpi=|</section>|$)', html, re.S)
    assert m, kpi
    return m.group(0)


def test_the_overview_reads_money_tiles_against_the_budget(client, tiny_demo):
    html = client.get("/?period=2024-03").text
    revenue = next(r["value"] for r in tiny_demo.kpi("revenue").to_dicts() if r["period_start"] == MARCH)
    want = _budget_by_hand(tiny_demo)
    share = (Decimal(revenue) - want["revenue"]) / want["revenue"]
    assert f"{share:+.1%} vs budget B2024 (EUR {want['revenue']:,.2f})" in _tile(html, "revenue")
    assert f"vs budget B2024 (EUR {want['opex']:,.2f})" in _tile(html, "opex")
    assert "vs budget" not in _tile(html, "oee")  # no budget: the guardrail stays
    # a month without a budget: no budget text anywhere
    assert "vs budget" not in client.get("/?period=2024-05").text
