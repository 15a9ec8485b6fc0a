"""The driver tree's pure parts (docs/scenarios.md "The driver tree"): its structure, the differences
against budget and prior, and the tornado ranking, on hand-made figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from opsfin.scenarios.drivers import driver_tree, tornado, tree_nodes

D = Decimal
DRIVERS = {
    "volume",
    "price",
    "mix",
    "availability",
    "scrap_rate",
    "labor_productivity",
    "overtime_share",
    "energy_per_unit",
    "material_price",
    "dso",
    "dio",
    "dpo",
}


def test_the_tree_runs_from_every_driver_to_cash():
    nodes = tree_nodes(["WC-B", "WC-A"])
    ids = [n.id for n in nodes]
    assert len(ids) == len(set(ids))
    parent = {n.id: n.parent for n in nodes}
    assert [i for i, p in parent.items() if p is None] == ["cash_flow"]
    assert DRIVERS <= set(ids)
    for node in ids:  # every node reaches the root through parents that exist
        seen, p = 0, parent[node]
        while p is not None:
            assert p in parent
            p, seen = parent[p], seen + 1
            assert seen < len(ids)
    assert parent["volume"] == "revenue" and parent["revenue"] == "gross_margin"
    assert parent["gross_margin"] == "operating_income" and parent["operating_income"] == "cash_flow"
    assert {parent[d] for d in ("dso", "dio", "dpo")} == {"working_capital"}
    assert parent["working_capital"] == "cash_flow"
    assert [i for i in ids if i.startswith("availability:")] == ["availability:WC-A", "availability:WC-B"]
    assert parent["availability:WC-A"] == "availability"


def test_differences_are_value_minus_budget_and_prior():
    nodes = [n for n in tree_nodes([]) if n.id in ("revenue", "price", "scrap_rate")]
    rows = driver_tree(
        nodes,
        {"revenue": D("1000.004"), "price": D("10.12345"), "scrap_rate": 0.03},
        {"revenue": D("900"), "price": D("10")},
        {"revenue": D("950.5"), "scrap_rate": 0.05},
        {"price": (D("100.00"), D("80.00"))},
    )
    by = {r["id"]: r for r in rows}
    assert by["revenue"]["value"] == D("1000.00")  # money to the cent
    assert (by["revenue"]["vs_budget"], by["revenue"]["vs_prior"]) == (D("100.00"), D("49.50"))
    assert by["price"]["value"] == D("10.1234")  # money per unit to 4 decimals, half-even
    assert by["price"]["vs_prior"] is None  # no prior price
    assert by["scrap_rate"]["vs_budget"] is None and by["scrap_rate"]["vs_prior"] == pytest.approx(-0.02)
    assert (by["price"]["sensitivity_operating_income"], by["price"]["sensitivity_cash"]) == (D("100.00"), D("80.00"))
    assert by["revenue"]["sensitivity_operating_income"] is None


def test_tornado_ranks_by_sensitivity_times_typical_change():
    rows = [
        # per unit of price: 100; moved 3 since last month → 300
        {
            "id": "price",
            "label": "Price",
            "unit": "money/unit",
            "vs_prior": -3.0,
            "vs_budget": 1.0,
            "sensitivity_operating_income": D("100.00"),
            "sensitivity_cash": D("10.00"),
        },
        # per point of scrap: −2,000; moved 0.004 = 0.4 point → −800
        {
            "id": "scrap_rate",
            "label": "Scrap",
            "unit": "ratio",
            "vs_prior": 0.004,
            "vs_budget": None,
            "sensitivity_operating_income": D("-2000.00"),
            "sensitivity_cash": D("0.00"),
        },
        # no prior: the budget gap, 50 units × 5 = 250
        {
            "id": "volume",
            "label": "Volume",
            "unit": "units",
            "vs_prior": None,
            "vs_budget": -50.0,
            "sensitivity_operating_income": D("5.00"),
            "sensitivity_cash": D("1.00"),
        },
        {
            "id": "revenue",
            "label": "Revenue",
            "unit": "money",
            "vs_prior": 10.0,
            "vs_budget": 5.0,
            "sensitivity_operating_income": None,
            "sensitivity_cash": None,
        },
        {
            "id": "dso",
            "label": "DSO",
            "unit": "days",
            "vs_prior": None,
            "vs_budget": None,
            "sensitivity_operating_income": D("0.00"),
            "sensitivity_cash": D("-900.00"),
        },
    ]
    ranked = tornado(rows)
    assert [(r["id"], r["impact"]) for r in ranked] == [
        ("scrap_rate", D("-800.00")),
        ("price", D("300.00")),
        ("volume", D("250.00")),
    ]
    assert ranked[0]["typical_change"] == pytest.approx(0.4)
    cash = tornado(rows, "cash", typical={"dso": 2})
    assert [(r["id"], r["impact"]) for r in cash] == [
        ("dso", D("-1800.00")),
        ("volume", D("50.00")),
        ("price", D("30.00")),
        ("scrap_rate", D("0.00")),
    ]
