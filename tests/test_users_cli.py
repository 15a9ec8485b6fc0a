"""`opsfin users …` and `opsfin tokens …` against a real workspace (sites P1, P2, W1)."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from opsfin.appdb import open_app_db
from opsfin.cli import app
from opsfin.errors import UserError


@pytest.fixture
def ws(workspace):
    with workspace.connect() as con:
        for site_id, kind in [("P1", "plant"), ("P2", "plant"), ("W1", "warehouse")]:
            con.execute(
                "INSERT INTO sites (site_id, name, kind, region, std_energy_price, _load_id) "
                "VALUES (?, ?, ?, 'EU', 0.15, 'test')",
                [site_id, f"{site_id} site", kind],
            )
    return workspace


def run(ws, *args: str, input: str | None = None):  # noqa: A002 - click's name
    """Run a command in-process; returns the click Result (a UserError is left in result.exception)."""
    return CliRunner().invoke(app, [*args, "-w", str(ws.path)], input=input)


def user_error(result) -> str:
    assert isinstance(result.exception, UserError), result.output
    return str(result.exception)


def test_users_add_from_stdin(ws):
    result = run(
        ws,
        "users",
        "add",
        "ann",
        "--role",
        "controller",
        "--sites",
        "P1,P2",
        "--password-stdin",
        input="s3cret pass\n",
    )
    assert result.exit_code == 0, result.output
    assert "user ann added: role controller, P1, P2" in result.stdout
    db = open_app_db(ws)
    user = db.authenticate("ann", "s3cret pass")
    assert (user.role, user.sites) == ("controller", ("P1", "P2"))
    actor = db.audit_entries()[0]["actor"]
    assert actor.startswith("cli") and (actor == "cli" or actor == f"cli:{getpass.getuser()}")


def test_users_add_prompts_twice_without_stdin_flag(ws):
    result = run(
        ws,
        "users",
        "add",
        "bob",
        "--role",
        "viewer",
        input="first try\nsecond try\nagain try\nagain try\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert "again try" not in result.output  # hidden input is not echoed
    db = open_app_db(ws)
    assert db.authenticate("bob", "again try").sites is None
    assert db.authenticate("bob", "first try") is None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["--role", "viewer", "--sites", "P1,XX"],
            "plant floor 7\n",
            "--sites: unknown site XX (known sites: P1, P2, W1)",
        ),
        (["--role", "viewer"], "\n", "the password must not be empty"),
        (
            ["--role", "boss"],
            "plant floor 7\n",
            "--role 'boss': choose one of admin, controller, analyst, viewer",
        ),
        (
            ["--role", "viewer", "--sites", " , "],
            "plant floor 7\n",
            "--sites: name at least one site",
        ),
    ],
)
def test_users_add_mistakes(ws, args, stdin, message):
    result = run(ws, "users", "add", "cat", *args, "--password-stdin", input=stdin)
    assert user_error(result).startswith(message)
    assert open_app_db(ws).list_users() == []


def test_users_add_twice_is_refused(ws):
    assert (
        run(
            ws,
            "users",
            "add",
            "ann",
            "--role",
            "viewer",
            "--password-stdin",
            input="plant floor 7\n",
        ).exit_code
        == 0
    )
    assert "already exists" in user_error(
        run(
            ws,
            "users",
            "add",
            "ann",
            "--role",
            "admin",
            "--password-stdin",
            input="plant floor 8\n",
        )
    )


def test_users_list_and_disable(ws):
    run(ws, "users", "add", "ann", "--role", "admin", "--password-stdin", input="pw-ann-long\n")
    run(
        ws,
        "users",
        "add",
        "bob",
        "--role",
        "analyst",
        "--sites",
        "P2",
        "--password-stdin",
        input="pw-bob-long\n",
    )
    assert run(ws, "users", "disable", "bob").stdout.strip() == "user bob disabled"
    listed = json.loads(run(ws, "users", "list", "--format", "json").stdout)
    assert [(u["name"], u["role"], u["sites"], u["disabled"]) for u in listed] == [
        ("ann", "admin", None, False),
        ("bob", "analyst", ["P2"], True),
    ]
    assert set(listed[0]) == {"name", "role", "sites", "disabled", "created_at"}
    csv_out = run(ws, "users", "list", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == "name,role,sites,disabled,created_at"
    assert "bob,analyst,P2,True," in csv_out
    table = run(ws, "users", "list").stdout
    assert "argon2" not in table + csv_out and "pw-ann-long" not in table + csv_out
    assert "no user named 'zed'" in user_error(run(ws, "users", "disable", "zed"))


def test_tokens_create_list_revoke(ws):
    run(
        ws,
        "users",
        "add",
        "ann",
        "--role",
        "viewer",
        "--sites",
        "P1",
        "--password-stdin",
        input="plant floor 7\n",
    )
    created = run(ws, "tokens", "create", "etl", "--user", "ann")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("opsfin_") and "\n" not in token
    assert "will not be shown again" in created.stderr
    db = open_app_db(ws)
    assert db.user_for_token(token).sites == ("P1",)

    listed = json.loads(run(ws, "tokens", "list", "--format", "json").stdout)
    assert [(t["name"], t["user"], t["status"]) for t in listed] == [("etl", "ann", "active")]
    assert token not in run(ws, "tokens", "list").stdout

    assert run(ws, "tokens", "revoke", "etl").stdout.strip() == "token etl revoked"
    assert db.user_for_token(token) is None
    assert json.loads(run(ws, "tokens", "list", "--format", "json").stdout)[0]["status"] == "revoked"
    assert "no user named 'bob'" in user_error(run(ws, "tokens", "create", "x", "--user", "bob"))
    assert [e["action"] for e in db.audit_entries()] == ["token.revoke", "token.create", "user.add"]


def test_a_user_mistake_is_one_line_and_exit_code_2(ws):
    """Through the real entry point: no traceback, one line on stderr."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsfin",
            "users",
            "add",
            "dan",
            "--role",
            "viewer",
            "--sites",
            "P9",
            "--password-stdin",
            "-w",
            str(ws.path),
        ],
        input="plant floor 7\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr == "error: --sites: unknown site P9 (known sites: P1, P2, W1)\n"
