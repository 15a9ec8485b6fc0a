"""`opsfin eval forecast` (docs/forecasting.md "Evaluation on the demo company"): the additivity check, the
demand-shift split and the verdict worked by hand on small frames, then the command on the tiny company."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from cli_support import run_cli
from opsfin.errors import UserError
from opsfin.evaluation.forecast import (
    DemandShift,
    additivity_gaps,
    demand_shift,
    evaluate,
    shift_accuracy,
    verdict,
)
from opsfin.runs.forecast_accuracy import product_families, stored_forecasts
from web_support import copy_workspace

FAMILIES = pd.DataFrame({"product_id": ["A", "B", "C"], "family": ["F", "F", None]})


def members(values: dict[tuple[str, str], float]) -> pd.DataFrame:
    """One version, one month: the p50 of each (level, key)."""
    rows = [("v", level, key, pd.Timestamp("2024-05-01"), p50) for (level, key), p50 in values.items()]
    return pd.DataFrame(rows, columns=["version", "level", "key", "ds", "p50"])


# A and B (family F) at site S: 3 and 4; C (no family) at site T: 5
COHERENT = {
    ("product_site", "A/S"): 3.0,
    ("product_site", "B/S"): 4.0,
    ("product_site", "C/T"): 5.0,
    ("product", "A"): 3.0,
    ("product", "B"): 4.0,
    ("product", "C"): 5.0,
    ("family", "F"): 7.0,
    ("family", "(none)"): 5.0,
    ("site", "S"): 7.0,
    ("site", "T"): 5.0,
    ("total", "total"): 12.0,
}


def test_a_coherent_forecast_adds_up_at_every_level():
    assert additivity_gaps(members(COHERENT), FAMILIES) == {"total": 0.0, "family": 0.0, "site": 0.0, "product": 0.0}


def test_a_parent_that_is_not_the_sum_of_its_children_is_caught():
    # family F says 8.5 while its products sum to 7; the families then sum to 13.5, not the total's 12
    gaps = additivity_gaps(members(COHERENT | {("family", "F"): 8.5}), FAMILIES)
    assert gaps == {"total": 1.5, "family": 1.5, "site": 0.0, "product": 0.0}
    # a cell off by 0.25 shows at its site and its product (and nowhere else: they are its only parents)
    gaps = additivity_gaps(members(COHERENT | {("product_site", "C/T"): 5.25}), FAMILIES)
    assert gaps == {"total": 0.0, "family": 0.0, "site": 0.25, "product": 0.25}


def test_a_missing_child_counts_as_zero():
    frame = members({k: v for k, v in COHERENT.items() if k != ("product_site", "B/S")})
    gaps = additivity_gaps(frame, FAMILIES)
    assert gaps["site"] == 4.0 and gaps["product"] == 4.0 and gaps["family"] == 0.0


def test_the_demand_shift_is_read_from_truth_records():
    records = [
        {"kind": "price_spike", "entity_id": "X", "start": "2024-01-01"},
        {"kind": "demand_shift", "entity_id": "Pumps", "start": "2025-03-01", "factor": 0.7},
    ]
    assert demand_shift(records) == DemandShift("Pumps", dt.date(2025, 3, 1), 0.7)
    assert demand_shift(records[:1]) is None
    with pytest.raises(UserError, match="malformed"):
        demand_shift([{"kind": "demand_shift", "entity_id": "Pumps", "start": "March"}])


def test_shift_splits_the_family_points_at_the_shift_month():
    points = pd.DataFrame(
        {
            "level": ["family", "family", "family", "family", "total"],
            "key": ["F", "F", "F", "G", "total"],
            "ds": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-04-01", "2024-04-01", "2024-04-01"]),
            "y": [10.0, 10.0, 30.0, 99.0, 99.0],
            "p50": [12.0, 15.0, 25.0, 0.0, 0.0],
            "naive": [10.0, 20.0, 20.0, 0.0, 0.0],
        }
    )
    out = shift_accuracy(points, DemandShift("F", dt.date(2024, 3, 1), 0.7)).set_index("period")
    # before: |10 − 12| / 10 = 0.2, naive exact; from 2024-03: (5 + 5) / 40 = 0.25, naive (10 + 10) / 40 = 0.5
    assert out.loc["before", "points"] == 1 and out.loc["after", "points"] == 2
    assert out.loc["before", "wape"] == pytest.approx(0.2) and out.loc["before", "wape_naive"] == 0.0
    assert out.loc["after", "wape"] == pytest.approx(0.25) and out.loc["after", "wape_naive"] == pytest.approx(0.5)
    assert out.loc["after", "months"] == "2024-03..2024-04"


def test_the_verdict_counts_the_levels_with_value_added():
    levels = ["total", "family", "site", "product", "product_site"]
    summary = pd.DataFrame(
        {
            "level": levels,
            "months_ahead": pd.array([None] * 5, dtype="Int64"),
            "origins": 1,
            "points": 1,
            "wape": [0.1, 0.2, 0.1, 0.5, 0.6],
            "mase": 1.0,
            "bias": 0.0,
            "coverage": 0.8,
            "wape_naive": [0.2, 0.3, 0.1, 0.4, 0.7],
            "fva": [0.1, 0.1, 0.0, -0.1, 0.1],
        }
    )
    report = evaluate(summary, members(COHERENT), pd.DataFrame(), FAMILIES, [dt.date(2024, 4, 1)], 1)
    assert report.beats_naive == 3 and report.levels_measured == 5 and report.adds_up
    assert verdict(report).startswith("beats seasonal naive at 3 of 5 levels")
    assert report.notes == ["no demand shift in truth/"]
    assert list(report.levels["level"]) == levels and list(report.levels["adds_up_gap"].iloc[:4]) == [0.0] * 4


@pytest.fixture(scope="module")
def ws(tiny_demo, tmp_path_factory):
    return copy_workspace(tiny_demo, tmp_path_factory.mktemp("eval_forecast") / "ws")


def shipped_total(ws, month: str) -> float:
    sql = "SELECT sum(qty) AS q FROM shipments WHERE strftime(shipped_date, '%Y-%m') = ?"
    return float(ws.sql(sql, [month])["q"][0])


def product_wapes_by_hand(ws, prev: dt.date, last: dt.date) -> tuple[float, float]:
    """The product level's WAPE over month `last`, forecast from `prev` by Naive pooled with the family
    (0.5 × the product's `prev` + 0.5 × its share of the family's shipments up to `prev` × the family's
    `prev`), and seasonal naive's (the product's `prev`, no month a year back). `last`: the last month."""
    rows = ws.sql(
        """SELECT o.product_id AS product, p.family, strftime(s.shipped_date, '%Y-%m') AS month, sum(s.qty) AS q
           FROM shipments s JOIN sales_orders o USING (so_id, line) JOIN products p USING (product_id)
           GROUP BY ALL"""
    ).to_dicts()
    shipped: dict[tuple[str, str], float] = {}
    # the products shipped by `prev` have a series to forecast; one first shipped in `last` is not measured
    family_of = {r["product"]: r["family"] for r in rows if r["month"] <= f"{prev:%Y-%m}"}
    for r in rows:
        shipped[(r["product"], r["month"])] = shipped.get((r["product"], r["month"]), 0.0) + r["q"]
    before = {p: sum(q for (pp, m), q in shipped.items() if pp == p and m <= f"{prev:%Y-%m}") for p in family_of}
    fam_before = {f: sum(before[p] for p in family_of if family_of[p] == f) for f in family_of.values()}
    own = {p: shipped.get((p, f"{prev:%Y-%m}"), 0.0) for p in family_of}
    fam_prev = {f: sum(own[p] for p in family_of if family_of[p] == f) for f in family_of.values()}
    actual = {p: shipped.get((p, f"{last:%Y-%m}"), 0.0) for p in family_of}
    pooled = {p: 0.5 * own[p] + 0.5 * before[p] / fam_before[family_of[p]] * fam_prev[family_of[p]] for p in own}
    total = sum(actual.values())
    return (
        sum(abs(actual[p] - pooled[p]) for p in own) / total,
        sum(abs(actual[p] - own[p]) for p in own) / total,
    )


def test_eval_forecast_on_the_tiny_company(ws, capsys):
    code, out, err = run_cli(
        capsys,
        "eval",
        "forecast",
        "-w",
        str(ws.path),
        "--origins",
        "1",
        "--horizon",
        "1",
        "--models",
        "Naive",
        "--format",
        "json",
    )
    assert code == 0, err
    body = json.loads(out)
    last = ws.sql("SELECT max(shipped_date) AS d FROM shipments")["d"][0].replace(day=1)
    prev = (last - dt.timedelta(days=1)).replace(day=1)
    assert body["origins"] == [f"{prev:%Y-%m}"] and body["horizon"] == 1
    levels = {r["level"]: r for r in body["levels"]}
    assert list(levels) == ["total", "family", "site", "product", "product_site"]
    assert body["adds_up"] is True
    assert all(levels[lv]["adds_up_gap"] <= 1e-6 for lv in ("total", "family", "site", "product"))
    # Naive repeats the as-of month; with no month a year back seasonal naive is the same forecast: no value
    # added where nothing is pooled (total, families, site)
    forecast, actual = shipped_total(ws, f"{prev:%Y-%m}"), shipped_total(ws, f"{last:%Y-%m}")
    assert levels["total"]["wape"] == pytest.approx(abs(actual - forecast) / actual, rel=1e-6)
    assert all(abs(levels[lv]["fva"]) < 1e-3 for lv in ("total", "family", "site"))
    # a product's forecast is half its own and half its share of its family's (forecast/pooling.py); the
    # halves add up to the family's, so the reconciliation leaves them as they are
    pooled, naive = product_wapes_by_hand(ws, prev, last)
    for lv in ("product", "product_site"):  # one site: a product × site cell is its product
        assert levels[lv]["wape"] == pytest.approx(pooled, rel=1e-6)
        assert levels[lv]["wape_naive"] == pytest.approx(naive, rel=1e-6)
        assert levels[lv]["fva"] == pytest.approx(naive - pooled, abs=1e-9)
    beats = sum(levels[lv]["fva"] > 0 for lv in levels)
    assert body["beats_naive"] == beats and body["levels_measured"] == 5
    # the tiny company's truth/ has a demand shift; its family's one point falls before or after it
    shift = body["demand_shift"]
    assert shift is not None and 0 < shift["factor"]
    assert sum(p["points"] for p in shift["periods"]) == 1


def test_the_table_ends_with_the_verdict(ws, capsys):
    code, out, err = run_cli(
        capsys, "eval", "forecast", "-w", str(ws.path), "--origins", "1", "--horizon", "1", "--models", "Naive"
    )
    assert code == 0, err
    # total, families and site equal seasonal naive; the two product levels beat it when pooling helps (above)
    last = ws.sql("SELECT max(shipped_date) AS d FROM shipments")["d"][0].replace(day=1)
    pooled, naive = product_wapes_by_hand(ws, (last - dt.timedelta(days=1)).replace(day=1), last)
    assert f"beats seasonal naive at {2 if pooled < naive else 0} of 5 levels; every level adds up" in out
    assert "Demand shift: family" in out


def test_a_corrupted_stored_value_breaks_the_additivity(ws):
    version = ws.forecast_demand(
        ws.sql("SELECT max(shipped_date) AS d FROM shipments")["d"][0].strftime("%Y-%m"),
        "K-ADD",
        horizon=1,
        models="Naive",
    )
    assert version is not None
    stored = stored_forecasts(ws, ["K-ADD"])
    assert max(additivity_gaps(stored, product_families(ws)).values()) <= 1e-6
    cell = stored.index[stored["level"] == "product_site"][0]
    stored.loc[cell, "p50"] = float(stored.loc[cell, "p50"]) + 0.5
    gaps = additivity_gaps(stored, product_families(ws))
    assert gaps["site"] == pytest.approx(0.5) and gaps["product"] == pytest.approx(0.5)
    assert gaps["total"] <= 1e-6 and gaps["family"] <= 1e-6


def test_bad_input_is_a_user_error(tiny_demo, tmp_path, capsys):
    ws = copy_workspace(tiny_demo, tmp_path / "ws")  # its own copy: the truth file is spoilt below
    code, out, err = run_cli(capsys, "eval", "forecast", "-w", str(ws.path), "--origins", "0")
    assert code == 2 and "at least 1" in err
    (ws.truth_dir / "anomalies.json").write_text("{not json", encoding="utf-8")
    code, out, err = run_cli(capsys, "eval", "forecast", "-w", str(ws.path), "--origins", "1", "--horizon", "1")
    assert code == 2 and "truth/anomalies.json" in err


def test_without_truth_the_shift_part_says_so(tiny_demo, tmp_path, capsys):
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    (ws.truth_dir / "anomalies.json").unlink()
    args = ("eval", "forecast", "-w", str(ws.path), "--origins", "1", "--horizon", "1", "--models", "Naive")
    code, out, err = run_cli(capsys, *args, "--format", "json")
    assert code == 0, err
    body = json.loads(out)
    assert body["demand_shift"] is None and body["notes"] == ["no demand shift in truth/"]
