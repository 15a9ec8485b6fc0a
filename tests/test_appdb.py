"""The app database (opsfin.appdb), every method on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import opsfin
from opsfin.appdb import (
    AppDB,
    AppDbError,
    LoginThrottled,
    Token,
    User,
    create_demo_users,
    open_app_db,
)
from opsfin.appdb.models import Base

pytest_plugins = ("appdb_fixtures",)  # the app_db_url and db fixtures (SQLite and PostgreSQL)

PASSWORD = "correct horse battery staple"


def audit_count(db: AppDB) -> int:
    return len(db.audit_entries())


# ---------------------------------------------------------------- migrations and opening
def test_migrations_create_the_tables_at_head_and_reopening_is_idempotent(db, app_db_url, raw):
    db.add_user("ann", "admin", PASSWORD)
    again = AppDB(app_db_url)  # runs the migrations again: nothing to do, nothing lost
    try:
        assert [u.name for u in again.list_users()] == ["ann"]
        assert raw(again, "SELECT version_num FROM alembic_version") == [("0003",)]
        names = set(sa.inspect(again.engine).get_table_names())
        assert {
            "users",
            "tokens",
            "sessions",
            "failed_logins",
            "comments",
            "actions",
            "match_decisions",
            "audit_log",
            "audit_head",
        } <= names
    finally:
        again.close()


def test_the_migration_matches_the_models(db):
    """Alembic autogenerate finds nothing to add: the migration and the typed models agree."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_a_bad_url_is_a_clear_error():
    with pytest.raises(AppDbError, match="not a database URL"):
        AppDB("no-such-thing")
    with pytest.raises(AppDbError, match="cannot open the app database") as caught:
        AppDB("postgresql://nobody:secret@127.0.0.1:1/none")  # plain postgresql:// means psycopg 3
    assert "postgresql+psycopg://nobody:***@" in str(caught.value) and "secret" not in str(caught.value)


def test_open_app_db_defaults_to_sqlite_in_the_workspace_and_is_cached(workspace):
    db = open_app_db(workspace)
    assert db.url.get_backend_name() == "sqlite"
    assert (workspace.path / "app.db").exists()
    assert open_app_db(workspace) is db
    assert db.login_attempts_per_minute == workspace.settings.web.login_attempts_per_minute


def test_open_app_db_reads_app_db_url_relative_to_the_workspace(tmp_path):
    ws = opsfin.init(tmp_path / "ws")
    (ws.path / "opsfin.yaml").write_text(
        "app_db:\n  url: sqlite:///people.db\nweb:\n  login_attempts_per_minute: 9\n",
        encoding="utf-8",
    )
    ws = opsfin.open(ws.path)
    db = open_app_db(ws)
    assert (ws.path / "people.db").exists()
    assert not (ws.path / "app.db").exists()
    assert db.login_attempts_per_minute == 9


# ---------------------------------------------------------------- users
def test_add_get_and_list_users(db):
    ann = db.add_user("ann", "admin", PASSWORD)
    bob = db.add_user("bob", "controller", PASSWORD, sites=["P1", "P2", "P1"])
    assert isinstance(ann, User)
    assert (ann.name, ann.role, ann.sites, ann.disabled) == ("ann", "admin", None, False)
    assert bob.sites == ("P1", "P2")
    assert ann.created_at.tzinfo is not None and ann.created_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - ann.created_at) < timedelta(minutes=1)
    assert db.get_user("bob") == bob
    assert db.get_user("nobody") is None
    assert [u.name for u in db.list_users()] == ["ann", "bob"]


@pytest.mark.parametrize(
    ("name", "role", "password", "sites", "message"),
    [
        ("ann", "admin", PASSWORD, None, "already exists"),
        ("cat", "superuser", PASSWORD, None, "role 'superuser'"),
        ("cat", "viewer", "", None, "password must not be empty"),
        ("cat", "viewer", "   ", None, "password must not be empty"),
        ("", "viewer", PASSWORD, None, "user name must not be empty"),
        ("two words", "viewer", PASSWORD, None, "user name 'two words'"),
        ("cat", "viewer", PASSWORD, [], "at least one site"),
    ],
)
def test_add_user_refuses_bad_input_and_records_nothing(db, name, role, password, sites, message):
    db.add_user("ann", "admin", PASSWORD)
    before = audit_count(db)
    with pytest.raises(AppDbError, match=message):
        db.add_user(name, role, password, sites=sites)
    assert [u.name for u in db.list_users()] == ["ann"]
    assert audit_count(db) == before


def test_passwords_are_stored_as_argon2_hashes_only(db, raw):
    db.add_user("ann", "admin", PASSWORD)
    [(stored,)] = raw(db, "SELECT password_hash FROM users")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_weak_hash_is_upgraded_at_the_next_login(db, raw):
    from argon2 import PasswordHasher

    db.add_user("ann", "admin", PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    raw(db, "UPDATE users SET password_hash = :h", h=weak)
    assert db.authenticate("ann", PASSWORD) is not None
    [(stored,)] = raw(db, "SELECT password_hash FROM users")
    assert stored != weak and ",t=3," in stored and "m=65536" in stored
    assert db.authenticate("ann", PASSWORD) is not None


def test_disable_user(db):
    db.add_user("ann", "admin", PASSWORD)
    assert db.disable_user("ann", actor="root").disabled is True
    assert db.get_user("ann").disabled is True
    assert db.authenticate("ann", PASSWORD) is None
    with pytest.raises(AppDbError, match="no user named 'zed'"):
        db.disable_user("zed", actor="root")


# ---------------------------------------------------------------- logins and the rate limit
def test_authenticate(db):
    db.add_user("ann", "analyst", PASSWORD)
    assert db.authenticate("ann", PASSWORD).name == "ann"
    assert db.authenticate("ann", "wrong") is None
    assert db.authenticate("nobody", PASSWORD) is None


def test_failed_logins_are_throttled_per_name_and_client(db, raw):
    db.add_user("ann", "analyst", PASSWORD)
    for _ in range(db.login_attempts_per_minute):
        assert db.authenticate("ann", "wrong", client="10.0.0.1") is None
    with pytest.raises(LoginThrottled) as caught:
        db.authenticate("ann", PASSWORD, client="10.0.0.1")  # even the right password: guessing must stop
    assert 1 <= caught.value.retry_after <= 60
    assert db.authenticate("ann", PASSWORD, client="10.0.0.2").name == "ann"  # another client is not blocked
    # Once the failures are more than 60 s old, the client may try again.
    old = datetime.now(UTC) - timedelta(seconds=61)
    raw(
        db,
        "UPDATE failed_logins SET at = :at",
        at=old.replace(tzinfo=None) if db.url.get_backend_name() == "sqlite" else old,
    )
    assert db.authenticate("ann", PASSWORD, client="10.0.0.1").name == "ann"


def test_a_successful_login_clears_the_failures(db):
    db.add_user("ann", "analyst", PASSWORD)
    for _ in range(db.login_attempts_per_minute - 1):
        db.authenticate("ann", "wrong", client="c")
    assert db.authenticate("ann", PASSWORD, client="c") is not None
    for _ in range(db.login_attempts_per_minute - 1):  # would reach the limit if the earlier failures still counted
        db.authenticate("ann", "wrong", client="c")
    assert db.authenticate("ann", PASSWORD, client="c") is not None


def test_unknown_users_are_throttled_too(db):
    for _ in range(db.login_attempts_per_minute):
        assert db.authenticate("ghost", "guess", client="c") is None
    with pytest.raises(LoginThrottled):
        db.authenticate("ghost", "guess", client="c")


# ---------------------------------------------------------------- tokens
def test_tokens_are_shown_once_and_stored_as_sha256(db, raw):
    db.add_user("ann", "viewer", PASSWORD, sites=["P1"])
    token = db.create_token("etl", "ann", actor="root")
    assert token.startswith("opsfin_") and len(token) == len("opsfin_") + 40
    [(name, stored)] = raw(db, "SELECT name, token_hash FROM tokens")
    assert (name, stored) == ("etl", hashlib.sha256(token.encode()).hexdigest())
    assert db.user_for_token(token).name == "ann"
    assert db.user_for_token(token).sites == ("P1",)
    assert db.user_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert db.user_for_token("") is None
    assert db.create_token("etl2", "ann", actor="root") != token


def test_list_and_revoke_tokens(db):
    db.add_user("ann", "viewer", PASSWORD)
    db.add_user("bob", "viewer", PASSWORD)
    t1 = db.create_token("a-token", "ann", actor="root")
    db.create_token("b-token", "bob", actor="root")
    assert [(t.name, t.user, t.revoked) for t in db.list_tokens()] == [
        ("a-token", "ann", False),
        ("b-token", "bob", False),
    ]
    assert [t.name for t in db.list_tokens(user="bob")] == ["b-token"]
    revoked = db.revoke_token("a-token", actor="root")
    assert isinstance(revoked, Token) and revoked.revoked
    assert db.user_for_token(t1) is None
    assert [t.revoked for t in db.list_tokens()] == [True, False]
    with pytest.raises(AppDbError, match="no token named 'zzz'"):
        db.revoke_token("zzz", actor="root")


def test_token_mistakes(db):
    db.add_user("ann", "viewer", PASSWORD)
    db.create_token("etl", "ann", actor="root")
    with pytest.raises(AppDbError, match="already exists"):
        db.create_token("etl", "ann", actor="root")
    with pytest.raises(AppDbError, match="no user named 'bob'"):
        db.create_token("x", "bob", actor="root")
    db.disable_user("ann", actor="root")
    with pytest.raises(AppDbError, match="disabled"):
        db.create_token("y", "ann", actor="root")


def test_a_disabled_users_token_stops_working(db):
    db.add_user("ann", "viewer", PASSWORD)
    token = db.create_token("etl", "ann", actor="root")
    db.disable_user("ann", actor="root")
    assert db.user_for_token(token) is None


# ---------------------------------------------------------------- sessions
def test_sessions(db, raw):
    ann = db.add_user("ann", "analyst", PASSWORD)
    sid = db.create_session(ann, hours=2)
    assert db.user_for_session(sid) == ann
    [(stored, created, expires)] = raw(db, "SELECT session_hash, created_at, expires_at FROM sessions")
    assert stored == hashlib.sha256(sid.encode()).hexdigest()
    if isinstance(created, str):  # SQLite hands back the stored text
        created, expires = datetime.fromisoformat(created), datetime.fromisoformat(expires)
    assert expires - created == timedelta(hours=2)
    db.end_session(sid)
    assert db.user_for_session(sid) is None
    db.end_session(sid)  # twice is fine
    assert db.user_for_session("not-a-session") is None


def test_expired_and_disabled_sessions_end(db, raw):
    db.add_user("ann", "analyst", PASSWORD)
    db.add_user("bob", "analyst", PASSWORD)
    sid = db.create_session("ann")
    past = datetime.now(UTC) - timedelta(seconds=1)
    raw(
        db,
        "UPDATE sessions SET expires_at = :t",
        t=past.replace(tzinfo=None) if db.url.get_backend_name() == "sqlite" else past,
    )
    assert db.user_for_session(sid) is None
    bob_sid = db.create_session("bob")
    db.disable_user("bob", actor="root")
    assert db.user_for_session(bob_sid) is None
    with pytest.raises(AppDbError, match="no active user"):
        db.create_session("bob")


# ---------------------------------------------------------------- comments
def test_comments(db):
    first = db.add_comment("ann", "kpi", "oee", "Why did OEE drop at P1?", site="P1")
    db.add_comment("bob", "alert", "alert:42", "Maintenance is on it.")
    third = db.add_comment("cat", "kpi", "oee", "Planned downtime.", site="P1")
    assert set(first) == {"id", "at", "author", "subject_type", "subject_id", "body", "site"}
    assert (first["author"], first["subject_type"], first["subject_id"], first["site"]) == (
        "ann",
        "kpi",
        "oee",
        "P1",
    )
    assert first["at"].utcoffset() == timedelta(0)
    assert [c["id"] for c in db.list_comments()] == [first["id"], first["id"] + 1, third["id"]]
    assert [c["body"] for c in db.list_comments("kpi", "oee")] == [
        "Why did OEE drop at P1?",
        "Planned downtime.",
    ]
    assert [c["author"] for c in db.list_comments(subject_type="alert")] == ["bob"]
    assert db.list_comments("kpi", "dso") == []


@pytest.mark.parametrize(
    ("subject_type", "subject_id", "body", "message"),
    [
        ("dashboard", "x", "hi", "subject_type 'dashboard'"),
        ("kpi", "", "hi", "subject_id must not be empty"),
        ("kpi", "oee", "  ", "comment must not be empty"),
    ],
)
def test_comment_mistakes(db, subject_type, subject_id, body, message):
    with pytest.raises(AppDbError, match=message):
        db.add_comment("ann", subject_type, subject_id, body)
    assert db.list_comments() == [] and audit_count(db) == 0


# ---------------------------------------------------------------- actions
def test_add_action_round_trips_money_and_dates_exactly(db):
    action = db.add_action(
        "ann",
        "Fix the press",
        "bob",
        date(2025, 3, 31),
        Decimal("12345678901234.56"),
        subject_type="alert",
        subject_id="alert:7",
        site="P1",
        description="Replace the seal",
    )
    assert action["status"] == "open"
    assert action["created_by"] == "ann"
    stored = db.get_action(action["id"])
    assert stored == action
    assert stored["expected_impact"] == Decimal("12345678901234.56")
    assert isinstance(stored["expected_impact"], Decimal)
    assert stored["due"] == date(2025, 3, 31) and type(stored["due"]) is date
    assert (stored["subject_type"], stored["subject_id"], stored["site"]) == (
        "alert",
        "alert:7",
        "P1",
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (Decimal("0.1"), Decimal("0.10")),
        (Decimal("-0.01"), Decimal("-0.01")),
        ("1250.5", Decimal("1250.50")),
        (7, Decimal("7.00")),
        (Decimal("1.230"), Decimal("1.23")),
        (Decimal("-9999999999999999.99"), Decimal("-9999999999999999.99")),
    ],
)
def test_expected_impact_is_exact_money(db, given, kept):
    action = db.add_action("ann", "t", "bob", date(2025, 1, 1), given)
    got = db.get_action(action["id"])["expected_impact"]
    assert got == kept and str(got) == str(kept)


@pytest.mark.parametrize(
    "bad",
    [
        Decimal("1.005"),
        Decimal("NaN"),
        Decimal("Infinity"),
        1.5,
        "abc",
        Decimal("10000000000000000"),
        "1e308",
        Decimal("1E+400"),
    ],
)
def test_expected_impact_refuses_inexact_amounts(db, bad):
    with pytest.raises(AppDbError, match="expected_impact"):
        db.add_action("ann", "t", "bob", date(2025, 1, 1), bad)
    assert db.list_actions() == [] and audit_count(db) == 0


def test_money_is_numeric_on_postgresql_and_text_on_sqlite(db, raw):
    db.add_action("ann", "t", "bob", date(2025, 1, 1), Decimal("0.10"))
    [(value,)] = raw(db, "SELECT expected_impact FROM actions")
    if db.url.get_backend_name() == "sqlite":
        assert value == "0.10"
    else:
        assert value == Decimal("0.10") and isinstance(value, Decimal)
        [(kind,)] = raw(
            db,
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'actions' AND column_name = 'expected_impact' "
            "AND table_schema = current_schema()",
        )
        assert kind == "numeric"


def test_update_action(db):
    action = db.add_action("ann", "Fix", "bob", date(2025, 3, 1), Decimal("100.00"))
    updated = db.update_action(
        "cat",
        action["id"],
        status="in_progress",
        owner="dan",
        due=date(2025, 4, 1),
        expected_impact=Decimal("250.25"),
        title="Fix now",
        description="soon",
    )
    assert {k: updated[k] for k in ("status", "owner", "due", "expected_impact", "title", "description")} == {
        "status": "in_progress",
        "owner": "dan",
        "due": date(2025, 4, 1),
        "expected_impact": Decimal("250.25"),
        "title": "Fix now",
        "description": "soon",
    }
    assert updated["updated_at"] > action["updated_at"]
    assert db.get_action(action["id"]) == updated
    entry = db.audit_entries(limit=1)[0]
    assert entry["action"] == "action.update" and entry["actor"] == "cat"
    assert entry["payload"]["changes"]["expected_impact"] == {"before": "100.00", "after": "250.25"}
    assert entry["payload"]["changes"]["status"] == {"before": "open", "after": "in_progress"}


def test_update_action_mistakes(db):
    action = db.add_action("ann", "Fix", "bob", date(2025, 3, 1), Decimal("1"))
    with pytest.raises(AppDbError, match="status 'closed'"):
        db.update_action("ann", action["id"], status="closed")
    with pytest.raises(AppDbError, match="no action with id 999"):
        db.update_action("ann", 999, status="done")
    with pytest.raises(AppDbError, match="cannot change created_by"):
        db.update_action("ann", action["id"], created_by="eve")
    with pytest.raises(AppDbError, match="due"):
        db.update_action("ann", action["id"], due="next week")
    assert db.get_action(action["id"]) == action
    assert db.get_action(999) is None
    # ids no table can hold name no action (not a database overflow)
    assert db.get_action(2**31) is None and db.get_action(10**30) is None
    with pytest.raises(AppDbError, match="no action with id"):
        db.update_action("ann", 10**30, status="done")


def test_list_actions_and_overdue(db):
    def add(title, due, status):
        a = db.add_action("ann", title, "bob", due, Decimal("1.00"))
        if status != "open":
            db.update_action("ann", a["id"], status=status)

    add("a", date(2025, 3, 10), "in_progress")
    add("b", date(2025, 3, 1), "open")
    add("c", date(2025, 3, 12), "open")  # due today: not overdue yet
    add("d", date(2025, 3, 5), "done")
    add("e", date(2025, 2, 1), "dropped")
    add("f", date(2025, 3, 20), "open")
    assert [a["title"] for a in db.list_actions()] == ["a", "b", "c", "d", "e", "f"]
    assert [a["title"] for a in db.list_actions(status="open")] == ["b", "c", "f"]
    assert [a["title"] for a in db.overdue_actions(date(2025, 3, 12))] == ["b", "a"]
    assert db.overdue_actions(date(2025, 3, 1)) == []


# ---------------------------------------------------------------- guardrails and match decisions
def test_record_guardrail_change(db):
    db.record_guardrail_change("ann", "oee", None, {"min": 0.6, "by": "site"})
    db.record_guardrail_change("ann", "oee", {"min": 0.6, "by": "site"}, {"min": 0.65, "by": "site"})
    db.record_guardrail_change("bob", "oee", {"min": 0.65, "by": "site"}, None)
    entries = db.audit_entries(object_type="guardrail")
    assert [e["action"] for e in entries] == [
        "guardrail.remove",
        "guardrail.change",
        "guardrail.add",
    ]
    assert entries[1]["payload"] == {
        "before": {"min": 0.6, "by": "site"},
        "after": {"min": 0.65, "by": "site"},
    }
    assert {e["object_id"] for e in entries} == {"oee"}


def test_match_decisions_keep_the_latest_per_match(db):
    db.record_match_decision("ann", "bank", "m1", "confirmed", {"amount": Decimal("120.50"), "invoice": "INV-1"})
    db.record_match_decision("ann", "invoice", "m1", "rejected", {})
    last = db.record_match_decision("bob", "bank", "m1", "rejected", {"reason": "wrong customer"})
    db.record_match_decision("bob", "bank", "m2", "confirmed", {"on": date(2025, 1, 31)})
    assert set(last) == {"kind", "match_id", "decision", "payload", "actor", "at"}
    bank = db.match_decisions(kind="bank")
    assert [(d["match_id"], d["decision"], d["actor"]) for d in bank] == [
        ("m1", "rejected", "bob"),
        ("m2", "confirmed", "bob"),
    ]
    assert bank[1]["payload"] == {"on": "2025-01-31"}
    assert len(db.match_decisions()) == 3
    assert len(db.audit_entries(object_type="match")) == 4
    with pytest.raises(AppDbError, match="kind 'cash'"):
        db.record_match_decision("ann", "cash", "m3", "confirmed", {})
    with pytest.raises(AppDbError, match="decision 'maybe'"):
        db.record_match_decision("ann", "bank", "m3", "maybe", {})


# ---------------------------------------------------------------- audit of every change
def test_every_change_writes_one_audit_entry(db):
    steps = [
        (lambda: db.add_user("ann", "admin", PASSWORD, actor="root"), "user.add", "user", "ann"),
        (lambda: db.create_token("etl", "ann", actor="root"), "token.create", "token", "etl"),
        (lambda: db.revoke_token("etl", actor="root"), "token.revoke", "token", "etl"),
        (lambda: db.add_comment("ann", "kpi", "oee", "hi"), "comment.add", "comment", "1"),
        (
            lambda: db.add_action("ann", "t", "bob", date(2025, 1, 1), Decimal("1")),
            "action.add",
            "action",
            "1",
        ),
        (lambda: db.update_action("ann", 1, status="done"), "action.update", "action", "1"),
        (
            lambda: db.record_guardrail_change("ann", "oee", None, {"min": 0.5}),
            "guardrail.add",
            "guardrail",
            "oee",
        ),
        (
            lambda: db.record_match_decision("ann", "bank", "m1", "confirmed", {}),
            "match.confirmed",
            "match",
            "bank:m1",
        ),
        (lambda: db.disable_user("ann", actor="root"), "user.disable", "user", "ann"),
    ]
    for n, (change, action, object_type, object_id) in enumerate(steps, start=1):
        change()
        newest = db.audit_entries()
        assert len(newest) == n, action
        assert (
            newest[0]["seq"],
            newest[0]["action"],
            newest[0]["object_type"],
            newest[0]["object_id"],
        ) == (n, action, object_type, object_id)
    # Changes that change nothing record nothing.
    db.revoke_token("etl", actor="root")
    db.disable_user("ann", actor="root")
    db.update_action("ann", 1, status="done")
    assert audit_count(db) == len(steps)
    assert db.verify_audit() == []


def test_audit_payloads_hold_no_secrets(db, raw):
    db.add_user("ann", "admin", PASSWORD)
    token = db.create_token("etl", "ann", actor="root")
    sid = db.create_session("ann")
    [(password_hash,)] = raw(db, "SELECT password_hash FROM users")
    secrets = [PASSWORD, password_hash, token, hashlib.sha256(token.encode()).hexdigest(), sid]
    stored = " ".join(str(row) for row in raw(db, "SELECT * FROM audit_log"))
    assert not [s for s in secrets if s in stored]
    assert db.audit_entries(object_type="token")[0]["payload"] == {"user": "ann"}


def test_a_failed_change_leaves_no_audit_entry(db):
    db.add_user("ann", "admin", PASSWORD)
    with pytest.raises(AppDbError):
        db.create_token("etl", "nobody", actor="root")
    with pytest.raises(AppDbError):
        db.update_action("ann", 1, status="done")
    assert audit_count(db) == 1 and db.verify_audit() == []


def test_concurrent_writers_from_threads_keep_one_unbroken_chain(db):
    """Comments (write first) and action updates (read first, then write) from 6 threads at once."""
    threads, per_thread, errors = 6, 5, []
    actions = [
        db.add_action("ann", f"action {n}", "bob", date(2025, 1, 1), Decimal("1.00"))["id"] for n in range(threads)
    ]
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                db.add_comment(f"user{n}", "kpi", "oee", f"comment {i} from thread {n}")
                db.update_action(f"user{n}", actions[n], title=f"action {n}, round {i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert len(db.list_comments()) == threads * per_thread
    assert [a["title"] for a in db.list_actions()] == [f"action {n}, round {per_thread - 1}" for n in range(threads)]
    total = threads + 2 * threads * per_thread
    assert [e["seq"] for e in db.audit_entries()] == list(range(total, 0, -1))
    assert db.verify_audit() == []


# ---------------------------------------------------------------- demo users
def add_sites(ws, rows):
    with ws.connect() as con:
        for site_id, kind in rows:
            con.execute(
                "INSERT INTO sites (site_id, name, kind, region, std_energy_price, _load_id) "
                "VALUES (?, ?, ?, 'EU', 0.15, 'test')",
                [site_id, f"{site_id} site", kind],
            )


def test_create_demo_users_once(workspace):
    add_sites(workspace, [("W1", "warehouse"), ("P2", "plant"), ("P1", "plant")])
    created = create_demo_users(workspace)
    assert [(n, r, s) for n, r, s, _ in created] == [
        ("admin", "admin", None),
        ("plant-manager", "controller", ("P1",)),
    ]
    passwords = {n: p for n, _, _, p in created}
    assert len(set(passwords.values())) == 2 and all(len(p) >= 16 for p in passwords.values())
    db = open_app_db(workspace)
    assert db.authenticate("admin", passwords["admin"]).role == "admin"
    assert db.authenticate("plant-manager", passwords["plant-manager"]).sites == ("P1",)
    assert create_demo_users(workspace) == []  # idempotent: nothing reset
    assert db.authenticate("admin", passwords["admin"]) is not None
    assert [e["actor"] for e in db.audit_entries()] == ["demo", "demo"]


def test_create_demo_users_without_a_plant(workspace):
    assert [(n, r) for n, r, _, _ in create_demo_users(workspace)] == [("admin", "admin")]


# ---------------------------------------------------------------- reconciliation runs (migration 0002)
def test_an_app_db_at_revision_0001_is_upgraded_with_its_data_intact(app_db_url, raw):
    from opsfin.appdb.migrate import upgrade

    old = AppDB(app_db_url, migrate=False)
    try:
        upgrade(old.engine.execution_options(opsfin_write=True), "0001")  # an app.db from before runs
        assert raw(old, "SELECT version_num FROM alembic_version") == [("0001",)]
        assert "match_runs" not in sa.inspect(old.engine).get_table_names()
        old.add_user("ann", "controller", PASSWORD)
        old.record_match_decision(
            "ann",
            "bank",
            "B0123456789abcdef",
            "confirmed",
            {"pairs": [["L1", "ar_receipt", "R1"]], "rule": "exact_reference", "score": 1.0},
        )
        before = old.audit_entries()
    finally:
        old.close()
    db = AppDB(app_db_url)  # opening migrates to head
    try:
        assert raw(db, "SELECT version_num FROM alembic_version") == [("0003",)]
        assert {"match_runs", "kept_matches"} <= set(sa.inspect(db.engine).get_table_names())
        assert [u.name for u in db.list_users()] == ["ann"]
        assert [(d["match_id"], d["decision"]) for d in db.match_decisions()] == [("B0123456789abcdef", "confirmed")]
        assert db.audit_entries() == before and db.verify_audit() == []
        assert db.match_runs() == [] and db.kept_matches() == [] and db.latest_match_run() is None
    finally:
        db.close()


RUN_COUNTS = {"bank_lines": 4, "kept": 2, "kept_lines": 2, "suggested": 1, "unmatched": 1}
KEPT = [
    ("Baaaaaaaaaaaaaaaa", "L1", "ar_receipt", "R1", "exact_reference", 1.0),
    ("Bbbbbbbbbbbbbbbbb", "L2", "ap_payment", "P1", "batch_payment", 0.98),
    ("Bbbbbbbbbbbbbbbbb", "L2", "ap_payment", "P2", "batch_payment", 0.98),
]


def test_a_run_keeps_its_matches_with_one_audit_entry(db):
    entries = audit_count(db)
    run = db.record_match_run(
        "ann",
        KEPT,
        RUN_COUNTS,
        date_from=date(2024, 4, 1),
        date_to=date(2024, 4, 30),
        through=date(2024, 4, 29),
    )
    assert (run["run_id"], run["actor"], run["kept"], run["through"]) == (
        1,
        "ann",
        2,
        date(2024, 4, 29),
    )
    assert db.kept_matches() == [(1, *row) for row in KEPT]
    assert audit_count(db) == entries + 1  # one entry for the run, not one per match
    entry = db.audit_entries(limit=1)[0]
    assert (entry["action"], entry["object_type"], entry["object_id"]) == (
        "match.run",
        "match",
        "run:1",
    )
    assert entry["payload"] == {
        "run_id": 1,
        "from": "2024-04-01",
        "to": "2024-04-30",
        "through": "2024-04-29",
        "counts": RUN_COUNTS,
    }
    second = db.record_match_run("ben", KEPT[:1], RUN_COUNTS, based_on=1)
    assert second["run_id"] == 2 and db.latest_match_run()["run_id"] == 2
    assert [r["actor"] for r in db.match_runs()] == ["ann", "ben"]
    assert db.verify_audit() == []


def test_a_run_computed_before_another_was_recorded_is_refused_and_writes_nothing(db):
    db.record_match_run("ann", KEPT, RUN_COUNTS)
    entries, kept = audit_count(db), db.kept_matches()
    with pytest.raises(AppDbError, match=r"run 1 \(by ann\) was recorded after this reconciliation was computed"):
        db.record_match_run("ben", KEPT[:1], RUN_COUNTS, based_on=None)
    with pytest.raises(AppDbError, match="at least one auto match"):
        db.record_match_run("ben", [], RUN_COUNTS, based_on=1)
    with pytest.raises(AppDbError, match="kept, kept_lines"):
        db.record_match_run("ben", KEPT, {"bank_lines": 1}, based_on=1)
    assert (audit_count(db), db.kept_matches(), len(db.match_runs())) == (entries, kept, 1)
