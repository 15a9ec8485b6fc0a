"""Cases a controller meets, each built by hand with the answer worked out in the comment: repeat payments
arriving in a later statement, a date range that starts after the line that paid a document, a bank line in
another currency than its document, a parent paying its subsidiaries' invoices under its own name, a partial
payment naming the invoice in its text, credit notes in the three-way match, duplicate invoices keyed in
another reference format, and the CLI's answers for a workspace without bank data or a broken
model/matching.yaml."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from bank_frames import BANK_SCHEMA as BANK
from bank_frames import ITEM_BASE_SCHEMA as ITEMS
from cli_support import run_cli as cli
from opsfin.ingest import ingest_file
from opsfin.matching import (
    BankDecisions,
    InvoiceTables,
    default_config,
    reconcile,
    three_way_match,
)
from opsfin.matching.ids import bank_match_id
from opsfin.runs.matching import run_bank

D = dt.date(2024, 3, 4)


def bank(*rows) -> pl.DataFrame:
    """rows: (id, day offset, amount, counterparty, reference[, description[, currency]])."""
    out = []
    for r in rows:
        i, d, a, cp, ref = r[:5]
        out.append(
            (
                i,
                D + dt.timedelta(days=d),
                Decimal(a),
                r[6] if len(r) > 6 else "EUR",
                cp,
                ref,
                r[5] if len(r) > 5 else None,
            )
        )
    return pl.DataFrame(out, schema=BANK, orient="row")


def items(*rows) -> pl.DataFrame:
    """rows: (doc_type, id, day offset, amount, counterparty, reference[, currency]); EUR is the base."""
    out = []
    for r in rows:
        t, i, d, a, cp, ref = r[:6]
        ccy = r[6] if len(r) > 6 else "EUR"
        out.append(
            (
                t,
                i,
                D + dt.timedelta(days=d),
                Decimal(a),
                ccy,
                Decimal(a) if ccy == "EUR" else None,
                cp,
                ref,
                None,
            )
        )
    return pl.DataFrame(out, schema=ITEMS, orient="row")


def run(b, i, decisions=None):
    return reconcile(b, i, default_config().bank, "EUR", decisions)


def status_of(result) -> dict[str, tuple]:
    """bank_txn_id -> (status, doc ids, rule) for matched lines, ("unmatched", reason) for the others."""
    out: dict[str, tuple] = {b: ("unmatched", r) for b, r in result.exceptions.select("bank_txn_id", "reason").rows()}
    for (b, s, rule), rows in result.matches.group_by("bank_txn_id", "status", "rule"):
        assert b not in out, f"{b} reported twice"
        out[b] = (s, tuple(sorted(rows["doc_id"])), rule)
    return out


# ------------------------------------------------------------------ repeat payments in a later statement

# A supplier payment P3 (dated day 0). The bank booked it on day 1 under a long, truncated payee name and an
# instruction id around the payment's reference: only the fuzzy rule finds it (digits 101100003 on both
# sides: 0.95; the payee's name holds the supplier's: token-set 1.0; 0.5 + 0.5 x (0.65 x 0.95 + 0.35) - 0.005
# = 0.979). A later statement repeats the transfer on day 8 under the supplier's exact name, which the
# counterparty rule (run before the fuzzy one) would match at 0.95 - 0.04 = 0.91.
PAYMENT = ("ap_payment", "P3", 0, "-5002.17", "Empfaenger 3", "TFNR 01011 Instr. 00003")
PAID = (
    "L1",
    1,
    "-5002.17",
    "Empfaenger 3 mit 70 Zeichen Empfaenger 3 mit 70 Zeiche",
    "TFNR 01011 Instruction Id 00003",
)
REPEAT = ("L2", 8, "-5002.17", "Empfaenger 3", "TFNR 01011 00003 Wiederholung")


def test_a_repeated_transfer_in_a_new_statement_leaves_the_first_match_alone():
    first = run(bank(PAID), items(PAYMENT))
    assert status_of(first) == {"L1": ("auto", ("P3",), "fuzzy_reference")}
    later = run(bank(PAID, REPEAT), items(PAYMENT))
    # L1 is nearer to the payment (1 day against 8) and resembles it: the repeat may not take it
    assert status_of(later) == {
        "L1": ("auto", ("P3",), "fuzzy_reference"),
        "L2": (
            "unmatched",
            "ap_payment P3 has this amount and date but is already matched to bank line L1",
        ),
    }
    assert later.matches["match_id"].to_list() == first.matches["match_id"].to_list()  # the same match


def test_a_customer_paying_an_invoice_twice_the_second_payment_is_the_exception():
    # R1 recorded on day 0. L1 (day 1) carries the reference inside a longer one and is found by the
    # counterparty rule; L2 (day 7) repeats the payment with the bare reference, an exact-reference match.
    receipt = ("ar_receipt", "R1", 0, "50990.05", "Florian Frech", "TFNR 21005")
    paid = ("L1", 1, "50990.05", "Florian Frech", "TFNR 21005 EndToEndId 00001")
    again = ("L2", 7, "50990.05", "Florian Frech", "TFNR 21005")
    assert status_of(run(bank(paid), items(receipt))) == {"L1": ("auto", ("R1",), "amount_date_counterparty")}
    assert status_of(run(bank(paid, again), items(receipt))) == {
        "L1": ("auto", ("R1",), "amount_date_counterparty"),
        "L2": (
            "unmatched",
            "its reference 'TFNR 21005' belongs to ar_receipt R1, already matched to bank line L1",
        ),
    }


def test_a_line_naming_the_document_beats_a_nearer_one_that_names_nothing():
    # L1 (day 0) has the amount and payer but no reference at all; L2 (day 5) names R1 exactly. The
    # nearer line does not carry the reference, so it stands no chance against the exact match.
    r = run(
        bank(("L1", 0, "100.00", "Acme", None), ("L2", 5, "100.00", "Acme", "ARI-1")),
        items(("ar_receipt", "R1", 0, "100.00", "Acme", "ARI-1")),
    )
    s = status_of(r)
    assert s["L2"] == ("auto", ("R1",), "exact_reference")
    assert s["L1"] == (
        "unmatched",
        "ar_receipt R1 has this amount and date but is already matched to bank line L2",
    )


def test_a_rejected_nearer_line_no_longer_stands_in_the_way():
    rejected = bank_match_id([("L1", "ap_payment", "P3")])
    r = run(bank(PAID, REPEAT), items(PAYMENT), BankDecisions(rejected=frozenset({rejected})))
    s = status_of(r)
    assert s["L2"] == ("auto", ("P3",), "amount_date_counterparty")
    assert s["L1"] == (
        "unmatched",
        "ap_payment P3 has this amount and date but is already matched to bank line L2",
    )


# ------------------------------------------------------------------ date ranges, on a workspace


def write_csv(path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def books(workspace, tmp_path):
    """One customer, two receipts, and a bank line per receipt in March plus a repeat of the first
    receipt's payment booked on 2 April (with the bare reference: an exact-reference candidate)."""
    write_csv(
        tmp_path / "customers.csv",
        [
            {
                "customer_id": "C1",
                "name": "Florian Frech",
                "segment": "retail",
                "country": "DE",
                "currency": "EUR",
                "payment_terms_days": 30,
                "credit_limit": "100000.00",
            }
        ],
    )
    write_csv(
        tmp_path / "receipts.csv",
        [
            {
                "receipt_id": "R1",
                "customer_id": "C1",
                "received_date": "2024-03-28",
                "amount": "50990.05",
                "currency": "EUR",
                "reference": "TFNR 21005",
            },
            {
                "receipt_id": "R2",
                "customer_id": "C1",
                "received_date": "2024-04-03",
                "amount": "1200.00",
                "currency": "EUR",
                "reference": "TFNR 21009",
            },
        ],
    )
    line = {
        "statement_id": "",
        "bank_account": "DE00",
        "currency": "EUR",
        "counterparty": "Florian Frech",
        "description": "",
    }
    write_csv(
        tmp_path / "bank.csv",
        [
            line
            | {
                "bank_txn_id": "B1",
                "booking_date": "2024-03-29",
                "value_date": "2024-03-29",
                "amount": "50990.05",
                "reference": "TFNR 21005 EndToEndId 00001",
            },
            line
            | {
                "bank_txn_id": "B2",
                "booking_date": "2024-04-02",
                "value_date": "2024-04-02",
                "amount": "50990.05",
                "reference": "TFNR 21005",
            },
            line
            | {
                "bank_txn_id": "B3",
                "booking_date": "2024-04-03",
                "value_date": "2024-04-03",
                "amount": "1200.00",
                "reference": "TFNR 21009",
            },
        ],
    )
    for name, table in (
        ("customers", "customers"),
        ("receipts", "ar_receipts"),
        ("bank", "bank_transactions"),
    ):
        ingest_file(workspace, tmp_path / f"{name}.csv", table=table)
    return workspace


def test_a_range_run_sees_the_lines_before_it_as_context(books):
    whole = status_of(run_bank(books, use_app_db=False))
    april = run_bank(books, "2024-04-01", "2024-04-30", use_app_db=False)
    assert status_of(april) == {b: whole[b] for b in ("B2", "B3")}  # as in the whole history
    assert whole["B1"] == (
        "auto",
        ("R1",),
        "amount_date_counterparty",
    )  # March's line keeps its receipt
    assert whole["B2"] == (
        "unmatched",
        "its reference 'TFNR 21005' belongs to ar_receipt R1, already matched to bank line B1",
    )
    assert april.summary == {
        "bank_lines": 2,
        "auto": 1,
        "suggested": 0,
        "unmatched": 1,
        "confirmed": 0,
        "by_rule": {"exact_reference": 1},
    }


def test_a_document_confirmed_to_a_line_outside_the_run_is_named_as_taken():
    # R1 was confirmed to L0, a line this run does not read (booked long before its range)
    confirmed = {"Bx": {"pairs": [("L0", "ar_receipt", "R1")], "rule": "exact_reference", "score": 1.0}}
    r = run(
        bank(("L2", 7, "50990.05", "Florian Frech", "TFNR 21005")),
        items(("ar_receipt", "R1", 0, "50990.05", "Florian Frech", "TFNR 21005")),
        BankDecisions(confirmed),
    )
    assert r.matches.is_empty()
    assert r.exceptions["reason"].to_list() == [
        "its reference 'TFNR 21005' belongs to ar_receipt R1, already matched to bank line L0"
    ]


def test_from_after_to_is_a_one_line_error(books, capsys):
    code, _, err = cli(capsys, "match", "bank", "--from", "2024-05-01", "--to", "2024-04-01", "-w", str(books.path))
    assert (code, err) == (2, "error: --from 2024-05-01 is after --to 2024-04-01\n")


# ------------------------------------------------------------------ currencies, batches, partial payments


def test_a_line_in_another_currency_than_its_document_says_so():
    r = run(
        bank(("L1", 0, "1000.00", "Globex", "ARI-55", None, "USD")),
        items(("ar_receipt", "R55", 0, "1000.00", "Globex", "ARI-55")),
    )
    assert r.exceptions["reason"].to_list() == [
        "its reference matches ar_receipt R55, but that document is in EUR (1000.00 EUR) and this line in USD: "
        "documents are compared in their own currency or, converted, in the base currency"
    ]


def test_a_usd_line_meets_a_usd_document_without_a_rate():
    r = run(
        bank(("L1", 0, "1000.00", "Globex", None, None, "USD")),
        items(("ar_receipt", "R55", 0, "1000.00", "Globex", None, "USD")),
    )
    assert status_of(r) == {"L1": ("auto", ("R55",), "amount_date_counterparty")}


def test_a_parent_paying_two_subsidiaries_invoices_named_in_the_remittance_text():
    # 300.00 from the holding = R1 (Alpha, 100.00) + R2 (Beta, 200.00): no shared reference, no payer match,
    # but the text names both receipts' references.
    r = run(
        bank(("L1", 2, "300.00", "Holding AG", "SAMMLER 77", "Rechnungen ARI-0001, ARI 0002")),
        items(
            ("ar_receipt", "R1", 0, "100.00", "Alpha GmbH", "ARI-0001"),
            ("ar_receipt", "R2", 1, "200.00", "Beta GmbH", "ARI-0002"),
            ("ar_receipt", "R3", 1, "200.00", "Beta GmbH", "ARI-0003"),
        ),
    )
    assert status_of(r) == {"L1": ("auto", ("R1", "R2"), "batch_payment")}
    assert r.matches["score"].unique().to_list() == [0.98]


def test_named_documents_that_do_not_add_up_are_not_a_batch():
    r = run(
        bank(("L1", 2, "310.00", "Holding AG", "SAMMLER 77", "Rechnungen ARI-0001, ARI-0002")),
        items(
            ("ar_receipt", "R1", 0, "100.00", "Alpha GmbH", "ARI-0001"),
            ("ar_receipt", "R2", 1, "200.00", "Beta GmbH", "ARI-0002"),
        ),
    )
    assert r.summary["auto"] == 0


def test_a_partial_payment_then_the_rest_naming_the_invoice_in_the_text():
    receipt = items(("ar_receipt", "R9", 0, "1000.00", "Acme", "INV-9"))
    first = ("L1", 0, "400.00", "Acme", "Teilzahlung INV-9")
    alone = run(bank(first), receipt)  # the rest has not arrived: an exception that says why
    assert alone.exceptions["reason"].to_list() == [
        "1 open item(s) of this counterparty in the window, none for this amount "
        "(the closest, ar_receipt R9, differs by -600.00 EUR)"
    ]
    both = run(bank(first, ("L2", 20, "600.00", "ACME", "Restzahlung INV-9")), receipt)
    assert status_of(both) == {
        "L1": ("auto", ("R9",), "partial_payments"),
        "L2": ("auto", ("R9",), "partial_payments"),
    }
    assert both.matches["match_id"].n_unique() == 1 and both.matches["score"].to_list() == [
        0.98,
        0.98,
    ]


# ------------------------------------------------------------------ three-way match

INV = {
    "invoice_id": pl.String,
    "supplier_id": pl.String,
    "supplier_ref": pl.String,
    "kind": pl.String,
    "invoice_date": pl.Date,
    "currency": pl.String,
    "total": pl.Decimal(18, 2),
}
LINE = {
    "invoice_id": pl.String,
    "line": pl.Int32,
    "po_id": pl.String,
    "po_line": pl.Int32,
    "product_id": pl.String,
    "qty": pl.Float64,
    "unit_price": pl.Decimal(18, 4),
    "amount": pl.Decimal(18, 2),
}
PO = {
    "po_id": pl.String,
    "line": pl.Int32,
    "supplier_id": pl.String,
    "qty": pl.Float64,
    "unit_price": pl.Decimal(18, 4),
    "currency": pl.String,
}
GR = {
    "receipt_id": pl.String,
    "po_id": pl.String,
    "line": pl.Int32,
    "qty": pl.Float64,
    "received_date": pl.Date,
}


def invoice_tables(invoices, lines) -> InvoiceTables:
    """invoices: (id, supplier, ref, kind, day, total); lines: (id, po_id or None, qty, unit price, amount).
    One PO line PO1/1 of 100 at 10.00, received in full on day -2."""
    inv = [(i, s, ref, k, D + dt.timedelta(days=d), "EUR", Decimal(t)) for i, s, ref, k, d, t in invoices]
    lns = [(i, 1, po, 1 if po else None, "RM", float(q), Decimal(p), Decimal(a)) for i, po, q, p, a in lines]
    return InvoiceTables(
        pl.DataFrame(inv, schema=INV, orient="row"),
        pl.DataFrame(lns, schema=LINE, orient="row"),
        pl.DataFrame([("PO1", 1, "S1", 100.0, Decimal("10.0000"), "EUR")], schema=PO, orient="row"),
        pl.DataFrame([("G1", "PO1", 1, 100.0, D - dt.timedelta(days=2))], schema=GR, orient="row"),
    )


def lines_of(result) -> dict[str, tuple]:
    return {r["invoice_id"]: (r["status"], r["issues"], r["money_at_stake"]) for r in result.lines.to_dicts()}


def test_credit_notes_are_not_price_issues_and_never_put_money_at_stake():
    result = three_way_match(
        invoice_tables(
            invoices=[
                ("I1", "S1", "R-100", "invoice", 0, "1000.00"),
                (
                    "C1",
                    "S1",
                    "CN-5",
                    "credit_note",
                    10,
                    "-220.00",
                ),  # 20 returned, credited at 11.00 > 10.00
                ("C2", "S1", "CN-6", "credit_note", 12, "-50.00"),
            ],  # a rebate tied to no PO line
            lines=[
                ("I1", "PO1", 100, "10.0000", "1000.00"),
                ("C1", "PO1", -20, "11.0000", "-220.00"),
                ("C2", None, -1, "50.0000", "-50.00"),
            ],
        ),
        default_config().invoices,
    )
    got = lines_of(result)
    assert got["I1"] == ("matched", [], Decimal("0.00"))
    assert got["C1"] == (
        "matched",
        [],
        Decimal("0.00"),
    )  # crediting more than the PO price is our gain
    assert got["C2"] == (
        "no_po",
        ["no_po"],
        Decimal("0.00"),
    )  # to be tied to what it credits; nothing to lose
    assert result.summary["money_at_stake"] == {"EUR": Decimal("0.00")}


@pytest.mark.parametrize(
    "original, copy, supplier",
    [
        ("0004711", "4711", "S1"),  # leading zeros dropped
        ("INV 4711", "4711", "S1"),  # a prefix on one side only
        ("INV-004711", "inv 4711", "S1"),  # both
        ("INV-004711", "INV-4711", "S2"),  # the same bill under another supplier record
    ],
)
def test_a_duplicate_keyed_in_another_reference_format_is_found(original, copy, supplier):
    result = three_way_match(
        invoice_tables(
            invoices=[
                ("I1", "S1", original, "invoice", 0, "500.00"),
                ("I2", supplier, copy, "invoice", 5, "500.00"),
            ],
            lines=[("I1", "PO1", 50, "10.0000", "500.00"), ("I2", "PO1", 50, "10.0000", "500.00")],
        ),
        default_config().invoices,
    )
    assert lines_of(result)["I2"] == ("duplicate", ["duplicate"], Decimal("500.00"))
    assert lines_of(result)["I1"][0] == "matched"


@pytest.mark.parametrize(
    "original, other",
    [
        (
            "RE 4711",
            "GS 4711",
        ),  # another document type of the supplier's (invoice vs credit memo number)
        ("12345", "12354"),  # another number
        ("INV-12", "12"),  # too short a number to tell
    ],
)
def test_references_that_are_not_one_number_are_not_duplicates(original, other):
    result = three_way_match(
        invoice_tables(
            invoices=[
                ("I1", "S1", original, "invoice", 0, "500.00"),
                ("I2", "S1", other, "invoice", 5, "500.00"),
            ],
            lines=[("I1", "PO1", 50, "10.0000", "500.00"), ("I2", "PO1", 50, "10.0000", "500.00")],
        ),
        default_config().invoices,
    )
    assert {s for s, _, _ in lines_of(result).values()} == {"matched"}


# ------------------------------------------------------------------ the CLI on a workspace without bank data


def test_no_bank_lines_is_a_clear_error_and_an_empty_range_a_note(books, tmp_path, capsys):
    import opsfin

    nothing = opsfin.init(tmp_path / "nothing")
    code, _, err = cli(capsys, "match", "bank", "--format", "json", "-w", str(nothing.path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: no bank lines in {nothing.path}: load a statement first (`opsfin ingest FILE`")
    code, out, _ = cli(capsys, "match", "bank", "--from", "2030-01-01", "-w", str(books.path))
    assert code == 0
    assert (
        "no bank lines booked from 2030-01-01 to the end; the warehouse has 3, booked 2024-03-29 to "
        "2024-04-03" in " ".join(out.split())
    )


def test_a_matching_yaml_that_cannot_be_read_is_one_line(workspace, capsys):
    path = workspace.model_dir / "matching.yaml"
    path.unlink(missing_ok=True)
    path.mkdir()
    code, _, err = cli(capsys, "match", "invoices", "-w", str(workspace.path))
    assert (code, err) == (2, "error: model/matching.yaml: cannot be read (Is a directory)\n")
