"""The Content-Security-Policy (docs/security.md): served on every answer, and no page breaks under it —
headless Chromium opens every page, records each `securitypolicyviolation`, draws the charts and uses
the filters that submit themselves (once inline handlers, now static/forms.js)."""

from __future__ import annotations

import pytest

from opsfin.web import create_app
from opsfin.web.app import CONTENT_SECURITY_POLICY
from services import chromium_path
from web_support import PASSWORD, TestClient, add_people, copy_workspace, serve_in_thread

PERIOD = "2024-04"
PAGES = [
    "/",
    "/kpis/oee",
    "/operations",
    "/unit-economics",
    "/variances",
    "/alerts",
    "/actions",
    "/data",
    "/admin",
    "/reconciliation",
    "/forecast",
    "/api/docs",
]
CHART_PAGES = {"/kpis/oee", "/operations", "/unit-economics", "/variances", "/forecast"}
RECORD_VIOLATIONS = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' "
    "+ (e.sourceFile || '') + ':' + e.lineNumber + ':' + e.columnNumber + ' ' + e.sample));"
)


def test_the_policy_allows_no_inline_script():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["style-src-elem"] == "'self'"  # no <style> blocks either
    # the one exception: style attributes (plotly.js sets some); never script, never eval
    assert [d for d, v in directives.items() if "unsafe" in v] == ["style-src-attr"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


@pytest.fixture(scope="module")
def served(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("security_csp")
    ws = copy_workspace(tiny_demo, folder / "ws")
    ws.forecast_demand("2024-03", "F-csp", horizon=1, models="Naive", actor="test")  # the Forecast page's charts
    url = f"sqlite:///{folder}/app.db"
    db, _ = add_people(url)
    app = create_app(ws.path, app_db_url=url)
    with serve_in_thread(app) as base:
        yield app, base
    db.close()


@pytest.mark.parametrize("path", ["/login", "/api/v1/kpis", "/static/app.js", "/nowhere"])
def test_every_answer_carries_the_policy(served, path):
    app, _ = served
    assert TestClient(app).get(path).headers["content-security-policy"] == CONTENT_SECURITY_POLICY


@pytest.fixture(scope="module")
def page(served):
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    _, base = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(20_000)
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "ada")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/")
        yield page, base
        browser.close()


@pytest.mark.parametrize("path", PAGES)
def test_no_page_breaks_under_the_policy(page, path):
    tab, base = page
    tab.goto(f"{base}{path}?period={PERIOD}")
    if path in CHART_PAGES:
        tab.wait_for_selector("div.chart[data-ready='1']")  # app.js and plotly.js ran
        heights = tab.eval_on_selector_all(
            "div.chart[data-height]", "els => els.map(e => [e.dataset.height, e.style.height])"
        )
        assert all(style == f"{h}px" for h, style in heights)
    tab.wait_for_load_state("load")
    assert tab.evaluate("window.__csp") == []


def test_the_filters_still_submit_themselves(page):
    tab, base = page
    tab.goto(f"{base}/operations?period={PERIOD}")
    tab.select_option("select[name=period]", "2024-03")
    tab.wait_for_url("**period=2024-03**")
    tab.goto(f"{base}/actions")
    tab.check("input[name=overdue]")
    tab.wait_for_url("**overdue=true**")
    assert tab.evaluate("window.__csp") == []
