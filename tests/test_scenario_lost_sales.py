"""The lost-sales LP on synthetic months worked by hand (docs/scenarios.md "When demand exceeds capacity"):
overtime up to its limit, then the volume with the least contribution per bottleneck hour gives first."""

from __future__ import annotations

import pytest

from opsfin.scenarios.lost_sales import MonthLoad, overloaded, solve_month


def test_the_lowest_contribution_per_bottleneck_hour_loses_first_even_with_the_higher_unit_margin():
    """A brings 100 a unit for 2 h (50/h), B 60 a unit for 1 h (60/h). 10 of each need 30 h; 20 h of room
    and 5 h of overtime leave 5 h short: A, the better margin per unit, loses 5 h ÷ 2 h = 2.5 units."""
    load = MonthLoad(
        demand={"A": 10.0, "B": 10.0},
        contribution={"A": 100.0, "B": 60.0},
        hours={"A": {"W": 2.0}, "B": {"W": 1.0}},
        room={"W": 20.0},
        overtime={"W": 5.0},
        premium={"W": 10.0},
    )
    assert overloaded(load)
    plan = solve_month(load)
    assert plan.made["A"] == pytest.approx(7.5)
    assert plan.made["B"] == pytest.approx(10.0)
    assert plan.overtime["W"] == pytest.approx(5.0)
    assert plan.bottleneck["A"] == "W"
    assert not plan.short


def test_overtime_dearer_than_the_volume_is_not_worked():
    """With a premium of 55/h, an overtime hour of A (50/h) loses money: A gets only the room B leaves
    (20 h − 10 h = 10 h, 5 units) and no overtime is worked."""
    load = MonthLoad(
        demand={"A": 10.0, "B": 10.0},
        contribution={"A": 100.0, "B": 60.0},
        hours={"A": {"W": 2.0}, "B": {"W": 1.0}},
        room={"W": 20.0},
        overtime={"W": 5.0},
        premium={"W": 55.0},
    )
    plan = solve_month(load)
    assert plan.made["A"] == pytest.approx(5.0)
    assert plan.made["B"] == pytest.approx(10.0)
    assert plan.overtime.get("W", 0.0) == pytest.approx(0.0)


def test_the_bottleneck_is_the_work_centre_that_binds():
    """Two work centres: X has room for all, Y does not. C (40 a unit, 1 h on Y: 40/h) gives before
    D (90 a unit, 1.5 h on Y: 60/h), though C needs fewer X hours; Y is C's bottleneck."""
    load = MonthLoad(
        demand={"C": 20.0, "D": 20.0},
        contribution={"C": 40.0, "D": 90.0},
        hours={"C": {"X": 0.5, "Y": 1.0}, "D": {"X": 2.0, "Y": 1.5}},
        room={"X": 100.0, "Y": 40.0},
        overtime={"X": 0.0, "Y": 0.0},
    )
    plan = solve_month(load)
    # Y: 20 D × 1.5 h = 30 h, 10 h left for C = 10 units
    assert plan.made["D"] == pytest.approx(20.0)
    assert plan.made["C"] == pytest.approx(10.0)
    assert plan.bottleneck["C"] == "Y"


def test_a_month_within_room_and_overtime_is_not_overloaded():
    load = MonthLoad(
        demand={"A": 10.0},
        contribution={"A": 1.0},
        hours={"A": {"W": 2.0}},
        room={"W": 18.0},
        overtime={"W": 2.0},
    )
    assert not overloaded(load)
    assert overloaded(MonthLoad({"A": 10.0}, {"A": 1.0}, {"A": {"W": 2.0}}, {"W": 18.0}, {"W": 1.9}))


def test_a_load_that_cannot_be_shed_is_reported_short():
    """Room below zero (the base's setups alone exceed the hours left): making nothing still misses 3 h."""
    load = MonthLoad({"A": 5.0}, {"A": 10.0}, {"A": {"W": 1.0}}, {"W": -3.0}, {"W": 0.0})
    plan = solve_month(load)
    assert plan.made["A"] == pytest.approx(0.0)
    assert plan.short["W"] == pytest.approx(3.0)
