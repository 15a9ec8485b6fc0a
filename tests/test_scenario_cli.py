"""`opsfin scenario run|list|check` on a copy of the tiny company (docs/scenarios.md "Running a scenario"):
the JSON shape, the version `<base>+<name>` stored with an audit entry, and clear errors."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest

from cli_support import copy_with_model, run_cli
from opsfin import workspace

OUTAGE = """\
  - name: outage
    base: B2024
    description: assembly at P1 down for most of February
    shocks:
      - {kind: capacity, scope: {work_centers: [P1-ASSY]}, start: 2024-02, end: 2024-02, size: 400}
      - {kind: fixed_cost, scope: {sites: [P1]}, start: 2024-03, size: 1000}
"""  # a month's outage at P1 and a fixed cost (test_web_scenarios.py has it too)
SCENARIOS = "scenarios:\n" + OUTAGE + "  - name: quiet\n    base: B2024\n"


@pytest.fixture(scope="module")
def ws_path(tiny_demo, tmp_path_factory):
    return copy_with_model(tiny_demo, tmp_path_factory.mktemp("scenario"), "scenarios.yaml", SCENARIOS)


def _cli(capsys, ws_path, *args):
    return run_cli(capsys, "scenario", *args, "-w", str(ws_path))


def test_run_prints_the_documented_json_and_stores_the_version(capsys, ws_path):
    code, out, err = _cli(capsys, ws_path, "run", "outage", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"scenario", "base", "pnl", "capacity", "cash", "lost_sales"}
    assert (data["scenario"], data["base"]) == ("outage", "B2024")
    assert set(data["pnl"][0]) == {"period", "site_id", "line", "base", "scenario", "delta"}
    assert set(data["capacity"][0]) == {"period", "work_center_id", "base", "scenario", "delta"}
    assert set(data["cash"][0]) == {"period", "base", "scenario", "delta"}
    assert data["lost_sales"] and set(data["lost_sales"][0]) == {
        "period",
        "product_id",
        "qty",
        "contribution",
        "reason",
    }
    assert all(r["period"] == "2024-02" for r in data["lost_sales"])
    assert "P1-ASSY (bottleneck)" in data["lost_sales"][0]["reason"]
    for r in data["pnl"]:
        assert Decimal(r["scenario"]) - Decimal(r["base"]) == Decimal(r["delta"])
    opex = [r for r in data["pnl"] if r["line"] == "opex" and r["site_id"] == "P1"]
    assert {r["period"]: Decimal(r["delta"]) for r in opex} == {
        "2024-01": 0,
        "2024-02": 0,
        "2024-03": Decimal("1000.00"),
        "2024-04": Decimal("1000.00"),
    }
    assert "… base B2024" in err  # progress on stderr
    ws = workspace.open(ws_path)
    n = ws.sql("SELECT count(*) AS n FROM plan_pnl WHERE version = 'B2024+outage'")["n"][0]
    assert n == len(data["pnl"])
    from opsfin.appdb import open_app_db

    db = open_app_db(ws)
    assert db.plan_version("B2024+outage")["kind"] == "scenario"
    assert [e["object_id"] for e in db.audit_entries() if e["action"] == "scenario.run"] == ["B2024+outage"]


def test_run_table_and_a_scenario_without_shocks(capsys, ws_path):
    code, out, err = _cli(capsys, ws_path, "run", "quiet")
    assert code == 0, err
    assert "Scenario quiet against B2024" in out and "operating_income" in out
    code, out, err = _cli(capsys, ws_path, "run", "quiet", "--format", "json")
    data = json.loads(out)
    assert all(Decimal(r["delta"]) == 0 for r in data["pnl"] + data["cash"])
    assert all(r["delta"] == 0 for r in data["capacity"]) and data["lost_sales"] == []


def test_list_and_check(capsys, ws_path):
    code, out, err = _cli(capsys, ws_path, "list", "--format", "json")
    assert code == 0, err
    assert [(r["name"], r["version"]) for r in json.loads(out)] == [
        ("outage", "B2024+outage"),
        ("quiet", "B2024+quiet"),
    ]
    code, out, err = _cli(capsys, ws_path, "check", "--format", "json")
    assert code == 0 and json.loads(out) == {"ok": True, "scenarios": 2, "shocks": 2}


def test_errors_are_one_clear_line(capsys, ws_path, tmp_path):
    code, out, err = _cli(capsys, ws_path, "run", "nope")
    assert code != 0 and "'nope': no such scenario (scenarios: outage, quiet)" in err
    bad = tmp_path / "ws"
    shutil.copytree(ws_path, bad)
    (bad / "model" / "scenarios.yaml").write_text(SCENARIOS.replace("[P1-ASSY]", "[P9-ASSY]"))
    code, out, err = _cli(capsys, bad, "check")
    assert code != 0
    assert "scenarios[1] (outage): field 'shocks[1].scope.work_centers': unknown work center 'P9-ASSY'" in err
    assert "Traceback" not in err
    (bad / "model" / "scenarios.yaml").write_text(
        SCENARIOS.replace("{kind: fixed_cost, scope: {sites: [P1]}", "{kind: fx, scope: {currencies: [EUR]}")
    )
    code, out, err = _cli(capsys, bad, "check")
    assert "field 'shocks[2].scope.currencies': unknown foreign currency 'EUR'" in err
    (bad / "model" / "scenarios.yaml").write_text(
        SCENARIOS.replace("base: B2024\n    description", "base: B2099\n    description")
    )
    code, out, err = _cli(capsys, bad, "check")
    assert code != 0 and "scenarios[1] (outage): field 'base': 'B2099' has no volume_plan rows" in err
    (bad / "model" / "scenarios.yaml").write_text(SCENARIOS.replace("size: 1000", "size: lots"))
    code, out, err = _cli(capsys, bad, "list")
    assert code != 0 and "scenarios[1] (outage): field 'shocks[2].size': expected a number, got 'lots'" in err
