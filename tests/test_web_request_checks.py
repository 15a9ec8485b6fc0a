"""The request checks every answer passes (opsfin.web.app.RequestChecks, docs/web.md "Authentication" and
"Speed"): who is asking is settled before the endpoint runs, and the security headers are on every answer,
including the 401s the checks themselves give; and the app database's SQLite settings (docs/app-database.md)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from opsfin.appdb import AppDB
from opsfin.web.app import CONTENT_SECURITY_POLICY, RequestChecks
from web_support import TestClient

SECURITY = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture(scope="module")
def app_db():
    db = AppDB("sqlite://")
    db.add_user("ann", "viewer", "a long password 1", actor="test")
    yield db
    db.close()


@pytest.fixture(scope="module")
def client(app_db):
    reached: list[str] = []

    def endpoint(request):
        reached.append(request.url.path)
        caller = getattr(request.state, "caller", None)  # identified once, before the endpoint
        return JSONResponse({"user": caller.user.name if caller else None})

    def own_cache(request):
        return PlainTextResponse("ok", headers={"Cache-Control": "max-age=60", "X-Frame-Options": "SAMEORIGIN"})

    app = Starlette(
        routes=[
            Route("/api/v1/thing", endpoint, methods=["GET", "POST"]),
            Route("/healthz", own_cache),
            Route("/static/app.css", own_cache),
        ],
        middleware=[Middleware(RequestChecks)],
    )
    app.state.opsfin = SimpleNamespace(app_db=lambda: app_db)
    with TestClient(app) as c:
        c.reached = reached
        yield c


def test_an_api_call_without_credentials_is_a_401_with_the_security_headers_and_never_reaches_the_endpoint(client):
    before = list(client.reached)
    answer = client.post("/api/v1/thing", content=b"{not json")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert {k: answer.headers[k] for k in SECURITY} == SECURITY
    assert answer.headers["cache-control"] == "no-store"
    assert client.reached == before


def test_a_bearer_token_is_identified_once_and_the_answer_carries_the_headers(client, app_db):
    token = app_db.create_token("ann-reader", "ann", actor="test")
    answer = client.get("/api/v1/thing", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json() == {"user": "ann"}
    assert {k: answer.headers[k] for k in SECURITY} == SECURITY
    assert answer.headers["cache-control"] == "no-store"
    app_db.revoke_token("ann-reader", actor="test")  # the next request reads the database again
    assert client.get("/api/v1/thing", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_headers_an_answer_sets_itself_are_kept_and_static_files_may_be_cached(client):
    public = client.get("/healthz")
    assert public.headers["cache-control"] == "max-age=60"
    assert public.headers["x-frame-options"] == "SAMEORIGIN"
    assert public.headers.get_list("x-frame-options") == ["SAMEORIGIN"]  # not doubled
    assert public.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    static = client.get("/static/app.css")
    assert static.headers["cache-control"] == "max-age=60"
    assert static.headers["x-content-type-options"] == "nosniff"


def test_a_sqlite_file_is_opened_in_wal_mode_with_synchronous_normal(tmp_path):
    db = AppDB(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # 0 OFF, 1 NORMAL, 2 FULL
        db.add_user("bob", "analyst", "a long password 2", actor="test")
        db.add_comment("bob", "kpi", "oee", "a comment and its audit entry, in one transaction")
        assert db.verify_audit() == []
    finally:
        db.close()


def test_anything_but_http_passes_through_untouched():
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    asyncio.run(RequestChecks(inner)({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]
