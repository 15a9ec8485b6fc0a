"""The bank-reconciliation rules, one function each. A rule proposes matches; it decides nothing.

Every rule takes the bank lines and open items still free (`candidates.prepare_lines` /
`prepare_items` frames) and returns *proposals*: rows `proposal, line, item, score`, one row per
(bank line, document) pair, a proposal of several rows being a one-to-many match. Scores are in
[0, 1]; the cascade (`bank.py`) turns unambiguous proposals at or above the threshold into `auto`
matches. Where a rule gives up on a line (a subset-sum search out of time) it says so in `notes`
(`line, note`).

Scores (docs/matching.md): exact reference 1 − 0.001/day apart; amount + date + counterparty
0.95 − 0.005/day; fuzzy 0.5 + 0.5 × (w × reference + (1 − w) × counterparty similarity) − 0.005/day;
batch and partial payments 0.98 when the documents share the bank reference, 0.92 when all of the
payer's documents of one day add up, 0.9 for the only subset of the payer's items that adds up (unless
so many subsets were possible that one adding up by chance is not unlikely: `chance_hits`), 0.6 each
when several do; amount tolerance 0.9 (same
reference) or 0.75 (same counterparty) − 0.1 × |difference| / tolerance − 0.005/day."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from rapidfuzz import fuzz, process

from .candidates import item_texts, line_texts, reference_key, window_pairs
from .config import (
    AmountTolerance,
    BatchPayment,
    FuzzyReference,
    PartialPayments,
    SubsetSearch,
    Window,
)
from .subset_sum import subset_sums

PROPOSALS = {"proposal": pl.Int64, "line": pl.Int64, "item": pl.Int64, "score": pl.Float64}
NOTES = {"line": pl.Int64, "note": pl.String}


@dataclass
class RuleResult:
    proposals: pl.DataFrame
    notes: pl.DataFrame


def _empty() -> RuleResult:
    return RuleResult(pl.DataFrame(schema=PROPOSALS), pl.DataFrame(schema=NOTES))


def _one_to_one(pairs: pl.DataFrame, score: pl.Expr) -> RuleResult:
    props = (
        pairs.select("line", "item", score=score.clip(0.0, 1.0))
        .group_by("line", "item")
        .agg(pl.col("score").max())
        .sort("line", "item")
        .with_row_index("proposal")
        .with_columns(pl.col("proposal").cast(pl.Int64))
    )
    return RuleResult(props.select(list(PROPOSALS)), pl.DataFrame(schema=NOTES))


def _abs_days() -> pl.Expr:
    return pl.col("days").abs().cast(pl.Float64)


def exact_reference(lines: pl.DataFrame, docs: pl.DataFrame, comparable: pl.DataFrame, p: Window) -> RuleResult:
    """Same reference (letters and digits, any case), same amount, within the window."""
    pairs = window_pairs(lines, comparable, ["cur", "cents", "ref_key"], p.days_before, p.days_after)
    return _one_to_one(pairs, 1.0 - 0.001 * _abs_days())


def amount_date_counterparty(
    lines: pl.DataFrame, docs: pl.DataFrame, comparable: pl.DataFrame, p: Window
) -> RuleResult:
    """Same amount and counterparty (name without case, punctuation or legal form), within the window."""
    pairs = window_pairs(lines, comparable, ["cur", "cents", "cp_key"], p.days_before, p.days_after)
    return _one_to_one(pairs, 0.95 - 0.005 * _abs_days())


def reference_similarity(
    line_refs: list[str],
    line_texts: list[str],
    line_digits: list[str | None],
    doc_refs: list[str],
    doc_digits: list[str | None],
) -> list[float]:
    """Per pair, in [0, 1], the best of:
    - the edit similarity of the identifying part: the digits when both references have some (so that
      'ARI-00694876' and 'ARI-00727733' are not alike for their common prefix), else the references;
    - equal digits (0.95: 'ARI-0000259' paid as '259');
    - the document reference found (≥ 90% alike, and its digits among the text's digits) inside the
      bank reference and description, for references of 6+ characters ('/ROC/ARI0000259'; but not
      'TFNr 01031 PayId' inside 'TFNr 01032 PayId')."""
    if not line_refs:
        return []
    both_digits = [a is not None and b is not None for a, b in zip(line_digits, doc_digits, strict=True)]
    left = [a if d else r for a, r, d in zip(line_digits, line_refs, both_digits, strict=True)]
    right = [b if d else r for b, r, d in zip(doc_digits, doc_refs, both_digits, strict=True)]
    whole = process.cpdist(left, right, scorer=fuzz.ratio, workers=-1) / 100.0
    inside = process.cpdist(line_texts, doc_refs, scorer=fuzz.partial_ratio, workers=-1) / 100.0
    out = []
    for k, (w, i) in enumerate(zip(whole.tolist(), inside.tolist(), strict=True)):
        best = w if left[k] and right[k] else 0.0  # two missing references are not alike
        digits = doc_digits[k]
        digits_inside = digits is None or digits in "".join(filter(str.isdigit, line_texts[k]))
        if len(doc_refs[k]) >= 6 and i >= 0.9 and digits_inside:
            best = max(best, i)
        if both_digits[k] and line_digits[k] == doc_digits[k]:
            best = max(best, 0.95)
        out.append(best)
    return out


def likeness(pairs: pl.DataFrame, lines: pl.DataFrame, docs: pl.DataFrame, p: FuzzyReference) -> pl.DataFrame:
    """`pairs` (`line, item, days`, ...) with `ref_sim`, `party_sim` (0..1, rapidfuzz) and `fuzzy`, the fuzzy
    rule's score 0.5 + 0.5 x (w x ref_sim + (1 - w) x party_sim) - 0.005/day (see `reference_similarity`)."""
    if pairs.is_empty():
        return pairs.with_columns(
            ref_sim=pl.lit(None, pl.Float64),
            party_sim=pl.lit(None, pl.Float64),
            fuzzy=pl.lit(None, pl.Float64),
        )
    base = pairs.drop([c for c in ("ref_key",) if c in pairs.columns])
    in_pairs = docs.join(pairs.select("item").unique(), on="item", how="semi")
    texts = line_texts(lines.join(pairs.select("line").unique(), on="line", how="semi"))
    full = (
        base.join(lines.select("line", "ref_key"), on="line")
        .join(texts, on="line")
        .join(
            in_pairs.select("item", doc_ref="ref_key").join(item_texts(in_pairs), on="item"),
            on="item",
        )
    )
    ref = reference_similarity(
        full["ref_key"].fill_null("").to_list(),
        full["ref_text"].fill_null("").to_list(),
        full["ref_digits"].to_list(),
        full["doc_ref"].fill_null("").to_list(),
        full["doc_digits"].to_list(),
    )
    party = (
        process.cpdist(
            full["party_text"].fill_null("").to_list(),
            full["doc_party"].fill_null("").to_list(),
            scorer=fuzz.token_set_ratio,
            workers=-1,
        )
        / 100.0
    )
    w = p.reference_weight
    full = full.with_columns(ref_sim=pl.Series(ref, dtype=pl.Float64), party_sim=pl.Series(party, dtype=pl.Float64))
    return full.with_columns(
        fuzzy=0.5 + 0.5 * (w * pl.col("ref_sim") + (1 - w) * pl.col("party_sim")) - 0.005 * _abs_days()
    )


def fuzzy_reference(lines: pl.DataFrame, docs: pl.DataFrame, comparable: pl.DataFrame, p: FuzzyReference) -> RuleResult:
    """Same amount within the window, scored by reference and counterparty similarity (rapidfuzz, only
    on those amount blocks)."""
    pairs = window_pairs(lines, comparable, ["cur", "cents"], p.days_before, p.days_after)
    if pairs.is_empty():
        return _empty()
    pairs = likeness(pairs, lines, docs, p).filter(pl.max_horizontal("ref_sim", "party_sim") >= p.min_similarity)
    return _one_to_one(pairs, pl.col("fuzzy"))


def _same_sign(a: str, b: str) -> pl.Expr:
    return (pl.col(a) > 0) == (pl.col(b) > 0)


def _groups_summing(
    pairs: pl.DataFrame,
    anchor: str,
    other: str,
    anchor_cents: str,
    other_cents: str,
    score: float,
    by: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Proposals where all of an anchor's partners (≥ 2) add up exactly to the anchor's amount; with `by`,
    all of its partners that share those columns (`days`: the partners of one day)."""
    sums = (
        pairs.group_by(anchor, *by)
        .agg(
            pl.col(other_cents).sum().alias("_sum"),
            pl.col(anchor_cents).first(),
            pl.col(other),
            pl.len().alias("_n"),
        )
        .filter((pl.col("_n") >= 2) & (pl.col("_sum") == pl.col(anchor_cents)))
    )
    return (
        sums.select(anchor, other)
        .sort(anchor, pl.col(other).list.first())
        .with_row_index("proposal")
        .explode(other)
        .with_columns(pl.col("proposal").cast(pl.Int64), score=pl.lit(score))
    )


CHANCE_LIMIT = 0.01  # a unique subset is auto only when fewer than this many could add up by chance


def chance_hits(candidates: int, max_items: int, target_cents: int) -> float:
    """How many of the subsets searched would add up to the target by chance: the subsets of 2..max_items
    of the candidates, spread over the target's cents (20 candidates, 6 items: 60,439 subsets; against a
    3,504.46 target 0.17, so a subset found is only a suggestion; 4 candidates against 350.00: 0.0003)."""
    subsets = sum(math.comb(candidates, k) for k in range(2, min(max_items, candidates) + 1))
    return subsets / max(abs(target_cents), 1)


def _subset_proposals(
    pairs: pl.DataFrame,
    anchor: str,
    other: str,
    anchor_cents: str,
    other_cents: str,
    p: SubsetSearch,
    first_proposal: int,
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Bounded subset-sum per anchor over its `max_candidates` nearest partners (by days apart)."""
    ranked = (
        pairs.with_columns(_ad=pl.col("days").abs())
        .sort(anchor, "_ad", other)
        .group_by(anchor, maintain_order=True)
        .agg(
            pl.col(anchor_cents).first(),
            pl.col(other).head(p.max_candidates),
            pl.col(other_cents).head(p.max_candidates),
        )
    )
    rows: list[tuple[int, int, int, float]] = []
    notes: list[tuple[int, str]] = []
    deadline = time.monotonic() + p.time_budget_seconds
    proposal = first_proposal
    for a, target, partners, amounts in ranked.iter_rows():
        if len(partners) < 2:
            continue
        if time.monotonic() > deadline:
            notes.append((a, "the subset-sum search ran out of its time budget before this line"))
            continue
        found = subset_sums(target, amounts, p.max_items, min(deadline, time.monotonic() + 1.0))
        if found.timed_out and not found.solutions:
            notes.append((a, "the subset-sum search ran out of time for this line"))
        unique = len(found.solutions) == 1 and not found.timed_out
        score = 0.9 if unique and chance_hits(len(partners), p.max_items, target) <= CHANCE_LIMIT else 0.6
        for sol in found.solutions:
            for k in sol:
                rows.append((proposal, a, partners[k], score))
            proposal += 1
    frame = pl.DataFrame(
        rows,
        schema={"proposal": pl.Int64, anchor: pl.Int64, other: pl.Int64, "score": pl.Float64},
        orient="row",
    )
    return frame, notes


def named_references(lines: pl.DataFrame) -> pl.DataFrame:
    """`line, day, cur, cents, ref_key` for every document reference a bank line may name in its
    reference or description: each word, and each two adjacent words run together ('ARI 0000259'), as
    a reference key, when it has a digit and at least 4 characters ('Rechnungen ARI-0001, ARI-0002' ->
    ARI0001, ARI0002, ...)."""
    text = pl.concat_str([pl.col("reference").fill_null(""), pl.col("description").fill_null("")], separator=" ")
    words = (
        lines.select(
            "line",
            "day",
            "cur",
            "cents",
            word=text.str.to_uppercase().str.replace_all(r"[\s,;:+&|]+", " ").str.strip_chars().str.split(" "),
        )
        .explode("word")
        .with_columns(following=pl.col("word").shift(-1).over("line"))
    )
    keys = pl.concat(
        [
            words.select("line", "day", "cur", "cents", ref_key=reference_key(pl.col("word"))),
            words.select(
                "line",
                "day",
                "cur",
                "cents",
                ref_key=reference_key(pl.concat_str("word", "following")),
            ),
        ]
    )
    return keys.filter(pl.col("ref_key").str.contains(r"\d") & (pl.col("ref_key").str.len_chars() >= 4)).unique()


def _next_proposal(*frames: pl.DataFrame) -> int:
    """The first proposal id after those of `frames` (Int64 row indexes; 0 when they hold none)."""
    last = [f["proposal"].max() for f in frames]
    ids = [x for x in last if isinstance(x, int)]
    return max(ids) + 1 if ids else 0


def _many(anchor: str, other: str, p: SubsetSearch, lines: pl.DataFrame, comparable: pl.DataFrame) -> RuleResult:
    """Shared by batch (anchor = bank line) and partial payments (anchor = document)."""
    a_cents, o_cents = ("cents", "cents_item") if anchor == "line" else ("cents_item", "cents")

    def candidate_pairs(on: list[str], left: pl.DataFrame = lines) -> pl.DataFrame:
        pairs = window_pairs(
            left,
            comparable,
            on,
            p.days_before,
            p.days_after,
            line_cols=("cents",),
            item_cols=("cents",),
        )
        # partners are smaller than the anchor and of its sign
        return pairs.filter(_same_sign("cents", "cents_item") & (pl.col(o_cents).abs() < pl.col(a_cents).abs()))

    # documents carrying the line's reference, or named in its reference or description
    by_ref = pl.concat(
        [
            candidate_pairs(["cur", "ref_key"]).select("line", "item", "days", "cents", "cents_item"),
            candidate_pairs(["cur", "ref_key"], named_references(lines)).select(
                "line", "item", "days", "cents", "cents_item"
            ),
        ]
    ).unique(["line", "item"])
    grouped = _groups_summing(by_ref, anchor, other, a_cents, o_cents, 0.98)
    by_party = candidate_pairs(["cur", "cp_key"]).filter(~pl.col(anchor).is_in(grouped[anchor].unique().implode()))
    # all of the counterparty's partners of one day add up: a transfer its cash application booked in full
    one_day = _groups_summing(by_party, anchor, other, a_cents, o_cents, 0.92, by=("days",))
    one_day = one_day.with_columns(pl.col("proposal") + _next_proposal(grouped))
    by_party = by_party.filter(~pl.col(anchor).is_in(one_day[anchor].unique().implode()))
    searched, notes = _subset_proposals(by_party, anchor, other, a_cents, o_cents, p, _next_proposal(one_day, grouped))
    props = pl.concat([f.select(list(PROPOSALS)) for f in (grouped, one_day, searched)])
    return RuleResult(props, pl.DataFrame(notes, schema=NOTES, orient="row"))


def batch_payment(lines: pl.DataFrame, docs: pl.DataFrame, comparable: pl.DataFrame, p: BatchPayment) -> RuleResult:
    """One bank line = several documents: those carrying its reference or named in its reference or
    description (`named_references`; a parent paying its subsidiaries' invoices under its own name) add
    up to it, or else the only subset (≤ max_items) of its counterparty's open items within the window
    that does."""
    return _many("line", "item", p, lines, comparable)


def partial_payments(
    lines: pl.DataFrame, docs: pl.DataFrame, comparable: pl.DataFrame, p: PartialPayments
) -> RuleResult:
    """Several bank lines = one document: the lines carrying its reference (or naming it in their
    reference or description) add up to it, or else the only subset of its counterparty's bank lines
    within the window that does."""
    return _many("item", "line", p, lines, comparable)


def amount_tolerance(
    lines: pl.DataFrame, docs: pl.DataFrame, comparable: pl.DataFrame, p: AmountTolerance
) -> RuleResult:
    """Same reference or counterparty within the window, amounts apart by no more than the larger of
    `absolute` and `percent` of the document amount."""
    abs_cents, bp = int(p.absolute * 100), percent_basis_points(p)
    frames = []
    for key, base in (("ref_key", 0.9), ("cp_key", 0.75)):
        pairs = window_pairs(
            lines,
            comparable,
            ["cur", key],
            p.days_before,
            p.days_after,
            line_cols=("cents",),
            item_cols=("cents",),
        )
        frames.append(
            pairs.filter(_same_sign("cents", "cents_item")).select(
                "line", "item", "days", "cents", "cents_item", base=pl.lit(base)
            )
        )
    pairs = pl.concat(frames).with_columns(
        diff=(pl.col("cents") - pl.col("cents_item")).abs(),
        tol=pl.max_horizontal(pl.lit(abs_cents), pl.col("cents_item").abs() * bp // 10_000),
    )
    pairs = pairs.filter((pl.col("diff") > 0) & (pl.col("diff") <= pl.col("tol")))
    score = (
        pl.col("base")
        - 0.1 * pl.col("diff").cast(pl.Float64) / pl.col("tol").cast(pl.Float64).clip(1.0)
        - 0.005 * _abs_days()
    )
    return _one_to_one(pairs, score)


def percent_basis_points(p: AmountTolerance) -> int:
    """The percent tolerance in hundredths of a percent (1.25 % -> 125), so that cents stay integers."""
    return int(round(p.percent * 100))


def tolerance_cents(doc_cents: int, p: AmountTolerance) -> int:
    """The tolerance in cents for a document amount: the larger of absolute and percent (floored)."""
    return max(int(p.absolute * 100), abs(doc_cents) * percent_basis_points(p) // 10_000)


# each rule takes (free bank lines, documents, free comparable items, its own parameters from config.py)
RULE_FUNCTIONS: dict[str, Callable[[pl.DataFrame, pl.DataFrame, pl.DataFrame, Any], RuleResult]] = {
    "exact_reference": exact_reference,
    "amount_date_counterparty": amount_date_counterparty,
    "fuzzy_reference": fuzzy_reference,
    "batch_payment": batch_payment,
    "partial_payments": partial_payments,
    "amount_tolerance": amount_tolerance,
}
