"""Rolling-origin backtests (docs/forecasting.md "Accuracy and backtests"): the origins chosen, the
measures averaged over origins (worked by hand), and the command on the tiny company."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from cli_support import run_cli
from opsfin.errors import UserError
from opsfin.forecast.backtest import backtest, backtest_origins
from opsfin.forecast.hierarchy import aggregate
from opsfin.runs.forecast_accuracy import backtest_report
from web_support import copy_workspace


def d(y: int, m: int) -> dt.date:
    return dt.date(y, m, 1)


def test_origins_are_the_last_months_leaving_the_horizon_of_actuals():
    # shipments 2022-01 … 2024-04, six months ahead: the last as-of month is 2023-10
    chosen, notes = backtest_origins(d(2022, 1), d(2024, 4), 3, 6)
    assert chosen == [d(2023, 8), d(2023, 9), d(2023, 10)]
    assert notes == []


def test_fewer_origins_when_history_is_short_with_a_note():
    # 2024-01 … 2024-04, one month ahead: 2024-03 is the only month with 3 months of history and 1 after
    chosen, notes = backtest_origins(d(2024, 1), d(2024, 4), 2, 1)
    assert chosen == [d(2024, 3)]
    assert len(notes) == 1 and "1 origin instead of 2" in notes[0]
    assert backtest_origins(d(2024, 1), d(2024, 4), 2, 4)[0] == []


# one product at one site: 10, 10, 10, 20, 5 shipped in 2024-01 … 2024-05
BOTTOM = pd.DataFrame(
    {
        "product_id": "A",
        "site_id": "S",
        "ds": pd.to_datetime([f"2024-0{m}-01" for m in range(1, 6)]),
        "y": [10.0, 10.0, 10.0, 20.0, 5.0],
    }
)
FAMILIES = pd.DataFrame({"product_id": ["A"], "family": ["F"]})


def test_measures_are_averaged_over_origins_worked_by_hand():
    seen = []

    def always_ten(history: pd.DataFrame, families) -> pd.DataFrame:
        """P50 10 (P10 8, P90 12) for the month after the history, at every member."""
        seen.append(history["ds"].max())
        after = history["ds"].max() + pd.DateOffset(months=1)
        members = aggregate(history, families)[["level", "key"]].drop_duplicates()
        return members.assign(ds=after, p10=8.0, p50=10.0, p90=12.0, model="ten")

    actuals = aggregate(BOTTOM, FAMILIES)
    result = backtest(BOTTOM, FAMILIES, actuals, [d(2024, 3), d(2024, 4)], always_ten)
    # each origin saw its history only
    assert seen == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01")]
    total = result.summary[(result.summary["level"] == "total") & result.summary["months_ahead"].isna()].iloc[0]
    # origin 2024-03: actual 20, P50 10 → WAPE 0.5, bias -0.5, outside; naive (last value, no season yet)
    #   10 → WAPE 0.5, FVA 0
    # origin 2024-04: actual 5, P50 10 → WAPE 1.0, bias +1.0, outside; naive 20 → WAPE 3.0, FVA 2.0
    assert total["origins"] == 2 and total["points"] == 2
    assert total["wape"] == pytest.approx(0.75)  # the mean of 0.5 and 1.0 (pooled would be 15/25)
    assert total["bias"] == pytest.approx(0.25)
    assert total["coverage"] == pytest.approx(0.0)
    assert total["wape_naive"] == pytest.approx(1.75)
    assert total["fva"] == pytest.approx(1.0)
    assert set(result.summary["level"]) == {"total", "family", "site", "product", "product_site"}
    assert sorted(result.by_origin["version"].unique()) == ["2024-03", "2024-04"]


@pytest.fixture(scope="module")
def ws(tiny_demo, tmp_path_factory):
    return copy_workspace(tiny_demo, tmp_path_factory.mktemp("backtest") / "ws")


def shipped_total(ws, month: str) -> float:
    return float(
        ws.sql(
            "SELECT sum(qty) AS q FROM shipments WHERE strftime(shipped_date, '%Y-%m') = ?",
            [month],
        )["q"][0]
    )


def test_naive_backtest_on_the_tiny_company(ws):
    last = ws.sql("SELECT max(shipped_date) AS d FROM shipments")["d"][0]
    prev = (last.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    result = backtest_report(ws, 1, 1, ("Naive",))
    assert result.origins == [prev]
    total = result.summary[(result.summary["level"] == "total") & (result.summary["months_ahead"] == 1)].iloc[0]
    # Naive repeats the as-of month's total; the actual is the next month's total
    forecast, actual = shipped_total(ws, f"{prev:%Y-%m}"), shipped_total(ws, f"{last:%Y-%m}")
    assert total["wape"] == pytest.approx(abs(actual - forecast) / actual, rel=1e-6)
    assert total["bias"] == pytest.approx((forecast - actual) / actual, rel=1e-6)


def test_backtest_command_json_and_short_history(ws, capsys):
    code, out, err = run_cli(
        capsys, "forecast", "backtest", "-w", str(ws.path), "--origins", "50", "--horizon", "1", "--models", "Naive"
    )
    assert code == 0, err
    code, out, err = run_cli(
        capsys,
        "forecast",
        "backtest",
        "-w",
        str(ws.path),
        "--origins",
        "50",
        "--horizon",
        "1",
        "--models",
        "Naive",
        "--format",
        "json",
    )
    body = json.loads(out)
    assert body["horizon"] == 1 and len(body["origins"]) < 50
    assert any("instead of 50" in n for n in body["notes"])
    assert {r["level"] for r in body["rows"]} == {"total", "family", "site", "product", "product_site"}
    code, out, err = run_cli(capsys, "forecast", "backtest", "-w", str(ws.path), "--horizon", "99")
    assert code == 2 and "--horizon 99" in err and "too short" in err


def test_backtest_refuses_a_bad_origin_count(ws):
    with pytest.raises(UserError, match="at least 1"):
        backtest_report(ws, 0, 1)
