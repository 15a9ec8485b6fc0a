"""`opsfin scenario simulate` on a copy of the tiny company (docs/scenarios.md "Monte Carlo simulation"): the
JSON contract, no spread = the deterministic scenario run (`opsfin scenario run`) to the cent, P50 close to
it with spreads, the same seed giving the same result, and clear errors."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections import defaultdict
from decimal import Decimal

import pytest
from tests.cli_support import run_cli

from opsfin.cli import main

SHOCK = "{kind: demand, scope: {products: [FG-004]}, start: 2024-02, size: -10}"
SCENARIOS = f"""scenarios:
  - name: flat
    base: B2024
    shocks: [{SHOCK}]
    distributions:
      demand: {{sd_pct: 0}}
      min_cash: 1000000000
  - name: spread
    base: B2024
    shocks: [{SHOCK}]
    distributions:
      demand: {{sd_pct: 4}}
      price: {{sd: 1}}
      material_price: {{dist: triangular, low: -5, mode: 0, high: 5, scope: {{products: [RM-001]}}}}
      payment_delay: {{dist: uniform, low: -3, high: 3}}
  - name: outage
    base: B2024
    distributions:
      demand: {{sd_pct: 0}}
      outages: [{{work_centers: [P9-NONE], hours: {{mean: 5}}}}]
"""
MEASURES = ("revenue", "gross_margin", "operating_income", "cash", "cash_low")


@pytest.fixture(scope="module")
def ws_path(tiny_demo, tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "ws"
    shutil.copytree(tiny_demo.path, path)
    (path / "model" / "scenarios.yaml").write_text(SCENARIOS, encoding="utf-8")
    return path


def simulate(capsys, path, name: str, *args: str) -> dict:
    code, out, err = run_cli(capsys, "scenario", "simulate", name, "-w", str(path), "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def deterministic(ws_path):
    """The scenario run's company revenue, gross margin, operating income and month-end cash per month, from
    `opsfin scenario run flat` (the scenario engine's own report), and the cash low point so far."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            main(["scenario", "run", "flat", "-w", str(ws_path), "--format", "json"])
    except SystemExit as exc:
        assert not exc.code, out.getvalue()
    report = json.loads(out.getvalue())
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in report["pnl"]:
        if r["line"] in MEASURES:
            sums[(r["period"], r["line"])] += Decimal(str(r["scenario"]))
    low = None
    for r in report["cash"]:
        cash = Decimal(str(r["scenario"]))
        sums[(r["period"], "cash")] = cash
        low = cash if low is None else min(low, cash)
        sums[(r["period"], "cash_low")] = low
    return dict(sums)


def test_json_contract(capsys, ws_path):
    data = simulate(capsys, ws_path, "spread", "--draws", "200", "--seed", "3")
    assert list(data) == ["scenario", "draws", "seed", "months", "breaches"]
    assert (data["scenario"], data["draws"], data["seed"]) == ("spread", 200, 3)
    assert [list(r) for r in data["months"]][0] == ["period", "measure", "p10", "p50", "p90"]
    periods = sorted({r["period"] for r in data["months"]})
    assert periods == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert len(data["months"]) == 4 * len(MEASURES)
    assert {r["measure"] for r in data["months"]} == set(MEASURES)
    assert [list(r) for r in data["breaches"]][0] == ["guardrail", "probability"]
    assert data["breaches"][0]["guardrail"] == "cash >= 0"  # no min_cash: cash below zero
    for r in data["months"]:
        assert Decimal(r["p10"]) <= Decimal(r["p50"]) <= Decimal(r["p90"])


def test_no_spread_equals_the_scenario_run_to_the_cent(capsys, ws_path, deterministic):
    data = simulate(capsys, ws_path, "flat", "--draws", "50")
    for r in data["months"]:
        expected = deterministic[(r["period"], r["measure"])]
        assert Decimal(r["p10"]) == Decimal(r["p50"]) == Decimal(r["p90"]) == expected, r
    # every month-end cash is far below the billion asked: every draw breaches it
    breaches = {b["guardrail"]: b["probability"] for b in data["breaches"]}
    assert breaches["cash >= 1000000000"] == 1.0


def test_p50_close_to_the_deterministic_run(capsys, ws_path, deterministic):
    # symmetric spreads: every measure's P50 within 1 % of the month's revenue of the deterministic value
    data = simulate(capsys, ws_path, "spread", "--draws", "4000", "--seed", "1")
    for r in data["months"]:
        tolerance = Decimal("0.01") * deterministic[(r["period"], "revenue")]
        assert abs(Decimal(r["p50"]) - deterministic[(r["period"], r["measure"])]) <= tolerance, r
    spread = [Decimal(r["p90"]) - Decimal(r["p10"]) for r in data["months"] if r["measure"] == "revenue"]
    assert all(s > 0 for s in spread)


def test_same_seed_same_result(capsys, ws_path):
    a = simulate(capsys, ws_path, "spread", "--draws", "300", "--seed", "9")
    b = simulate(capsys, ws_path, "spread", "--draws", "300", "--seed", "9")
    assert a == b
    assert len({r["p50"] for r in a["months"] if r["measure"] == "revenue"}) > 1


def test_clear_errors(capsys, ws_path):
    code, _out, err = run_cli(capsys, "scenario", "simulate", "nope", "-w", str(ws_path))
    assert code != 0 and "no such scenario" in err and "Traceback" not in err
    code, _out, err = run_cli(capsys, "scenario", "simulate", "outage", "-w", str(ws_path))
    assert code != 0 and "unknown work centre P9-NONE" in err and "Traceback" not in err
    code, _out, err = run_cli(capsys, "scenario", "simulate", "flat", "--draws", "0", "-w", str(ws_path))
    assert code != 0 and "draws" in err and "Traceback" not in err
