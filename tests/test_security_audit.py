"""Every write leaves an audit entry (docs/security.md): the test walks every write path of the CLI, the
REST API and the forms, and fails when one leaves no entry — or when a new command or endpoint appears
that is neither walked here nor named as read-only."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import typer.main
from typer.testing import CliRunner

from opsfin.appdb import open_app_db
from opsfin.cli import app as cli_app
from opsfin.web import create_app
from web_support import BAD_PRODUCTS, PASSWORD, PEOPLE, TestClient, bearer, copy_workspace

# ---------------------------------------------------------------- the CLI
# commands that only read (or write files the user asked for, outside the workspace's data)
CLI_READS = {
    "abc",
    "alerts",
    "check",
    "unit-economics",
    "order-costs",
    "value-stream",
    "quarantine",
    "kpi",
    "bottlenecks",
    "serve",
    "variance",
    "eval detection",
    "eval matching",
    "eval forecast",
    "audit verify",
    "audit list",
    "export parquet",
    "export pack",
    "period list",
    "match invoices",
    "match exceptions",
    "users list",
    "tokens list",
    "plan list",
    "plan show",
    "plan export",  # writes --output, a file of the user's
    "forecast accuracy",
    "forecast backtest",
    "forecast series",  # writes --output, a file of the user's, not the workspace
    "scenario list",
    "scenario check",
    "scenario simulate",
    "drivers",
    "tradeoff speed",
    "tradeoff reliability",
    "cash predict",
    "cash forecast",
    "cash levers",
    "cash schedule",
    "eval cash",
    "eval predict",
    "eval experiments",  # analyses truth/experiments.json's experiments; writes nothing
    "predict maintenance",
    "predict defects",
    "predict fit",  # writes --model-out, a file of the user's, not the workspace
    "predict score",
    "plan staffing",
    "invest evaluate",
    "invest portfolio",
    "invest check",
    "invest review",
    "experiment list",
    "experiment analyze",
}
#: model/scenarios.yaml of the walk's workspace: `scenario run` stores `B2024+walk` as a plan version
WALK_SCENARIOS = """scenarios:
  - name: walk
    base: B2024
    shocks:
      - {kind: fixed_cost, scope: {}, start: 2024-03, size: 1000}
"""
# commands that create a workspace: its audit log starts empty with it
CLI_CREATES_WORKSPACE = {"demo", "init"}


def cli_commands() -> set[str]:
    def walk(command, prefix: str):
        subs = getattr(command, "commands", None)
        if not subs:
            yield prefix.strip()
            return
        for name, sub in subs.items():
            yield from walk(sub, f"{prefix} {name}")

    return set(walk(typer.main.get_command(cli_app), ""))


def cli_walk(tmp_path, ids: tuple[str, ...]) -> list[tuple[list[str], str | None, str]]:
    """(arguments, stdin, the audit action expected) for every write command, in an order that works."""
    (tmp_path / "products.csv").write_text(BAD_PRODUCTS, encoding="utf-8")
    budget_workbook(tmp_path / "budget.xlsx")
    return [
        (
            ["users", "add", "ann", "--role", "analyst", "--password-stdin"],
            "a long passphrase\n",
            "user.add",
        ),
        (["users", "disable", "ann"], None, "user.disable"),
        (["users", "enable", "ann"], None, "user.enable"),
        (
            ["users", "set-password", "ann", "--password-stdin"],
            "another long one\n",
            "user.set_password",
        ),
        (["tokens", "create", "etl", "--user", "ann"], None, "token.create"),
        (["tokens", "revoke", "etl"], None, "token.revoke"),
        (["ingest", str(tmp_path / "products.csv"), "--table", "products"], None, "load.ingest"),
        (["period", "close", "2019-01"], None, "period.close"),
        (["allocate", "--period", "2024-04", "--post"], None, "allocation.post"),
        (["match", "bank"], None, "match.run"),
        (["match", "confirm", ids[0]], None, "match.confirmed"),
        (["match", "reject", ids[1]], None, "match.rejected"),
        (
            ["forecast", "demand", "--as-of", "2024-03", "--version", "F-walk", "--horizon", "2", "--models", "Naive"],
            None,
            "forecast.demand",
        ),
        (["users", "add", "carl", "--role", "controller", "--password-stdin"], "a long passphrase\n", "user.add"),
        (["plan", "create", "S-walk", "--kind", "scenario", "--user", "ann"], None, "plan.create"),
        (["plan", "submit", "S-walk", "--user", "ann"], None, "plan.submit"),
        (["plan", "reject", "S-walk", "--user", "carl", "--reason", "walk"], None, "plan.reject"),
        (["plan", "submit", "S-walk", "--user", "ann"], None, "plan.submit"),
        (["plan", "approve", "S-walk", "--user", "carl"], None, "plan.approve"),
        (["plan", "archive", "S-walk", "--user", "carl"], None, "plan.archive"),
        (["plan", "import", str(tmp_path / "budget.xlsx"), "--version", "B-walk"], None, "plan.import"),
        (["plan", "build", "--version", "P-walk", "--volumes", "actual", "--to", "2024-02"], None, "plan.build"),
        (["plan", "roll", "--as-of", "2024-03", "--models", "Naive"], None, "plan.build"),
        (["scenario", "run", "walk"], None, "scenario.run"),
    ]


def budget_workbook(path) -> None:
    """A budget workbook (docs/planning-excel.md): one product's volume and price, one cost line."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Volumes"
    for name, value in (("Volumes", 10), ("Prices", 5), ("Costs", None)):
        sheet = book[name] if name == "Volumes" else book.create_sheet(name)
        if value is None:
            sheet.append(["cost_center_id", "account_id", "cost_center", "account", "type", "2025-01"])
            sheet.append(["CC-P1-ASSY", "6000", None, None, None, 100])
        else:
            sheet.append(["product_id", "product", "family", "2025-01"])
            sheet.append(["FG-001", None, None, value])
    book.save(path)


def cli_name(args: list[str]) -> str:
    groups = {"users", "tokens", "period", "match", "forecast", "plan", "scenario", "cash", "predict", "tradeoff"}
    groups |= {"eval", "invest", "experiment"}
    return " ".join(args[:2]) if args[0] in groups else args[0]


@pytest.fixture(scope="module")
def match_ids(tiny_demo) -> tuple[str, ...]:
    """Three bank matches of the demo (the engine's ids do not depend on the workspace's folder)."""
    result = CliRunner().invoke(cli_app, ["match", "bank", "--preview", "--format", "json", "-w", str(tiny_demo.path)])
    matches = json.loads(result.stdout)["matches"]
    assert len(matches) >= 3
    return tuple(m["match_id"] for m in matches[:3])


def test_every_cli_command_is_walked_or_named_read_only(tmp_path, match_ids):
    walked = {cli_name(args) for args, _, _ in cli_walk(tmp_path, match_ids)}
    unknown = cli_commands() - walked - CLI_READS - CLI_CREATES_WORKSPACE
    assert not unknown, f"new commands: walk them in cli_walk (if they write) or name them in CLI_READS: {unknown}"
    assert walked.isdisjoint(CLI_READS)


@pytest.mark.usefixtures("cheap_password_hashes")  # the users it adds are about their audit entries
def test_every_cli_write_leaves_an_audit_entry(tiny_demo, tmp_path, match_ids):
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    (ws.path / "model" / "scenarios.yaml").write_text(WALK_SCENARIOS, encoding="utf-8")
    db = open_app_db(ws)
    for args, stdin, action in cli_walk(tmp_path, match_ids):
        before = len(db.audit_entries())
        result = CliRunner().invoke(cli_app, [*args, "-w", str(ws.path)], input=stdin)
        assert result.exit_code == 0, (args, result.output)
        new = db.audit_entries()[: len(db.audit_entries()) - before]
        assert new, f"`opsfin {' '.join(args)}` left no audit entry"
        assert action in {e["action"] for e in new}, (args, [e["action"] for e in new])
        user = args[args.index("--user") + 1] if "--user" in args and args[0] == "plan" else None  # a plan step
        assert all(e["actor"] == user if user else e["actor"].startswith("cli") for e in new), args
    assert db.verify_audit() == []
    loads = db.audit_entries(object_type="load")
    assert loads[0]["payload"]["tables"]["products"] == {"read": 1, "accepted": 0, "quarantined": 1}


# ---------------------------------------------------------------- the REST API and the forms
FAR = (dt.date.today() + dt.timedelta(days=60)).isoformat()
ACTION = {"title": "t", "owner": "o", "due": FAR, "expected_impact": "10.00"}

# (method, route) -> (request to send: path, JSON body or form; the audit action expected)
API_WALK = [
    (
        "POST",
        "/api/v1/comments",
        "/api/v1/comments",
        {"subject_type": "kpi", "subject_id": "oee", "body": "x"},
        "comment.add",
    ),
    ("POST", "/api/v1/actions", "/api/v1/actions", ACTION, "action.add"),
    (
        "PATCH",
        "/api/v1/actions/{action_id}",
        "/api/v1/actions/1",
        {"status": "done"},
        "action.update",
    ),
    (
        "PUT",
        "/api/v1/guardrails/{index}",
        "/api/v1/guardrails/0",
        {"min": 0.01},
        "guardrail.change",
    ),
    (
        "POST",
        "/api/v1/guardrails",
        "/api/v1/guardrails",
        {"kpi": "oee", "min": 0.2},
        "guardrail.add",
    ),
    (
        "POST",
        "/api/v1/matches/bank/runs",
        "/api/v1/matches/bank/runs?to=2024-02-15",
        None,
        "match.run",
    ),
    (
        "POST",
        "/api/v1/matches/{match_id}/confirm",
        "/api/v1/matches/{0}/confirm",
        None,
        "match.confirmed",
    ),
    (
        "POST",
        "/api/v1/matches/{match_id}/reject",
        "/api/v1/matches/{1}/reject",
        None,
        "match.rejected",
    ),
    # the web fixture leaves S-walk submitted by carl (ada approves it) and S-walk2 a draft
    ("POST", "/api/v1/plans/{name}/approve", "/api/v1/plans/S-walk/approve", None, "plan.approve"),
    ("POST", "/api/v1/plans/{name}/archive", "/api/v1/plans/S-walk/archive", None, "plan.archive"),
    ("POST", "/api/v1/plans/{name}/submit", "/api/v1/plans/S-walk2/submit", None, "plan.submit"),
    ("POST", "/api/v1/plans/{name}/reject", "/api/v1/plans/S-walk2/reject", {"reason": "walk"}, "plan.reject"),
]
# the Scenarios and Investments forms: a scenario on the demo's budget, a case of two dated flows
WALK_SCENARIO_FORM = {"name": "walk_form", "base": "B2024", "kind": "demand", "start": "2024-02", "size": "5"}
WALK_CASE = {"name": "walk", "flow_date": ["2026-01-01", "2027-01-01"], "flow_amount": ["-100", "120"]}
FORM_WALK = [
    (
        "POST",
        "/comments",
        "/comments",
        {"subject_type": "kpi", "subject_id": "oee", "body": "y"},
        "comment.add",
    ),
    ("POST", "/actions", "/actions", ACTION, "action.add"),
    ("POST", "/actions/{action_id}", "/actions/1", {"status": "in_progress"}, "action.update"),
    (
        "POST",
        "/guardrails/{index}",
        "/guardrails/0",
        {"min": "0.02", "max": ""},
        "guardrail.change",
    ),
    (
        "POST",
        "/admin/users",
        "/admin/users",
        {"name": "newbie", "password": "long enough pw"},
        "user.add",
    ),
    ("POST", "/admin/users/{name}/disable", "/admin/users/newbie/disable", {}, "user.disable"),
    ("POST", "/admin/users/{name}/enable", "/admin/users/newbie/enable", {}, "user.enable"),
    (
        "POST",
        "/admin/users/{name}/password",
        "/admin/users/newbie/password",
        {"password": "a new passphrase"},
        "user.set_password",
    ),
    ("POST", "/admin/tokens", "/admin/tokens", {"name": "etl", "user": "newbie"}, "token.create"),
    ("POST", "/admin/tokens/{name}/revoke", "/admin/tokens/etl/revoke", {}, "token.revoke"),
    (
        "POST",
        "/reconciliation/runs",
        "/reconciliation/runs",
        {},
        "match.run",
    ),  # the lines after the API's run
    (
        "POST",
        "/reconciliation/matches/{match_id}/{decision}",
        "/reconciliation/matches/{2}/confirm",
        {},
        "match.confirmed",
    ),
    ("POST", "/plan/{name}/{step}", "/plan/S-walk2/submit", {}, "plan.submit"),  # the Plan page's form
    ("POST", "/scenarios", "/scenarios", WALK_SCENARIO_FORM, "scenario.add"),
    ("POST", "/investments", "/investments", WALK_CASE, "investment.add"),
    ("POST", "/investments", "/investments", WALK_CASE | {"original": "walk", "owner": "me"}, "investment.change"),
    ("POST", "/investments/{name}/remove", "/investments/walk/remove", {}, "investment.remove"),
]
# writes that change no business data: a login or a logout (a session)
SESSION_ROUTES = {("POST", "/login"), ("POST", "/logout")}
# uploads (multipart): a budget workbook, the tiny demo's B2024 as downloaded, into a new version
UPLOAD_WALK = [  # the form (with the session) first, then the API (with the token)
    ("POST", "/plans/{name}/import", "/plans/S-upload/import", {}, "plan.import"),
    ("POST", "/api/v1/plans/{name}/import", "/api/v1/plans/S-upload2/import", None, "plan.import"),
]
# the Data page's upload: a file loaded as `opsfin ingest` does (docs/web.md "Loading a file")
PRODUCTS_CSV = b"product_id,name,family,kind,uom,list_price,std_unit_cost\nFG-AUDIT,Audited,F1,finished,pcs,10,5\n"
DATA_UPLOAD_WALK = [("POST", "/data/upload", "/data/upload", {"table": "products"}, "load.ingest")]


def write_routes(app) -> set[tuple[str, str]]:
    return {
        (m, r.path)
        for r in _every_route(app.routes)
        for m in getattr(r, "methods", ()) or ()
        if m in {"POST", "PUT", "PATCH", "DELETE"}
    }


def _every_route(routes):
    """The routes with those of the routers included (FastAPI keeps them inside the router it includes)."""
    for route in routes:
        yield route
        yield from _every_route(getattr(getattr(route, "original_router", None), "routes", None) or ())


@pytest.fixture(scope="module")
def web(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("security_audit")
    ws = copy_workspace(tiny_demo, folder / "ws")
    db = open_app_db(ws)  # the workspace's own app database: the one `opsfin audit list` reads
    tokens = {}
    for name in ("ada", "carl"):
        db.add_user(name, PEOPLE[name][0], PASSWORD, actor="test")
        tokens[name] = db.create_token(f"{name}-token", name, actor="test")
    db.create_plan_version("S-walk", "scenario", "carl")
    db.submit_plan_version("S-walk", "carl")
    db.create_plan_version("S-walk2", "scenario", "carl")
    yield TestClient(create_app(ws.path)), db, tokens


def test_every_write_route_is_walked_or_a_session(web):
    client, _, _ = web
    walked = {(m, route) for m, route, *_ in API_WALK + FORM_WALK + UPLOAD_WALK + DATA_UPLOAD_WALK}
    unknown = write_routes(client.app) - walked - SESSION_ROUTES
    assert not unknown, f"new write endpoints: walk them in API_WALK or FORM_WALK: {unknown}"


def test_every_api_and_form_write_leaves_an_audit_entry(web, match_ids):
    client, db, tokens = web
    ids = match_ids
    for _, _, path, body, action in API_WALK:
        before = db.audit_head()[0]
        response = client.request(_method(path, body), path.format(*ids), json=body, headers=bearer(tokens["ada"]))
        assert response.status_code < 300, (path, response.text)
        assert action in [e["action"] for e in db.audit_entries() if e["seq"] > before], path
    page = client.get("/login")
    login_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    login = {"name": "ada", "password": PASSWORD, "csrf_token": login_token}
    # the session cookie comes with the redirect: the overview it points to is not what this test is about
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/admin").text).group(1)
    ids = match_ids  # the form confirms the third match
    for _, _, path, form, action in FORM_WALK:
        before = db.audit_head()[0]
        response = client.post(path.format(*ids), data=form | {"csrf_token": csrf}, follow_redirects=False)
        assert response.status_code in (200, 303), (path, response.text[:500])
        assert action in [e["action"] for e in db.audit_entries() if e["seq"] > before], path
    workbook = {"file": ("b.xlsx", client.get("/plans/B2024/export.xlsx").content)}
    for _, _, path, form, action in UPLOAD_WALK:
        before = db.audit_head()[0]
        if form is None:  # the API, with the token
            client.cookies.clear()
            response = client.post(path, files=workbook, headers=bearer(tokens["ada"]))
        else:
            response = client.post(path, files=workbook, data=form | {"csrf_token": csrf}, follow_redirects=False)
        assert response.status_code in (200, 303), (path, response.text[:500])
        assert action in [e["action"] for e in db.audit_entries() if e["seq"] > before], path
    client.cookies.clear()  # a new session (the API walk above cleared the cookies)
    login_token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    login = {"name": "ada", "password": PASSWORD, "csrf_token": login_token}
    assert client.post("/login", data=login, follow_redirects=False).status_code == 303
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/data").text).group(1)
    for _, _, path, form, action in DATA_UPLOAD_WALK:
        before = db.audit_head()[0]
        upload = {"file": ("products.csv", PRODUCTS_CSV)}
        response = client.post(path, files=upload, data=form | {"csrf_token": csrf}, follow_redirects=False)
        assert response.status_code == 303, (path, response.text[:500])
        assert action in [e["action"] for e in db.audit_entries() if e["seq"] > before], path
    assert db.verify_audit() == []


def _method(path: str, body) -> str:
    for method, _, sent, *_ in API_WALK:
        if sent == path:
            return method
    raise AssertionError(path)
