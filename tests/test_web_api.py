"""The REST API through the real app (FastAPI TestClient) on a copy of the tiny demo company.

KPI rows are compared with the CLI's `--format json` output; errors must be RFC 7807 problem JSON with a
4xx status; comments and actions round-trip on SQLite and on PostgreSQL (its own schema)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from typer.testing import CliRunner

from opsfin.cli import app as cli_app
from opsfin.ingest import ingest_file
from opsfin.web import create_app
from web_support import (
    PASSWORD,
    TestClient,
    add_people,
    add_quarantine,
    app_db_url,
    assert_problem,
    bearer,
    copy_workspace,
)

PERIOD = "2024-04"  # the tiny company's last month


@pytest.fixture(scope="module")
def ws(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_api")
    w = copy_workspace(tiny_demo, folder / "ws")
    add_quarantine(w, folder / "bad")
    return w


def _env(ws, kind, folder):
    with app_db_url(kind, folder) as url:
        db, tokens = add_people(url, login_attempts_per_minute=3)
        client = TestClient(create_app(ws.path, app_db_url=url))
        yield client, db, tokens
        db.close()


@pytest.fixture(scope="module")
def sqlite_env(ws, tmp_path_factory):
    yield from _env(ws, "sqlite", tmp_path_factory.mktemp("web_api_sqlite"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request, ws, tmp_path_factory):
    """The app on each app-database backend."""
    yield from _env(ws, request.param, tmp_path_factory.mktemp(f"web_api_{request.param}"))


def cli_json(ws, *args: str):
    result = CliRunner().invoke(cli_app, [*args, "--format", "json", "-w", str(ws.path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---------------------------------------------------------------- reads match the CLI
@pytest.mark.parametrize(
    "query,cli_args",
    [
        ("by=site", ["--by", "site"]),
        (
            "grain=week&by=site,shift&where=site=P2&from=2024-02-10&to=2024-03-20",
            [
                "--grain",
                "week",
                "--by",
                "site,shift",
                "--where",
                "site=P2",
                "--from",
                "2024-02-10",
                "--to",
                "2024-03-20",
            ],
        ),
    ],
)
def test_kpi_rows_are_the_cli_json_rows(ws, sqlite_env, query, cli_args):
    client, _, tokens = sqlite_env
    response = client.get(f"/api/v1/kpis/oee?{query}", headers=bearer(tokens["ada"]))
    assert response.status_code == 200, response.text
    expected = cli_json(ws, "kpi", "oee", *cli_args)
    assert expected, "the CLI returned no rows: the comparison would prove nothing"
    assert response.json() == expected


def test_money_kpi_keeps_exact_decimals_like_the_cli(ws, sqlite_env):
    client, _, tokens = sqlite_env
    rows = client.get("/api/v1/kpis/revenue?by=site", headers=bearer(tokens["ada"])).json()
    assert rows == cli_json(ws, "kpi", "revenue", "--by", "site")
    assert all(isinstance(r["value"], str) and Decimal(r["value"]) == Decimal(r["numerator"]) for r in rows)


def test_catalog_lists_every_kpi_of_the_cli(ws, sqlite_env):
    client, _, tokens = sqlite_env
    catalog = client.get("/api/v1/kpis", headers=bearer(tokens["val"])).json()
    assert catalog and [k["id"] for k in catalog] == [k["id"] for k in cli_json(ws, "kpi", "--list")]
    dso = next(k for k in catalog if k["id"] == "dso")
    assert dso["company_level"] is True and dso["dimensions"] == []


def test_alerts_bottlenecks_variances_unit_economics_are_the_cli_rows(ws, sqlite_env):
    client, _, tokens = sqlite_env
    h = bearer(tokens["carl"])
    alerts = client.get("/api/v1/alerts", headers=h).json()
    cli_alerts = cli_json(ws, "alerts")
    assert [{k: a[k] for k in cli_alerts[0]} for a in alerts] == cli_alerts
    assert client.get("/api/v1/bottlenecks", headers=h).json() == cli_json(ws, "bottlenecks")
    assert client.get(f"/api/v1/variances?from={PERIOD}&to={PERIOD}&by=work_center", headers=h).json() == cli_json(
        ws, "variance", "--from", PERIOD, "--to", PERIOD, "--by", "work_center"
    )
    assert client.get("/api/v1/unit-economics?by=product", headers=h).json() == cli_json(
        ws, "unit-economics", "--by", "product"
    )


def test_variance_drill_returns_the_source_rows(ws, sqlite_env):
    client, _, tokens = sqlite_env
    rows = client.get(f"/api/v1/variances?from={PERIOD}&to={PERIOD}&drill=scrap", headers=bearer(tokens["ada"]))
    assert rows.status_code == 200
    assert rows.json() == cli_json(ws, "variance", "--from", PERIOD, "--to", PERIOD, "--drill", "scrap")
    assert rows.json()


def test_loads_and_quarantine(ws, sqlite_env):
    client, _, tokens = sqlite_env
    h = bearer(tokens["ada"])
    loads = client.get("/api/v1/loads", headers=h).json()
    assert {(r["table_name"], r["rows_quarantined"]) for r in loads} >= {
        ("work_centers", 2),
        ("products", 1),
    }
    quarantine = client.get("/api/v1/quarantine", headers=h).json()
    assert sorted((q["table_name"], q["site"]) for q in quarantine) == [
        ("products", None),
        ("work_centers", "P1"),
        ("work_centers", "P2"),
    ]
    assert all(q["reason"] and isinstance(q["raw_record"], dict) for q in quarantine)
    only_p2 = client.get("/api/v1/quarantine?site=P2", headers=h).json()
    assert [q["raw_record"]["work_center_id"] for q in only_p2] == ["P2-NEW"]


def test_openapi_is_published(sqlite_env):
    client, _, _ = sqlite_env
    spec = client.get("/api/openapi.json").json()
    for path in (
        "/api/v1/kpis",
        "/api/v1/kpis/{kpi}",
        "/api/v1/alerts",
        "/api/v1/bottlenecks",
        "/api/v1/variances",
        "/api/v1/unit-economics",
        "/api/v1/loads",
        "/api/v1/quarantine",
        "/api/v1/comments",
        "/api/v1/actions",
        "/api/v1/actions/{action_id}",
        "/api/v1/audit",
        "/api/v1/export/pack",
    ):
        assert path in spec["paths"], path
    assert "patch" in spec["paths"]["/api/v1/actions/{action_id}"]
    # a guardrail's `by` names each dimension once: the document says so, so a client (or a fuzzer) knows
    # that ["site", "site"] is not a valid body before the server answers 422
    assert spec["components"]["schemas"]["GuardrailIn"]["properties"]["by"]["uniqueItems"] is True


# ---------------------------------------------------------------- authentication and errors
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/kpis",
        "/api/v1/kpis/oee?by=site",
        "/api/v1/alerts",
        "/api/v1/variances",
        "/api/v1/loads",
        "/api/v1/quarantine",
        "/api/v1/comments",
        "/api/v1/audit",
    ],
)
def test_401_without_credentials(sqlite_env, path):
    client, _, _ = sqlite_env
    client.cookies.clear()
    response = client.get(path)
    assert_problem(response, 401, "log in|token")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer opsfin_not-a-real-token", "Basic YWRhOnB3", "Bearer "])
def test_401_with_a_bad_authorization_header(sqlite_env, header):
    client, _, _ = sqlite_env
    assert_problem(client.get("/api/v1/kpis", headers={"Authorization": header}), 401, "token|Bearer")


def test_revoked_token_is_refused(sqlite_env):
    client, db, _ = sqlite_env
    token = db.create_token("short-lived", "ann", actor="test")
    assert client.get("/api/v1/kpis", headers=bearer(token)).status_code == 200
    db.revoke_token("short-lived", actor="test")
    assert_problem(client.get("/api/v1/kpis", headers=bearer(token)), 401, "revoked")


@pytest.mark.parametrize(
    "path,status,detail",
    [
        ("/api/v1/kpis/no_such_kpi", 404, "unknown KPI 'no_such_kpi'"),
        ("/api/v1/kpis/oee?grain=fortnight", 400, "grain 'fortnight'"),
        ("/api/v1/kpis/oee?from=2024-13-01", 400, "2024-13-01"),
        ("/api/v1/kpis/oee?from=2024-03-01&to=2024-02-01", 400, "after"),
        ("/api/v1/kpis/oee?by=planet", 400, "planet"),
        ("/api/v1/kpis/dso?by=site", 400, "site"),
        ("/api/v1/kpis/oee?where=site", 400, "DIM=VALUE"),
        ("/api/v1/variances?from=2024-04-15", 400, "first of a month|2024-04-15"),
        ("/api/v1/variances?by=planet", 400, "planet"),
        ("/api/v1/variances?drill=no_category", 400, "no_category"),
        ("/api/v1/unit-economics?by=planet", 400, "planet"),
        ("/api/v1/unit-economics?scope=moon", 400, "moon"),
        ("/api/v1/bottlenecks?grain=decade", 400, "decade"),
        ("/api/v1/quarantine?load=L-none", 400, "L-none"),
        ("/api/v1/quarantine?table=no_table", 400, "no_table"),
        ("/api/v1/alerts?from=yesterday", 400, "yesterday"),
        ("/api/v1/alerts/AL-000000000000", 404, "AL-000000000000"),
        ("/api/v1/actions/999999", 404, "999999"),
        ("/api/v1/actions/abc", 422, "action_id"),
        ("/api/v1/actions?status=sleeping", 422, "status"),
        ("/api/v1/audit?limit=0", 422, "limit"),
        ("/api/v1/export/pack?period=2024-13", 400, "2024-13"),
        ("/api/v1/export/pack?period=2024-04&format=pdf", 422, "format"),
        ("/api/v1/nowhere", 404, "/api/v1/nowhere"),
        # found by review: each of these was a 500
        ("/api/v1/kpis/oee?by=work_center,work_center", 400, "work_center twice"),
        ("/api/v1/actions/99999999999999999999999", 422, "action_id"),  # beyond the INTEGER column
        ("/api/v1/actions/3000000000", 422, "action_id"),  # beyond int4 (PostgreSQL)
        ("/api/v1/variances?to=9999-12", 422, "out of range"),  # month arithmetic past year 9999
        ("/api/v1/export/pack?period=9999-12", 422, "out of range"),
        ("/api/v1/export/pack?period=2024-04&site=ZZ", 400, "ZZ"),
    ],
)
def test_bad_input_is_a_4xx_problem(sqlite_env, path, status, detail):
    client, _, tokens = sqlite_env
    assert_problem(client.get(path, headers=bearer(tokens["ada"])), status, detail)


@pytest.mark.parametrize(
    "method,path,body,status,detail",
    [
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "kpi", "subject_id": "oee", "body": ""},
            422,
            "body",
        ),
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "planet", "subject_id": "x", "body": "hi"},
            422,
            "subject_type",
        ),
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "kpi", "subject_id": "nope", "body": "hi"},
            404,
            "nope",
        ),
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "alert", "subject_id": "alert:AL-0", "body": "hi"},
            404,
            "AL-0",
        ),
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "variance", "subject_id": "variance:April", "body": "x"},
            400,
            "YYYY-MM",
        ),
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "action", "subject_id": "action:424242", "body": "x"},
            404,
            "424242",
        ),
        (
            "post",
            "/api/v1/actions",
            {"title": "t", "owner": "o", "due": "2024-02-30", "expected_impact": "1"},
            422,
            "due",
        ),
        (
            "post",
            "/api/v1/actions",
            {"title": "t", "owner": "o", "due": "2024-02-01", "expected_impact": "lots"},
            422,
            "expected_impact",
        ),
        (
            "post",
            "/api/v1/actions",
            {"title": "t", "owner": "o", "due": "2024-02-01", "expected_impact": "1.005"},
            422,
            "2 decimal places",
        ),
        # found by review: amounts beyond NUMERIC(18,2), a huge action id, bad guardrails were 500s (or, for the
        # guardrails, written to the file and then broke every page that shows alerts)
        (
            "post",
            "/api/v1/actions",
            {"title": "t", "owner": "o", "due": "2024-02-01", "expected_impact": "1e308"},
            422,
            "18 digits",
        ),
        (
            "post",
            "/api/v1/actions",
            {"title": "t", "owner": "o", "due": "2024-02-01", "expected_impact": 10**20},
            422,
            "18 digits",
        ),
        ("patch", "/api/v1/actions/1", {"expected_impact": "9" * 40}, 422, "18 digits"),
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "action", "subject_id": "action:99999999999999999999", "body": "x"},
            404,
            "99999999999999999999",
        ),
        (
            "post",
            "/api/v1/guardrails",
            {"kpi": "oee", "by": ["site", "site"], "min": 0.1},
            422,
            "site twice",
        ),
        (
            "post",
            "/api/v1/guardrails",
            {"kpi": "oee", "where": {"site": "P9"}, "min": 0.1},
            400,
            "unknown site P9",
        ),
        ("post", "/api/v1/guardrails", {"kpi": "oee", "min": "1e999"}, 422, "finite"),
        ("put", "/api/v1/guardrails/0", {"max": "1e999"}, 422, "finite"),
        (
            "post",
            "/api/v1/actions",
            {
                "title": "t",
                "owner": "o",
                "due": "2024-02-01",
                "expected_impact": "1",
                "subject_type": "alert",
            },
            400,
            "subject_type and subject_id",
        ),
        (
            "post",
            "/api/v1/actions",
            {"title": "t", "owner": "o", "due": "2024-02-01", "expected_impact": "1", "site": "ZZ"},
            404,
            "ZZ",
        ),
        ("patch", "/api/v1/actions/1", {"status": "sleeping"}, 422, "status"),
        ("patch", "/api/v1/actions/1", {}, 400, "nothing to change"),
        ("post", "/api/v1/comments", "not json", 422, ""),
    ],
)
def test_bad_writes_are_4xx_problems(sqlite_env, method, path, body, status, detail):
    client, db, tokens = sqlite_env
    if db.get_action(1) is None:
        db.add_action("test", "seed", "owner", dt.date(2030, 1, 1), Decimal("1"))
    kwargs = (
        {"json": body}
        if not isinstance(body, str)
        else {"content": body, "headers": {"content-type": "application/json"}}
    )
    headers = bearer(tokens["carl"]) | kwargs.pop("headers", {})
    assert_problem(getattr(client, method)(path, headers=headers, **kwargs), status, detail)


# ---------------------------------------------------------------- collaboration (SQLite and PostgreSQL)
def test_comments_and_actions_round_trip(env):
    client, db, tokens = env
    analyst, controller, admin = (
        bearer(tokens["ann"]),
        bearer(tokens["carl"]),
        bearer(tokens["ada"]),
    )
    alerts = client.get("/api/v1/alerts", headers=analyst).json()
    assert alerts, "the tiny demo has guardrail alerts"
    alert = alerts[0]

    made = client.post(
        "/api/v1/comments",
        headers=analyst,
        json={
            "subject_type": "alert",
            "subject_id": f"alert:{alert['id']}",
            "body": "Seen it: a holiday week.",
        },
    )
    assert made.status_code == 201, made.text
    comment = made.json()
    assert comment["author"] == "ann" and comment["subject_id"] == f"alert:{alert['id']}"
    assert comment["site"] == (alert["sites"][0] if len(alert["sites"]) == 1 else None)
    listed = client.get(f"/api/v1/comments?subject_type=alert&subject_id={alert['id']}", headers=analyst).json()
    assert [c["body"] for c in listed] == ["Seen it: a holiday week."]

    due = dt.date.today() - dt.timedelta(days=2)
    created = client.post(
        "/api/v1/actions",
        headers=controller,
        json={
            "title": "Re-plan the support rota",
            "owner": "support lead",
            "due": due.isoformat(),
            "expected_impact": "12345.67",
            "subject_type": "alert",
            "subject_id": alert["id"],
        },
    )
    assert created.status_code == 201, created.text
    action = created.json()
    assert action["status"] == "open" and action["expected_impact"] == "12345.67"
    assert action["subject_id"] == f"alert:{alert['id']}" and action["created_by"] == "carl"

    overdue = client.get("/api/v1/actions?overdue=true", headers=analyst).json()
    assert action["id"] in [a["id"] for a in overdue]
    patched = client.patch(
        f"/api/v1/actions/{action['id']}",
        headers=controller,
        json={"status": "in_progress", "expected_impact": "9999.10"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["status"], patched.json()["expected_impact"]) == (
        "in_progress",
        "9999.10",
    )
    assert db.get_action(action["id"])["expected_impact"] == Decimal("9999.10")
    fetched = client.get(f"/api/v1/actions/{action['id']}", headers=analyst).json()
    assert fetched["status"] == "in_progress"

    audit = client.get("/api/v1/audit?limit=10", headers=admin).json()
    kinds = [(e["action"], e["actor"]) for e in audit]
    assert kinds[:3] == [("action.update", "carl"), ("action.add", "carl"), ("comment.add", "ann")]
    assert client.get("/api/v1/audit?object_type=comment", headers=admin).json()[0]["object_type"] == "comment"
    assert db.verify_audit() == []


def test_comment_on_a_kpi_at_a_site_and_on_a_variance_member(env):
    client, _, tokens = env
    h = bearer(tokens["ann"])
    kpi = client.post(
        "/api/v1/comments",
        headers=h,
        json={
            "subject_type": "kpi",
            "subject_id": "oee",
            "body": "P2 night shift is short-staffed",
            "site": "P2",
        },
    )
    assert kpi.status_code == 201 and kpi.json()["site"] == "P2"
    member = client.post(
        "/api/v1/comments",
        headers=h,
        json={
            "subject_type": "variance",
            "subject_id": f"variance:{PERIOD}:scrap:work_center=P1-ASSY",
            "body": "x",
        },
    )
    assert member.status_code == 201 and member.json()["site"] == "P1"
    company = client.post(
        "/api/v1/comments",
        headers=h,
        json={
            "subject_type": "variance",
            "subject_id": f"{PERIOD}:sales_mix",
            "body": "mix shift to FG-002",
        },
    )
    assert company.status_code == 201
    assert (company.json()["subject_id"], company.json()["site"]) == (
        f"variance:{PERIOD}:sales_mix",
        None,
    )


# ---------------------------------------------------------------- people: sessions, CSRF, throttling
def login(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/alerts"},
        follow_redirects=False,
    )


def test_session_cookie_and_csrf_on_cookie_writes(ws, sqlite_env):
    client, _, _ = sqlite_env
    client.cookies.clear()
    response = login(client, "ann")
    assert response.status_code == 303 and response.headers["location"] == "/alerts"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("opsfin_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client.get("/api/v1/kpis").status_code == 200
    body = {"subject_type": "kpi", "subject_id": "scrap_rate", "body": "cookie comment"}
    assert_problem(client.post("/api/v1/comments", json=body), 403, "CSRF")
    page = client.get("/kpis/scrap_rate")
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    assert client.post("/api/v1/comments", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    form = {
        "subject_type": "kpi",
        "subject_id": "scrap_rate",
        "body": "form comment",
        "next": "/kpis/scrap_rate",
    }
    forged = client.post("/comments", data=form | {"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "CSRF" in forged.text
    posted = client.post("/comments", data=form | {"csrf_token": csrf}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/kpis/scrap_rate"
    assert "form comment" in client.get("/kpis/scrap_rate").text
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/api/v1/kpis").status_code == 401
    client.cookies.clear()


def test_secure_cookie_when_configured(ws, tmp_path, monkeypatch):
    monkeypatch.setenv("OPSFIN_WEB__SECURE_COOKIES", "true")
    url = f"sqlite:///{tmp_path}/app.db"
    db, _ = add_people(url)
    client = TestClient(create_app(ws.path, app_db_url=url), base_url="https://testserver")
    cookie = next(c for c in login(client, "val").headers.get_list("set-cookie") if c.startswith("opsfin_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    db.close()


def test_failed_logins_are_rate_limited(sqlite_env):
    client, _, _ = sqlite_env
    client.cookies.clear()
    allowed = client.app.state.opsfin.ws.settings.web.login_attempts_per_minute
    assert allowed == 5  # the default of web.login_attempts_per_minute
    for _ in range(allowed):
        assert login(client, "val", "wrong password").status_code == 401
    throttled = login(client, "val")  # even the right password is refused now
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many failed logins" in throttled.text


def test_login_form_refuses_a_forged_form(sqlite_env):
    client, _, _ = sqlite_env
    client.cookies.clear()
    response = client.post(
        "/login",
        data={"name": "ada", "password": PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "opsfin_session" not in response.headers.get("set-cookie", "")


def test_pages_redirect_to_login_and_keep_the_target(sqlite_env):
    client, _, _ = sqlite_env
    client.cookies.clear()
    response = client.get("/variances?period=2024-04", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/variances%3Fperiod%3D2024-04"


def test_variance_waterfall_shows_the_engine_ends_of_the_bridge(ws, sqlite_env):
    client, _, _ = sqlite_env
    client.cookies.clear()
    assert login(client, "ada").status_code == 303  # "val" is throttled by the rate-limit test
    page = client.get(f"/variances?period={PERIOD}")
    ends = ws.variance_summary(PERIOD, PERIOD).to_dicts()[0]
    assert page.status_code == 200
    for figure in (ends["static_budget_gm"], ends["actual_gm"]):
        assert f"{figure:,.2f}" in page.text
    client.cookies.clear()


# ---------------------------------------------------------------- exports and the result cache
def test_export_pack_downloads(sqlite_env):
    client, _, tokens = sqlite_env
    xlsx = client.get(f"/api/v1/export/pack?period={PERIOD}&format=xlsx", headers=bearer(tokens["val"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert f"pack-{PERIOD}.xlsx" in xlsx.headers["content-disposition"]
    html = client.get(f"/api/v1/export/pack?period={PERIOD}&format=html", headers=bearer(tokens["pia"]))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "P1" in html.text and "Days sales outstanding" not in html.text


def test_pack_download_shows_an_action_made_a_moment_ago(sqlite_env):
    client, _, tokens = sqlite_env
    controller = bearer(tokens["carl"])
    url = f"/api/v1/export/pack?period={PERIOD}&format=html"
    before = client.get(url, headers=controller)
    assert before.status_code == 200 and "Renegotiate the freight contract" not in before.text
    made = client.post(
        "/api/v1/actions",
        headers=controller,
        json={
            "title": "Renegotiate the freight contract",
            "owner": "buyer",
            "due": "2030-01-31",
            "expected_impact": "2500.00",
        },
    )
    assert made.status_code == 201, made.text
    after = client.get(url, headers=controller)
    assert "Renegotiate the freight contract" in after.text and "2,500.00" in after.text


def test_results_are_cached_until_a_new_load(tiny_demo, tmp_path):
    w = copy_workspace(tiny_demo, tmp_path / "ws")
    url = f"sqlite:///{tmp_path}/app.db"
    db, tokens = add_people(url)
    app = create_app(w.path, app_db_url=url)
    client, h = TestClient(app), bearer(tokens["ada"])
    cache = app.state.opsfin.results.cache
    cache.recheck_seconds = 0  # look at the files on every request (the server does so at most once a second)
    first = client.get("/api/v1/kpis/scrap_rate?by=site", headers=h).json()
    misses = cache.misses
    assert client.get("/api/v1/kpis/scrap_rate?by=site", headers=h).json() == first
    assert cache.misses == misses, "the second request recomputed the KPI"
    assert client.get("/api/v1/quarantine", headers=h).json() == []
    add_quarantine(w, tmp_path / "bad")  # a new load changes the warehouse's signature
    assert len(client.get("/api/v1/quarantine", headers=h).json()) == 3
    ingest_file(w, tmp_path / "bad" / "products.csv", table="products")  # the same content again adds nothing
    assert len(client.get("/api/v1/quarantine", headers=h).json()) == 3
    db.close()


# ---------------------------------------------------------------- guardrails (controllers edit model/guardrails.yaml)
def test_guardrail_edit_changes_alerts_and_is_audited(tiny_demo, tmp_path):
    from opsfin.runs.model import load_guardrails

    w = copy_workspace(tiny_demo, tmp_path / "ws")
    url = f"sqlite:///{tmp_path}/app.db"
    db, tokens = add_people(url)
    client = TestClient(create_app(w.path, app_db_url=url))
    controller = bearer(tokens["carl"])
    # 0.65: the shipped OEE band (model_defaults/guardrails.yaml, set on the calibrated demo company)
    listed = client.get("/api/v1/guardrails?kpi=oee", headers=controller).json()
    assert [(g["kpi"], g["min"], g["by"]) for g in listed] == [("oee", 0.65, "site")]
    index = listed[0]["index"]
    oee_alerts = [a for a in client.get("/api/v1/alerts", headers=controller).json() if a["kpi"] == "oee"]

    # refused: an analyst, a plant manager on a company-wide guardrail, a band upside down, an unknown index
    assert_problem(
        client.put(f"/api/v1/guardrails/{index}", headers=bearer(tokens["ann"]), json={"min": 0.9}),
        403,
        "edit guardrails",
    )
    assert_problem(
        client.put(f"/api/v1/guardrails/{index}", headers=bearer(tokens["pia"]), json={"min": 0.9}),
        403,
        "no site",
    )
    assert_problem(
        client.put(f"/api/v1/guardrails/{index}", headers=controller, json={"max": 0.2}),
        400,
        "min 0.65 is above max 0.2",
    )
    assert_problem(client.put("/api/v1/guardrails/99", headers=controller, json={"min": 0.5}), 404, "#99")
    assert load_guardrails(w.model_dir)[index].min == 0.65  # nothing was written

    changed = client.put(f"/api/v1/guardrails/{index}", headers=controller, json={"min": 0.99, "severity": "stop"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["min"], changed.json()["severity"]) == (0.99, "stop")
    saved = next(g for g in load_guardrails(w.model_dir) if g.kpi == "oee")
    assert (saved.min, saved.severity, saved.by) == (0.99, "stop", ("site",))
    assert (w.model_dir / "guardrails.yaml").read_text().startswith("# Guardrails")  # the header stays
    after = [a for a in client.get("/api/v1/alerts", headers=controller).json() if a["kpi"] == "oee"]
    assert len(after) > len(oee_alerts) and {a["severity"] for a in after} == {"stop"}
    entry = client.get("/api/v1/audit?object_type=guardrail", headers=bearer(tokens["ada"])).json()[0]
    assert (entry["action"], entry["actor"], entry["object_id"]) == (
        "guardrail.change",
        "carl",
        "oee",
    )
    assert entry["payload"]["before"]["min"] == 0.65 and entry["payload"]["after"]["min"] == 0.99

    added = client.post(
        "/api/v1/guardrails",
        headers=bearer(tokens["pia"]),
        json={"kpi": "scrap_rate", "where": {"site": "P1"}, "max": 0.05, "owner": "pia"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["sites"] == ["P1"]
    assert_problem(
        client.post(
            "/api/v1/guardrails",
            headers=bearer(tokens["pia"]),
            json={"kpi": "scrap_rate", "where": {"site": "P2"}, "max": 0.05},
        ),
        403,
        "P2",
    )
    assert_problem(
        client.post("/api/v1/guardrails", headers=controller, json={"kpi": "nope", "max": 1}),
        400,
        "unknown KPI 'nope'",
    )
    assert db.verify_audit() == []
    db.close()


def test_a_page_shows_the_latest_50_comments(sqlite_env):
    client, db, _ = sqlite_env
    for i in range(55):
        db.add_comment("ann", "kpi", "csat", f"note number {i:02d}", site=None)
    client.cookies.clear()
    assert login(client, "carl").status_code == 303  # not val: an earlier test throttled val's logins
    page = client.get("/kpis/csat").text
    assert "Comments (55)" in page and "The latest 50 are shown" in page
    assert "note number 54" in page and "note number 05" in page and "note number 04" not in page
    client.cookies.clear()


# ---------------------------------------------------------------- found by review (R5): pages and forms
def logged_in(client, name: str = "ada"):
    client.cookies.clear()
    assert login(client, name).status_code == 303
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


@pytest.mark.parametrize(
    "path,status,detail",
    [
        (
            "/?period=9999-12",
            400,
            "out of range",
        ),  # was a 500: the 12-month window overflowed the calendar
        ("/variances?period=0001-01", 400, "out of range"),
        ("/actions/99999999999999999999", 422, "action_id"),  # was a 500 (SQLite INTEGER overflow)
    ],
)
def test_bad_page_input_is_a_4xx_error_page(sqlite_env, path, status, detail):
    client = logged_in(sqlite_env[0])
    response = client.get(path)
    assert response.status_code == status and 'class="error-state"' in response.text
    assert re.search(detail, response.text)
    client.cookies.clear()


def test_forms_refuse_amounts_the_database_cannot_hold(sqlite_env):
    client, db, _ = sqlite_env
    logged_in(client, "carl")
    csrf = csrf_of(client.get("/actions").text)
    form = {
        "csrf_token": csrf,
        "title": "huge",
        "owner": "o",
        "due": "2030-01-01",
        "next": "/actions",
    }
    for amount in (
        "1e999",
        "99999999999999999999",
    ):  # were 500s (decimal.InvalidOperation in the database)
        response = client.post("/actions", data=form | {"expected_impact": amount}, follow_redirects=False)
        assert response.status_code == 400 and "expected_impact" in response.text, response.text[:300]
    assert not [a for a in db.list_actions() if a["title"] == "huge"]
    made = client.post("/actions", data=form | {"expected_impact": "12.50"}, follow_redirects=False)
    assert made.status_code == 303
    action_id = int(made.headers["location"].split("/")[2].split("?")[0])
    update = {"csrf_token": csrf, "expected_impact": "1e999"}
    assert client.post(f"/actions/{action_id}", data=update, follow_redirects=False).status_code == 400
    assert db.get_action(action_id)["expected_impact"] == Decimal("12.50")
    client.cookies.clear()


def test_an_unexpected_error_is_a_problem_or_the_error_page(ws, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/app.db"
    db, tokens = add_people(url)
    app = create_app(ws.path, app_db_url=url)
    client = TestClient(app, raise_server_exceptions=False)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.state.opsfin.results, "bottlenecks", broken)
    api = client.get("/api/v1/bottlenecks", headers=bearer(tokens["ada"]))
    body = assert_problem(api, 500, "unexpected error")
    assert "secret internals" not in api.text and "Traceback" not in api.text and body["title"] == "Internal error"
    logged_in(client)
    page = client.get(f"/operations?period={PERIOD}")
    assert page.status_code == 500 and 'class="error-state"' in page.text and "secret internals" not in page.text
    assert "Log out" in page.text  # the error state keeps the page frame, not a bare "Internal Server Error"
    db.close()


def test_filters_survive_form_posts(sqlite_env):
    client, db, _ = sqlite_env
    logged_in(client, "ada")
    view = "period=2024-03&site=P1"
    kpi = client.get(f"/kpis/scrap_rate?{view}&by=work_center")
    csrf = csrf_of(kpi.text)
    # the action form of a KPI opens the new action in the same view
    made = client.post(
        "/actions",
        follow_redirects=False,
        data={
            "csrf_token": csrf,
            "title": "Scrap at P1",
            "owner": "lead",
            "due": "2030-01-01",
            "expected_impact": "10",
            "subject_type": "kpi",
            "subject_id": "scrap_rate",
            "site": "P1",
            "next": html.unescape(
                re.search(r'id="action-form">.*?name="next" value="([^"]+)"', kpi.text, re.S).group(1)
            ),
        },
    )
    assert made.status_code == 303 and made.headers["location"].endswith(f"?{view}"), made.headers["location"]
    action_id = made.headers["location"].split("/")[2].split("?")[0]
    action = client.get(made.headers["location"]).text
    update_next = re.search(r'id="action-update">.*?name="next" value="([^"]+)"', action, re.S).group(1)
    assert html.unescape(update_next) == f"/actions/{action_id}?{view}"
    updated = client.post(
        f"/actions/{action_id}",
        follow_redirects=False,
        data={"csrf_token": csrf, "status": "in_progress", "next": f"/actions/{action_id}?{view}"},
    )
    assert updated.headers["location"] == f"/actions/{action_id}?{view}"
    # the comment form of a KPI comes back to the same split
    nxt = re.search(r'action="/comments".*?name="next" value="([^"]+)"', kpi.text, re.S).group(1)
    path, _, query = html.unescape(nxt).partition("?")
    assert path == "/kpis/scrap_rate" and dict(parse_qsl(query)) | {"where": "site=P1"} == {
        "period": "2024-03",
        "site": "P1",
        "by": "work_center",
        "where": "site=P1",
    }  # the site filter, spelt out
    # the actions list links to each action in the same view; the admin forms come back to the same view
    assert f'href="/actions/{action_id}?{view}'.replace("&", "&amp;") in client.get(f"/actions?{view}").text
    admin = client.get(f"/admin?{view}")
    added = client.post(
        "/admin/users",
        follow_redirects=False,
        data={
            "csrf_token": csrf_of(admin.text),
            "name": "newbie",
            "role": "viewer",
            "password": "a long password",
            "next": f"/admin?{view}",
        },
    )
    assert added.status_code == 303 and added.headers["location"] == f"/admin?{view}"
    client.cookies.clear()


def test_a_disabled_users_session_and_tokens_stop_at_once(sqlite_env):
    client, db, _ = sqlite_env
    db.add_user("dora", "viewer", PASSWORD, actor="test")
    token = db.create_token("dora-token", "dora", actor="test")
    logged_in(client, "dora")
    assert client.get("/api/v1/kpis").status_code == 200
    assert client.get("/api/v1/kpis", headers=bearer(token)).status_code == 200
    db.disable_user("dora", actor="test")
    assert_problem(client.get("/api/v1/kpis"), 401, "log in")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert_problem(client.get("/api/v1/kpis", headers=bearer(token)), 401, "disabled")
    client.cookies.clear()


def test_money_tiles_carry_the_currency_and_numbers_their_separators(ws, sqlite_env):
    from opsfin.alerts.model import fmt_value
    from opsfin.web.pages import cell, number

    assert number(1009) == "1,009" and number(Decimal("1234.5678")) == "1,234.5678"  # every digit kept
    assert number(Decimal("-47082.86")) == "-47,082.86" and number(0.4786, "ratio") == "47.9%"
    assert cell(dt.datetime(2024, 4, 1, 8, 30, 5, 123456)) == "2024-04-01 08:30:05"
    client = logged_in(sqlite_env[0])
    page = client.get(f"/?period={PERIOD}").text
    revenue = next(r["value"] for r in ws.kpi(["revenue"]).to_dicts() if r["period_start"] == dt.date(2024, 4, 1))
    tile = re.search(r'data-kpi="revenue">.*?class="tile-value">([^<]+)<', page, re.S).group(1)
    assert tile == f"{ws.settings.base_currency} {fmt_value(float(revenue), 'money')}"
    data = client.get("/data").text
    reads = [r for r in ws.sql("SELECT rows_read FROM loads").to_series().to_list() if r >= 1000]
    assert reads and f"{reads[0]:,}" in data  # e.g. 1,009
    client.cookies.clear()


def test_api_reference_needs_no_internet(sqlite_env):
    client = sqlite_env[0]
    spec = client.get("/api/openapi.json").json()
    page = client.get("/api/docs")
    assert page.status_code == 200 and "cdn." not in page.text and '<script src="http' not in page.text
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in page.text, path
    # errors are documented as what they are: RFC 7807 problems
    responses = spec["paths"]["/api/v1/kpis/{kpi}"]["get"]["responses"]
    assert responses["422"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("ProblemDetails")


def test_guardrail_errors_do_not_show_the_servers_paths(ws, sqlite_env):
    client, _, tokens = sqlite_env
    response = client.post("/api/v1/guardrails", headers=bearer(tokens["carl"]), json={"kpi": "nope", "max": 1})
    body = assert_problem(response, 400, "model/guardrails.yaml: .*unknown KPI 'nope'")
    assert str(ws.path) not in body["detail"]


@pytest.mark.parametrize(
    "path,kept",
    [
        (
            f"/variances?period={PERIOD}&category=scrap&by=product",
            {"category": "scrap", "by": "product"},
        ),
        ("/data?table=products", {"table": "products"}),
    ],
)
def test_changing_period_or_site_keeps_the_pages_own_filters(sqlite_env, path, kept):
    client = logged_in(sqlite_env[0])
    page = client.get(path).text
    form = re.search(r'<form class="filters".*?</form>', page, re.S).group(0)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert hidden == kept  # period and site are the form's selects; the rest rides along
    client.cookies.clear()


def test_pages_and_answers_are_not_stored_by_browsers(sqlite_env):
    client, _, tokens = sqlite_env
    logged_in(client)
    admin = client.get("/admin")
    created = client.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf_of(admin.text),
            "name": "shown-once",
            "user": "val",
            "next": "/admin",
        },
    )
    assert 'id="new-token"' in created.text and created.headers["cache-control"] == "no-store"
    assert client.get("/api/v1/kpis", headers=bearer(tokens["ada"])).headers["cache-control"] == "no-store"
    assert client.get("/static/app.css").headers.get("cache-control") != "no-store"
    client.cookies.clear()
