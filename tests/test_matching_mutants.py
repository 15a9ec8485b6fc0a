"""Small hand-worked cases for the parts of `matching/` whose mutants survived the package's tests (see
docs/testing.md, "Mutation testing"): reference likeness, money at stake, the exception queue, the
decision payloads and checks, and marking the matches a run kept. Every expected value is worked by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import ibis
import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.kpis.engine import Tables
from opsfin.matching.bank import BankReconciliation
from opsfin.matching.config import Duplicates, default_config
from opsfin.matching.decisions import _check_free, bank_decision, invoice_decision, invoice_decisions
from opsfin.matching.duplicates import find_duplicates, reference_likeness
from opsfin.matching.ids import bank_match_id
from opsfin.matching.invoices import (
    InvoiceMatch,
    _allocate,
    _money_at_stake,
    exception_queue,
    invoice_summary,
    read_invoice_tables,
    three_way_match,
)
from opsfin.matching.rules import chance_hits
from opsfin.matching.runs import RunToKeep, mark_kept, run_to_keep
from test_matching_rules import bank as bank_lines
from test_matching_rules import invoice_tables, pairs
from test_matching_rules import items as open_items
from test_matching_rules import run as reconcile_bank

D = Decimal

# ------------------------------------------------------------------ reference likeness


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("A1", "", 0.0),  # one side empty: nothing to compare
        ("", "A1", 0.0),
        ("", "", 0.0),
        ("INV7", "INV7", 1.0),
        ("AB12", "AB12345", 0.95),  # a prefix three characters short
        ("AB12345", "AB12", 0.95),
        ("INV0123", "00123", 0.95),  # the same three-digit number, letters on one side only
        ("AB12", "AB12XYZW", 8 / 12),  # four characters longer: the plain ratio, 2 * 4 / (4 + 8)
        ("A12B", "A12C", 6 / 8),  # same digits, one letter apart: 2 * 3 / (4 + 4)
        ("INV0012", "00012", 0.0),  # a two-digit number is too short to trust; digits differ
    ],
)
def test_reference_likeness_by_hand(a: str, b: str, expected: float) -> None:
    assert reference_likeness(a, b) == pytest.approx(expected)


# ------------------------------------------------------------------ money at stake


def _stake(status: str, qty: float, received: float | None, price: str, po_price: str | None, amount: str, over: bool):
    return _money_at_stake(status, qty, received, D(price), None if po_price is None else D(po_price), D(amount), over)


@pytest.mark.parametrize("status", ["duplicate", "no_po", "no_receipt"])
def test_money_at_stake_is_the_whole_amount_for_lines_that_should_not_be_paid(status: str) -> None:
    # 2 received of 2 at the PO price: were the status a quantity or price one, nothing would be at stake
    assert _stake(status, 2, 2.0, "6.17", "6.17", "20.00", False) == D("20.00")
    assert _stake(status, 2, 2.0, "6.17", "6.17", "-5.00", False) == D("0.00")  # a credit note returns money


def test_money_at_stake_is_zero_for_a_matched_line_whatever_its_quantities() -> None:
    # 2 billed, 1 received at 10.00: 10.00 would be at stake, but the line is matched
    assert _stake("matched", 2, 1.0, "10.00", "10.00", "20.00", False) == D("0.00")


def test_money_at_stake_counts_no_quantity_for_a_line_of_nothing() -> None:
    # a zero quantity with a returned unit (received -1): still nothing billed, nothing at stake
    assert _stake("qty_over_received", 0, -1.0, "5.00", "5.00", "0.00", False) == D("0.00")


def test_money_at_stake_of_quantities_and_prices_by_hand() -> None:
    # one unit billed, none received: 1 x 7.00
    assert _stake("qty_over_received", 1, 0.0, "7.00", "7.00", "7.00", False) == D("7.00")
    # three billed, no receipt row at all: 3 x 2.00
    assert _stake("qty_over_received", 3, None, "2.00", "2.00", "6.00", False) == D("6.00")
    # price above the PO's but within tolerance (not flagged): nothing for the price
    assert _stake("qty_over_received", 2, 2.0, "10.00", "8.00", "20.00", False) == D("0.00")
    # 3 billed, 2 received, 10.00 against a PO price of 8.00: 1 x 10.00 + 2 x 2.00
    assert _stake("price_over_tolerance", 3, 2.0, "10.00", "8.00", "30.00", True) == D("14.00")


# ------------------------------------------------------------------ exception queue


def _lines(rows: list[tuple]) -> pl.DataFrame:
    cols = ["match_id", "invoice_id", "line", "status", "decision", "money_at_stake"]
    schema = dict(zip(cols, [pl.String, pl.String, pl.Int64, pl.String, pl.String, pl.Decimal(18, 2)], strict=True))
    return pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], schema=schema)


def test_exception_queue_order_and_membership_by_hand() -> None:
    lines = _lines(
        [
            ("B", "INV1", 2, "no_po", None, D("5.00")),
            ("A", "INV1", 1, "no_po", None, D("5.00")),
            ("C", "INV0", 1, "no_po", None, D("5.00")),
            ("D", "INV2", 1, "matched", "rejected", D("0.00")),  # disputed: stays in the queue
            ("E", "INV3", 1, "matched", None, D("0.00")),  # matched: out
            ("F", "INV4", 1, "price_over_tolerance", "confirmed", D("9.00")),  # accepted as it is: out
            ("G", "INV5", 1, "qty_over_received", "rejected", D("7.00")),
        ]
    )
    queue = exception_queue(InvoiceMatch(lines, {}))
    # most money first; ties by invoice, then line
    assert queue["match_id"].to_list() == ["G", "C", "A", "B", "D"]


# ------------------------------------------------------------------ decisions


def _invoice_run() -> InvoiceMatch:
    lines = pl.DataFrame(
        {
            "match_id": ["I1", "I2"],
            "invoice_id": ["INV9", "INV8"],
            "line": [3, 4],
            "status": ["no_po", "duplicate"],
            "issues": [["no_po"], ["duplicate"]],
            "money_at_stake": [D("12.50"), D("1.00")],
            "decision": [None, "rejected"],
        }
    )
    return InvoiceMatch(lines, {})


def test_invoice_decision_payload_by_hand() -> None:
    payload = invoice_decision("I1", "confirmed", _invoice_run())
    assert payload == {
        "invoice_id": "INV9",
        "line": 3,
        "status": "no_po",
        "issues": ["no_po"],
        "money_at_stake": D("12.50"),
    }
    assert invoice_decision("I2", "confirmed", _invoice_run())["invoice_id"] == "INV8"


def test_invoice_decision_mistakes_are_named() -> None:
    run = _invoice_run()
    with pytest.raises(UserError, match=r"^decision 'maybe': choose one of confirmed, rejected$"):
        invoice_decision("I1", "maybe", run)
    with pytest.raises(UserError, match=r"^no invoice line I7; list them with `opsfin match invoices`$"):
        invoice_decision("I7", "confirmed", run)
    with pytest.raises(UserError, match=r"^invoice line I2 is already rejected$"):
        invoice_decision("I2", "rejected", run)


def _confirmed(match_id: str, *pairs: tuple[str, str, str]) -> dict:
    return {
        "kind": "bank",
        "match_id": match_id,
        "decision": "confirmed",
        "payload": {"pairs": [list(p) for p in pairs]},
    }


def test_check_free_names_a_document_already_confirmed_elsewhere() -> None:
    # the match itself comes first in the records: it is skipped, and the next one still checked
    records = [_confirmed("B-self", ("t1", "invoice", "INV1")), _confirmed("B-other", ("t2", "invoice", "INV1"))]
    with pytest.raises(UserError, match=r"^invoice INV1 is already in confirmed match B-other; reject that one first$"):
        _check_free(records, "B-self", [["t1", "invoice", "INV1"]])


def test_check_free_passes_when_nothing_overlaps() -> None:
    records = [_confirmed("B-other", ("t2", "invoice", "INV2"))]
    _check_free(records, "B-self", [["t1", "invoice", "INV1"]])  # no error


# ------------------------------------------------------------------ marking what a run kept


def test_mark_kept_sets_the_run_only_on_the_kept_matches() -> None:
    matches = pl.DataFrame(
        {"match_id": ["B1", "B2", "B3"], "run_id": [None, 3, None]}, schema_overrides={"run_id": pl.Int64}
    )
    exceptions = pl.DataFrame({"bank_txn_id": ["t9"]})
    reported = BankReconciliation(matches, exceptions, {"bank_lines": 4})
    marked = mark_kept(reported, RunToKeep(["B1"], [], {}, None), 9)
    assert marked.matches["run_id"].to_list() == [9, 3, None]
    assert marked.matches["run_id"].dtype == pl.Int64
    assert marked.exceptions is exceptions
    assert marked.summary == {"bank_lines": 4}
    assert mark_kept(reported, RunToKeep([], [], {}, None), 9).matches["run_id"].to_list() == [None, 3, None]


# ------------------------------------------------------------------ receipts shared among invoice lines


def _bill(invoice_id: str, qty: float, line: int = 1) -> dict:
    return {"invoice_id": invoice_id, "line": line, "qty": qty}


def test_allocate_exact_receipt_first_then_the_rest_with_returns() -> None:
    # A (3) finds no receipt of 3; B (5) takes the receipt of 5; A then gets the 1 left plus the 2 returned
    got = _allocate([_bill("A", 3), _bill("B", 5), _bill("CN", -2)], [5.0, 1.0])
    assert dict(got) == {("A", 1): 3, ("B", 1): 5}


def test_allocate_shares_what_is_left_in_invoice_order() -> None:
    # 3 received against two bills of 2: the first takes 2, the second the 1 left
    assert dict(_allocate([_bill("W1", 2), _bill("W2", 2)], [3.0])) == {("W1", 1): 2, ("W2", 1): 1}


def test_allocate_fractional_and_zero_quantities() -> None:
    # half a unit billed, nothing received: it gets 0 (it is a bill, not a return)
    assert dict(_allocate([_bill("H", 0.5)], [])) == {("H", 1): 0.0}
    # a line of zero units is neither a bill nor a return
    assert dict(_allocate([_bill("Z", 0)], [4.0])) == {}


# ------------------------------------------------------------------ chance hits of a subset search


def test_chance_hits_by_hand() -> None:
    # 4 candidates, up to 3 items: C(4,2) + C(4,3) = 6 + 4 = 10 subsets
    assert chance_hits(4, 3, 1000) == pytest.approx(10 / 1000)
    assert chance_hits(4, 3, -1000) == pytest.approx(10 / 1000)
    assert chance_hits(4, 3, 1) == pytest.approx(10.0)
    assert chance_hits(4, 3, 0) == pytest.approx(10.0)  # a zero target counts as one cent


# ------------------------------------------------------------------ decisions so far, ids


def test_invoice_decisions_keeps_the_invoice_ones_by_id() -> None:
    records = [
        {"kind": "invoice", "match_id": "I1", "decision": "confirmed", "actor": "ann", "at": "2026-01-02"},
        {"kind": "bank", "match_id": "B1", "decision": "confirmed", "actor": "bob", "at": "2026-01-03"},
    ]
    assert invoice_decisions(records) == {"I1": {"decision": "confirmed", "actor": "ann", "at": "2026-01-02"}}


def test_bank_match_id_is_the_hash_of_the_sorted_keys_joined_by_newlines() -> None:
    keys = "t1|invoice|INV1\nt2|invoice|INV2"  # the documented id: "B" + the first 16 hex digits of the MD5
    expected = "B" + hashlib.md5(keys.encode()).hexdigest()[:16]
    assert bank_match_id([("t2", "invoice", "INV2"), ("t1", "invoice", "INV1")]) == expected


# ------------------------------------------------------------------ duplicates


def test_two_alike_credit_notes_are_not_duplicates() -> None:
    invoices = pl.DataFrame(
        {
            "invoice_id": ["C1", "C2"],
            "supplier_id": ["S1", "S1"],
            "supplier_ref": ["CN-100", "CN-100"],
            "kind": ["credit_note", "credit_note"],
            "invoice_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 4)],
            "currency": ["EUR", "EUR"],
            "total": [D("-50.00"), D("-50.00")],
        }
    )
    assert find_duplicates(invoices, Duplicates()).is_empty()
    bills = invoices.with_columns(kind=pl.lit("invoice"))  # the same two as bills: the later is a copy
    assert find_duplicates(bills, Duplicates()).rows() == [("C2", "C1", 1.0)]


# ------------------------------------------------------------------ reading the warehouse tables


WAREHOUSE = """
CREATE TABLE ap_invoices AS SELECT 'V1' invoice_id, 'S1' supplier_id, 'R1' supplier_ref, 'invoice' kind,
  DATE '2026-03-01' invoice_date, 'EUR' currency, 10.00 total, 'not read' note;
CREATE TABLE ap_invoice_lines AS SELECT 'V1' invoice_id, 1 line, 'P1' po_id, 1 po_line, 'X' product_id,
  2.0 qty, 5.00 unit_price, 10.00 amount, 'not read' note;
CREATE TABLE purchase_orders AS SELECT 'P1' po_id, 1 line, 'S1' supplier_id, 2.0 qty, 5.00 unit_price,
  'EUR' currency, 'not read' note;
CREATE TABLE goods_receipts AS SELECT * FROM (VALUES
  ('G1', 'P1', 1, 1.0, DATE '2026-03-01', 'not read'),
  ('G2', 'P1', 1, 0.5, DATE '2026-03-02', 'not read'),
  ('G3', 'P1', 1, 0.5, DATE '2026-03-03', 'not read')) r(receipt_id, po_id, line, qty, received_date, note);
"""


def test_read_invoice_tables_keeps_the_canonical_columns_and_receipts_up_to_the_day() -> None:
    con = ibis.duckdb.connect()
    for statement in WAREHOUSE.split(";")[:-1]:
        con.raw_sql(statement)
    tables = read_invoice_tables(Tables(con), dt.date(2026, 3, 2))
    assert tables.invoices.columns == [
        "invoice_id", "supplier_id", "supplier_ref", "kind", "invoice_date", "currency", "total",
    ]  # fmt: skip
    assert tables.lines.columns == [
        "invoice_id", "line", "po_id", "po_line", "product_id", "qty", "unit_price", "amount",
    ]  # fmt: skip
    assert tables.po_lines.columns == ["po_id", "line", "supplier_id", "qty", "unit_price", "currency"]
    assert tables.receipts.columns == ["receipt_id", "po_id", "line", "qty", "received_date"]
    assert sorted(tables.receipts["receipt_id"].to_list()) == ["G1", "G2"]  # G3 comes after the day
    assert read_invoice_tables(Tables(con), None).receipts.height == 3
    con.disconnect()


def test_run_to_keep_takes_the_new_auto_matches_whole() -> None:
    cols = ["match_id", "bank_txn_id", "doc_type", "doc_id", "rule", "score", "status", "run_id", "booking_date"]
    rows = [
        ("B1", "t1", "invoice", "V1", "subset", 0.9, "auto", None, dt.date(2026, 3, 1)),  # new, two bank lines
        ("B1", "t2", "invoice", "V1", "subset", 0.9, "auto", None, dt.date(2026, 3, 2)),
        ("B2", "t3", "invoice", "V2", "exact", 1.0, "auto", 5, dt.date(2026, 3, 2)),  # kept by run 5 already
        ("B3", "t4", "invoice", "V3", "exact", 0.6, "suggested", None, dt.date(2026, 3, 3)),
    ]
    matches = pl.DataFrame(rows, schema=cols, orient="row", schema_overrides={"run_id": pl.Int64})
    exceptions = pl.DataFrame({"booking_date": [dt.date(2026, 3, 5)]})
    reported = BankReconciliation(matches, exceptions, {"bank_lines": 6, "suggested": 1, "unmatched": 1})
    kept = run_to_keep(reported, reported)
    assert kept is not None
    assert kept.match_ids == ["B1"]
    assert sorted(kept.pairs) == [
        ("B1", "t1", "invoice", "V1", "subset", 0.9),
        ("B1", "t2", "invoice", "V1", "subset", 0.9),
    ]
    assert kept.counts == {"bank_lines": 6, "kept": 1, "kept_lines": 2, "suggested": 1, "unmatched": 1}
    assert kept.through == dt.date(2026, 3, 5)


# ------------------------------------------------------------------ survivors of the sampled run (seed 1)
def test_invoice_summary_counts_each_status_and_the_money_at_stake_per_currency() -> None:
    lines = pl.DataFrame(
        {
            "status": ["matched", "no_po", "matched", "price_over_tolerance", "no_po"],
            "currency": ["EUR", "EUR", "USD", "USD", "EUR"],
            "money_at_stake": [D("0.00"), D("12.50"), D("0.00"), D("3.00"), D("1.50")],
        }
    )
    # 5 lines: matched 2, no_po 2, price_over_tolerance 1, the other statuses 0;
    # at stake (not matched): EUR 12.50 + 1.50 = 14.00, USD 3.00
    assert invoice_summary(lines) == {
        "lines": 5,
        "matched": 2,
        "duplicate": 0,
        "no_po": 2,
        "no_receipt": 0,
        "qty_over_received": 0,
        "price_over_tolerance": 1,
        "money_at_stake": {"EUR": D("14.00"), "USD": D("3.00")},
    }


def test_three_way_match_lists_the_lines_by_day_then_invoice() -> None:
    # four invoices without a PO, given in the order Z, A, EARLY, M; EARLY a day before the other three
    tables = invoice_tables(
        invoices=[("Z", "S1", "101", 0, "10.00"), ("A", "S1", "202", 0, "20.00"), ("EARLY", "S1", "303", -1, "30.00")]
        + [("M", "S1", "404", 0, "40.00")],
        lines=[("Z", None, 1, "10.0000"), ("A", None, 1, "20.0000"), ("EARLY", None, 1, "30.0000")]
        + [("M", None, 1, "40.0000")],
        pos=[],
        receipts=[],
    )
    result = three_way_match(tables, default_config().invoices)
    assert result.lines["invoice_id"].to_list() == ["EARLY", "A", "M", "Z"]


def test_a_bank_decision_other_than_confirm_or_reject_is_named() -> None:
    # the decision is checked before the run is read
    with pytest.raises(UserError, match=r"^decision 'maybe': choose one of confirmed, rejected$"):
        bank_decision([], "B1", "maybe", None)  # type: ignore[arg-type]


def test_the_percent_tolerance_scores_on_whole_cents() -> None:
    # default tolerance: max(5.00, 1 % of the document); 1 % of 1,020.50 is 1,020.5 cents, floored to 1,020.
    # The bank line is 10.15 short: score 0.9 - 0.1 x 1,015 / 1,020 = 0.80049, shown to 3 places: 0.800
    # (with the unfloored 1,020.5 it would be 0.80054, shown as 0.801)
    r = reconcile_bank(
        bank_lines(("L1", 0, "1010.35", "Acme", "INV-8")),
        open_items(("ar_receipt", "R8", 0, "1020.50", "Acme", "INV-8")),
    )
    assert pairs(r) == {("L1", "R8", "amount_tolerance")}
    assert r.matches["score"][0] == pytest.approx(0.8, abs=1e-9)


def test_the_suggestions_for_one_bank_line_come_best_first() -> None:
    # amount_date_counterparty scores 0.95 - 0.005 x days (docs/matching.md): R2 on the day 0.95, R1 three
    # days before 0.935; too close to choose, both suggested, R2 first although R1 sorts first by id
    r = reconcile_bank(
        bank_lines(("L1", 0, "99.00", "Acme", None)),
        open_items(("ar_receipt", "R1", -3, "99.00", "Acme", None), ("ar_receipt", "R2", 0, "99.00", "Acme", None)),
    )
    assert r.matches.select("doc_id", "status", "score").rows() == [
        ("R2", "suggested", pytest.approx(0.95)),
        ("R1", "suggested", pytest.approx(0.935)),
    ]
