"""`opsfin plan staffing` on the tiny demo, checked by a checker that shares no code with the roster: one
shift a day, 11 h of rest (overtime counted), at most 6 days in a row, only the employee's own work centre
or team, overtime within the guardrail, coverage and cost as reported, and no dearer than the baseline."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from typer.testing import CliRunner

import opsfin
from opsfin.cli import app

ROSTER_KEYS = {"employee_id", "date", "shift_id", "work_center_id", "hours", "overtime_hours"}
COVERAGE_KEYS = {"site_id", "work_center_id", "date", "shift_id", "required_hours", "planned_hours"}
COST_KEYS = {"total", "regular", "overtime", "uncovered_hours", "idle_hours"}


@pytest.fixture(scope="module")
def staffing(tiny_demo):
    args = ["plan", "staffing", "--from", "2024-03-04", "--weeks", "4", "--time-limit", "10", "--format", "json"]
    result = CliRunner().invoke(app, [*args, "-w", str(tiny_demo.path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _shifts(ws) -> dict[str, tuple[dt.time, float]]:
    return {r["shift_id"]: (r["start_time"], r["hours"]) for r in ws.table("shifts").iter_rows(named=True)}


def test_the_json_has_the_keys_of_the_feature(staffing):
    assert {"roster", "coverage", "cost", "baseline"} <= set(staffing)
    assert staffing["roster"] and all(set(r) == ROSTER_KEYS for r in staffing["roster"])
    assert all(set(r) == COVERAGE_KEYS for r in staffing["coverage"])
    assert set(staffing["cost"]) == COST_KEYS and set(staffing["baseline"]) == COST_KEYS
    days = {r["date"] for r in staffing["roster"]}
    assert min(days) >= "2024-03-04" and max(days) <= "2024-03-31"


def test_one_shift_a_day_rest_and_days_in_a_row(staffing, tiny_demo):
    shifts = _shifts(tiny_demo)
    worked: dict[str, dict[dt.date, dict]] = defaultdict(dict)
    # the timesheets of the six days before the roster count too (rest on its first day, days in a row)
    before = tiny_demo.sql(
        "SELECT employee_id, work_date, shift_id, overtime_hours FROM timesheets "
        "WHERE work_date BETWEEN '2024-02-27' AND '2024-03-03'"
    )
    rostered = {r["employee_id"] for r in staffing["roster"]}
    for r in before.iter_rows(named=True):
        if r["employee_id"] in rostered:
            worked[r["employee_id"]][r["work_date"]] = r
    for r in staffing["roster"]:
        day = dt.date.fromisoformat(r["date"])
        assert day not in worked[r["employee_id"]], f"{r['employee_id']} works twice on {day}"
        worked[r["employee_id"]][day] = r
    for employee, days in worked.items():
        spans = []
        for day, r in sorted(days.items()):
            start_time, hours = shifts[r["shift_id"]]
            begin = dt.datetime.combine(day, start_time)
            spans.append((begin, begin + dt.timedelta(hours=hours + r["overtime_hours"])))
        for (_, end), (begin, _) in zip(spans, spans[1:], strict=False):
            assert begin - end >= dt.timedelta(hours=11), f"{employee}: {end} to {begin}"
        run, previous = 0, None
        for day in sorted(days):
            run = run + 1 if previous == day - dt.timedelta(days=1) else 1
            previous = day
            assert run <= 6, f"{employee} works 7 days in a row up to {day}"


def test_only_their_own_work_centre_or_team_and_overtime_within_the_guardrail(staffing, tiny_demo):
    home = {r["employee_id"]: r["work_center_id"] or r["cost_center_id"] for r in tiny_demo.table("employees").iter_rows(named=True)}  # fmt: skip
    assert all(r["work_center_id"] == home[r["employee_id"]] for r in staffing["roster"])
    hours, overtime = defaultdict(float), defaultdict(float)
    for r in staffing["roster"]:
        week = (dt.date.fromisoformat(r["date"]) - dt.date(2024, 3, 4)).days // 7
        hours[r["work_center_id"], week] += r["hours"] + r["overtime_hours"]
        overtime[r["work_center_id"], week] += r["overtime_hours"]
        assert 0 <= r["overtime_hours"] <= 2
    assert all(overtime[k] <= 0.14 * hours[k] + 1e-9 for k in hours)  # model/guardrails.yaml: at most 14 %


def test_coverage_and_cost_are_as_reported(staffing, tiny_demo):
    planned = defaultdict(float)
    for r in staffing["roster"]:
        planned[r["work_center_id"], r["date"], r["shift_id"]] += r["hours"] + r["overtime_hours"]
    reported = {(c["work_center_id"], c["date"], c["shift_id"]): c for c in staffing["coverage"]}
    assert {k for k, v in planned.items() if v > 0} <= set(reported)
    for key, c in reported.items():
        assert c["planned_hours"] == pytest.approx(planned.get(key, 0.0))
    short = sum(max(0.0, c["required_hours"] - c["planned_hours"]) for c in staffing["coverage"])
    idle = sum(max(0.0, c["planned_hours"] - c["required_hours"]) for c in staffing["coverage"])
    assert staffing["cost"]["uncovered_hours"] == pytest.approx(short, abs=0.01)
    assert staffing["cost"]["idle_hours"] == pytest.approx(idle, abs=0.01)
    pay = {r["employee_id"]: r for r in tiny_demo.table("employees").iter_rows(named=True)}
    cent = Decimal("0.01")
    regular = overtime = Decimal(0)
    for r in staffing["roster"]:
        rate, premium = pay[r["employee_id"]]["hourly_rate"], Decimal(str(pay[r["employee_id"]]["overtime_multiplier"]))
        regular += (Decimal(str(r["hours"])) * rate).quantize(cent, ROUND_HALF_EVEN)
        overtime += (Decimal(str(r["overtime_hours"])) * rate * premium).quantize(cent, ROUND_HALF_EVEN)
    assert Decimal(staffing["cost"]["regular"]) == regular
    assert Decimal(staffing["cost"]["overtime"]) == overtime
    assert Decimal(staffing["cost"]["total"]) == regular + overtime


def test_the_roster_costs_no_more_than_the_baseline_and_leaves_less_idle(staffing):
    roster, baseline = staffing["cost"], staffing["baseline"]
    assert Decimal(roster["total"]) <= Decimal(baseline["total"])
    assert roster["idle_hours"] < baseline["idle_hours"]
    assert Decimal(staffing["saving"]["cost"]) == Decimal(baseline["total"]) - Decimal(roster["total"])


def test_the_baseline_is_the_timesheets_of_the_same_weeks(staffing, tiny_demo):
    rows = tiny_demo.sql(
        "SELECT e.hourly_rate AS rate, e.overtime_multiplier AS m, t.regular_hours AS r, t.overtime_hours AS o "
        "FROM timesheets t JOIN employees e USING (employee_id) JOIN cost_centers c ON c.cost_center_id = e.cost_center_id "
        "WHERE t.work_date BETWEEN '2024-03-04' AND '2024-03-31' AND (e.work_center_id IS NOT NULL OR c.kind IN ('warehouse', 'support'))"
    )
    cent = Decimal("0.01")
    regular = sum(
        (Decimal(str(r["r"])) * r["rate"]).quantize(cent, ROUND_HALF_EVEN) for r in rows.iter_rows(named=True)
    )
    assert Decimal(staffing["baseline"]["regular"]) == regular


def test_a_plan_version_scales_production_demand_by_plan_over_run_rate(staffing, tiny_demo, tmp_path):
    copy = tmp_path / "ws"
    shutil.copytree(tiny_demo.path, copy)
    ws = opsfin.open(copy)
    # the run rate of P1-MACH: its setup + run hours over the 8 weeks (56 days) before the roster
    machine = ws.sql(
        "SELECT sum(setup_minutes + run_minutes) / 60 / 56 AS h FROM operations "
        "WHERE work_center_id = 'P1-MACH' AND start_at >= '2024-01-08' AND start_at < '2024-03-04'"
    )["h"][0]
    with ws.connect() as con:  # a plan twice the run rate for March (31 days)
        con.execute(
            "INSERT INTO plan_capacity VALUES ('TWICE', '2024-03-01', 'P1-MACH', ?, 1000, 0.5, 0, 'test')",
            [2 * machine * 31],
        )
    args = ["plan", "staffing", "--from", "2024-03-04", "--weeks", "1", "--version", "TWICE", "--time-limit", "3"]
    result = CliRunner().invoke(app, [*args, "--format", "json", "-w", str(copy)])
    assert result.exit_code == 0, result.output
    planned = {
        (c["work_center_id"], c["date"], c["shift_id"]): c["required_hours"]
        for c in json.loads(result.stdout)["coverage"]
    }
    run_rate = {
        (c["work_center_id"], c["date"], c["shift_id"]): c["required_hours"]
        for c in staffing["coverage"]
        if c["date"] <= "2024-03-10"
    }
    mach = [k for k in run_rate if k[0] == "P1-MACH" and run_rate[k] > 0]
    assert mach
    for key in mach:
        assert planned[key] == pytest.approx(2 * run_rate[key], abs=0.02)
    others = [k for k in run_rate if k[0] != "P1-MACH" and run_rate[k] > 0]
    assert all(planned[k] == pytest.approx(run_rate[k], abs=0.005) for k in others)
