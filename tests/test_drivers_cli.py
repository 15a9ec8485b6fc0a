"""`opsfin drivers` on the tiny company (docs/scenarios.md "The driver tree"): the JSON shape, values
against the KPI engine and the books, the budget against the version's volume plan, and sensitivities from
the engine against figures recomputed from the version's own volumes and prices."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

pytestmark = pytest.mark.slow
APRIL = dt.date(2024, 4, 1)
KEYS = {
    "id",
    "parent",
    "label",
    "unit",
    "value",
    "budget",
    "prior",
    "vs_budget",
    "vs_prior",
    "sensitivity_operating_income",
    "sensitivity_cash",
}


@pytest.fixture(scope="module")
def tree(tiny_demo):
    """The tree of 2024-04 against B2024, run once through the CLI (capsys is per test: capture here)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        from opsfin.cli import main

        try:
            main(
                ["drivers", "--period", "2024-04", "--version", "B2024", "--format", "json", "-w", str(tiny_demo.path)]
            )
        except SystemExit as exc:
            assert not exc.code, err.getvalue()
    got = json.loads(out.getvalue())
    return got, {n["id"]: n for n in got["nodes"]}, err.getvalue()


def test_the_json_shape(tree):
    got, nodes, err = tree
    assert (got["period"], got["version"]) == ("2024-04", "B2024")
    assert all(set(n) == KEYS for n in got["nodes"])
    assert "sensitivity" in err  # progress lines on stderr


def test_values_come_from_the_kpis_and_the_books(tree, tiny_demo):
    from opsfin.kpis.engine import compute
    from opsfin.runs.tables import reading_tables

    _, nodes, _ = tree
    with reading_tables(tiny_demo) as t:
        kpis = compute(t, ["scrap_rate", "dso", "overtime_share"], "month", start=APRIL, end=dt.date(2024, 4, 30))
    value = {f["kpi"][0]: f["value"][0] for f in kpis}
    assert nodes["scrap_rate"]["value"] == pytest.approx(value["scrap_rate"])
    assert nodes["dso"]["value"] == pytest.approx(value["dso"])
    assert nodes["overtime_share"]["value"] == pytest.approx(value["overtime_share"])
    books = tiny_demo.sql(
        "SELECT -sum(g.amount) FILTER (WHERE a.role = 'revenue') AS revenue, "
        "sum(g.amount) FILTER (WHERE a.role = 'cash') AS cash "
        "FROM gl_entries g JOIN accounts a USING (account_id) WHERE g.posting_date BETWEEN '2024-04-01' AND '2024-04-30'"
    ).to_dicts()[0]
    assert Decimal(nodes["revenue"]["value"]) == books["revenue"]
    assert Decimal(nodes["cash_flow"]["value"]) == books["cash"]
    shipped = tiny_demo.sql(
        "SELECT sum(qty) AS q FROM shipments WHERE shipped_date BETWEEN '2024-04-01' AND '2024-04-30'"
    )["q"][0]
    assert nodes["volume"]["value"] == shipped
    march = tiny_demo.sql(
        "SELECT sum(qty) AS q FROM shipments WHERE shipped_date BETWEEN '2024-03-01' AND '2024-03-31'"
    )["q"][0]
    assert nodes["volume"]["prior"] == march and nodes["volume"]["vs_prior"] == shipped - march


def test_price_plus_one_percent_moves_operating_income_by_one_percent_of_revenue(tree, tiny_demo):
    _, nodes, _ = tree
    plan = tiny_demo.sql(
        "SELECT product_id, qty, unit_price FROM volume_plan WHERE version = 'B2024' AND period = '2024-04-01'"
    ).to_dicts()
    units = sum(r["qty"] for r in plan)
    revenue = sum(Decimal(repr(r["qty"])) * r["unit_price"] for r in plan)
    assert nodes["volume"]["budget"] == units
    price = nodes["price"]
    assert abs(Decimal(price["budget"]) - revenue / Decimal(repr(units))) < Decimal("0.0001")
    # one unit of price is worth the planned units; +1 % of the price is then +1 % of the planned revenue
    assert abs(Decimal(price["sensitivity_operating_income"]) - Decimal(repr(units))) <= Decimal("0.01")
    one_percent = Decimal(price["sensitivity_operating_income"]) * Decimal(price["budget"]) / 100
    assert abs(one_percent - revenue / 100) <= Decimal("0.05")


def test_signs_and_sizes_of_other_sensitivities(tree):
    _, nodes, _ = tree
    sens = {
        k: (Decimal(n["sensitivity_operating_income"]), Decimal(n["sensitivity_cash"]))
        for k, n in nodes.items()
        if n["sensitivity_operating_income"] is not None
    }
    assert sens["opex"] == (Decimal("-1.00"), Decimal("-1.00"))  # +1 of opex a month costs 1
    assert sens["dso"][0] == 0 and sens["dso"][1] < 0  # customers paying later: same income, less cash
    assert sens["dpo"][0] == 0 and sens["dpo"][1] > 0  # paying suppliers later: more cash
    assert sens["dio"][1] < 0  # more stock held
    assert sens["volume"][0] > 0 and sens["material_price"][0] < 0 and sens["scrap_rate"][0] < 0
    assert sens["labor_productivity"][0] > 0 and sens["overtime_share"][0] < 0 and sens["energy_per_unit"][0] < 0
    totals = ("cash_flow", "operating_income", "gross_margin", "revenue", "cost_of_sales", "working_capital")
    assert all(nodes[t]["sensitivity_operating_income"] is None for t in totals)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--version", "NOPE", "--period", "2024-04"], "--version 'NOPE' has no volume_plan rows in 2024-04"),
        (["--period", "2030-01"], "no plan version has volumes for 2030-01"),
        (["--period", "2024-13"], "--period '2024-13'"),
    ],
)
def test_bad_options_are_one_clear_line(capsys, tiny_demo, args, words):
    from cli_support import run_cli

    code, _out, err = run_cli(capsys, "drivers", *args, "-w", str(tiny_demo.path))
    assert code == 2 and words in err and "Traceback" not in err


def test_a_month_without_actuals_has_no_values_not_zeros(tiny_demo):
    from opsfin.runs.drivers import actual_values
    from opsfin.runs.tables import reading_tables

    with reading_tables(tiny_demo) as t:
        got = actual_values(t, [dt.date(2023, 12, 1), APRIL], 12)
    before = got[dt.date(2023, 12, 1)]  # the tiny company starts in 2024
    assert before.get("volume") is None and before.get("cash_flow") is None and before.get("revenue") is None
    assert got[APRIL]["volume"] > 0
