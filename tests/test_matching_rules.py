"""Each matching rule on a hand-built case whose answer is worked out by hand (docs/matching.md).

Bank rules run through the whole cascade (`reconcile`), so each case also shows that the earlier
rules leave it alone. Invoice cases run the three-way match on hand-made PO, receipt and invoice rows."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import polars as pl
import pytest

from bank_frames import BANK_SCHEMA
from bank_frames import ITEM_BASE_SCHEMA as ITEM_SCHEMA
from opsfin.errors import UserError
from opsfin.matching import InvoiceTables, default_config, parse_config, reconcile, three_way_match
from opsfin.matching.subset_sum import subset_sums
from warehouse_rows import put

D = dt.date(2024, 3, 4)


def bank(*rows) -> pl.DataFrame:
    """rows: (id, day offset, amount, counterparty, reference)."""
    return pl.DataFrame(
        [(i, D + dt.timedelta(days=d), Decimal(a), "EUR", cp, ref, None) for i, d, a, cp, ref in rows],
        schema=BANK_SCHEMA,
        orient="row",
    )


def items(*rows) -> pl.DataFrame:
    """rows: (doc_type, id, day offset, amount, counterparty, reference[, currency, amount_base])."""
    out = []
    for r in rows:
        t, i, d, a, cp, ref = r[:6]
        ccy = r[6] if len(r) > 6 else "EUR"
        base = Decimal(r[7]) if len(r) > 7 else (Decimal(a) if ccy == "EUR" else None)
        out.append((t, i, D + dt.timedelta(days=d), Decimal(a), ccy, base, cp, ref, None))
    return pl.DataFrame(out, schema=ITEM_SCHEMA, orient="row")


def run(b, i, config=None):
    return reconcile(b, i, (config or default_config()).bank, "EUR")


def pairs(result, status="auto") -> set[tuple[str, str, str]]:
    m = result.matches.filter(pl.col("status") == status)
    return set(m.select("bank_txn_id", "doc_id", "rule").iter_rows())


# ------------------------------------------------------------------ bank rules


def test_exact_reference_ignores_case_and_punctuation_and_prefers_the_nearest_date():
    # the same reference and amount twice, 1 and 40 days away: 1 - 0.001 x days gives 0.999 against 0.960
    r = run(
        bank(("L1", 0, "250.00", "Acme", "inv-2024/001")),
        items(
            ("ar_receipt", "R1", -1, "250.00", "Other name", "INV 2024 001"),
            ("ar_receipt", "R0", -40, "250.00", "Other name", "INV2024001"),
        ),
    )
    assert pairs(r) == {("L1", "R1", "exact_reference")}
    assert r.matches.filter(pl.col("doc_id") == "R1")["score"][0] == pytest.approx(0.999)


def test_amount_date_counterparty_ignores_case_punctuation_and_legal_form():
    # no reference on the document; 2 days apart: 0.95 - 0.005 x 2 = 0.94
    r = run(
        bank(("L1", 2, "-1200.00", "ACME GMBH", "SEPA 77")),
        items(
            ("ap_payment", "P1", 0, "-1200.00", "Acme GmbH", None),
            ("ap_payment", "P2", 0, "-1200.00", "Zenith AG", None),
        ),
    )
    assert pairs(r) == {("L1", "P1", "amount_date_counterparty")}
    assert r.matches["score"][0] == pytest.approx(0.94)


def test_two_equal_candidates_are_suggested_not_auto():
    r = run(
        bank(("L1", 0, "99.00", "Acme", None)),
        items(
            ("ar_receipt", "R1", 0, "99.00", "Acme", None),
            ("ar_receipt", "R2", 0, "99.00", "Acme", None),
        ),
    )
    assert pairs(r) == set()
    assert {d for _, d, _ in pairs(r, "suggested")} == {"R1", "R2"}
    assert r.summary == {
        "bank_lines": 1,
        "auto": 0,
        "suggested": 1,
        "unmatched": 0,
        "confirmed": 0,
        "by_rule": {},
    }


def test_mangled_reference_is_matched_by_the_fuzzy_rule():
    # 'ARI-0000259' paid as 'INV 0000295' (digits swapped) by 'Mueller Gmbh' (not 'Müller', so rule 2 fails).
    # Digits '295' vs '259': ratio 2x2/6 = 0.667; names 'MUELLER GMBH' vs 'MÜLLER GMBH' token-set ratio 0.870:
    # score 0.5 + 0.5 x (0.65 x 0.667 + 0.35 x 0.870) = 0.869. The decoy with the same amount scores far lower.
    r = run(
        bank(("L1", 1, "500.00", "Mueller Gmbh", "INV 0000295")),
        items(
            ("ar_receipt", "R259", 0, "500.00", "Müller GmbH", "ARI-0000259"),
            ("ar_receipt", "R731", 0, "500.00", "Schmidt AG", "ARI-0000731"),
        ),
    )
    assert pairs(r) == {("L1", "R259", "fuzzy_reference")}
    assert r.matches["score"][0] == pytest.approx(0.5 + 0.5 * (0.65 * 4 / 6 + 0.35 * 0.870) - 0.005, abs=0.002)


@pytest.mark.parametrize("paid_as", ["259", "/ROC/ARI0000259"])
def test_reference_reduced_to_digits_or_wrapped_is_matched(paid_as):
    r = run(
        bank(("L1", 0, "500.00", "M. Weber", paid_as)),
        items(
            ("ar_receipt", "R259", 0, "500.00", "Müller GmbH", "ARI-0000259"),
            ("ar_receipt", "R731", 0, "500.00", "Schmidt AG", "ARI-0000731"),
        ),
    )
    assert pairs(r) == {("L1", "R259", "fuzzy_reference")}


def test_batch_payment_sharing_the_advice_reference():
    r = run(
        bank(("L1", 0, "370.00", "Acme", "ADVICE 0412")),
        items(
            ("ar_receipt", "R1", 0, "100.00", "Acme", "ADVICE-0412"),
            ("ar_receipt", "R2", 0, "120.00", "Acme", "ADVICE-0412"),
            ("ar_receipt", "R3", 0, "150.00", "Acme", "ADVICE-0412"),
        ),
    )
    assert pairs(r) == {
        ("L1", "R1", "batch_payment"),
        ("L1", "R2", "batch_payment"),
        ("L1", "R3", "batch_payment"),
    }
    assert r.matches["match_id"].n_unique() == 1  # one match covering three documents
    assert r.summary["by_rule"] == {"batch_payment": 1}


def test_batch_payment_found_by_bounded_subset_sum():
    # 350.00 = 100 + 120 + 130, the only subset of the payer's items that adds up (with 75: 425, 295, 305, ...)
    r = run(
        bank(("L1", 3, "350.00", "ACME", "SAMMELUEBERWEISUNG")),
        items(
            ("ar_receipt", "R1", 0, "100.00", "Acme", "A-1"),
            ("ar_receipt", "R2", 1, "120.00", "Acme", "A-2"),
            ("ar_receipt", "R3", 2, "130.00", "Acme", "A-3"),
            ("ar_receipt", "R4", 0, "75.00", "Acme", "A-4"),
        ),
    )
    assert {d for _, d, _ in pairs(r)} == {"R1", "R2", "R3"}
    assert r.matches["score"].unique().to_list() == [0.9]


def test_batch_with_two_possible_subsets_is_only_suggested():
    # 200.00 = 100 + 100 (R1+R2, R1+R3 or R2+R3): ambiguous
    r = run(
        bank(("L1", 0, "200.00", "Acme", "X")),
        items(
            ("ar_receipt", "R1", 0, "100.00", "Acme", "A-1"),
            ("ar_receipt", "R2", 0, "100.00", "Acme", "A-2"),
            ("ar_receipt", "R3", 0, "100.00", "Acme", "A-3"),
        ),
    )
    assert pairs(r) == set()
    assert r.summary["suggested"] == 1


def test_partial_payments_two_bank_lines_for_one_document():
    r = run(
        bank(("L1", 0, "600.00", "Acme", "INV-9"), ("L2", 14, "400.00", "Acme", "INV-9")),
        items(("ar_receipt", "R9", 0, "1000.00", "Acme", "INV-9")),
    )
    assert pairs(r) == {("L1", "R9", "partial_payments"), ("L2", "R9", "partial_payments")}
    assert r.matches["match_id"].n_unique() == 1


def test_wrong_amount_within_tolerance():
    # tolerance = max(5.00, 1% of 1000.00) = 10.00; 5.00 short: 0.9 - 0.1 x 5/10 = 0.85
    r = run(
        bank(("L1", 0, "995.00", "Acme", "INV-7")),
        items(("ar_receipt", "R7", 0, "1000.00", "Acme", "INV-7")),
    )
    assert pairs(r) == {("L1", "R7", "amount_tolerance")}
    assert r.matches["score"][0] == pytest.approx(0.85)


def test_wrong_amount_beyond_tolerance_is_an_exception_with_the_reason():
    r = run(
        bank(("L1", 0, "980.00", "Acme", "INV-7")),
        items(("ar_receipt", "R7", 0, "1000.00", "Acme", "INV-7")),
    )
    assert r.matches.is_empty()
    assert r.exceptions["reason"].to_list() == [
        "its reference matches ar_receipt R7, but the amounts differ by -20.00 EUR "
        "(more than the tolerance of 10.00 EUR)"
    ]


def test_tolerance_is_configurable():
    config = parse_config({"bank": {"rules": {"amount_tolerance": {"absolute": "25.00", "percent": 0}}}})
    r = run(
        bank(("L1", 0, "980.00", "Acme", "INV-7")),
        items(("ar_receipt", "R7", 0, "1000.00", "Acme", "INV-7")),
        config,
    )
    assert pairs(r) == {("L1", "R7", "amount_tolerance")}


def test_foreign_currency_document_meets_the_bank_line_at_its_base_amount():
    r = run(
        bank(("L1", 0, "921.66", "Globex Ltd", "ARI-55")),
        items(("ar_receipt", "R55", 0, "1000.00", "Globex Ltd", "ARI-55", "USD", "921.66")),
    )
    assert pairs(r) == {("L1", "R55", "exact_reference")}


def test_a_line_naming_another_document_is_not_matched_to_a_lookalike():
    # L1 pays part of R1 (its reference); R2 has L1's amount and payer but not its reference
    r = run(
        bank(("L1", 0, "600.00", "Acme", "INV-1")),
        items(
            ("ar_receipt", "R1", 0, "1000.00", "Acme", "INV-1"),
            ("ar_receipt", "R2", 0, "600.00", "Acme", None),
        ),
    )
    assert pairs(r) == set()


def test_two_missing_references_are_not_alike():
    # same amount and day, no reference on either side, unrelated payers: no match, not even a suggestion
    r = run(
        bank(("L1", 0, "310.00", "Acme", None)),
        items(("ar_receipt", "R1", 0, "310.00", "Zenith AG", None)),
    )
    assert r.matches.is_empty()
    assert r.exceptions["reason"].to_list() == [
        "ar_receipt R1 has this amount and date, but neither its reference nor its counterparty resembles this line"
    ]


def test_rules_can_be_switched_off_and_reordered():
    config = parse_config({"bank": {"cascade": ["amount_date_counterparty", "exact_reference"]}})
    r = run(
        bank(("L1", 0, "250.00", "Acme", "INV-1")),
        items(("ar_receipt", "R1", 0, "250.00", "Acme", "INV-1")),
        config,
    )
    assert pairs(r) == {("L1", "R1", "amount_date_counterparty")}
    off = parse_config(
        {
            "bank": {
                "rules": {
                    "exact_reference": {"enabled": False},
                    "amount_date_counterparty": {"enabled": False},
                }
            }
        }
    )
    r = run(
        bank(("L1", 0, "250.00", "Acme", "INV-1")),
        items(("ar_receipt", "R1", 0, "250.00", "Acme", "INV-1")),
        off,
    )
    assert pairs(r) == {("L1", "R1", "fuzzy_reference")}


def test_no_candidate_at_all():
    r = run(
        bank(("L1", 0, "13.37", "Nobody", "???")),
        items(("ar_receipt", "R1", 0, "250.00", "Acme", "INV-1")),
    )
    assert r.exceptions["reason"].to_list() == [
        "no open item with this reference, counterparty or amount within 60 days"
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"bank": {"cascade": ["exact_reference", "exact_reference"]}}, "appears twice"),
        (
            {"bank": {"rules": {"amount_tolerance": {"percentage": 1}}}},
            "field 'bank.rules.amount_tolerance': unknown key 'percentage'",
        ),
        ({"bank": {"auto_threshold": 2}}, "bank.auto_threshold"),
        ({"invoices": {"price_tolerance_percent": -1}}, "invoices.price_tolerance_percent"),
        (
            {"bank": {"auto_threshold": True}},
            "field 'bank.auto_threshold': expected a number, got true",
        ),
    ],
)
def test_config_mistakes_are_one_clear_line(data, message):
    with pytest.raises(UserError, match=message):
        parse_config(data, "model/matching.yaml")


def test_the_default_file_says_what_the_code_defaults_are(tmp_path):
    from opsfin.matching.config import DEFAULT_MATCHING_YAML, MatchingConfig
    from opsfin.runs.model import load_matching_config

    assert default_config() == MatchingConfig()  # the YAML written by `opsfin init` = the model
    (tmp_path / "matching.yaml").write_text(DEFAULT_MATCHING_YAML.replace("auto_threshold: 0.80", "auto_treshold: 1"))
    with pytest.raises(
        UserError,
        match=r"matching.yaml: field 'bank': unknown key 'auto_treshold'; keys are cascade, auto_threshold",
    ):
        load_matching_config(tmp_path)


def test_subset_sum_is_exact_and_bounded():
    found = subset_sums(350_00, [100_00, 120_00, 130_00, 75_00], max_items=6, deadline=1e18)
    assert found.solutions == [(0, 1, 2)]
    assert subset_sums(350_00, [100_00, 120_00, 130_00], max_items=2, deadline=1e18).solutions == []
    assert subset_sums(-200_00, [-100_00, -100_00, 50_00], max_items=3, deadline=1e18).solutions == [(0, 1)]
    # 13 ones would be needed but at most 12 may be used: an exhaustive search, cut off by the deadline
    stopped = subset_sums(13, [1] * 40, max_items=12, deadline=time.monotonic() + 0.05)
    assert stopped.timed_out and stopped.solutions == []


# ------------------------------------------------------------------ three-way match

INV_SCHEMA = {
    "invoice_id": pl.String,
    "supplier_id": pl.String,
    "supplier_ref": pl.String,
    "kind": pl.String,
    "invoice_date": pl.Date,
    "currency": pl.String,
    "total": pl.Decimal(18, 2),
}
LINE_SCHEMA = {
    "invoice_id": pl.String,
    "line": pl.Int32,
    "po_id": pl.String,
    "po_line": pl.Int32,
    "product_id": pl.String,
    "qty": pl.Float64,
    "unit_price": pl.Decimal(18, 4),
    "amount": pl.Decimal(18, 2),
}
PO_SCHEMA = {
    "po_id": pl.String,
    "line": pl.Int32,
    "supplier_id": pl.String,
    "qty": pl.Float64,
    "unit_price": pl.Decimal(18, 4),
    "currency": pl.String,
}
GR_SCHEMA = {
    "receipt_id": pl.String,
    "po_id": pl.String,
    "line": pl.Int32,
    "qty": pl.Float64,
    "received_date": pl.Date,
}


def invoice_tables(invoices, lines, pos, receipts) -> InvoiceTables:
    inv = [(i, s, ref, "invoice", D + dt.timedelta(days=d), "EUR", Decimal(t)) for i, s, ref, d, t in invoices]
    lns = [
        (
            i,
            1,
            po,
            1 if po else None,
            "RM",
            float(q),
            Decimal(p),
            (Decimal(p) * q).quantize(Decimal("0.01")),
        )
        for i, po, q, p in lines
    ]
    return InvoiceTables(
        pl.DataFrame(inv, schema=INV_SCHEMA, orient="row"),
        pl.DataFrame(lns, schema=LINE_SCHEMA, orient="row"),
        pl.DataFrame(
            [(po, 1, "S1", float(q), Decimal(p), "EUR") for po, q, p in pos],
            schema=PO_SCHEMA,
            orient="row",
        ),
        pl.DataFrame(
            [(g, po, 1, float(q), D + dt.timedelta(days=d)) for g, po, q, d in receipts],
            schema=GR_SCHEMA,
            orient="row",
        ),
    )


def statuses(result) -> dict[str, tuple]:
    return {r["invoice_id"]: (r["status"], r["issues"], r["money_at_stake"]) for r in result.lines.to_dicts()}


def test_three_way_match_statuses_and_money_at_stake():
    tables = invoice_tables(
        invoices=[
            ("OK", "S1", "001", 0, "1000.00"),
            ("PRICE", "S1", "002", 0, "1090.00"),
            ("NEAR", "S1", "003", 0, "1015.00"),
            ("NORCPT", "S1", "004", 0, "500.00"),
            ("NOPO", "S1", "005", 0, "80.00"),
            ("A", "S1", "006", 0, "600.00"),
            ("B", "S1", "007", 1, "500.00"),
        ],
        lines=[
            ("OK", "PO1", 100, "10.0000"),
            ("PRICE", "PO2", 100, "10.9000"),
            ("NEAR", "PO3", 100, "10.1500"),
            ("NORCPT", "PO4", 50, "10.0000"),
            ("NOPO", None, 8, "10.0000"),
            ("A", "PO5", 60, "10.0000"),
            ("B", "PO5", 50, "10.0000"),
        ],
        pos=[
            ("PO1", 100, "10.0000"),
            ("PO2", 100, "10.0000"),
            ("PO3", 100, "10.0000"),
            ("PO4", 50, "10.0000"),
            ("PO5", 100, "10.0000"),
        ],
        receipts=[
            ("G1", "PO1", 100, -2),
            ("G2", "PO2", 100, -2),
            ("G3", "PO3", 100, -2),
            ("G5a", "PO5", 60, -3),
            ("G5b", "PO5", 40, -1),
        ],
    )
    got = statuses(three_way_match(tables, default_config().invoices))
    assert got["OK"] == ("matched", [], Decimal("0.00"))
    # +9% > 2%: the price excess on the 100 received, 100 x 0.90
    assert got["PRICE"] == ("price_over_tolerance", ["price_over_tolerance"], Decimal("90.00"))
    assert got["NEAR"] == ("matched", [], Decimal("0.00"))  # +1.5% is within 2%
    assert got["NORCPT"] == ("no_receipt", ["no_receipt"], Decimal("500.00"))
    assert got["NOPO"] == ("no_po", ["no_po"], Decimal("80.00"))
    # PO5 received 60 + 40: A (60) takes the receipt of exactly its quantity; B (50) gets the 40 left,
    # 10 units over at 10.00
    assert got["A"] == ("matched", [], Decimal("0.00"))
    assert got["B"] == ("qty_over_received", ["qty_over_received"], Decimal("100.00"))


@pytest.mark.parametrize("copy_ref", ["00124-00012", "001-24-00012/1", " 001-24-00012", "001-24-00012".lower()])
def test_duplicate_invoice_later_copy_is_flagged(copy_ref):
    tables = invoice_tables(
        invoices=[
            ("SINV-1", "S1", "001-24-00012", 0, "1200.00"),
            ("SINV-2", "S1", copy_ref, 9, "1200.00"),
            ("SINV-3", "S1", "001-24-00013", 5, "1200.00"),
            ("SINV-4", "S1", "001-24-00012", 60, "1200.00"),
        ],
        lines=[
            ("SINV-1", "PO1", 100, "12.0000"),
            ("SINV-2", "PO1", 100, "12.0000"),
            ("SINV-3", "PO2", 100, "12.0000"),
            ("SINV-4", "PO3", 100, "12.0000"),
        ],
        pos=[("PO1", 100, "12.0000"), ("PO2", 100, "12.0000"), ("PO3", 100, "12.0000")],
        receipts=[("G1", "PO1", 100, -1), ("G2", "PO2", 100, -1), ("G3", "PO3", 100, 55)],
    )
    result = three_way_match(tables, default_config().invoices)
    got = statuses(result)
    assert got["SINV-1"][0] == "matched"  # the original
    assert got["SINV-2"] == ("duplicate", ["duplicate"], Decimal("1200.00"))
    assert got["SINV-3"][0] == "matched"  # same amount and supplier, but another invoice number
    assert got["SINV-4"][0] == "matched"  # 60 days later: outside the 45-day window
    dup = result.lines.filter(pl.col("invoice_id") == "SINV-2")
    assert dup["duplicate_of"].to_list() == ["SINV-1"]


def test_duplicate_needs_the_references_alike():
    tables = invoice_tables(
        invoices=[
            ("SINV-1", "S1", "AB-7781", 0, "1200.00"),
            ("SINV-2", "S1", "ZX-1290", 3, "1200.00"),
        ],
        lines=[("SINV-1", "PO1", 100, "12.0000"), ("SINV-2", "PO2", 100, "12.0000")],
        pos=[("PO1", 100, "12.0000"), ("PO2", 100, "12.0000")],
        receipts=[("G1", "PO1", 100, -1), ("G2", "PO2", 100, -1)],
    )
    assert {s for s, _, _ in statuses(three_way_match(tables, default_config().invoices)).values()} == {"matched"}


def test_several_issues_status_is_the_first_in_order():
    tables = invoice_tables(
        invoices=[("X", "S1", "009", 0, "1100.00")],
        lines=[("X", "PO9", 100, "11.0000")],
        pos=[("PO9", 100, "10.0000")],
        receipts=[("G9", "PO9", 100, 10)],
    )
    # received in full: only the price is off, +10% > 2%: 100 x 1.00 at stake
    assert statuses(three_way_match(tables, default_config().invoices))["X"] == (
        "price_over_tolerance",
        ["price_over_tolerance"],
        Decimal("100.00"),
    )
    nothing = invoice_tables(
        invoices=[("X", "S1", "009", 0, "1100.00")],
        lines=[("X", "PO9", 100, "11.0000")],
        pos=[("PO9", 100, "10.0000")],
        receipts=[],
    )
    # nothing received: both issues listed, no_receipt comes first, the whole line is at stake
    assert statuses(three_way_match(nothing, default_config().invoices))["X"] == (
        "no_receipt",
        ["no_receipt", "price_over_tolerance"],
        Decimal("1100.00"),
    )


@pytest.fixture
def receipts_around_the_run_date(workspace):
    """PO9 line 1: 100 units at 10.00, invoiced in full on D; 60 received 5 days before D, 40 received 10 days after."""
    with workspace.connect() as con:
        put(
            con,
            "ap_invoices",
            [
                {
                    "invoice_id": "X",
                    "supplier_id": "S1",
                    "supplier_ref": "009",
                    "kind": "invoice",
                    "invoice_date": D,
                    "currency": "EUR",
                    "total": Decimal("1000.00"),
                }
            ],
        )
        put(
            con,
            "ap_invoice_lines",
            [
                {
                    "invoice_id": "X",
                    "line": 1,
                    "po_id": "PO9",
                    "po_line": 1,
                    "product_id": "RM",
                    "qty": 100.0,
                    "unit_price": Decimal("10.0000"),
                    "amount": Decimal("1000.00"),
                }
            ],
        )
        put(
            con,
            "purchase_orders",
            [
                {
                    "po_id": "PO9",
                    "line": 1,
                    "supplier_id": "S1",
                    "product_id": "RM",
                    "qty": 100.0,
                    "unit_price": Decimal("10.0000"),
                    "currency": "EUR",
                }
            ],
        )
        put(
            con,
            "goods_receipts",
            [
                {
                    "receipt_id": "G1",
                    "po_id": "PO9",
                    "line": 1,
                    "qty": 60.0,
                    "received_date": D - dt.timedelta(days=5),
                },
                {
                    "receipt_id": "G2",
                    "po_id": "PO9",
                    "line": 1,
                    "qty": 40.0,
                    "received_date": D + dt.timedelta(days=10),
                },
            ],
        )
    return workspace


@pytest.mark.parametrize(
    ("days_after_d", "expected"),
    [
        (-6, ("no_receipt", ["no_receipt"], Decimal("1000.00"))),  # before either receipt
        (
            0,
            ("qty_over_received", ["qty_over_received"], Decimal("400.00")),
        ),  # 60 of 100: 40 x 10.00 over
        (
            9,
            ("qty_over_received", ["qty_over_received"], Decimal("400.00")),
        ),  # the day before the second
        (10, ("matched", [], Decimal("0.00"))),  # the day of the second counts
    ],
)
def test_the_warehouse_reader_counts_receipts_up_to_the_run_date_only(
    receipts_around_the_run_date, days_after_d, expected
):
    # the real warehouse reader (behind Workspace.match_invoices) must cut the receipts at --as-of itself
    result = receipts_around_the_run_date.match_invoices(D + dt.timedelta(days=days_after_d))
    assert statuses(result)["X"] == expected
