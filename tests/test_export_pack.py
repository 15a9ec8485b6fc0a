"""`opsfin export pack`: the monthly operations-finance pack (docs/export-pack.md) on the tiny demo company.

The workbook is read back with openpyxl and every figure is compared with the engine's own rows
(`ws.kpi`, `ws.variance`, the alert engine) — exact to the cent for money. The guardrail status is
checked against the band from model/guardrails.yaml, compared here by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
import subprocess
import sys
from decimal import Decimal

import openpyxl
import polars as pl
import pytest

import opsfin
from cli_support import run_in_process
from opsfin.appdb import AppDB, open_app_db
from opsfin.core.dimensions import SiteMap
from opsfin.errors import UserError
from opsfin.export.pack import build_pack, pack_contents, pack_filename, pack_media_type, render
from opsfin.export.pack_sections import action_section, alert_section
from opsfin.export.pack_xlsx import render_xlsx
from opsfin.runs.alerts import run_alerts
from opsfin.runs.model import load_guardrails

PERIOD = "2024-04"  # the tiny company's last month: one guardrail alert (CC-S1-SUP1, on the tightened band below)
FIRST, LAST = dt.date(2024, 4, 1), dt.date(2024, 4, 30)
SECTION_SHEETS = ["KPIs", "Variances", "Alerts", "Actions"]
TODAY = dt.date.today()


def cents(x) -> Decimal:
    """A cell's float as the exact 2-decimal amount it shows."""
    assert isinstance(x, float | int), f"{x!r} is not a number"
    return Decimal(repr(x)).quantize(Decimal("0.01"))


SHIPPED_SUPPORT_BAND = "  - kpi: support_utilization\n    by: cost_center\n    grain: month\n    min: 0.45\n"


def _tighten_the_support_band(guardrails):
    """The demo's support teams stay inside the shipped band (45 %…95 %) in April; this copy watches the
    team CC-S1-SUP1 alone with a 50 % floor, so April has one guardrail alert, on site S1: the team handled
    tickets 4,982.6 minutes of 10,140 paid (169 h) = 49.1 % (tiny demo, seed 7; worked from the warehouse in
    `test_the_support_alert_is_worked_from_the_warehouse`)."""
    text = guardrails.read_text()
    assert text.count(SHIPPED_SUPPORT_BAND) == 1
    tight = SHIPPED_SUPPORT_BAND.replace("    grain:", "    where: {cost_center: CC-S1-SUP1}\n    grain:")
    guardrails.write_text(text.replace(SHIPPED_SUPPORT_BAND, tight.replace("min: 0.45", "min: 0.5")))


@pytest.fixture(scope="module")
def ws(tiny_demo, tmp_path_factory):
    """A copy of the tiny demo (its app database gets actions), with four actions recorded."""
    path = tmp_path_factory.mktemp("pack") / "ws"
    shutil.copytree(tiny_demo.path, path, ignore=shutil.ignore_patterns("app.db*"))
    _tighten_the_support_band(path / "model" / "guardrails.yaml")
    w = opsfin.open(path)
    db = open_app_db(w)
    past, future = TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=30)
    db.add_action(
        "cli:test",
        "Rebalance P1 packing crew",
        "plant manager P1",
        past,
        Decimal("12345.67"),
        subject_type="variance",
        subject_id="variance:2024-04:labor_efficiency",
        site="P1",
    )
    second = db.add_action(
        "cli:test",
        "<script>alert('x')</script> & staff the S1 desk",
        "support lead",
        future,
        Decimal("-250.05"),
        subject_type="alert",
        subject_id="alert:AL-x",
        site="S1",
    )
    db.update_action("cli:test", second["id"], status="in_progress")
    done = db.add_action("cli:test", "Closed already", "controller", past, Decimal("1.00"), site="P1")
    db.update_action("cli:test", done["id"], status="done")
    db.add_action("cli:test", "Renegotiate the energy contract", "CFO", future, Decimal("90000.00"))
    return w


@pytest.fixture(scope="module")
def company(ws):
    return pack_contents(ws, PERIOD)


@pytest.fixture(scope="module")
def plant(ws):
    return pack_contents(ws, PERIOD, sites=("P1",))


@pytest.fixture(scope="module")
def company_xlsx(company):
    return openpyxl.load_workbook(io.BytesIO(render(company, "xlsx")))


@pytest.fixture(scope="module")
def plant_xlsx(plant):
    return openpyxl.load_workbook(io.BytesIO(render(plant, "xlsx")))


def sheet_rows(book, name: str) -> list[dict]:
    """A section sheet as dicts keyed by header; each value is the openpyxl cell."""
    sheet = book[name]
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2) if row[0].value is not None]


# ------------------------------------------------------------------------------------------ parameters
def test_filename_and_media_type():
    assert pack_filename("2024-04", "xlsx") == "pack-2024-04.xlsx"
    assert pack_filename("2024-04", "html") == "pack-2024-04.html"
    assert pack_media_type("html").startswith("text/html")
    assert "spreadsheetml" in pack_media_type("xlsx")
    with pytest.raises(UserError, match="--format 'pdf'"):
        pack_filename("2024-04", "pdf")


@pytest.mark.parametrize("period", ["2024-13", "2024-00", "24-04", "2024/04", "2024-4", "", "April"])
def test_bad_period_is_a_user_error(ws, period):
    with pytest.raises(UserError, match="--period .*YYYY-MM"):
        build_pack(ws, period, "xlsx")


def test_period_without_data_names_the_months_held(ws):
    with pytest.raises(UserError, match=r"--period 2023-11: .*no GL postings.*2024-01 to 2024-04"):
        build_pack(ws, "2023-11", "html")


def test_bad_site_scope_is_a_user_error(ws):
    with pytest.raises(UserError, match="unknown site P9; the sites are P1, P2, W1, S1"):
        build_pack(ws, PERIOD, "xlsx", sites=("P1", "P9"))
    with pytest.raises(UserError, match="at least one site"):
        build_pack(ws, PERIOD, "xlsx", sites=())


# ------------------------------------------------------------------------------------------ workbook
def test_workbook_sheets_frozen_bold_headers_and_filters(company_xlsx):
    assert company_xlsx.sheetnames == ["Cover", *SECTION_SHEETS, "Charts"]  # the charts last (docs/export-pack.md)
    for name in SECTION_SHEETS:
        sheet = company_xlsx[name]
        assert sheet.freeze_panes == "A2", name
        assert all(c.font.bold for c in sheet[1]), name
        if sheet.max_row > 1:
            assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    cover = {r[0].value: r[1].value for r in company_xlsx["Cover"].iter_rows(min_row=2) if r[0].value}
    assert cover["Company"] == "opsfin Demo Manufacturing"
    assert cover["Period"] == PERIOD
    assert cover["From"] == dt.datetime(2024, 4, 1) and cover["To"] == dt.datetime(2024, 4, 30)
    assert cover["Site scope"] == "all sites (company level)"
    assert isinstance(cover["Generated at (UTC)"], dt.datetime)


def test_variance_sheet_is_the_engine_bridge_to_the_cent(ws, company_xlsx):
    bridge = ws.variance(FIRST, LAST)
    expected = dict(zip(bridge["category"], bridge["amount"], strict=True))
    rows = sheet_rows(company_xlsx, "Variances")
    assert [r["Category"].value for r in rows] == bridge["category"].to_list()
    for r in rows:
        cell = r["Amount"]
        assert cell.data_type == "n" and cell.number_format == "#,##0.00"
        assert cents(cell.value) == expected[r["Category"].value]
    parts = sum(cents(r["Amount"].value) for r in rows if r["Category"].value != "total")
    total = cents(next(r["Amount"].value for r in rows if r["Category"].value == "total"))
    assert parts == total != 0


def test_kpi_sheet_values_are_the_engine_values(ws, company_xlsx):
    catalog = ws.kpi_catalog()
    rows = [r for r in sheet_rows(company_xlsx, "KPIs") if r["Scope"].value == "company"]
    assert [r["KPI"].value for r in rows] == list(catalog)  # every catalog KPI, once, in catalog order
    money = [k for k in catalog if catalog[k].money]
    ratios = ws.kpi([k for k in catalog if k not in money], start="2024-03-01", end=LAST)
    amounts = ws.kpi(money, start="2024-03-01", end=LAST)  # asked apart: exact decimals
    assert amounts.schema["value"] == pl.Decimal(38, 2)
    engine = {
        (r["kpi"], r["period_start"]): r["value"] for frame in (ratios, amounts) for r in frame.iter_rows(named=True)
    }
    for r in rows:
        kpi = r["KPI"].value
        for header, month in (("Value", FIRST), ("Prior month", dt.date(2024, 3, 1))):
            cell = r[header]
            want = engine.get((kpi, month))
            if want is None:
                assert cell.value is None, (kpi, header)
                continue
            assert cell.data_type == "n", (kpi, header, cell.value)
            if kpi in money:
                assert cell.number_format == "#,##0.00"
                assert cents(cell.value) == want, kpi
            else:
                assert cell.value == pytest.approx(want, rel=1e-12), kpi
                if catalog[kpi].unit == "ratio":
                    assert cell.number_format == "0.0%"


def test_guardrail_status_follows_the_band(ws, company):
    """Each month-grain guardrail row: 'breach' exactly when the value is outside [min, max] (by hand)."""
    kpis = company.section("kpis").table
    guarded = kpis.filter(pl.col("guardrail") != "")
    assert guarded.height >= len(load_guardrails(ws.model_dir, ws.kpi_catalog()))
    for r in guarded.iter_rows(named=True):
        value = r["value"] if r["value"] is not None else r["amount"]
        if value is None:
            assert r["status"] == "no data"
            continue
        outside = (r["min"] is not None and float(value) < r["min"]) or (
            r["max"] is not None and float(value) > r["max"]
        )
        assert r["status"] == ("breach" if outside else "ok"), r
    sup1 = guarded.filter(pl.col("scope") == "cost_center=CC-S1-SUP1").row(0, named=True)
    assert sup1["status"] == "breach" and sup1["value"] < 0.5 and sup1["site"] == "S1"


def test_the_support_alert_is_worked_from_the_warehouse(ws):
    """CC-S1-SUP1's April utilization by plain SQL: handling minutes of the tickets closed in April over
    the minutes paid on its April timesheets; below the 50 % floor, and SUP1 is the only alert of April."""
    with ws.connect(read_only=True) as con:
        ((handled,),) = con.execute(
            "SELECT sum(handling_minutes) FROM support_tickets WHERE cost_center_id = 'CC-S1-SUP1' "
            "AND closed_at >= TIMESTAMP '2024-04-01' AND closed_at < TIMESTAMP '2024-05-01'"
        ).fetchall()
        ((paid,),) = con.execute(
            "SELECT sum((regular_hours + overtime_hours) * 60) FROM timesheets WHERE cost_center_id = 'CC-S1-SUP1' "
            "AND work_date BETWEEN DATE '2024-04-01' AND DATE '2024-04-30'"
        ).fetchall()
    assert paid > 0 and handled / paid < 0.5
    (alert,) = run_alerts(ws, start=FIRST, end=LAST)
    assert alert.kpi == "support_utilization" and alert.scope == {"cost_center": "CC-S1-SUP1"}
    assert alert.value == pytest.approx(handled / paid, rel=1e-12) and alert.bound == 0.5


def test_alert_sheet_holds_the_months_alerts(ws, company_xlsx):
    alerts = run_alerts(ws, start=FIRST, end=LAST)
    rows = sheet_rows(company_xlsx, "Alerts")
    assert {r["Alert id"].value for r in rows} == {a.id for a in alerts} != set()
    row = next(r for r in rows if "CC-S1-SUP1" in r["Scope"].value)
    alert = next(a for a in alerts if a.id == row["Alert id"].value)
    assert row["From"].value == dt.datetime.combine(alert.period_start, dt.time())  # a real date
    assert row["From"].is_date and row["Value"].data_type == "n"
    assert row["Value"].value == pytest.approx(alert.value) and row["Value"].number_format == "0.0%"


def test_action_sheet_holds_open_actions_only(company_xlsx):
    rows = sheet_rows(company_xlsx, "Actions")
    assert sorted(r["Title"].value for r in rows) == sorted(
        [
            "Rebalance P1 packing crew",
            "<script>alert('x')</script> & staff the S1 desk",
            "Renegotiate the energy contract",
        ]
    )  # the done action is left out
    by_title = {r["Title"].value: r for r in rows}
    crew = by_title["Rebalance P1 packing crew"]
    assert crew["Expected impact"].data_type == "n" and cents(crew["Expected impact"].value) == Decimal("12345.67")
    assert crew["Due"].is_date and crew["Overdue"].value == "overdue"
    assert by_title["<script>alert('x')</script> & staff the S1 desk"]["Status"].value == "in_progress"
    assert cents(by_title["<script>alert('x')</script> & staff the S1 desk"]["Expected impact"].value) == Decimal(
        "-250.05"
    )


def test_empty_section_says_so(ws, company):
    """A warehouse-only scope has no actions: the sheet keeps its header and says why it is empty."""
    empty = action_section(ws, TODAY, ("W1",))
    assert empty.table.is_empty()
    sections = tuple(empty if s.key == "actions" else s for s in company.sections)
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(dataclasses.replace(company, sections=sections))))
    assert book["Actions"]["A1"].value == "Action" and book["Actions"]["A2"].value == "No open actions recorded."
    assert book["Actions"].freeze_panes == "A2"


def test_actions_come_from_the_app_db_given(ws, tmp_path):
    """The web app passes its own AppDB (e.g. PostgreSQL); the workspace's app.db is then not read."""
    other = AppDB(f"sqlite:///{tmp_path / 'other.db'}")
    other.add_action("web:ana", "Only in the other database", "ana", TODAY, Decimal("0.10"), site="P2")
    table = action_section(ws, TODAY, None, app_db=other).table
    assert table["title"].to_list() == ["Only in the other database"]
    assert table["expected_impact"].to_list() == [Decimal("0.10")] and table["overdue"].to_list() == [""]
    assert action_section(ws, TODAY, ("P1",), app_db=other).table.is_empty()


# ------------------------------------------------------------------------------------------ html
def test_html_is_self_contained_printable_and_escaped(ws, company):
    page = render(company, "html").decode("utf-8")
    for key in ("cover", "kpis", "variances", "alerts", "actions"):
        assert f'id="{key}"' in page
    assert "@media print" in page and "page-break-before" in page
    assert "<script" not in page and "<link" not in page and "http" not in page.replace("http-equiv", "")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; staff the S1 desk" in page
    for amount in ws.variance(FIRST, LAST)["amount"]:
        assert f">{amount:,.2f}<" in page
    revenue = ws.kpi("revenue", start=FIRST, end=LAST)["value"][0]
    assert f">{revenue:,.2f}<" in page
    statuses = company.section("kpis").table["status"].to_list()
    assert page.count('class="tone-ok">ok<') == statuses.count("ok") > 0
    assert page.count('class="tone-warn">breach<') == statuses.count("breach") == 1  # CC-S1-SUP1, warn
    assert page.count('class="tone-stop">overdue<') == 1  # the P1 crew action is past due


# ------------------------------------------------------------------------------------------ site scope
def test_site_pack_holds_only_its_sites_rows(ws, plant, plant_xlsx):
    assert plant.sites == ("P1",)
    kpis = plant.section("kpis").table
    assert set(kpis["site"].to_list()) == {"P1"}
    catalog = ws.kpi_catalog()
    assert all("site" in catalog[k].dims for k in kpis["kpi"])  # DSO, DIO, days to pay… left out
    assert "dso" not in kpis["kpi"].to_list()
    oee = kpis.filter(pl.col("kpi") == "oee").row(0, named=True)
    assert oee["value"] == pytest.approx(
        ws.kpi("oee", by=["site"], where={"site": ["P1"]}, start=FIRST, end=LAST)["value"][0],
        rel=1e-12,
    )
    assert oee["status"] in ("ok", "breach") and oee["guardrail"]

    variances = plant.section("variances").table
    p1_centres = set(ws.table("work_centers").filter(pl.col("site_id") == "P1")["work_center_id"])
    split = ws.variance(FIRST, LAST, by="work_center")
    mine = split.filter(pl.col("work_center").is_in(list(p1_centres)))
    parts = variances.filter(pl.col("part") != "total")
    assert set(parts["work_center"]) <= p1_centres and set(parts["site"]) == {"P1"}
    assert parts["amount"].to_list() == mine["amount"].to_list()
    footing = variances.filter(pl.col("part") == "total")
    assert footing["category"].to_list() == ["total (P1)"]
    assert footing["amount"][0] == sum(mine["amount"].to_list(), Decimal(0))
    assert "total" not in variances["category"].to_list()  # the company bridge's total is hidden
    company_total = ws.variance(FIRST, LAST).filter(pl.col("category") == "total")["amount"][0]
    assert footing["amount"][0] != company_total

    assert plant.section("alerts").table.is_empty()  # April's only alert is S1's
    actions = plant.section("actions").table
    assert actions["title"].to_list() == ["Rebalance P1 packing crew"]

    other_sites = {"P2", "W1", "S1"}
    for name in SECTION_SHEETS:
        for row in sheet_rows(plant_xlsx, name):
            assert "Site" not in row or row["Site"].value in (None, "P1"), (name, row["Site"].value)
            assert not any(isinstance(c.value, str) and c.value in other_sites for c in row.values())
    page = render(plant, "html").decode("utf-8")
    assert "CC-S1-SUP1" not in page and "sales_price" not in page and ">P2<" not in page
    assert "P1" in page


def test_site_scope_keeps_its_own_alert(ws):
    site_map = SiteMap.read(ws.table)
    s1 = alert_section(ws, FIRST, LAST, ("S1",), site_map).table
    p1 = alert_section(ws, FIRST, LAST, ("P1",), site_map).table
    assert s1["scope"].to_list() == ["cost_center=CC-S1-SUP1"] and s1["site"].to_list() == ["S1"]
    assert p1.is_empty()


def test_site_map_attribution(ws):
    site_map = SiteMap.read(ws.table)
    assert site_map.visible({"machine": ["P1-ASSY-M01"]}, ("P1",))
    assert not site_map.visible({"machine": ["P1-ASSY-M01"]}, ("P2",))
    assert site_map.visible({"site": ["P1", "P2"]}, ("P1", "P2"))
    assert not site_map.visible({"site": ["P1", "P2"]}, ("P1",))  # a filter mixing another site
    assert not site_map.visible({"customer": ["CUS-0001"]}, ("P1",))  # cross-site: company level only
    assert not site_map.visible({}, ("P1",))
    assert site_map.visible({"customer": ["CUS-0001"]}, None)


# ------------------------------------------------------------------------------------------ CLI
def test_cli_writes_the_pack_and_prints_its_path(ws, tmp_path):
    out = tmp_path / "plant.xlsx"
    proc = run_in_process(
        "export",
        "pack",
        "--period",
        PERIOD,
        "--format",
        "xlsx",
        "--sites",
        "P1",
        "--output",
        str(out),
        "-w",
        str(ws.path),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out.resolve())
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Cover", *SECTION_SHEETS, "Charts"]
    assert {r[0].value: r[1].value for r in book["Cover"].iter_rows(min_row=2) if r[0].value}["Site scope"] == "P1"

    default = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsfin",
            "export",
            "pack",
            "--period",
            "2024-13",
            "--format",
            "html",
            "-w",
            str(ws.path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert default.returncode == 2
    assert default.stderr.strip() == "error: --period '2024-13': give a month as YYYY-MM, e.g. 2024-03"
    assert not list(tmp_path.glob("pack-*"))
