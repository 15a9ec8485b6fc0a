"""Incremental bank reconciliation: a run keeps its auto matches, and later runs never re-decide them.

The case, built by hand: customer Acme pays receipt X (reference INV-7, 100.00, dated 1 March) with bank
line A on 2 March. A new statement brings line B on 3 March: the same payer, reference and amount (a
duplicate transfer). Recomputed from scratch, A and B both propose X by exact reference, 0.999 and 0.998
(1 − 0.001 × days apart), closer than the 0.02 ambiguity margin: A's match would be demoted to
`suggested`. Once run 1 has kept A–X, A stays `auto` with X and B is an exception naming run 1."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from bank_frames import BANK_SCHEMA as BANK
from bank_frames import ITEM_SCHEMA as ITEMS
from cli_support import run_cli
from opsfin.appdb import open_app_db
from opsfin.ingest import ingest_file
from opsfin.matching import BankDecisions, default_config, kept_frame, reconcile
from opsfin.matching.ids import bank_match_id
from opsfin.runs.matching import run_bank

D = dt.date(2024, 3, 1)
A = ("A", D + dt.timedelta(days=1), Decimal("100.00"), "EUR", "Acme", "INV-7", None)
B = ("B", D + dt.timedelta(days=2), Decimal("100.00"), "EUR", "Acme", "INV-7", None)
X = ("ar_receipt", "X", D, Decimal("100.00"), "EUR", "Acme", "INV-7", None)
AX = bank_match_id([("A", "ar_receipt", "X")])
B_TAKEN = "its reference 'INV-7' belongs to ar_receipt X, already matched to bank line A by run 1"


def bank(*rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=BANK, orient="row")


def run(lines, decisions=None, kept=None):
    return reconcile(
        lines,
        pl.DataFrame([X], schema=ITEMS, orient="row"),
        default_config().bank,
        "EUR",
        decisions,
        kept,
    )


def rows_of(result) -> list[tuple]:
    return result.matches.select("bank_txn_id", "doc_id", "status", "rule", "score", "run_id").rows()


def keep(result, run_id: int) -> pl.DataFrame:
    """What recording `result` as run `run_id` stores: its new auto matches."""
    new = result.matches.filter((pl.col("status") == "auto") & pl.col("run_id").is_null())
    return kept_frame(
        [(run_id, *r) for r in new.select("match_id", "bank_txn_id", "doc_type", "doc_id", "rule", "score").rows()]
    )


# ------------------------------------------------------------------ the engine (pure)


def test_a_kept_auto_match_is_not_re_decided_by_a_repeat_in_a_new_statement():
    first = run(bank(A))
    assert rows_of(first) == [("A", "X", "auto", "exact_reference", 0.999, None)]
    # without the run kept, the repeat demotes A's match: both lines are only suggested
    recomputed = run(bank(A, B))
    assert {(b, s) for b, _, s, *_ in rows_of(recomputed)} == {
        ("A", "suggested"),
        ("B", "suggested"),
    }
    # with it, A stays auto with X (rule and score as recorded) and B is the exception
    later = run(bank(A, B), kept=keep(first, 1))
    assert rows_of(later) == [("A", "X", "auto", "exact_reference", 0.999, 1)]
    assert later.matches["match_id"].to_list() == [AX]
    assert later.exceptions.select("bank_txn_id", "reason").rows() == [("B", B_TAKEN)]
    assert later.summary == {
        "bank_lines": 2,
        "auto": 1,
        "suggested": 0,
        "unmatched": 1,
        "confirmed": 0,
        "by_rule": {"exact_reference": 1},
    }


def test_rejecting_a_kept_match_frees_its_line_and_document_for_good():
    kept = keep(run(bank(A)), 1)
    later = run(bank(A, B), BankDecisions(rejected=frozenset({AX})), kept)
    assert AX not in set(later.matches["match_id"])  # the pair is never proposed again
    # X is free again: B (one day further, the only line whose match with X stands) takes it, 1 - 0.002
    assert rows_of(later) == [("B", "X", "auto", "exact_reference", 0.998, None)]
    assert later.exceptions.select("bank_txn_id", "reason").rows() == [
        ("A", "every match proposed for it was rejected")
    ]


def test_a_confirmed_kept_match_is_reported_as_confirmed():
    kept = keep(run(bank(A)), 1)
    confirmed = {AX: {"pairs": [("A", "ar_receipt", "X")], "rule": "exact_reference", "score": 0.999}}
    later = run(bank(A, B), BankDecisions(confirmed), kept)
    assert rows_of(later) == [("A", "X", "confirmed", "exact_reference", 0.999, None)]


def test_kept_matches_that_overlap_keep_only_the_first():
    """Whatever the app database holds, nothing is in two kept matches: of two runs keeping a match for X,
    the earlier one stands, and the kept match of a line confirmed otherwise gives way."""
    bx = bank_match_id([("B", "ar_receipt", "X")])
    kept = kept_frame(
        [
            (2, bx, "B", "ar_receipt", "X", "exact_reference", 0.998),
            (1, AX, "A", "ar_receipt", "X", "exact_reference", 0.999),
        ]
    )
    assert rows_of(run(bank(A, B), kept=kept))[0] == ("A", "X", "auto", "exact_reference", 0.999, 1)
    confirmed = {bx: {"pairs": [("B", "ar_receipt", "X")], "rule": "manual", "score": 1.0}}
    result = run(bank(A, B), BankDecisions(confirmed), kept)
    assert [(b, s) for b, _, s, *_ in rows_of(result)] == [("B", "confirmed")]


# ------------------------------------------------------------------ on a workspace, through the CLI


def write_csv(path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def bank_line(txn_id: str, day: dt.date) -> dict:
    return {
        "statement_id": "",
        "bank_account": "DE00",
        "currency": "EUR",
        "counterparty": "Acme",
        "description": "",
        "bank_txn_id": txn_id,
        "booking_date": day.isoformat(),
        "value_date": day.isoformat(),
        "amount": "100.00",
        "reference": "INV-7",
    }


@pytest.fixture
def books(workspace, tmp_path):
    """Customer Acme, receipt X and bank line A (the module docstring); `books.add_b()` loads B."""
    write_csv(
        tmp_path / "customers.csv",
        [
            {
                "customer_id": "C1",
                "name": "Acme",
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
                "receipt_id": "X",
                "customer_id": "C1",
                "received_date": D.isoformat(),
                "amount": "100.00",
                "currency": "EUR",
                "reference": "INV-7",
            }
        ],
    )
    write_csv(tmp_path / "a.csv", [bank_line("A", A[1])])
    write_csv(tmp_path / "b.csv", [bank_line("B", B[1])])
    for name, table in (
        ("customers", "customers"),
        ("receipts", "ar_receipts"),
        ("a", "bank_transactions"),
    ):
        ingest_file(workspace, tmp_path / f"{name}.csv", table=table)
    workspace.add_b = lambda: ingest_file(workspace, tmp_path / "b.csv", table="bank_transactions")
    return workspace


def cli(capsys, ws, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, *args, "-w", str(ws.path))


def app_state(ws) -> tuple:
    """Everything a run could write: runs, kept matches and the audit log."""
    db = open_app_db(ws)
    return db.match_runs(), db.kept_matches(), db.audit_entries()


def test_runs_through_the_cli_keep_preview_and_reject(books, capsys):
    code, out, _ = cli(capsys, books, "match", "bank", "--preview")
    assert code == 0 and "preview: a run would keep 1 new auto matches (1 bank lines); nothing written" in out
    assert not (books.path / "app.db").exists()  # a preview does not even create the app database

    code, out, _ = cli(capsys, books, "match", "bank")
    assert code == 0 and "kept 1 auto matches as run 1 (bank lines through 2024-03-02)" in out
    runs, kept, audit = app_state(books)
    assert [(r["run_id"], r["kept"], r["bank_lines"]) for r in runs] == [(1, 1, 1)]
    assert kept == [(1, AX, "A", "ar_receipt", "X", "exact_reference", 0.999)]
    assert [(e["action"], e["object_id"]) for e in audit] == [("match.run", "run:1")]

    books.add_b()  # the new statement
    before = app_state(books)
    code, out, _ = cli(capsys, books, "match", "bank", "--preview", "--format", "json")
    assert code == 0
    body = json.loads(out)
    assert body["run"] is None
    assert [(m["bank_txn_id"], m["doc_id"], m["status"], m["run_id"]) for m in body["matches"]] == [
        ("A", "X", "auto", 1)
    ]
    code, out, _ = cli(capsys, books, "match", "exceptions", "--format", "json")
    assert [(e["bank_txn_id"], e["reason"]) for e in json.loads(out)["bank"]] == [("B", B_TAKEN)]
    assert app_state(books) == before  # preview and exceptions wrote nothing

    code, out, _ = cli(capsys, books, "match", "bank")  # nothing new: no run, no audit entry
    assert code == 0 and "no new auto matches to keep; 1 auto matches kept by earlier runs" in out
    assert app_state(books) == before

    code, out, _ = cli(capsys, books, "match", "reject", AX)
    assert code == 0 and "it was an auto match kept by run 1" in out
    after = run_bank(books)
    assert AX not in set(after.matches["match_id"])
    assert after.matches.select("bank_txn_id", "doc_id", "status", "run_id").rows() == [("B", "X", "auto", None)]
    code, out, _ = cli(capsys, books, "match", "bank", "--from", "2024-03-03")
    assert code == 0 and "kept 1 auto matches as run 2 (bank lines through 2024-03-03)" in out
    runs, kept, audit = app_state(books)
    assert [(r["run_id"], r["date_from"], r["kept"]) for r in runs] == [
        (1, None, 1),
        (2, D + dt.timedelta(days=2), 1),
    ]
    assert [(e["action"], e["object_id"]) for e in reversed(audit)] == [
        ("match.run", "run:1"),
        ("match.rejected", f"bank:{AX}"),
        ("match.run", "run:2"),
    ]
    assert open_app_db(books).verify_audit() == []
    code, _, err = cli(capsys, books, "match", "confirm", AX)  # a rejected kept match is never proposed again
    assert code == 2 and "was rejected by cli" in err
