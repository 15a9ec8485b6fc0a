"""Invariants of the bank reconciliation, over random statements and open items (hypothesis).

Amounts, counterparties, references and dates are drawn from small sets, so that collisions,
ambiguities, batches and partial payments happen often. For every draw:
- every bank line has exactly one status (confirmed, auto, suggested or unmatched);
- no bank line and no document is in two confirmed or auto matches;
- an auto match's amounts agree: exactly, or within the tolerance for `amount_tolerance`;
- a confirmed match is kept as it is by later runs, even with new lines and documents added;
- a rejected match is never proposed again;
- over a sequence of runs keeping their auto matches, with new statements in between, kept matches stay
  as they are unless rejected, and nothing is ever in two kept or confirmed matches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bank_frames import BANK_SCHEMA, ITEM_SCHEMA
from opsfin.matching import BankDecisions, default_config, kept_frame, reconcile
from opsfin.matching.rules import tolerance_cents

D0 = dt.date(2024, 1, 1)
CONFIG = default_config().bank

cents = st.sampled_from([100_00, 120_00, 130_00, 250_00, 350_00, 999_95, 1000_00, -100_00, -250_00, 600_00, 400_00])
party = st.sampled_from(["Acme GmbH", "ACME", "Zenith AG", "Müller GmbH", None])
ref = st.sampled_from(["INV-1", "INV-2", "inv 2", "ADVICE 9", "259", "ARI-0000259", None])
day = st.integers(0, 20)


@st.composite
def books(draw):
    n_lines = draw(st.integers(1, 12))
    n_items = draw(st.integers(0, 12))
    lines = [
        (
            f"L{k}",
            D0 + dt.timedelta(days=draw(day)),
            Decimal(draw(cents)).scaleb(-2),
            "EUR",
            draw(party),
            draw(ref),
            None,
        )
        for k in range(n_lines)
    ]
    docs = []
    for k in range(n_items):
        amount = Decimal(draw(cents)).scaleb(-2)
        kind = "ar_receipt" if amount > 0 else draw(st.sampled_from(["ap_payment", "gl_entry"]))
        docs.append(
            (
                kind,
                f"D{k}",
                D0 + dt.timedelta(days=draw(day)),
                amount,
                "EUR",
                draw(party),
                draw(ref),
                None,
            )
        )
    return (
        pl.DataFrame(lines, schema=BANK_SCHEMA, orient="row"),
        pl.DataFrame(docs, schema=ITEM_SCHEMA, orient="row"),
    )


def check_invariants(bank: pl.DataFrame, items: pl.DataFrame, result) -> None:
    m = result.matches
    decided = m.filter(pl.col("status").is_in(["auto", "confirmed"]))
    # each bank line exactly once: decided, else suggested, else unmatched
    decided_lines = set(decided["bank_txn_id"])
    suggested_lines = set(m.filter(pl.col("status") == "suggested")["bank_txn_id"]) - decided_lines
    unmatched = set(result.exceptions["bank_txn_id"])
    assert not (decided_lines & unmatched) and not (suggested_lines & unmatched)
    assert decided_lines | suggested_lines | unmatched == set(bank["bank_txn_id"])
    assert result.exceptions.height == len(unmatched)
    s = result.summary
    assert (s["auto"] + s["confirmed"], s["suggested"], s["unmatched"]) == (
        len(decided_lines),
        len(suggested_lines),
        len(unmatched),
    )
    # never twice in a decided match
    per_line = decided.group_by("bank_txn_id").agg(pl.col("match_id").n_unique())
    per_doc = decided.group_by("doc_type", "doc_id").agg(pl.col("match_id").n_unique())
    assert per_line["match_id"].max() in (None, 1)
    assert per_doc["match_id"].max() in (None, 1)
    # a suggestion never names a line or document already decided
    sug = m.filter(pl.col("status") == "suggested")
    assert not set(sug["bank_txn_id"]) & decided_lines
    assert not set(zip(sug["doc_type"], sug["doc_id"], strict=True)) & set(
        zip(decided["doc_type"], decided["doc_id"], strict=True)
    )
    # the amounts of an auto match agree
    amounts = dict(zip(bank["bank_txn_id"], bank["amount"], strict=True))
    doc_amounts = {(t, d): a for t, d, a in items.select("doc_type", "doc_id", "amount").iter_rows()}
    for mid, rows in decided.filter(pl.col("status") == "auto").group_by("match_id"):
        line_total = sum(amounts[b] for b in set(rows["bank_txn_id"]))
        doc_total = sum(doc_amounts[k] for k in set(zip(rows["doc_type"], rows["doc_id"], strict=True)))
        gap = abs(int((line_total - doc_total) * 100))
        if rows["rule"][0] == "amount_tolerance":
            assert 0 < gap <= tolerance_cents(int(doc_total * 100), CONFIG.rules.amount_tolerance), mid
        else:
            assert gap == 0, mid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_no_line_or_document_is_matched_twice(data):
    bank, items = data
    check_invariants(bank, items, reconcile(bank, items, CONFIG, "EUR"))


def _pairs(rows: pl.DataFrame) -> list[tuple[str, str, str]]:
    return sorted(rows.select("bank_txn_id", "doc_type", "doc_id").iter_rows())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), books(), st.data())
def test_decisions_persist_and_rejections_are_never_proposed_again(first, later, data):
    bank, items = first
    run1 = reconcile(bank, items, CONFIG, "EUR")
    ids = run1.matches["match_id"].unique().sort().to_list()
    assume(ids)  # a draw with nothing to decide says nothing about decisions: hypothesis draws another
    chosen = data.draw(st.sampled_from(ids))
    confirmed_rows = run1.matches.filter(pl.col("match_id") == chosen)
    others = [i for i in ids if i != chosen]
    rejected = data.draw(st.lists(st.sampled_from(others), unique=True, max_size=3)) if others else []
    decisions = BankDecisions(
        {
            chosen: {
                "pairs": _pairs(confirmed_rows),
                "rule": confirmed_rows["rule"][0],
                "score": confirmed_rows["score"][0],
            }
        },
        frozenset(rejected),
    )
    # later run: the same books plus new lines and documents (ids renamed so they do not collide)
    new_bank, new_items = later
    bank2 = pl.concat([bank, new_bank.with_columns(pl.col("bank_txn_id").str.replace("L", "N"))])
    items2 = pl.concat([items, new_items.with_columns(pl.col("doc_id").str.replace("D", "E"))])
    run2 = reconcile(bank2, items2, CONFIG, "EUR", decisions)
    check_invariants(bank2, items2, run2)
    kept = run2.matches.filter(pl.col("match_id") == chosen)
    assert set(kept["status"]) == {"confirmed"}
    assert _pairs(kept) == _pairs(confirmed_rows)
    assert not set(run2.matches["match_id"]) & set(rejected)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.data())
def test_the_part_of_a_run_about_some_lines_is_consistent(data, pick):
    """What a date-range run reports (`only_lines`): those lines' rows only, each line once, and a summary
    that counts them."""
    from opsfin.matching.bank import only_lines

    bank, items = data
    whole = reconcile(bank, items, CONFIG, "EUR")
    ids = pick.draw(st.lists(st.sampled_from(bank["bank_txn_id"].to_list()), unique=True))
    part = only_lines(whole, pl.Series(ids, dtype=pl.String))
    assert set(part.matches["bank_txn_id"]) | set(part.exceptions["bank_txn_id"]) == set(ids)
    assert part.matches.equals(whole.matches.filter(pl.col("bank_txn_id").is_in(ids)))
    s = part.summary
    assert s["bank_lines"] == len(ids) == s["auto"] + s["suggested"] + s["unmatched"] + s["confirmed"]
    auto_lines = set(part.matches.filter(pl.col("status") == "auto")["bank_txn_id"])
    assert s["auto"] == len(auto_lines) and sum(s["by_rule"].values()) == len(auto_lines)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.lists(books(), min_size=1, max_size=3), st.data())
def test_runs_keep_their_auto_matches_across_new_statements(first, statements, data):
    """A sequence of runs, each keeping its new auto matches, with new lines and documents arriving in
    between and now and then a kept match rejected: every run keeps the earlier kept matches as they are
    (status auto, same pairs, their run id) unless rejected, never proposes a rejected one, and no line or
    document is ever in two kept or confirmed matches."""
    bank, items = first
    kept = kept_frame()
    rejected: set[str] = set()
    for step, (new_bank, new_items) in enumerate([(None, None), *statements], start=1):
        if new_bank is not None:
            bank = pl.concat([bank, new_bank.with_columns(pl.col("bank_txn_id").str.replace("L", f"S{step}_"))])
            items = pl.concat([items, new_items.with_columns(pl.col("doc_id").str.replace("D", f"S{step}_"))])
        kept_ids = sorted(set(kept["match_id"]) - rejected)
        if kept_ids and data.draw(st.booleans()):
            rejected.add(data.draw(st.sampled_from(kept_ids)))
        result = reconcile(bank, items, CONFIG, "EUR", BankDecisions(rejected=frozenset(rejected)), kept)
        check_invariants(bank, items, result)
        assert not set(result.matches["match_id"]) & rejected
        standing = kept.filter(~pl.col("match_id").is_in(list(rejected)))
        reported = result.matches.filter(pl.col("run_id").is_not_null())
        assert set(reported["status"]) <= {"auto"}
        assert sorted(reported.select("run_id", "match_id", "bank_txn_id", "doc_type", "doc_id").rows()) == sorted(
            standing.select("run_id", "match_id", "bank_txn_id", "doc_type", "doc_id").rows()
        )
        new = result.matches.filter((pl.col("status") == "auto") & pl.col("run_id").is_null())
        kept = pl.concat(
            [
                kept,
                kept_frame(
                    [
                        (step, *r)
                        for r in new.select("match_id", "bank_txn_id", "doc_type", "doc_id", "rule", "score").rows()
                    ]
                ),
            ]
        )
