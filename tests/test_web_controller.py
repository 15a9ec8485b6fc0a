"""The web as a controller reads it (docs/web.md): KPI tiles against last month and the guardrail, guardrail
bands on the trend chart, units on numerator and denominator, the guardrail editor in the tile's unit,
the variance split footed to its category, a plant shown what applies to a plant, names beside ids.

The pages run through the real app on a copy of the tiny demo company (seed 7); expected figures are
worked from the engine's rows with the formulas written out here."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from decimal import Decimal

import pytest

from opsfin.present.kpi_figures import bound_input, change_text, gap_text, part_headers
from opsfin.web import create_app
from web_support import TestClient, add_people, add_quarantine, copy_workspace, form_login

PERIOD = "2024-04"
APRIL, MARCH = dt.date(2024, 4, 1), dt.date(2024, 3, 1)


@pytest.fixture(scope="module")
def env(tiny_demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_controller")
    ws = copy_workspace(tiny_demo, folder / "ws")
    add_quarantine(ws, folder / "bad")
    db, tokens = add_people(f"sqlite:///{folder}/app.db")
    client = TestClient(create_app(ws.path, app_db_url=f"sqlite:///{folder}/app.db"))
    yield {"ws": ws, "client": client, "tokens": tokens}
    db.close()


def logged_in(client, name: str = "ada"):
    assert form_login(client, name).status_code == 303
    return client


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def tile(page: str, kpi: str) -> str:
    return re.search(rf'data-kpi="{kpi}">(.*?)</a>', page, re.S).group(1)


def figure(page: str, chart_id: str) -> dict:
    return json.loads(re.search(rf'id="{chart_id}-data">(.*?)</script>', page, re.S).group(1))


def oee_min(ws) -> float:
    """The demo's OEE guardrail (a minimum per site), read from its model/guardrails.yaml."""
    from opsfin.runs.model import load_guardrails

    return next(g.min for g in load_guardrails(ws.model_dir) if g.kpi == "oee")


def kpi_values(ws, kpi: str, **kw) -> dict[dt.date, object]:
    return {r["period_start"]: r["value"] for r in ws.kpi([kpi], **kw).to_dicts()}


# ---------------------------------------------------------------- the text of a KPI figure, by hand
def test_change_and_gap_texts_worked_by_hand():
    assert change_text(0.45, 0.42, "ratio", "EUR") == "+3.0 pp"
    assert change_text(Decimal("1000.00"), Decimal("800.00"), "money", "EUR") == "+EUR 200.00 (+25.0%)"
    assert change_text(40.0, 50.0, "days", "EUR") == "-10.0 days (-20.0%)"
    assert change_text(None, 0.4, "ratio", "EUR") == ""
    assert gap_text(0.30, 0.33, None, "ratio", "EUR") == "3.0 pp below the minimum 33.0%"
    assert gap_text(60.0, None, 55.0, "days", "EUR") == "5.0 days above the maximum 55.0 days"
    assert gap_text(0.40, 0.33, 0.95, "ratio", "EUR") == "inside the guardrail, 7.0 pp above the minimum 33.0%"
    assert gap_text(Decimal("90000"), None, 85000.0, "money", "EUR") == ("EUR 5,000.00 above the maximum EUR 85,000.00")
    assert bound_input(0.33, "ratio") == "33.0" and bound_input(0.125, "ratio") == "12.5"
    assert bound_input(0.1234, "ratio") == "12.34" and bound_input(55, "days") == "55"
    assert bound_input(None, "ratio") == ""
    assert part_headers("oee", "EUR") == ("ideal time of the good units (s)", "planned time (s)")
    assert part_headers("dso", "EUR") == ("average receivables × days (EUR·days)", "revenue (EUR)")
    assert part_headers("revenue", "EUR") == ("revenue (EUR)", None)


# ---------------------------------------------------------------- 1. tiles, bands, units, the editor
def test_tiles_show_the_change_against_last_month_and_the_guardrail(env):
    ws, client = env["ws"], logged_in(env["client"])
    page = client.get(f"/?period={PERIOD}").text
    oee = kpi_values(ws, "oee")
    oee_tile = text_of(tile(page, "oee"))
    points = (oee[APRIL] - oee[MARCH]) * 100
    assert f"{'+' if points > 0 else '-'}{abs(points):.1f} pp vs 2024-03" in oee_tile
    low = oee_min(ws)  # the demo's guardrail: a minimum per site, no maximum
    gap = f"{abs(oee[APRIL] - low) * 100:.1f} pp"
    if oee[APRIL] >= low:
        assert f"inside the guardrail, {gap} above the minimum {low:.1%}" in oee_tile
    else:
        assert f"{gap} below the minimum {low:.1%}" in oee_tile
    revenue = kpi_values(ws, "revenue")
    change = revenue[APRIL] - revenue[MARCH]
    relative = abs(float(change) / float(revenue[MARCH]))
    sign = "+" if change > 0 else "-"
    assert f"{sign}EUR {abs(change):,.2f} ({sign}{relative:.1%}) vs 2024-03" in text_of(tile(page, "revenue"))


def test_kpi_chart_draws_the_guardrail_and_parts_carry_units(env):
    client = logged_in(env["client"])
    page = client.get(f"/kpis/oee?period={PERIOD}").text
    layout = figure(page, "kpi-trend")["layout"]
    low = oee_min(env["ws"])
    assert [s["y0"] for s in layout["shapes"] if s["type"] == "line"] == [low]
    assert f"min {low:.1%} per site" in layout["annotations"][0]["text"]
    headers = [
        text_of(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", page.split('id="kpi-split"')[1].split("</thead>")[0])
    ]
    assert headers[1] == "name" and headers[-2:] == ["ideal time of the good units (s)", "planned time (s)"]
    site_name = env["ws"].sql("SELECT name FROM sites WHERE site_id = 'P1'").item()
    assert f'<td class="member-name">{site_name}</td>' in page  # the name beside the id
    revenue = client.get(f"/kpis/revenue?period={PERIOD}&by=site").text
    head = revenue.split('id="kpi-split"')[1].split("</thead>")[0]
    assert "revenue (EUR)" in head and "denominator" not in head  # a sum has no denominator


def test_guardrail_editor_speaks_the_tiles_unit(tiny_demo, tmp_path):
    from opsfin.runs.model import load_guardrails

    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    url = f"sqlite:///{tmp_path}/app.db"
    db, _ = add_people(url)
    client = logged_in(TestClient(create_app(ws.path, app_db_url=url)), "carl")
    page = client.get(f"/kpis/oee?period={PERIOD}").text
    form = re.search(r'<form method="post" action="/guardrails/(\d+)".*?</form>', page, re.S)
    low = oee_min(ws)
    assert f'name="min" value="{low * 100:.1f}"' in form.group(0) and ">%</span>" in form.group(0)
    assert f"{low:.1%}" in page and str(low) not in text_of(page.split('id="guardrails"')[1].split("</table>")[0])
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    answer = client.post(
        f"/guardrails/{form.group(1)}",
        data={"csrf_token": csrf, "min": "40", "max": "", "unit": "percent", "severity": "warn", "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert next(g for g in load_guardrails(ws.model_dir) if g.kpi == "oee").min == 0.4
    assert 'name="min" value="40.0"' in client.get(f"/kpis/oee?period={PERIOD}").text
    db.close()


# ---------------------------------------------------------------- 2. the variance split foots to its category
def test_variance_split_rows_sum_to_the_category(env):
    ws, client = env["ws"], logged_in(env["client"])
    bridge = {r["category"]: r["amount"] for r in ws.variance("2024-04-01", "2024-04-30").to_dicts()}
    for category in ("labor_efficiency", "sales_price", "energy_usage"):
        page = client.get(f"/variances?period={PERIOD}&category={category}").text
        table = page.split('id="split-table"')[1].split("</table>")[0]
        body = table.split("<tbody>")[1].split("</tbody>")[0]
        amounts = [Decimal(text_of(a).replace(",", "")) for a in re.findall(r'<td class="num">(.*?)</td>', body)]
        assert amounts and sum(amounts) == bridge[category]
        footing = re.search(r'data-total="([-0-9.]+)">([^<]+)<', table)
        assert Decimal(footing.group(1)) == bridge[category]
        assert footing.group(2) == f"{bridge[category]:,.2f}"


def test_names_stand_beside_ids_in_the_split(env):
    client = logged_in(env["client"])
    page = client.get(f"/variances?period={PERIOD}&category=labor_efficiency").text
    name = env["ws"].sql("SELECT name FROM work_centers WHERE work_center_id = 'P1-PACK'").item()
    assert f"P1-PACK · {name}</a>" in page


# ---------------------------------------------------------------- 3. a plant is not shown a gross margin
@pytest.mark.parametrize("who,query", [("ada", "&site=P1"), ("pia", "")])
def test_a_plant_sees_what_it_made_not_a_gross_margin(env, who, query):
    ws, client = env["ws"], logged_in(env["client"], who)
    page = client.get(f"/?period={PERIOD}{query}").text
    assert 'data-kpi="gross_margin"' not in page and 'data-kpi="cogs"' not in page
    assert "a gross margin does not apply to a plant" in text_of(page.split('id="plant-note"')[1].split("</p>")[0])
    link = html.unescape(re.search(r'<a href="([^"]+)" id="plant-link">', page).group(1))
    assert link.startswith("/plant?")
    page = client.get(link).text  # what the plant made: its own page (the order costing takes a while)
    orders = ws.order_costs("2024-04-01", "2024-04-30").filter(site_id="P1").to_dicts()
    cogm = sum((o["total_cost"] for o in orders), Decimal(0))
    assert text_of(page.split('id="cogm">')[1].split("</strong>")[0]) == f"EUR {cogm:,.2f}"
    fg1 = [o for o in orders if o["product_id"] == "FG-001"]
    per_unit = sum((o["total_cost"] for o in fg1), Decimal(0)) / Decimal(str(sum(o["qty_good"] for o in fg1)))
    row = re.search(r"<tr><td>P1</td><td>FG-001 · [^<]+</td>(.*?)</tr>", page).group(1)
    assert text_of(re.findall(r'<td class="num">(.*?)</td>', row)[-1]) == f"{per_unit.quantize(Decimal('0.0001')):,}"
    site_rows = ws.variance("2024-04-01", "2024-04-30", by="work_center").to_dicts()
    p1 = sum((r["amount"] for r in site_rows if str(r["work_center"]).startswith("P1-")), Decimal(0))
    assert text_of(page.split('id="plant-variances">')[1].split("</a>")[0]) == f"EUR {p1:,.2f}"


def test_the_company_and_the_selling_site_keep_their_gross_margin(env):
    client = logged_in(env["client"])
    for query in ("", "&site=W1"):
        page = client.get(f"/?period={PERIOD}{query}").text
        assert 'data-kpi="gross_margin"' in page and 'id="plant"' not in page


# ---------------------------------------------------------------- 4. every table as CSV and xlsx; the upload
def test_tables_download_as_csv_and_xlsx_with_the_pages_rows(env):
    import csv
    import io

    import openpyxl

    ws, client = env["ws"], logged_in(env["client"])
    page = client.get(f"/unit-economics?period={PERIOD}").text
    assert 'data-table="unit-economics"' in page and "format=xlsx" in page
    answer = client.get(f"/unit-economics?period={PERIOD}&format=csv&download=unit-economics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="unit-economics-2024-04.csv"' in answer.headers["content-disposition"]
    got = list(csv.DictReader(io.StringIO(answer.text)))
    engine = ws.unit_economics(by="product", start="2024-04-01", end="2024-04-30").to_dicts()
    assert [(r["product_id"], r["revenue"], r["contribution_margin"]) for r in got] == [
        (r["product_id"], str(r["revenue"]), str(r["contribution_margin"])) for r in engine
    ]  # every digit, as --format csv
    book = client.get(f"/variances?period={PERIOD}&category=labor_efficiency&format=xlsx&download=split")
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Category", "Work centre", "Amount")
    amounts = [r[2] for r in rows[1:]]
    bridge = {r["category"]: r["amount"] for r in ws.variance("2024-04-01", "2024-04-30").to_dicts()}
    assert round(sum(amounts), 2) == float(bridge["labor_efficiency"])
    assert sheet.cell(2, 3).number_format == "#,##0.00"
    for path in (f"/?period={PERIOD}", "/alerts", "/data", f"/kpis/oee?period={PERIOD}", "/operations"):
        for name in re.findall(r'data-table="([^"]+)"', client.get(path).text):
            sep = "&" if "?" in path else "?"
            got = client.get(f"{path}{sep}format=csv&download={name}")
            assert got.status_code == 200 and got.text.count("\n") >= 2, (path, name)
    assert client.get("/alerts?format=pdf&download=alerts").status_code == 400
    assert "this page's tables are alerts" in html.unescape(client.get("/alerts?format=csv&download=x").text)


def test_a_plant_managers_download_holds_only_her_site(env):
    import csv
    import io

    client = logged_in(env["client"])
    everyone = list(csv.DictReader(io.StringIO(client.get("/data?format=csv&download=quarantine").text)))
    assert {"P1", "P2"} <= {r["site"] for r in everyone}
    client = logged_in(env["client"], "pia")
    hers = list(csv.DictReader(io.StringIO(client.get("/data?format=csv&download=quarantine").text)))
    assert hers and {r["site"] for r in hers} == {"P1"}
    assert [r for r in everyone if r["site"] == "P1"] == hers
    split = client.get(f"/variances?period={PERIOD}&category=labor_efficiency&format=csv&download=split").text
    centres = [r["work_center"] for r in csv.DictReader(io.StringIO(split))]
    assert centres and all(c.startswith("P1-") for c in centres)


def test_the_data_page_loads_a_file_with_the_clis_quarantine(env, tmp_path):
    ws, client = env["ws"], logged_in(env["client"], "carl")
    page = client.get("/data").text
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)
    body = (
        "product_id,name,family,kind,uom,list_price,std_unit_cost\n"
        "FG-UP1,Uploaded one,F1,finished,pcs,10,5\n"
        "FG-UP2,Uploaded two,F1,gadget,pcs,10,5\n"  # an unknown kind: quarantined
        "FG-UP3,Uploaded three,F1,finished,pcs,ten,5\n"  # not a number: quarantined
    )
    answer = client.post(
        "/data/upload",
        data={"csrf_token": csrf, "table": "products"},
        files={"file": ("new products.csv", body.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    shown = client.get(answer.headers["location"]).text
    assert text_of(shown.split('id="accepted-products">')[1].split("<")[0]) == "1"
    assert text_of(shown.split('id="quarantined-products">')[1].split("<")[0]) == "2"
    reasons = [text_of(r) for r in re.findall(r'<td class="reason">(.*?)</td>', shown)]
    assert len(reasons) == 2 and all(reasons)
    # the CLI's own quarantine of the same rows gives the same reasons
    from opsfin.ingest import ingest_file, list_quarantine

    other = copy_workspace(ws, tmp_path / "cli")
    (tmp_path / "p.csv").write_text(body)
    cli_load = ingest_file(other, tmp_path / "p.csv", table="products").load_id
    cli_reasons = sorted(list_quarantine(other, load_id=cli_load)["reason"].to_list())
    assert len(cli_reasons) == 2
    load_id = re.search(r"uploaded=([^&#]+)", answer.headers["location"]).group(1)
    assert sorted(list_quarantine(ws, load_id=load_id)["reason"].to_list()) == cli_reasons
    assert ws.sql("SELECT count(*) FROM products WHERE product_id = 'FG-UP1'").item() == 1
    for who in ("val", "pia"):  # a viewer; a plant manager (a load names no site)
        client = logged_in(env["client"], who)
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/alerts").text).group(1)
        refused = client.post(
            "/data/upload", data={"csrf_token": token, "table": "products"}, files={"file": ("p.csv", body.encode())}
        )
        assert refused.status_code == 403


# ---------------------------------------------------------------- 5. heatmaps, the ranking, names, totals
def test_heatmaps_are_colour_blind_safe_and_label_empty_cells(env):
    from opsfin.web.charts import heatmap

    fig = heatmap("t", ["L1", "L2"], ["Early", "Night"], {("L1", "Early"): 0.5, ("L2", "Night"): 0.7}, {})
    assert fig["data"][0]["colorscale"] == "Cividis"  # no red against green
    empty = sorted((a["y"], a["x"], a["text"]) for a in fig["layout"]["annotations"])
    assert empty == [("L1", "Night", "no data"), ("L2", "Early", "no data")]
    page = logged_in(env["client"]).get(f"/operations?period={PERIOD}").text
    assert figure(page, "heat-oee")["data"][0]["colorscale"] == "Cividis"


def test_unit_economics_chart_follows_by_and_the_table_is_footed(env):
    ws, client = env["ws"], logged_in(env["client"])
    page = client.get(f"/unit-economics?period={PERIOD}&by=customer").text
    bars = figure(page, "cm-ranking")["data"][0]
    rows = ws.unit_economics(by="customer", start="2024-04-01", end="2024-04-30").to_dicts()
    best = max(rows, key=lambda r: r["contribution_margin"])
    name = ws.sql(f"SELECT name FROM customers WHERE customer_id = '{best['customer_id']}'").item()
    assert bars["y"][0] == f"{best['customer_id']} · {name}" and bars["x"][0] == float(best["contribution_margin"])
    assert f"{best['customer_id']} · {name}" in page  # names beside ids in the table too
    footing = page.split('id="unit-economics"')[1].split("<tfoot>")[1].split("</tfoot>")[0]
    revenue = re.search(r'data-total="revenue">([^<]+)<', footing).group(1)
    assert revenue == f"{sum(r['revenue'] for r in rows):,.2f}"
    assert revenue == f"{kpi_values(ws, 'revenue')[APRIL]:,.2f}"  # the company's revenue of the month


# ---------------------------------------------------------------- 6. the navigation
def test_the_404_page_keeps_the_navigation_and_the_current_page_is_marked(env):
    client = logged_in(env["client"])
    page = client.get(f"/variances?period={PERIOD}").text
    assert re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]+)<', page) == ["Variances"]
    missing = client.get("/variances/nowhere")
    assert missing.status_code == 404
    nav = missing.text.split("<nav")[1].split("</nav>")[0]
    assert all(f">{name}</a>" in nav for name in ("Overview", "Operations", "Alerts", "Data"))
    assert re.findall(r'aria-current="page"[^>]*>([^<]+)<', nav) == ["Variances"]
    assert "aria-current" not in client.get("/nowhere").text.split("</nav>")[0]


# ---------------------------------------------------------------- 7. the packs carry the charts
def test_the_packs_carry_the_waterfall_and_the_kpi_trends(env):
    import io
    import zipfile

    from opsfin.export.pack import build_pack, pack_contents

    ws = env["ws"]
    contents = pack_contents(ws, PERIOD)
    charts = {c.key: c for c in contents.charts}
    bridge = ws.variance("2024-04-01", "2024-04-30").to_dicts()
    waterfall = charts["waterfall"]
    assert list(waterfall.labels) == [r["category"] for r in bridge]  # its categories, then the total
    total = next(r["amount"] for r in bridge if r["category"] == "total")
    assert waterfall.values[-1] == float(total)
    assert round(sum(waterfall.values[:-1]), 2) == float(total)  # the steps walk to the total
    oee = charts["trend-oee"]
    months = {r["period_start"]: r["value"] for r in ws.kpi(["oee"]).to_dicts()}
    assert oee.labels[-1] == PERIOD and len(oee.labels) == 12 and oee.low == oee_min(ws)
    assert oee.values[-1] == months[APRIL] and oee.values[-2] == months[MARCH]
    page = build_pack(ws, PERIOD, "html").decode()
    section = page.split('<section id="charts">')[1].split("</section>")[0]
    assert section.count("<svg") == len(contents.charts) and "<script" not in page
    assert f"guardrail min {oee_min(ws):.1%}" in section.split('id="chart-trend-oee"')[1]
    assert_alert_text_has_room(contents)
    book = zipfile.ZipFile(io.BytesIO(build_pack(ws, PERIOD, "xlsx")))
    drawn = [n for n in book.namelist() if n.startswith("xl/charts/chart")]
    assert len(drawn) == len(contents.charts)
    assert 'name="Charts"' in book.read("xl/workbook.xml").decode()


def assert_alert_text_has_room(contents) -> None:
    """An alert's explanation is a `wide` cell (min-width 32em on the page), never squeezed to a sliver."""
    import dataclasses

    import polars as pl

    from opsfin.export.pack_html import render_html

    alerts = contents.section("alerts")
    row = {c.name: None for c in alerts.columns} | {"explanation": "OEE at P1 was 40.0% in 2024-04, below 65.0%"}
    table = pl.DataFrame([row], schema={c.name: pl.Utf8 for c in alerts.columns})
    shown = dataclasses.replace(
        alerts, table=table, columns=tuple(c for c in alerts.columns if c.kind in ("text", "status"))
    )
    sections = tuple(shown if s.key == "alerts" else s for s in contents.sections)
    page = render_html(dataclasses.replace(contents, sections=sections))
    assert '<th class="wide">Explanation</th>' in page
    assert '<td class="wide">OEE at P1 was 40.0% in 2024-04, below 65.0%</td>' in page
    assert "td.wide, th.wide { min-width: 32em;" in page


def test_a_site_packs_waterfall_foots_to_its_total(env):
    from opsfin.export.pack import pack_contents

    contents = pack_contents(env["ws"], PERIOD, sites=("P1",))
    rows = contents.section("variances").table.to_dicts()
    footing = next(r["amount"] for r in rows if r["part"] == "total")
    waterfall = next(c for c in contents.charts if c.key == "waterfall")
    assert waterfall.values[-1] == float(footing)
    assert round(sum(waterfall.values[:-1]), 2) == float(footing)
    assert "trend-revenue" not in {c.key for c in contents.charts} or "site" in env["ws"].kpi_catalog()["revenue"].dims
