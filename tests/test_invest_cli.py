"""`opsfin invest evaluate|portfolio|check` on the shipped example (examples/investments/investments.yaml)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from tests.cli_support import run_cli

from opsfin import workspace

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "investments" / "investments.yaml"
D = Decimal


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Two empty workspaces: one with the shipped example, one for files written by a test."""
    example = tmp_path_factory.mktemp("invest") / "ws"
    scratch = tmp_path_factory.mktemp("invest") / "scratch"
    workspace.init(example)
    workspace.init(scratch)
    shutil.copy(EXAMPLE, example / "model" / "investments.yaml")
    return example, scratch


def _json(capsys, *args):
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    return json.loads(out)


def test_evaluate_every_case_of_the_example(capsys, folders):
    data = _json(capsys, "invest", "evaluate", "-w", str(folders[0]), "--format", "json")
    assert [c["name"] for c in data["cases"]] == [
        "smed_line2",
        "press_retrofit",
        "press_tooling",
        "mine_reclaim",
        "solar_roof",
    ]


def test_evaluate_the_two_irr_case_by_hand(capsys, folders):
    data = _json(
        capsys, "invest", "evaluate", "mine_reclaim", "--rate", "0.1", "-w", str(folders[0]), "--format", "json"
    )
    (case,) = data["cases"]
    # −1,600 + 10,000 / 1.1 − 10,000 / 1.21 = −773.55 (2026-01-01 → 2027-01-01 → 2028-01-01: 365 days each)
    assert case["npv"] == "-773.55"
    assert case["irr"] == [pytest.approx(0.25, abs=1e-9), pytest.approx(4.0, abs=1e-9)]
    assert "reason" not in case
    assert case["payback_months"] is None  # the running total ends at −1,600
    assert case["cash_flows"] == [
        {"date": "2026-01-01", "amount": "-1600"},
        {"date": "2027-01-01", "amount": "10000"},
        {"date": "2028-01-01", "amount": "-10000"},
    ]
    percent = _json(
        capsys, "invest", "evaluate", "mine_reclaim", "--rate", "10%", "-w", str(folders[0]), "--format", "json"
    )
    assert percent == data


def test_evaluate_table_and_bad_input(capsys, folders):
    code, out, _ = run_cli(capsys, "invest", "evaluate", "-w", str(folders[0]))
    assert code == 0 and "mine_reclaim" in out and "400.00%" in out
    code, _, err = run_cli(capsys, "invest", "evaluate", "--rate", "eight", "-w", str(folders[0]))
    assert code != 0 and "--rate 'eight': use a percent (6%) or a fraction (0.06)" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "invest", "evaluate", "nope", "-w", str(folders[0]))
    assert code != 0 and "'nope': no such investment case" in err


def test_portfolio_against_the_greedy_ranking(capsys, folders):
    ws = str(folders[0])
    npv = {c["name"]: D(c["npv"]) for c in _json(capsys, "invest", "evaluate", "-w", ws, "--format", "json")["cases"]}
    data = _json(capsys, "invest", "portfolio", "--budget", "2026:250000", "-w", ws, "--format", "json")
    # 250,000 buys the press alone (its tooling needs 40,000 more); greedy by PI takes the SMED tooling and the
    # solar roof first (10,000 + 180,000), which excludes the press
    assert data["status"] == "OPTIMAL"
    assert [c["name"] for c in data["best"]["cases"]] == ["press_retrofit"]
    assert [c["name"] for c in data["greedy_by_pi"]["cases"]] == ["smed_line2", "solar_roof"]
    assert D(data["best"]["npv"]) == npv["press_retrofit"]
    assert D(data["left_on_table"]) == npv["press_retrofit"] - npv["smed_line2"] - npv["solar_roof"]
    assert data["best"]["spend"] == [{"year": 2026, "spend": "250000.00", "budget": "250000.00"}]
    code, _, err = run_cli(capsys, "invest", "portfolio", "--budget", "2026=5", "-w", ws)
    assert code != 0 and "expected YEAR:AMOUNT" in err


def test_check_and_refusals(capsys, folders):
    assert _json(capsys, "invest", "check", "-w", str(folders[0]), "--format", "json") == {
        "ok": True,
        "cases": 5,
        "with_effects": 0,
    }
    scratch = folders[1]
    target = scratch / "model" / "investments.yaml"
    effect = {"kind": "scrap", "start": "2026-03", "size": -1}
    case = {"name": "scrap_cut", "capex": [{"month": "2026-01", "amount": 1000}], "life_years": 2, "effects": [effect]}
    target.write_text(yaml.safe_dump({"investments": [case]}))
    code, _, err = run_cli(capsys, "invest", "check", "-w", str(scratch))
    assert code != 0 and "`effects` need `base`" in err
    target.write_text(yaml.safe_dump({"investments": [{**case, "base": "B2030"}]}))
    code, _, err = run_cli(capsys, "invest", "evaluate", "-w", str(scratch))
    assert code != 0 and "case 'scrap_cut' (effects on plan version 'B2030')" in err and "Traceback" not in err
    target.write_text(
        yaml.safe_dump({"investments": [{"name": "x", "cash_flows": [{"date": "2026-01-01", "amount": "a"}]}]})
    )
    code, _, err = run_cli(capsys, "invest", "check", "-w", str(scratch))
    assert code != 0 and "model/investments.yaml: investments[1] (x): field 'cash_flows[1].amount'" in err


def test_effects_run_through_the_scenario_engine(capsys, tiny_demo, tmp_path):
    """A case with driver changes: its flows are the capex, the tax saved by depreciation and the scenario
    engine's operating-income change after tax."""
    from opsfin.invest.effects import effect_flows
    from opsfin.runs.scenarios import base_case
    from opsfin.scenarios.config import Shock

    folder = tmp_path / "ws"
    folder.mkdir()
    for name in ("opsfin.yaml", "warehouse.duckdb"):
        shutil.copy(tiny_demo.path / name, folder / name)
    shutil.copytree(tiny_demo.path / "model", folder / "model")
    effect = {"kind": "scrap", "start": "2024-02", "size": -1}
    case = {
        "name": "scrap_cut",
        "base": "B2024",
        "capex": [{"month": "2024-01", "amount": 36000}],
        "life_years": 1,
        "tax_rate": 0.25,
        "effects": [effect],
    }
    (folder / "model" / "investments.yaml").write_text(yaml.safe_dump({"investments": [case]}))
    data = _json(capsys, "invest", "evaluate", "-w", str(folder), "--format", "json")
    flows = {f["date"]: D(f["amount"]) for f in data["cases"][0]["cash_flows"]}
    with base_case(workspace.open(folder), "B2024") as base:
        delta = effect_flows(base, [Shock.model_validate(effect)], dt.date(2024, 2, 1), 12)
    assert len(delta) == 12 and all(a > 0 for _, a in delta)  # less scrap: more operating income
    # 36,000 out in 2024-01; one year's depreciation 36,000 × 25 % = 9,000 saved on 2025-01-01, the
    # month after the effect's twelve months (2024-02 .. 2025-01), so it adds to that month's flow
    expected = {"2024-01-01": D(-36000)}
    for day, amount in delta:
        expected[day.isoformat()] = expected.get(day.isoformat(), D(0)) + (amount * D("0.75")).quantize(D("0.01"))
    expected["2025-01-01"] += D(9000)
    assert flows == expected
