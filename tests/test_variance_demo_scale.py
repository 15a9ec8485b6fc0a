"""Variance analysis against the injected anomalies (truth/anomalies.json), on the tiny company (seed 7) and the
demo-scale company (seed 42; the shared `demo_company` fixture of tests/conftest.py).
Only this check reads the ground truth; the engine never does."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from opsfin.costing.variance import month_end


@pytest.fixture(scope="module", params=["tiny", "demo"])
def demo(request):
    ws = request.getfixturevalue("tiny_demo" if request.param == "tiny" else "demo_company")
    truth = json.loads((ws.truth_dir / "anomalies.json").read_text())
    return ws, truth


def _window(a) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(a["start"]).replace(day=1), month_end(dt.date.fromisoformat(a["end"]))


@pytest.mark.parametrize(
    ("kind", "category", "dim"),
    [
        ("material_price_rise", "material_price", "product"),
        ("energy_drift", "energy_usage", "machine"),
    ],
)
def test_injected_anomaly_is_the_largest_unfavourable_item_in_its_period(demo, kind, category, dim):
    """Each injected price rise is the largest `material_price` item by product, and each energy-drift
    machine the largest `energy_usage` item by machine, over the anomaly's months."""
    ws, truth = demo
    anomalies = [a for a in truth if a["kind"] == kind]
    assert anomalies
    for a in anomalies:
        lo, hi = _window(a)
        items = ws.variance(lo, hi, by=dim).filter(category=category).sort("amount").to_dicts()
        worst = items[0]
        assert worst[dim] == a["entity_id"], (
            a["entity_id"],
            [(r[dim], r["amount"]) for r in items[:3]],
        )
        assert worst["amount"] < 0
