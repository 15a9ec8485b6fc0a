"""Accounts after NIST SP 800-63B (docs/security.md): a minimum length, no common password, new users
at the least privilege, and an admin can enable a user again and set a password — each audited."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from opsfin.appdb import AppDbError, open_app_db
from opsfin.cli import app as cli_app
from opsfin.web import create_app
from web_support import PASSWORD, TestClient, add_people, copy_workspace

pytest_plugins = ("appdb_fixtures",)  # the db fixture: SQLite and PostgreSQL


# ---------------------------------------------------------------- the password rules
@pytest.mark.parametrize(
    "password,message",
    [
        ("x", "at least 8 characters"),
        ("seven77", "at least 8 characters"),  # 7 characters
        ("baseball", "most common passwords"),  # 8 characters, but in the list
        ("PassWord1", "most common passwords"),  # the list is compared without case
        ("x" * 129, "at most 128 characters"),
        ("Grace-Hopper", "not be the user name"),
        ("        ", "must not be empty"),
    ],
)
def test_weak_passwords_are_refused(db, password, message):
    with pytest.raises(AppDbError, match=message):
        db.add_user("grace-hopper", "viewer", password)
    assert db.list_users() == [] and db.audit_entries() == []


@pytest.mark.parametrize("password", ["eight ch", "a" * 8 + "b", "ä long passphrase with spaces " * 2 + "1234"])
def test_long_enough_uncommon_passwords_and_64_character_passphrases_are_taken(db, password):
    assert len(password) >= 8
    db.add_user("grace", "viewer", password)
    assert db.authenticate("grace", password).name == "grace"


def test_the_list_holds_ten_thousand_passwords():
    from opsfin.appdb.passwords import common_passwords

    common = common_passwords()
    assert len(common) == 10_000 and {"123456", "password", "qwerty", "iloveyou"} <= common


# ---------------------------------------------------------------- enable and set a password, audited
def test_a_disabled_user_can_be_enabled_again(db):
    db.add_user("ann", "analyst", PASSWORD, actor="root")
    db.disable_user("ann", actor="root")
    assert db.authenticate("ann", PASSWORD) is None
    assert db.enable_user("ann", actor="root").disabled is False
    assert db.authenticate("ann", PASSWORD).name == "ann"
    assert [(e["actor"], e["action"], e["object_id"]) for e in db.audit_entries()][:2] == [
        ("root", "user.enable", "ann"),
        ("root", "user.disable", "ann"),
    ]
    with pytest.raises(AppDbError, match="no user named 'zed'"):
        db.enable_user("zed")


def test_an_admin_sets_a_password_and_the_users_sessions_end(db):
    db.add_user("ann", "analyst", PASSWORD, actor="root")
    session = db.create_session("ann")
    with pytest.raises(AppDbError, match="at least 8"):
        db.set_password("ann", "short", actor="root")
    db.set_password("ann", "a new long passphrase", actor="root")
    assert db.authenticate("ann", PASSWORD) is None
    assert db.authenticate("ann", "a new long passphrase").name == "ann"
    assert db.user_for_session(session) is None
    entry = db.audit_entries()[0]
    assert (entry["actor"], entry["action"], entry["object_id"]) == (
        "root",
        "user.set_password",
        "ann",
    )
    assert "passphrase" not in str(entry["payload"])


# ---------------------------------------------------------------- the CLI
def cli(ws, *args: str, input: str | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(cli_app, [*args, "-w", str(ws.path)], input=input)


def test_cli_default_role_is_viewer_and_enable_and_set_password(tiny_demo, tmp_path):
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    assert cli(ws, "users", "add", "newbie", "--password-stdin", input="first long pass\n").exit_code == 0
    db = open_app_db(ws)
    assert db.get_user("newbie").role == "viewer"
    short = cli(ws, "users", "add", "cat", "--password-stdin", input="1234567\n")
    assert short.exit_code != 0 and "at least 8 characters" in str(short.exception)
    assert cli(ws, "users", "disable", "newbie").exit_code == 0
    enabled = cli(ws, "users", "enable", "newbie")
    assert enabled.exit_code == 0 and enabled.stdout.strip() == "user newbie enabled"
    reset = cli(ws, "users", "set-password", "newbie", "--password-stdin", input="second long pass\n")
    assert reset.exit_code == 0, reset.output
    assert db.authenticate("newbie", "second long pass").name == "newbie"
    assert [e["action"] for e in db.audit_entries()][:3] == [
        "user.set_password",
        "user.enable",
        "user.disable",
    ]


# ---------------------------------------------------------------- the admin page
@pytest.fixture
def admin(tiny_demo, tmp_path):
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    url = f"sqlite:///{tmp_path}/app.db"
    db, _ = add_people(url)
    client = TestClient(create_app(ws.path, app_db_url=url))
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token, "next": "/admin"})
    admin_page = client.get("/admin")
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', admin_page.text).group(1)
    yield client, db, csrf, admin_page.text
    db.close()


def test_the_add_user_form_defaults_to_viewer(admin):
    client, db, csrf, page = admin
    assert re.search(r"<option selected>viewer</option>", page)
    assert "<option selected>admin" not in page
    made = client.post(
        "/admin/users",
        data={"csrf_token": csrf, "name": "newbie", "password": "long enough pw"},
        follow_redirects=False,
    )
    assert made.status_code == 303 and db.get_user("newbie").role == "viewer"
    weak = client.post(
        "/admin/users",
        data={"csrf_token": csrf, "name": "weak", "password": "password1", "role": "viewer"},
        follow_redirects=False,
    )
    assert weak.status_code == 400 and "most common" in weak.text and db.get_user("weak") is None


def test_the_admin_enables_a_user_and_sets_a_password(admin):
    client, db, csrf, _ = admin
    db.disable_user("val", actor="test")
    assert "/admin/users/val/enable" in client.get("/admin").text
    assert client.post("/admin/users/val/enable", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert db.get_user("val").disabled is False
    done = client.post(
        "/admin/users/val/password",
        data={"csrf_token": csrf, "password": "a fresh passphrase"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and db.authenticate("val", "a fresh passphrase").name == "val"
    refused = client.post(
        "/admin/users/val/password",
        data={"csrf_token": "forged", "password": "another pass"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert [(e["actor"], e["action"]) for e in db.audit_entries()][:2] == [
        ("ada", "user.set_password"),
        ("ada", "user.enable"),
    ]


# the forms (web/pages_forms.py, the reconciliation's, the uploads) and who may not post them: a viewer (val)
# or a controller (carl)
FORMS_REFUSED = (
    ("val", "/comments"),
    ("val", "/actions"),
    ("val", "/actions/1"),
    ("val", "/guardrails/0"),
    ("val", "/reconciliation/runs"),
    ("val", "/reconciliation/matches/M-1/confirm"),
    ("val", "/data/upload"),
    ("val", "/plans/B2024/import"),
    ("carl", "/admin/users"),
    ("carl", "/admin/users/val/disable"),
    ("carl", "/admin/users/val/enable"),
    ("carl", "/admin/users/val/password"),
    ("carl", "/admin/tokens"),
    ("carl", "/admin/tokens/etl/revoke"),
)


def test_every_form_refuses_a_caller_without_the_right_before_reading_its_fields(admin):
    """The forms check the right and the CSRF token in one dependency (web/auth.py `form_of`): a post
    without the right is a 403 even with every field missing, and writes nothing; a post with the right but a
    field missing is still refused (422) and writes nothing."""
    client, db, csrf, _ = admin
    headers = {
        name: {"Authorization": f"Bearer {db.create_token(name + '-forms', name, actor='t')}"}
        for name in ("val", "carl")
    }
    before = db.audit_head()
    for name, path in FORMS_REFUSED:
        assert client.post(path, data={}, headers=headers[name], follow_redirects=False).status_code == 403, path
    assert db.audit_head() == before
    incomplete = client.post("/admin/users", data={"csrf_token": csrf, "name": "x"}, follow_redirects=False)
    assert incomplete.status_code == 422 and "password" in incomplete.text and db.get_user("x") is None
