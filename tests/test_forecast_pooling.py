"""Product forecasts pooled with their family's share (forecast/pooling.py), worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from opsfin.forecast.pooling import family_shares, pool_with_family

FAMILIES = {"A": "F", "B": "F"}


def _history() -> pd.DataFrame:
    # 13 months: the first (A ships 1000) lies outside the last 12 and must not count in the shares;
    # in the last 12, A ships 3 a month (36) and B 1 a month (12), the family 48: shares 0.75 and 0.25
    months = pd.date_range("2024-01-01", periods=13, freq="MS")
    rows = []
    for i, ds in enumerate(months):
        a, b = (1000.0, 0.0) if i == 0 else (3.0, 1.0)
        rows += [
            ("family", "F", ds, a + b),
            ("product", "A", ds, a),
            ("product", "B", ds, b),
            ("product_site", "A/W1", ds, a),
            ("product_site", "B/W1", ds, b),
        ]
    return pd.DataFrame(rows, columns=["level", "key", "ds", "y"])


def _base() -> pd.DataFrame:
    ds = pd.Timestamp("2025-02-01")
    rows = [
        ("family", "F", ds, 100.0, 80.0, 120.0, "m"),
        ("product", "A", ds, 60.0, 50.0, 70.0, "m"),
        ("product", "B", ds, 30.0, 0.0, 40.0, "m"),
        ("product_site", "A/W1", ds, 60.0, 50.0, 70.0, "m"),
        ("product_site", "B/W1", ds, 30.0, 0.0, 40.0, "m"),
    ]
    return pd.DataFrame(rows, columns=["level", "key", "ds", "yhat", "lo", "hi", "model"])


def test_shares_count_the_last_twelve_months_only():
    shares = family_shares(_history(), FAMILIES)
    assert shares[("product", "A")] == ("F", pytest.approx(0.75))
    assert shares[("product_site", "B/W1")] == ("F", pytest.approx(0.25))


def test_products_take_the_mean_of_their_own_forecast_and_their_family_share():
    out = pool_with_family(_base(), _history(), FAMILIES).set_index(["level", "key"])
    # A: (60 + 0.75 × 100) / 2 = 67.5, the interval moved by +7.5
    assert out.loc[("product", "A"), ["yhat", "lo", "hi"]].tolist() == pytest.approx([67.5, 57.5, 77.5])
    assert out.loc[("product_site", "A/W1"), "yhat"] == pytest.approx(67.5)
    # B: (30 + 0.25 × 100) / 2 = 27.5, moved by −2.5: lo stays at 0
    assert out.loc[("product", "B"), ["yhat", "lo", "hi"]].tolist() == pytest.approx([27.5, 0.0, 37.5])
    # the family itself is not changed
    assert out.loc[("family", "F"), ["yhat", "lo", "hi"]].tolist() == [100.0, 80.0, 120.0]


def test_the_demand_forecast_pools_products_before_reconciling():
    from opsfin.forecast.config import ForecastConfig
    from opsfin.forecast.demand import reconciled_forecast

    # 12 months; A ships 2 a month and 6 in the last, B 2 a month: Naive forecasts A 6, B 2, the family 8.
    # Shares: A 28/52, B 24/52. Pooled: A (6 + 28/52 × 8)/2 = 5.1538…, B (2 + 24/52 × 8)/2 = 2.8461…,
    # which add up to the family's 8, so the reconciliation keeps them (rounded to a thousandth).
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    rows = [("A", "W1", ds, 6.0 if i == 11 else 2.0) for i, ds in enumerate(months)]
    rows += [("B", "W1", ds, 2.0) for ds in months]
    bottom = pd.DataFrame(rows, columns=["product_id", "site_id", "ds", "y"])
    config = ForecastConfig(horizon=1, freq="MS", models=("Naive",))
    done, _, _ = reconciled_forecast(bottom, FAMILIES, config)
    p50 = done.values.set_index(["level", "key"])["p50"]
    assert p50[("product", "A")] == pytest.approx(5.154)
    assert p50[("product_site", "B/W1")] == pytest.approx(2.846)
    assert p50[("family", "F")] == pytest.approx(8.0)
