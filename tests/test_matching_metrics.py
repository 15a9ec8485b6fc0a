"""The matching scores (`opsfin.matching.evaluate`) on a hand-made run and ground truth, every count and
ratio worked out by hand (docs/matching.md gives the definitions).

Bank. The run: L1 auto with R1; L2 auto with R2 and R3 (one batch); L3 auto with R4; L4 auto with P1;
L5 auto with R6; L8 auto with R9; L9 suggested with R1; L6 and L7 unmatched. The truth: L1-R1, L2-R2, L2-R3, L3-R5, L4-P1, L5-R6, L5-R7, L6-G1
(an `other` document, read as `gl_entry`), L7-R8, and L99-R99 for a line this run did not see; nothing for
L8 or L9.
The engine was given every document but G1 and R7.
- truth pairs of the run's lines: 9 (L99 is left out); auto pairs 7, of which 5 are true (not L3-R4,
  L8-R9): pair precision 5/7, pair recall 5/9;
- matchable lines (all their true documents seen): L1, L2, L3, L4, L7: 5; auto lines L1-L5 and L8: 6;
  exactly right: L1, L2 and L4 (L3 has the wrong document, L5 only one of its two, L8 none at all):
  auto-correct 3/5, wrong auto 3 of 6.

Invoices. Truth: (I1, 1) qty_over_received, (I2, 1) price_over_tolerance, (I3, 1) duplicate. The run:
I1 qty_over_received, I2 matched, I3 duplicate, I4 (clean) no_receipt, I5 and I6 (clean) matched.
- duplicate 1 of 1 found, 1 flagged and true; qty over received 1 of 1; price over tolerance 0 of 1,
  nothing flagged; no receipt: none injected, 1 flagged, none true; no_po is left out (none injected);
- clean lines I4, I5, I6: 1 of 3 flagged."""

from __future__ import annotations

import polars as pl
import pytest

from opsfin.errors import UserError
from opsfin.matching import BankReconciliation, InvoiceMatch
from opsfin.matching.evaluate import (
    load_bank_truth,
    load_invoice_truth,
    score_bank,
    score_invoices,
    verdict,
)

RUN = BankReconciliation(
    pl.DataFrame(
        [
            ("L1", "ar_receipt", "R1", "auto"),
            ("L2", "ar_receipt", "R2", "auto"),
            ("L2", "ar_receipt", "R3", "auto"),
            ("L3", "ar_receipt", "R4", "auto"),
            ("L4", "ap_payment", "P1", "auto"),
            ("L5", "ar_receipt", "R6", "auto"),
            ("L8", "ar_receipt", "R9", "auto"),
            ("L9", "ar_receipt", "R1", "suggested"),
        ],
        schema=["bank_txn_id", "doc_type", "doc_id", "status"],
        orient="row",
    ),
    pl.DataFrame({"bank_txn_id": ["L6", "L7"], "reason": ["no candidate", "no candidate"]}),
    {},
)
SEEN = pl.DataFrame(
    [("ar_receipt", f"R{k}") for k in (1, 2, 3, 4, 5, 6, 8)] + [("ap_payment", "P1")],
    schema=["doc_type", "doc_id"],
    orient="row",
)
TRUTH_FILE = [
    ("L1", "ar_receipt", "R1"),
    ("L2", "ar_receipt", "R2"),
    ("L2", "ar_receipt", "R3"),
    ("L3", "ar_receipt", "R5"),
    ("L4", "ap_payment", "P1"),
    ("L5", "ar_receipt", "R6"),
    ("L5", "ar_receipt", "R7"),
    ("L6", "other", "G1"),
    ("L7", "ar_receipt", "R8"),
    ("L99", "ar_receipt", "R99"),
]


@pytest.fixture
def bank_truth(tmp_path):
    pl.DataFrame(TRUTH_FILE, schema=["bank_txn_id", "doc_type", "doc_id"], orient="row").write_parquet(
        tmp_path / "bank_matches.parquet"
    )
    return load_bank_truth(tmp_path)


def test_bank_truth_reads_other_as_a_gl_entry(bank_truth):
    assert bank_truth.filter(pl.col("bank_txn_id") == "L6").rows() == [("L6", "gl_entry", "G1")]


def test_bank_scores(bank_truth):
    got = score_bank(RUN, bank_truth, SEEN)
    examples = got.pop("wrong_examples")
    assert got == {
        "bank_lines": 9,
        "truth_pairs": 9,
        "auto_pairs": 7,
        "correct_auto_pairs": 5,
        "pair_precision": pytest.approx(5 / 7),
        "pair_recall": pytest.approx(5 / 9),
        "matchable_lines": 5,
        "auto_lines": 6,
        "auto_correct_lines": 3,
        "auto_correct_rate": 0.6,
        "wrong_auto_lines": 3,
        "wrong_auto_rate": 0.5,
    }
    assert sorted(examples, key=lambda e: e["bank_txn_id"]) == [
        {
            "bank_txn_id": "L3",
            "auto_set": "ar_receipt|R4",
            "matchable": True,
            "true_set": "ar_receipt|R5",
        },
        {
            "bank_txn_id": "L5",
            "auto_set": "ar_receipt|R6",
            "matchable": False,
            "true_set": "ar_receipt|R6,ar_receipt|R7",
        },
        {"bank_txn_id": "L8", "auto_set": "ar_receipt|R9", "matchable": None, "true_set": None},
    ]


def test_at_most_ten_examples_of_each_mistake(tmp_path):
    lines = [f"L{k:02d}" for k in range(12)]
    run = BankReconciliation(
        pl.DataFrame(
            {
                "bank_txn_id": lines,
                "doc_type": ["ar_receipt"] * 12,
                "doc_id": [f"X{k}" for k in range(12)],
                "status": ["auto"] * 12,
            }
        ),
        pl.DataFrame(
            {"bank_txn_id": [], "reason": []},
            schema={"bank_txn_id": pl.String, "reason": pl.String},
        ),
        {},
    )
    truth = pl.DataFrame(
        {
            "bank_txn_id": lines,
            "doc_type": ["ar_receipt"] * 12,
            "doc_id": [f"Y{k}" for k in range(12)],
        }
    )
    got = score_bank(run, truth, truth.select("doc_type", "doc_id"))
    assert (got["wrong_auto_lines"], len(got["wrong_examples"])) == (12, 10)
    invoices = InvoiceMatch(
        pl.DataFrame(
            {
                "invoice_id": [f"I{k}" for k in range(12)],
                "line": [1] * 12,
                "status": ["matched"] * 12,
            }
        ),
        {},
    )
    missed = pl.DataFrame(
        {"invoice_id": [f"I{k}" for k in range(12)], "line": [1] * 12, "issue": ["duplicate"] * 12},
        schema={"invoice_id": pl.String, "line": pl.Int64, "issue": pl.String},
    )
    duplicate = next(k for k in score_invoices(invoices, missed)["kinds"] if k["issue"] == "duplicate")
    assert (duplicate["injected"], duplicate["found"], len(duplicate["missed"])) == (12, 0, 10)


def test_bank_scores_of_a_run_without_auto_matches(bank_truth):
    nothing = BankReconciliation(RUN.matches.clear(), pl.DataFrame({"bank_txn_id": ["L1"], "reason": ["x"]}), {})
    got = score_bank(nothing, bank_truth, SEEN)
    assert (got["truth_pairs"], got["auto_pairs"], got["pair_precision"], got["pair_recall"]) == (
        1,
        0,
        None,
        0.0,
    )
    assert (got["matchable_lines"], got["auto_correct_rate"], got["wrong_auto_rate"]) == (
        1,
        0.0,
        None,
    )


INVOICE_RUN = InvoiceMatch(
    pl.DataFrame(
        [
            ("I1", 1, "qty_over_received"),
            ("I2", 1, "matched"),
            ("I3", 1, "duplicate"),
            ("I4", 1, "no_receipt"),
            ("I5", 1, "matched"),
            ("I6", 1, "matched"),
        ],
        schema={"invoice_id": pl.String, "line": pl.Int32, "status": pl.String},
        orient="row",
    ),
    {},
)
INVOICE_TRUTH = pl.DataFrame(
    [("I1", 1, "qty_over_received"), ("I2", 1, "price_over_tolerance"), ("I3", 1, "duplicate")],
    schema={"invoice_id": pl.String, "line": pl.Int64, "issue": pl.String},
    orient="row",
)


def test_invoice_scores():
    got = score_invoices(INVOICE_RUN, INVOICE_TRUTH)
    kinds = {k["issue"]: (k["injected"], k["found"], k["recall"], k["flagged"], k["precision"]) for k in got["kinds"]}
    assert kinds == {
        "duplicate": (1, 1, 1.0, 1, 1.0),
        "no_receipt": (0, 0, None, 1, 0.0),
        "qty_over_received": (1, 1, 1.0, 1, 1.0),
        "price_over_tolerance": (1, 0, 0.0, 0, None),
    }
    missed = {k["issue"]: k["missed"] for k in got["kinds"]}
    assert missed["price_over_tolerance"] == [{"invoice_id": "I2", "line": 1, "issue": "price_over_tolerance"}]
    assert (got["lines"], got["clean_lines"], got["clean_flagged"]) == (6, 3, 1)
    assert got["clean_flag_rate"] == pytest.approx(1 / 3)


def test_verdict_against_the_targets(bank_truth):
    v = verdict(score_bank(RUN, bank_truth, SEEN), score_invoices(INVOICE_RUN, INVOICE_TRUTH))
    assert v == {
        "auto_correct_rate": {"target": ">= 0.98", "value": 0.6, "met": False},
        "wrong_auto_rate": {"target": "<= 0.001", "value": 0.5, "met": False},
        "issue_recall_min": {"target": ">= 0.95", "value": 0.0, "met": False},
        "clean_flag_rate": {"target": "<= 0.02", "value": pytest.approx(1 / 3), "met": False},
    }
    # each target just met, and nothing to measure
    at_targets = verdict(
        {"auto_correct_rate": 0.98, "wrong_auto_rate": 0.001},
        {
            "kinds": [{"injected": 1, "recall": 0.95}, {"injected": 0, "recall": None}],
            "clean_flag_rate": 0.02,
        },
    )
    assert {k: x["met"] for k, x in at_targets.items()} == dict.fromkeys(v, True)
    empty = verdict({"auto_correct_rate": None, "wrong_auto_rate": None}, {"kinds": [], "clean_flag_rate": None})
    assert {k: x["met"] for k, x in empty.items()} == dict.fromkeys(v, None)


def test_invoice_truth_keeps_its_three_columns_with_whole_line_numbers(tmp_path):
    pl.DataFrame(
        {"invoice_id": ["I1"], "line": [2], "issue": ["duplicate"], "note": ["injected"]},
        schema={"invoice_id": pl.String, "line": pl.Int32, "issue": pl.String, "note": pl.String},
    ).write_parquet(tmp_path / "invoice_issues.parquet")
    truth = load_invoice_truth(tmp_path)
    assert truth.schema == {"invoice_id": pl.String, "line": pl.Int64, "issue": pl.String}
    assert truth.rows() == [("I1", 2, "duplicate")]


def test_a_missing_or_unreadable_truth_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no ground truth"):
        load_bank_truth(tmp_path)
    (tmp_path / "bank_matches.parquet").write_text("not parquet", encoding="utf-8")
    with pytest.raises(UserError, match="not a ground-truth file"):
        load_bank_truth(tmp_path)
