"""Merging consecutive breaching periods of one series into runs: one alert per run.

Periods are consecutive when they follow each other in the grain's calendar (a month and the next
month; a missing period breaks a run). A run's value is the KPI recomputed over the whole run —
Σ numerator / Σ denominator for a ratio, the mean per period for a sum or a balance KPI — so a run
of three months reads like the KPI asked for those three months; its worst period is kept beside it."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ..core.periods import next_period


def period_index(periods: list[dt.date], grain: str) -> dict[dt.date, int]:
    """Position of each period in the grain's calendar, counted from the first one."""
    if not periods:
        return {}
    first, last = min(periods), max(periods)
    out, p, i = {}, first, 0
    while p <= last:
        out[p] = i
        p, i = next_period(p, grain), i + 1
    return out


def merge_runs(
    rows: pl.DataFrame,
    keys: list[str],
    grain: str,
    ratio_scale: float | None,
    bad_sign: pl.Expr | int = 1,
) -> pl.DataFrame:
    """`rows`: breaching periods with `keys`, period_start, value, numerator, denominator (one row per
    series and period). Returns one row per run: keys, run_start, run_last (the start of the run's
    last period), periods, value (the KPI over the run), worst, worst_period.

    `ratio_scale` is the KPI's scale for a ratio KPI (value = scale × Σnum / Σden), None otherwise.
    `bad_sign` is +1 where higher values are worse, −1 where lower values are worse (an expression or
    a constant): the worst period is the one furthest in the bad direction."""
    if rows.is_empty():
        return pl.DataFrame(
            schema={
                **{k: rows.schema.get(k, pl.Utf8) for k in keys},
                "run_start": pl.Date,
                "run_last": pl.Date,
                "periods": pl.UInt32,
                "value": pl.Float64,
                "worst": pl.Float64,
                "worst_period": pl.Date,
            }
        )
    index = period_index(rows["period_start"].unique().to_list(), grain)
    grp = keys or None
    df = rows.with_columns(
        pl.col("value", "numerator", "denominator").cast(pl.Float64),
        _idx=pl.col("period_start").replace_strict(index, return_dtype=pl.Int64),
        _bad=pl.lit(bad_sign) if isinstance(bad_sign, int) else bad_sign,
    ).sort([*keys, "_idx"])
    prev = pl.col("_idx").shift(1).over(grp) if grp else pl.col("_idx").shift(1)
    df = df.with_columns(_new=(prev.is_null() | (pl.col("_idx") - prev != 1)).cast(pl.Int32))
    df = df.with_columns(_run=pl.col("_new").cum_sum().over(grp) if grp else pl.col("_new").cum_sum())
    if ratio_scale is not None:
        den = pl.col("denominator").sum()
        level = pl.when(den != 0).then(pl.col("numerator").sum() * ratio_scale / den).otherwise(pl.col("value").mean())
    else:
        level = pl.col("value").mean()
    score = pl.col("value") * pl.col("_bad")
    runs = df.group_by([*keys, "_run"], maintain_order=True).agg(
        run_start=pl.col("period_start").min(),
        run_last=pl.col("period_start").max(),
        periods=pl.len(),
        value=level,
        worst=pl.col("value").sort_by(score, descending=True, nulls_last=True).first(),
        worst_period=pl.col("period_start").sort_by(score, descending=True, nulls_last=True).first(),
    )
    return runs.drop("_run").sort([*keys, "run_start"])


def period_end(last_start: dt.date, grain: str, clip: dt.date | None = None) -> dt.date:
    """The last day of the period starting at `last_start`, clipped by --to."""
    end = next_period(last_start, grain) - dt.timedelta(days=1)
    return min(end, clip) if clip else end
