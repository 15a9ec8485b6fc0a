"""The maintenance risk engine on small synthetic machines with a planted signal, the as-of rule of its
panel, and the money of a breakdown worked by hand."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.predict.failure_cost import machine_costs
from opsfin.predict.maintenance import fit_risk, maintenance_risk, priced, recommendation
from opsfin.predict.maintenance_features import FEATURES, machine_day_panel

START = dt.date(2024, 1, 1)
DAYS = 420
MACHINES = [f"M{i}" for i in range(1, 7)]


def wearing_machines(seed: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Six machines breaking down at random intervals (20-60 days); in the 8 days before each breakdown the
    machine's vibration climbs from 2 to 6 mm/s; otherwise it is 2 mm/s with noise. Same load everywhere."""
    rng = random.Random(seed)
    daily, events = [], []
    for m in MACHINES:
        failures, day = [], rng.randint(5, 40)
        while day < DAYS:
            failures.append(day)
            day += rng.randint(20, 60)
        for d in range(DAYS):
            ahead = min((f - d for f in failures if f >= d), default=99)
            vibration = 2 + (0.5 * (8 - ahead) if ahead < 8 else 0) + rng.gauss(0, 0.15)
            daily.append((m, START + dt.timedelta(days=d), 16.0, 16.0, 300.0, 60 + rng.gauss(0, 1), vibration))
        events += [(m, "breakdown", dt.datetime.combine(START + dt.timedelta(days=f), dt.time(10))) for f in failures]
    schema = ["machine_id", "day", "run_hours", "planned_hours", "kwh", "temperature_c", "vibration_mm_s"]
    return (
        pl.DataFrame(daily, schema=schema, orient="row"),
        pl.DataFrame(events, schema=["machine_id", "kind", "start_at"], orient="row"),
    )


@pytest.fixture(scope="module")
def history():
    return wearing_machines()


def _costs() -> pl.DataFrame:
    return pl.DataFrame(
        [(m, Decimal("1000.00"), Decimal("300.00")) for m in MACHINES],
        schema={
            "machine_id": pl.Utf8,
            "breakdown_cost": pl.Decimal(18, 2),
            "planned_maintenance_cost": pl.Decimal(18, 2),
        },
        orient="row",
    )


def test_the_machine_whose_vibration_climbs_ranks_first_and_vibration_drives_it(history):
    daily, events = history
    last = START + dt.timedelta(days=DAYS - 1)
    starts = events["start_at"].dt.date()
    # the as-of days where exactly one machine breaks down 2-5 days later, and none in the 14 days after but it
    hits = 0
    for d in range(240, DAYS - 20, 2):
        day = START + dt.timedelta(days=d)
        due = events.filter(starts.is_between(day + dt.timedelta(days=2), day + dt.timedelta(days=5)))
        within = events.filter(starts.is_between(day + dt.timedelta(days=1), day + dt.timedelta(days=14)))
        if due.height != 1 or within.height != 1:
            continue
        panel = machine_day_panel(daily.filter(pl.col("day") <= day), events.filter(starts <= day), day, 14)
        result = maintenance_risk(panel, _costs(), day, 14)
        top = result["machines"][0]
        assert top["machine_id"] == due["machine_id"][0], (day, result["machines"][:2])
        assert top["drivers"][0]["feature"] in ("vibration_7d", "vibration_trend")
        hits += 1
    assert hits >= 3 and last > day


def test_a_panel_row_does_not_change_when_later_rows_are_added(history):
    daily, events = history
    cut = START + dt.timedelta(days=200)
    short = machine_day_panel(
        daily.filter(pl.col("day") <= cut), events.filter(pl.col("start_at").dt.date() <= cut), cut, 14
    )
    full = machine_day_panel(daily, events, START + dt.timedelta(days=DAYS - 1), 14)
    same_days = full.filter(pl.col("day") <= cut).select("machine_id", "day", *FEATURES)
    assert short.select("machine_id", "day", *FEATURES).equals(same_days)
    # labels known by the cut-off are the same; those whose horizon passes it are unknown in the short panel
    known = short.filter(pl.col("day") <= cut - dt.timedelta(days=14))
    assert known["label"].null_count() == 0
    assert known["label"].equals(full.filter(pl.col("day") <= cut - dt.timedelta(days=14))["label"])
    assert short.filter(pl.col("day") > cut - dt.timedelta(days=14))["label"].null_count() == 6 * 14


def test_the_model_trains_only_on_days_whose_horizon_ends_by_the_as_of_date(history):
    daily, events = history
    day = START + dt.timedelta(days=250)
    full = machine_day_panel(daily, events, START + dt.timedelta(days=DAYS - 1), 14)
    # scrambling every label after the as-of date's last complete window changes nothing
    scrambled = full.with_columns(
        label=pl.when(pl.col("day") > day - dt.timedelta(days=14)).then(1 - pl.col("label")).otherwise(pl.col("label"))
    )
    a = maintenance_risk(full, _costs(), day, 14)
    b = maintenance_risk(scrambled, _costs(), day, 14)
    assert a == b


def test_the_running_features_by_hand():
    daily = pl.DataFrame(
        {"machine_id": ["A"] * 5, "day": [START + dt.timedelta(days=i) for i in range(5)],
         "run_hours": [10.0, 8.0, 0.0, 6.0, 4.0], "planned_hours": [16.0, 16.0, 16.0, 8.0, 8.0],
         "kwh": [100.0, 80.0, 5.0, 60.0, 40.0], "temperature_c": [50.0, 52.0, None, 54.0, 56.0],
         "vibration_mm_s": [2.0, 2.0, None, 3.0, 3.0]}
    )  # fmt: skip
    events = pl.DataFrame(
        {"machine_id": ["A", "A"], "kind": ["planned", "breakdown"],
         "start_at": [dt.datetime(2024, 1, 2, 6), dt.datetime(2024, 1, 5, 9)]}
    )  # fmt: skip
    p = machine_day_panel(daily, events, START + dt.timedelta(days=4), 2).to_dicts()
    # the planned maintenance on day 2 starts a new count: 8 + 0 + 6 + 4
    assert [r["run_hours_since_maintenance"] for r in p] == [10.0, 8.0, 8.0, 14.0, 18.0]
    assert [r["days_since_maintenance"] for r in p] == [0, 0, 1, 2, 3]
    assert [r["breakdowns_30d"] for r in p] == [0, 0, 0, 0, 1]
    # kWh per run hour over the 5 days: (100 + 80 + 5 + 60 + 40) / 28
    assert p[4]["kwh_per_run_hour_7d"] == pytest.approx(285 / 28)
    assert p[4]["utilisation_7d"] == pytest.approx(28 / 64)
    # the idle day keeps the last temperature: mean of 50, 52, 52, 54, 56
    assert p[4]["temperature_7d"] == pytest.approx(52.8)
    # a breakdown on day 5, 2-day horizon: day 3 sees it; the windows of days 4 and 5 reach past the last day
    assert [r["label"] for r in p] == [0, 0, 1, None, None]


def test_the_money_of_a_breakdown_by_hand():
    t = dt.datetime(2024, 3, 1, 8)
    h = dt.timedelta(hours=1)
    events = pl.DataFrame(
        [("A", "breakdown", t, t + 1 * h, Decimal("100.00"), 2.0),
         ("A", "breakdown", t, t + 2 * h, Decimal("200.00"), 4.0),
         ("A", "breakdown", t, t + 3 * h, Decimal("300.00"), 6.0),
         ("A", "planned", t, t + 1 * h, Decimal("50.00"), 1.0),
         ("B", "planned", t, t + 5 * h, Decimal("10.00"), 0.0)],
        schema={"machine_id": pl.Utf8, "kind": pl.Utf8, "start_at": pl.Datetime("us"), "end_at": pl.Datetime("us"),
                "parts_cost": pl.Decimal(18, 2), "labor_hours": pl.Float64},
        orient="row",
    )  # fmt: skip
    machines = pl.DataFrame({"machine_id": ["A", "B"], "work_center_id": ["WC1", "WC2"]})
    costs = machine_costs(events, machines, Decimal("50"), {"WC1": Decimal("150"), "WC2": Decimal("20")})
    a, b = costs.to_dicts()
    # A: parts 200 + 4 h × 50 + 2 h down × 150 = 700; planned: A has one (< 3 of its own), so the company's
    # two: parts 30 + 0.5 h × 50 + 3 h down × 150 = 505
    assert a["breakdown_cost"] == Decimal("700.00") and a["breakdown_hours"] == 2.0
    assert a["planned_maintenance_cost"] == Decimal("505.00")
    # B never broke down: the company's breakdowns at WC2's contribution: 200 + 200 + 2 × 20 = 440
    assert b["breakdown_cost"] == Decimal("440.00") and b["planned_maintenance_cost"] == Decimal("115.00")
    risk, expected, planned = priced(0.25, a)
    assert (risk, expected, planned) == (0.25, Decimal("175.00"), Decimal("505.00"))
    assert recommendation(risk, expected, planned, 0.2) == "monitor"
    assert recommendation(0.8, Decimal("560.00"), planned, 0.2) == "maintain_now"
    assert recommendation(0.1, Decimal("70.00"), planned, 0.2) == "ok"


def test_too_little_history_is_a_user_error(history):
    daily, events = history
    day = START + dt.timedelta(days=14)  # one day of each machine has a complete horizon
    panel = machine_day_panel(daily, events, day, 14)
    with pytest.raises(UserError, match="too little history"):
        fit_risk(panel, day, 14)
