"""The cost of speed (docs/scenarios.md "Trade-offs"): a curve checked against figures worked by hand on a
three-product history, the choice of lever per late unit, and bad assumptions refused."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.scenarios.speed import speed_curve
from opsfin.scenarios.tradeoffs import speed_assumptions

D = Decimal


def _history() -> tuple[pl.DataFrame, pl.DataFrame]:
    """A: price 100, std 60; 90 units on time, 10 units 1 day late.
    B: price 80, std 50; 195 on time, 5 units 10 days late.
    C: price 20, std 10; 9 on time, 1 unit 30 days late.
    Shipped 310, on time 294, late 16."""
    deliveries = pl.DataFrame(
        [
            ("A", 50.0, -2, D("5000.00")),
            ("A", 40.0, 0, D("4000.00")),
            ("A", 10.0, 1, D("1000.00")),
            ("B", 195.0, -1, D("15600.00")),
            ("B", 5.0, 10, D("400.00")),
            ("C", 9.0, 0, D("180.00")),
            ("C", 1.0, 30, D("20.00")),
        ],
        schema={"product_id": pl.Utf8, "qty": pl.Float64, "days_late": pl.Int64, "revenue": pl.Decimal(18, 2)},
        orient="row",
    )
    products = pl.DataFrame(
        [("A", D("60"), 0.5, D("20")), ("B", D("50"), 1.0, D("20")), ("C", D("10"), 0.1, D("20"))],
        schema={
            "product_id": pl.Utf8,
            "std_unit_cost": pl.Decimal(18, 4),
            "bottleneck_labor_hours": pl.Float64,
            "overtime_premium": pl.Decimal(18, 4),
        },
        orient="row",
    )
    return deliveries, products


def test_each_late_unit_takes_its_cheapest_lever():
    # A, 1 day late: overtime 0.5 h × 20 = 10; expediting 100 × 1 % × 1 = 1;
    #   stock 60 × 25 % × 1/365 × (100 shipped / 10 late) = 150/365 = 0.41 → stock
    # C, 30 days: overtime 0.1 × 20 = 2; expediting 20 × 1 % × 30 = 6; stock 10 × 25 % × 30/365 × 10 = 2.05 → overtime
    # B, 10 days: overtime 1 × 20 = 20; expediting 80 × 1 % × 10 = 8; stock 50 × 25 % × 10/365 × 40 = 13.70 → expediting
    deliveries, products = _history()
    curve = speed_curve(deliveries, products, speed_assumptions(steps=[1, 3, 10]))
    assert [(g.product_id, g.lever) for g in curve.late] == [("A", "stock"), ("C", "overtime"), ("B", "expediting")]
    assert curve.late[0].cost_per_unit == D(150) / D(365)
    assert curve.late[1].cost_per_unit == D(2)
    assert curve.late[2].cost_per_unit == D(8)


def test_the_curve_matches_the_hand_worked_points():
    deliveries, products = _history()
    curve = speed_curve(deliveries, products, speed_assumptions(steps=[1, 3, 10]))
    # at risk: (10 × 40 + 5 × 30 + 1 × 10) × 20 % = 112.00
    assert curve.margin_at_risk == D("112.00")
    assert curve.on_time_delivery == pytest.approx(294 / 310)
    assert curve.late_qty == 16
    rows = {r["step_points"]: r for r in curve.points.to_dicts()}
    assert sorted(rows) == [0, 1, 3, 10]
    assert rows[0]["cost"] == D("0.00") and rows[0]["on_time_delivery"] == pytest.approx(294 / 310)
    # +1 point = 3.1 units, all of A by stock: 3.1 × 150/365 = 1.2740 → 1.27; protected 3.1 × 40 × 20 % = 24.80
    one = rows[1]
    assert one["recovered_qty"] == pytest.approx(3.1)
    assert (one["stock_cost"], one["overtime_cost"], one["expediting_cost"]) == (D("1.27"), D("0.00"), D("0.00"))
    assert (one["margin_protected"], one["net"]) == (D("24.80"), D("23.53"))
    assert one["on_time_delivery"] == pytest.approx(297.1 / 310)
    # +3 points = 9.3 units of A: 1395/365 = 3.8219 → 3.82; protected 74.40
    three = rows[3]
    assert (three["stock_cost"], three["margin_protected"], three["net"]) == (D("3.82"), D("74.40"), D("70.58"))
    # +10 points = 31 units, capped at the 16 late: A 10 (4.11), C 1 by overtime (2.00, 0.1 h), B 5 expedited (40.00)
    ten = rows[10]
    assert ten["recovered_qty"] == 16 and ten["on_time_delivery"] == pytest.approx(1.0)
    assert (ten["stock_cost"], ten["overtime_cost"], ten["expediting_cost"]) == (D("4.11"), D("2.00"), D("40.00"))
    assert ten["overtime_hours"] == pytest.approx(0.1)
    assert (ten["cost"], ten["margin_protected"], ten["net"]) == (D("46.11"), D("112.00"), D("65.89"))


def test_a_higher_share_at_risk_protects_more_margin_at_the_same_cost():
    deliveries, products = _history()
    base = speed_curve(deliveries, products, speed_assumptions(steps=[10]))
    doubled = speed_curve(deliveries, products, speed_assumptions(steps=[10], at_risk_share=0.4))
    assert doubled.margin_at_risk == D("224.00")
    assert doubled.points["cost"].to_list() == base.points["cost"].to_list()


def test_no_late_units_gives_a_flat_curve():
    deliveries, products = _history()
    on_time = deliveries.filter(pl.col("days_late") <= 0)
    curve = speed_curve(on_time, products, speed_assumptions())
    assert curve.margin_at_risk == D("0.00") and curve.late == []
    assert set(curve.points["cost"].to_list()) == {D("0.00")}
    assert curve.points["on_time_delivery"].to_list() == [1.0] * 4


@pytest.mark.parametrize(
    ("values", "field"),
    [({"at_risk_share": 1.5}, "at_risk_share"), ({"holding_rate": -0.1}, "holding_rate"), ({"steps": [0]}, "steps")],
)
def test_bad_assumptions_are_one_clear_error(values, field):
    with pytest.raises(UserError, match=field):
        speed_assumptions(**values)
