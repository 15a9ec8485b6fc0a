"""`predict defects`: a planted night shift with double defects ranks first and the defects it explains are
the excess worked by hand; the lot's defect rate so far worked by hand; the CLI on the tiny demo."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import polars as pl
import pytest
from tests.cli_support import run_cli

from opsfin.errors import UserError
from opsfin.predict.defect_features import with_lot_history
from opsfin.predict.defects import _cost, defect_drivers


def night_shift_inspections(n: int = 1200, seed: int = 5) -> pl.DataFrame:
    """Inspections of 100 units; 2 % defective on the early and late shifts, 4 % on the night shift; every
    other column is noise."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        shift = ("S-E", "S-L", "S-N")[i % 3]
        rate = 0.04 if shift == "S-N" else 0.02
        rows.append({
            "inspection_id": f"Q{i}", "qty_inspected": 100.0,
            "qty_defective": float(sum(rng.random() < rate for _ in range(100))),
            "work_center_id": rng.choice(["WC1", "WC2"]), "machine_id": rng.choice(["M1", "M2", "M3"]),
            "shift_id": shift, "product_id": rng.choice(["P1", "P2"]), "supplier_id": rng.choice(["S1", "S2"]),
            "operator_tenure_days": rng.uniform(30, 900), "newest_operator_days": rng.uniform(0, 300),
            "machine_temperature_7d": rng.gauss(60, 1), "machine_vibration_7d": rng.gauss(2, 0.2),
            "machine_days_since_maintenance": float(rng.randint(0, 30)), "lot_defect_rate": rng.uniform(0, 0.05),
            "cost_per_defect": Decimal("10.00"),
        })  # fmt: skip
    return pl.DataFrame(rows)


def test_the_night_shift_ranks_first_and_explains_its_excess_defects():
    result = defect_drivers(night_shift_inspections())
    top = result["drivers"][0]
    assert top["driver"] == "shift_id" and top["worst"] == "S-N" and top["rank"] == 1
    # the average rate is (2 + 2 + 4) / 3 %; the night shift's 400 inspections of 100 units sit 4/3 % above it:
    # 400 × 100 × 4/3 % ≈ 533 defects explained (the noise columns explain little)
    assert top["defects_explained"] == pytest.approx(533, rel=0.12)
    assert top["cost_explained"] == pytest.approx(Decimal(5330), rel=Decimal("0.12"))
    assert all(d["defects_explained"] < top["defects_explained"] / 3 for d in result["drivers"][1:])
    assert result["inspections"] == 1200 and result["cost_of_defects"] == Decimal(str(result["defects"])) * 10


def test_a_group_of_columns_is_priced_as_one_driver():
    result = defect_drivers(night_shift_inspections())
    groups = {g["group"]: g for g in result["groups"]}
    assert [g["rank"] for g in result["groups"]] == list(range(1, 8))
    assert result["groups"][0]["group"] == "shift"  # the planted cause, first as a column and as a group
    # a group of one column is that column; the machine-condition group sums its three columns'
    # contributions per inspection before the positive part, so it explains at most what they do apart
    by_driver = {d["driver"]: d for d in result["drivers"]}
    assert groups["shift"]["defects_explained"] == by_driver["shift_id"]["defects_explained"]
    assert groups["shift"]["cost_explained"] == by_driver["shift_id"]["cost_explained"]
    condition = groups["machine condition"]
    assert condition["drivers"] == ["machine_temperature_7d", "machine_vibration_7d", "machine_days_since_maintenance"]
    assert condition["defects_explained"] <= sum(by_driver[d]["defects_explained"] for d in condition["drivers"]) + 0.2


def test_the_cost_of_defects_by_hand():
    # 1.5 defects of a 10.00 product and 2.25 of a 4.00 one: 15 + 9
    got = _cost([0.5, 1.0, 2.25], pl.Series([Decimal("10.00"), Decimal("10.00"), Decimal("4.00")]))
    assert got == Decimal("24.00")


def test_too_few_inspections_is_a_user_error():
    with pytest.raises(UserError, match="too few inspections"):
        defect_drivers(night_shift_inspections(n=30))


def test_the_cli_on_the_tiny_demo(tiny_demo, capsys):
    code, out, err = run_cli(capsys, "predict", "defects", "--format", "json", "-w", str(tiny_demo.path))
    assert code == 0, err
    got = json.loads(out)
    assert {"from", "to", "inspections", "defects", "cost_of_defects", "drivers"} <= set(got)
    assert [d["rank"] for d in got["drivers"]] == list(range(1, 12))
    assert [g["rank"] for g in got["groups"]] == list(range(1, 8))
    costs = [Decimal(d["cost_explained"]) for d in got["drivers"]]
    assert costs == sorted(costs, reverse=True)
    code, out, err = run_cli(
        capsys, "predict", "defects", "--from", "2024-05-01", "--to", "2024-04-01", "-w", str(tiny_demo.path)
    )
    assert code == 2 and "--from 2024-05-01 is after --to 2024-04-01" in err


def test_the_lot_defect_rate_counts_only_work_inspected_before_the_work_began():
    def t(hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2025, 3, 3, hour, minute)

    rows = [
        # inspection, lot, work began, inspected, inspected units, defective units
        ("A", "L1", t(8), t(10), 100.0, 4.0),
        ("B", "L1", t(9), t(11), 50.0, 1.0),
        ("C", "L1", t(11), t(12), 100.0, 10.0),
        ("D", "L1", t(12, 30), t(13), 20.0, 0.0),
        ("G", "L1", t(9, 30), t(20), 10.0, 10.0),
        ("E", "L2", t(13), t(14), 40.0, 2.0),
        ("F", None, t(14), t(15), 40.0, 2.0),
    ]
    frame = pl.DataFrame(
        rows,
        orient="row",
        schema=["inspection_id", "lot_id", "worked_at", "inspected_at", "qty_inspected", "qty_defective"],
    )
    got = dict(with_lot_history(frame).select("inspection_id", "lot_defect_rate").iter_rows())
    # A: nothing inspected before 8:00; B (9:00) and G (9:30): A is inspected only at 10:00
    assert got["A"] is None and got["B"] is None and got["G"] is None
    # C began at 11:00: A (10:00) only; B inspected at 11:00 is not strictly before: 4 / 100
    assert got["C"] == pytest.approx(0.04)
    # D began at 12:30: A, B and C (12:00), not G (inspected at 20:00, later): (4 + 1 + 10) / (100 + 50 + 100)
    assert got["D"] == pytest.approx(15 / 250)
    # E's lot has no earlier work (L1's does not count); F has no lot
    assert got["E"] is None and got["F"] is None
    assert with_lot_history(frame)["inspection_id"].to_list() == ["A", "B", "C", "D", "G", "E", "F"]
