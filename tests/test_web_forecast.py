"""The Forecast page (docs/forecasting.md "The Forecast page"): a stored version drawn per family and site
with its accuracy, the version picker, site scope, the empty state, and `opsfin forecast accuracy`."""

from __future__ import annotations

import json
import re

import pytest

from cli_support import run_cli
from opsfin.web import create_app
from web_support import TestClient, add_people, bearer, copy_workspace

VERSIONS = ("naive-v1", "naive-v2")


def month_before(month: str) -> str:
    year, m = int(month[:4]), int(month[5:])
    return f"{year - (m == 1)}-{(m - 2) % 12 + 1:02d}"


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_forecast")
    ws = copy_workspace(tiny_demo, folder / "ws")
    last = f"{ws.sql('SELECT max(shipped_date) AS d FROM shipments')['d'][0]:%Y-%m}"
    as_of = month_before(last)
    url = f"sqlite:///{folder}/app.db"
    db, tokens = add_people(url)
    empty_client = TestClient(create_app(ws.path, app_db_url=url))
    empty = empty_client.get("/forecast", headers=bearer(tokens["ada"]))
    ws.forecast_demand(as_of, VERSIONS[0], horizon=2, models="Naive")
    ws.forecast_demand(last, VERSIONS[1], horizon=2, models="Naive")  # nothing has arrived after it
    client = TestClient(create_app(ws.path, app_db_url=url))
    yield {"ws": ws, "client": client, "tokens": tokens, "empty": empty, "as_of": as_of, "last": last}
    db.close()


def page(env, name: str, query: str = ""):
    response = env["client"].get(f"/forecast{query}", headers=bearer(env["tokens"][name]))
    assert response.status_code == 200, response.text
    return response.text


def figures(html: str) -> dict[str, dict]:
    found = re.findall(r'<script type="application/json" id="(forecast-\d+)-data">(.*?)</script>', html, re.S)
    return {fid: json.loads(body.replace("<\\/", "</")) for fid, body in found}


def titles(html: str) -> set[str]:
    return {f["layout"]["title"]["text"] for f in figures(html).values()}


def test_empty_state_before_any_version(env):
    assert env["empty"].status_code == 200
    assert 'id="forecast-empty"' in env["empty"].text
    assert "opsfin forecast demand --as-of" in env["empty"].text


def test_the_page_is_in_the_nav(env):
    assert 'href="/forecast' in page(env, "val")


def test_newest_version_has_no_actuals_yet(env):
    html = page(env, "ada")
    assert f'value="{VERSIONS[1]}" selected' in html
    assert "no actuals yet" in html
    assert 'id="forecast-accuracy"' not in html


def test_a_version_per_family_and_site_with_its_band_and_accuracy(env):
    ws = env["ws"]
    html = page(env, "ada", f"?version={VERSIONS[0]}")
    # the members of the version: the families and sites that shipped up to its as-of month
    shipped_then = ws.sql(
        "SELECT DISTINCT p.family, o.site_id FROM shipments s JOIN sales_orders o USING (so_id, line) "
        "JOIN products p USING (product_id) WHERE strftime(s.shipped_date, '%Y-%m') <= ?",
        [env["as_of"]],
    )
    families, sites = set(shipped_then["family"]), set(shipped_then["site_id"])
    assert titles(html) == {f"Family {f}" for f in families} | {f"Site {s}" for s in sites}
    site = next(iter(sites))
    figure = next(f for f in figures(html).values() if f["layout"]["title"]["text"] == f"Site {site}")
    names = [t["name"] for t in figure["data"]]
    assert names == ["P90", "P10–P90", "forecast (P50)", "actual"]
    assert figure["data"][1]["fill"] == "tonexty"
    # Naive from the as-of month: the P50 of each month ahead is the as-of month's shipments at the site
    shipped = ws.sql(
        "SELECT strftime(s.shipped_date, '%Y-%m') AS m, sum(s.qty) AS q FROM shipments s "
        "JOIN sales_orders o USING (so_id, line) WHERE o.site_id = ? GROUP BY 1",
        [site],
    )
    by_month = dict(shipped.iter_rows())
    assert figure["data"][2]["y"] == pytest.approx([by_month[env["as_of"]]] * 2, rel=1e-6)
    assert figure["data"][3]["x"][-1] == env["last"]
    # the accuracy table: total WAPE = |actual - forecast| / actual of the month after the as-of month
    forecast, actual = by_month[env["as_of"]], by_month[env["last"]]
    expected = f"{abs(actual - forecast) / actual:.1%}"
    table = html[html.index('id="forecast-accuracy"') :]
    first_row = re.search(r"<tr class=\"[^\"]*\">\s*<td>total</td>(.*?)</tr>", table, re.S).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', first_row)
    assert cells[0] == "1" and cells[2] == expected  # months ahead, points, WAPE
    assert "Content-Security-Policy" in env["client"].get("/forecast", headers=bearer(env["tokens"]["ada"])).headers
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", html)  # no inline script


def test_a_site_scoped_user_sees_only_their_sites_series(env):
    # wes sees the distribution centre W1 only: its site series, no family series (they mix sites)
    html = page(env, "wes", f"?version={VERSIONS[0]}")
    assert titles(html) <= {"Site W1"}
    assert not any(t.startswith("Family") for t in titles(html))
    assert 'id="families-hidden"' in html
    # pia's plant P1 ships nothing: no series, and no accuracy rows of other sites
    html = page(env, "pia", f"?version={VERSIONS[0]}")
    assert titles(html) == set()
    assert "No forecast series at the sites you see" in html
    assert "<td>total</td>" not in html and "<td>family</td>" not in html


def test_unknown_version_is_a_400_page(env):
    response = env["client"].get("/forecast?version=nope", headers=bearer(env["tokens"]["ada"]))
    assert response.status_code == 400
    assert "unknown forecast version" in response.text


def test_accuracy_command_names_the_version_without_actuals(env, capsys):
    code, out, err = run_cli(capsys, "forecast", "accuracy", "-w", str(env["ws"].path), "--format", "json")
    assert code == 0, err
    body = json.loads(out)
    assert body["versions"] == list(VERSIONS)
    assert {r["version"] for r in body["rows"]} == {VERSIONS[0]}
    assert any(VERSIONS[1] in n and "no actuals yet" in n for n in body["notes"])
    code, out, err = run_cli(capsys, "forecast", "accuracy", "-w", str(env["ws"].path), "--version", "nope")
    assert code == 2 and "--version 'nope'" in err
