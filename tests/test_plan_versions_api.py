"""`/api/v1/plans`: the plan versions and their approval over HTTP, as the token's or the session's user."""

from __future__ import annotations

import pytest

from opsfin.appdb import open_app_db
from opsfin.web import create_app
from opsfin.web.auth import SESSION_COOKIE, csrf_for
from web_support import PASSWORD, PEOPLE, TestClient, assert_problem, bearer

# these tests are about plan versions, not passwords
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


@pytest.fixture
def env(workspace):
    """A client over an empty workspace holding one draft budget B2027 (by ann) and PEOPLE with a token each."""
    db = open_app_db(workspace)
    tokens = {}
    for name, (role, sites) in PEOPLE.items():
        db.add_user(name, role, PASSWORD, sites=sites, actor="test")
        tokens[name] = bearer(db.create_token(f"{name}-token", name, actor="test"))
    db.create_plan_version("B2027", "budget", "ann")
    return TestClient(create_app(workspace.path)), db, tokens


def post(client, path: str, who: dict, body: dict | None = None):
    return client.post(f"/api/v1/plans/{path}", json=body, headers=who)


def test_submit_as_one_approve_as_the_same_refused_as_another_accepted(env):
    client, db, t = env
    submitted = post(client, "B2027/submit", t["carl"])
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert_problem(post(client, "B2027/approve", t["carl"]), 403, "carl submitted plan version B2027 and may not")
    approved = post(client, "B2027/approve", t["ada"])
    assert approved.status_code == 200
    assert {k: approved.json()[k] for k in ("status", "submitted_by", "approved_by")} == {
        "status": "approved",
        "submitted_by": "carl",
        "approved_by": "ada",
    }
    steps = [(e["action"], e["actor"]) for e in reversed(db.audit_entries(object_type="plan"))]
    assert steps == [("plan.create", "ann"), ("plan.submit", "carl"), ("plan.approve", "ada")]
    listed = client.get("/api/v1/plans", headers=t["val"])  # a viewer reads the list
    assert listed.status_code == 200
    assert [(r["name"], r["status"], r["approved_by"]) for r in listed.json()] == [("B2027", "approved", "ada")]


def test_roles_site_scope_and_states_over_http(env):
    client, _, t = env
    assert_problem(post(client, "B2027/submit", t["val"]), 403, "role viewer may not submit plans")
    assert_problem(post(client, "B2027/approve", t["carl"]), 409, "is draft; only a version that is submitted")
    assert post(client, "B2027/submit", t["ann"]).status_code == 200
    assert_problem(post(client, "B2027/approve", t["ann"]), 403, "role analyst may not approve plans")
    assert_problem(post(client, "B2027/approve", t["pia"]), 403, "a plan version covers every site")
    assert client.get("/api/v1/plans", headers=t["pia"]).status_code == 200  # a scoped user may view
    assert_problem(post(client, "B2099/submit", t["ann"]), 404, "no plan version named 'B2099'")
    assert_problem(client.post("/api/v1/plans/B2027/approve"), 401, "log in")


def test_reject_needs_a_reason(env):
    client, db, t = env
    post(client, "B2027/submit", t["ann"])
    assert_problem(post(client, "B2027/reject", t["carl"], {"reason": "  "}), 400, "a rejection needs a reason")
    assert_problem(post(client, "B2027/reject", t["carl"], {}), 422, "reason: Field required")
    rejected = post(client, "B2027/reject", t["carl"], {"reason": "opex too low"})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["rejected_reason"]) == ("draft", "opex too low")
    entry = db.audit_entries(object_type="plan")[0]
    assert (entry["action"], entry["actor"], entry["payload"]["reason"]) == ("plan.reject", "carl", "opex too low")


def test_archive_and_a_cookie_caller_needs_the_csrf_header(env):
    client, db, t = env
    post(client, "B2027/submit", t["ann"])
    post(client, "B2027/approve", t["carl"])
    session = db.create_session("ada")
    client.cookies.set(SESSION_COOKIE, session)
    assert_problem(client.post("/api/v1/plans/B2027/archive"), 403, "CSRF")
    assert db.plan_version("B2027")["status"] == "approved"
    done = client.post("/api/v1/plans/B2027/archive", headers={"X-CSRF-Token": csrf_for(session)})
    assert done.status_code == 200 and done.json()["archived_by"] == "ada"
