"""The Scenarios page in a real browser (headless Chromium through Playwright, as test_web_browser.py): a
controller logs in, builds a scenario with the form, lands on its page with the waterfall and the cash
curve drawn (no Content-Security-Policy violation), then simulates it and sees the fan charts. Skips
without Chromium unless OPSFIN_REQUIRE_ALL=1."""

from __future__ import annotations

import pytest

from opsfin.runs.scenarios import load_scenarios
from opsfin.web import create_app
from services import headless_chromium
from web_support import PASSWORD, add_people, copy_workspace, serve_in_thread

RECORD_VIOLATIONS = (  # as test_security_csp.py
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"
)


@pytest.fixture(scope="module")
def server(tiny_demo, tmp_path_factory):
    """uvicorn serving a copy of the tiny demo without a model/scenarios.yaml, on a free port."""
    folder = tmp_path_factory.mktemp("web_scenarios_browser")
    ws = copy_workspace(tiny_demo, folder / "ws")
    url = f"sqlite:///{folder}/app.db"
    db, _ = add_people(url)
    with serve_in_thread(create_app(ws.path, app_db_url=url)) as base:
        yield {"base": base, "ws": ws}
    db.close()


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as b:
        yield b


def test_a_controller_builds_runs_and_simulates_a_scenario(server, browser):
    base, ws = server["base"], server["ws"]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(30_000)
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{base}/scenarios")
    page.fill("input[name=name]", "carl")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/scenarios")
    assert page.locator("#scenarios").count() == 0  # no file yet
    form = page.locator("#scenario-form")
    form.locator("input[name=name]").fill("slump")
    form.locator("select[name=base]").select_option("B2024")
    row = form.locator("tr.shock-row").first
    row.locator("select[name=kind]").select_option("demand")
    row.locator("select[name=dim_a]").select_option("products")
    row.locator("input[name=members_a]").fill("FG-001")
    row.locator("input[name=start]").fill("2024-02")
    row.locator("input[name=size]").fill("-20")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/scenarios/slump?saved=1")
    assert page.locator("#scenario-message").inner_text() == "Scenario slump saved to model/scenarios.yaml."
    page.wait_for_selector("#waterfall[data-ready='1']")
    page.wait_for_selector("#cash-curve[data-ready='1']")
    shock = load_scenarios(ws.model_dir).get("slump").shocks[0]
    assert (shock.kind, shock.scope.products, f"{shock.start:%Y-%m}", str(shock.size)) == (
        "demand",
        ["FG-001"],
        "2024-02",
        "-20",
    )
    page.locator("#simulate-form input[name=draws]").fill("300")
    page.locator("#simulate-form button[type=submit]").click()
    page.wait_for_selector("#fan-cash[data-ready='1']")
    assert "draws=300" in page.url and page.locator("#breaches tbody tr").count() >= 1
    assert page.evaluate("window.__csp") == []
    page.close()
