"""`predict defects`: a planted night shift with double defects ranks first and the defects it explains are
the excess worked by hand; the lot's defect rate so far worked by hand; where a numeric driver's effect sits,
its shares worked by hand, and a supplier's bad lots named through the lot's defect rate; the CLI on the
tiny demo."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from tests.cli_support import run_cli

from opsfin.cli import predict_cmds
from opsfin.cli.options import OutputFormat
from opsfin.cli.predict_cmds import _driver_rows, _where_lines
from opsfin.errors import UserError
from opsfin.predict.defect_features import with_lot_history
from opsfin.predict.defects import _cost, _where, defect_drivers


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


def blocks(*spec: tuple[dict[str, str | None], int, float, float]) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """(members, contribution, qty) from blocks of (members, inspections, units each, contribution each)."""
    members, contribution, qty = [], [], []
    for member, inspections, units, c in spec:
        members += [member] * inspections
        contribution += [c] * inspections
        qty += [units] * inspections
    return pl.DataFrame(members), np.array(contribution), np.array(qty)


def test_where_is_the_member_with_the_highest_lift_not_the_largest_share():
    members, contribution, qty = blocks(
        ({"supplier_id": "S1"}, 60, 10.0, 0.05),  # 60 × 10 × 0.05 = 30 defects explained on 600 units
        ({"supplier_id": "S2"}, 120, 10.0, 0.04),  # 48 on 1,200
        ({"supplier_id": "S3"}, 120, 10.0, -0.02),  # lowers the rate: explains none, on 1,200
    )
    # 78 explained on 3,000 units: S1 30/78 = 38.46 % on 20 % (lift 1.92); S2 holds more of them, 61.54 %,
    # but on 40 % of the units (lift 1.54); S3 none
    assert _where(members, contribution, qty) == {
        "column": "supplier_id", "member": "S1", "share_of_explained": 0.3846, "share_of_inspected": 0.2
    }  # fmt: skip


def test_where_leaves_out_small_members_a_missing_one_and_a_small_share():
    members, contribution, qty = blocks(
        ({"supplier_id": "S1"}, 60, 10.0, 0.08),  # 48 on 600
        ({"supplier_id": "S2"}, 120, 10.0, 0.03),  # 36 on 1,200
        ({"supplier_id": "S3"}, 100, 10.0, -0.02),  # 0 on 1,000
        ({"supplier_id": "S4"}, 40, 10.0, 0.10),  # 40 on 400, but 40 inspections: fewer than a leaf's 50
        ({"supplier_id": None}, 60, 10.0, 0.10),  # 60 on 600, no supplier
        ({"supplier_id": "S5"}, 50, 1.0, 0.10),  # 5 on 50: under 5 % of the defects explained
    )
    # 189 explained on 3,850 units: S4, the missing supplier and S5 each have a lift of 2.04
    # (40/189 ÷ 400/3,850 …); S1 48/189 = 25.40 % on 600/3,850 = 15.58 % (lift 1.63) is named
    assert _where(members, contribution, qty) == {
        "column": "supplier_id", "member": "S1", "share_of_explained": 0.254, "share_of_inspected": 0.1558
    }  # fmt: skip


def test_where_takes_the_best_lift_over_the_columns_and_a_lift_of_1_5_is_not_enough():
    members, contribution, qty = blocks(
        ({"work_center_id": "W1", "shift_id": "A"}, 60, 10.0, 0.06),  # 36 on 600
        ({"work_center_id": "W1", "shift_id": "B"}, 60, 10.0, 0.0),
        ({"work_center_id": "W2", "shift_id": "A"}, 60, 10.0, 0.02),  # 12 on 600
        ({"work_center_id": "W2", "shift_id": "B"}, 60, 10.0, -0.01),
    )
    # 48 on 2,400: W1 has 36/48 = 75 % on 50 % (lift 1.5 exactly: not above it); shift A all 48 on 50 %
    assert _where(members, contribution, qty) == {
        "column": "shift_id", "member": "A", "share_of_explained": 1.0, "share_of_inspected": 0.5
    }  # fmt: skip
    assert _where(members.select("work_center_id"), contribution, qty) is None


def test_where_is_null_when_the_effect_is_spread_evenly_or_there_is_none():
    members, contribution, qty = blocks(
        ({"supplier_id": "S1"}, 60, 10.0, 0.02),
        ({"supplier_id": "S2"}, 60, 10.0, -0.01),
        ({"supplier_id": "S1"}, 120, 5.0, -0.01),
        ({"supplier_id": "S2"}, 120, 5.0, 0.02),
    )
    # each supplier: 12 of the 24 defects explained on 1,200 of the 2,400 units (lift 1)
    assert _where(members, contribution, qty) is None
    assert _where(members, np.minimum(contribution, 0.0), qty) is None  # nothing explained
    assert _where(members.select(), contribution, qty) is None  # no column to say it over


def bad_lot_inspections(bad_suppliers: tuple[str, ...], n: int = 1200, seed: int = 11) -> pl.DataFrame:
    """Inspections of 100 units whose lots come from S1, S2 or S3 by turns; the lots of `bad_suppliers` are bad
    in turn (every other lot), their work 8 % defective against 2 %; the lot's defect rate so far is known within
    a point; every other column is noise."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        supplier, lot = ("S1", "S2", "S3")[i % 3], i // 30
        rate = 0.08 if supplier in bad_suppliers and lot % 2 == 0 else 0.02
        rows.append({
            "qty_inspected": 100.0, "qty_defective": float(sum(rng.random() < rate for _ in range(100))),
            "work_center_id": rng.choice(["WC1", "WC2"]), "machine_id": rng.choice(["M1", "M2", "M3"]),
            "shift_id": rng.choice(["S-E", "S-L"]), "product_id": rng.choice(["P1", "P2"]), "supplier_id": supplier,
            "operator_tenure_days": rng.uniform(30, 900), "newest_operator_days": rng.uniform(0, 300),
            "machine_temperature_7d": rng.gauss(60, 1), "machine_vibration_7d": rng.gauss(2, 0.2),
            "machine_days_since_maintenance": float(rng.randint(0, 30)),
            "lot_defect_rate": rate + rng.uniform(-0.01, 0.01), "cost_per_defect": Decimal("10.00"),
        })  # fmt: skip
    return pl.DataFrame(rows)


def test_a_suppliers_bad_lots_are_named_where_the_lots_defect_rate_sits():
    by_driver = {d["driver"]: d for d in defect_drivers(bad_lot_inspections(("S1",)))["drivers"]}
    lots = by_driver["lot_defect_rate"]
    assert lots["rank"] == 1 and lots["worst"] == "higher values"
    # the average rate is (8 + 2 + 2 + 2 + 2 + 2) / 6 = 3 %; S1's bad lots, 200 inspections of 100 units, sit
    # 5 points above it: about 1,000 defects, all of them on S1's work, a third of the units
    assert lots["defects_explained"] == pytest.approx(1000, rel=0.15)
    assert lots["where"]["column"] == "supplier_id" and lots["where"]["member"] == "S1"
    assert lots["where"]["share_of_inspected"] == 0.3333 and lots["where"]["share_of_explained"] > 0.9
    assert all(d["where"] is None for d in by_driver.values() if d["driver"] in ("supplier_id", "shift_id"))


def test_bad_lots_from_every_supplier_name_none():
    lots = next(d for d in defect_drivers(bad_lot_inspections(("S1", "S2", "S3")))["drivers"] if d["rank"] == 1)
    assert lots["driver"] == "lot_defect_rate" and lots["where"] is None


def where_result() -> dict:
    where = {"column": "supplier_id", "member": "SUP-001", "share_of_explained": 0.9402, "share_of_inspected": 0.1771}
    return {"from": dt.date(2025, 1, 1), "to": dt.date(2025, 12, 31), "drivers": [
        {"rank": 1, "driver": "lot_defect_rate", "group": "material", "meaning": "…", "worst": "higher values",
         "where": where, "defects_explained": 1829.9, "share_of_defects": 0.1051, "cost_explained": Decimal("5.00")},
        {"rank": 2, "driver": "shift_id", "group": "shift", "meaning": "…", "worst": "P2-L", "where": None,
         "defects_explained": 1720.7, "share_of_defects": 0.0988, "cost_explained": Decimal("4.00")},
    ]}  # fmt: skip


def test_the_table_says_where_and_the_csv_keeps_its_shares():
    result = where_result()
    table = _driver_rows(result, OutputFormat.table)
    assert [r["worst"] for r in table] == ["higher values at SUP-001", "P2-L"] and "where" not in table[0]
    assert _where_lines(result) == [
        "lot_defect_rate: 94.0% of the defects it explains are at supplier_id SUP-001, which has 17.7% of the "
        "units inspected"
    ]
    csv = _driver_rows(result, OutputFormat.csv)
    assert csv[0]["worst"] == "higher values" and csv[0]["where_member"] == "SUP-001"
    assert csv[0]["where_share_of_explained"] == 0.9402 and csv[1]["where_column"] is None


def test_the_table_at_80_columns_shows_where(tiny_demo, capsys, monkeypatch):
    monkeypatch.setattr("opsfin.runs.predict_defects.predict_defects", lambda _ws, _start, _end: where_result())
    monkeypatch.setattr(predict_cmds.console, "_width", 80)
    code, out, err = run_cli(capsys, "predict", "defects", "-w", str(tiny_demo.path))
    assert code == 0, err
    assert "at SUP-001" in out and all(len(line) <= 80 for line in out.splitlines())
    assert "94.0% of the defects it explains are at supplier_id" in " ".join(out.split())
