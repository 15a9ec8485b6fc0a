"""`opsfin cash schedule` on the tiny company (seed 7): the JSON shape of the feature, every order open at
the as-of day or planned in the horizon scheduled once, the load within capacity every work-centre day, the
cash curve above the minimum when it says feasible, and no worse than earliest due date."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections import Counter
from decimal import Decimal

import pytest

from cli_support import run_cli
from opsfin.cli import main

AS_OF = dt.date(2024, 4, 10)
LAST = AS_OF + dt.timedelta(days=28)
MIN_CASH = "3000000"
ORDER_KEYS = {"order_id", "product_id", "qty", "work_center_id", "start_date", "end_date", "due_date", "late_days"}
FIGURE_KEYS = set(
    "total lateness_cost financing_cost holding_cost late_orders late_days cash_low_point feasible gap".split()
)


@pytest.fixture(scope="module")
def scheduled(tiny_demo):
    out = io.StringIO()
    args = ["cash", "schedule", "--as-of", f"{AS_OF}", "--min-cash", MIN_CASH, "--time-limit", "10", "--format", "json"]
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([*args, "-w", str(tiny_demo.path)])
    return json.loads(out.getvalue())


def test_the_json_has_the_feature_shape(scheduled):
    assert set(scheduled) == {"orders", "load", "cash", "objective", "baseline"}
    assert all(set(row) == ORDER_KEYS for row in scheduled["orders"])
    assert all(set(row) == {"work_center_id", "date", "hours", "capacity_hours"} for row in scheduled["load"])
    assert all(set(row) == {"date", "closing"} for row in scheduled["cash"])
    assert set(scheduled["objective"]) == FIGURE_KEYS == set(scheduled["baseline"])
    assert scheduled["cash"][0]["date"] == f"{AS_OF + dt.timedelta(days=1)}"


def test_every_open_or_planned_order_once_inside_the_horizon(scheduled, tiny_demo):
    truth = tiny_demo.sql(
        "SELECT order_id FROM production_orders WHERE (created_date <= ? AND "
        "(released_at IS NULL OR CAST(released_at AS DATE) > ?)) OR (created_date > ? AND due_date <= ?)",
        [AS_OF, AS_OF, AS_OF, LAST],
    )["order_id"].to_list()
    assert truth, "the tiny company has orders to schedule at this day"
    assert Counter(r["order_id"] for r in scheduled["orders"]) == Counter(truth)
    for r in scheduled["orders"]:
        start, end, due = (dt.date.fromisoformat(r[k]) for k in ("start_date", "end_date", "due_date"))
        assert AS_OF < start <= end <= LAST
        assert r["late_days"] == max(0, (end - due).days)


def test_load_within_capacity_on_every_work_centre_day(scheduled):
    assert scheduled["load"] and any(row["hours"] > 0 for row in scheduled["load"])
    for row in scheduled["load"]:
        assert row["hours"] <= row["capacity_hours"], row


def test_cash_above_the_minimum_when_feasible_and_no_worse_than_edd(scheduled):
    mine, edd = scheduled["objective"], scheduled["baseline"]
    low = min(Decimal(r["closing"]) for r in scheduled["cash"])
    assert Decimal(mine["cash_low_point"]) == low
    if mine["feasible"]:
        assert low >= Decimal(MIN_CASH)
    if edd["feasible"]:
        assert mine["feasible"] and Decimal(mine["total"]) <= Decimal(edd["total"])
    total = sum(Decimal(mine[k]) for k in ("lateness_cost", "financing_cost", "holding_cost"))
    assert Decimal(mine["total"]) == total


def test_bad_options_are_one_line_errors(capsys, tiny_demo):
    ws = str(tiny_demo.path)
    code, _, err = run_cli(capsys, "cash", "schedule", "--as-of", "2024-04-10", "--min-cash", "lots", "-w", ws)
    assert code == 2 and err.startswith("error: --min-cash 'lots'")
    code, _, err = run_cli(capsys, "cash", "schedule", "--as-of", "2024-04-10", "--solver", "gurobi", "-w", ws)
    assert code == 2 and "choose SCIP, CBC, HIGHS" in err
    code, _, err = run_cli(capsys, "cash", "schedule", "--as-of", "2024-04-10", "--time-limit", "0", "-w", ws)
    assert code == 2 and err.startswith("error: --time-limit")
