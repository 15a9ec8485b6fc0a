"""A staffing roster optimised with CP-SAT, and what a roster costs (docs/predict.md "Staffing roster").
Pure: employees, shifts and demand in; roster, coverage and cost out.

Rules, for every employee: one shift a day, only at their own work centre (or team), regular hours within
their contracted weekly hours, overtime only on a worked day and at most `max_overtime_hours_a_day`
after the shift, at least `min_rest_hours` between the end of a shift (with its overtime) and the next
one, at most `max_days_in_row` days in a row; per week, overtime at most the guardrail's share
of the hours (held per work centre, so per site too). Objective: labour cost (overtime at the employee's premium) plus a penalty per hour of
demand left uncovered. Hours are counted in tenths and money in cents, so the model is all integers."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from ortools.sat.python import cp_model

from ..core.money import timesheet_pay

TENTHS = 10
ROSTER_COLUMNS = ["employee_id", "date", "shift_id", "work_center_id", "hours", "overtime_hours"]


@dataclass(frozen=True)
class StaffingRules:
    min_rest_hours: float = 11
    max_days_in_row: int = 6
    max_overtime_hours_a_day: int = 2
    overtime_share_max: float = 0.14  # the overtime guardrail: overtime ÷ all hours, per site and week
    uncovered_penalty: Decimal = Decimal("100")  # per hour of demand left uncovered
    time_limit_seconds: float = 45
    workers: int = 8  # CP-SAT's portfolio: 8 strategies share the cores (2 workers find far worse rosters)


@dataclass(frozen=True)
class Solved:
    roster: pl.DataFrame  # ROSTER_COLUMNS
    status: str  # optimal | feasible | heuristic (a work centre ran out of time: its greedy first roster)
    objective: float  # in cents: labour + uncovered penalty
    bound: float
    seconds: float

    @property
    def gap(self) -> float:
        """(objective − best bound) ÷ objective: 0 when proven optimal."""
        return 0.0 if self.objective == 0 else max(0.0, (self.objective - self.bound) / self.objective)


def _hours_of(shift: dict[str, Any]) -> tuple[float, float]:
    start = shift["start_time"].hour + shift["start_time"].minute / 60
    return start, start + shift["hours"]


class _Model:
    """The CP-SAT variables and constraints of one roster problem."""

    def __init__(self, employees, shifts, demand, days, rules: StaffingRules, before: pl.DataFrame | None = None):
        self.m = cp_model.CpModel()
        # the shifts worked just before the roster: employee → day → (shift_id, overtime hours)
        self.before: dict[str, dict[dt.date, tuple[str, float]]] = defaultdict(dict)
        for r in before.iter_rows(named=True) if before is not None else ():
            self.before[r["employee_id"]][r["date"]] = (r["shift_id"], r["overtime_hours"])
        self.rules, self.days = rules, list(days)
        self.shift = {s["shift_id"]: s for s in shifts.iter_rows(named=True)}
        self.employees = list(employees.iter_rows(named=True))
        wanted = demand.filter(pl.col("required_hours") > 0)
        self.demand = list(wanted.iter_rows(named=True))
        unit_shifts: dict[str, set[str]] = defaultdict(set)
        for row in self.demand:
            unit_shifts[row["work_center_id"]].add(row["shift_id"])
        self.x: dict[tuple[str, dt.date, str], Any] = {}
        self.o: dict[tuple[str, dt.date, str], Any] = {}
        ot = rules.max_overtime_hours_a_day
        for e in self.employees:
            for d in self.days:
                for s in sorted(unit_shifts.get(e["work_center_id"], ())):
                    key = (e["employee_id"], d, s)
                    self.x[key] = self.m.new_bool_var(f"x{len(self.x)}")
                    if ot > 0:
                        self.o[key] = self.m.new_int_var(0, ot, f"o{len(self.o)}")
                        self.m.add(self.o[key] <= ot * self.x[key])
        self.shifts_of = {e["employee_id"]: sorted(unit_shifts.get(e["work_center_id"], ())) for e in self.employees}

    def tenths(self, shift_id: str) -> int:
        return round(self.shift[shift_id]["hours"] * TENTHS)

    def add_day_rules(self) -> None:
        """One shift a day, rest between shifts, at most `max_days_in_row` days in a row."""
        rules, ot = self.rules, self.rules.max_overtime_hours_a_day
        for e in self.employees:
            eid, mine = e["employee_id"], self.shifts_of[e["employee_id"]]
            worked = {d: sum(self.x[eid, d, s] for s in mine) for d in self.days}
            for d in self.days:
                self.m.add(worked[d] <= 1)
            for first, then in zip(self.days, self.days[1:], strict=False):
                for s1 in mine:
                    for s2 in mine:
                        gap = _hours_of(self.shift[s2])[0] + 24 - _hours_of(self.shift[s1])[1]
                        if gap < rules.min_rest_hours:
                            self.m.add(self.x[eid, first, s1] + self.x[eid, then, s2] <= 1)
                        elif ot > 0 and gap - ot < rules.min_rest_hours:
                            spare = math.floor(gap - rules.min_rest_hours)  # overtime hours that still leave the rest
                            self.m.add(self.o[eid, first, s1] + ot * self.x[eid, then, s2] <= spare + ot)
            span = rules.max_days_in_row + 1
            for i in range(len(self.days) - span + 1):
                self.m.add(sum(worked[d] for d in self.days[i : i + span]) <= rules.max_days_in_row)
            self._add_start_rules(eid, worked)

    def _add_start_rules(self, eid: str, worked: dict[dt.date, Any]) -> None:
        """The rest after the shift worked the day before the roster, and the days in a row across its start."""
        first, prior = self.days[0], self.before.get(eid, {})
        day_before = prior.get(first - dt.timedelta(days=1))
        if day_before is not None:
            ended = _hours_of(self.shift[day_before[0]])[1] + day_before[1] if day_before[0] in self.shift else 0.0
            for s in self.shifts_of[eid]:
                if _hours_of(self.shift[s])[0] + 24 - ended < self.rules.min_rest_hours:
                    self.m.add(self.x[eid, first, s] == 0)
        span = self.rules.max_days_in_row + 1
        for k in range(1, span):  # the window of `span` days that starts k days before the roster
            worked_before = sum(1 for j in range(1, k + 1) if first - dt.timedelta(days=j) in prior)
            if worked_before:
                window = sum(worked[d] for d in self.days[: span - k])
                self.m.add(window <= self.rules.max_days_in_row - worked_before)

    def add_week_rules(self) -> None:
        """Contracted hours per employee and week; the overtime guardrail per work centre and week."""
        share = round(self.rules.overtime_share_max * 1000)
        for w in range(0, len(self.days), 7):
            week = self.days[w : w + 7]
            regular_by_unit: dict[str, list] = defaultdict(list)
            overtime_by_unit: dict[str, list] = defaultdict(list)
            for e in self.employees:
                eid = e["employee_id"]
                regular = [self.tenths(s) * self.x[eid, d, s] for d in week for s in self.shifts_of[eid]]
                self.m.add(sum(regular) <= round(e["contracted_weekly_hours"] * TENTHS))
                regular_by_unit[e["work_center_id"]] += regular
                overtime_by_unit[e["work_center_id"]] += [TENTHS * self.o[eid, d, s] for d in week for s in self.shifts_of[eid] if (eid, d, s) in self.o]  # fmt: skip
            for unit, overtime in overtime_by_unit.items():
                if overtime:
                    self.m.add((1000 - share) * sum(overtime) <= share * sum(regular_by_unit[unit]))

    def add_coverage_and_cost(self) -> None:
        """Coverage with uncovered hours `u`; the objective in tenth-cents."""
        staff: dict[str, list[dict]] = defaultdict(list)
        for e in self.employees:
            staff[e["work_center_id"]].append(e)
        cost: list[Any] = []
        for row in self.demand:
            need = math.ceil(row["required_hours"] * TENTHS - 1e-9)
            unit, d, s = row["work_center_id"], row["date"], row["shift_id"]
            u = self.m.new_int_var(0, need, f"u{len(cost)}")
            keys = [(e["employee_id"], d, s) for e in staff[unit] if (e["employee_id"], d, s) in self.x]
            cover = [self.tenths(s) * self.x[k] for k in keys] + [TENTHS * self.o[k] for k in keys if k in self.o]
            self.m.add(sum(cover) + u >= need)
            cost.append(round(self.rules.uncovered_penalty * 100) * u)
        by_id = {e["employee_id"]: e for e in self.employees}
        for (eid, d, s), x in self.x.items():
            rate_cents = by_id[eid]["hourly_rate"] * 100
            cost.append(round(rate_cents * self.tenths(s)) * x)
            if (eid, d, s) in self.o:
                premium = Decimal(repr(by_id[eid]["overtime_multiplier"]))
                cost.append(round(rate_cents * premium * TENTHS) * self.o[eid, d, s])
        self.m.minimize(sum(cost))

    def add_greedy_hint(self) -> None:
        """A first roster for CP-SAT to improve: day by day, each shift staffed cheapest first while a shift's
        pay is less than the penalty of the hours it covers, within every rule, without overtime."""
        need = {(r["date"], r["shift_id"]): r["required_hours"] for r in self.demand}
        last_shift: dict[str, tuple[str, float] | None] = {}
        in_row: dict[str, int] = {}
        for e in self.employees:
            prior = self.before.get(e["employee_id"], {})
            last_shift[e["employee_id"]] = prior.get(self.days[0] - dt.timedelta(days=1))
            in_row[e["employee_id"]] = next(k for k in range(8) if self.days[0] - dt.timedelta(days=k + 1) not in prior)
        week_hours = dict.fromkeys(last_shift, 0.0)
        chosen: set[tuple[str, dt.date, str]] = set()
        by_rate = sorted(self.employees, key=lambda e: (e["hourly_rate"], e["employee_id"]))
        for i, d in enumerate(self.days):
            if i % 7 == 0:
                week_hours = dict.fromkeys(week_hours, 0.0)
            today: set[str] = set()
            for s in sorted({s for (day, s) in need if day == d}, key=lambda s: _hours_of(self.shift[s])[0]):
                left, hours = need[d, s], self.shift[s]["hours"]
                for e in by_rate:
                    eid = e["employee_id"]
                    worth = e["hourly_rate"] * Decimal(repr(hours)) < self.rules.uncovered_penalty * Decimal(
                        repr(min(left, hours))
                    )
                    if left <= 0 or not worth:
                        break
                    if eid in today or (eid, d, s) not in self.x or in_row[eid] >= self.rules.max_days_in_row:
                        continue
                    if week_hours[eid] + hours > e["contracted_weekly_hours"] or not self._rested(last_shift[eid], s):
                        continue
                    chosen.add((eid, d, s))
                    today.add(eid)
                    week_hours[eid] += hours
                    left -= hours
            for eid in last_shift:
                worked = [s for (e2, d2, s) in chosen if e2 == eid and d2 == d]
                last_shift[eid] = (worked[0], 0.0) if worked else None
                in_row[eid] = in_row[eid] + 1 if worked else 0
        self.hint = chosen
        for key, x in self.x.items():
            self.m.add_hint(x, key in chosen)
        for o in self.o.values():
            self.m.add_hint(o, 0)

    def _rested(self, before: tuple[str, float] | None, then: str) -> bool:
        """Whether `then` may follow yesterday's shift and overtime `before`."""
        if before is None or before[0] not in self.shift:
            return True
        ended = _hours_of(self.shift[before[0]])[1] + before[1]
        return _hours_of(self.shift[then])[0] + 24 - ended >= self.rules.min_rest_hours


def _solve_unit(
    employees, shifts, demand, days, rules: StaffingRules, seconds: float, before
) -> tuple[list[dict], Solved]:
    model = _Model(employees, shifts, demand, days, rules, before)
    model.add_day_rules()
    model.add_week_rules()
    model.add_coverage_and_cost()
    model.add_greedy_hint()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 2.0)
    solver.parameters.num_workers = rules.workers
    solver.parameters.linearization_level = 2
    solver.parameters.random_seed = 7
    status = solver.solve(model.m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):  # out of time before a first roster: the hint
        unit = {e["employee_id"]: e["work_center_id"] for e in model.employees}
        rows = [{"employee_id": eid, "date": d, "shift_id": s, "work_center_id": unit[eid],
                 "hours": model.shift[s]["hours"], "overtime_hours": 0.0} for (eid, d, s) in sorted(model.hint)]  # fmt: skip
        return rows, Solved(pl.DataFrame(), "heuristic", 0.0, 0.0, solver.wall_time)
    unit = {e["employee_id"]: e["work_center_id"] for e in model.employees}
    rows = [
        {"employee_id": eid, "date": d, "shift_id": s, "work_center_id": unit[eid], "hours": model.shift[s]["hours"],
         "overtime_hours": float(solver.value(model.o[eid, d, s])) if (eid, d, s) in model.o else 0.0}
        for (eid, d, s), x in model.x.items() if solver.boolean_value(x)
    ]  # fmt: skip
    status_name = "optimal" if status == cp_model.OPTIMAL else "feasible"
    empty = pl.DataFrame()
    return rows, Solved(
        empty, status_name, solver.objective_value / TENTHS, solver.best_objective_bound / TENTHS, solver.wall_time
    )


def solve_roster(
    employees: pl.DataFrame,
    shifts: pl.DataFrame,
    demand: pl.DataFrame,
    days: Sequence[dt.date],
    rules: StaffingRules,
    before: pl.DataFrame | None = None,
) -> Solved:
    """The cheapest roster under the rules. `employees`: employee_id, site_id, work_center_id (where they
    may work), hourly_rate (Decimal), overtime_multiplier, contracted_weekly_hours; `shifts`: shift_id,
    site_id, start_time, hours; `demand`: site_id, work_center_id, date, shift_id, required_hours; `before`
    (optional): the shifts worked in the days just before (employee_id, date, shift_id, overtime_hours), which
    count toward the rest of the first day and the days in a row.

    No rule ties two work centres together (the overtime guardrail is held per work centre, which keeps
    every site within it too), so each work centre is its own CP-SAT model, given a share of the time
    limit in proportion to its employees."""
    units = sorted(set(employees["work_center_id"].to_list()))
    left_seconds, left_staff = rules.time_limit_seconds, employees.height
    rows: list[dict] = []
    objective = bound = seconds = 0.0
    statuses: set[str] = set()
    for unit in units:
        staff = employees.filter(pl.col("work_center_id") == unit)
        budget = left_seconds * staff.height / left_staff
        unit_demand = demand.filter(pl.col("work_center_id") == unit)
        unit_rows, solved = _solve_unit(staff, shifts, unit_demand, days, rules, budget, before)
        rows += unit_rows
        objective, bound, seconds = objective + solved.objective, bound + solved.bound, seconds + solved.seconds
        statuses.add(solved.status)
        left_seconds, left_staff = max(0.0, left_seconds - solved.seconds), left_staff - staff.height
    schema = dict.fromkeys(ROSTER_COLUMNS, pl.Utf8) | {
        "date": pl.Date,
        "hours": pl.Float64,
        "overtime_hours": pl.Float64,
    }
    roster = pl.DataFrame(rows, schema=schema).sort("employee_id", "date")
    status = next(s for s in ("heuristic", "feasible", "optimal") if s in statuses | {"optimal"})
    return Solved(roster, status, objective, bound, seconds)


def roster_cost(
    roster: pl.DataFrame, employees: pl.DataFrame, demand: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The coverage (site_id, work_center_id, date, shift_id, required_hours, planned_hours) of a roster
    against the demand, and its cost: regular and overtime pay (timesheet_pay, row by row), their total,
    the hours of demand left uncovered and the hours staffed beyond demand (idle)."""
    keys = ["work_center_id", "date", "shift_id"]
    planned = roster.group_by(keys).agg(planned_hours=(pl.col("hours") + pl.col("overtime_hours")).sum())
    site_of = employees.select("work_center_id", "site_id").unique("work_center_id")
    coverage = (
        demand.select("site_id", *keys, "required_hours")
        .join(planned, on=keys, how="full", coalesce=True)
        .join(site_of.rename({"site_id": "staff_site"}), on="work_center_id", how="left")
        .with_columns(
            site_id=pl.coalesce("site_id", "staff_site"),
            required_hours=pl.col("required_hours").fill_null(0.0).round(2),
            planned_hours=pl.col("planned_hours").fill_null(0.0),
        )
        .filter((pl.col("required_hours") > 0) | (pl.col("planned_hours") > 0))
        .select("site_id", *keys, "required_hours", "planned_hours")
        .sort("site_id", *keys)
    )
    pay = {e["employee_id"]: e for e in employees.iter_rows(named=True)}
    regular = overtime = Decimal(0)
    for r in roster.iter_rows(named=True):
        e = pay[r["employee_id"]]
        regular += timesheet_pay(r["hours"], 0, e["hourly_rate"])
        overtime += timesheet_pay(0, r["overtime_hours"], e["hourly_rate"], e["overtime_multiplier"])
    short = (pl.col("required_hours") - pl.col("planned_hours")).clip(lower_bound=0).sum()
    idle = (pl.col("planned_hours") - pl.col("required_hours")).clip(lower_bound=0).sum()
    gaps = coverage.select(short=short, idle=idle).row(0, named=True)
    return coverage, {
        "total": regular + overtime,
        "regular": regular,
        "overtime": overtime,
        "uncovered_hours": round(gaps["short"] or 0.0, 2),
        "idle_hours": round(gaps["idle"] or 0.0, 2),
    }
