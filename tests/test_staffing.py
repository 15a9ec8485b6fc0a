"""The staffing roster's pieces worked by hand (docs/predict.md "Staffing roster"): Erlang C, the demand
patterns, and small rosters whose cheapest answer is known. The roster of the tiny demo, checked rule by
rule by an independent checker, is in test_staffing_demo.py."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import polars as pl
import pytest

from opsfin.predict.erlang import agents_needed, erlang_c, service_level
from opsfin.predict.staffing import StaffingRules, roster_cost, solve_roster
from opsfin.predict.staffing_demand import assign_shift, expand, production_pattern, scale_to_plan

MONDAY = dt.date(2024, 1, 1)
WEEK = [MONDAY + dt.timedelta(days=i) for i in range(7)]
SHIFTS = pl.DataFrame(
    {"shift_id": ["E", "L", "N"], "site_id": ["P1"] * 3, "start_time": [dt.time(6), dt.time(14), dt.time(22)],
     "hours": [8.0, 8.0, 8.0]}
)  # fmt: skip


def test_erlang_c_worked_by_hand():
    # 2 erlangs on 3 agents: Erlang B 1 → 2/3 → 0.4 → 0.8/3.8; C = 3B / (3 − 2(1 − B)) = 4/9
    assert erlang_c(2.0, 3) == pytest.approx(4 / 9)
    assert erlang_c(2.0, 2) == 1.0  # the agents cannot keep up
    # 120 tickets an hour of 1 minute = 2 erlangs; answered within 20 s: 1 − 4/9 · e^(−(3 − 2) · 20/60)
    assert service_level(120, 1.0, 3, 1 / 3) == pytest.approx(1 - 4 / 9 * math.exp(-1 / 3))
    # 4 agents: B = 0.4/4.4210526 = 0.0952381, C = 0.3809524/2.1904762 = 0.173913, SL = 1 − C·e^(−2/3) = 0.9107
    assert service_level(120, 1.0, 4, 1 / 3) == pytest.approx(0.910710, abs=1e-6)
    assert agents_needed(120, 1.0, 0.8, 1 / 3) == 4  # 3 agents reach only 0.68
    assert agents_needed(0, 30.0, 0.8, 30) == 0


def test_a_night_shift_moment_after_midnight_belongs_to_the_day_before():
    moments = pl.DataFrame({"site_id": ["P1"] * 3, "at": [dt.datetime(2024, 1, 2, 3), dt.datetime(2024, 1, 2, 13, 59),
                            dt.datetime(2024, 1, 2, 23)]})  # fmt: skip
    placed = assign_shift(moments, "at", SHIFTS).sort("at")
    assert placed["shift_id"].to_list() == ["N", "E", "N"]
    assert placed["shift_date"].to_list() == [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 2)]


def test_the_run_rate_is_the_weekly_average_and_a_plan_scales_it():
    ops = pl.DataFrame(
        {"site_id": ["P1"] * 3, "work_center_id": ["WC"] * 3, "shift_id": ["E"] * 3,
         "start_at": [dt.datetime(2024, 1, 1, 7), dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 8, 7)],
         "labor_minutes": [120.0, 60.0, 180.0]}
    )  # fmt: skip
    pattern = production_pattern(ops, weeks=2)
    # two Mondays: 3 h and 3 h → 3 h a Monday
    assert pattern.to_dicts() == [
        {"site_id": "P1", "work_center_id": "WC", "weekday": 0, "shift_id": "E", "required_hours": 3.0}
    ]
    feb = expand(pattern, [dt.date(2024, 2, 5), dt.date(2024, 2, 6), dt.date(2024, 2, 12)])
    assert feb["date"].to_list() == [dt.date(2024, 2, 5), dt.date(2024, 2, 12)]  # Mondays only
    # the plan asks 232 machine hours in February (29 days) against a run rate of 4 a day: twice the run rate
    plan = pl.DataFrame({"work_center_id": ["WC"], "period": [dt.date(2024, 2, 1)], "required_hours": [232.0]})
    run_rate = pl.DataFrame({"work_center_id": ["WC"], "hours_per_day": [4.0]})
    assert scale_to_plan(feb, run_rate, plan)["required_hours"].to_list() == [6.0, 6.0]


def staff(rates: list[str], multiplier: float = 1.5, contracted: float = 40.0) -> pl.DataFrame:
    return pl.DataFrame(
        {"employee_id": [f"E{i}" for i in range(len(rates))], "site_id": ["P1"] * len(rates),
         "work_center_id": ["WC"] * len(rates), "hourly_rate": [Decimal(r) for r in rates],
         "overtime_multiplier": [multiplier] * len(rates), "contracted_weekly_hours": [contracted] * len(rates)},
        schema_overrides={"hourly_rate": pl.Decimal(18, 4)},
    )  # fmt: skip


def demand(rows: list[tuple[dt.date, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"site_id": ["P1"] * len(rows), "work_center_id": ["WC"] * len(rows), "date": [r[0] for r in rows],
         "shift_id": [r[1] for r in rows], "required_hours": [r[2] for r in rows]}
    )  # fmt: skip


def test_a_week_of_two_shifts_goes_to_the_cheapest_within_contracts_and_rest():
    # 14 shifts of 8 h; contracts of 40 h = 5 shifts: the 20/h and 30/h employees work 5 each, the 40/h one 4
    # → 5·8·20 + 5·8·30 + 4·8·40 = 800 + 1200 + 1280 = 3280 (any roster covering all 14 costs at least that)
    employees = staff(["20", "30", "40"])
    need = demand([(d, s, 8.0) for d in WEEK for s in ("E", "L")])
    solved = solve_roster(employees, SHIFTS, need, WEEK, StaffingRules(time_limit_seconds=10))
    coverage, cost = roster_cost(solved.roster, employees, need)
    assert cost == {"total": Decimal("3280.00"), "regular": Decimal("3280.00"), "overtime": Decimal("0.00"),
                    "uncovered_hours": 0.0, "idle_hours": 0.0}  # fmt: skip
    assert solved.roster.group_by("employee_id").len().sort("employee_id")["len"].to_list() == [5, 5, 4]
    assert coverage["planned_hours"].to_list() == [8.0] * 14
    assert solved.status == "optimal" and solved.gap == 0.0


@pytest.mark.parametrize(
    ("share", "overtime", "uncovered", "total"),
    [
        # 10 h on one day of a week: one shift of 8 h at 20/h plus overtime at 30/h. Overtime ÷ all hours ≤ 0.14
        # allows 1 h (2/10 > 0.14): 160 + 30 = 190, 1 h uncovered (penalty 100 < a second shift's 160)
        (0.14, 1.0, 1.0, Decimal("190.00")),
        # ≤ 0.25 allows 2 h (2/10 = 0.2): 160 + 60 = 220, all covered
        (0.25, 2.0, 0.0, Decimal("220.00")),
    ],
)
def test_overtime_is_cheaper_than_a_second_shift_within_the_guardrail(share, overtime, uncovered, total):
    employees = staff(["20", "20"])
    need = demand([(MONDAY, "E", 10.0)])
    rules = StaffingRules(overtime_share_max=share, time_limit_seconds=10)
    solved = solve_roster(employees, SHIFTS, need, WEEK, rules)
    _, cost = roster_cost(solved.roster, employees, need)
    assert solved.roster["overtime_hours"].to_list() == [overtime]
    assert (cost["total"], cost["uncovered_hours"], cost["idle_hours"]) == (total, uncovered, 0.0)


def test_a_late_shift_is_never_followed_by_an_early_one():
    # one employee; Monday late (ends 22:00) and Tuesday early (starts 06:00): 8 h apart, under 11 h of rest
    employees = staff(["20"])
    need = demand([(WEEK[0], "L", 8.0), (WEEK[1], "E", 8.0)])
    solved = solve_roster(employees, SHIFTS, need, WEEK, StaffingRules(time_limit_seconds=10))
    assert solved.roster.height == 1
    _, cost = roster_cost(solved.roster, employees, need)
    assert cost["uncovered_hours"] == 8.0


def test_the_days_just_before_the_roster_count_for_rest_and_days_in_a_row():
    employees = staff(["20", "20"])
    need = demand([(WEEK[0], "E", 8.0), (WEEK[0], "L", 8.0)])
    # E0 worked the six days before Monday: a seventh day in a row is not allowed. E1 worked Sunday's late
    # shift with 2 h overtime (until 24:00): Monday's early shift (06:00) is 6 h later, the late one (14:00) 14 h
    sunday = MONDAY - dt.timedelta(days=1)
    before = pl.DataFrame(
        {"employee_id": ["E0"] * 6 + ["E1"], "date": [sunday - dt.timedelta(days=k) for k in range(6)] + [sunday],
         "shift_id": ["E"] * 6 + ["L"], "overtime_hours": [0.0] * 6 + [2.0]}
    )  # fmt: skip
    solved = solve_roster(employees, SHIFTS, need, WEEK, StaffingRules(time_limit_seconds=10), before)
    assert solved.roster.select("employee_id", "shift_id").rows() == [("E1", "L")]
    # without the days before, both shifts are staffed
    solved = solve_roster(employees, SHIFTS, need, WEEK, StaffingRules(time_limit_seconds=10))
    assert sorted(solved.roster["shift_id"].to_list()) == ["E", "L"]
