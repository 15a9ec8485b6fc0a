"""Confirming and rejecting matches: what a decision records, checked against the decisions so far. The
I/O layer (`opsfin.runs.matching`) reads those from the app database and records the decision there,
which audits each one.

- A bank match is confirmed or rejected by its id (`B…`), an invoice line by its id (`I…`); ids are
  stable across runs (`ids.py`), so a decision holds for every later run.
- Confirming checks that none of the match's bank lines or documents is already in another
  confirmed match (a clear error names the other match); the engine keeps confirmed matches as
  they are and takes their lines and documents out of the pool.
- A rejected match is never proposed again. Rejecting a confirmed match undoes the confirmation;
  rejecting an auto match kept by a run (`runs.record_bank_run`) frees its lines and documents.
- The latest decision per id counts (`AppDB.match_decisions`)."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..errors import UserError
from .bank import BankDecisions, BankReconciliation
from .invoices import InvoiceMatch

DECISIONS = ("confirmed", "rejected")


def kind_of(match_id: str) -> str:
    """'bank' for `B…` ids, 'invoice' for `I…` ids."""
    if match_id.startswith("B") and len(match_id) == 17:
        return "bank"
    if match_id.startswith("I") and len(match_id) == 17:
        return "invoice"
    raise UserError(
        f"{match_id!r} is not a match id (bank matches are B + 16 hex digits, invoice lines I + 16; "
        "see `opsfin match bank` / `opsfin match invoices`)"
    )


def bank_decisions(records: list[dict[str, Any]]) -> BankDecisions:
    """The engine's view of `AppDB.match_decisions("bank")`, in the order decided. (Should two people
    confirm overlapping matches at once, the engine keeps only the first.)"""
    confirmed: dict[str, dict] = {}
    rejected = set()
    for r in records:
        if r["kind"] != "bank":
            continue
        if r["decision"] == "rejected":
            rejected.add(r["match_id"])
        else:
            confirmed[r["match_id"]] = {
                **r["payload"],
                "pairs": [tuple(p) for p in r["payload"].get("pairs", [])],
            }
    return BankDecisions(confirmed, frozenset(rejected))


def invoice_decisions(records: list[dict[str, Any]]) -> dict[str, dict]:
    """match_id -> {decision, actor, at} of the invoice lines decided so far."""
    return {
        r["match_id"]: {"decision": r["decision"], "actor": r["actor"], "at": r["at"]}
        for r in records
        if r["kind"] == "invoice"
    }


def _bank_payload(rows: pl.DataFrame) -> dict:
    pairs = sorted(rows.select("bank_txn_id", "doc_type", "doc_id").unique().iter_rows())
    out = {
        "pairs": [list(p) for p in pairs],
        "rule": rows["rule"][0],
        "score": rows["score"][0],
        "status": rows["status"][0],
    }
    if "run_id" in rows.columns and rows["run_id"][0] is not None:
        out["kept_by_run"] = rows["run_id"][0]  # an auto match kept by that run
    return out


def bank_decision(records: list[dict[str, Any]], match_id: str, decision: str, run: BankReconciliation) -> dict:
    """The payload to record for a decision on bank match `match_id` of `run` (the current reconciliation),
    given the bank decisions so far (`records`, as `AppDB.match_decisions("bank")` returns them). A
    UserError says why the decision cannot be taken."""
    if decision not in DECISIONS:
        raise UserError(f"decision {decision!r}: choose one of {', '.join(DECISIONS)}")
    rows = run.matches.filter(pl.col("match_id") == match_id)
    if rows.is_empty():
        for r in records:
            if r["match_id"] == match_id and r["decision"] == "rejected":
                raise UserError(
                    f"bank match {match_id} was rejected by {r['actor']}; a rejected match is never proposed again"
                )
        raise UserError(
            f"no bank match {match_id} in the current reconciliation (it may have been rejected, or its "
            "lines matched otherwise); list them with `opsfin match bank`"
        )
    status = rows["status"][0]
    if decision == "confirmed" and status == "confirmed":
        raise UserError(f"bank match {match_id} is already confirmed")
    payload = _bank_payload(rows)
    if decision == "confirmed":
        _check_free(records, match_id, payload["pairs"])
    return payload


def _check_free(records: list[dict[str, Any]], match_id: str, pairs: list[list[str]]) -> None:
    lines = {p[0] for p in pairs}
    docs = {(p[1], p[2]) for p in pairs}
    for other_id, other in bank_decisions(records).confirmed.items():
        if other_id == match_id:
            continue
        for b, t, d in other["pairs"]:
            if b in lines:
                raise UserError(f"bank line {b} is already in confirmed match {other_id}; reject that one first")
            if (t, d) in docs:
                raise UserError(f"{t} {d} is already in confirmed match {other_id}; reject that one first")


def invoice_decision(match_id: str, decision: str, run: InvoiceMatch) -> dict:
    """The payload to record for a decision on invoice line `match_id` of `run` (confirm: accept it as it
    is, e.g. an agreed price; reject: dispute it — it stays in the exception queue)."""
    if decision not in DECISIONS:
        raise UserError(f"decision {decision!r}: choose one of {', '.join(DECISIONS)}")
    rows = run.lines.filter(pl.col("match_id") == match_id)
    if rows.is_empty():
        raise UserError(f"no invoice line {match_id}; list them with `opsfin match invoices`")
    row = rows.row(0, named=True)
    if row["decision"] == decision:
        raise UserError(f"invoice line {match_id} is already {decision}")
    return {
        "invoice_id": row["invoice_id"],
        "line": row["line"],
        "status": row["status"],
        "issues": row["issues"],
        "money_at_stake": row["money_at_stake"],
    }
