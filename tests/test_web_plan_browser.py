"""The Plan page in a real browser (headless Chromium through Playwright, as test_web_browser.py): an analyst
logs in, opens /plan (its charts drawn, no Content-Security-Policy violation) and clicks Submit on a draft
version; the page comes back with the version submitted, and the app database and the audit log say so.
Skips without Chromium unless OPSFIN_REQUIRE_ALL=1."""

from __future__ import annotations

import pytest

from opsfin.runs.planning import build_plan_version
from opsfin.web import create_app
from services import headless_chromium
from web_support import PASSWORD, add_people, copy_workspace, serve_in_thread

DRAFT = "S-browser"
RECORD_VIOLATIONS = (  # as test_security_csp.py
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"
)


@pytest.fixture(scope="module")
def server(tiny_demo, tmp_path_factory):
    """uvicorn serving a copy of the tiny demo (a plan built from B2024, a draft scenario) on a free port."""
    folder = tmp_path_factory.mktemp("web_plan_browser")
    ws = copy_workspace(tiny_demo, folder / "ws")
    url = f"sqlite:///{folder}/app.db"
    db, _ = add_people(url)
    db.create_plan_version(DRAFT, "scenario", "ann")
    build_plan_version(ws, "B2024-plan", "B2024", kind="budget", actor="test")
    with serve_in_thread(create_app(ws.path, app_db_url=url)) as base:
        yield {"base": base, "db": db}
    db.close()


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as b:
        yield b


def test_an_analyst_submits_a_draft_from_the_plan_page(server, browser):
    base, db = server["base"], server["db"]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(15_000)
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{base}/plan")
    assert "/login" in page.url
    page.fill("input[name=name]", "ann")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/plan")
    page.wait_for_selector("#utilization[data-ready='1']")  # app.js and plotly.js drew the heatmap
    assert page.locator("div.chart[data-ready='1']").count() >= 5  # four P&L lines and the heatmap
    row = page.locator(f"#versions tr[data-version='{DRAFT}']")
    assert row.locator(".plan-status").inner_text() == "draft"
    assert row.locator("form[data-step=approve]").count() == 0  # an analyst approves nothing
    row.locator("form[data-step=submit] button").click()
    page.wait_for_url(f"**/plan/{DRAFT}?done=submit")
    assert page.locator("#plan-message").inner_text() == f"Plan version {DRAFT} is submitted (submitted by ann)."
    assert page.locator(f"#versions tr[data-version='{DRAFT}'] .plan-status").inner_text() == "submitted"
    assert db.plan_version(DRAFT)["submitted_by"] == "ann"
    assert [e["actor"] for e in db.audit_entries() if e["action"] == "plan.submit" and e["object_id"] == DRAFT] == [
        "ann"
    ]
    assert page.evaluate("window.__csp") == []
    page.close()
