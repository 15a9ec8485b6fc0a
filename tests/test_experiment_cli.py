"""`opsfin experiment analyze|list` on a copy of the tiny company (docs/experiments.md): the metric is the
KPI engine's (energy per unit of each work centre, here recomputed by hand with SQL from machine_readings),
and with one treated and one control unit over a balanced panel the DiD effect is the textbook
(treated after − before) − (control after − before) of the monthly values. Errors are one clear line."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest
from tests.cli_support import copy_with_model, run_cli

PAIR = """\
  - name: pair
    unit: work_center
    treated: [P1-ASSY]
    control: [P2-ASSY]
    start: 2024-03
    metrics: [energy_per_unit]
    money:
      energy_per_unit: {unit_value: 0.25, source: energy contract}
"""  # one treated and one control work centre (test_web_invest.py shows it too)
EXPERIMENTS = (
    "experiments:\n"
    + PAIR
    + """\
  - name: matched
    unit: work_center
    treated: [P1-ASSY]
    match: 2
    start: 2024-03
    metrics: [energy_per_unit, scrap_rate]
"""
)


@pytest.fixture(scope="module")
def ws_path(tiny_demo, tmp_path_factory):
    return copy_with_model(tiny_demo, tmp_path_factory.mktemp("experiment"), "experiments.yaml", EXPERIMENTS)


def _cli(capsys, ws_path, *args):
    return run_cli(capsys, "experiment", *args, "-w", str(ws_path))


def _energy_per_unit(ws) -> dict[tuple[str, int], tuple[float, float]]:
    """(work centre, month) → (kWh per good unit, good units), from machine_readings by hand."""
    rows = ws.sql(
        "SELECT m.work_center_id AS wc, month(r.hour_start) AS mo, sum(r.kwh) AS kwh, sum(r.units_good) AS units "
        "FROM machine_readings r JOIN machines m USING (machine_id) GROUP BY 1, 2"
    ).to_dicts()
    return {(r["wc"], r["mo"]): (float(r["kwh"]) / float(r["units"]), float(r["units"])) for r in rows}


def test_the_pair_is_the_textbook_difference_in_differences(capsys, ws_path, tiny_demo):
    code, out, err = _cli(capsys, ws_path, "analyze", "pair", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    (m,) = data["metrics"]
    kpi = _energy_per_unit(tiny_demo)

    def mean(wc, months):
        return sum(kpi[(wc, mo)][0] for mo in months) / len(months)

    before, after = (1, 2), (3, 4)
    treated = mean("P1-ASSY", after) - mean("P1-ASSY", before)
    control = mean("P2-ASSY", after) - mean("P2-ASSY", before)
    assert m["effect"] == pytest.approx(treated - control, rel=1e-9, abs=1e-12)
    assert m["means"]["treated"]["before"] == pytest.approx(mean("P1-ASSY", before), rel=1e-12)
    assert m["means"]["control"]["after"] == pytest.approx(mean("P2-ASSY", after), rel=1e-12)
    assert m["ci_low"] < m["effect"] < m["ci_high"]
    assert m["errors"].startswith("heteroskedasticity-robust")  # one unit a group: no clustering
    # the money: effect × the treated units' good units a year (4 months observed, × 12 / 4) × 0.25
    units = sum(kpi[("P1-ASSY", mo)][1] for mo in (1, 2, 3, 4)) * 3
    assert m["money"]["volume_per_year"] == pytest.approx(units, rel=1e-9)
    amount = Decimal(m["money"]["amount"])
    assert abs(float(amount) - m["effect"] * units * 0.25) <= 0.01
    assert m["money"]["unit_value_source"] == "energy contract"


def test_matched_controls_table_and_list(capsys, ws_path):
    code, out, err = _cli(capsys, ws_path, "analyze", "matched", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["control_chosen_by"] == "matching on the before period"
    assert len(data["control"]) == 2 and "P1-ASSY" not in data["control"]
    assert [m["metric"] for m in data["metrics"]] == ["energy_per_unit", "scrap_rate"]
    assert data["metrics"][1]["money"]["amount"] is None
    code, out, err = _cli(capsys, ws_path, "analyze", "matched")
    assert code == 0 and "energy_per_unit" in out
    code, out, err = _cli(capsys, ws_path, "list", "--format", "json")
    assert code == 0 and [e["name"] for e in json.loads(out)] == ["pair", "matched"]


def test_errors_are_one_clear_line(capsys, ws_path, tmp_path):
    code, out, err = _cli(capsys, ws_path, "analyze", "nope")
    assert code != 0 and "'nope': no such experiment (experiments: pair, matched)" in err
    bad = tmp_path / "ws"
    shutil.copytree(ws_path, bad)
    (bad / "model" / "experiments.yaml").write_text(EXPERIMENTS.replace("[P2-ASSY]", "[P9-ASSY]"))
    code, out, err = _cli(capsys, bad, "analyze", "pair")
    assert code != 0 and "unit 'P9-ASSY' has no work_center rows" in err
    (bad / "model" / "experiments.yaml").write_text(
        EXPERIMENTS.replace("[energy_per_unit, scrap_rate]", "[output_units]")
    )
    code, out, err = _cli(capsys, bad, "analyze", "matched")
    assert code != 0 and "'output_units' is not split by work_center" in err
    (bad / "model" / "experiments.yaml").write_text(EXPERIMENTS.replace("match: 2", "match: 2\n    control: [X]"))
    code, out, err = _cli(capsys, bad, "list")
    assert code != 0 and "experiments[2] (matched)" in err and "either as `control" in err
    assert "Traceback" not in err
