"""Empirical lateness: the days past due a party has paid at (docs/cash.md, "Learned payment behaviour").

Used for AP (the company's own paying behaviour per supplier) and as the AR fallback when the history is
too small to learn from. A party with at least `min_history` settled invoices uses its own P10/P50/P90
of days past due; one with fewer uses its pool, the parties on the same payment terms; a pool without
history uses everyone; no history at all means paying on the due date.

A document already further past due than its party has ever paid (its own history, or its pool's, plus
a grace period) is not following the habit: it is held (blocked in matching, disputed, forgotten), and
nothing in the history says when it will go. With `held_grace_days` such a document is expected
`HELD_DAYS` after the as-of date, beyond any forecast horizon, and could go any day (P10 tomorrow)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from .payment_features import SettledHistory, days

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
LATENESS = {**QUANTILES, "max": 1.0}  # and the most days past due ever paid
HELD_DAYS = 365


def lateness_by_party(history: SettledHistory, min_history: int) -> pl.DataFrame:
    """`party_id, late_p10, late_p50, late_p90, late_max` (whole days past due, early payment negative) for every
    party of `history.parties`, its own where it has `min_history` settled invoices, else its terms' pool,
    else everyone's, else 0."""
    done = history.docs.filter(pl.col("settled_date").is_not_null()).with_columns(
        _late=days("settled_date", "due_date")
    )

    def quantiles(by: list[str]) -> list[pl.Expr]:
        exprs = [
            pl.col("_late").quantile(q, "nearest").alias(f"{k}_{'_'.join(by) or 'all'}") for k, q in LATENESS.items()
        ]
        return [*exprs, pl.len().alias(f"n_{'_'.join(by) or 'all'}")]

    own = done.group_by("party_id").agg(quantiles(["party_id"]))
    pool = done.group_by("terms_days").agg(quantiles(["terms_days"]))
    everyone = done.select(quantiles([])) if done.height else None
    out = history.parties.select("party_id", "terms_days").join(own, on="party_id", how="left")
    out = out.join(pool, on="terms_days", how="left")
    enough = pl.col("n_party_id").fill_null(0) >= min_history
    cols = []
    for k in LATENESS:
        everyone_k = everyone.item(0, f"{k}_all") if everyone is not None else 0
        pooled = pl.coalesce(pl.col(f"{k}_terms_days"), pl.lit(everyone_k))
        cols.append(pl.when(enough).then(pl.col(f"{k}_party_id")).otherwise(pooled).cast(pl.Int32).alias(f"late_{k}"))
    return out.select("party_id", *cols)


def lateness_dates(
    history: SettledHistory,
    docs: pl.DataFrame,
    as_of: dt.date,
    min_history: int,
    party_type: str,
    held_grace_days: int | None = None,
) -> pl.DataFrame:
    """`docs` (open documents) with `expected_date`, `p10_date`, `p90_date` = due date + the party's
    lateness quantiles, none before the day after `as_of` (an overdue document is expected tomorrow at
    the earliest), and `method` = "empirical lateness by <party_type>". With `held_grace_days`, a document
    more than that many days further past due than its party's latest payment ever was (0 if it always
    paid early) is held: P10 tomorrow, expected and P90 `HELD_DAYS` after `as_of`, `method` saying so."""
    late = lateness_by_party(history, min_history)
    out = docs.join(late, on="party_id", how="left")
    tomorrow = pl.lit(as_of + dt.timedelta(days=1), dtype=pl.Date)

    def at(k: str) -> pl.Expr:
        shift = pl.duration(days=pl.col(f"late_{k}").fill_null(0))
        return pl.max_horizontal(pl.col("due_date") + shift, tomorrow)

    out = out.with_columns(p10_date=at("p10"), expected_date=at("p50"), p90_date=at("p90"))
    out = out.with_columns(
        p10_date=pl.min_horizontal("p10_date", "expected_date"),
        p90_date=pl.max_horizontal("p90_date", "expected_date"),
        method=pl.lit(f"empirical lateness by {party_type}"),
    )
    if held_grace_days is not None:
        out = _held(out, as_of, held_grace_days, party_type)
    return out.select(*docs.columns, "expected_date", "p10_date", "p90_date", "method")


def _held(rows: pl.DataFrame, as_of: dt.date, grace_days: int, party_type: str) -> pl.DataFrame:
    past_due = days(pl.lit(as_of, dtype=pl.Date), "due_date")
    latest_paid = pl.max_horizontal(pl.col("late_max").fill_null(0), pl.lit(0))
    held = past_due > latest_paid + grace_days
    far = pl.lit(as_of + dt.timedelta(days=HELD_DAYS), dtype=pl.Date)
    why = pl.format(
        "held: {} days past due; this {} was never paid more than {} days late (+{} days' grace)",
        past_due,
        pl.lit(party_type),
        latest_paid,
        pl.lit(grace_days),
    )
    return rows.with_columns(
        p10_date=pl.when(held).then(pl.lit(as_of + dt.timedelta(days=1), dtype=pl.Date)).otherwise("p10_date"),
        expected_date=pl.when(held).then(far).otherwise("expected_date"),
        p90_date=pl.when(held).then(far).otherwise("p90_date"),
        method=pl.when(held).then(why).otherwise("method"),
    )


def lateness_lags(history: SettledHistory, min_history: int, party_type: str) -> pl.DataFrame:
    """`party_type, party_id, p10_days, p50_days, p90_days`: days from invoice date to payment for an
    invoice on the party's terms, its terms plus its lateness quantiles (never negative)."""
    late = lateness_by_party(history, min_history)
    out = history.parties.select("party_id", "terms_days").join(late, on="party_id", how="left")
    lag = {k: pl.max_horizontal(pl.col("terms_days") + pl.col(f"late_{k}").fill_null(0), pl.lit(0)) for k in QUANTILES}
    return out.select(
        pl.lit(party_type).alias("party_type"),
        "party_id",
        p10_days=lag["p10"],
        p50_days=pl.max_horizontal(lag["p10"], lag["p50"]),
        p90_days=pl.max_horizontal(lag["p10"], lag["p50"], lag["p90"]),
    )
