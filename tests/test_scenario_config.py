"""model/scenarios.yaml (docs/scenarios.md "Scenario files"): a good file parses; each mistake is one
UserError naming the file, the entry, the field and the value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opsfin.errors import UserError
from opsfin.scenarios.config import parse_scenarios

WHERE = "model/scenarios.yaml"


def _file(*shocks: dict, name: str = "copper_spike", **more) -> dict:
    return {
        "scenarios": [
            {"name": "first", "base": "B2025", "shocks": []},
            {"name": name, "base": "B2025", "shocks": list(shocks), **more},
        ]
    }


def _error(data: dict) -> str:
    with pytest.raises(UserError) as exc:
        parse_scenarios(data, WHERE)
    return str(exc.value)


def test_a_good_file_parses_with_months_and_exact_sizes():
    found = parse_scenarios(
        _file(
            {
                "kind": "material_price",
                "scope": {"products": ["RM-CU"]},
                "start": "2025-03",
                "end": "2025-08",
                "size": 10.1,
            },
            {"kind": "demand", "scope": {}, "start": "2025-01", "size": -15},
            {"kind": "capacity", "scope": {"work_centers": ["WC-1"]}, "start": dt.date(2025, 4, 9), "size": 120},
        ),
        WHERE,
    )
    s = found.get("copper_spike")
    assert s is not None and s.base == "B2025"
    material, demand, capacity = s.shocks
    assert material.start == dt.date(2025, 3, 1) and material.end == dt.date(2025, 8, 1)
    assert material.size == Decimal("10.1") and material.share == Decimal("0.101")
    assert demand.end is None and demand.covers(dt.date(2030, 1, 1)) and not demand.covers(dt.date(2024, 12, 1))
    assert capacity.start == dt.date(2025, 4, 1)
    assert parse_scenarios(None, WHERE).scenarios == []


@pytest.mark.parametrize(
    ("shock", "words"),
    [
        ({"kind": "meteor", "start": "2025-01", "size": 1}, ["field 'shocks[1].kind'", "expected one of", "'meteor'"]),
        (
            {"kind": "demand", "start": "2025-13", "size": 1},
            ["field 'shocks[1].start': expected a month YYYY-MM, got '2025-13'"],
        ),
        (
            {"kind": "demand", "start": "2025-05", "end": "2025-04", "size": 1},
            ["shocks[1]", "`end` (2025-04) is before `start` (2025-05)"],
        ),
        ({"kind": "capacity", "start": "2025-05", "size": 8}, ["shocks[1]", "needs `scope: {work_centers: [...]}`"]),
        (
            {"kind": "capacity", "scope": {"products": ["A"]}, "start": "2025-05", "size": 8},
            ["takes work_centers; not products"],
        ),
        ({"kind": "price", "start": "2025-05", "size": -100}, ["−100 % or less"]),
        ({"kind": "payment_delay", "start": "2025-05", "size": 2.5}, ["whole days"]),
        ({"kind": "demand", "start": "2025-05", "size": True}, ["field 'shocks[1].size'", "expected a number"]),
        ({"kind": "demand", "start": "2025-05", "size": 1, "sise": 2}, ["shocks[1]", "unknown key 'sise'"]),
        (
            {"kind": "demand", "scope": {"regions": ["EU"]}, "start": "2025-05", "size": 1},
            ["shocks[1].scope", "unknown key 'regions'"],
        ),
    ],
)
def test_a_bad_shock_names_the_file_the_entry_and_the_field(shock, words):
    text = _error(_file(shock))
    assert text.startswith(f"{WHERE}: scenarios[2] (copper_spike)"), text
    for word in words:
        assert word in text, text
    assert text.count(", got ") <= 1, text  # the value is named once


def test_duplicate_and_bad_names_are_refused():
    text = _error({"scenarios": [{"name": "a", "base": "B"}, {"name": "a", "base": "B"}]})
    assert "scenario 'a' is named twice" in text
    text = _error(_file(name="copper spike"))
    assert "scenarios[2] (copper spike)" in text and "letters, digits and _ . -" in text
    text = _error({"scenarios": [{"name": "x"}]})
    assert "scenarios[1] (x): field 'base': missing" in text
