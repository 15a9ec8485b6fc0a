"""The constraint of each site and period (docs/kpis.md): the work centre with the highest machine_load
(busy over staffed time: capacity_utilization counts only the hours a machine had work, so it does not
rise with the queue), with its capacity_utilization and the mean queue wait (`wait_minutes`) of its
operations beside it."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ..core.frames import polars_frame
from ..core.periods import grain_code
from .definitions import KPI_BY_ID
from .engine import Tables, compute_one
from .sources import operations

#: the columns of `bottlenecks`, in order, with their types (an empty result has them too)
COLUMNS = pl.Schema(
    {
        "period_start": pl.Date,
        "site": pl.Utf8,
        "work_center": pl.Utf8,
        "capacity_utilization": pl.Float64,
        "mean_wait_minutes": pl.Float64,
        "operations": pl.Int64,
        "runner_up": pl.Utf8,
        "runner_up_utilization": pl.Float64,
        "machine_load": pl.Float64,
        "runner_up_load": pl.Float64,
    }
)


def bottlenecks(
    t: Tables,
    grain: str = "month",
    start: dt.date | None = None,
    end: dt.date | None = None,
    sites: list[str] | None = None,
) -> pl.DataFrame:
    where = {"site": sites} if sites else {}
    dims = ["site", "work_center"]
    util = compute_one(t, KPI_BY_ID["capacity_utilization"], grain, dims, where, start, end)
    load = compute_one(t, KPI_BY_ID["machine_load"], grain, dims, where, start, end)
    load = load.select("period_start", *dims, pl.col("value").alias("machine_load"))
    ops = operations(t, frozenset({"site"}))
    if start:
        ops = ops.filter(ops._date >= start)
    if end:
        ops = ops.filter(ops._date <= end)
    ops = ops.mutate(period_start=ops._date.truncate(grain_code(grain)).cast("date"))
    waits = ops.group_by(["period_start", "work_center"]).aggregate(
        operations=ops.count(), wait_minutes=ops.wait_minutes.sum()
    )
    waits_df = polars_frame(waits)
    util = util.filter(pl.col("value").is_not_null())
    if util.is_empty():
        return pl.DataFrame(schema=COLUMNS)
    # ranked by load, then utilization (a work centre without timesheets has no load)
    util = util.join(load, on=["period_start", *dims], how="left")
    ranked = util.sort(
        ["period_start", "site", "machine_load", "value", "work_center"],
        descending=[False, False, True, True, False],
        nulls_last=True,
    )
    top = ranked.group_by(["period_start", "site"], maintain_order=True).agg(
        pl.col("work_center").first(),
        pl.col("value").first().alias("capacity_utilization"),
        pl.col("work_center").slice(1, 1).first().alias("runner_up"),
        pl.col("value").slice(1, 1).first().alias("runner_up_utilization"),
        pl.col("machine_load").first(),
        pl.col("machine_load").slice(1, 1).first().alias("runner_up_load"),
    )
    out = top.join(waits_df, on=["period_start", "work_center"], how="left").with_columns(
        mean_wait_minutes=pl.when(pl.col("operations") > 0)
        .then(pl.col("wait_minutes") / pl.col("operations"))
        .otherwise(None),
        operations=pl.col("operations").fill_null(0).cast(pl.Int64),
    )
    return out.select(*COLUMNS).sort(["period_start", "site"])
