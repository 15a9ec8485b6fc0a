"""A site's constraint found period by period (`members: constraint`), and baselines counted in periods with
data, on hand-built series; every number below is worked by hand.

Plant P1 over 20 months: the assembly line queues 100 minutes an operation, 400 in a demand surge (months 4
to 6); the rework cell queues 50 until its product mix moves the bottleneck to it, 200 from month 8 on. Over
the whole history the rework cell has the longer median queue (200 against 100: twelve months of 20 at
200), so a constraint picked once for the history would be the rework cell: the surge at the assembly line
would be missed and the cell's move read as a surge. Picked per period, from the median of the eight months
before it (two baselines of 4; the three surge months never make half of them):

    month     0    1-11  12   13-19
    ASSY      -    100   100  100
    RWK       -    50    125  200

the constraint is the assembly line in months 1 to 11 and the rework cell from month 12 (nothing is known
before month 0)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from opsfin.alerts import anomalies
from opsfin.alerts.constraint import constraint_mask, opened_where
from opsfin.alerts.detect import detect_matrix
from opsfin.alerts.scan import Settings, parse_detection
from opsfin.core.periods import next_period
from opsfin.errors import UserError
from opsfin.kpis import KPI_BY_ID

ASSY = [100.0] * 4 + [400.0] * 3 + [100.0] * 13
RWK = [50.0] * 8 + [200.0] * 12
# the shipped wait_time scan, with a four-month baseline
WAIT = (
    "{kpi: wait_time, by: [site, work_center], alert_on: higher, members: constraint, grain: month, "
    "min_change: 1.5, threshold: 5, baseline: 4, min_history: 3}"
)


def _months(n: int) -> list[dt.date]:
    out = [dt.date(2024, 1, 1)]
    while len(out) < n:
        out.append(next_period(out[-1], "month"))
    return out


def _queues() -> pl.DataFrame:
    """wait_time per work centre and month as the KPI engine returns it: ten operations a month."""
    months = _months(20)
    rows = [
        {"period_start": p, "site": "P1", "work_center": wc, "kpi": "wait_time", "value": v}
        for wc, values in (("P1-ASSY", ASSY), ("P1-RWK", RWK))
        for p, v in zip(months, values, strict=True)
    ]
    df = pl.DataFrame(rows)
    return df.with_columns(numerator=pl.col("value") * 10, denominator=pl.lit(10.0))


def test_the_constraint_is_the_top_median_of_the_periods_before():
    values = np.array([ASSY, RWK, [7.0] * 20])  # a third member, alone at another site
    mask = constraint_mask(values, np.array([0, 0, 1]), 8)
    assert np.nonzero(mask[0])[0].tolist() == list(range(1, 12))
    assert np.nonzero(mask[1])[0].tolist() == list(range(12, 20))
    assert np.nonzero(mask[2])[0].tolist() == list(range(1, 20))


def test_a_tie_goes_to_the_first_member_and_a_run_is_kept_where_it_opened():
    mask = constraint_mask(np.array([[5.0, 5.0, 5.0], [5.0, 5.0, 5.0]]), np.array([0, 0]), 2)
    assert mask.tolist() == [[False, True, True], [False, False, False]]
    flags = np.array([[0, 1, 1, 0, -1, -1], [1, 1, 0, 0, 1, 1]], dtype=np.int8)
    where = np.array([[True, False, False, False, True, False], [False, False, False, False, True, True]])
    # member 0: the up run opens at 1 (not the constraint: dropped), the down run at 4 (kept whole);
    # member 1: the run at 0-1 opens outside, the run at 4-5 inside
    assert opened_where(flags, where).tolist() == [[0, 0, 0, 0, -1, -1], [0, 0, 0, 0, 1, 1]]


def test_a_site_whose_constraint_moves_is_watched_where_the_constraint_is(monkeypatch):
    frame = _queues()
    monkeypatch.setattr(anomalies, "compute", lambda *args, **kwargs: [frame])
    (scan,) = parse_detection("scan:\n  - " + WAIT, catalog=KPI_BY_ID)
    (alert,) = anomalies.scan_alerts(None, scan, KPI_BY_ID)
    # months 0-3 at 100: median 100, sd 2% of it (no spread); month 4 departs by 300 ≥ 150, adds 4 − 1 = 3;
    # month 5 adds 3 more: 6 > 5, in alert from month 4; month 6 extends it; months 7 and 8 close it.
    # The rework cell's rise at month 8 trips its own series (50 to 200) but opens where it was not the
    # constraint yet (the assembly line's median 100 over months 0-7 against its 50): no alert at the move.
    assert alert.scope == {"site": "P1", "work_center": "P1-ASSY"}
    assert alert.period_start == _months(20)[4] and alert.periods == 3
    assert alert.value == pytest.approx(400.0)
    assert alert.expected == pytest.approx(100.0)


def test_a_sparse_series_counts_its_baseline_in_periods_with_data():
    # a value every other month: 10 at months 0-14, then 15 at months 16 and 18
    x = np.full(20, np.nan)
    x[0:15:2] = 10.0
    x[16], x[18] = 15.0, 15.0
    s = Settings(grain="month", baseline=4, min_history=3, relearn=12, threshold=5.0)
    flags, base, _ = detect_matrix(x[None, :], None, s)
    # month 16: the last four months with data (8-14) give median 10, sd 0.2; 15 is z = 25, adds 3.
    # month 18: the same baseline (frozen before the excursion, within the 8-month lookback: 10-14), adds 3:
    # 6 > 5, in alert from month 16. Four calendar months back would hold two values, too few to judge.
    assert np.nonzero(flags[0])[0].tolist() == [16, 17, 18]
    assert base[0, 16] == 10.0 and base[0, 18] == 10.0


def _frame(kpi: str, values: dict[str, list[float]]) -> pl.DataFrame:
    months = _months(len(next(iter(values.values()))))
    rows = [
        {"period_start": p, "site": "P1", "work_center": wc, "kpi": kpi, "value": v}
        for wc, vals in values.items()
        for p, v in zip(months, vals, strict=True)
    ]
    return pl.DataFrame(rows).with_columns(numerator=pl.col("value") * 10, denominator=pl.lit(10.0))


def test_the_constraint_can_be_ranked_by_another_kpi(monkeypatch):
    # packing queues 120 minutes every month, a little longer than the assembly line's usual 100, but the
    # assembly line is the loaded one (machine load 0.8 against 0.5); the surge (months 4-6, 400) is its own
    frames = {
        "wait_time": _frame("wait_time", {"P1-ASSY": ASSY[:12], "P1-PACK": [120.0] * 12}),
        "machine_load": _frame("machine_load", {"P1-ASSY": [0.8] * 12, "P1-PACK": [0.5] * 12}),
    }
    monkeypatch.setattr(anomalies, "compute", lambda t, kpis, *args, **kwargs: [frames[k] for k in kpis])

    def alerts(extra: str):
        (scan,) = parse_detection("scan:\n  - " + WAIT[:-1] + extra + "}", catalog=KPI_BY_ID)
        return anomalies.scan_alerts(None, scan, KPI_BY_ID)

    # ranked by the queue, packing (120 > 100 over months 0-3) is the constraint where the surge opens: no alert
    assert alerts("") == []
    (alert,) = alerts(", constraint_by: machine_load")
    assert alert.scope == {"site": "P1", "work_center": "P1-ASSY"}
    assert alert.period_start == _months(12)[4] and alert.periods == 3


def test_constraint_by_needs_constraint_members_and_the_scan_dimensions():
    with pytest.raises(UserError, match="constraint_by needs members: constraint"):
        parse_detection(
            "scan:\n  - {kpi: wait_time, by: [site, work_center], constraint_by: machine_load}", catalog=KPI_BY_ID
        )
    with pytest.raises(UserError, match="dso"):
        parse_detection("scan:\n  - " + WAIT[:-1] + ", constraint_by: dso}", catalog=KPI_BY_ID)
    (scan,) = parse_detection("scan:\n  - " + WAIT[:-1] + ", constraint_by: machine_load}", catalog=KPI_BY_ID)
    assert scan.constraint_by == "machine_load"


def test_the_shipped_queue_scan_ranks_the_constraint_by_machine_load():
    from opsfin.alerts import default_scans

    (wait,) = [s for s in default_scans() if s.kpi == "wait_time"]
    assert (wait.members, wait.constraint_by) == ("constraint", "machine_load")
