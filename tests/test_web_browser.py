"""The web app in a real browser: headless Chromium (Playwright, Debian's /usr/bin/chromium) against uvicorn.

A person logs in through the form, opens every page, follows the variance drill-down from a click on the
waterfall to a category's split and on to its source rows, comments on an alert, creates and updates an
action, and sees the engine's numbers. Screenshots go to a temporary folder (printed) and, when
OPSFIN_ARTIFACTS is set, to test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from opsfin.alerts.model import fmt_value
from opsfin.web import create_app
from opsfin.web.pages import money
from services import headless_chromium
from web_support import PASSWORD, add_people, copy_workspace, serve_in_thread

PERIOD = "2024-04"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def server(tiny_demo, tmp_path_factory):
    """uvicorn serving a copy of the tiny demo on a free port, in a thread of this process."""
    folder = tmp_path_factory.mktemp("web_browser")
    ws = copy_workspace(tiny_demo, folder / "ws")
    url = f"sqlite:///{folder}/app.db"
    db, _ = add_people(url)
    with serve_in_thread(create_app(ws.path, app_db_url=url, warm=True)) as base:
        yield {"base": base, "ws": ws, "db": db}
    db.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with headless_chromium() as b:
        yield b


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("OPSFIN_ARTIFACTS"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        folders.append(ARTIFACTS)
    print(f"\nscreenshots in: {', '.join(str(f) for f in folders)}")

    def take(page, name: str) -> None:
        for f in folders:
            page.screenshot(path=str(f / f"{name}.png"), full_page=True)

    return take


def log_in(browser, base: str, name: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{base}/variances?period={PERIOD}")
    assert "/login" in page.url  # not logged in: the form, remembering where we were going
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/variances?period={PERIOD}")
    return page


def chart_ready(page, selector: str) -> None:
    page.wait_for_selector(f"{selector}[data-ready='1']")


def test_a_controller_works_through_every_page(server, browser, shots):
    base, ws = server["base"], server["ws"]
    page = log_in(browser, base, "ada")

    # variances: the waterfall, the bridge total to the cent, then a click on the scrap bar
    chart_ready(page, "#waterfall")
    bridge = ws.variance(PERIOD, PERIOD).to_dicts()
    total = next(r["amount"] for r in bridge if r["category"] == "total")
    assert page.locator("#bridge tr:has-text('total variance') td.num").inner_text() == money(total)
    shots(page, "04-variances")
    labels = page.evaluate("() => document.getElementById('waterfall').data[0].x")
    bar = page.locator("#waterfall g.point path").nth(labels.index("scrap")).bounding_box()
    page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)
    page.wait_for_url("**/variances?*category=scrap*")
    assert "by=product" in page.url  # scrap's source rows are closed orders: they carry the product
    split = ws.variance(PERIOD, PERIOD, by="product").to_dicts()
    members = sorted((r for r in split if r["category"] == "scrap"), key=lambda r: r["amount"])
    assert page.locator("#split-table tbody tr").count() == len(members) > 0
    first = page.locator("#split-table tbody tr").first
    assert first.locator("td.num").inner_text() == money(members[0]["amount"])
    shots(page, "05-variance-split")
    first.locator("a").first.click()
    page.wait_for_url("**/variances/rows?*member=*")
    rows = ws.variance(PERIOD, PERIOD, by="product", drill="scrap", member=members[0]["product"])
    assert page.get_by_text(f"{len(rows)} row").first.is_visible()
    shots(page, "06-variance-source-rows")

    # overview: each tile shows the engine's value of the month
    page.goto(f"{base}/?period={PERIOD}")
    oee = ws.kpi("oee").to_dicts()
    value = next(r["value"] for r in oee if r["period_start"] == dt.date(2024, 4, 1))
    assert page.locator(".tile[data-kpi=oee] .tile-value").inner_text() == fmt_value(value, "ratio")
    assert page.locator(".tile").count() == len(ws.kpi_catalog())
    shots(page, "01-overview")

    for name, path, ready in [
        ("02-operations", "/operations", "#heat-oee"),
        ("03-unit-economics", "/unit-economics", "#cm-ranking"),
    ]:
        page.goto(f"{base}{path}?period={PERIOD}")
        chart_ready(page, ready)
        shots(page, name)
    ue = ws.unit_economics(by="product", start="2024-04-01", end="2024-04-30").to_dicts()
    assert page.locator("#unit-economics tbody tr").count() == len(ue) > 0

    # alerts: comment on one, create an action from it, update the action
    page.goto(f"{base}/alerts?period={PERIOD}&all=true")
    page.locator("#alerts tbody tr a").first.click()
    page.wait_for_url("**/alerts/AL-*")
    page.fill("#comments textarea[name=body]", "Checked with the team lead: staffing gap.")
    page.click("#comments button[type=submit]")
    page.wait_for_selector("text=Checked with the team lead: staffing gap.")
    form = page.locator("#action-form")
    form.locator("input[name=owner]").fill("support lead")
    form.locator("input[name=due]").fill("2030-06-30")
    form.locator("input[name=expected_impact]").fill("1234.5")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("table.data a:has-text('Fix: ')")
    assert page.locator("table.data td.num:has-text('1,234.50')").count() == 1
    shots(page, "07-alert-with-comment-and-action")
    page.locator("table.data a:has-text('Fix: ')").first.click()
    page.wait_for_url("**/actions/*")
    page.select_option("#action-update select[name=status]", "in_progress")
    page.click("#action-update button[type=submit]")
    page.wait_for_selector(".pill.in_progress")
    assert page.locator("#impact").inner_text().startswith("1,234.50")
    shots(page, "08-action")
    actions = server["db"].list_actions()
    assert [(a["status"], str(a["expected_impact"]), a["subject_type"]) for a in actions] == [
        ("in_progress", "1234.50", "alert")
    ]

    for name, path in [
        ("09-data", "/data"),
        ("10-admin", "/admin"),
        ("11-alerts", f"/alerts?period={PERIOD}"),
    ]:
        page.goto(f"{base}{path}")
        assert page.locator(".error-state").count() == 0
        shots(page, name)
    assert page.locator("text=Alerts").first.is_visible()
    page.close()


def test_a_plant_manager_sees_only_their_plant(server, browser, shots):
    base = server["base"]
    page = log_in(browser, base, "pia")
    chart_ready(page, "#waterfall")
    assert page.get_by_text("Manufacturing variances of P1").first.is_visible()
    assert page.locator("#bridge").count() == 1 and "P2" not in page.locator("#bridge").inner_text()
    shots(page, "12-plant-manager-variances")
    page.goto(f"{base}/?period={PERIOD}")
    tiles = page.locator(".tile-name").all_inner_texts()
    assert "OEE" in tiles and "Days sales outstanding" not in tiles
    options = page.locator("select[name=site] option").all_inner_texts()
    assert [o.split(" ")[0] for o in options] == ["all", "P1"]
    shots(page, "13-plant-manager-overview")
    page.close()


def test_long_values_wrap_and_figures_align_right(server, browser, shots):
    """Found by review: a long unbroken title widened the page past the window, and the figures of every
    table sat on the left (a CSS rule lost on specificity)."""
    from decimal import Decimal

    base = server["base"]
    server["db"].add_action("test", "X" * 200, "owner-" + "Y" * 90, dt.date(2020, 1, 1), Decimal("1234567.89"))
    page = log_in(browser, base, "ada")
    for path in (f"/?period={PERIOD}", "/actions"):
        page.goto(f"{base}{path}")
        scroll, window = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= window, f"{path}: the page is {scroll}px wide in a {window}px window"
        cell = page.locator("table.data td.num:has-text('1,234,567.89')").first
        assert cell.evaluate("e => getComputedStyle(e).textAlign") == "right"
    shots(page, "14-long-values")
    page.close()
