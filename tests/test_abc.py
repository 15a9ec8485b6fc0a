"""Activity-based costing: a hand-worked example, conservation on the tiny demo, ties to the GL, CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal

import pytest

import opsfin
from cli_support import run_in_process
from opsfin.costing.abc import UNASSIGNED, AbcInputs, run_abc
from opsfin.costing.costing_config import parse_abc_config
from opsfin.errors import UserError

D = Decimal

CONFIG = parse_abc_config(
    {
        "roles": ["opex"],
        "resources": [
            {"match": {"kind": "warehouse"}, "driver": "timesheet_hours"},
            {"match": {"pattern": "CC-ADM"}, "split": {"ORDER": 50, "SUPPORT": 50}},
        ],
        "activities": {"SHIP": "shipments", "ORDER": "sales_orders", "SUPPORT": "tickets"},
        "traditional": "units",
    }
)


def inputs() -> AbcInputs:
    centres = {
        "CC-WH": {"cost_center_id": "CC-WH", "kind": "warehouse", "site_id": "W"},
        "CC-ADM": {"cost_center_id": "CC-ADM", "kind": "admin", "site_id": "S"},
    }
    return AbcInputs(
        None,
        None,
        centres,
        cost={"CC-WH": D("1000.00"), "CC-ADM": D("300.01")},
        hours={("CC-WH", "SHIP"): 30.0, ("CC-WH", "ORDER"): 10.0},
        quantities={
            "shipments": {("C1", "P1"): 1, ("C2", "P1"): 2},
            "sales_orders": {("C1", "P1"): 1, ("C2", "P2"): 1},
            "tickets": {("C1", None): 3},
            "units": {("C1", "P1"): 10, ("C2", "P1"): 10, ("C2", "P2"): 20},
        },
        revenue={("C1", "P1"): D("500"), ("C2", "P1"): D("500"), ("C2", "P2"): D("1000")},
        cogs={("C1", "P1"): D("200"), ("C2", "P1"): D("200"), ("C2", "P2"): D("400")},
    )


def test_hand_worked_customer():
    r = run_abc(inputs(), CONFIG, "customer")
    # stage 1: CC-WH 1000 → SHIP 750, ORDER 250; CC-ADM 300.01 → ORDER 150.01 (largest remainder), SUPPORT 150.00
    pools = {row["activity_id"]: row["pool"] for row in r.activities.to_dicts()}
    assert pools == {"SHIP": D("750.00"), "ORDER": D("400.01"), "SUPPORT": D("150.00")}
    # stage 2: SHIP 1:2 → C1 250, C2 500; ORDER 1:1 → C1 200.01, C2 200.00; SUPPORT → C1 150
    got = {row["object_id"]: row for row in r.objects.to_dicts()}
    assert got["C1"]["abc_cost"] == D("600.01") and got["C2"]["abc_cost"] == D("700.00")
    # traditional by units: C1 10, C2 30 of 1300.01
    assert got["C1"]["traditional_cost"] == D("325.00") and got["C2"]["traditional_cost"] == D("975.01")
    assert got["C1"]["abc_profit"] == D("500") - D("200") - D("600.01")
    assert sum(row["difference"] for row in got.values()) == 0


def test_hand_worked_product_bridges_tickets_by_units():
    r = run_abc(inputs(), CONFIG, "product")
    got = {row["object_id"]: row["abc_cost"] for row in r.objects.to_dicts()}
    # C1 bought only P1 → its tickets land on P1; ORDER: P1 200.01, P2 200.00; SHIP all P1
    assert got == {"P1": D("750.00") + D("200.01") + D("150.00"), "P2": D("200.00")}


def test_pool_without_driver_goes_to_unassigned():
    inp = inputs()
    inp.quantities["tickets"] = {}
    r = run_abc(inp, CONFIG, "customer")
    got = {row["object_id"]: row["abc_cost"] for row in r.objects.to_dicts()}
    assert got[UNASSIGNED] == D("150.00") and sum(got.values()) == D("1300.01")


def test_config_errors():
    with pytest.raises(UserError, match="sum to 100"):
        parse_abc_config(
            {
                "resources": [{"match": {"kind": "admin"}, "split": {"A": 60}}],
                "activities": {"A": "units"},
            }
        )
    with pytest.raises(UserError, match="unknown driver 'magic'"):
        parse_abc_config(
            {
                "resources": [{"match": {"kind": "admin"}, "split": {"A": 100}}],
                "activities": {"A": "magic"},
            }
        )
    with pytest.raises(UserError, match="has no driver"):
        parse_abc_config(
            {
                "resources": [{"match": {"kind": "admin"}, "split": {"B": 100}}],
                "activities": {"A": "units"},
            }
        )


# ------------------------------------------------------------------ the tiny demo


@pytest.fixture(scope="module")
def demo(tiny_demo, tmp_path_factory):
    dest = tmp_path_factory.mktemp("abc") / "ws"
    shutil.copytree(tiny_demo.path, dest)
    ws = opsfin.open(dest)
    from opsfin.model_files import write_default_model_files

    write_default_model_files(ws.model_dir)
    return ws


POOLED_GL = """
SELECT sum(g.amount) FROM gl_entries g JOIN accounts a ON a.account_id = g.account_id
JOIN cost_centers c ON c.cost_center_id = g.cost_center_id
WHERE c.kind IN ('service','support','warehouse','sales','admin')
  AND a.role IN ('maintenance','depreciation','payroll','opex','inventory_adjustment')
  AND g.posting_date BETWEEN ? AND ?
"""


@pytest.mark.parametrize("obj", ["product", "customer"])
@pytest.mark.parametrize("start, end", [("2024-01-01", "2024-04-30"), ("2024-02-01", "2024-02-29")])
def test_demo_conserves_and_ties(demo, obj, start, end):
    objects = demo.abc(obj, start, end)
    pools = demo.abc(obj, start, end, view="activities")
    assignments = demo.abc(obj, start, end, view="assignments")
    gl = demo.sql(POOLED_GL, [start, end]).item()
    assert objects["abc_cost"].sum() == pools["pool"].sum() == gl
    assert objects["traditional_cost"].sum() == gl
    assert objects["difference"].sum() == 0
    for a, pool in zip(pools["activity_id"], pools["pool"], strict=True):
        assert assignments.filter(assignments["activity_id"] == a)["cost"].sum() == pool
    rev, cogs = demo.sql(
        """SELECT -sum(amount) FILTER (WHERE a.role = 'revenue'), sum(amount) FILTER (WHERE a.role = 'cogs')
        FROM gl_entries g JOIN accounts a USING (account_id) WHERE posting_date BETWEEN ? AND ?""",
        [start, end],
    ).row(0)
    assert objects["revenue"].sum() == rev and objects["cogs"].sum() == cogs
    assert UNASSIGNED not in objects["object_id"].to_list()
    assert all(objects["abc_profit"] == objects["gross_margin"] - objects["abc_cost"])


def run(ws, *args):
    return run_in_process(*args, "-w", str(ws.path))


def test_cli_json_contract(demo):
    proc = run(
        demo,
        "abc",
        "--object",
        "customer",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert list(rows[0]) == [
        "object_id",
        "name",
        "revenue",
        "cogs",
        "gross_margin",
        "abc_cost",
        "abc_profit",
        "traditional_cost",
        "traditional_profit",
        "difference",
    ]
    assert sum(D(r["difference"]) for r in rows) == 0
    proc = run(demo, "abc", "--view", "pools", "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.startswith("cost_center_id,kind,activity_id,resource_driver,amount")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--object", "supplier"], "--object 'supplier'"),
        (["--from", "2024-13-01"], "--from"),
        (["--from", "2024-03-01", "--to", "2024-02-01"], "after --to"),
        (["--view", "nope"], "--view 'nope'"),
    ],
)
def test_cli_errors(demo, args, message):
    proc = run(demo, "abc", *args)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_cli_bad_yaml(demo, tmp_path):
    dest = tmp_path / "ws"
    shutil.copytree(demo.path, dest)
    (dest / "model" / "activities.yaml").write_text("resources: [\n")
    proc = subprocess.run([sys.executable, "-m", "opsfin", "abc", "-w", str(dest)], capture_output=True, text=True)
    assert proc.returncode == 2 and "activities.yaml: not valid YAML" in proc.stderr and "Traceback" not in proc.stderr
