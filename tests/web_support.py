"""Helpers for the web tests (test_web_api.py, test_web_authz.py, test_web_browser.py).

Each test module works on its own copy of the tiny demo workspace (the session's `tiny_demo` is shared
and read-only), with quarantined rows of its own and the people of `PEOPLE` in an app database on SQLite
or, in its own schema, on PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import opsfin
from opsfin.appdb import AppDB
from opsfin.ingest import ingest_file

with warnings.catch_warnings():  # starlette asks for httpx2; httpx works the same for these tests
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: F401 - re-exported for the web tests

# name -> (role, sites); every password is PASSWORD
PEOPLE = {
    "ada": ("admin", None),
    "carl": ("controller", None),
    "ann": ("analyst", None),
    "val": ("viewer", None),
    "pia": ("controller", ("P1",)),  # the plant manager of P1
    "wes": ("viewer", ("W1",)),  # the distribution centre (the selling site of the demo)
}
PASSWORD = "correct horse battery"

# rows ingest refuses: one naming P1, one naming P2 (both through site_id), one naming no site
BAD_WORK_CENTERS = (
    "work_center_id,site_id,cost_center_id,name,kind,std_labor_rate,std_variable_overhead_rate,"
    "std_fixed_overhead_rate\n"
    "P1-NEW,P1,CC-P1-ASSY,P1 new line,spaceship,30,5,5\n"
    "P2-NEW,P2,CC-P2-ASSY,P2 new line,line,abc,5,5\n"
)
BAD_PRODUCTS = "product_id,name,family,kind,uom,list_price,std_unit_cost\nFG-NEW,New,F1,gadget,pcs,10,5\n"


def copy_workspace(source, target: Path):
    """A private copy of a workspace (its warehouse and model files; no app database)."""
    shutil.copytree(source.path, target, ignore=shutil.ignore_patterns("app.db*", "*.wal"))
    return opsfin.open(target)


def add_quarantine(ws, folder: Path) -> None:
    """Ingest files with bad rows so the quarantine holds rows of P1, of P2 and of no site."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "work_centers.csv").write_text(BAD_WORK_CENTERS, encoding="utf-8")
    (folder / "products.csv").write_text(BAD_PRODUCTS, encoding="utf-8")
    ingest_file(ws, folder / "work_centers.csv", table="work_centers")
    ingest_file(ws, folder / "products.csv", table="products")


@contextmanager
def app_db_url(kind: str, folder: Path):
    """An empty app database URL: a SQLite file in `folder`, or a fresh PostgreSQL schema (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/app.db"
        return
    from services import postgres_schema_url

    with postgres_schema_url("web_test") as url:
        yield url


def add_people(url: str, login_attempts_per_minute: int = 5) -> tuple[AppDB, dict[str, str]]:
    """Create PEOPLE and one API token each; returns the database and name -> token."""
    db = AppDB(url, login_attempts_per_minute=login_attempts_per_minute)
    tokens = {}
    for name, (role, sites) in PEOPLE.items():
        db.add_user(name, role, PASSWORD, sites=sites, actor="test")
        tokens[name] = db.create_token(f"{name}-token", name, actor="test")
    return db, tokens


def form_login(client, name: str, password: str = PASSWORD, next_page: str = "/"):
    """Log `name` in through the login form of a TestClient (its cookies cleared first); the answer."""
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": next_page},
        follow_redirects=False,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int, detail_pattern: str) -> dict:
    """The response is an RFC 7807 problem with this status and a detail matching the pattern."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    assert re.search(detail_pattern, body["detail"]), body["detail"]
    return body


@contextmanager
def serve_in_thread(app):
    """uvicorn serving `app` on a free loopback port, in a thread of this process; yields the base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def logged_in_client(tiny, folder: Path, name: str = "ada"):
    """A test client of the web app on a copy of the tiny demo in `folder`, with `PEOPLE` in an app database
    there, logged in through the form as `name`."""
    from opsfin.web import create_app

    ws = copy_workspace(tiny, folder / "ws")
    db, _tokens = add_people(f"sqlite:///{folder}/app.db")
    client = TestClient(create_app(ws.path, app_db_url=f"sqlite:///{folder}/app.db"))
    assert form_login(client, name).status_code == 303
    try:
        yield client
    finally:
        db.close()


@contextmanager
def web_env(tiny, folder: Path, prepare: Callable | None = None, own_app_db: bool = False) -> Iterator[dict]:
    """A copy of the tiny demo in `folder/ws` (`prepare(ws)` runs on it first), `PEOPLE` in an app database
    (`folder/app.db`; with `own_app_db`, the workspace's own `ws/app.db`) and a test client of the web app:
    `{"ws", "db", "client", "tokens"}`."""
    from opsfin.web import create_app

    ws = copy_workspace(tiny, folder / "ws")
    if prepare is not None:
        prepare(ws)
    url = f"sqlite:///{ws.path if own_app_db else folder}/app.db"
    db, tokens = add_people(url)
    try:
        yield {"ws": ws, "db": db, "client": TestClient(create_app(ws.path, app_db_url=url)), "tokens": tokens}
    finally:
        db.close()


def figure(html: str, chart_id: str) -> dict:
    """The Plotly figure a page embeds as JSON for the chart `chart_id`."""
    body = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S)
    assert body, f"no chart {chart_id}"
    return json.loads(body.group(1).replace("<\\/", "</"))


def table(html: str, table_id: str) -> str:
    """A page's HTML from the element `table_id` to the end of its first table."""
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]
