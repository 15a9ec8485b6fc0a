"""Forecast accuracy on tiny frames worked by hand (docs/forecasting.md "Accuracy and backtests")."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from opsfin.forecast.accuracy import (
    accuracy,
    forecast_points,
    months_ahead,
    naive_for_versions,
    naive_scale,
    seasonal_naive,
    versions_without_actuals,
)


def month(y: int, m: int) -> pd.Timestamp:
    return pd.Timestamp(dt.date(y, m, 1))


# 2024-01 … 2025-03 of one series; 2024-01 = 8, 2024-02 = 14, 2024-03 = 14, 2025-01 = 10 and the two months
# forecast: 2025-02 = 10, 2025-03 = 20
HISTORY = {month(2024, 1): 8.0, month(2024, 2): 14.0, month(2024, 3): 14.0, month(2025, 1): 10.0}
HISTORY |= {month(2024, m): 5.0 for m in range(4, 13)}
ARRIVED = HISTORY | {month(2025, 2): 10.0, month(2025, 3): 20.0}


def actuals_frame(values: dict) -> pd.DataFrame:
    return pd.DataFrame({"level": "total", "key": "total", "ds": list(values), "y": list(values.values())})


def forecast_frame(version: str, as_of: dt.date, rows: list[tuple]) -> pd.DataFrame:
    """rows: (ds, p10, p50, p90)"""
    return pd.DataFrame(
        [(version, as_of, "total", "total", ds, lo, mid, hi) for ds, lo, mid, hi in rows],
        columns=["version", "as_of", "level", "key", "ds", "p10", "p50", "p90"],
    )


FORECAST = forecast_frame(
    "v1",
    dt.date(2025, 1, 1),
    [(month(2025, 2), 9.0, 12.0, 13.0), (month(2025, 3), 15.0, 18.0, 19.0)],
)


def measured():
    actuals = actuals_frame(ARRIVED)
    naive = naive_for_versions(FORECAST, actuals)
    return accuracy(FORECAST, actuals, naive)


def row(result: pd.DataFrame, ahead):
    if ahead is None:
        return result[result["months_ahead"].isna()].iloc[0]
    return result[result["months_ahead"] == ahead].iloc[0]


def test_months_ahead_counts_from_the_as_of_month():
    assert months_ahead(dt.date(2025, 1, 1), dt.date(2025, 2, 1)) == 1
    assert months_ahead(dt.date(2024, 11, 1), dt.date(2025, 2, 1)) == 3


def test_seasonal_naive_repeats_last_years_month_and_falls_back_to_the_last_value():
    naive = seasonal_naive(actuals_frame(HISTORY), dt.date(2025, 1, 1), 3)
    # 2025-02 ← 2024-02, 2025-03 ← 2024-03, 2025-04 ← 2024-04
    assert naive["naive"].tolist() == [14.0, 14.0, 5.0]
    short = actuals_frame({month(2025, 1): 1.0, month(2025, 2): 2.0, month(2025, 3): 3.0})
    # season 2: h=1 ← 2025-02, h=2 ← 2025-03, h=3 ← 2025-02 (two seasons back)
    assert seasonal_naive(short, dt.date(2025, 3, 1), 3, season=2)["naive"].tolist() == [2.0, 3.0, 2.0]
    # season 12 on three months: no month a year back, so the last value
    assert seasonal_naive(short, dt.date(2025, 3, 1), 2)["naive"].tolist() == [3.0, 3.0]


def test_naive_scale_uses_history_up_to_as_of_only():
    # the only pair a season apart up to 2025-01: |10 - 8| = 2 (2025-02 and 2025-03 are not history)
    scale = naive_scale(actuals_frame(ARRIVED), dt.date(2025, 1, 1))
    assert scale["scale"].tolist() == [2.0]
    # up to 2025-03: |10-8|, |10-14|, |20-14| → mean 4
    assert naive_scale(actuals_frame(ARRIVED), dt.date(2025, 3, 1))["scale"].tolist() == [4.0]
    flat = actuals_frame({month(2024, m): 3.0 for m in range(1, 13)} | {month(2025, 1): 3.0})
    assert math.isnan(naive_scale(flat, dt.date(2025, 1, 1))["scale"][0])


def test_all_months_ahead_worked_by_hand():
    total = row(measured(), None)
    assert total["points"] == 2
    assert total["actual"] == pytest.approx(30.0)
    assert total["wape"] == pytest.approx(4 / 30)  # |10-12| + |20-18| over 30 = 13.33 %
    assert total["bias"] == pytest.approx(0.0)  # +2 and -2
    assert total["mase"] == pytest.approx(1.0)  # errors 2 and 2 over the scale 2
    assert total["coverage"] == pytest.approx(0.5)  # 10 in [9, 13]; 20 outside [15, 19]
    assert total["wape_naive"] == pytest.approx(10 / 30)  # naive 14 and 14: |10-14| + |20-14|
    assert total["fva"] == pytest.approx(6 / 30)  # 33.33 % - 13.33 % = 20 points


def test_each_month_ahead_worked_by_hand():
    result = measured()
    one, two = row(result, 1), row(result, 2)
    assert (one["wape"], one["bias"], one["coverage"], one["wape_naive"]) == pytest.approx((0.2, 0.2, 1.0, 0.4))
    assert (two["wape"], two["bias"], two["coverage"], two["wape_naive"]) == pytest.approx((0.1, -0.1, 0.0, 0.3))
    assert one["fva"] == pytest.approx(0.2)
    assert two["fva"] == pytest.approx(0.2)
    assert one["as_of"] == dt.date(2025, 1, 1)
    assert result["months_ahead"].tolist()[:2] == [1, 2]


def test_a_version_without_actuals_has_no_rows_and_is_named():
    actuals = actuals_frame(ARRIVED)
    later = forecast_frame("v2", dt.date(2025, 3, 1), [(month(2025, 4), 1.0, 2.0, 3.0)])
    both = pd.concat([FORECAST, later], ignore_index=True)
    result = accuracy(both, actuals, naive_for_versions(both, actuals))
    assert set(result["version"]) == {"v1"}
    assert versions_without_actuals(both, result) == ["v2"]


def test_points_only_after_as_of_with_arrived_actuals():
    actuals = actuals_frame(HISTORY | {month(2025, 2): 10.0})  # 2025-03 has not arrived
    odd = pd.concat(
        [FORECAST, forecast_frame("v1", dt.date(2025, 1, 1), [(month(2025, 1), 0.0, 99.0, 100.0)])],
        ignore_index=True,
    )
    points = forecast_points(odd, actuals, naive_for_versions(odd, actuals))
    assert points["ds"].tolist() == [month(2025, 2)]
    assert points["months_ahead"].tolist() == [1]


def test_levels_are_measured_apart_and_wape_weighs_volume():
    # two families in one version: A errs 10 on 100, B errs 5 on 10 → family WAPE 15/110, not the mean
    as_of = dt.date(2025, 1, 1)
    rows = []
    for key, p50 in (("A", 110.0), ("B", 5.0)):  # actuals 100 and 10 below
        rows.append(("v1", as_of, "family", key, month(2025, 2), p50 - 1, p50, p50 + 1))
    forecasts = pd.DataFrame(rows, columns=["version", "as_of", "level", "key", "ds", "p10", "p50", "p90"])
    actuals = pd.DataFrame(
        [("family", "A", month(2025, 1), 90.0), ("family", "A", month(2025, 2), 100.0)]
        + [("family", "B", month(2025, 1), 10.0), ("family", "B", month(2025, 2), 10.0)],
        columns=["level", "key", "ds", "y"],
    )
    result = accuracy(forecasts, actuals, naive_for_versions(forecasts, actuals))
    family = row(result, None)
    assert family["wape"] == pytest.approx(15 / 110)
    assert family["bias"] == pytest.approx(5 / 110)  # +10 and -5
    # naive: last values 90 and 10 → |100-90| + 0 = 10 over 110
    assert family["wape_naive"] == pytest.approx(10 / 110)
    assert family["fva"] == pytest.approx(-5 / 110)  # worse than naive
    assert math.isnan(family["mase"])  # no month a season back: no scale


def test_coverage_counts_actuals_on_the_band_edges_as_inside():
    # actuals 10 and 20 on P10 and P90 exactly: both inside; a third, 31, above P90 30: outside → 2/3
    as_of = dt.date(2025, 1, 1)
    forecasts = forecast_frame(
        "v1",
        as_of,
        [(month(2025, 2), 10.0, 12.0, 14.0), (month(2025, 3), 15.0, 18.0, 20.0), (month(2025, 4), 25.0, 28.0, 30.0)],
    )
    actuals = actuals_frame(HISTORY | {month(2025, 2): 10.0, month(2025, 3): 20.0, month(2025, 4): 31.0})
    total = row(accuracy(forecasts, actuals, naive_for_versions(forecasts, actuals)), None)
    assert total["coverage"] == pytest.approx(2 / 3)
    assert total["points"] == 3
