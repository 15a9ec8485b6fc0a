"""The demo's machines wear out and its defects have causes (docs/demo-company.md "Machines wear out",
"Defects have causes")."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from opsfin.demo.master import build_company
from opsfin.demo.scales import SCALES
from opsfin.demo.wear import NEW_OPERATOR_DAYS, Hire, Wear, plan_hires


def wear_of(levels: dict[str, float]) -> Wear:
    c = build_company(SCALES["tiny"], np.random.default_rng([7, 2]))
    w = Wear(c, np.random.default_rng(0), np.random.default_rng(1))
    w.level = dict(levels)
    return w


def test_wear_moves_the_hazard_to_worn_machines_and_keeps_the_mean():
    # shapes 0.2 + wear²: 0.2 (new) and 1.2 (wear 1); their mean 0.7 → hazards 0.035 × 0.2/0.7 = 0.01 and
    # 0.035 × 1.2/0.7 = 0.06, whose mean is the base 0.035
    w = wear_of({"A": 0.0, "B": 1.0})
    w.set_mean_hazard(["A", "B"])
    assert round(w.hazard("A", 0.035), 6) == 0.01
    assert round(w.hazard("B", 0.035), 6) == 0.06


def test_planned_maintenance_leaves_a_tenth_of_the_wear_from_the_next_day():
    # wear 2, maintained today, runs 400 min of a 800-min window: 2 × 0.1 + 400/60/400 × (0.5 + 0.5) = 0.21667
    w = wear_of({"A": 2.0})
    w.start_day("A", 10, planned=True)
    assert w.at_day["A"][10] == 2.0  # the day's hazard sees the wear it started with
    w.run_today["A"] = 400.0
    w.end_day("A", 800.0, speed=1.0)
    assert round(w.level["A"], 5) == 0.21667


def test_defects_are_thinned_or_topped_up_to_the_causes_rate():
    w = wear_of({})
    assert w.defects(0, 1000, 0.012, 0.5) == 0  # thinning never adds
    assert w.defects(12, 1000, 0.012, 1.0) <= 12
    # factor 3 on a rate of 1.2 %: about 36 per 1,000 units on average
    draws = [w.defects(int(w.defect_rng.binomial(1000, 0.012)), 1000, 0.012, 3.0) for _ in range(2000)]
    assert 34 < np.mean(draws) < 38


def test_a_hire_takes_the_leavers_place_and_pay_and_is_new_for_six_weeks():
    c = build_company(SCALES["tiny"], np.random.default_rng([7, 2]))
    before = len(c.rows["employees"])
    rows = {r[0]: r for r in c.rows["employees"]}
    hires = plan_hires(c, np.random.default_rng([7, 8]))
    assert hires and [h.day for h in hires] == sorted(h.day for h in hires)
    assert [h.employee_id for h in hires] == [f"E{before + k + 1:05d}" for k in range(len(hires))]
    first = hires[0]
    leaver = c.employees[first.group][first.index][0]  # the staff lists change only when the day comes
    new = c.rows["employees"][before]
    assert new[0] == first.employee_id and new[1:] == rows[leaver][1:]  # site, cost centre, work centre, role, pay
    assert c.employee_rate[first.employee_id] == c.employee_rate[leaver]
    # the crew of the hire's work centre and shift is new on the hire day and the 41 days after, not on the 42nd
    w = wear_of({})
    wc = first.group.partition(":")[2]
    w.new_until[(wc, first.shift_id)] = [(first.day, first.day + dt.timedelta(days=NEW_OPERATOR_DAYS))]
    machine = f"{wc}-M01"
    assert w.new_operator(machine, first.shift_id, first.day)
    assert w.new_operator(machine, first.shift_id, first.day + dt.timedelta(days=41))
    assert not w.new_operator(machine, first.shift_id, first.day + dt.timedelta(days=42))
    assert not w.new_operator(machine, first.shift_id, first.day - dt.timedelta(days=1))
    assert not w.new_operator(machine, "OTHER", first.day)
    assert isinstance(first, Hire)


def test_the_tiny_demo_books_its_new_operators_from_their_hire_day(tiny_demo):
    truth = json.loads((tiny_demo.truth_dir / "anomalies.json").read_text())
    (cause,) = [t for t in truth if t["kind"] == "defect_new_operator"]
    hired = cause["description"].split("hired: ")[1].rstrip(").").split(", ")
    first_days = tiny_demo.sql(
        "SELECT employee_id, min(work_date) AS first_day, count(DISTINCT work_center_id) AS centres "
        "FROM timesheets GROUP BY ALL"
    )
    started = first_days.filter(first_days["employee_id"].is_in(hired))
    assert started.height >= 1 and set(started["centres"]) == {1}
    assert started["first_day"].max() > tiny_demo.sql("SELECT min(work_date) AS d FROM timesheets")["d"][0]


def test_the_tiny_demo_names_its_defect_causes_and_its_late_shift_shows_them(tiny_demo):
    truth = json.loads((tiny_demo.truth_dir / "anomalies.json").read_text())
    causes = {t["kind"]: t for t in truth if t["kind"].startswith("defect_")}
    assert set(causes) == {"defect_machine_wear", "defect_late_shift", "defect_supplier_lots", "defect_new_operator"}
    assert all(t["kpi"] is None and t["effect"] > 1 and t["driver"] for t in causes.values())
    late = causes["defect_late_shift"]["entity_id"]
    rates = dict(
        tiny_demo.sql(
            "SELECT o.shift_id = ? AS late, sum(q.qty_defective) / sum(q.qty_inspected) AS rate "
            "FROM quality_inspections q JOIN operations o USING (operation_id) "
            "WHERE o.work_center_id LIKE ? GROUP BY ALL",
            [late, late.split("-")[0] + "-%"],
        ).iter_rows()
    )
    assert rates[True] > 1.5 * rates[False]


def test_worn_machines_run_hotter(tiny_demo):
    """Running hours of the days after a planned maintenance are cooler than those a month on."""
    rows = tiny_demo.sql(
        "WITH pm AS (SELECT machine_id, CAST(start_at AS DATE) AS day FROM maintenance_events "
        "WHERE kind = 'planned') "
        "SELECT avg(CASE WHEN datediff('day', pm.day, CAST(r.hour_start AS DATE)) BETWEEN 1 AND 5 "
        "THEN r.temperature_c END) AS fresh, "
        "avg(CASE WHEN datediff('day', pm.day, CAST(r.hour_start AS DATE)) BETWEEN 25 AND 40 "
        "THEN r.temperature_c END) AS worn "
        "FROM machine_readings r JOIN pm USING (machine_id) WHERE r.run_minutes >= 55"
    )
    fresh, worn = rows["fresh"][0], rows["worn"][0]
    assert worn > fresh + 1.0, (fresh, worn)
