"""The budget workbook on the web (docs/planning-excel.md): download `/plans/{name}/export.xlsx`, upload
through the page (`/plans/{name}/import`, CSRF) and the API (`/api/v1/plans/{name}/import`), for roles
that may write a plan; bad cells are listed with their references and nothing is written."""

from __future__ import annotations

import io
import re
import shutil

import openpyxl
import pytest

import opsfin
from opsfin.appdb import open_app_db
from opsfin.web import create_app
from opsfin.web.auth import SESSION_COOKIE
from web_support import PASSWORD, PEOPLE, TestClient, assert_problem, bearer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    """A client over a copy of the tiny demo, PEOPLE with a token each."""
    target = tmp_path_factory.mktemp("plan-files-web") / "ws"
    shutil.copytree(tiny_demo.path, target, ignore=shutil.ignore_patterns("app.db*", "*.wal"))
    ws = opsfin.open(target)
    db = open_app_db(ws)
    tokens = {}
    for name, (role, sites) in PEOPLE.items():
        db.add_user(name, role, PASSWORD, sites=sites, actor="test")
        tokens[name] = bearer(db.create_token(f"{name}-token", name, actor="test"))
    return TestClient(create_app(ws.path)), ws, db, tokens


def rows(ws, version: str) -> dict[str, list[tuple]]:
    return {
        "volume_plan": ws.sql(
            "SELECT period, product_id, qty, unit_price FROM volume_plan WHERE version = ? ORDER BY ALL", [version]
        ).rows(),
        "budget_lines": ws.sql(
            "SELECT period, cost_center_id, account_id, amount FROM budget_lines WHERE version = ? ORDER BY ALL",
            [version],
        ).rows(),
    }


def everything(ws) -> dict[str, list[tuple]]:
    return {t: ws.sql(f"SELECT * FROM {t} ORDER BY ALL").rows() for t in ("volume_plan", "budget_lines", "loads")}


def upload(name: str, data: bytes) -> dict:
    return {"file": (name, data, XLSX)}


def spoiled(data: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    book["Costs"]["F12"] = "abc"
    book["Volumes"]["A7"] = "P999"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_download_for_roles_that_may_write(env):
    client, _, _, t = env
    got = client.get("/plans/B2024/export.xlsx", headers=t["ann"])
    assert got.status_code == 200 and got.headers["content-type"] == XLSX
    assert got.headers["content-disposition"] == 'attachment; filename="plan-B2024.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(got.content))
    assert book.sheetnames == ["Volumes", "Prices", "Costs"] and book["Volumes"].max_row == 9
    assert client.get("/api/v1/plans/B2024/export.xlsx", headers=t["carl"]).content[:2] == b"PK"
    assert_problem(client.get("/api/v1/plans/B2024/export.xlsx", headers=t["val"]), 403, "role viewer may not")
    assert_problem(client.get("/api/v1/plans/B2024/export.xlsx", headers=t["pia"]), 403, "")
    assert_problem(client.get("/api/v1/plans/NOPE/export.xlsx", headers=t["ann"]), 400, "give from and to")
    empty = client.get("/plans/NOPE/export.xlsx?from=2026-11&to=2027-02", headers=t["ann"])
    months = [c.value for c in openpyxl.load_workbook(io.BytesIO(empty.content))["Costs"][1]][5:]
    assert months == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_api_upload_round_trip_and_refusal(env):
    client, ws, db, t = env
    data = client.get("/plans/B2024/export.xlsx", headers=t["ann"]).content
    before = everything(ws)
    refused = client.post("/api/v1/plans/W2024/import", files=upload("b.xlsx", spoiled(data)), headers=t["ann"])
    body = assert_problem(refused, 422, r"^b.xlsx: refused, 3 problem\(s\) found; nothing was written$")
    assert body["problems"] == [
        "Volumes!A7: unknown product P999",
        "Costs!F12: not a number ('abc')",
        "Prices!A7: product FG-006 has values here but no row on the Volumes sheet",  # its Volumes row is P999 now
    ]
    assert everything(ws) == before
    assert_problem(
        client.post("/api/v1/plans/W2024/import", files=upload("b.xlsx", data), headers=t["val"]), 403, "viewer"
    )
    done = client.post("/api/v1/plans/W2024/import", files=upload("b.xlsx", data), headers=t["ann"])
    assert done.status_code == 200, done.text
    # B2024: 8 products × 4 months; its cost lines × 4 months
    assert done.json()["written"] == {k: len(v) for k, v in rows(ws, "B2024").items()}
    assert done.json()["written"]["volume_plan"] == 32
    assert rows(ws, "W2024") == rows(ws, "B2024")
    entry = db.audit_entries(object_type="plan_version")[0]
    assert (entry["action"], entry["actor"], entry["object_id"]) == ("plan.import", "ann", "W2024")
    db.submit_plan_version("W2024", "ann")
    again = client.post("/api/v1/plans/W2024/import", files=upload("b.xlsx", data), headers=t["ann"])
    assert_problem(again, 400, "plan version W2024 is submitted and read-only")
    session = db.create_session("ann")
    client.cookies.set(SESSION_COOKIE, session)
    try:
        assert_problem(client.post("/api/v1/plans/W9/import", files=upload("b.xlsx", data)), 403, "CSRF")
    finally:
        client.cookies.clear()


def test_the_upload_page(env):
    client, ws, db, t = env
    data = client.get("/plans/B2024/export.xlsx", headers=t["ann"]).content
    session = db.create_session("carl")
    client.cookies.set(SESSION_COOKIE, session)
    try:
        form = client.get("/plans/P2024/import")
        assert form.status_code == 200 and 'href="/plans/P2024/export.xlsx"' in form.text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text).group(1)
        no_token = client.post("/plans/P2024/import", files=upload("b.xlsx", data))
        assert no_token.status_code == 403
        before = everything(ws)
        bad = client.post("/plans/P2024/import", files=upload("mine.xlsx", spoiled(data)), data={"csrf_token": token})
        assert bad.status_code == 400
        assert "Costs!F12: not a number (&#39;abc&#39;)" in bad.text and "mine.xlsx: refused" in bad.text
        assert everything(ws) == before
        good = client.post("/plans/P2024/import", files=upload("mine.xlsx", data), data={"csrf_token": token})
        n_lines = len(rows(ws, "B2024")["budget_lines"])
        assert good.status_code == 200 and f"32 volume rows and {n_lines} budget lines written" in good.text
        assert rows(ws, "P2024") == rows(ws, "B2024")
    finally:
        client.cookies.clear()
