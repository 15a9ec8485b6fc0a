"""The Predict page in a real browser (headless Chromium through Playwright, as test_web_browser.py): a
controller logs in, opens /predict (its charts drawn, no Content-Security-Policy violation), clicks a machine's
bar to open its sensor trend, goes back and builds the roster with the button. Screenshots are saved in
`test-artifacts/screenshots/` when OPSFIN_ARTIFACTS is set. Skips without Chromium unless
OPSFIN_REQUIRE_ALL=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opsfin.web import create_app
from services import headless_chromium
from web_support import PASSWORD, add_people, copy_workspace, serve_in_thread

RECORD_VIOLATIONS = (  # as test_security_csp.py
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"
)


@pytest.fixture(scope="module")
def server(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_predict_browser")
    ws = copy_workspace(tiny_demo, folder / "ws")
    url = f"sqlite:///{folder}/app.db"
    db, _ = add_people(url)
    with serve_in_thread(create_app(ws.path, app_db_url=url)) as base:
        yield base
    db.close()


def shot(page, name: str) -> None:
    if os.environ.get("OPSFIN_ARTIFACTS"):
        folder = Path("test-artifacts/screenshots")
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"predict-{name}.png"), full_page=True)


def test_a_controller_drills_from_a_machine_and_builds_the_roster(server):
    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(f"{server}/predict")
        page.fill("input[name=name]", "carl")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{server}/predict")
        page.wait_for_selector("#predict-risk[data-ready='1']")
        page.wait_for_selector("#predict-drivers[data-ready='1']")
        shot(page, "page")
        first = page.locator("#machines tbody tr").first.get_attribute("data-machine")
        page.locator("#machines tbody tr").first.locator("a").click()
        page.wait_for_url(f"**/predict/machines/{first}?*")
        page.wait_for_selector("#machine-sensors[data-ready='1']")
        assert page.locator("#machine-figures").count() == 1
        shot(page, "machine")
        page.go_back()
        page.locator("#roster-form input[name=weeks]").fill("1")
        page.locator("#roster-form button").click()
        page.wait_for_selector("#roster-grid")
        assert page.locator("#roster-grid tbody tr").count() > 0
        assert page.locator("#roster-cost tr[data-figure=total]").count() == 1
        shot(page, "roster")
        assert page.evaluate("window.__csp") == []
        page.close()
