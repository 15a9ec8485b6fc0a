"""The hash-chained audit log: its hashes recomputed by hand, and `verify` catching each kind of tampering
done behind the app's back with raw SQL, on SQLite and PostgreSQL; `opsfin audit verify` and `audit list`."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from opsfin.appdb import open_app_db

pytest_plugins = ("appdb_fixtures",)  # the app_db_url and db fixtures (SQLite and PostgreSQL)

GENESIS = "0" * 64


def fill(db, n_comments: int = 4) -> None:
    """A small log: a user, a token, comments and an action (1 + 1 + n + 1 entries)."""
    db.add_user("ann", "admin", "pw-ann-long", actor="root")
    db.create_token("etl", "ann", actor="root")
    for i in range(n_comments):
        db.add_comment("ann", "kpi", "oee", f"note {i}")
    db.add_action("ann", "Fix", "bob", date(2025, 3, 1), Decimal("99.95"))


def test_entry_hashes_follow_the_documented_formula(db):
    fill(db)
    entries = sorted(db.audit_entries(), key=lambda e: e["seq"])
    assert [e["seq"] for e in entries] == list(range(1, 8))
    assert entries[0]["prev_hash"] == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
    for e in entries:  # sha256 over the canonical JSON, written out independently of the code
        body = {k: e[k] for k in ("seq", "actor", "action", "object_type", "object_id", "payload", "prev_hash")}
        body["at"] = e["at"].isoformat()
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(text.encode()).hexdigest() == e["hash"]
        assert e["at"].isoformat().endswith("+00:00")
    assert entries[-1]["payload"]["expected_impact"] == "99.95"
    assert db.audit_head() == (7, entries[-1]["hash"])
    assert db.verify_audit() == []


def test_audit_entries_newest_first_with_limit_and_type(db):
    fill(db)
    assert [e["seq"] for e in db.audit_entries(limit=3)] == [7, 6, 5]
    assert [e["seq"] for e in db.audit_entries(object_type="comment")] == [6, 5, 4, 3]
    assert [e["object_id"] for e in db.audit_entries(object_type="user")] == ["ann"]
    assert db.audit_entries(object_type="guardrail") == []


def test_an_empty_log_is_intact(db):
    assert db.verify_audit() == []
    assert db.audit_head() == (0, GENESIS)


def test_a_payload_edited_by_hand_is_detected(db, raw):
    fill(db)
    raw(db, "UPDATE audit_log SET payload = :p WHERE seq = 1", p='{"role":"viewer","sites":null}')
    assert db.verify_audit() == ["entry 1: contents do not match its hash (edited entry or edited hash)"]


def test_a_reformatted_payload_is_detected(db, raw):
    fill(db)
    [(payload,)] = raw(db, "SELECT payload FROM audit_log WHERE seq = 3")
    raw(db, "UPDATE audit_log SET payload = :p WHERE seq = 3", p=payload.replace(":", ": "))
    assert db.verify_audit() == ["entry 3: payload text is not in canonical form (edited)"]


@pytest.mark.parametrize(("column", "value"), [("actor", "mallory"), ("action", "user.disable"), ("object_id", "bob")])
def test_other_edited_fields_are_detected(db, column, value, raw):
    fill(db)
    raw(db, f"UPDATE audit_log SET {column} = :v WHERE seq = 2", v=value)
    assert db.verify_audit() == ["entry 2: contents do not match its hash (edited entry or edited hash)"]


def test_an_edited_hash_is_detected_and_breaks_the_next_link(db, raw):
    fill(db)
    raw(db, "UPDATE audit_log SET hash = :h WHERE seq = 4", h="f" * 64)
    assert db.verify_audit() == [
        "entry 4: contents do not match its hash (edited entry or edited hash)",
        "entry 5: prev_hash does not match entry 4 (chain broken)",
    ]


def test_a_row_deleted_from_the_middle_is_detected(db, raw):
    fill(db)
    raw(db, "DELETE FROM audit_log WHERE seq = 4")
    assert db.verify_audit() == ["entry 4 is missing (deleted)"]


def test_the_first_rows_deleted_are_detected(db, raw):
    fill(db)
    raw(db, "DELETE FROM audit_log WHERE seq <= 2")
    assert db.verify_audit() == ["entries 1–2 are missing (deleted)"]


def test_rows_deleted_from_the_end_are_detected_by_the_head(db, raw):
    fill(db)
    raw(db, "DELETE FROM audit_log WHERE seq >= 6")
    assert db.verify_audit() == ["entries 6–7 are missing (deleted) from the end of the log"]


def test_a_deleted_head_or_an_edited_head_is_detected(db, raw):
    fill(db)
    raw(db, "UPDATE audit_head SET hash = :h", h="0" * 64)
    assert db.verify_audit() == ["the audit head's hash does not match entry 7 (head or entry edited)"]
    raw(db, "DELETE FROM audit_head")
    assert db.verify_audit() == ["the audit head row is missing (deleted)"]


def test_an_anchor_kept_elsewhere_catches_a_rewritten_tail(db, raw):
    """The documented limit: someone with full write access who deletes the newest entries AND rewinds the
    head leaves a self-consistent log. Only a head written down elsewhere earlier (an anchor) shows it."""
    fill(db)
    anchor = db.audit_head()
    [(seq6_hash,)] = raw(db, "SELECT hash FROM audit_log WHERE seq = 6")
    raw(db, "DELETE FROM audit_log WHERE seq = 7")
    raw(db, "UPDATE audit_head SET seq = 6, hash = :h", h=seq6_hash)
    assert db.verify_audit() == []  # not detectable from inside the database
    assert db.verify_audit(anchor=anchor) == ["the anchored entry 7 is missing (log truncated or rewritten)"]
    assert db.verify_audit(anchor=(6, seq6_hash)) == []


def test_appends_after_verification_continue_the_chain(db):
    fill(db, n_comments=1)
    db.add_comment("bob", "alert", "alert:1", "later")
    entries = db.audit_entries(limit=2)
    assert entries[0]["prev_hash"] == entries[1]["hash"]
    assert db.verify_audit() == []


# ---------------------------------------------------------------- the CLI, as a real subprocess
def opsfin(ws_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "opsfin", *args, "-w", str(ws_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_audit_verify_and_list(workspace, raw):
    db = open_app_db(workspace)
    fill(db, n_comments=2)
    ok = opsfin(workspace.path, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0] == "audit log intact: 5 entries"
    seq, digest = db.audit_head()
    assert f"{seq}:{digest}" in ok.stdout

    listed = opsfin(workspace.path, "audit", "list", "--limit", "2", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(e["seq"], e["action"]) for e in json.loads(listed.stdout)] == [
        (5, "action.add"),
        (4, "comment.add"),
    ]

    raw(db, "UPDATE audit_log SET payload = :p WHERE seq = 3", p='{"body":"nothing to see"}')
    bad = opsfin(workspace.path, "audit", "verify")
    assert bad.returncode == 1
    assert "entry 3: contents do not match its hash" in bad.stderr
    assert "intact" not in bad.stdout

    anchored = opsfin(workspace.path, "audit", "verify", "--anchor", "nonsense")
    assert anchored.returncode == 2 and "--anchor 'nonsense'" in anchored.stderr
