"""The demo's routings (docs/demo-company.md, "Routings and the bottleneck"): non-value-added steps between
the value-adding ones, a rework cell only the leak-tested families pass, and a product-mix shift that moves
one plant's bottleneck from its assembly line to that cell."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from opsfin.demo.bottleneck import MIN_MOVED_LOAD, MOVED_LOAD, calm_load, load_after, share_after

LINE = ["MACH", "MOVE", "ASSY", "INSP", "RWK", "PACK"]
VALUE_ADDED = {"MACH", "ASSY"}


@pytest.fixture(scope="module")
def move(tiny_demo):
    truth = json.loads((tiny_demo.truth_dir / "anomalies.json").read_text())
    (record,) = [t for t in truth if t["kind"] == "bottleneck_move"]
    return record


def test_routings_interleave_non_value_added_steps(tiny_demo):
    r = tiny_demo.sql(
        "SELECT r.product_id, r.step, r.work_center_id, r.value_added, p.family FROM routings r "
        "JOIN products p USING (product_id) ORDER BY r.product_id, r.step"
    )
    for (product, family), steps in r.group_by(["product_id", "family"]):
        codes = [wc.split("-")[1] for wc in steps["work_center_id"]]
        reworked = family in ("Pumps", "Valves")
        expected = [c for c in LINE if c != "RWK" or reworked]
        if family == "Spare parts":
            expected = [c for c in LINE if c != "RWK"]
        assert codes == expected, product
        assert steps["step"].to_list() == list(range(1, len(codes) + 1))
        assert {c for c, va in zip(codes, steps["value_added"], strict=True) if va} == VALUE_ADDED
    kinds = dict(tiny_demo.sql("SELECT work_center_id, kind FROM work_centers").iter_rows())
    assert kinds["P1-MOVE"] == "team" and kinds["P1-INSP"] == "cell" and kinds["P1-RWK"] == "cell"


def test_value_stream_counts_transport_inspection_rework_and_packing_as_waste(tiny_demo):
    steps = tiny_demo.value_stream(steps=True)
    assert steps.height and not steps["value_added"].any()
    codes = {wc.split("-")[1] for wc in steps["work_center_id"]}
    assert codes == {"MOVE", "INSP", "RWK", "PACK"}
    # only the leak-tested families run through the rework cell
    rework = steps.filter(pl.col("work_center_id").str.ends_with("-RWK"))
    assert set(rework["family"]) == {"Pumps", "Valves"}


def test_the_mix_shift_keeps_the_plants_units_and_moves_the_load():
    # the rework cell's load relative to assembly's: calm_load before, × share_after / share before after
    for share in (0.3, 0.5, 0.58, 0.6):
        before = calm_load(share)
        after = before * share_after(share) / share
        assert 0.5 <= before <= 0.75 < 1 < MIN_MOVED_LOAD <= after == pytest.approx(load_after(share))
    # a plant already making 70% leak-tested units cannot grow to 0.9 enough: 0.75 × 0.9 / 0.7 < 1
    assert load_after(0.7) == pytest.approx(0.75 * 0.9 / 0.7) and load_after(0.7) < 1
    # a small share grows so the load reaches MOVED_LOAD exactly: 0.3 → 0.3 × 1.15 / 0.5 = 0.69 of the units
    assert share_after(0.3) == pytest.approx(0.69) and calm_load(0.3) == pytest.approx(0.5)
    # a larger one is capped at 0.9 and starts calmer: 0.6 → 0.9, calm 0.75, after 0.75 × 0.9 / 0.6 = 1.125
    assert share_after(0.6) == 0.9 and calm_load(0.6) == 0.75 and load_after(0.6) == pytest.approx(1.125)
    assert calm_load(0.3) * share_after(0.3) / 0.3 == pytest.approx(MOVED_LOAD)


def test_the_bottleneck_moves_from_assembly_to_rework(tiny_demo, move):
    plant, month = move["entity_id"], dt.date.fromisoformat(move["month"])
    assert move["kpi"] is None and (move["from_work_center"], move["to_work_center"]) == (
        f"{plant}-ASSY",
        f"{plant}-RWK",
    )
    b = tiny_demo.bottlenecks().filter(pl.col("site") == plant).sort("period_start")
    before = b.filter(pl.col("period_start") < month)
    assert before.height and set(before["work_center"]) == {move["from_work_center"]}
    # production follows the orders with a lag: by the month after the shift the rework cell is the constraint
    after = b.filter(pl.col("period_start") > month)
    assert after.height and set(after["work_center"]) == {move["to_work_center"]}
    load = tiny_demo.kpi(["machine_load"], by=["work_center"], where={"site": [plant]})
    ratio = {p: dict(zip(g["work_center"], g["value"], strict=True)) for (p,), g in load.group_by(["period_start"])}
    rel = {p: v[f"{plant}-RWK"] / v[f"{plant}-ASSY"] for p, v in ratio.items()}
    assert max(v for p, v in rel.items() if p < month) < 0.9 < 1.0 < min(v for p, v in rel.items() if p > month)


def test_the_demand_moves_to_the_leak_tested_families(tiny_demo, move):
    """Units ordered per day at the plant, before and after the month: the leak-tested families' share grows
    as planned, the plant's total stays within the noise of the orders."""
    plant, month = move["entity_id"], move["month"]
    q = tiny_demo.sql(
        f"""SELECT p.family IN ('Pumps', 'Valves') AS reworked, l.ordered_date >= DATE '{month}' AS after,
        sum(l.qty) AS units FROM sales_orders l JOIN products p USING (product_id)
        JOIN (SELECT DISTINCT product_id, work_center_id FROM routings WHERE work_center_id = '{plant}-ASSY') r
        USING (product_id) WHERE p.family <> 'Spare parts' GROUP BY ALL"""
    )
    units = {(r, a): u for r, a, u in q.iter_rows()}
    share_before = units[(True, False)] / (units[(True, False)] + units[(False, False)])
    share_after_ = units[(True, True)] / (units[(True, True)] + units[(False, True)])
    assert share_after_ > share_before + 0.15
