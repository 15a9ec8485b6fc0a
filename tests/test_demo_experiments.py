"""The demo's setup-reduction experiment and its placebo (demo/experiments.py, docs/experiments.md
"Evaluation on the demo company") on the tiny company, seed 7: the truth is written and the experiments
are shipped in model/experiments.yaml; `opsfin eval experiments` finds the injected effect inside the
experiment's 95 % interval (and told apart from zero) and zero inside the placebo's. The cut itself is
checked by hand on the operations: the treated lines' setups are 70 % of the drawn ones, so their setup
minutes per step fall against the other work centres'."""

from __future__ import annotations

import json

import pytest
from tests.cli_support import run_cli

from opsfin.demo.experiments import SETUP_CUT


@pytest.fixture(scope="module")
def truth(tiny_demo):
    return json.loads((tiny_demo.path / "truth" / "experiments.json").read_text(encoding="utf-8"))


def test_the_truth_names_an_experiment_and_a_placebo_on_lines_of_two_plants(truth, tiny_demo):
    kinds = {(r["kind"], r["metric"]) for r in truth}
    assert kinds == {(k, m) for k in ("experiment", "placebo") for m in ("setup_time", "cycle_time")}
    real = next(r for r in truth if r["kind"] == "experiment" and r["metric"] == "setup_time")
    placebo = next(r for r in truth if r["kind"] == "placebo" and r["metric"] == "setup_time")
    assert len(real["treated"]) == 2 and len(placebo["treated"]) == 2
    assert {w.split("-")[0] for w in real["treated"]} != {w.split("-")[0] for w in placebo["treated"]}
    assert all(r["effect"] == 0.0 for r in truth if r["kind"] == "placebo")
    # tiny: 4 months, so the window is 2 before and 2 after; the start is the third month
    assert (real["start"], real["before_months"], real["after_months"]) == ("2024-03", 2, 2)


def test_the_injected_effect_is_thirty_percent_of_the_treated_setups(truth, tiny_demo):
    """By hand from operations: the true effect is −0.3 × the setup minutes the treated steps would have
    had, so it lies between −0.3 × the largest and −0.3 × the smallest (uncut) monthly mean."""
    real = next(r for r in truth if r["kind"] == "experiment" and r["metric"] == "setup_time")
    wcs = ", ".join(f"'{w}'" for w in real["treated"])
    rows = tiny_demo.sql(
        "SELECT work_center_id AS wc, month(end_at) AS mo, avg(setup_minutes) AS setup FROM operations "
        f"WHERE setup_minutes > 0 AND work_center_id IN ({wcs}) AND month(end_at) >= 3 GROUP BY 1, 2"
    ).to_dicts()
    uncut = [r["setup"] / (1 - SETUP_CUT) for r in rows]
    assert len(uncut) == 4  # 2 lines × 2 months
    assert -SETUP_CUT * max(uncut) - 0.1 <= real["effect"] <= -SETUP_CUT * min(uncut) + 0.1
    assert real["effect"] < -5  # minutes per setup: large against the month-to-month noise


def test_the_shipped_experiments_are_analysed_against_their_truth(capsys, tiny_demo, truth):
    code, out, err = run_cli(capsys, "eval", "experiments", "-w", str(tiny_demo.path), "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["records"] == len(truth) == 4
    for row in result["rows"]:
        assert row["ci_low"] <= row["true_effect"] <= row["ci_high"], row
        assert row["contains_truth"]
    real = next(r for r in result["rows"] if r["kind"] == "experiment" and r["metric"] == "setup_time")
    assert real["ci_high"] < 0  # the setup reduction is told apart from zero
    placebo = next(r for r in result["rows"] if r["kind"] == "placebo" and r["metric"] == "setup_time")
    assert placebo["true_effect"] == 0.0 and placebo["ci_low"] < 0 < placebo["ci_high"]


def test_the_table_says_how_many_intervals_hold_the_truth(capsys, tiny_demo):
    code, out, err = run_cli(capsys, "eval", "experiments", "-w", str(tiny_demo.path))
    assert code == 0, err
    assert "setup_reduction_" in out and "placebo_" in out
    assert "4 of 4 intervals contain the true effect" in err


def test_a_workspace_without_the_truth_is_one_clear_error(capsys, tmp_path):
    import opsfin

    ws = opsfin.init(tmp_path / "ws")
    code, _out, err = run_cli(capsys, "eval", "experiments", "-w", str(ws.path))
    assert code != 0
    assert "truth/experiments.json not found" in err and "Traceback" not in err


def test_the_score_counts_a_placebo_against_zero_and_refuses_a_bad_file():
    from opsfin.errors import UserError
    from opsfin.evaluation.experiments import check_records, score

    def report(effect, low, high):
        pre = {"failed": False}
        return {
            "metrics": [{"metric": "setup_time", "effect": effect, "ci_low": low, "ci_high": high, "pre_trend": pre}]
        }

    records = [
        {"experiment": "a", "kind": "experiment", "metric": "setup_time", "effect": -9.0},
        {"experiment": "p", "kind": "placebo", "metric": "setup_time", "effect": 0.0},
    ]
    # a: −9 inside −12 … −8; p: 0 outside 0.5 … 3 (a placebo that finds an effect fails)
    got = score(check_records(records, "t"), {"a": report(-10.0, -12.0, -8.0), "p": report(1.7, 0.5, 3.0)})
    assert [r["contains_truth"] for r in got["rows"]] == [True, False]
    assert (got["contained"], got["records"]) == (1, 2)
    with pytest.raises(UserError, match="record 1 lacks effect"):
        check_records([{"experiment": "a", "kind": "experiment", "metric": "m"}], "truth/experiments.json")
    with pytest.raises(UserError, match="neither experiment nor placebo"):
        check_records([{**records[0], "kind": "pilot"}], "truth/experiments.json")
