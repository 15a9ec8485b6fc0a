"""The exception queue of the bank reconciliation: each unmatched bank line with the reason it could
not be matched, the first that applies of:

1. a rule gave up on it (the subset-sum search ran out of time);
2. every match proposed for it was rejected;
3. a document carries its reference, but that document is already matched, or the amounts differ
   by more than the tolerance, or it is in another currency;
4. its counterparty has open items within the window, none for this amount;
5. a document has its amount and date (one of its counterparty or reference first), but is
   already matched, or neither reference nor counterparty resembles the line;
6. nothing: no open item with this reference, counterparty or amount within the window."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from .candidates import LINE_COLUMNS, window_pairs
from .config import BankConfig
from .rules import tolerance_cents

#: a bank line as the queues show it: the engine's bank line columns but the free-text description
LINE_SHOWN = tuple(c for c in LINE_COLUMNS if c != "description")
COLUMNS = (*LINE_SHOWN, "reason")


def _money(cents: int, currency: str) -> str:
    return f"{Decimal(cents).scaleb(-2):.2f} {currency}"


def _nearest(pairs: pl.DataFrame) -> dict[int, dict]:
    """Per line, the pair whose amount is closest (then, when the pairs say `_alike`, one resembling the
    line, then the nearest date, then the first item)."""
    if pairs.is_empty():
        return {}
    unlike = ~pl.col("_alike") if "_alike" in pairs.columns else pl.lit(False)
    best = (
        pairs.with_columns(
            _gap=(pl.col("cents") - pl.col("cents_item")).abs(),
            _ad=pl.col("days").abs(),
            _unlike=unlike,
        )
        .sort("line", "_gap", "_unlike", "_ad", "item")
        .group_by("line", maintain_order=True)
        .agg(
            pl.col("item").first(),
            pl.col("cents").first(),
            pl.col("cents_item").first(),
            pl.len().alias("n"),
        )
    )
    return {r["line"]: r for r in best.iter_rows(named=True)}


def unmatched_reasons(
    unmatched: pl.DataFrame,
    lines: pl.DataFrame,
    docs: pl.DataFrame,
    comparable: pl.DataFrame,
    matches: pl.DataFrame,
    notes: pl.DataFrame,
    rejected_lines: pl.Series,
    config: BankConfig,
) -> pl.DataFrame:
    """One row per unmatched bank line: `bank_txn_id, booking_date, amount, currency, counterparty,
    reference, reason`. `matches`: `doc_type, doc_id, bank_txn_id, status[, run_id]` of the matches so far
    (also confirmed or kept ones whose bank line is not in this run); a document kept by a run is named as
    `already matched to bank line L by run R`."""
    if unmatched.is_empty():
        return pl.DataFrame(schema={c: lines.schema.get(c, pl.String) for c in COLUMNS})
    r = config.rules
    decided = matches.filter(pl.col("status").is_in(["auto", "confirmed"]))
    if "run_id" not in decided.columns:
        decided = decided.with_columns(run_id=pl.lit(None, pl.Int64))
    taken = docs.join(decided.select("doc_type", "doc_id", "bank_txn_id", "run_id"), on=["doc_type", "doc_id"])
    free = comparable.join(taken.select("item"), on="item", how="anti")
    note = dict(notes.group_by("line").agg(pl.col("note").first()).iter_rows()) if not notes.is_empty() else {}
    rejected = set(rejected_lines.to_list())
    by_ref, by_party, by_amount = _nearest_documents(unmatched, comparable, free, config)
    by_ref_elsewhere = _other_currency(unmatched, docs, r.exact_reference.days_before, r.exact_reference.days_after)
    widest = max(getattr(r, name).days_before for name in type(r).model_fields)
    named = {h["item"] for found in (by_ref, by_party, by_amount, by_ref_elsewhere) for h in found.values()}
    doc_names, owner = _names_and_owners(docs, taken, named)

    reasons = []
    for row in unmatched.select("line", "cur", "reference").iter_rows(named=True):
        line, cur = row["line"], row["cur"]
        reasons.append(
            _reason(
                line,
                cur,
                row["reference"],
                note,
                rejected,
                by_ref,
                by_party,
                by_amount,
                by_ref_elsewhere,
                doc_names,
                owner,
                config,
                widest,
            )
        )
    out = unmatched.with_columns(reason=pl.Series(reasons, dtype=pl.String))
    return out.select(*COLUMNS)


def _nearest_documents(
    unmatched: pl.DataFrame, comparable: pl.DataFrame, free: pl.DataFrame, config: BankConfig
) -> tuple[dict[int, dict], dict[int, dict], dict[int, dict]]:
    """Per unmatched line, the nearest document (`_nearest`) carrying its reference, the nearest free one
    of its counterparty, and the nearest with its amount — each within its rules' date window."""
    r = config.rules
    cents_col = ("cents",)
    ref_window = (r.exact_reference.days_before, r.exact_reference.days_after)
    by_ref = _nearest(_pairs_keeping(unmatched, comparable, ["cur", "ref_key"], ref_window, cents_col))
    party_window = (
        max(r.amount_tolerance.days_before, r.amount_date_counterparty.days_before),
        max(r.amount_tolerance.days_after, r.amount_date_counterparty.days_after),
    )
    by_party = _nearest(_pairs_keeping(unmatched, free, ["cur", "cp_key"], party_window, cents_col))
    keys = ("cp_key", "ref_key")
    amount_window = (r.fuzzy_reference.days_before, r.fuzzy_reference.days_after)
    by_amount = _nearest(
        _pairs_keeping(unmatched, comparable, ["cur", "cents"], amount_window, keys).with_columns(
            cents_item=pl.col("cents"),
            _alike=(
                (pl.col("cp_key") == pl.col("cp_key_item")) | (pl.col("ref_key") == pl.col("ref_key_item"))
            ).fill_null(False),
        )
    )
    return by_ref, by_party, by_amount


def _pairs_keeping(
    unmatched: pl.DataFrame, docs: pl.DataFrame, on: list[str], window: tuple[int, int], kept: tuple[str, ...]
) -> pl.DataFrame:
    """`window_pairs` of the unmatched lines and `docs` within (days before, days after), with the
    columns `kept` of both sides."""
    return window_pairs(unmatched, docs, on, *window, line_cols=kept, item_cols=kept)


def _names_and_owners(docs: pl.DataFrame, taken: pl.DataFrame, named: set) -> tuple[dict, dict]:
    """For the documents a reason names: item -> (doc_type, doc_id), and (doc_type, doc_id) -> the bank
    line (and run) that already holds it, for those matched."""
    names = docs.filter(pl.col("item").is_in(list(named))).join(
        taken.select("item", "bank_txn_id", "run_id"), on="item", how="left"
    )
    doc_names = {i: (t, d) for i, t, d in names.select("item", "doc_type", "doc_id").iter_rows()}
    owner = {
        (t, d): f"bank line {b}" + (f" by run {r}" if r is not None else "")
        for t, d, b, r in names.select("doc_type", "doc_id", "bank_txn_id", "run_id").iter_rows()
        if b
    }
    return doc_names, owner


def _other_currency(unmatched: pl.DataFrame, docs: pl.DataFrame, days_before: int, days_after: int) -> dict[int, dict]:
    """Per line, a document carrying its reference in another currency than the line's (its own
    currency; a document is compared in it or, converted, in the base currency)."""
    own = docs.select("item", "day", "ref_key", doc_cur="currency", doc_amount="amount")
    pairs = window_pairs(
        unmatched,
        own,
        ["ref_key"],
        days_before,
        days_after,
        line_cols=("cur",),
        item_cols=("doc_cur", "doc_amount"),
    ).filter(pl.col("cur") != pl.col("doc_cur"))
    if pairs.is_empty():
        return {}
    best = (
        pairs.with_columns(_ad=pl.col("days").abs())
        .sort("line", "_ad", "item")
        .group_by("line", maintain_order=True)
        .agg(pl.col("item").first(), pl.col("doc_cur").first(), pl.col("doc_amount").first())
    )
    return {r["line"]: r for r in best.iter_rows(named=True)}


def _reason(
    line: int,
    cur: str,
    reference: str | None,
    note: dict,
    rejected: set,
    by_ref: dict,
    by_party: dict,
    by_amount: dict,
    by_ref_elsewhere: dict,
    doc_names: dict,
    owner: dict,
    config: BankConfig,
    widest: int,
) -> str:
    if line in note:
        return note[line]
    if line in rejected:
        return "every match proposed for it was rejected"
    if line in by_ref:
        hit = by_ref[line]
        doc = doc_names[hit["item"]]
        name = f"{doc[0]} {doc[1]}"
        if doc in owner:
            return f"its reference {reference!r} belongs to {name}, already matched to {owner[doc]}"
        gap = hit["cents"] - hit["cents_item"]
        tol = tolerance_cents(hit["cents_item"], config.rules.amount_tolerance)
        if gap == 0:
            return f"its reference and amount match {name}, but that match was not proposed (rule disabled?)"
        return (
            f"its reference matches {name}, but the amounts differ by {_money(gap, cur)} "
            f"(more than the tolerance of {_money(tol, cur)})"
        )
    if line in by_ref_elsewhere:
        hit = by_ref_elsewhere[line]
        doc = doc_names[hit["item"]]
        return (
            f"its reference matches {doc[0]} {doc[1]}, but that document is in {hit['doc_cur']} "
            f"({hit['doc_amount']:.2f} {hit['doc_cur']}) and this line in {cur}: documents are compared in "
            "their own currency or, converted, in the base currency"
        )
    if line in by_party:
        hit = by_party[line]
        doc = doc_names[hit["item"]]
        return (
            f"{hit['n']} open item(s) of this counterparty in the window, none for this amount "
            f"(the closest, {doc[0]} {doc[1]}, differs by {_money(hit['cents'] - hit['cents_item'], cur)})"
        )
    if line in by_amount:
        doc = doc_names[by_amount[line]["item"]]
        name = f"{doc[0]} {doc[1]}"
        if doc in owner:
            return f"{name} has this amount and date but is already matched to {owner[doc]}"
        return f"{name} has this amount and date, but neither its reference nor its counterparty resembles this line"
    return f"no open item with this reference, counterparty or amount within {widest} days"
