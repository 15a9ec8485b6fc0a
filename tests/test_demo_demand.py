"""The demo company's demand (docs/demo-company.md, "Demand"), on a 12-month company of two small plants.

Expected values come from the documented demand model, written out here by hand, not from the generator:

| family | trend per month | seasonal amplitude | peak month |
| --- | --- | --- | --- |
| Pumps | +1.0 % | 0.30 | July |
| Valves | −1.0 % | 0.10 | March |
| Controllers | +2.0 % | 0.15 | November |
| Sensors | +0.5 % | 0.02 | January |

A month's expected level is trend × season, season = 1 + amplitude × cos(2π (month − peak) / 12), times the
injected shift's factor from its month on, times a promotion's uplift in its product-month. Dividing the
ordered units by these leaves noise only. The company has no KPI anomalies (no bottleneck surge), so the
demand shift and the promotions are the only events on top of the profiles."""

from __future__ import annotations

import datetime as dt
import json
import math

import polars as pl
import pytest

from opsfin.demo import generate
from opsfin.demo.scales import Scale
from opsfin.evaluation.detection import parse_truth, score

PROFILES = {  # trend per month, amplitude, peak month (docs/demo-company.md)
    "Pumps": (0.010, 0.30, 7),
    "Valves": (-0.010, 0.10, 3),
    "Controllers": (0.020, 0.15, 11),
    "Sensors": (0.005, 0.02, 1),
}
SCALE = Scale(
    "demand12",
    dt.date(2024, 1, 1),
    months=12,
    plants=2,
    # four machines a work centre and 30 orders a day: about 13 units per order line (a product's ~90 units a
    # day over its ~9 lines, ×7/5 for weekdays) and ~200 lines per product-month, so the rounding of small
    # quantities does not bend the trend and the monthly noise stays near 5 %
    machines_per_work_center=4,
    finished_per_plant=4,
    raw_materials=6,
    components=2,
    customers=12,
    suppliers=4,
    support_teams=1,
    orders_per_day=30.0,
    lines_per_order=2.5,
    tickets_per_team_day=2,
    anomaly_instances=0,
    spares_per_plant=2,
)


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    ws = generate(tmp_path_factory.mktemp("demand") / "ws", scale=SCALE, seed=11).workspace
    monthly = ws.sql(
        "SELECT s.product_id, p.family, date_trunc('month', s.ordered_date) AS month, sum(s.qty) AS qty, count(*) AS lines, "
        "sum(CASE WHEN currency = 'EUR' THEN s.qty * s.unit_price END) "
        "/ sum(CASE WHEN currency = 'EUR' THEN s.qty END) AS price "
        "FROM sales_orders s JOIN products p USING (product_id) GROUP BY ALL"
    )
    truth = json.loads((ws.truth_dir / "anomalies.json").read_text())
    promotions = pl.read_parquet(ws.truth_dir / "promotions.parquet")
    return ws, monthly.with_columns(pl.col("month").cast(pl.Date)), truth, promotions


def days(month: dt.date) -> int:
    return (dt.date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days


def season(family: str, month: dt.date) -> float:
    _trend, amplitude, peak = PROFILES[family]
    return 1 + amplitude * math.cos(2 * math.pi * (month.month - peak) / 12)


def profile(family: str, month: dt.date) -> float:
    """The planned level of a family in a 2024 month, up to a constant: trend × season."""
    return (1 + PROFILES[family][0]) ** (month.month - 1) * season(family, month)


def the_shift(truth: list[dict]) -> dict:
    (shift,) = [a for a in truth if a["kind"] == "demand_shift"]
    return shift


def mix(truth: list[dict], product: str, month: dt.date) -> float:
    """The product's multiplier from the planned mix shift that moves a plant's bottleneck (demo/bottleneck.py)."""
    for a in truth:
        if a["kind"] == "bottleneck_move" and month >= dt.date.fromisoformat(a["month"]):
            return a["factors"].get(product, 1.0)
    return 1.0


def adjusted(company) -> pl.DataFrame:
    """Per regular product and month, promoted months left out: `deseasoned` = units per order line ÷ season ÷
    the shift's factor (from its month on) and the mix shift's; `level` = deseasoned ÷ trend. Per line, because a line's quantity
    carries the product's demand while the number of lines is the company's order count, whose monthly noise
    every product shares."""
    _ws, monthly, truth, promotions = company
    shift = the_shift(truth)
    promoted = {(r["product_id"], r["month"]) for r in promotions.to_dicts()}
    rows = []
    for r in monthly.filter(pl.col("family") != "Spare parts").to_dicts():
        if (r["product_id"], r["month"]) in promoted:
            continue
        shifted = r["family"] == shift["entity_id"] and r["month"] >= dt.date.fromisoformat(shift["start"])
        k = r["month"].month - 1
        deseasoned = r["qty"] / r["lines"] / season(r["family"], r["month"])
        deseasoned /= (shift["factor"] if shifted else 1.0) * mix(truth, r["product_id"], r["month"])
        rows.append({**r, "k": k, "deseasoned": deseasoned, "level": deseasoned / (1 + PROFILES[r["family"]][0]) ** k})
    return pl.DataFrame(rows)


def test_each_family_follows_its_trend(company):
    """Pooled within-product regression of log(units per line ÷ season ÷ shift) on the month: the slope is
    the configured monthly trend (±0.7 points), with its sign for the families trending by 1 % or more."""
    data = adjusted(company)
    for family, (trend, _amplitude, _peak) in PROFILES.items():
        num = den = 0.0
        for _product, part in data.filter(pl.col("family") == family).group_by("product_id"):
            k, y = part["k"].to_list(), [math.log(v) for v in part["deseasoned"]]
            k_mean, y_mean = sum(k) / len(k), sum(y) / len(y)
            num += sum((a - k_mean) * (b - y_mean) for a, b in zip(k, y, strict=True))
            den += sum((a - k_mean) ** 2 for a in k)
        slope = math.exp(num / den) - 1
        assert abs(slope - trend) < 0.007, (family, slope, trend)
        if abs(trend) >= 0.01:
            assert math.copysign(1, slope) == math.copysign(1, trend), (family, slope)


def test_strongly_seasonal_and_nearly_flat_families(company):
    """Pumps swing ±30 % around their trend (peak July, trough January), Sensors about ±2 %."""
    by_month = adjusted(company).group_by("family", "month").agg(pl.col("level").mean())

    def level(family: str, month: int) -> float:
        day = dt.date(2024, month, 1)
        (v,) = by_month.filter((pl.col("family") == family) & (pl.col("month") == day))["level"]
        return v * season(family, day)  # adjusted() divided the season out: put it back

    pumps = level("Pumps", 7) / level("Pumps", 1)  # 1.30 / 0.70 = 1.86 by hand
    sensors = level("Sensors", 7) / level("Sensors", 1)  # 0.98 / 1.02 = 0.96 by hand
    assert 1.6 < pumps < 2.15 and 0.88 < sensors < 1.06, (pumps, sensors)


def test_spare_parts_are_intermittent(company):
    """Each spare part is ordered in few months (ADI = months ÷ months with an order > 1.32) and in lumps."""
    ws, monthly, _truth, _promotions = company
    spares = ws.sql("SELECT product_id FROM products WHERE family = 'Spare parts'")["product_id"].to_list()
    assert len(spares) == 4 and all(p.startswith("SP-") for p in spares)
    all_months = ws.sql(
        "SELECT s.product_id, date_trunc('month', ordered_date) AS month, sum(qty) AS qty "
        "FROM sales_orders s JOIN products p USING (product_id) WHERE p.family = 'Spare parts' GROUP BY ALL"
    )
    for pid in spares:
        ordered = all_months.filter(pl.col("product_id") == pid)
        adi = 12 / max(ordered.height, 1)
        assert adi > 1.32, (pid, ordered.height)
    lines = ws.sql("SELECT qty FROM sales_orders s JOIN products p USING (product_id) WHERE p.family = 'Spare parts'")[
        "qty"
    ]
    assert lines.len() > 0 and lines.max() >= 3 * lines.median()  # lumpy: some orders far above the typical
    standards = ws.sql("SELECT std_unit_cost FROM products WHERE family = 'Spare parts'")["std_unit_cost"]
    assert all(v > 0 for v in standards)  # costed like every finished good (BOM and routing)
    routed = ws.sql("SELECT DISTINCT product_id FROM routings WHERE product_id LIKE 'SP-%'").height
    assert routed == 4


def test_the_demand_shift_is_in_truth_and_in_the_orders(company):
    """The shift names its family and factor (25–40 % either way), no KPI, and the family's level after it
    is its level before times the factor (±0.08)."""
    _ws, _monthly, truth, _promotions = company
    shift = the_shift(truth)
    assert shift["kpi"] is None and shift["entity_type"] == "family" and shift["entity_id"] in PROFILES
    assert 0.25 <= abs(shift["factor"] - 1) <= 0.40
    start = dt.date.fromisoformat(shift["start"])
    assert start.day == 1 and dt.date(2024, 5, 1) <= start <= dt.date(2024, 9, 1) and shift["end"] == "2024-12-31"
    data = adjusted(company).filter(pl.col("family") == shift["entity_id"])
    # adjusted() divided the factor out after the shift: multiply it back in, per product
    ratios = []
    for _product, part in data.group_by("product_id"):
        before = part.filter(pl.col("month") < start)["level"].mean()
        after = part.filter(pl.col("month") >= start)["level"].mean() * shift["factor"]
        ratios.append(after / before)
    ratio = sum(ratios) / len(ratios)
    assert abs(ratio - shift["factor"]) < 0.08, (ratio, shift["factor"])
    # not a detector target: eval detection counts only anomalies that name a KPI
    assert score([], parse_truth(json.dumps(truth)))["overall"]["anomalies"] == sum(1 for t in truth if t["kpi"])


def test_promotions_lift_their_month_and_cut_the_price(company):
    """Each promoted product-month orders more than any usual month of the product and ≥ 1.2 × its median
    (uplift 1.5–2), at a price at least half the cut lower."""
    _ws, monthly, truth, promotions = company
    assert promotions.height == 3  # 3 % of 8 products × 12 months, rounded
    shift = the_shift(truth)
    usual = adjusted(company)
    for p in promotions.to_dicts():
        assert 1.5 <= p["uplift"] <= 2.0 and 0.05 <= p["price_cut"] <= 0.10 and p["month"] > dt.date(2024, 1, 1)
        (row,) = monthly.filter((pl.col("product_id") == p["product_id"]) & (pl.col("month") == p["month"])).to_dicts()
        shifted = row["family"] == shift["entity_id"] and p["month"] >= dt.date.fromisoformat(shift["start"])
        level = row["qty"] / row["lines"] / profile(row["family"], p["month"])
        level /= (shift["factor"] if shifted else 1.0) * mix(truth, p["product_id"], p["month"])
        others = usual.filter(pl.col("product_id") == p["product_id"])
        # noise of a product-month is about ±8 %: a promoted month stands above every usual one
        assert level >= 1.2 * others["level"].median() and level > others["level"].max(), (p, level, others["level"])
        assert row["price"] <= others["price"].median() * (1 - p["price_cut"] / 2), (p, row["price"])


def test_the_budget_knows_the_profiles_but_not_the_shift_or_promotions(company):
    """volume_plan = mean demand × calendar days × trend × season (rounded to 10 units): across the shift and
    into a promoted month it moves only by the profile and the month's length."""
    ws, _monthly, truth, promotions = company
    plan = ws.sql(
        "SELECT v.product_id, p.family, v.period AS month, v.qty FROM volume_plan v JOIN products p USING (product_id)"
    ).with_columns(pl.col("month").cast(pl.Date))
    # the plan knows the mix shift (a planned change): divide it out
    plan = plan.with_columns(
        qty=pl.struct("product_id", "month", "qty").map_elements(
            lambda r: r["qty"] / mix(truth, r["product_id"], r["month"]), return_dtype=pl.Float64
        )
    )
    shift = the_shift(truth)
    start = dt.date.fromisoformat(shift["start"])
    before = dt.date(start.year, start.month - 1, 1)
    fam = plan.filter(pl.col("family") == shift["entity_id"])
    moved = fam.filter(pl.col("month") == start)["qty"].sum() / fam.filter(pl.col("month") == before)["qty"].sum()
    expected = profile(shift["entity_id"], start) / profile(shift["entity_id"], before) * days(start) / days(before)
    assert abs(moved / expected - 1) < 0.05, (moved, expected)
    for p in promotions.to_dicts():
        mine = plan.filter(pl.col("product_id") == p["product_id"])
        prev = dt.date(p["month"].year, p["month"].month - 1, 1)
        (now,) = mine.filter(pl.col("month") == p["month"])["qty"]
        (then,) = mine.filter(pl.col("month") == prev)["qty"]
        family = mine["family"][0]
        expected = profile(family, p["month"]) / profile(family, prev) * days(p["month"]) / days(prev)
        assert abs(now / then / expected - 1) < 0.05, (p, now, then, expected)
