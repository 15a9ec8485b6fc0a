"""The `opsfin alerts` and `opsfin eval detection` contracts on the tiny demo: `python -m opsfin` as real
subprocesses where a process of its own is the point (the first alerts, and the same ids from a second,
separate process), the other commands by the console entry point in the test process
(`cli_support.run_in_process`: the same exit code, stdout and stderr, without an interpreter starting).

The tiny company has only four months, too short for the default anomaly baselines, so a copy of it
gets guardrails that must breach and a detection file with short windows. Detection *quality* is
measured on the demo-scale company by `opsfin eval detection`, outside this suite."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys

import pytest

from cli_support import run_in_process

KEYS = [
    "id",
    "kind",
    "kpi",
    "scope",
    "period_start",
    "period_end",
    "value",
    "expected",
    "bound",
    "severity",
    "explanation",
]

GUARDRAILS = """\
guardrails:
  - {kpi: overtime_share, by: site, grain: month, max: 0.0001, severity: stop, owner: HR}
  - {kpi: dso, grain: month, max: 1}
"""
DETECTION = """\
settings: {grain: week, baseline: 8, min_history: 4, relearn: 8, threshold: 3, min_change: 0.05}
scan:
  - {kpi: energy_per_unit, by: machine}
  - {kpi: support_utilization, by: cost_center}
  - {kpi: overtime_share, by: site, peers: all}
"""


def opsfin(path, *args: str, ok: bool = True, own_process: bool = False) -> subprocess.CompletedProcess:
    """`opsfin ARGS -w PATH`: in the test process, or as `python -m opsfin` when `own_process`."""
    if own_process:
        command = [sys.executable, "-m", "opsfin", *args, "-w", str(path)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    else:
        proc = run_in_process(*args, "-w", str(path))
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def tiny_alerts(tiny_demo, tmp_path_factory):
    """A copy of the tiny demo whose model/ has breaching guardrails and short detection windows."""
    path = tmp_path_factory.mktemp("alerts") / "ws"
    shutil.copytree(tiny_demo.path, path)
    (path / "model" / "guardrails.yaml").write_text(GUARDRAILS, encoding="utf-8")
    (path / "model" / "detection.yaml").write_text(DETECTION, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def alerts_json(tiny_alerts):
    return json.loads(opsfin(tiny_alerts, "alerts", "--format", "json", own_process=True).stdout)


def test_alerts_json_contract(alerts_json):
    alerts = alerts_json
    assert isinstance(alerts, list) and alerts
    kinds = {a["kind"] for a in alerts}
    assert kinds == {"guardrail", "anomaly"}  # the short detection windows find anomalies too
    for a in alerts:
        assert list(a) == KEYS
        assert a["id"].startswith("AL-")
        assert isinstance(a["scope"], dict) and all(isinstance(v, str) for v in a["scope"].values())
        assert dt.date.fromisoformat(a["period_start"]) <= dt.date.fromisoformat(a["period_end"])
        assert a["severity"] in ("info", "warn", "stop")
        assert isinstance(a["explanation"], str) and a["explanation"].endswith(".") and "\n" not in a["explanation"]
        for key in ("value", "expected", "bound"):
            assert a[key] is None or isinstance(a[key], int | float)
    assert len({a["id"] for a in alerts}) == len(alerts)
    overtime = [a for a in alerts if a["kind"] == "guardrail" and a["kpi"] == "overtime_share"]
    assert {"P1", "P2"} <= {a["scope"]["site"] for a in overtime}
    for site in ("P1", "P2"):  # plants breach every month: one alert spanning the whole history
        runs = [a for a in overtime if a["scope"]["site"] == site]
        assert len(runs) == 1 and runs[0]["period_start"] == "2024-01-01" and runs[0]["period_end"] == "2024-04-30"
        assert runs[0]["severity"] == "stop" and runs[0]["bound"] == 0.0001
    (dso,) = [a for a in alerts if a["kpi"] == "dso"]
    assert dso["scope"] == {} and "for the company" in dso["explanation"]


def test_alert_ids_are_stable_across_runs(tiny_alerts, alerts_json):
    again = json.loads(opsfin(tiny_alerts, "alerts", "--format", "json", own_process=True).stdout)
    assert again and [a["id"] for a in again] == [a["id"] for a in alerts_json]


def test_alerts_from_to_table_and_csv(tiny_alerts):
    clipped = json.loads(
        opsfin(tiny_alerts, "alerts", "--from", "2024-03-01", "--to", "2024-03-20", "--format", "json").stdout
    )
    assert clipped and all(
        a["period_end"] >= "2024-03-01" and a["period_end"] <= "2024-03-20" for a in clipped if a["kind"] == "guardrail"
    )
    assert "Alerts" in opsfin(tiny_alerts, "alerts").stdout
    header = opsfin(tiny_alerts, "alerts", "--format", "csv").stdout.splitlines()[0]
    assert header.startswith("id,kind,severity,kpi,scope,period_start,period_end,value,expected,bound")
    bad = opsfin(tiny_alerts, "alerts", "--from", "2024-05-01", "--to", "2024-04-01", ok=False)
    assert bad.returncode == 2 and "after --to" in bad.stderr and "Traceback" not in bad.stderr


def test_default_model_files_run_on_the_tiny_demo(tiny_demo):
    assert (tiny_demo.model_dir / "guardrails.yaml").exists() and (tiny_demo.model_dir / "detection.yaml").exists()
    alerts = json.loads(opsfin(tiny_demo.path, "alerts", "--format", "json").stdout)
    # four months are too short for the default anomaly baselines: the default guardrails alone fire
    assert alerts and {a["kind"] for a in alerts} == {"guardrail"} and all(list(a) == KEYS for a in alerts)


def test_bad_guardrails_file_is_one_clear_error(tiny_alerts, tmp_path):
    path = tmp_path / "ws"
    shutil.copytree(tiny_alerts, path)
    (path / "model" / "guardrails.yaml").write_text("guardrails:\n  - {kpi: oee, min: 0.3}\n  - {kpi: oee, max: 80%}\n")
    proc = opsfin(path, "alerts", ok=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "guardrails.yaml: guardrails[2] (oee): field 'max': expected a number, got '80%'" in proc.stderr


def test_eval_detection_output_contract(tiny_demo):
    result = json.loads(opsfin(tiny_demo.path, "eval", "detection", "--format", "json").stdout)
    assert set(result) == {"kinds", "alerts_by_kpi", "overall", "false_alerts"}
    truth = json.loads((tiny_demo.truth_dir / "anomalies.json").read_text())
    named = [t for t in truth if t["kpi"]]
    assert result["overall"]["anomalies"] == len(named)
    assert {k["kind"] for k in result["kinds"]} == {t["kind"] for t in named}
    for k in result["kinds"]:
        assert {
            "kind",
            "kpi",
            "anomalies",
            "caught",
            "recall",
            "precision",
            "alerts",
            "true_alerts",
            "missed",
        } <= set(k)
        assert 0 <= k["caught"] <= k["anomalies"] and len(k["missed"]) == k["anomalies"] - k["caught"]
    table = opsfin(tiny_demo.path, "eval", "detection").stdout
    assert "recall" in table and "precision" in table and "overall" in table
    helped = run_in_process("eval", "--help")
    assert helped.returncode == 0 and "detection" in helped.stdout


def test_eval_detection_needs_truth(tiny_alerts, tmp_path):
    path = tmp_path / "ws"
    shutil.copytree(tiny_alerts, path)
    shutil.rmtree(path / "truth")
    proc = opsfin(path, "eval", "detection", ok=False)
    assert proc.returncode == 2 and "anomalies.json" in proc.stderr
