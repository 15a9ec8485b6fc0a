"""`opsfin invest review NAME` on a copy of the tiny company (docs/investments.md "Post-investment
review"): the realised effect is the textbook difference-in-differences of the KPI's monthly values
(energy per unit recomputed by hand with SQL from machine_readings), the savings so far and the NPV
re-estimated on the realisation are worked by hand; the promised NPV is `opsfin invest evaluate`'s."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tests.cli_support import copy_with_model, run_cli
from tests.test_experiment_cli import _energy_per_unit

FLOWS_ONLY = """\
  - name: flows_only
    cash_flows:
      - {date: 2024-01-01, amount: -10000}
      - {date: 2024-12-31, amount: 6000}
      - {date: 2025-12-31, amount: 6000}
    review:
      unit: work_center
      treated: [P1-ASSY]
      control: [P2-ASSY]
      go_live: 2024-03
      kpis:
        - {kpi: energy_per_unit, promised: 0.1, unit_value: 0.18}
"""  # a case of cash flows with a review (test_web_invest.py appends it too)
CASES = (
    """\
investments:
  - name: press
    capex: [{month: 2024-01, amount: 20000}]
    life_years: 1
    base: B2024
    effects:
      - {kind: energy_price, scope: {work_centers: [P1-ASSY]}, start: 2024-03, size: -10}
    review:
      unit: work_center
      treated: [P1-ASSY]
      match: 2
      go_live: 2024-03
      kpis:
        - {kpi: energy_per_unit, promised: -0.25}
"""
    + FLOWS_ONLY
    + """\
  - name: unreviewed
    cash_flows:
      - {date: 2024-01-01, amount: -10}
      - {date: 2024-12-31, amount: 20}
"""
)


@pytest.fixture(scope="module")
def ws_path(tiny_demo, tmp_path_factory):
    return copy_with_model(tiny_demo, tmp_path_factory.mktemp("review"), "investments.yaml", CASES)


def _cli(capsys, ws_path, *args):
    return run_cli(capsys, "invest", *args, "-w", str(ws_path))


def test_the_review_of_a_cash_flow_case_by_hand(capsys, ws_path, tiny_demo):
    code, out, err = _cli(capsys, ws_path, "review", "flows_only", "--rate", "0.08", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    kpi = _energy_per_unit(tiny_demo)

    def change(wc):
        return (kpi[(wc, 3)][0] + kpi[(wc, 4)][0]) / 2 - (kpi[(wc, 1)][0] + kpi[(wc, 2)][0]) / 2

    (k,) = data["kpis"]
    effect = change("P1-ASSY") - change("P2-ASSY")
    assert k["realised"]["effect"] == pytest.approx(effect, rel=1e-9)
    ratio = effect / 0.1
    assert data["realisation"] == pytest.approx(ratio, rel=1e-9)
    # savings so far: effect × P1-ASSY's good units of March and April × 0.18, a saving when it falls
    units = kpi[("P1-ASSY", 3)][1] + kpi[("P1-ASSY", 4)][1]
    assert abs(float(k["savings_so_far"]["amount"]) - (-effect * units * 0.18)) <= 0.01
    # the NPV: −10,000 now, 6,000 × realisation after 365 and 730 days, at 8 % (actual/365)
    inflow = float(round(Decimal(6000) * Decimal(repr(ratio)), 2))
    expected = -10000 + inflow / 1.08 + inflow / 1.08**2
    assert float(data["npv"]["realised"]) == pytest.approx(expected, abs=0.01)
    assert float(data["npv"]["promised"]) == pytest.approx(-10000 + 6000 / 1.08 + 6000 / 1.08**2, abs=0.01)


def test_an_effects_case_promises_what_evaluate_says(capsys, ws_path):
    code, out, err = _cli(capsys, ws_path, "review", "press", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["control_chosen_by"] == "matching on the before period" and len(data["control"]) == 2
    code, out2, err = _cli(capsys, ws_path, "evaluate", "press", "--format", "json")
    assert code == 0, err
    (case,) = json.loads(out2)["cases"]
    assert data["npv"]["promised"] == case["npv"]
    assert data["kpis"][0]["savings_so_far"]["amount"] is None
    if data["realisation"] != pytest.approx(1.0):
        assert data["npv"]["realised"] != data["npv"]["promised"]


def test_errors_are_one_clear_line(capsys, ws_path):
    code, out, err = _cli(capsys, ws_path, "review", "unreviewed")
    assert code != 0 and "case 'unreviewed' has no `review:`" in err
    code, out, err = _cli(capsys, ws_path, "review", "nope")
    assert code != 0 and "'nope': no such investment case" in err
    assert "Traceback" not in err
