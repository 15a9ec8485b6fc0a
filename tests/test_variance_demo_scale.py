"""Variance analysis against the injected anomalies (truth/anomalies.json), on the tiny company (seed 7) and the
demo-scale company (seed 42; built once, about 15 s, or the one OPSFIN_VARIANCE_DEMO points at).
Only this check reads the ground truth; the engine never does."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

import opsfin
from opsfin.costing.variance import month_end


@pytest.fixture(scope="module", params=["tiny", "demo"])
def demo(request, tmp_path_factory):
    path = os.environ.get("OPSFIN_VARIANCE_DEMO")
    if request.param == "tiny":
        ws = request.getfixturevalue("tiny_demo")
    elif path:
        ws = opsfin.open(path)
    else:
        from opsfin.demo import generate

        ws = generate(tmp_path_factory.mktemp("demo-scale") / "ws", scale="demo", seed=42).workspace
    truth = json.loads((ws.truth_dir / "anomalies.json").read_text())
    return ws, truth


def _window(a) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(a["start"]).replace(day=1), month_end(dt.date.fromisoformat(a["end"]))


def _overlaps(a, lo, hi) -> bool:
    return dt.date.fromisoformat(a["start"]) <= hi and dt.date.fromisoformat(a["end"]) >= lo


def _largest_unfavourable(ws, a, category: str, dim: str) -> list[tuple[str, float]]:
    lo, hi = _window(a)
    items = ws.variance(lo, hi, by=dim).filter(category=category).sort("amount").to_dicts()
    return [(r[dim], float(r["amount"])) for r in items]


def test_price_rise_is_the_largest_material_price_item_in_its_period(demo):
    ws, truth = demo
    rises = [a for a in truth if a["kind"] == "material_price_rise"]
    assert rises
    for a in rises:
        items = _largest_unfavourable(ws, a, "material_price", "product")
        assert items[0][0] == a["entity_id"], (a["entity_id"], items[:3])
        assert items[0][1] < 0


def test_energy_drift_machine_is_the_largest_energy_usage_item_in_its_period(demo):
    ws, truth = demo
    drifts = [a for a in truth if a["kind"] == "energy_drift"]
    assert drifts
    for a in drifts:
        items = _largest_unfavourable(ws, a, "energy_usage", "machine")
        assert items[0][0] == a["entity_id"], (a["entity_id"], items[:3])
        assert items[0][1] < 0
