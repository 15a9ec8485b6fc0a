"""Plan versions and maker-checker (opsfin.appdb.plans), the write guard and the version list
(opsfin.runs.plan_versions), on SQLite and PostgreSQL. The CLI and the API: test_plan_versions_cli.py,
test_plan_versions_api.py."""

from __future__ import annotations

import datetime as dt

import pytest

from opsfin.appdb import AppDbError, open_app_db
from opsfin.appdb.plans import PlanConflict, PlanNotFound, PlanRefused
from opsfin.errors import UserError
from opsfin.runs.plan_versions import ensure_writable, list_versions, register_demo_budgets, version_status

pytest_plugins = ("appdb_fixtures",)  # the app_db_url and db fixtures (SQLite and PostgreSQL)

PASSWORD = "correct horse battery staple"


# these tests are about plan versions, not passwords
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


# name -> (role, sites)
PEOPLE = {
    "ann": ("analyst", None),
    "val": ("viewer", None),
    "carl": ("controller", None),
    "cora": ("controller", None),
    "ada": ("admin", None),
    "pia": ("controller", ("P1",)),
}


def add_people(db) -> None:
    for name, (role, sites) in PEOPLE.items():
        db.add_user(name, role, PASSWORD, sites=sites, actor="test")


@pytest.fixture
def people(db):
    add_people(db)
    db.create_plan_version("B2027", "budget", "ann")
    return db


def plan_entries(db) -> list[tuple[str, str, str, dict]]:
    """(action, actor, object_id, payload) of the plan entries, oldest first."""
    return [
        (e["action"], e["actor"], e["object_id"], e["payload"]) for e in reversed(db.audit_entries(object_type="plan"))
    ]


def plan_entries_of(db) -> list[tuple[str, str]]:
    return [(a, who) for a, who, _, _ in plan_entries(db)]


# ---------------------------------------------------------------- maker-checker
def test_the_submitter_may_not_approve_another_controller_may(people):
    db = people
    submitted = db.submit_plan_version("B2027", "carl")
    assert (submitted["status"], submitted["submitted_by"]) == ("submitted", "carl")
    head = db.audit_head()
    with pytest.raises(PlanRefused, match="carl submitted plan version B2027 and may not approve it too"):
        db.approve_plan_version("B2027", "carl")
    assert db.audit_head() == head  # a refusal writes nothing
    assert db.plan_version("B2027")["status"] == "submitted"
    approved = db.approve_plan_version("B2027", "cora")
    assert (approved["status"], approved["submitted_by"], approved["approved_by"]) == ("approved", "carl", "cora")
    assert approved["approved_at"] >= approved["submitted_at"]
    assert plan_entries(db) == [
        ("plan.create", "ann", "B2027", {"kind": "budget", "status": "draft", "based_on": None, "as_of": None}),
        ("plan.submit", "carl", "B2027", {"from": "draft", "to": "submitted", "kind": "budget"}),
        ("plan.approve", "cora", "B2027", {"from": "submitted", "to": "approved", "kind": "budget"}),
    ]
    assert db.verify_audit() == []


@pytest.mark.parametrize("who", ["val", "ann"])
def test_a_viewer_or_analyst_may_not_approve(people, who):
    people.submit_plan_version("B2027", "carl")
    role = PEOPLE[who][0]
    with pytest.raises(PlanRefused, match=f"user {who} \\({role}\\) may not approve a plan version"):
        people.approve_plan_version("B2027", who)
    assert people.plan_version("B2027")["status"] == "submitted"


def test_who_may_submit(people):
    with pytest.raises(PlanRefused, match=r"user val \(viewer\) may not submit"):
        people.submit_plan_version("B2027", "val")
    assert people.submit_plan_version("B2027", "ann")["submitted_by"] == "ann"  # an analyst prepares a plan
    assert people.approve_plan_version("B2027", "ada")["approved_by"] == "ada"  # an admin approves


def test_unknown_disabled_and_site_scoped_users_are_refused(people):
    db = people
    with pytest.raises(PlanRefused, match="no app user named 'nobody'"):
        db.submit_plan_version("B2027", "nobody")
    db.disable_user("cora", actor="test")
    db.submit_plan_version("B2027", "carl")
    with pytest.raises(PlanRefused, match="user cora is disabled"):
        db.approve_plan_version("B2027", "cora")
    with pytest.raises(PlanRefused, match="a plan version covers every site"):
        db.approve_plan_version("B2027", "pia")  # a controller, but of P1 only
    assert [a for a, _ in plan_entries_of(db)] == ["plan.create", "plan.submit"]


def test_reject_needs_a_reason_and_returns_the_version_to_draft(people):
    db = people
    db.submit_plan_version("B2027", "ann")
    for blank in ("", "   "):
        with pytest.raises(AppDbError, match="a rejection needs a reason"):
            db.reject_plan_version("B2027", "carl", blank)
    assert db.plan_version("B2027")["status"] == "submitted"
    back = db.reject_plan_version("B2027", "carl", "  energy price too low in Q3 ")
    assert back["status"] == "draft"
    assert (back["rejected_by"], back["rejected_reason"]) == ("carl", "energy price too low in Q3")
    assert back["submitted_by"] == "ann"  # the last submission is kept until the next one
    db.submit_plan_version("B2027", "ann")
    assert db.approve_plan_version("B2027", "carl")["status"] == "approved"  # carl did not submit this time
    assert plan_entries(db)[2] == (
        "plan.reject",
        "carl",
        "B2027",
        {"from": "submitted", "to": "draft", "kind": "budget", "reason": "energy price too low in Q3"},
    )
    assert [a for a, _ in plan_entries_of(db)] == [
        "plan.create",
        "plan.submit",
        "plan.reject",
        "plan.submit",
        "plan.approve",
    ]


def test_illegal_steps_name_the_current_status(people):
    db = people
    with pytest.raises(
        PlanConflict, match="plan version B2027 is draft; only a version that is submitted can be approved"
    ):
        db.approve_plan_version("B2027", "carl")
    with pytest.raises(PlanConflict, match="is draft; only a version that is submitted can be rejected"):
        db.reject_plan_version("B2027", "carl", "no")
    with pytest.raises(PlanConflict, match="is draft; only a version that is approved can be archived"):
        db.archive_plan_version("B2027", "carl")
    db.submit_plan_version("B2027", "ann")
    with pytest.raises(PlanConflict, match="is submitted; only a version that is draft can be submitted"):
        db.submit_plan_version("B2027", "ann")
    db.approve_plan_version("B2027", "carl")
    with pytest.raises(PlanConflict, match="is approved; only a version that is draft can be submitted"):
        db.submit_plan_version("B2027", "ann")
    archived = db.archive_plan_version("B2027", "cora")
    assert (archived["status"], archived["archived_by"]) == ("archived", "cora")
    with pytest.raises(PlanConflict, match="is archived; .* \\(an archived version is final\\)"):
        db.approve_plan_version("B2027", "ada")
    with pytest.raises(PlanNotFound, match="no plan version named 'B2099'"):
        db.submit_plan_version("B2099", "ann")
    assert [a for a, _ in plan_entries_of(db)] == ["plan.create", "plan.submit", "plan.approve", "plan.archive"]


def test_create_checks_name_kind_user_and_duplicates(people):
    db = people
    with pytest.raises(PlanConflict, match="plan version B2027 exists already \\(draft\\)"):
        db.create_plan_version("B2027", "budget", "carl")
    with pytest.raises(AppDbError, match="plan kind 'wish'"):
        db.create_plan_version("W1", "wish", "carl")
    with pytest.raises(AppDbError, match="plan version 'bad name'"):
        db.create_plan_version("bad name", "budget", "carl")
    with pytest.raises(PlanRefused, match=r"val \(viewer\) may not create"):
        db.create_plan_version("S1", "scenario", "val")
    row = db.create_plan_version("fc-2027-03", "forecast", "carl", based_on="B2027", as_of=dt.date(2027, 3, 15))
    assert (row["kind"], row["based_on"], row["as_of"], row["status"]) == (
        "forecast",
        "B2027",
        dt.date(2027, 3, 1),
        "draft",
    )
    assert [v["name"] for v in db.plan_versions()] == ["B2027", "fc-2027-03"]


# ---------------------------------------------------------------- the write guard and the list (workspace)
def put_budget(ws, version: str, table: str = "budget_lines") -> None:
    with ws.connect() as con:
        if table == "budget_lines":
            con.execute(
                "INSERT INTO budget_lines VALUES (?, DATE '2024-01-01', 'CC1', '6000', 100.00, 'test')", [version]
            )
        else:
            con.execute("INSERT INTO volume_plan VALUES (?, DATE '2024-01-01', 'FG1', 5, 10, 'test')", [version])


def test_ensure_writable_registers_a_new_version_and_refuses_a_read_only_one(workspace):
    db = open_app_db(workspace)
    add_people(db)
    assert version_status(workspace, "S-2027") is None
    ensure_writable(workspace, "S-2027", "scenario", "python")
    row = db.plan_version("S-2027")
    assert (row["status"], row["kind"], row["created_by"]) == ("draft", "scenario", "python")
    ensure_writable(workspace, "S-2027", "scenario", "python")  # a draft stays writable; registered once
    assert plan_entries_of(db) == [("plan.create", "python")]
    db.submit_plan_version("S-2027", "ann")
    with pytest.raises(UserError, match="plan version S-2027 is submitted and read-only; build or import into a new"):
        ensure_writable(workspace, "S-2027", "scenario", "python")
    db.approve_plan_version("S-2027", "carl")
    assert version_status(workspace, "S-2027") == "approved"
    with pytest.raises(UserError, match="plan version S-2027 is approved and read-only"):
        ensure_writable(workspace, "S-2027", "budget", "someone")
    db.archive_plan_version("S-2027", "carl")
    with pytest.raises(UserError, match="is archived and read-only"):
        ensure_writable(workspace, "S-2027", "scenario", "python")
    with pytest.raises(UserError, match="plan kind 'plan'"):
        ensure_writable(workspace, "S-2028", "plan", "python")
    assert version_status(workspace, "S-2028") is None


def test_list_merges_the_app_database_and_the_warehouse(workspace):
    db = open_app_db(workspace)
    add_people(db)
    put_budget(workspace, "B2024")
    put_budget(workspace, "B2024", "volume_plan")
    put_budget(workspace, "what-if", "volume_plan")
    db.create_plan_version("B2026", "budget", "ann")
    rows = {r["name"]: r for r in list_versions(workspace)}
    assert list(rows) == ["B2024", "B2026", "what-if"]
    assert (rows["B2024"]["status"], rows["B2024"]["kind"], rows["B2024"]["tables"]) == (
        "unregistered",
        "budget",
        ["budget_lines", "volume_plan"],
    )
    assert (rows["what-if"]["status"], rows["what-if"]["kind"]) == ("unregistered", "scenario")
    assert (rows["B2026"]["status"], rows["B2026"]["created_by"], rows["B2026"]["tables"]) == ("draft", "ann", [])
    # an unregistered version is a writable draft on first write
    ensure_writable(workspace, "what-if", "scenario", "python")
    assert {r["name"]: r["status"] for r in list_versions(workspace)}["what-if"] == "draft"


def test_the_demo_budgets_are_registered_approved_by_demo_once(workspace):
    db = open_app_db(workspace)
    for version in ("B2024", "B2025"):
        put_budget(workspace, version)
    put_budget(workspace, "B2026", "volume_plan")  # volumes only: not a demo budget
    assert register_demo_budgets(workspace) == ["B2024", "B2025"]
    assert register_demo_budgets(workspace) == []
    rows = {r["name"]: r for r in list_versions(workspace)}
    assert [(n, r["status"], r["approved_by"]) for n, r in rows.items()] == [
        ("B2024", "approved", "demo"),
        ("B2025", "approved", "demo"),
        ("B2026", "unregistered", None),
    ]
    assert plan_entries_of(db) == [("plan.create", "demo"), ("plan.create", "demo")]
    with pytest.raises(UserError, match="plan version B2024 is approved and read-only"):
        ensure_writable(workspace, "B2024", "budget", "python")


def test_a_demand_forecast_is_a_write_to_its_version(tiny_demo, tmp_path):
    from opsfin.runs.forecast import forecast_demand
    from web_support import copy_workspace

    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    db = open_app_db(ws)
    db.create_plan_version("F-approved", "forecast", "demo", as_user=False, status="approved")
    with pytest.raises(UserError, match="plan version F-approved is approved and read-only"):
        forecast_demand(ws, "2024-03", "F-approved", horizon=2, models="Naive", actor="cli:test")
    assert ws.sql("SELECT count(*) AS n FROM volume_plan WHERE version = 'F-approved'")["n"][0] == 0
    forecast_demand(ws, "2024-03", "F-new", horizon=2, models="Naive", actor="cli:test")
    row = db.plan_version("F-new")
    assert (row["status"], row["kind"], row["created_by"]) == ("draft", "forecast", "cli:test")
    listed = {r["name"]: r for r in list_versions(ws)}["F-new"]
    assert listed["tables"] == ["volume_plan", "forecast_versions"]
