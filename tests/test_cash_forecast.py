"""The daily cash forecast (docs/cash.md): the day roll and the band worked by hand on synthetic flows, the
run-rate items and the spreading of planned amounts, and the invariants on the tiny company."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.cli_support import run_cli

from opsfin.cash.flows import FLOW_SCHEMA, flow
from opsfin.cash.forecast import roll_days, week_of
from opsfin.cash.forecast_flows import ForecastConfig, run_rate_flows
from opsfin.cash.forecast_plan import lagged_flows, spread_over_weekdays

AS_OF = dt.date(2025, 1, 1)


def day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def frame(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FLOW_SCHEMA)


def test_roll_days_by_hand():
    flows = frame(
        [
            flow("receivables", "in", "INV-1", day(2), D("100.00"), early=day(1), late=day(4)),
            flow("payables", "out", "BILL-1", day(3), D("40.00"), early=day(3), late=day(9)),
            flow("payroll", "out", "payroll run rate", day(8), D("50.00"), low=D("40.00"), high=D("60.00")),
            flow("receivables", "in", "INV-2", day(20), D("999.00")),  # beyond 14 days: left out
        ]
    )
    days, by_kind = roll_days(D("1000.00"), AS_OF, 14, flows)
    assert days.height == 14 and days["date"][0] == day(1) and days["date"][-1] == day(14)
    closing = dict(zip(days["date"], days["closing"], strict=True))
    # 1000 +100 (day 2) −40 (day 3) −50 (day 8)
    assert closing[day(1)] == D("1000.00") and closing[day(2)] == D("1100.00")
    assert closing[day(3)] == D("1060.00") and closing[day(8)] == D("1010.00") and closing[day(14)] == D("1010.00")
    p10 = dict(zip(days["date"], days["closing_p10"], strict=True))
    p90 = dict(zip(days["date"], days["closing_p90"], strict=True))
    # low edge: the inflow late (day 4), the outflow early (day 3), payroll high (60)
    assert p10[day(3)] == D("960.00") and p10[day(4)] == D("1060.00") and p10[day(8)] == D("1000.00")
    # high edge: the inflow early (day 1), the outflow late (day 9), payroll low (40)
    assert p90[day(1)] == D("1100.00") and p90[day(8)] == D("1060.00") and p90[day(9)] == D("1020.00")
    rows = {(r["week"], r["kind"]): r["amount"] for r in by_kind.to_dicts()}
    assert rows == {
        (1, "payables"): D("-40.00"),
        (1, "payroll"): D("0.00"),
        (1, "receivables"): D("100.00"),
        (2, "payables"): D("0.00"),
        (2, "payroll"): D("-50.00"),
        (2, "receivables"): D("0.00"),
    }


def test_weeks_count_from_the_day_after():
    assert [week_of(AS_OF, day(n)) for n in (1, 7, 8, 14, 91)] == [1, 1, 2, 2, 13]


def test_run_rate_items_repeat_their_days_of_the_month():
    history = pl.DataFrame(
        {
            "posting_date": [dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 31)]
            + [dt.date(2025, m, 10) for m in (1, 2, 3)]
            + [dt.date(2024, 12, 31)],  # before the 3 months: not read
            "kind": ["payroll"] * 3 + ["tax"] * 3 + ["payroll"],
            "amount": [D("-300.00"), D("-330.00"), D("-270.00")] + [D("-100.00")] * 3 + [D("-9999.00")],
        },
        schema={"posting_date": pl.Date, "kind": pl.String, "amount": pl.Decimal(18, 2)},
    )
    as_of = dt.date(2025, 3, 31)
    out = run_rate_flows(history, as_of, dt.date(2025, 5, 31), ForecastConfig(run_rate_months=3))
    rows = [(r["kind"], r["date"], r["amount"], r["amount_low"], r["amount_high"]) for r in out.sort("date").to_dicts()]
    # payroll: mean 300 on the month's last day; monthly totals 300, 330, 270: stdev 30, cv 0.1,
    # low 300 × (1 − 1.2816 × 0.1) = 261.552 → 261.55, high 338.448 → 338.45; tax: 100 on the 10th, no spread
    assert rows == [
        ("tax", dt.date(2025, 4, 10), D("100.00"), D("100.00"), D("100.00")),
        ("payroll", dt.date(2025, 4, 30), D("300.00"), D("261.55"), D("338.45")),
        ("tax", dt.date(2025, 5, 10), D("100.00"), D("100.00"), D("100.00")),
        ("payroll", dt.date(2025, 5, 31), D("300.00"), D("261.55"), D("338.45")),
    ]
    assert set(out["direction"]) == {"out"}


def test_planned_amounts_spread_over_weekdays_and_lags():
    # February 2025 has 20 weekdays: 100.00 → 5.00 each; after the 14th only 10 remain
    spread = spread_over_weekdays({dt.date(2025, 2, 1): D("100.00")}, dt.date(2025, 2, 14), dt.date(2025, 3, 31))
    assert len(spread) == 10 and set(spread.values()) == {D("5.00")} and min(spread) == dt.date(2025, 2, 17)
    # 10.00 split 3:1 over two lag groups: 7.50 after 10 days (early 5, late 20), 2.50 the same day
    out = lagged_flows({AS_OF: D("10.00")}, {(5, 10, 20): 3.0, (0, 0, 0): 1.0}, "planned_sales", "in", "B")
    got = sorted((r["date"], r["early_date"], r["late_date"], r["amount"]) for r in out.to_dicts())
    assert got == [(AS_OF, AS_OF, AS_OF, D("2.50")), (day(10), day(5), day(20), D("7.50"))]


money = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(-3, 20), st.integers(0, 5), money, st.integers(0, 50)), max_size=25)
)
def test_roll_days_invariants(items):
    # every flow has early ≤ date ≤ late and low ≤ amount ≤ high; some are credit notes (negative)
    flows = frame(
        [
            flow(
                "k" if inflow else "j",
                "in" if inflow else "out",
                "r",
                day(n),
                a,
                early=day(n - e),
                late=day(n + e),
                low=a - D(spread),
                high=a + D(spread),
            )
            for inflow, n, e, a, spread in items
        ]
    )
    days, by_kind = roll_days(D("500.00"), AS_OF, 14, flows)
    previous = D("500.00")
    for r in days.to_dicts():
        assert r["closing"] == previous + r["inflow"] - r["outflow"]
        assert r["closing_p10"] <= r["closing"] <= r["closing_p90"]
        previous = r["closing"]
    assert sum(by_kind["amount"], D(0)) == sum(days["inflow"], D(0)) - sum(days["outflow"], D(0))


@pytest.fixture(scope="module")
def tiny_copy(tiny_demo, tmp_path_factory):
    """The tiny company with its budgets approved, as `opsfin demo` leaves them (a copy: the session's
    company stays as it is)."""
    import shutil

    import opsfin
    from opsfin.runs.plan_versions import register_demo_budgets

    folder = tmp_path_factory.mktemp("cash") / "ws"
    shutil.copytree(tiny_demo.path, folder)
    ws = opsfin.open(folder)
    register_demo_budgets(ws)
    # a machine the budget plans to buy in April 2024 (account 1500, machinery: a fixed asset)
    with ws.connect() as con:
        con.execute(
            "INSERT INTO budget_lines VALUES ('B2024', DATE '2024-04-01', "
            "(SELECT min(cost_center_id) FROM cost_centers), '1500', 22000.00, 'TEST')"
        )
    return ws


@pytest.fixture(scope="module")
def tiny_forecast(tiny_copy):
    from opsfin.runs.cash_forecast import forecast_cash

    return forecast_cash(tiny_copy, "2024-03-15", 13, None)


def test_tiny_company_forecast(tiny_copy, tiny_forecast):
    tiny_demo = tiny_copy
    forecast, chosen = tiny_forecast
    assert chosen.name == "B2024" and "B2024" in chosen.note
    # the opening balance: the latest statement on or before the as-of day, as the bank printed it
    opening = tiny_demo.sql(
        "SELECT closing_balance FROM bank_statements WHERE statement_date <= DATE '2024-03-15' "
        "ORDER BY statement_date DESC LIMIT 1"
    ).item()
    assert forecast.opening_balance == opening
    days = forecast.days
    assert days.height == 91 and days["date"][0] == dt.date(2024, 3, 16)
    previous = forecast.opening_balance
    for r in days.to_dicts():
        assert r["closing"] == previous + r["inflow"] - r["outflow"]
        assert r["closing_p10"] <= r["closing"] <= r["closing_p90"]
        previous = r["closing"]
    flows = sum(days["inflow"], D(0)) - sum(days["outflow"], D(0))
    assert sum(forecast.by_kind["amount"], D(0)) == flows
    kinds = set(forecast.by_kind["kind"])
    assert {"receivables", "payables", "payroll", "planned_sales", "planned_purchases"} <= kinds
    # the planned machine: 22 000 over April's 22 weekdays, 1 000 each
    capital = forecast.flows.filter(pl.col("kind") == "capital_spend")
    assert capital.height == 22 and set(capital["amount"]) == {D("1000.00")} and set(capital["direction"]) == {"out"}
    assert sum(forecast.by_kind.filter(pl.col("kind") == "capital_spend")["amount"], D(0)) == D("-22000.00")
    # open AP in the forecast is the open AP of the as-of day paid within the 13 weeks, never more
    open_ap = tiny_demo.sql(
        "SELECT sum(i.total) - coalesce((SELECT sum(a.amount) FROM ap_payment_allocations a JOIN ap_payments p "
        "USING (payment_id) JOIN ap_invoices j USING (invoice_id) WHERE p.paid_date <= DATE '2024-03-15' "
        "AND j.invoice_date <= DATE '2024-03-15'), 0) FROM ap_invoices i WHERE i.invoice_date <= DATE '2024-03-15'"
    ).item()
    payables = -sum(forecast.by_kind.filter(pl.col("kind") == "payables")["amount"], D(0))
    assert D(0) < payables <= open_ap


def test_cli_json_shape(tiny_copy, capsys):
    tiny_demo = tiny_copy
    code, out, err = run_cli(
        capsys,
        "cash",
        "forecast",
        "--as-of",
        "2024-03-15",
        "--weeks",
        "2",
        "--format",
        "json",
        "-w",
        str(tiny_demo.path),
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"as_of", "opening_balance", "days", "by_kind"}
    assert set(data["days"][0]) == {"date", "inflow", "outflow", "closing", "closing_p10", "closing_p90"}
    assert set(data["by_kind"][0]) == {"week", "kind", "amount"} and len(data["days"]) == 14
    assert isinstance(data["opening_balance"], str) and "B2024" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "2024-13-01"), "--as-of"),
        (("--as-of", "2024-03-15", "--weeks", "0"), "--weeks"),
        (("--as-of", "2024-03-15", "--version", "NOPE"), "NOPE"),
        (("--as-of", "2023-01-01"), "no bank statement"),
    ],
)
def test_bad_input_is_one_line(tiny_demo, capsys, args, message):
    code, out, err = run_cli(capsys, "cash", "forecast", *args, "-w", str(tiny_demo.path))
    assert code == 2 and message in err and "Traceback" not in err


def test_the_version_chosen(tiny_copy):
    """The latest approved plan covering the most months, never a forecast rolled after the as-of day."""
    from opsfin.appdb import open_app_db
    from opsfin.runs.cash_forecast import choose_version
    from opsfin.runs.tables import reading_tables

    with tiny_copy.connect() as con:
        con.execute(
            "INSERT INTO volume_plan SELECT 'fc-2024-04', period + INTERVAL 2 MONTH, product_id, qty, unit_price, 'T' "
            "FROM volume_plan WHERE version = 'B2024' AND period >= DATE '2024-02-01'"
        )
    open_app_db(tiny_copy).create_plan_version(
        "fc-2024-04", "forecast", "test", as_of=dt.date(2024, 4, 1), as_user=False, status="approved"
    )
    with reading_tables(tiny_copy) as t:
        # 2024-03-15 + 13 weeks: March to June; B2024 covers March and April; the forecast is not known yet
        march = choose_version(tiny_copy, t, dt.date(2024, 3, 15), dt.date(2024, 6, 14))
        # 2024-04-15 + 13 weeks: April to July; the forecast covers April to June, B2024 April only
        april = choose_version(tiny_copy, t, dt.date(2024, 4, 15), dt.date(2024, 7, 15))
    assert march.name == "B2024" and "2 of the 4 months" in march.note
    assert april.name == "fc-2024-04" and "3 of the 4 months" in april.note
