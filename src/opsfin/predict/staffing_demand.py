"""The labour a roster must cover, per work centre (or team), shift and day (docs/predict.md "Staffing
roster"). Pure: history frames in, demand frames out.

- Production: the labour minutes the operations booked per work centre, shift and weekday over the
  history weeks (the recent run rate), or that pattern scaled per month to a plan's required hours.
- Warehouses: the hours of the warehouse tasks (receive, put away, pick, pack, load) per shift and
  weekday, for the site's warehouse cost centre.
- Support teams: tickets per hour of the day and weekday, each hour staffed with the agents Erlang C
  needs to reach the service level; the agent-hours of a shift are its required hours.

Every history figure is a weekly average: the total over the history weeks divided by their number. A
demand row's `work_center_id` is the work centre, or the warehouse or support cost centre."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from .erlang import agents_needed

PATTERN_KEYS = ["site_id", "work_center_id", "weekday", "shift_id"]
MINUTES_A_DAY = 24 * 60


def assign_shift(frame: pl.DataFrame, at: str, shifts: pl.DataFrame) -> pl.DataFrame:
    """`frame` (with `site_id` and the timestamp column `at`) with the `shift_id` of the site's shift the
    moment falls in, and `shift_date`, the day that shift started (a night shift's small hours belong to
    the day before). Moments outside every shift are left out."""
    minute = pl.col(at).dt.hour().cast(pl.Int32) * 60 + pl.col(at).dt.minute().cast(pl.Int32)
    start = pl.col("start_time").dt.hour().cast(pl.Int32) * 60 + pl.col("start_time").dt.minute().cast(pl.Int32)
    end = start + (pl.col("shift_hours") * 60).cast(pl.Int32)
    joined = frame.join(shifts.select("site_id", "shift_id", "start_time", shift_hours="hours"), on="site_id")
    inside_today = (minute >= start) & (minute < end)
    after_midnight = (end > MINUTES_A_DAY) & (minute < end - MINUTES_A_DAY)
    return (
        joined.filter(inside_today | after_midnight)
        .with_columns(
            shift_date=pl.when(inside_today)
            .then(pl.col(at).dt.date())
            .otherwise(pl.col(at).dt.date() - pl.duration(days=1))
        )
        .drop("start_time", "shift_hours")
    )


def weekly_pattern(hours: pl.DataFrame, weeks: int) -> pl.DataFrame:
    """Rows of (site_id, work_center_id, shift_date, shift_id, hours) → the average hours per weekday
    (0 = Monday) and shift over `weeks` weeks."""
    return (
        hours.with_columns(weekday=pl.col("shift_date").dt.weekday() - 1)
        .group_by(PATTERN_KEYS)
        .agg(required_hours=pl.col("hours").sum() / weeks)
        .sort(PATTERN_KEYS)
    )


def production_pattern(operations: pl.DataFrame, weeks: int) -> pl.DataFrame:
    """operations (site_id, work_center_id, shift_id, start_at, labor_minutes) of the history weeks → the
    weekly pattern of labour hours."""
    hours = operations.select(
        "site_id",
        "work_center_id",
        "shift_id",
        shift_date=pl.col("start_at").dt.date(),
        hours=pl.col("labor_minutes") / 60,
    )
    return weekly_pattern(hours, weeks)


def warehouse_pattern(tasks: pl.DataFrame, shifts: pl.DataFrame, teams: pl.DataFrame, weeks: int) -> pl.DataFrame:
    """warehouse_tasks (site_id, started_at, finished_at) → hours per weekday and shift of each site's
    warehouse team (`teams`: site_id, work_center_id = the warehouse cost centre)."""
    timed = tasks.with_columns(hours=(pl.col("finished_at") - pl.col("started_at")).dt.total_seconds() / 3600)
    placed = assign_shift(timed, "started_at", shifts).join(teams, on="site_id")
    return weekly_pattern(placed.select("site_id", "work_center_id", "shift_date", "shift_id", "hours"), weeks)


def support_pattern(
    tickets: pl.DataFrame, shifts: pl.DataFrame, weeks: int, target: float, answer_minutes: float
) -> pl.DataFrame:
    """support_tickets (site_id, work_center_id = the team's cost centre, opened_at, handling_minutes) →
    agent-hours per weekday and shift: each hour of a shift staffed with the agents Erlang C needs for
    `target` of the tickets to be taken up within `answer_minutes`, at that hour's average arrivals."""
    handling = tickets.group_by("work_center_id").agg(aht=pl.col("handling_minutes").mean())
    arrivals = (
        tickets.with_columns(weekday=pl.col("opened_at").dt.weekday() - 1, hour=pl.col("opened_at").dt.hour())
        .group_by("site_id", "work_center_id", "weekday", "hour")
        .agg(per_hour=pl.len() / weeks)
        .join(handling, on="work_center_id")
    )
    rows = []
    for shift in shifts.iter_rows(named=True):
        first = shift["start_time"].hour
        hours = [(first + k) % 24 for k in range(int(shift["hours"]))]
        site = arrivals.filter((pl.col("site_id") == shift["site_id"]) & pl.col("hour").is_in(hours))
        for r in site.iter_rows(named=True):
            agents = agents_needed(r["per_hour"], r["aht"], target, answer_minutes)
            rows.append({**{k: r[k] for k in ("site_id", "work_center_id", "weekday")}, "shift_id": shift["shift_id"], "agents": agents})  # fmt: skip
    if not rows:
        return pl.DataFrame(
            schema={**dict.fromkeys(PATTERN_KEYS, pl.Utf8), "weekday": pl.Int8, "required_hours": pl.Float64}
        )
    needed = pl.DataFrame(rows).group_by(PATTERN_KEYS).agg(required_hours=pl.col("agents").sum().cast(pl.Float64))
    return needed.sort(PATTERN_KEYS)


def expand(pattern: pl.DataFrame, days: Sequence[dt.date]) -> pl.DataFrame:
    """The weekly pattern laid over the roster days: (site_id, work_center_id, date, shift_id, required_hours)."""
    calendar = pl.DataFrame({"date": list(days)}).with_columns(weekday=pl.col("date").dt.weekday() - 1)
    out = pattern.with_columns(pl.col("weekday").cast(pl.Int8)).join(
        calendar.with_columns(pl.col("weekday").cast(pl.Int8)), on="weekday"
    )
    return out.select("site_id", "work_center_id", "date", "shift_id", "required_hours").sort(
        "site_id", "work_center_id", "date", "shift_id"
    )


def scale_to_plan(demand: pl.DataFrame, run_rate_hours: pl.DataFrame, plan_hours: pl.DataFrame) -> pl.DataFrame:
    """Production demand scaled per work centre and month by plan ÷ run rate: `run_rate_hours` (work_center_id,
    hours_per_day) is the recent machine hours a day, `plan_hours` (work_center_id, period, required_hours)
    the plan's machine hours of each month. A work centre or month the plan lacks keeps the run rate."""
    month = pl.col("date").dt.truncate("1mo")
    days_in_month = pl.col("date").dt.month_end().dt.day()
    factors = (
        demand.select("work_center_id", period=month, days=days_in_month)
        .unique()
        .join(plan_hours, on=["work_center_id", "period"])
        .join(run_rate_hours, on="work_center_id")
        .select(
            "work_center_id", "period", factor=pl.col("required_hours") / (pl.col("hours_per_day") * pl.col("days"))
        )
    )
    scaled = demand.with_columns(period=month).join(factors, on=["work_center_id", "period"], how="left")
    return scaled.with_columns(required_hours=pl.col("required_hours") * pl.col("factor").fill_null(1.0)).drop(
        "period", "factor"
    )
