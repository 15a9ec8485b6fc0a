"""`opsfin plan export NAME --format xlsx` and `opsfin plan import FILE --version NAME` (docs/planning-excel.md)
on a private copy of the tiny demo: the round trip is exact, the Costs sheet shows revenue and costs
positive, every bad cell is refused with its reference and nothing is written, a read-only version is
refused."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import openpyxl
import pytest

import opsfin
from cli_support import run_cli
from opsfin.appdb import open_app_db
from opsfin.runs.plan_versions import version_status

VOLUME_COLUMNS = "period, product_id, qty, unit_price"
BUDGET_COLUMNS = "period, cost_center_id, account_id, amount"


@pytest.fixture(scope="module")
def ws(tiny_demo, tmp_path_factory):
    """A copy of the tiny demo (its B2024 budget: 4 months, 8 finished products), never the session's."""
    target = tmp_path_factory.mktemp("plan-files") / "ws"
    shutil.copytree(tiny_demo.path, target, ignore=shutil.ignore_patterns("app.db*", "*.wal"))
    return opsfin.open(target)


@pytest.fixture(scope="module")
def b2024_file(ws, tmp_path_factory):
    """B2024 exported by the CLI."""
    path = tmp_path_factory.mktemp("export") / "b2024.xlsx"
    code, out, err = run_cli_plain("export", "B2024", "--format", "xlsx", "--output", str(path), "-w", str(ws.path))
    assert code == 0, err
    return path


def run_cli_plain(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        from opsfin.cli import main

        try:
            main(["plan", *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def rows(ws, table: str, version: str) -> list[tuple]:
    columns = VOLUME_COLUMNS if table == "volume_plan" else BUDGET_COLUMNS
    return ws.sql(f"SELECT {columns} FROM {table} WHERE version = ? ORDER BY ALL", [version]).rows()


def snapshot(ws) -> dict[str, list[tuple]]:
    """Every row of the tables an import writes, and the audit log's length."""
    out = {t: ws.sql(f"SELECT * FROM {t} ORDER BY ALL").rows() for t in ("volume_plan", "budget_lines", "loads")}
    out["audit"] = [(len(open_app_db(ws).audit_entries()),)]
    return out


def plan(capsys, ws, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "plan", *args, "-w", str(ws.path))


def test_the_template_layout(b2024_file):
    book = openpyxl.load_workbook(b2024_file)
    assert book.sheetnames == ["Volumes", "Prices", "Costs"]
    volumes, costs = book["Volumes"], book["Costs"]
    months = ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert [c.value for c in volumes[1]] == ["product_id", "product", "family", *months]
    assert [c.value for c in costs[1]] == ["cost_center_id", "account_id", "cost_center", "account", "type", *months]
    assert [volumes.cell(r, 1).value for r in range(2, 10)] == [
        "FG-001", "FG-002", "FG-003", "FG-004", "FG-005", "FG-006", "SP-001", "SP-002",
    ]  # fmt: skip
    assert volumes.freeze_panes == "B2" and costs.freeze_panes == "C2"
    assert costs["F2"].number_format == "#,##0.00"


def test_round_trip_is_exact(capsys, ws, b2024_file):
    code, out, err = plan(capsys, ws, "import", str(b2024_file), "--version", "R2024")
    assert code == 0, err
    n_lines = len(rows(ws, "budget_lines", "B2024"))  # cost lines × 4 months (below: 66 × 4)
    assert f"32 volume_plan and {n_lines} budget_lines rows written (replacing 0 and 0)" in out  # 8 × 4
    assert rows(ws, "volume_plan", "R2024") == rows(ws, "volume_plan", "B2024")
    assert rows(ws, "budget_lines", "R2024") == rows(ws, "budget_lines", "B2024")
    assert version_status(ws, "R2024") == "draft"
    entry = open_app_db(ws).audit_entries(object_type="plan_version")[0]
    assert (entry["action"], entry["object_id"]) == ("plan.import", "R2024")
    assert entry["payload"]["rows"] == {"volume_plan": 32, "budget_lines": n_lines}
    # importing again replaces the rows: same content, counted as replaced
    code, out, _ = plan(capsys, ws, "import", str(b2024_file), "--version", "R2024")
    assert code == 0 and f"(replacing 32 and {n_lines})" in out
    assert rows(ws, "budget_lines", "R2024") == rows(ws, "budget_lines", "B2024")


def hand_made(path, revenue: object = 1000.5, labor: object = "200.25", qty: object = 120, price: object = 174.8125):
    """A workbook typed by hand: one product, revenue and labor of one month (2025-01)."""
    book = openpyxl.Workbook()
    volumes = book.active
    volumes.title = "Volumes"
    for name, value in (("Volumes", qty), ("Prices", price)):
        sheet = volumes if name == "Volumes" else book.create_sheet(name)
        sheet.append(["product_id", "product", "family", "2025-01"])
        sheet.append(["FG-001", "Pump", "Pumps", value])
    costs = book.create_sheet("Costs")
    costs.append(["cost_center_id", "account_id", "cost_center", "account", "type", "2025-01"])
    costs.append(["CC-W1-SAL", "4000", "", "Revenue", "revenue", revenue])
    costs.append(["CC-P1-ASSY", 6000, None, None, None, labor])  # an account typed as a number
    book.save(path)
    return path


def test_the_costs_sheet_shows_revenue_positive_and_the_gl_gets_it_negative(capsys, ws, tmp_path):
    code, _, err = plan(capsys, ws, "import", str(hand_made(tmp_path / "h.xlsx")), "--version", "H2025")
    assert code == 0, err
    jan = dt.date(2025, 1, 1)
    assert rows(ws, "budget_lines", "H2025") == [
        (jan, "CC-P1-ASSY", "6000", Decimal("200.25")),
        (jan, "CC-W1-SAL", "4000", Decimal("-1000.50")),
    ]
    assert rows(ws, "volume_plan", "H2025") == [(jan, "FG-001", 120.0, Decimal("174.8125"))]
    # and back out: the revenue cell shows 1000.50 again
    code, _, err = plan(capsys, ws, "export", "H2025", "--output", str(tmp_path / "back.xlsx"))
    assert code == 0, err
    costs = openpyxl.load_workbook(tmp_path / "back.xlsx")["Costs"]
    shown = {(r[0], r[1]): r[5] for r in costs.iter_rows(min_row=2, values_only=True)}
    assert shown == {("CC-P1-ASSY", "6000"): 200.25, ("CC-W1-SAL", "4000"): 1000.5}


def test_bad_cells_are_all_named_and_nothing_is_written(capsys, ws, b2024_file, tmp_path):
    book = openpyxl.load_workbook(b2024_file)
    costs, volumes = book["Costs"], book["Volumes"]
    costs["F12"] = "abc"
    costs["B3"] = "9999"
    costs["G5"] = 1.234
    costs["A20"] = costs["A19"].value
    costs["B20"] = costs["B19"].value
    volumes["A7"] = "P999"
    volumes["A6"] = "CP-001"
    volumes["E3"] = -5
    volumes["H1"] = "Jan 25"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    before = snapshot(ws)
    code, out, err = plan(capsys, ws, "import", str(bad), "--version", "BAD1")
    assert code == 2 and out == ""
    for expected in (
        "Costs!F12: not a number ('abc')",
        "Costs!B3: unknown account 9999",
        "Costs!G5: amount 1.234 has more than 2 decimals",
        "Costs!A20: duplicate row: cost centre",
        "Volumes!A7: unknown product P999",
        "Volumes!A6: product CP-001 is a component item, not a finished product",
        "Volumes!E3: volume -5 is below the minimum 0",
        "Volumes!H1: the month title 'Jan 25' is not YYYY-MM",
        # the Volumes rows of FG-005 and FG-006 were overwritten: their prices have no volumes now
        "Prices!A6: product FG-005 has values here but no row on the Volumes sheet",
        "Prices!A7: product FG-006 has values here but no row on the Volumes sheet",
    ):
        assert expected in err, (expected, err)
    assert "refused, 10 problem(s) found; nothing was written" in err
    assert snapshot(ws) == before
    assert version_status(ws, "BAD1") is None  # not even registered


def test_problems_stop_at_the_limit(capsys, ws, b2024_file, tmp_path):
    book = openpyxl.load_workbook(b2024_file)
    for r in range(2, 37):
        for c in range(6, 10):
            book["Costs"].cell(r, c).value = "x"  # 35 rows × 4 months = 140 bad cells
    book.save(tmp_path / "many.xlsx")
    code, _, err = plan(capsys, ws, "import", str(tmp_path / "many.xlsx"), "--version", "BAD2")
    assert code == 2
    assert err.count("not a number") == 100 and "stopped after 100 problems" in err


def test_an_approved_version_is_refused(capsys, ws, b2024_file):
    open_app_db(ws).create_plan_version("A2024", "budget", "demo", as_user=False, status="approved")
    before = snapshot(ws)
    code, _, err = plan(capsys, ws, "import", str(b2024_file), "--version", "A2024")
    assert code == 2 and "plan version A2024 is approved and read-only" in err
    assert snapshot(ws) == before


def test_an_empty_template_for_a_new_version(capsys, ws, tmp_path):
    code, _, err = plan(capsys, ws, "export", "N2026", "--output", str(tmp_path))
    assert code == 2 and "give --from and --to" in err
    code, _, err = plan(
        capsys, ws, "export", "N2026", "--from", "2026-01", "--to", "2026-03", "--output", str(tmp_path)
    )
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "plan-N2026.xlsx")
    assert [c.value for c in book["Volumes"][1]][3:] == ["2026-01", "2026-02", "2026-03"]
    costs = list(book["Costs"].iter_rows(min_row=2, values_only=True))
    # B2024's lines a month, empty: per plant its work centres × 4 conversion accounts + maintenance (on the
    # tiny demo 2 × (6 × 4 + 1) = 50), revenue and cogs (2), opex of 7 cost centres and the salaries of the
    # same 7 outside production (14): 66
    centres = ws.sql("SELECT count(*) AS n FROM work_centers")["n"][0]
    assert len(costs) == centres * 4 + 2 + 2 + 14 and all(r[5:] == (None, None, None) for r in costs)


def test_files_that_are_no_budget_workbook(capsys, ws, tmp_path):
    (tmp_path / "text.xlsx").write_text("hello")
    code, _, err = plan(capsys, ws, "import", str(tmp_path / "text.xlsx"), "--version", "T1")
    assert code == 2 and "not a readable Excel .xlsx workbook" in err
    book = openpyxl.Workbook()
    book.active.title = "Volumes"
    book.save(tmp_path / "one.xlsx")
    code, _, err = plan(capsys, ws, "import", str(tmp_path / "one.xlsx"), "--version", "T1")
    assert code == 2 and "the workbook has no sheet Prices, Costs" in err
    bad = hand_made(tmp_path / "dates.xlsx", revenue=dt.datetime(2025, 1, 1), labor=True, qty=1.5, price=-2)
    code, _, err = plan(capsys, ws, "import", str(bad), "--version", "T1")
    assert code == 2
    assert "Costs!F2: not a number" in err and "Costs!F3: amount True is a true/false value" in err
    assert "Prices!D2: price -2.0000 is below the minimum 0" in err


def test_a_workbook_with_a_doctype_is_refused_before_it_is_read(capsys, ws, tmp_path):
    import zipfile

    plain = hand_made(tmp_path / "plain.xlsx")
    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(hostile, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                data = b'<!DOCTYPE w [<!ENTITY e "boom">]>' + data
            dst.writestr(item, data)
    before = snapshot(ws)
    code, _, err = plan(capsys, ws, "import", str(hostile), "--version", "D1")
    assert code == 2 and "the workbook part xl/workbook.xml declares a DOCTYPE" in err
    assert snapshot(ws) == before
