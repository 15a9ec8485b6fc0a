"""`opsfin plan list|create|submit|approve|reject|archive` as the console entry point runs them (exit codes)."""

from __future__ import annotations

import json

import pytest

from cli_support import run_cli
from opsfin.appdb import open_app_db

PASSWORD = "correct horse battery staple"


# these tests are about plan versions, not passwords
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


@pytest.fixture
def ws(workspace):
    db = open_app_db(workspace)
    for name, role in (("ann", "analyst"), ("val", "viewer"), ("carl", "controller"), ("cora", "controller")):
        db.add_user(name, role, PASSWORD, actor="test")
    with workspace.connect() as con:  # a budget found only in the warehouse
        con.execute("INSERT INTO budget_lines VALUES ('B2024', DATE '2024-01-01', 'CC1', '6000', 100.00, 'test')")
    return workspace


def plan(capsys, ws, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "plan", *args, "-w", str(ws.path))


def statuses(capsys, ws) -> dict[str, tuple[str, str | None, str | None]]:
    code, out, err = plan(capsys, ws, "list", "--format", "json")
    assert code == 0, err
    return {r["name"]: (r["status"], r["submitted_by"], r["approved_by"]) for r in json.loads(out)}


def test_maker_checker_on_the_command_line(capsys, ws):
    assert plan(capsys, ws, "create", "B2026", "--kind", "budget", "--user", "ann")[0] == 0
    code, out, _ = plan(capsys, ws, "submit", "B2026", "--user", "carl")
    assert code == 0 and "plan version B2026 submitted by carl" in out
    code, _, err = plan(capsys, ws, "approve", "B2026", "--user", "carl")
    assert code == 2 and "carl submitted plan version B2026 and may not approve it too" in err
    assert "Traceback" not in err
    assert statuses(capsys, ws)["B2026"] == ("submitted", "carl", None)
    code, out, _ = plan(capsys, ws, "approve", "B2026", "--user", "cora")
    assert code == 0 and "approved by cora" in out
    assert statuses(capsys, ws) == {
        "B2024": ("unregistered", None, None),
        "B2026": ("approved", "carl", "cora"),
    }
    audit = [
        (e["action"], e["actor"], e["payload"].get("to", e["payload"].get("status")))
        for e in reversed(open_app_db(ws).audit_entries(object_type="plan"))
    ]
    assert audit == [
        ("plan.create", "ann", "draft"),
        ("plan.submit", "carl", "submitted"),
        ("plan.approve", "cora", "approved"),
    ]
    code, out, _ = plan(capsys, ws, "archive", "B2026", "--user", "carl")
    assert code == 0 and statuses(capsys, ws)["B2026"][0] == "archived"


def test_the_user_must_exist_be_enabled_and_hold_the_role(capsys, ws):
    plan(capsys, ws, "create", "S1", "--kind", "scenario", "--user", "ann")
    code, _, err = plan(capsys, ws, "submit", "S1", "--user", "ghost")
    assert code == 2 and "no app user named 'ghost'" in err
    code, _, err = plan(capsys, ws, "submit", "S1", "--user", "val")
    assert code == 2 and "user val (viewer) may not submit a plan version" in err
    open_app_db(ws).disable_user("ann", actor="test")
    code, _, err = plan(capsys, ws, "submit", "S1", "--user", "ann")
    assert code == 2 and "user ann is disabled" in err
    code, _, err = plan(capsys, ws, "submit", "S1")
    assert code == 2 and "--user" in err  # required: no default actor
    assert statuses(capsys, ws)["S1"] == ("draft", None, None)


def test_reject_needs_a_reason(capsys, ws):
    plan(capsys, ws, "create", "S1", "--kind", "scenario", "--user", "ann")
    plan(capsys, ws, "submit", "S1", "--user", "ann")
    code, _, err = plan(capsys, ws, "reject", "S1", "--user", "carl")
    assert code == 2 and "--reason" in err
    code, _, err = plan(capsys, ws, "reject", "S1", "--user", "carl", "--reason", " ")
    assert code == 2 and "a rejection needs a reason" in err
    code, out, _ = plan(capsys, ws, "reject", "S1", "--user", "carl", "--reason", "volumes too high")
    assert code == 0 and "back to draft" in out
    code, out, _ = plan(capsys, ws, "list", "--format", "csv")
    header, *lines = out.splitlines()
    row = dict(zip(header.split(","), next(line for line in lines if line.startswith("S1,")).split(","), strict=True))
    assert (row["status"], row["rejected_by"], row["rejected_reason"]) == ("draft", "carl", "volumes too high")


def test_create_refuses_a_bad_kind_or_month(capsys, ws):
    code, _, err = plan(capsys, ws, "create", "X", "--kind", "wish", "--user", "ann")
    assert code == 2 and "--kind 'wish': choose one of budget, forecast, scenario" in err
    code, _, err = plan(capsys, ws, "create", "X", "--kind", "forecast", "--as-of", "2024-13", "--user", "ann")
    assert code == 2 and "--as-of" in err
    code, _, _ = plan(capsys, ws, "create", "X", "--kind", "forecast", "--as-of", "2024-03", "--user", "ann")
    code, out, _ = plan(capsys, ws, "list", "--format", "json")
    assert next(r for r in json.loads(out) if r["name"] == "X")["as_of"] == "2024-03-01"
    code, out, _ = plan(capsys, ws, "list")
    assert code == 0 and "unregistered" in out.lower() and "B2024" in out
