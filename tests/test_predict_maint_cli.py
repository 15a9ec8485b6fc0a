"""`opsfin predict maintenance` on the tiny demo: the JSON shape, nothing after the as-of date read, and
clear errors."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest
from tests.cli_support import run_cli

import opsfin.workspace
from opsfin.runs.predict import predict_maintenance

AS_OF = "2024-04-10"
KEYS = {"machine_id", "risk", "expected_failure_cost", "planned_maintenance_cost", "recommendation", "drivers"}


@pytest.fixture(scope="module")
def result(tiny_demo):
    return predict_maintenance(tiny_demo, AS_OF, 14)


def test_the_json_has_exactly_the_documented_shape(tiny_demo, capsys):
    code, out, err = run_cli(
        capsys, "predict", "maintenance", "--as-of", AS_OF, "--format", "json", "-w", str(tiny_demo.path)
    )
    assert code == 0, err
    got = json.loads(out)
    assert set(got) == {"as_of", "horizon_days", "machines"} and got["as_of"] == AS_OF and got["horizon_days"] == 14
    # every machine that has sensor readings is scored (transport and inspection stations have none)
    machines = tiny_demo.sql("SELECT DISTINCT machine_id FROM machine_readings")["machine_id"].to_list()
    assert len(machines) < tiny_demo.sql("SELECT count(*) AS n FROM machines")["n"][0]
    assert sorted(m["machine_id"] for m in got["machines"]) == sorted(machines)
    for m in got["machines"]:
        assert set(m) == KEYS and 0 <= m["risk"] <= 1
        assert m["recommendation"] in ("maintain_now", "monitor", "ok")
        if Decimal(m["expected_failure_cost"]) > Decimal(m["planned_maintenance_cost"]):
            assert m["recommendation"] == "maintain_now"
        assert 1 <= len(m["drivers"]) <= 3 and {"feature", "contribution", "value"} <= set(m["drivers"][0])


def test_rows_after_the_as_of_date_change_nothing(tiny_demo, tmp_path, result):
    copy = tmp_path / "ws"
    shutil.copytree(tiny_demo.path, copy)
    ws = opsfin.workspace.open(copy)
    with ws.connect() as con:
        cut = "TIMESTAMP '2024-04-11 00:00:00'"
        con.execute(f"DELETE FROM machine_readings WHERE hour_start >= {cut}")
        con.execute(f"DELETE FROM maintenance_events WHERE start_at >= {cut}")
        con.execute(f"DELETE FROM operations WHERE end_at >= {cut}")
        con.execute("DELETE FROM shipments WHERE shipped_date >= DATE '2024-04-11'")
    assert predict_maintenance(ws, AS_OF, 14) == result


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--as-of", "2024-13-01"], "--as-of"),
        (["--as-of", "2030-01-01"], "outside the machine readings"),
        (["--as-of", "2024-01-05"], "too little history"),
        (["--as-of", AS_OF, "--horizon-days", "0"], "--horizon-days 0 must be between 1 and 90"),
        (["--as-of", AS_OF, "--monitor-risk", "2"], "--monitor-risk"),
    ],
)
def test_bad_input_is_one_clear_line(tiny_demo, capsys, options, message):
    code, out, err = run_cli(capsys, "predict", "maintenance", *options, "-w", str(tiny_demo.path))
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("error: ") and message in err
