"""Forwarded headers are believed only from `web.trusted_proxies` (docs/security.md): by default uvicorn
believed X-Forwarded-For from 127.0.0.1, so a caller on the server could pose as a new client at every
failed login and never meet the login rate limit. These tests run `opsfin serve`'s own uvicorn options."""

from __future__ import annotations

import re
import socket
import threading
import time

import httpx
import pytest
import uvicorn

import opsfin
from opsfin.appdb import open_app_db
from opsfin.cli import serve_cmd
from web_support import PASSWORD, copy_workspace

LIMIT = 3  # web.login_attempts_per_minute of these workspaces


def served_options(ws_path, monkeypatch) -> tuple:
    """The app and the uvicorn options `opsfin serve` would run it with (uvicorn.run is intercepted)."""
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    with socket.socket() as s:  # a free port, for `serve`'s own check (uvicorn.run itself does not run)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve_cmd.serve(ws_path, "127.0.0.1", port, banner=False)
    app = seen.pop("app")
    return app, seen


def start(app, options: dict) -> tuple[uvicorn.Server, threading.Thread]:
    options = options | {"port": 0, "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread


def failed_logins(base: str, forwarded_for: list[str]) -> list[int]:
    """One wrong-password login per X-Forwarded-For value; the statuses."""
    statuses = []
    with httpx.Client(base_url=base) as client:
        for address in forwarded_for:
            page = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            response = client.post(
                "/login",
                headers={"X-Forwarded-For": address},
                data={"name": "ada", "password": "wrong", "csrf_token": token, "next": "/"},
            )
            statuses.append(response.status_code)
    return statuses


def workspace(tiny_demo, folder, proxies: str):
    ws = copy_workspace(tiny_demo, folder / "ws")
    with (ws.path / "opsfin.yaml").open("a", encoding="utf-8") as f:
        f.write(f"web:\n  login_attempts_per_minute: {LIMIT}\n  trusted_proxies: {proxies}\n")
    ws = opsfin.open(ws.path)
    open_app_db(ws).add_user("ada", "admin", PASSWORD, actor="test")
    return ws


def run(ws, monkeypatch, addresses: list[str]) -> list[int]:
    app, options = served_options(ws.path, monkeypatch)
    server, thread = start(app, options)
    try:
        port = server.servers[0].sockets[0].getsockname()[1]
        return failed_logins(f"http://127.0.0.1:{port}", addresses)
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_forged_forwarded_for_from_loopback_does_not_reset_the_login_limit(tiny_demo, tmp_path, monkeypatch):
    ws = workspace(tiny_demo, tmp_path, "[]")
    statuses = run(ws, monkeypatch, [f"203.0.113.{i}" for i in range(1, LIMIT + 3)])
    # LIMIT wrong passwords are 401; every later one from the same (real) client is throttled
    assert statuses == [401] * LIMIT + [429, 429]


def test_a_trusted_proxy_names_the_client(tiny_demo, tmp_path, monkeypatch):
    ws = workspace(tiny_demo, tmp_path, "['127.0.0.1']")
    # behind a trusted proxy each forwarded address is its own client: none reaches the limit
    statuses = run(ws, monkeypatch, [f"203.0.113.{i}" for i in range(1, LIMIT + 3)])
    assert statuses == [401] * (LIMIT + 2)


def test_trusted_proxies_must_be_addresses(tiny_demo, tmp_path):
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    (ws.path / "opsfin.yaml").write_text("web:\n  trusted_proxies: ['proxy.example']\n", encoding="utf-8")
    with pytest.raises(opsfin.errors.UserError, match="trusted_proxies.*not an IP address"):
        opsfin.open(ws.path)
