"""The cost of reliability (docs/scenarios.md "Trade-offs"): the within-machine slope, the spend, the lost
contribution and the recommendation per machine, against figures worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from opsfin.scenarios.reliability import breakdown_slope, reliability_table, work_center_contribution
from opsfin.scenarios.tradeoffs import reliability_assumptions

D = Decimal
MONTHS = [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)]
MACHINES = pl.DataFrame({"machine_id": ["M1", "M2"], "work_center_id": ["WC1", "WC2"], "availability": [0.9, 0.8]})


def _event(machine, kind, month, hours, parts):
    start = dt.datetime(2024, month, 10, 6)
    return (machine, kind, start, start + dt.timedelta(hours=hours), D(parts), float(hours))


def _events(m1_breakdown_hours=(7, 4, 1)) -> pl.DataFrame:
    """M1: 0, 1, 2 planned services (2 h, parts 100, 2 labour h each) in Jan..Mar and breakdowns of 7, 4, 1 h
    (parts 300, 200, 100; labour hours = hours). M2: one 1 h service (parts 50) and one 3 h breakdown
    (parts 90) every month. Labour hours equal the event's hours."""
    rows = [_event("M1", "planned", 2, 2, 100), _event("M1", "planned", 3, 2, 100), _event("M1", "planned", 3, 2, 100)]
    rows += [
        _event("M1", "breakdown", m + 1, h, p)
        for m, (h, p) in enumerate(zip(m1_breakdown_hours, (300, 200, 100), strict=True))
    ]
    for m in (1, 2, 3):
        rows += [_event("M2", "planned", m, 1, 50), _event("M2", "breakdown", m, 3, 90)]
    schema = {
        "machine_id": pl.Utf8,
        "kind": pl.Utf8,
        "start_at": pl.Datetime("us"),
        "end_at": pl.Datetime("us"),
        "parts_cost": pl.Decimal(18, 2),
        "labor_hours": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_the_slope_is_fitted_within_each_machine():
    # M1: x = 0, 1, 2 and y = 7, 4, 1 → deviations (−1, 0, 1) and (3, 0, −3): Σxy = −6, Σxx = 2 → −3.
    # M2's planned count never varies, so it adds nothing to either sum.
    slope, n = breakdown_slope(_events(), ["M1", "M2"], MONTHS)
    assert slope == pytest.approx(-3.0) and n == 6


def test_contribution_per_run_hour_of_a_work_centre():
    # WC1 made 10 A (contribution 30) in 120 min and 5 B (12) in 60 min: (300 + 60) / 3 h = 120
    ops = pl.DataFrame(
        {
            "work_center_id": ["WC1", "WC1"],
            "product_id": ["A", "B"],
            "qty_good": [10.0, 5.0],
            "run_minutes": [120.0, 60.0],
        }
    )
    assert work_center_contribution(ops, {"A": D(30), "B": D(12)}) == {"WC1": D(120)}


def test_each_machine_against_the_hand_worked_figures():
    result = reliability_table(
        _events(), MACHINES, MONTHS, {"WC1": D(100), "WC2": D(50)}, reliability_assumptions(maintenance_labor_rate=40)
    )
    assert result.hours_avoided_per_service == pytest.approx(3.0)
    m1, m2 = result.machines.to_dicts()
    # M1: planned 3 services, 6 h, spend 300 parts + 6 h × 40 = 540; breakdowns 12 h, 600 + 12 × 40 = 1080
    assert (m1["planned_hours"], m1["breakdown_hours"], m1["breakdowns"]) == (6.0, 12.0, 3)
    assert (m1["planned_spend"], m1["breakdown_spend"]) == (D("540.00"), D("1080.00"))
    assert m1["breakdown_hours_per_planned_hour"] == pytest.approx(2.0)
    assert m1["planned_per_month"] == pytest.approx(1.0)
    assert m1["lost_contribution"] == D("1200.00")  # 12 h × 100
    # one more service: (540 + 6 h × 100) / 3 = 380; saves 3 h × (100 + 1080/12) = 570; net 190
    assert (m1["extra_service_cost"], m1["extra_service_saves"], m1["extra_service_net"]) == (
        D("380.00"),
        D("570.00"),
        D("190.00"),
    )
    assert m1["recommendation"] == "add one planned maintenance a month"
    # M2: spend 150 + 3 × 40 = 270; breakdowns 9 h, 270 + 9 × 40 = 630; one more: (270 + 3 × 50) / 3 = 140;
    # saves 3 × (50 + 630/9) = 360
    assert (m2["planned_spend"], m2["breakdown_spend"]) == (D("270.00"), D("630.00"))
    assert (m2["extra_service_cost"], m2["extra_service_saves"]) == (D("140.00"), D("360.00"))
    assert m2["lost_contribution"] == D("450.00") and m2["availability"] == 0.8


def test_no_effect_in_the_history_means_keep():
    # M1's breakdowns rise with its services (1, 4, 7 h): the slope is +3, so nothing is avoided
    result = reliability_table(
        _events((1, 4, 7)), MACHINES, MONTHS, {"WC1": D(100)}, reliability_assumptions(maintenance_labor_rate=40)
    )
    assert result.hours_avoided_per_service == 0.0
    assert set(result.machines["recommendation"]) == {
        "keep: no fewer breakdowns in months with more planned maintenance"
    }
    assert set(result.machines["extra_service_saves"]) == {D("0.00")}


def test_too_little_history_claims_nothing():
    result = reliability_table(
        _events(),
        MACHINES,
        MONTHS,
        {"WC1": D(100)},
        reliability_assumptions(maintenance_labor_rate=40, min_observations=7),
    )
    assert result.hours_avoided_per_service is None
    assert result.machines["recommendation"][0] == "keep: the history cannot tell what planned maintenance avoids"


def test_no_planned_count_that_varies_claims_nothing():
    # only M2 (one service every month): its count never varies, so no slope can be fitted
    events = _events().filter(pl.col("machine_id") == "M2")
    slope, n = breakdown_slope(events, ["M1", "M2"], MONTHS)
    assert slope != slope and n == 6  # nan
    result = reliability_table(events, MACHINES, MONTHS, {}, reliability_assumptions(maintenance_labor_rate=40))
    assert result.hours_avoided_per_service is None
    m1 = result.machines.row(0, named=True)
    assert (m1["breakdowns"], m1["planned_spend"], m1["lost_contribution"]) == (0, D("0.00"), D("0.00"))


def test_a_machine_failing_far_more_than_its_peers_is_flagged():
    # breakdown hours: M1 12, M2 9, M3 60 → median 12; M3 is 5× the median (≥ 3: investigate), M1 1×, M2 0.75×
    machines = pl.concat(
        [MACHINES, pl.DataFrame({"machine_id": ["M3"], "work_center_id": ["WC1"], "availability": [0.5]})]
    )
    extra = pl.DataFrame([_event("M3", "breakdown", 2, 60, 1000)], schema=_events().schema, orient="row")
    result = reliability_table(
        pl.concat([_events(), extra]),
        machines,
        MONTHS,
        {"WC1": D(100)},
        reliability_assumptions(maintenance_labor_rate=40),
    )
    by = {r["machine_id"]: r for r in result.machines.to_dicts()}
    assert [by[m]["breakdown_vs_median"] for m in ("M1", "M2", "M3")] == pytest.approx([1.0, 0.75, 5.0])
    assert by["M3"]["recommendation"] == "investigate: 5.0× the median machine's breakdown hours"
    assert by["M1"]["recommendation"] == "add one planned maintenance a month"
