"""`predict defects`: a planted night shift with double defects ranks first and the defects it explains are
the excess worked by hand; the CLI on the tiny demo."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import polars as pl
import pytest
from tests.cli_support import run_cli

from opsfin.errors import UserError
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
            "machine_days_since_maintenance": float(rng.randint(0, 30)), "cost_per_defect": Decimal("10.00"),
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
    assert [d["rank"] for d in got["drivers"]] == list(range(1, 11))
    assert [g["rank"] for g in got["groups"]] == list(range(1, 8))
    costs = [Decimal(d["cost_explained"]) for d in got["drivers"]]
    assert costs == sorted(costs, reverse=True)
    code, out, err = run_cli(
        capsys, "predict", "defects", "--from", "2024-05-01", "--to", "2024-04-01", "-w", str(tiny_demo.path)
    )
    assert code == 2 and "--from 2024-05-01 is after --to 2024-04-01" in err
