"""The demo's bank lines exercise the matching workflow (demo/receipts.py, docs/matching.md "The demo's bank
lines"): every hard kind is in the tiny demo's truth, the accounting of fees, FX receipts and payments on
account holds, the eval scores each kind, and the engine's one-day rule for batch payments, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from bank_frames import BANK_SCHEMA as BANK
from bank_frames import ITEM_SCHEMA as ITEMS
from opsfin.demo.receipts import FEES, HARD_KINDS
from opsfin.matching import default_config, reconcile
from opsfin.runs.matching import run_evaluation


def sql(ws, query: str) -> list[tuple]:
    with duckdb.connect(str(ws.path / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def truth(tiny_demo) -> pl.DataFrame:
    return pl.read_parquet(tiny_demo.truth_dir / "bank_matches.parquet")


@pytest.fixture(scope="module")
def scores(tiny_demo) -> dict:
    return run_evaluation(tiny_demo)


def lines_of(truth: pl.DataFrame, kind: str) -> list[str]:
    return truth.filter(pl.col("kind") == kind)["bank_txn_id"].unique().to_list()


def test_every_hard_kind_is_in_the_tiny_demo(truth, tiny_demo):
    per_line = truth.group_by("bank_txn_id").agg(pl.col("kind").n_unique().alias("n"), pl.col("kind").first())
    assert per_line["n"].max() == 1  # one kind per bank line
    counts = dict(per_line.group_by("kind").len().rows())
    for kind in HARD_KINDS:
        assert counts.get(kind, 0) >= 1, kind
    n_lines = sql(tiny_demo, "SELECT count(*) FROM bank_transactions")[0][0]
    assert per_line.height == n_lines
    hard = sum(counts.get(k, 0) for k in HARD_KINDS)
    assert 0.10 <= hard / n_lines <= 0.25, hard / n_lines  # about one line in six is hard


def test_what_each_hard_line_says(truth, tiny_demo):
    bank = dict(sql(tiny_demo, "SELECT bank_txn_id, coalesce(reference, '') FROM bank_transactions"))
    receipt_ref = dict(sql(tiny_demo, "SELECT receipt_id, reference FROM ar_receipts"))
    first = truth.filter(pl.col("doc_type") == "ar_receipt").unique("bank_txn_id", keep="first")
    for txn, doc, kind in first.select("bank_txn_id", "doc_id", "kind").rows():
        ref = bank[txn]
        if kind in ("missing_reference", "off_amount_no_reference"):
            assert ref == "", txn
        elif kind == "mangled_reference":
            assert ref not in ("", receipt_ref[doc]), txn
        elif kind == "partial_payment":
            assert receipt_ref[doc] in ref and ref != receipt_ref[doc], txn  # 'TEILZAHLUNG ARI-…'
        elif kind == "on_account":
            assert receipt_ref[doc].startswith("SO") and receipt_ref[doc] in ref, txn
        elif kind in ("reference", "bank_fee", "fx_receipt"):
            assert ref == receipt_ref[doc], txn


def test_bank_fees_go_to_bank_charges_and_clear_the_invoice_in_full(truth, tiny_demo):
    # per fee line: receipt (gross, = its allocation) - bank line = one of the fees = the receipt's 6910 posting
    fee_lines = set(lines_of(truth, "bank_fee"))
    pairs = truth.filter(pl.col("bank_txn_id").is_in(list(fee_lines))).select("bank_txn_id", "doc_id").rows()
    fees = {Decimal(f) / 100 for f in FEES}
    for txn, rid in pairs:
        ((gross, alloc, currency),) = sql(
            tiny_demo,
            f"""SELECT r.amount, a.amount, r.currency FROM ar_receipts r JOIN ar_receipt_allocations a
                USING (receipt_id) WHERE receipt_id = '{rid}'""",
        )
        ((net,),) = sql(tiny_demo, f"SELECT amount FROM bank_transactions WHERE bank_txn_id = '{txn}'")
        ((charged,),) = sql(
            tiny_demo, f"SELECT sum(amount) FROM gl_entries WHERE source_doc = '{rid}' AND account_id = '6910'"
        )
        assert currency == "EUR" and gross == alloc
        assert gross - net in fees and charged == gross - net, (txn, gross, net, charged)
    total_charges = sql(tiny_demo, "SELECT coalesce(sum(amount), 0) FROM gl_entries WHERE account_id = '6910'")[0][0]
    off_lines = truth.filter(pl.col("kind").is_in(["bank_fee", "off_amount_no_reference"]))
    off = off_lines.join(
        pl.DataFrame(
            sql(tiny_demo, "SELECT receipt_id, amount, currency FROM ar_receipts"),
            schema=["doc_id", "gross", "ccy"],
            orient="row",
        ),
        on="doc_id",
    ).filter(pl.col("ccy") == "EUR")
    bank = dict(sql(tiny_demo, "SELECT bank_txn_id, amount FROM bank_transactions"))
    assert total_charges == sum((g - bank[t] for t, g in off.select("bank_txn_id", "gross").rows()), Decimal(0))


def test_fx_receipts_arrive_at_the_banks_rate_a_little_below_the_days(truth, tiny_demo):
    fx = truth.filter(pl.col("kind") == "fx_receipt")
    assert fx.height >= 1
    for txn, rid in fx.select("bank_txn_id", "doc_id").rows():
        ((amount, ccy, day),) = sql(
            tiny_demo, f"SELECT amount, currency, received_date FROM ar_receipts WHERE receipt_id = '{rid}'"
        )
        ((rate,),) = sql(
            tiny_demo,
            f"""SELECT rate_to_base FROM fx_rates WHERE currency = '{ccy}' AND rate_date <= DATE '{day}'
                ORDER BY rate_date DESC LIMIT 1""",
        )
        ((eur,),) = sql(tiny_demo, f"SELECT amount FROM bank_transactions WHERE bank_txn_id = '{txn}'")
        at_day_rate = amount * rate
        assert ccy != "EUR"
        # the spread: 0.10 % to 0.60 % below the day's rate (give or take the cent of rounding)
        assert (
            at_day_rate * Decimal("0.9940") - Decimal("0.01")
            <= eur
            <= at_day_rate * Decimal("0.9990") + Decimal("0.01")
        ), (txn, eur, at_day_rate)


def test_payments_on_account_come_before_their_invoice(truth, tiny_demo):
    rids = truth.filter(pl.col("kind") == "on_account")["doc_id"].to_list()
    assert rids
    listed = ", ".join(f"'{r}'" for r in rids)
    rows = sql(
        tiny_demo,
        f"""SELECT r.receipt_id, r.received_date, r.reference, i.invoice_date, i.so_id
            FROM ar_receipts r JOIN ar_receipt_allocations a USING (receipt_id)
            JOIN ar_invoices i USING (invoice_id) WHERE r.receipt_id IN ({listed})""",
    )
    assert rows  # applied to their invoices
    for rid, received, ref, invoiced, so in rows:
        assert received < invoiced and ref == so, rid
    # what is not applied yet stays in customer prepayments (2400)
    received = sql(tiny_demo, f"SELECT sum(amount) FROM ar_receipts WHERE receipt_id IN ({listed})")[0][0]
    applied = sql(tiny_demo, f"SELECT sum(amount) FROM ar_receipt_allocations WHERE receipt_id IN ({listed})")[0][0]
    balance = sql(tiny_demo, "SELECT sum(amount) FROM gl_entries WHERE account_id = '2400'")[0][0]
    assert balance == -(received - applied)


def fees_beyond_tolerance(ws, pairs: pl.DataFrame) -> list[str]:
    """Of these bank lines (`bank_txn_id, doc_id` of their receipts), those in the receipt's currency that
    fall short of it by more than the amount tolerance: the larger of `absolute` and `percent` of the
    receipt (e.g. 7.50 kept off a 261.08 receipt is more than 5.00 and more than 1 % of it)."""
    tol = default_config().bank.rules.amount_tolerance
    receipt = dict(sql(ws, "SELECT receipt_id, amount || ' ' || currency FROM ar_receipts"))
    bank = dict(sql(ws, "SELECT bank_txn_id, amount || ' ' || currency FROM bank_transactions"))
    beyond = []
    for txn, doc in pairs.select("bank_txn_id", "doc_id").rows():
        (paid, cur), (owed, doc_cur) = bank[txn].split(), receipt[doc].split()
        limit = max(tol.absolute, Decimal(owed) * Decimal(str(tol.percent)) / 100)
        if cur == doc_cur and abs(Decimal(owed) - Decimal(paid)) > limit:
            beyond.append(txn)
    return beyond


def test_the_eval_scores_each_kind_and_keeps_precision_on_tiny(scores, truth, tiny_demo):
    bank = scores["bank"]
    assert bank["pair_precision"] >= 0.999 and bank["wrong_auto_rate"] <= 0.001
    assert bank["auto_correct_rate"] >= 0.98
    by_kind = {k["kind"]: k for k in bank["by_kind"]}
    assert set(by_kind) == set(truth["kind"].unique())
    for k in by_kind.values():
        assert k["lines"] == k["auto"] + k["suggested"] + k["exception"], k
        assert k["auto_precision"] is None or k["auto_precision"] >= 0.999, k
    assert sum(k["lines"] for k in by_kind.values()) == bank["bank_lines"]
    # a fee deducted (or the bank's FX rate) and no reference: only the payer ties it, a person confirms;
    # a fee beyond the amount tolerance is left to a person as an exception
    off = by_kind["off_amount_no_reference"]
    beyond = fees_beyond_tolerance(tiny_demo, truth.filter(pl.col("kind") == "off_amount_no_reference"))
    assert off["auto"] == 0 and off["exception"] == len(beyond)
    assert off["suggested"] == off["suggested_correct"] == off["lines"] - len(beyond) > 0
    shares = bank["shares"]
    assert shares["auto"] + shares["suggested"] + shares["exception"] == pytest.approx(1.0)


# ------------------------------------------------------------------ the one-day rule of batch payments, by hand

D = dt.date(2024, 3, 8)


def reconcile_by_hand(line_amount: str, receipts: list[tuple[str, int, str]]):
    """One bank line from Acme on day D without a reference; `receipts`: (id, day offset, amount) of Acme."""
    bank = pl.DataFrame(
        [("L1", D, Decimal(line_amount), "EUR", "ACME GMBH", None, "SEPA CREDIT TRANSFER")], schema=BANK, orient="row"
    )
    items = pl.DataFrame(
        [
            ("ar_receipt", rid, D + dt.timedelta(days=off), Decimal(a), "EUR", "Acme GmbH", f"ARI-{rid}", None)
            for rid, off, a in receipts
        ],
        schema=ITEMS,
        orient="row",
    )
    r = reconcile(bank, items, default_config().bank, "EUR")
    return {(s, rule, tuple(sorted(g["doc_id"]))) for (s, rule), g in r.matches.group_by("status", "rule")}


def test_all_of_a_payers_receipts_of_one_day_adding_up_are_the_batch():
    # 300.00 = R1 100.00 + R2 200.00 (both day 0) = R3 50.00 (day -5) + R4 250.00 (day -4): two subsets add up,
    # so the subset search alone could only suggest (0.6 each); but R1 and R2 are all of Acme's receipts of one
    # day and they add up: 0.92, auto.
    got = reconcile_by_hand(
        "300.00", [("R1", 0, "100.00"), ("R2", 0, "200.00"), ("R3", -5, "50.00"), ("R4", -4, "250.00")]
    )
    assert got == {("auto", "batch_payment", ("R1", "R2"))}


def test_a_batch_of_more_receipts_than_the_subset_search_takes():
    # eight receipts of 10.00 .. 80.00 on day -1 = 360.00, more than max_items (6): the one-day group finds them
    eight = [(f"R{k}", -1, f"{10 * k}.00") for k in range(1, 9)]
    assert reconcile_by_hand("360.00", eight) == {("auto", "batch_payment", tuple(f"R{k}" for k in range(1, 9)))}


def test_two_days_that_each_add_up_are_left_to_a_person():
    # R1 + R2 (day 0) and R3 + R4 (day -5) each make 300.00: two one-day groups, neither the clear best
    got = reconcile_by_hand(
        "300.00", [("R1", 0, "100.00"), ("R2", 0, "200.00"), ("R3", -5, "50.00"), ("R4", -5, "250.00")]
    )
    assert {status for status, _, _ in got} == {"suggested"}


def test_a_day_whose_receipts_do_not_add_up_is_no_batch():
    # R1 + R2 = 300.00 but the line is 290.00 (a fee would be a tolerance case, not a batch): no day group; the
    # subset search finds nothing either; no auto match
    got = reconcile_by_hand("290.00", [("R1", 0, "100.00"), ("R2", 0, "200.00")])
    assert not any(status == "auto" for status, _, _ in got)


# ------------------------------------------------------------------ the per-kind scores, by hand


def test_scores_per_kind_worked_by_hand(tmp_path):
    from opsfin.matching import BankReconciliation
    from opsfin.matching.evaluate import load_bank_kinds, load_bank_truth, score_bank_kinds, shares

    # truth: L1 reference R1; L2 batch R2+R3; L3 missing reference R4; L4 missing reference R5; L5 fee R6
    pl.DataFrame(
        [
            ("L1", "ar_receipt", "R1", "reference"),
            ("L2", "ar_receipt", "R2", "batch_no_reference"),
            ("L2", "ar_receipt", "R3", "batch_no_reference"),
            ("L3", "ar_receipt", "R4", "missing_reference"),
            ("L4", "ar_receipt", "R5", "missing_reference"),
            ("L5", "ar_receipt", "R6", "bank_fee"),
        ],
        schema=["bank_txn_id", "doc_type", "doc_id", "kind"],
        orient="row",
    ).write_parquet(tmp_path / "bank_matches.parquet")
    # the run: L1 right; L2 auto with R2 only (wrong: not the true set); L3 auto to R5 (wrong); L4 suggested
    # with R9 and R5 (the true one among them); L5 an exception
    run = BankReconciliation(
        pl.DataFrame(
            [
                ("L1", "M1", "ar_receipt", "R1", "auto"),
                ("L2", "M2", "ar_receipt", "R2", "auto"),
                ("L3", "M3", "ar_receipt", "R5", "auto"),
                ("L4", "M4", "ar_receipt", "R9", "suggested"),
                ("L4", "M5", "ar_receipt", "R5", "suggested"),
            ],
            schema=["bank_txn_id", "match_id", "doc_type", "doc_id", "status"],
            orient="row",
        ),
        pl.DataFrame({"bank_txn_id": ["L5"], "reason": ["amounts differ"]}),
        {"bank_lines": 5, "auto": 3, "suggested": 1, "unmatched": 1, "confirmed": 0},
    )
    got = {k["kind"]: k for k in score_bank_kinds(run, load_bank_truth(tmp_path), load_bank_kinds(tmp_path))}
    assert [k for k in got] == ["missing_reference", "bank_fee", "batch_no_reference", "reference"]
    missing = got["missing_reference"]  # L3 auto and wrong, L4 suggested with the right one offered
    assert (missing["lines"], missing["auto"], missing["suggested"], missing["exception"]) == (2, 1, 1, 0)
    assert (missing["auto_correct"], missing["suggested_correct"], missing["auto_precision"], missing["recall"]) == (
        0,
        1,
        0.0,
        0.0,
    )
    assert (got["batch_no_reference"]["auto"], got["batch_no_reference"]["auto_precision"]) == (1, 0.0)
    assert (got["reference"]["auto_precision"], got["reference"]["recall"]) == (1.0, 1.0)
    assert (got["bank_fee"]["exception"], got["bank_fee"]["auto_precision"], got["bank_fee"]["recall"]) == (
        1,
        None,
        0.0,
    )
    assert shares(run.summary) == {"auto": 0.6, "suggested": 0.2, "exception": 0.2}
    # a truth file written before the kinds: every line `unrecorded`
    pl.DataFrame({"bank_txn_id": ["L1"], "doc_type": ["ar_receipt"], "doc_id": ["R1"]}).write_parquet(
        tmp_path / "bank_matches.parquet"
    )
    assert load_bank_kinds(tmp_path).rows() == [("L1", "unrecorded")]
