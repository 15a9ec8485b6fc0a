"""Reconciliation runs, pure: the context a date range needs, and what a run keeps.

A run over [start, end] also reads the bank lines booked in the widest rule window before `start`
(`context_days`), so they claim their documents as in a run over the whole history. Keeping a run
means keeping its new auto matches (`run_to_keep`): the I/O layer (opsfin.runs.matching) writes them
to the app database and marks them with the run id it gets back (`mark_kept`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from .bank import BankReconciliation
from .config import MatchingConfig


def context_days(config: MatchingConfig) -> int:
    """The widest rule window, in days: how far before `start` a run's context reaches."""
    rules = config.bank.rules
    return max(max(getattr(rules, n).days_before, getattr(rules, n).days_after) for n in type(rules).model_fields)


@dataclass(frozen=True)
class RunToKeep:
    """The new auto matches of a reconciliation, as the app database keeps them (one run)."""

    match_ids: list[str]
    pairs: list[tuple[Any, ...]]  # (match_id, bank_txn_id, doc_type, doc_id, rule, score)
    counts: dict[str, int]  # bank_lines, kept, kept_lines, suggested, unmatched
    through: dt.date | None  # the last booking day the run reported


def run_to_keep(full: BankReconciliation, reported: BankReconciliation) -> RunToKeep | None:
    """The auto matches of `reported` that no run kept yet, whole (a one-to-many match reaching into the
    context before the range is taken from `full`, every line of it); None when there is nothing new."""
    new_ids = (
        reported.matches.filter((pl.col("status") == "auto") & pl.col("run_id").is_null())["match_id"]
        .unique()
        .implode()
    )
    new = full.matches.filter(pl.col("match_id").is_in(new_ids))
    if new.is_empty():
        return None
    s = reported.summary
    days = pl.concat([reported.matches["booking_date"], reported.exceptions["booking_date"]])
    counts = {
        "bank_lines": s["bank_lines"],
        "kept": new["match_id"].n_unique(),
        "kept_lines": new["bank_txn_id"].n_unique(),
        "suggested": s["suggested"],
        "unmatched": s["unmatched"],
    }
    pairs = new.select("match_id", "bank_txn_id", "doc_type", "doc_id", "rule", "score").rows()
    through: dt.date | None = days.max()  # type: ignore[assignment]
    return RunToKeep(new["match_id"].unique().to_list(), pairs, counts, through)


def mark_kept(reported: BankReconciliation, kept: RunToKeep, run_id: int) -> BankReconciliation:
    """`reported` with the matches of `kept` carrying `run_id`."""
    ids = pl.Series(kept.match_ids, dtype=pl.Utf8).implode()
    marked = reported.matches.with_columns(
        run_id=pl.when(pl.col("match_id").is_in(ids)).then(pl.lit(run_id, pl.Int64)).otherwise(pl.col("run_id"))
    )
    return BankReconciliation(marked, reported.exceptions, reported.summary)
