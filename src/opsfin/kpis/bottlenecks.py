"""The constraint of each site and period (docs/kpis.md): the work centre with the highest
capacity_utilization, with the mean queue wait (`wait_minutes`) of its operations beside it."""

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
    util = compute_one(t, KPI_BY_ID["capacity_utilization"], grain, ["site", "work_center"], where, start, end)
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
    ranked = util.sort(["period_start", "site", "value", "work_center"], descending=[False, False, True, False])
    top = ranked.group_by(["period_start", "site"], maintain_order=True).agg(
        pl.col("work_center").first(),
        pl.col("value").first().alias("capacity_utilization"),
        pl.col("work_center").slice(1, 1).first().alias("runner_up"),
        pl.col("value").slice(1, 1).first().alias("runner_up_utilization"),
    )
    out = top.join(waits_df, on=["period_start", "work_center"], how="left").with_columns(
        mean_wait_minutes=pl.when(pl.col("operations") > 0)
        .then(pl.col("wait_minutes") / pl.col("operations"))
        .otherwise(None),
        operations=pl.col("operations").fill_null(0).cast(pl.Int64),
    )
    return out.select(*COLUMNS).sort(["period_start", "site"])
