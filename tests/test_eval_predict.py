"""`opsfin eval predict`: the backtest's figures worked by hand on a few points, a defect cause found by the
driver whose worst, name, group or where names it, and the command on the tiny demo."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
from tests.cli_support import run_cli

from opsfin.evaluation.detection import Truth
from opsfin.evaluation.predict import score_backtest
from opsfin.runs.predict_eval import match_cause

D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 15)


def points() -> pl.DataFrame:
    rows = [
        # as_of, machine, risk, baseline, breakdowns, recommendation, breakdown cost, planned cost
        (D1, "A", 0.9, 1.0, 2, "maintain_now", "1000.00", "300.00"),
        (D1, "B", 0.2, 3.0, 0, "ok", "500.00", "100.00"),
        (D1, "C", 0.6, 0.0, 1, "monitor", "800.00", "600.00"),
        (D2, "A", 0.1, 2.0, 0, "ok", "1000.00", "300.00"),
        (D2, "B", 0.3, 0.0, 0, "maintain_now", "500.00", "100.00"),
        (D2, "C", 0.7, 1.0, 1, "monitor", "800.00", "600.00"),
    ]
    frame = pl.DataFrame(rows, orient="row", schema=["as_of", "machine_id", "risk", "baseline", "breakdowns",
                                                     "recommendation", "breakdown_cost", "planned_maintenance_cost"])  # fmt: skip
    return frame.with_columns(
        broke_down=(pl.col("breakdowns") > 0).cast(pl.Int64),
        breakdown_cost=pl.col("breakdown_cost").cast(pl.Decimal(18, 2)),
        planned_maintenance_cost=pl.col("planned_maintenance_cost").cast(pl.Decimal(18, 2)),
    )


def test_the_backtest_figures_by_hand():
    truth = [Truth("A0001", "rising_breakdowns", "availability", "C", dt.date(2025, 3, 10), dt.date(2025, 4, 1))]
    got = score_backtest(points(), truth, Decimal("0.5"))
    # risk orders the three breakdown points (0.9, 0.7, 0.6) above the three others: a perfect ranking
    assert got["ranking"]["risk"] == {"pr_auc": 1.0, "roc_auc": 1.0}
    # baseline: positives 1, 0, 1 against negatives 3, 2, 0 → each 1 beats only the 0 (2 pairs), the 0 ties
    # with the 0 (half a pair): 2.5 of 9 pairs
    assert got["ranking"]["baseline"]["roc_auc"] == round(2.5 / 9, 4)
    money = got["money"]
    # run to failure: 2 × 1000 + 800 + 800 = 3600; following: A maintained on D1 (300 + half of 2000) and
    # B on D2 (100, no breakdown), C's two failures paid in full: 300 + 1000 + 100 + 1600 = 3000
    assert money["run_to_failure"] == Decimal("3600.00")
    assert money["following_recommendations"] == Decimal("3000.00")
    assert money["saving"] == Decimal("600.00") and money["planned_maintenances"] == 2
    # planned spend 400 against the 2000 of failures that followed the maintained points
    assert money["break_even_prevented_share"] == 0.2
    # C is in its window on D2 only, where it has the highest risk (rank 1) and ties for 2nd by baseline
    (c,) = got["rising_breakdowns"]
    assert (c["as_of_dates"], c["mean_rank_by_risk"], c["mean_rank_by_baseline"]) == (1, 1.0, 2.0)


def test_a_defect_cause_is_found_at_the_best_ranked_driver_that_names_it():
    def driver(rank: int, name: str, group: str, worst: str | None, member: str | None = None) -> dict:
        where = {"column": "supplier_id", "member": member, "share_of_explained": 0.9, "share_of_inspected": 0.2}
        return {"rank": rank, "driver": name, "group": group, "worst": worst, "where": where if member else None}

    drivers = [
        driver(11, "supplier_id", "material", "SUP-001"),
        driver(2, "shift_id", "shift", "P2-L"),
        driver(4, "lot_defect_rate", "material", "higher values", "SUP-001"),
        driver(3, "machine_temperature_7d", "machine condition", "higher values", "P2-L"),
    ]
    # the supplier's worst member is SUP-001 at rank 11, but the lot's defect rate sits on it at rank 4
    hit, by = match_cause("SUP-001", drivers)
    assert (hit["rank"], by) == (4, "where")
    # P2-L is the shift's worst at rank 2, before the temperature's where at 3
    hit, by = match_cause("P2-L", drivers)
    assert (hit["rank"], by) == (2, "worst")
    assert match_cause("machine condition", drivers)[1] == "group"
    assert match_cause("lot_defect_rate", drivers)[1] == "driver"
    assert match_cause("SUP-009", drivers) == (None, None)


def test_eval_predict_on_the_tiny_demo(tiny_demo, capsys):
    code, out, err = run_cli(capsys, "eval", "predict", "--format", "json", "-w", str(tiny_demo.path))
    assert code == 0, err
    got = json.loads(out)
    m = got["maintenance"]
    machines = tiny_demo.sql("SELECT count(DISTINCT machine_id) AS n FROM machine_readings")["n"][0]
    assert len(got["as_of_dates"]) >= 2 and m["ranking"]["points"] == machines * len(got["as_of_dates"])
    assert Decimal(m["money"]["saving"]) == Decimal(m["money"]["run_to_failure"]) - Decimal(
        m["money"]["following_recommendations"]
    )
    assert got["defects"]["summary"].startswith("defect drivers")
    # the hot machines and the late shift rank among the top 5 of the 11 drivers (and the top 4 of the 7
    # groups); the new operator among the top 6 (top 5 groups): on the tiny company the crew's tenure ties
    # with the lot's defect rate so far, which is noise there (too few lots, too few defects). The
    # supplier's bad lots cannot show: each of its 6 products' main material comes from one supplier, so
    # the supplier is the product (docs/predict.md "Quality defects")
    causes = {c["kind"]: c for c in got["defects"]["causes"]}
    assert set(causes) == {"defect_machine_wear", "defect_late_shift", "defect_supplier_lots", "defect_new_operator"}
    for kind, top, top_group in (
        ("defect_machine_wear", 5, 4), ("defect_late_shift", 5, 4), ("defect_new_operator", 6, 5)
    ):  # fmt: skip
        assert causes[kind]["rank"] <= top and causes[kind]["of"] == 11, causes[kind]
        assert causes[kind]["group_rank"] <= top_group and causes[kind]["groups"] == 7, causes[kind]
    assert (
        causes["defect_late_shift"]["matched_by"] == "worst" and causes["defect_new_operator"]["matched_by"] == "group"
    )
    code, out, err = run_cli(capsys, "eval", "predict", "--prevented-share", "1.5", "-w", str(tiny_demo.path))
    assert code == 2 and "--prevented-share" in err
