"""Pooled periods in the anomaly detector (`pool` in model/detection.yaml), on hand-built series.

A supplier has one or two receipts a month, each on time or not, so its monthly on-time share jumps between
1.0 and 0.5 without anything being wrong. A late spell of four months at 0 is then only two robust standard
deviations below the usual 0.75 each month: the CUSUM (slack 1, threshold 5) gathers 1.02 a month and never
trips. Pooled over two months (Σ on time / Σ received) the same company reads a steady 0.75, a lone late
month reads 0.5 (immaterial: the shipped supplier settings need a fall to 40% of the usual level) and the
spell reads 0.25, 0, 0, 0: the alert opens at its first month. Every number below is worked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from opsfin.alerts import anomalies
from opsfin.alerts.anomalies import pool_periods, pooled
from opsfin.alerts.scan import parse_detection
from opsfin.core.periods import next_period
from opsfin.errors import UserError
from opsfin.kpis import KPI_BY_ID

SUPPLIER = "{kpi: supplier_on_time, by: supplier, grain: month, min_change: 0.6, min_abs: 0.3, threshold: 5"


def _months(n: int) -> list[dt.date]:
    out = [dt.date(2024, 1, 1)]
    while len(out) < n:
        out.append(next_period(out[-1], "month"))
    return out


def _on_time_shares() -> list[float]:
    """24 months alternating 1.0 and 0.5 on time; a lone late month (15); a late spell, months 18 to 21."""
    shares = [1.0 if i % 2 == 0 else 0.5 for i in range(24)]
    shares[15] = 0.0
    shares[18:22] = [0.0] * 4
    return shares


@pytest.fixture
def supplier_series(monkeypatch):
    """The KPI engine stubbed: supplier S1's monthly on-time share, 100 units received each month."""
    periods = _months(24)
    frame = pl.DataFrame(
        {
            "period_start": periods,
            "supplier": ["S1"] * 24,
            "kpi": ["supplier_on_time"] * 24,
            "value": _on_time_shares(),
            "numerator": [v * 100.0 for v in _on_time_shares()],
            "denominator": [100.0] * 24,
        }
    )
    monkeypatch.setattr(anomalies, "compute", lambda *args, **kwargs: [frame])
    return periods


def _alerts(spec: str):
    (scan,) = parse_detection("scan:\n  - " + spec, catalog=KPI_BY_ID)
    return anomalies.scan_alerts(None, scan, KPI_BY_ID)


def test_pooled_sums_each_period_with_the_ones_before():
    m = np.array([[1.0, np.nan, 3.0, 4.0], [np.nan, 2.0, 2.0, np.nan]])
    out = pooled(m, 2)
    # a missing period adds 0 to its neighbour and stays missing itself
    np.testing.assert_array_equal(out, np.array([[1.0, np.nan, 3.0, 7.0], [np.nan, 2.0, 4.0, np.nan]]))
    np.testing.assert_array_equal(pooled(np.array([[1.0, 2.0, 3.0, 4.0]]), 3), np.array([[1.0, 3.0, 6.0, 9.0]]))


def test_pool_periods_pools_a_ratio_and_averages_a_sum():
    num = np.array([[50.0, 0.0, 100.0, np.nan]])
    den = np.array([[100.0, 100.0, 100.0, np.nan]])
    values, pnum, pden = pool_periods(num / den, num, den, 2, 1.0)
    # (50 + 0) / 200 = 0.25, (0 + 100) / 200 = 0.5; the missing period stays missing
    np.testing.assert_array_equal(values, np.array([[0.5, 0.25, 0.5, np.nan]]))
    np.testing.assert_array_equal(pden, np.array([[100.0, 200.0, 200.0, np.nan]]))
    money = np.array([[10.0, np.nan, 20.0, 40.0]])
    means, _, _ = pool_periods(money, money, np.full((1, 4), np.nan), 2, None)
    # a sum KPI: the mean of the periods observed in the window (20 alone, then (20 + 40) / 2)
    np.testing.assert_array_equal(means, np.array([[10.0, np.nan, 20.0, 30.0]]))


def test_monthly_shares_miss_the_late_spell(supplier_series):
    # median 0.75, MAD 0.25 → sd 0.371; a month at 0 is z = 2.02, adding 1.02: four months make 4.08 < 5
    assert _alerts(SUPPLIER + "}") == []


def test_two_months_pooled_catch_the_spell_and_not_the_lone_late_month(supplier_series):
    periods = supplier_series
    (alert,) = _alerts(SUPPLIER + ", pool: 2}")
    assert alert.scope == {"supplier": "S1"}
    # the pooled share falls to 0.25 in month 18 (0.5 + 0 over two months), then 0, 0, 0; back to 0.5 in month 22
    assert alert.period_start == periods[18] and alert.period_end == dt.date(2025, 10, 31)  # month 21's last day
    assert alert.periods == 4
    assert alert.value == 0.0  # the KPI over the run, from the raw months: 0 on time of 400 received
    assert alert.expected == pytest.approx(0.75)  # the pooled level before the spell
    # the band's edge: 0.75 less the larger of 60% of it (0.45), 0.3 and one robust sd
    assert alert.bound == pytest.approx(0.30)


def test_pool_must_be_a_whole_number_of_at_least_one():
    with pytest.raises(UserError, match="field 'pool': expected a whole number ≥ 1, got 0"):
        parse_detection("scan:\n  - {kpi: supplier_on_time, by: supplier, pool: 0}", catalog=KPI_BY_ID)
    with pytest.raises(UserError, match="pool"):
        parse_detection("scan:\n  - {kpi: supplier_on_time, by: supplier, pool: 1.5}", catalog=KPI_BY_ID)


def test_shipped_supplier_scan_pools_two_months():
    from opsfin.alerts import default_scans

    supplier = next(s for s in default_scans() if s.kpi == "supplier_on_time").settings
    assert (supplier.grain, supplier.pool, supplier.min_change, supplier.threshold) == ("month", 2, 0.6, 5)
