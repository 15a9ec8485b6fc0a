"""Matching quality against the demo company's ground truth (`truth/bank_matches.parquet`,
`truth/invoice_issues.parquet`). Only this module reads truth/; the engines never do.

Bank (pair by pair; truth's `other` is our `gl_entry`):
- pair precision = auto pairs in the truth / auto pairs; pair recall = auto pairs in the truth / truth pairs;
- a bank line is *matchable* when all its true documents are among the open items the engine saw;
  it is *auto-correct* when its auto pairs are exactly its true pairs;
  auto-correct rate = auto-correct lines / matchable lines (target ≥ 98%);
- wrong-auto rate = auto-matched lines whose pairs are not exactly the true ones / auto-matched
  lines (target ≤ 0.1%).

Invoices (by status, as `opsfin match invoices` reports it):
- recall per issue kind = true (invoice, line, issue) rows whose status is that issue / rows of that
  kind (target ≥ 95% for every kind present);
- clean-line false-flag rate = lines without a true issue whose status is not `matched` / those
  lines (target ≤ 2%)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..errors import UserError
from .bank import BankReconciliation
from .invoices import STATUS_ORDER, InvoiceMatch

TARGETS = {
    "auto_correct_rate": 0.98,
    "wrong_auto_rate": 0.001,
    "issue_recall": 0.95,
    "clean_flag_rate": 0.02,
}


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise UserError(f"{path}: no ground truth; build a demo company with `opsfin demo`")
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same mistake for the user
        raise UserError(f"{path}: not a ground-truth file ({exc})") from None


def load_bank_truth(truth_dir: Path) -> pl.DataFrame:
    truth = _read(truth_dir / "bank_matches.parquet")
    return truth.select("bank_txn_id", pl.col("doc_type").replace("other", "gl_entry"), "doc_id")


def load_bank_kinds(truth_dir: Path) -> pl.DataFrame:
    """`bank_txn_id, kind`: how each demo bank line looks to the matching (demo/receipts.py); a truth file
    written before the kinds were recorded gives every line the kind `unrecorded`."""
    truth = _read(truth_dir / "bank_matches.parquet")
    kind = pl.col("kind") if "kind" in truth.columns else pl.lit("unrecorded")
    return truth.select("bank_txn_id", kind=kind).unique("bank_txn_id", keep="first", maintain_order=True)


def load_invoice_truth(truth_dir: Path) -> pl.DataFrame:
    return _read(truth_dir / "invoice_issues.parquet").select("invoice_id", pl.col("line").cast(pl.Int64), "issue")


def _ratio(n: int, d: int) -> float | None:
    return n / d if d else None


def score_bank(run: BankReconciliation, truth: pl.DataFrame, seen_docs: pl.DataFrame) -> dict:
    """Scores of the auto matches of `run` (see the module docstring). `seen_docs`: `doc_type, doc_id`
    of the open items the engine was given."""
    lines_in_run = pl.concat([run.matches.select("bank_txn_id"), run.exceptions.select("bank_txn_id")]).unique()
    truth = truth.join(lines_in_run, on="bank_txn_id", how="semi")
    auto = run.matches.filter(pl.col("status") == "auto").select("bank_txn_id", "doc_type", "doc_id")
    hits = auto.join(truth, on=["bank_txn_id", "doc_type", "doc_id"], how="semi").height
    seen = seen_docs.select("doc_type", "doc_id").unique().with_columns(_seen=pl.lit(True))
    per_line_truth = (
        truth.join(seen, on=["doc_type", "doc_id"], how="left")
        .group_by("bank_txn_id")
        .agg(
            pl.col("_seen").fill_null(False).all().alias("matchable"),
            pl.concat_str("doc_type", "doc_id", separator="|").sort().str.join(",").alias("true_set"),
        )
    )
    per_line_auto = auto.group_by("bank_txn_id").agg(
        pl.concat_str("doc_type", "doc_id", separator="|").sort().str.join(",").alias("auto_set")
    )
    lines = per_line_auto.join(per_line_truth, on="bank_txn_id", how="full", coalesce=True)
    correct = lines.filter(pl.col("auto_set") == pl.col("true_set"))
    matchable = per_line_truth.filter("matchable").height
    auto_lines = per_line_auto.height
    wrong = auto_lines - correct.height
    return {
        "bank_lines": lines_in_run.height,
        "truth_pairs": truth.height,
        "auto_pairs": auto.height,
        "correct_auto_pairs": hits,
        "pair_precision": _ratio(hits, auto.height),
        "pair_recall": _ratio(hits, truth.height),
        "matchable_lines": matchable,
        "auto_lines": auto_lines,
        "auto_correct_lines": correct.height,
        "auto_correct_rate": _ratio(correct.height, matchable),
        "wrong_auto_lines": wrong,
        "wrong_auto_rate": _ratio(wrong, auto_lines),
        "wrong_examples": lines.filter(
            pl.col("auto_set").is_not_null() & (pl.col("auto_set") != pl.col("true_set").fill_null(""))
        )
        .head(10)
        .to_dicts(),
    }


def score_bank_kinds(run: BankReconciliation, truth: pl.DataFrame, kinds: pl.DataFrame) -> list[dict]:
    """Per kind of bank line (`kinds`: `bank_txn_id, kind`), line by line: how many lines, how many the
    run matched auto, suggested or left as exceptions, and auto precision (auto lines whose documents are
    exactly the true ones / auto lines) and recall (those lines / the lines of the kind); of the suggested
    lines, those among whose suggestions the true documents are (`suggested_correct`). The kinds in the
    order of their count, largest first."""
    status = pl.concat(
        [
            run.matches.select("bank_txn_id", "status"),
            run.exceptions.select("bank_txn_id", status=pl.lit("unmatched")),
        ]
    )
    rank = pl.col("status").replace_strict({"confirmed": 0, "auto": 1, "suggested": 2, "unmatched": 3}, default=3)
    per_line = status.group_by("bank_txn_id").agg(pl.col("status").sort_by(rank).first())
    pair = pl.concat_str("doc_type", "doc_id", separator="|")
    true_sets = truth.group_by("bank_txn_id").agg(pair.sort().str.join(",").alias("true_set"))
    auto_sets = (
        run.matches.filter(pl.col("status") == "auto")
        .group_by("bank_txn_id")
        .agg(pair.sort().str.join(",").alias("auto_set"))
    )
    suggested_sets = (
        run.matches.filter(pl.col("status") == "suggested")
        .group_by("bank_txn_id", "match_id")
        .agg(pair.sort().str.join(",").alias("set"))
        .join(true_sets, on="bank_txn_id")
        .filter(pl.col("set") == pl.col("true_set"))
        .select("bank_txn_id", offered=pl.lit(True))
        .unique()
    )
    lines = (
        kinds.join(per_line, on="bank_txn_id", how="inner")
        .join(true_sets, on="bank_txn_id", how="left")
        .join(auto_sets, on="bank_txn_id", how="left")
        .join(suggested_sets, on="bank_txn_id", how="left")
        .with_columns(correct=(pl.col("auto_set") == pl.col("true_set")).fill_null(False))
    )
    table = (
        lines.group_by("kind")
        .agg(
            lines=pl.len(),
            auto=(pl.col("status") == "auto").sum(),
            suggested=(pl.col("status") == "suggested").sum(),
            exception=(pl.col("status") == "unmatched").sum(),
            auto_correct=pl.col("correct").sum(),
            suggested_correct=((pl.col("status") == "suggested") & pl.col("offered").fill_null(False)).sum(),
        )
        .sort(["lines", "kind"], descending=[True, False])
    )
    return [
        {
            **row,
            "auto_precision": _ratio(row["auto_correct"], row["auto"]),
            "recall": _ratio(row["auto_correct"], row["lines"]),
        }
        for row in table.to_dicts()
    ]


def shares(summary: dict) -> dict:
    """The shares of the bank lines matched auto, suggested and left as exceptions (unmatched)."""
    n = summary["bank_lines"]
    return {
        k: _ratio(summary[s], n) for k, s in (("auto", "auto"), ("suggested", "suggested"), ("exception", "unmatched"))
    }


def score_invoices(run: InvoiceMatch, truth: pl.DataFrame) -> dict:
    """Recall and precision per issue kind by status, and the clean lines flagged."""
    lines = run.lines.select("invoice_id", pl.col("line").cast(pl.Int64), "status")
    joined = lines.join(truth, on=["invoice_id", "line"], how="left")
    kinds = []
    for kind in STATUS_ORDER:
        true_rows = truth.filter(pl.col("issue") == kind)
        if kind == "no_po" and true_rows.is_empty():
            continue  # the demo injects no invoice without a PO
        found = true_rows.join(lines.filter(pl.col("status") == kind), on=["invoice_id", "line"], how="semi").height
        flagged = joined.filter(pl.col("status") == kind)
        true_flags = flagged.filter(pl.col("issue") == kind).height
        kinds.append(
            {
                "issue": kind,
                "injected": true_rows.height,
                "found": found,
                "recall": _ratio(found, true_rows.height),
                "flagged": flagged.height,
                "precision": _ratio(true_flags, flagged.height),
                "missed": true_rows.join(lines.filter(pl.col("status") == kind), on=["invoice_id", "line"], how="anti")
                .head(10)
                .to_dicts(),
            }
        )
    clean = joined.filter(pl.col("issue").is_null())
    clean_flagged = clean.filter(pl.col("status") != "matched").height
    return {
        "lines": lines.height,
        "kinds": kinds,
        "clean_lines": clean.height,
        "clean_flagged": clean_flagged,
        "clean_flag_rate": _ratio(clean_flagged, clean.height),
    }


def verdict(bank: dict, invoices: dict) -> dict:
    """Each target with the measured value and whether it is met (None: nothing to measure)."""

    def at_least(x, t):
        return None if x is None else x >= t

    def at_most(x, t):
        return None if x is None else x <= t

    recalls = [k["recall"] for k in invoices["kinds"] if k["injected"]]
    worst = min(recalls) if recalls else None
    return {
        "auto_correct_rate": {
            "target": ">= 0.98",
            "value": bank["auto_correct_rate"],
            "met": at_least(bank["auto_correct_rate"], TARGETS["auto_correct_rate"]),
        },
        "wrong_auto_rate": {
            "target": "<= 0.001",
            "value": bank["wrong_auto_rate"],
            "met": at_most(bank["wrong_auto_rate"], TARGETS["wrong_auto_rate"]),
        },
        "issue_recall_min": {
            "target": ">= 0.95",
            "value": worst,
            "met": at_least(worst, TARGETS["issue_recall"]),
        },
        "clean_flag_rate": {
            "target": "<= 0.02",
            "value": invoices["clean_flag_rate"],
            "met": at_most(invoices["clean_flag_rate"], TARGETS["clean_flag_rate"]),
        },
    }
