"""Web hardening: authentication before validation, strict request types, forwarded headers only from
trusted proxies (docs/security.md). People and passwords come from tests/web_support.py."""

from __future__ import annotations

import pytest

from opsfin.web import create_app
from web_support import TestClient, add_people, assert_problem, bearer, copy_workspace


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("security_web")
    ws = copy_workspace(tiny_demo, folder / "ws")
    url = f"sqlite:///{folder}/app.db"
    db, tokens = add_people(url)
    client = TestClient(create_app(ws.path, app_db_url=url))
    yield {"client": client, "tokens": tokens, "db": db, "ws": ws, "url": url}
    db.close()


# ---------------------------------------------------------------- authentication before validation
BAD_WRITES = [
    ("post", "/api/v1/actions", {"due": "not a date", "expected_impact": "x"}),
    ("patch", "/api/v1/actions/abc", {"status": "nonsense"}),
    ("put", "/api/v1/guardrails/not-a-number", {"max": "high"}),
    ("post", "/api/v1/guardrails", {"kpi": ""}),
    ("post", "/api/v1/comments", {"subject_type": "nope"}),
    ("post", "/api/v1/matches/not-an-id/confirm", None),
    ("get", "/api/v1/audit?limit=-5", None),
    ("get", "/api/v1/actions/0", None),
]


@pytest.mark.parametrize("method,path,body", BAD_WRITES)
def test_without_credentials_a_bad_request_is_401_not_422(env, method, path, body):
    response = env["client"].request(method, path, json=body)
    assert_problem(response, 401, "log in")


def test_a_malformed_json_body_without_credentials_is_401(env):
    response = env["client"].post("/api/v1/actions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_problem(response, 401, "log in")


def test_an_unknown_token_with_a_bad_body_is_401(env):
    response = env["client"].post("/api/v1/actions", json={"due": "x"}, headers=bearer("opsfin_nope"))
    assert_problem(response, 401, "unknown, revoked")


def test_a_form_post_without_a_session_goes_to_the_login_form(env):
    client = env["client"]
    client.cookies.clear()
    response = client.post("/actions/not-a-number", data={"due": "x"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_with_credentials_the_bad_body_is_still_a_clear_422(env):
    response = env["client"].post("/api/v1/actions", json={"due": "x"}, headers=bearer(env["tokens"]["carl"]))
    assert_problem(response, 422, "due")


@pytest.mark.parametrize("path", ["/healthz", "/api/openapi.json", "/login", "/static/app.css"])
def test_public_paths_need_no_login(env, path):
    env["client"].cookies.clear()
    assert env["client"].get(path).status_code == 200


# ---------------------------------------------------------------- strict types in request bodies
ACTION = {"title": "t", "owner": "o", "due": "2030-01-31", "expected_impact": "10.00"}


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("post", "/api/v1/actions", ACTION | {"due": 0}, "due"),  # would be 1970-01-01
        (
            "post",
            "/api/v1/actions",
            ACTION | {"due": "2030-01-31T00:00:00"},
            "due",
        ),  # a timestamp, not a day
        ("post", "/api/v1/actions", ACTION | {"expected_impact": True}, "expected_impact"),
        ("patch", "/api/v1/actions/1", {"due": 86400}, "due"),
        ("patch", "/api/v1/actions/1", {"expected_impact": False}, "expected_impact"),
        ("put", "/api/v1/guardrails/0", {"max": True}, "max"),  # was stored as 1.0
        ("put", "/api/v1/guardrails/0", {"min": False}, "min"),
        ("post", "/api/v1/guardrails", {"kpi": "oee", "max": True}, "max"),
        (
            "post",
            "/api/v1/comments",
            {"subject_type": "kpi", "subject_id": 7, "body": "x"},
            "subject_id",
        ),
    ],
)
def test_booleans_numbers_and_timestamps_are_refused_where_they_do_not_belong(env, method, path, body, field):
    guardrails = (env["ws"].model_dir / "guardrails.yaml").read_text(encoding="utf-8")
    response = env["client"].request(method, path, json=body, headers=bearer(env["tokens"]["ada"]))
    assert_problem(response, 422, field)
    assert (env["ws"].model_dir / "guardrails.yaml").read_text(encoding="utf-8") == guardrails


def test_a_day_as_yyyy_mm_dd_is_still_taken(env):
    response = env["client"].post("/api/v1/actions", json=ACTION, headers=bearer(env["tokens"]["carl"]))
    assert response.status_code == 201, response.text
    assert response.json()["due"] == "2030-01-31"
