"""The machine-day panel the maintenance risk model learns from (docs/predict.md "Maintenance risk").

One row per machine and day, from the machine's first reading to `last_day`. Every feature of day d is
computed from that day and the days before it only (trailing windows, forward fills, running sums), so a
row never changes when later rows are added. The label looks forward: whether a breakdown starts in the
`horizon_days` after d; it is null when that window reaches past `last_day`.

Inputs (Polars frames):
- `daily`: machine_id, day, run_hours, planned_hours, kwh, temperature_c, vibration_mm_s (the day's means
  of the hours the machine ran; null when it did not run);
- `events`: machine_id, kind (`planned` | `breakdown`), start_at."""

from __future__ import annotations

import datetime as dt

import polars as pl

# model column -> what it means, as drivers are named
FEATURES: dict[str, str] = {
    "run_hours_since_maintenance": "run hours since the last planned maintenance",
    "days_since_maintenance": "days since the last planned maintenance",
    "days_since_breakdown": "days since the last breakdown",
    "breakdowns_30d": "breakdowns in the last 30 days",
    "breakdowns_90d": "breakdowns in the last 90 days",
    "run_hours_7d": "run hours a day, last 7 days",
    "utilisation_7d": "run hours ÷ planned hours, last 7 days",
    "kwh_per_run_hour_7d": "kWh per run hour, last 7 days",
    "temperature_7d": "temperature, mean of the last 7 days",
    "temperature_trend": "temperature, last 7 days − last 30 days",
    "vibration_7d": "vibration, mean of the last 7 days",
    "vibration_trend": "vibration, last 7 days − last 30 days",
    "age_days": "days since the machine's first reading",
}
DAILY_SCHEMA = {
    "machine_id": pl.Utf8,
    "day": pl.Date,
    "run_hours": pl.Float64,
    "planned_hours": pl.Float64,
    "kwh": pl.Float64,
    "temperature_c": pl.Float64,
    "vibration_mm_s": pl.Float64,
}
EVENT_SCHEMA = {"machine_id": pl.Utf8, "kind": pl.Utf8, "start_at": pl.Datetime("us")}


def _grid(daily: pl.DataFrame, last_day: dt.date) -> pl.DataFrame:
    """Every day from each machine's first reading to `last_day`, with the day's readings (0 hours when none)."""
    firsts = daily.group_by("machine_id").agg(first=pl.col("day").min()).filter(pl.col("first") <= last_day)
    grid = firsts.select(
        "machine_id", day=pl.date_ranges("first", pl.lit(last_day), interval="1d"), age_days=pl.lit(0)
    ).explode("day")
    grid = grid.with_columns(age_days=(pl.col("day") - pl.col("day").min().over("machine_id")).dt.total_days())
    out = grid.join(daily.cast(DAILY_SCHEMA), on=["machine_id", "day"], how="left")  # type: ignore[arg-type]
    return out.with_columns(pl.col("run_hours", "planned_hours", "kwh").fill_null(0.0)).sort("machine_id", "day")


def _event_days(events: pl.DataFrame, kind: str, name: str) -> pl.DataFrame:
    got = events.filter(pl.col("kind") == kind).with_columns(day=pl.col("start_at").dt.date())
    return got.group_by("machine_id", "day").agg(pl.len().cast(pl.Int64).alias(name))


def _days_since(flag: str) -> pl.Expr:
    """Days since the last day with `flag` > 0 (that day counts as 0); null before the first."""
    last = pl.when(pl.col(flag) > 0).then(pl.col("day")).forward_fill().over("machine_id")
    return (pl.col("day") - last).dt.total_days()


def _trailing(column: str, days: int) -> pl.Expr:
    return pl.col(column).rolling_sum(days, min_samples=1).over("machine_id")


def _per(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator ÷ denominator, null where the denominator is 0."""
    return pl.when(denominator > 0).then(numerator / denominator)


def machine_day_panel(daily: pl.DataFrame, events: pl.DataFrame, last_day: dt.date, horizon_days: int) -> pl.DataFrame:
    """The panel: machine_id, day, every column of FEATURES, and `label` (1 when a breakdown starts in
    (day, day + horizon_days], null when that window is not yet complete by `last_day`)."""
    events = events.cast(EVENT_SCHEMA)  # type: ignore[arg-type]
    p = _grid(daily, last_day)
    for kind, name in (("breakdown", "breakdowns"), ("planned", "services")):
        p = p.join(_event_days(events, kind, name), on=["machine_id", "day"], how="left")
    p = p.with_columns(pl.col("breakdowns", "services").fill_null(0))
    running = pl.col("temperature_c", "vibration_mm_s").forward_fill().over("machine_id")
    p = p.with_columns(running, service_count=pl.col("services").cum_sum().over("machine_id"))
    p = p.with_columns(
        run_hours_since_maintenance=pl.col("run_hours").cum_sum().over("machine_id", "service_count"),
        days_since_maintenance=pl.coalesce(_days_since("services"), pl.col("age_days")),
        days_since_breakdown=pl.coalesce(_days_since("breakdowns"), pl.col("age_days")),
        breakdowns_30d=_trailing("breakdowns", 30),
        breakdowns_90d=_trailing("breakdowns", 90),
        run_hours_7d=_trailing("run_hours", 7) / 7,
        utilisation_7d=_per(_trailing("run_hours", 7), _trailing("planned_hours", 7)),
        kwh_per_run_hour_7d=_per(_trailing("kwh", 7), _trailing("run_hours", 7)),
        temperature_7d=pl.col("temperature_c").rolling_mean(7, min_samples=1).over("machine_id"),
        temperature_30=pl.col("temperature_c").rolling_mean(30, min_samples=1).over("machine_id"),
        vibration_7d=pl.col("vibration_mm_s").rolling_mean(7, min_samples=1).over("machine_id"),
        vibration_30=pl.col("vibration_mm_s").rolling_mean(30, min_samples=1).over("machine_id"),
        seen=pl.col("breakdowns").cum_sum().over("machine_id"),
    )
    ahead = pl.col("seen").shift(-horizon_days).over("machine_id")
    p = p.with_columns(
        temperature_trend=pl.col("temperature_7d") - pl.col("temperature_30"),
        vibration_trend=pl.col("vibration_7d") - pl.col("vibration_30"),
        label=(ahead - pl.col("seen") > 0).cast(pl.Int8),
    )
    return p.select("machine_id", "day", *FEATURES, "label")
