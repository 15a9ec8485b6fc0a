"""The cost of reliability (docs/scenarios.md "Trade-offs"): per machine, what maintenance costs against
the availability and the contribution it protects, from the history of planned maintenance and breakdowns.

- Spend: parts cost + labour hours × the maintenance labour rate, for planned services and breakdowns.
- Lost contribution: breakdown hours × the contribution per run hour of the machine's work centre
  (the contribution of the units it made ÷ its run hours).
- The effect of one more planned maintenance a month: the slope of a machine's breakdown hours in a month
  on its planned maintenances that month, fitted within each machine (least squares on the deviations
  from each machine's own means, pooled over machines). Only a negative slope counts as hours avoided.
- One more planned maintenance a month costs the machine's average planned service (spend) plus its
  hours × the contribution per hour; it saves the hours avoided × (contribution per hour + the machine's
  breakdown repair cost per hour). The recommendation follows the sign of the difference.
Pure: Polars frames in, one row per machine out; money is Decimal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from ..core.money import round_cents, to_decimal
from ..core.periods import month_start
from .tradeoffs import ReliabilityAssumptions

HOUR = 3600.0


@dataclass(frozen=True)
class Reliability:
    """One row per machine, the fitted breakdown hours avoided per extra planned maintenance a month (None
    when the history cannot tell) and the machine-months it was fitted on."""

    machines: pl.DataFrame
    hours_avoided_per_service: float | None
    observations: int


def work_center_contribution(operations: pl.DataFrame, contribution: dict[str, Decimal]) -> dict[str, Decimal]:
    """Contribution per run hour of each work centre: Σ qty_good × the product's unit contribution ÷ Σ run
    hours, over `operations` (work_center_id, product_id, qty_good, run_minutes)."""
    out: dict[str, Decimal] = {}
    for (wc,), rows in operations.group_by("work_center_id"):
        hours = to_decimal(rows["run_minutes"].sum()) / 60
        made = sum(
            (
                to_decimal(q) * contribution.get(p, Decimal(0))
                for p, q in zip(rows["product_id"], rows["qty_good"], strict=True)
            ),
            Decimal(0),
        )
        if hours > 0:
            out[str(wc)] = made / hours
    return out


def breakdown_slope(events: pl.DataFrame, machines: Sequence[str], months: Sequence[dt.date]) -> tuple[float, int]:
    """The within-machine least-squares slope of monthly breakdown hours on monthly planned maintenances,
    and the number of machine-months; (nan, n) when no machine's planned count varies."""
    panel = monthly_panel(events, machines, months)
    panel = panel.with_columns(
        dx=pl.col("planned") - pl.col("planned").mean().over("machine_id"),
        dy=pl.col("breakdown_hours") - pl.col("breakdown_hours").mean().over("machine_id"),
    )
    sxx = float((panel["dx"] * panel["dx"]).sum())
    sxy = float((panel["dx"] * panel["dy"]).sum())
    return (sxy / sxx if sxx > 0 else float("nan")), panel.height


def monthly_panel(events: pl.DataFrame, machines: Sequence[str], months: Sequence[dt.date]) -> pl.DataFrame:
    """Every machine × month: planned maintenances and breakdown hours (0 without events), dated by end."""
    grid = pl.DataFrame({"machine_id": list(machines)}).join(
        pl.DataFrame({"period": [month_start(m) for m in months]}, schema={"period": pl.Date}), how="cross"
    )
    ev = events.with_columns(
        period=pl.col("end_at").dt.truncate("1mo").cast(pl.Date),
        hours=(pl.col("end_at") - pl.col("start_at")).dt.total_seconds() / HOUR,
    )
    per = ev.group_by("machine_id", "period").agg(
        planned=(pl.col("kind") == "planned").sum().cast(pl.Float64),
        breakdown_hours=pl.col("hours").filter(pl.col("kind") == "breakdown").sum(),
    )
    return grid.join(per, on=["machine_id", "period"], how="left").fill_null(0.0)


def reliability_table(
    events: pl.DataFrame,
    machines: pl.DataFrame,
    months: Sequence[dt.date],
    contribution_per_hour: dict[str, Decimal],
    assumptions: ReliabilityAssumptions,
) -> Reliability:
    """Per machine (`machines`: machine_id, work_center_id, availability) over `months`, from `events`
    (maintenance_events: machine_id, kind, start_at, end_at, parts_cost, labor_hours)."""
    ids = machines["machine_id"].to_list()
    slope, n = breakdown_slope(events, ids, months)
    fitted = n >= assumptions.min_observations and slope == slope  # nan != nan
    avoided = Decimal(repr(max(-slope, 0.0))) if fitted else Decimal(0)
    rate = assumptions.maintenance_labor_rate or Decimal(0)
    spend = events.with_columns(hours=(pl.col("end_at") - pl.col("start_at")).dt.total_seconds() / HOUR)
    rows = []
    for m in machines.iter_rows(named=True):
        mine = spend.filter(pl.col("machine_id") == m["machine_id"])
        cph = contribution_per_hour.get(m["work_center_id"], Decimal(0))
        rows.append(_machine_row(m, mine, len(months), cph, rate, avoided, fitted))
    frame = _flag_outliers(pl.DataFrame(rows, infer_schema_length=None), assumptions.outlier_ratio)
    return Reliability(frame, max(-slope, 0.0) if fitted else None, n)


def _flag_outliers(frame: pl.DataFrame, ratio: Decimal) -> pl.DataFrame:
    """`breakdown_vs_median`: a machine's breakdown hours ÷ the median machine's; at `ratio` or more the
    recommendation becomes `investigate` (a machine failing far more often than its peers needs a repair or
    a look, whatever one more routine service would do)."""
    median = frame["breakdown_hours"].median() if frame.height else None
    if not median:
        return frame.with_columns(breakdown_vs_median=pl.lit(None, dtype=pl.Float64))
    times = pl.col("breakdown_hours") / median
    flagged = pl.format("investigate: {}× the median machine's breakdown hours", times.round(1))
    return frame.with_columns(
        breakdown_vs_median=times,
        recommendation=pl.when(times >= float(ratio)).then(flagged).otherwise(pl.col("recommendation")),
    )


def _kind(frame: pl.DataFrame, kind: str, rate: Decimal) -> tuple[int, Decimal, Decimal]:
    """Events of one kind: their count, hours and spend (parts + labour hours × rate)."""
    rows = frame.filter(pl.col("kind") == kind)
    parts = sum((to_decimal(v) for v in rows["parts_cost"]), Decimal(0))
    labor = to_decimal(rows["labor_hours"].sum()) if rows.height else Decimal(0)
    hours = to_decimal(rows["hours"].sum()) if rows.height else Decimal(0)
    return rows.height, hours, parts + labor * rate


def _machine_row(
    m: dict, events: pl.DataFrame, months: int, cph: Decimal, rate: Decimal, avoided: Decimal, fitted: bool
) -> dict:
    planned, planned_hours, planned_spend = _kind(events, "planned", rate)
    breakdowns, breakdown_hours, breakdown_spend = _kind(events, "breakdown", rate)
    service = (planned_spend + planned_hours * cph) / planned if planned else Decimal(0)
    repair_per_hour = breakdown_spend / breakdown_hours if breakdown_hours else Decimal(0)
    saved = avoided * (cph + repair_per_hour)
    net = saved - service
    return {
        "machine_id": m["machine_id"],
        "work_center_id": m["work_center_id"],
        "availability": m.get("availability"),
        "planned_per_month": planned / months if months else None,
        "planned_hours": float(planned_hours),
        "breakdowns": breakdowns,
        "breakdown_hours": float(breakdown_hours),
        "breakdown_hours_per_planned_hour": float(breakdown_hours / planned_hours) if planned_hours else None,
        "planned_spend": round_cents(planned_spend),
        "breakdown_spend": round_cents(breakdown_spend),
        "contribution_per_hour": round_cents(cph),
        "lost_contribution": round_cents(breakdown_hours * cph),
        "extra_service_cost": round_cents(service),
        "extra_service_saves": round_cents(saved),
        "extra_service_net": round_cents(saved) - round_cents(service),
        "recommendation": _advice(fitted, planned, avoided, net),
    }


def _advice(fitted: bool, planned: int, avoided: Decimal, net: Decimal) -> str:
    if not fitted:
        return "keep: the history cannot tell what planned maintenance avoids"
    if avoided <= 0:
        return "keep: no fewer breakdowns in months with more planned maintenance"
    if not planned:
        return "keep: no planned maintenance in the history to price one more"
    if net > 0:
        return "add one planned maintenance a month"
    return "keep: one more planned maintenance costs more than it saves"
