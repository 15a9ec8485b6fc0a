"""Matching on the tiny demo company: the issue's quality targets against truth/, and the JSON contracts
of `opsfin match bank|invoices|exceptions` and `opsfin eval matching` (in process, through Typer)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from opsfin.cli import app
from opsfin.matching.evaluate import load_bank_truth
from opsfin.runs.matching import run_evaluation

STATUSES = {
    "matched",
    "duplicate",
    "no_po",
    "no_receipt",
    "qty_over_received",
    "price_over_tolerance",
}


def opsfin(path, *args: str):
    """Run a verb in this process (the JSON contract; exit codes are covered in test_matching_decisions)."""
    result = CliRunner().invoke(app, [*args, "-w", str(path)])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def scores(tiny_demo):
    return run_evaluation(tiny_demo)


def test_bank_targets_on_the_tiny_demo(scores, tiny_demo):
    bank = scores["bank"]
    # every demo bank line pays documents the engine sees
    assert bank["matchable_lines"] == tiny_demo.sql("SELECT count(*) AS n FROM bank_transactions")["n"][0]
    assert bank["auto_correct_rate"] >= 0.98  # target: >= 98% of the matchable lines
    assert bank["wrong_auto_rate"] <= 0.001  # target: <= 0.1% wrong auto matches
    assert bank["pair_precision"] >= 0.999


def test_invoice_targets_on_the_tiny_demo(scores):
    inv = scores["invoices"]
    injected = [k for k in inv["kinds"] if k["injected"]]
    assert injected  # the tiny demo injects invoice issues
    for kind in injected:
        assert kind["recall"] >= 0.95, kind  # every injected kind found
    assert inv["clean_flag_rate"] <= 0.02  # at most 2% of clean lines flagged
    assert all(t["met"] is not False for t in scores["targets"].values())


def test_match_bank_json_contract(tiny_demo):
    # --preview: the session's shared demo must not get an app database (a run would keep its matches)
    out = json.loads(opsfin(tiny_demo.path, "match", "bank", "--preview", "--format", "json").stdout)
    assert set(out) == {"summary", "matches", "run"} and out["run"] is None
    s = out["summary"]
    assert set(s) == {"bank_lines", "auto", "suggested", "unmatched", "confirmed", "by_rule"}
    assert s["bank_lines"] == s["auto"] + s["suggested"] + s["unmatched"] + s["confirmed"]
    assert s["bank_lines"] == tiny_demo.sql("SELECT count(*) AS n FROM bank_transactions")["n"][0]
    rows = out["matches"]
    assert rows and all(
        set(r) == {"bank_txn_id", "doc_type", "doc_id", "rule", "score", "status", "match_id", "run_id"} for r in rows
    )
    assert {r["run_id"] for r in rows} == {None}  # nothing kept yet
    assert {r["doc_type"] for r in rows} <= {"ar_receipt", "ap_payment", "gl_entry"}
    assert {r["status"] for r in rows} <= {"auto", "suggested", "confirmed"}
    frame = pl.DataFrame(rows)
    auto = frame.filter(pl.col("status") == "auto")
    assert auto["bank_txn_id"].n_unique() == s["auto"]
    assert sum(s["by_rule"].values()) == s["auto"] + s["confirmed"]
    # a batch payment is one row per document, all under one match id
    batch = auto.filter(pl.col("rule") == "batch_payment")
    assert batch.height > batch["bank_txn_id"].n_unique()
    assert batch.group_by("bank_txn_id").agg(pl.col("match_id").n_unique())["match_id"].max() == 1
    # ... and the truth agrees pair by pair
    truth = load_bank_truth(tiny_demo.truth_dir)
    assert (
        auto.select("bank_txn_id", "doc_type", "doc_id")
        .join(truth, on=["bank_txn_id", "doc_type", "doc_id"], how="anti")
        .is_empty()
    )


def test_match_invoices_json_contract(tiny_demo):
    out = json.loads(opsfin(tiny_demo.path, "match", "invoices", "--format", "json").stdout)
    assert set(out) == {"summary", "lines"}
    lines = out["lines"]
    assert len(lines) == out["summary"]["lines"] == tiny_demo.sql("SELECT count(*) AS n FROM ap_invoice_lines")["n"][0]
    for ln in lines:
        assert set(ln) == {"invoice_id", "line", "status", "issues", "details"}
        assert ln["status"] in STATUSES
        assert ln["status"] == (ln["issues"][0] if ln["issues"] else "matched")
        assert "money_at_stake" in ln["details"]
        if ln["status"] == "matched":
            assert ln["details"]["money_at_stake"] == "0.00"
    assert out["summary"]["matched"] + sum(out["summary"][k] for k in STATUSES - {"matched"}) == len(lines)


def test_match_exceptions_and_eval_commands(tiny_demo):
    out = json.loads(opsfin(tiny_demo.path, "match", "exceptions", "--format", "json").stdout)
    assert set(out) == {"bank", "invoices"}
    assert all(r["reason"] for r in out["bank"])
    assert all(r["status"] != "matched" for r in out["invoices"])
    stakes = [float(r["details"]["money_at_stake"]) for r in out["invoices"]]
    assert stakes == sorted(stakes, reverse=True)  # most money at stake first
    report = opsfin(tiny_demo.path, "eval", "matching").stdout
    assert "all targets met" in report
    data = json.loads(opsfin(tiny_demo.path, "eval", "matching", "--format", "json").stdout)
    assert set(data) == {"bank", "invoices", "targets"}
