"""Confirming and rejecting matches: through the CLI on a tiny demo company (SQLite app database), and
through `AppDB` directly on SQLite and PostgreSQL. Decisions are audited, kept by later runs, never
re-proposed when rejected, and a bank line or document never ends up in two confirmed matches."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import polars as pl
import pytest

import opsfin
from appdb_fixtures import app_db_url  # noqa: F401 - fixture: a fresh SQLite file or PostgreSQL schema
from bank_frames import BANK_SCHEMA as SCHEMA_B
from bank_frames import ITEM_SCHEMA as SCHEMA_I
from cli_support import run_in_process
from opsfin.appdb import AppDB, open_app_db
from opsfin.errors import UserError
from opsfin.matching import BankDecisions, default_config, exception_queue, reconcile
from opsfin.matching.decisions import bank_decisions
from opsfin.runs.matching import decide_bank


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from opsfin.demo import generate

    return generate(tmp_path_factory.mktemp("decisions") / "ws", scale="tiny", seed=7).workspace.path


@pytest.fixture
def ws(built, tmp_path):
    """A private copy of the tiny demo (decisions write to its app database)."""
    target = tmp_path / "ws"
    shutil.copytree(built, target, ignore=shutil.ignore_patterns("app.db*"))
    return opsfin.open(target)


def opsfin_cli(ws, *args: str) -> subprocess.CompletedProcess:
    return run_in_process(*args, "-w", str(ws.path))


def one_to_one(run, rule: str = "exact_reference") -> pl.DataFrame:
    auto = run.matches.filter((pl.col("status") == "auto") & (pl.col("rule") == rule))
    single = auto.group_by("match_id").len().filter(pl.col("len") == 1)
    return auto.join(single, on="match_id", how="semi").sort("bank_txn_id")


def test_confirm_through_the_cli_is_kept_and_audited(ws):
    row = one_to_one(ws.match_bank()).row(0, named=True)
    done = opsfin_cli(ws, "match", "confirm", row["match_id"])
    assert done.returncode == 0, done.stderr
    assert f"confirmed {row['match_id']}" in done.stdout
    later = ws.match_bank()
    kept = later.matches.filter(pl.col("match_id") == row["match_id"])
    assert kept.select("bank_txn_id", "doc_id", "status").rows() == [(row["bank_txn_id"], row["doc_id"], "confirmed")]
    assert later.summary["confirmed"] == 1
    db = open_app_db(ws)
    entry = db.audit_entries(object_type="match")[0]
    assert (entry["action"], entry["object_id"]) == ("match.confirmed", f"bank:{row['match_id']}")
    assert entry["actor"].startswith("cli")
    assert db.verify_audit() == []
    again = opsfin_cli(ws, "match", "confirm", row["match_id"])
    assert again.returncode == 2
    assert again.stderr.strip() == f"error: bank match {row['match_id']} is already confirmed"


def test_rejected_match_is_never_proposed_again(ws):
    row = one_to_one(ws.match_bank()).row(0, named=True)
    done = opsfin_cli(ws, "match", "reject", row["match_id"])
    assert done.returncode == 0, done.stderr
    later = ws.match_bank()
    assert row["match_id"] not in set(later.matches["match_id"])
    queue = later.exceptions.filter(pl.col("bank_txn_id") == row["bank_txn_id"])
    assert queue["reason"].to_list() == ["every match proposed for it was rejected"]
    assert open_app_db(ws).audit_entries(object_type="match")[0]["action"] == "match.rejected"
    for verb in ("confirm", "reject"):  # deciding it again says why it is gone, in one line
        again = opsfin_cli(ws, "match", verb, row["match_id"])
        assert again.returncode == 2
        assert again.stderr.startswith(f"error: bank match {row['match_id']} was rejected by cli:")
        assert again.stderr.strip().endswith("a rejected match is never proposed again")


def test_unknown_or_malformed_ids_are_one_line_errors(ws):
    bad = opsfin_cli(ws, "match", "confirm", "B0000000000000000")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: no bank match B0000000000000000 in the current reconciliation")
    assert len(bad.stderr.strip().splitlines()) == 1
    worse = opsfin_cli(ws, "match", "reject", "hello")
    assert worse.returncode == 2 and "is not a match id" in worse.stderr


def test_new_lines_are_matched_without_redeciding_confirmed_ones(ws):
    from opsfin.runs.matching import record_decision

    row = one_to_one(ws.match_bank()).row(0, named=True)
    record_decision(ws, "ana", row["match_id"], "confirmed")
    day = dt.date(2024, 5, 2)
    with ws.connect() as con:
        cust = con.execute("SELECT customer_id, name FROM customers ORDER BY customer_id LIMIT 1").fetchone()
        con.execute(
            "INSERT INTO ar_receipts VALUES ('RCT-NEW', ?, ?, 777.77, 'EUR', 'ARI-NEW-1', 'test')",
            [cust[0], day],
        )
        con.execute(
            "INSERT INTO bank_transactions VALUES ('BT-NEW', NULL, 'DE00', ?, ?, 777.77, 'EUR', ?, "
            "'ARI-NEW-1', NULL, 'test')",
            [day, day, cust[1]],
        )
        # the bank books the confirmed payment a second time: it must not take the confirmed document
        con.execute(
            "INSERT INTO bank_transactions SELECT 'BT-AGAIN', NULL, bank_account, booking_date, value_date, "
            "amount, currency, counterparty, reference, description, 'test' FROM bank_transactions "
            "WHERE bank_txn_id = ?",
            [row["bank_txn_id"]],
        )
    later = ws.match_bank()
    kept = later.matches.filter(pl.col("match_id") == row["match_id"])
    assert kept.select("bank_txn_id", "doc_id", "status").rows() == [(row["bank_txn_id"], row["doc_id"], "confirmed")]
    new = later.matches.filter(pl.col("bank_txn_id") == "BT-NEW")
    assert new.select("doc_id", "status", "rule").rows() == [("RCT-NEW", "auto", "exact_reference")]
    again = later.exceptions.filter(pl.col("bank_txn_id") == "BT-AGAIN")
    assert again["reason"].to_list() == [
        f"its reference {row['reference']!r} belongs to {row['doc_type']} {row['doc_id']}, already matched to bank "
        f"line {row['bank_txn_id']}"
    ]


def test_invoice_line_decisions(ws):
    flagged = ws.match_invoices().lines.filter(pl.col("status") != "matched").row(0, named=True)
    done = opsfin_cli(ws, "match", "confirm", flagged["match_id"])
    assert done.returncode == 0, done.stderr
    result = ws.match_invoices()
    assert result.lines.filter(pl.col("match_id") == flagged["match_id"])["decision"].to_list() == ["confirmed"]
    assert flagged["match_id"] not in set(exception_queue(result)["match_id"])
    assert opsfin_cli(ws, "match", "reject", flagged["match_id"]).returncode == 0
    queue = exception_queue(ws.match_invoices())
    assert queue.filter(pl.col("match_id") == flagged["match_id"])["decision"].to_list() == ["rejected"]
    actions = [e["action"] for e in open_app_db(ws).audit_entries(object_type="match")]
    assert actions[:2] == ["match.rejected", "match.confirmed"]


# ------------------------------------------------------------------ AppDB directly, SQLite and PostgreSQL

D = dt.date(2024, 3, 4)


def ambiguous_books():
    """One bank line, two equal candidates: two suggested matches sharing the line."""
    bank = pl.DataFrame([("L1", D, Decimal("99.00"), "EUR", "Acme", None, None)], schema=SCHEMA_B, orient="row")
    items = pl.DataFrame(
        [
            ("ar_receipt", "R1", D, Decimal("99.00"), "EUR", "Acme", None, None),
            ("ar_receipt", "R2", D, Decimal("99.00"), "EUR", "Acme", None, None),
        ],
        schema=SCHEMA_I,
        orient="row",
    )
    return bank, items


def test_a_line_is_never_in_two_confirmed_matches(app_db_url):  # noqa: F811
    db = AppDB(app_db_url)
    try:
        bank, items = ambiguous_books()
        config = default_config().bank
        stale = reconcile(bank, items, config, "EUR")
        ids = dict(stale.matches.select("doc_id", "match_id").iter_rows())
        decide_bank(db, "ana", ids["R1"], "confirmed", stale)
        with pytest.raises(UserError, match=f"bank line L1 is already in confirmed match {ids['R1']}"):
            decide_bank(db, "ben", ids["R2"], "confirmed", stale)  # a run from before ana's decision
        now = reconcile(bank, items, config, "EUR", bank_decisions(db.match_decisions("bank")))
        assert now.matches.select("doc_id", "status").rows() == [("R1", "confirmed")]
        decide_bank(db, "ana", ids["R1"], "rejected", now)  # undo ...
        decide_bank(db, "ben", ids["R2"], "confirmed", stale)  # ... then the other one is allowed
        final = reconcile(bank, items, config, "EUR", bank_decisions(db.match_decisions("bank")))
        assert final.matches.select("doc_id", "status").rows() == [("R2", "confirmed")]
        assert [e["action"] for e in db.audit_entries(object_type="match")] == [
            "match.confirmed",
            "match.rejected",
            "match.confirmed",
        ]
        assert db.verify_audit() == []
    finally:
        db.close()


def test_the_engine_keeps_only_the_first_of_two_overlapping_confirmations():
    bank, items = ambiguous_books()
    stale = reconcile(bank, items, default_config().bank, "EUR")
    ids = dict(stale.matches.select("doc_id", "match_id").iter_rows())
    both = BankDecisions(
        {
            ids["R2"]: {"pairs": [("L1", "ar_receipt", "R2")], "rule": "manual", "score": 1.0},
            ids["R1"]: {"pairs": [("L1", "ar_receipt", "R1")], "rule": "manual", "score": 1.0},
        }
    )
    result = reconcile(bank, items, default_config().bank, "EUR", both)
    assert result.matches.select("doc_id", "status").rows() == [("R2", "confirmed")]
