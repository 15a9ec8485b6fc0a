"""Working-capital levers and early-payment discounts (docs/cash.md), worked by hand."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import polars as pl
import pytest
from tests.cli_support import run_cli

from opsfin.cash.levers import (
    LeverChange,
    current_days,
    discount_rows,
    implied_annual_rate,
    lever_rows,
    parse_change,
    parse_rate,
)
from opsfin.errors import UserError


def test_implied_annual_rate_by_hand():
    # 2/10 net 30: 0.02 / 0.98 × 365 / 20 = 0.372449 → 37.24 %
    assert implied_annual_rate(D("2"), 10, 30) == D("0.3724")
    # 1/10 net 30: 0.01 / 0.99 × 365 / 20 = 0.184343; 2/10 net 45: 0.020408 × 365 / 35 = 0.212828
    assert implied_annual_rate(D("1"), 10, 30) == D("0.1843")
    assert implied_annual_rate(D("2"), 10, 45) == D("0.2128")
    assert implied_annual_rate(D("2"), 30, 30) is None


def test_discount_beats_the_cost_of_funds_or_not():
    suppliers = pl.DataFrame(
        {
            "supplier_id": ["S1", "S2"],
            "name": ["Steel", "Plain"],
            "payment_terms_days": [30, 30],
            "discount_pct": [D("2.0000"), None],
            "discount_days": [10, None],
        }
    )
    purchases = {"S1": D("100000")}
    (row,) = discount_rows(suppliers, purchases, D("0.06"))
    # 100 000 × 2 % = 2 000 saved, less 98 000 × 6 % × 20/365 = 322.19 of interest on paying 20 days sooner
    assert row["terms"] == "2/10 net 30" and row["take_discount"] is True
    assert row["annual_gain_if_taken"] == D("1677.81") and row["implied_annual_rate"] == D("0.3724")
    (dear,) = discount_rows(suppliers, purchases, D("0.40"))
    # at 40 % the money costs more than the discount gives: 2 000 − 98 000 × 0.4 × 20/365 = −147.95
    assert dear["take_discount"] is False and dear["annual_gain_if_taken"] == D("-147.95")


def test_lever_rows_by_hand():
    current = {"dso": D(40), "dio": D(50), "dpo": D(30), "revenue_per_day": D(1000), "cogs_per_day": D(600)}
    changes = {"dso": LeverChange(days=D(-5)), "dio": LeverChange(percent=D(-10)), "dpo": LeverChange(days=D(10))}
    rows = {r["lever"]: r for r in lever_rows(current, changes, D("0.06"), {"customer_terms": D(30)})}
    # DSO 40 → 35 at 1 000 a day: 5 000 released, 300 a year at 6 %; receivables 40 000 → 35 000
    assert rows["dso"]["cash_released"] == D("5000.00") and rows["dso"]["annual_value"] == D("300.00")
    assert rows["dso"]["balance_now"] == D("40000.00") and rows["dso"]["balance_target"] == D("35000.00")
    assert "terms from 30 to 25 days" in rows["dso"]["what_it_takes"]
    # DIO 50 − 10 % = 45 at 600 a day: 3 000; DPO 30 → 40 at 600 a day: 6 000, 360 a year
    assert rows["dio"]["target_days"] == D("45.0") and rows["dio"]["cash_released"] == D("3000.00")
    assert rows["dpo"]["cash_released"] == D("6000.00") and rows["dpo"]["annual_value"] == D("360.00")
    # a lever the other way ties cash up
    (back,) = lever_rows(current, {"dpo": LeverChange(days=D(-5))}, D("0.06"), {})
    assert back["cash_released"] == D("-3000.00") and "sooner" in back["what_it_takes"]


def test_parsing():
    assert parse_change("-5", "dso") == LeverChange(days=D(-5))
    assert parse_change("+10", "dpo") == LeverChange(days=D(10))
    assert parse_change("-10%", "dio") == LeverChange(percent=D(-10))
    assert parse_rate("6%") == D("0.06") and parse_rate("0.06") == D("0.06")
    with pytest.raises(UserError):
        parse_change("soon", "dso")
    with pytest.raises(UserError):
        parse_rate("150%")
    for endless in ("Infinity", "-inf", "NaN", "inf%"):
        with pytest.raises(UserError):
            parse_change(endless, "dso")
    for endless in ("Infinity%", "NaN", "sNaN"):
        with pytest.raises(UserError):
            parse_rate(endless)


def test_current_days_are_the_kpi_engines(tiny_demo):
    from opsfin.runs.tables import reading_tables

    with reading_tables(tiny_demo) as t:
        days = current_days(t, dt.date(2024, 4, 1), dt.date(2024, 4, 15))
    # the same days as `opsfin kpi dso,dio,dpo --from 2024-04-01 --to 2024-04-15` (docs/kpis.md), asked of
    # the KPI engine directly: one month-grain row per KPI, its value and revenue or COGS as denominator
    kpi = {r["kpi"]: r for r in tiny_demo.kpi(["dso", "dio", "dpo"], start="2024-04-01", end="2024-04-15").to_dicts()}
    assert set(kpi) == {"dso", "dio", "dpo"}
    for name in ("dso", "dio", "dpo"):
        assert 10 < days[name] < 120  # a plausible number of days, not a zero or a ratio
        assert abs(days[name] - D(repr(kpi[name]["value"]))) < D("0.000001"), name
        # value = numerator / denominator (avg balance · d / flow)
        assert abs(days[name] - D(repr(kpi[name]["numerator"])) / D(repr(kpi[name]["denominator"]))) < D("1e-9")
    assert abs(days["revenue_per_day"] - D(repr(kpi["dso"]["denominator"])) / 15) < D("0.0001")
    # and revenue by plain SQL: the credits to the revenue accounts posted 1…15 April, over 15 days
    with tiny_demo.connect(read_only=True) as con:
        ((credits,),) = con.execute(
            "SELECT sum(g.amount) FROM gl_entries g JOIN accounts a USING (account_id) "
            "WHERE a.role = 'revenue' AND g.posting_date BETWEEN DATE '2024-04-01' AND DATE '2024-04-15'"
        ).fetchall()
    assert credits < 0 and abs(days["revenue_per_day"] - -credits / 15) < D("0.0001")
    assert abs(days["cogs_per_day"] - D(repr(kpi["dio"]["denominator"])) / 15) < D("0.0001")


def test_cli_on_the_tiny_company(tiny_demo, capsys):
    code, out, err = run_cli(
        capsys,
        "cash",
        "levers",
        "--dso",
        "-5",
        "--dpo",
        "+10",
        "--dio",
        "-10%",
        "--rate",
        "6%",
        "--format",
        "json",
        "-w",
        str(tiny_demo.path),
    )
    assert code == 0, err
    data = json.loads(out)
    levers = {r["lever"]: r for r in data["levers"]}
    assert set(levers) == {"dso", "dio", "dpo"}
    for r in levers.values():
        assert D(r["cash_released"]) > 0 and D(r["annual_value"]) == (D(r["cash_released"]) * D("0.06")).quantize(
            D("0.01")
        )
    # the demo's second supplier offers 2/10 (a fixed choice, not drawn), the fourth 1/10
    discounts = {r["supplier_id"]: r for r in data["discounts"]}
    terms = tiny_demo.sql("SELECT supplier_id, payment_terms_days FROM suppliers ORDER BY supplier_id").rows()
    assert discounts["SUP-002"]["terms"] == f"2/10 net {terms[1][1]}"
    assert discounts["SUP-004"]["terms"] == f"1/10 net {terms[3][1]}"
    assert "SUP-001" not in discounts


def test_bad_lever_is_one_line(tiny_demo, capsys):
    code, _out, err = run_cli(capsys, "cash", "levers", "--rate", "lots", "-w", str(tiny_demo.path))
    assert code == 2 and "--rate" in err and "Traceback" not in err
