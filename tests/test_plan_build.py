"""`opsfin plan build|show|roll` on a copy of the tiny company (docs/planning.md): the version's rows are
stored and replaced atomically with an audit entry, an approved version is refused, `show` gives the
table's rows (and `vs`/`delta`), bad input is one clear line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest

from cli_support import run_cli
from opsfin import workspace

PNL_KEYS = {"version", "period", "line", "amount"}


@pytest.fixture(scope="module")
def ws_path(tiny_demo, tmp_path_factory):
    dest = tmp_path_factory.mktemp("plan") / "ws"
    shutil.copytree(tiny_demo.path, dest)
    return dest


def _cli(capsys, ws_path, *args):
    return run_cli(capsys, "plan", *args, "-w", str(ws_path))


def _rows(ws, version):
    return {
        t: ws.sql(f"SELECT count(*) AS n FROM {t} WHERE version = ?", [version])["n"][0]
        for t in ("plan_pnl", "plan_capacity", "plan_balances")
    }


def test_build_stores_rows_replaces_them_and_is_audited(capsys, ws_path):
    code, out, err = _cli(capsys, ws_path, "build", "--version", "ACT", "--volumes", "actual", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["from"] == "2024-01" and summary["to"] == "2024-04"
    ws = workspace.open(ws_path)
    first = _rows(ws, "ACT")
    assert first["plan_pnl"] == summary["rows"]["plan_pnl"] > 0
    assert "volumes: actual" in err  # progress on stderr
    code, out, err = _cli(capsys, ws_path, "build", "--version", "ACT", "--volumes", "actual", "--from", "2024-02")
    assert code == 0, err
    again = _rows(ws, "ACT")
    assert again["plan_pnl"] == first["plan_pnl"] * 3 // 4  # 3 of the 4 months, the old rows gone
    loads = ws.sql("SELECT DISTINCT load_id, status FROM loads WHERE load_id LIKE 'PLAN-ACT-%' ORDER BY load_id")
    assert loads["status"].to_list() == ["superseded", "loaded"]
    from opsfin.appdb import open_app_db

    db = open_app_db(ws)
    entries = [e for e in db.audit_entries() if e["action"] == "plan.build" and e["object_id"] == "ACT"]
    assert len(entries) == 2
    assert db.plan_version("ACT")["status"] == "draft"


def test_show_json_is_the_table_rows_and_vs_actual_is_zero_on_the_tied_lines(capsys, ws_path):
    _cli(capsys, ws_path, "build", "--version", "ACT2", "--volumes", "actual")
    code, out, err = _cli(capsys, ws_path, "show", "ACT2", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows and set(rows[0]) == PNL_KEYS
    assert [r["line"] for r in rows[:6]] == ["revenue", "cogs", "variances", "gross_margin", "opex", "operating_income"]
    code, out, err = _cli(capsys, ws_path, "show", "ACT2", "--vs", "actual", "--by", "site", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert set(rows[0]) == PNL_KEYS | {"site_id", "vs", "delta"}
    assert all(Decimal(r["delta"]) == 0 for r in rows)  # built from the actuals, compared with them
    assert any(Decimal(r["vs"]) != 0 for r in rows if r["line"] == "revenue")


def test_show_vs_a_budget_computes_its_pnl(capsys, ws_path, tiny_demo):
    _cli(capsys, ws_path, "build", "--version", "ACT3", "--volumes", "actual")
    code, out, err = _cli(capsys, ws_path, "show", "ACT3", "--vs", "B2024", "--format", "json")
    assert code == 0, err
    rows = {(r["period"], r["line"]): r for r in json.loads(out)}
    jan = rows[("2024-01-01", "revenue")]
    budget = tiny_demo.sql(
        "SELECT -sum(b.amount) AS s FROM budget_lines b JOIN accounts a USING (account_id) "
        "WHERE b.version = 'B2024' AND a.role = 'revenue' AND b.period = DATE '2024-01-01'"
    )["s"][0]
    assert Decimal(jan["vs"]) == budget
    assert Decimal(jan["delta"]) == Decimal(jan["amount"]) - budget
    code, out, err = _cli(capsys, ws_path, "show", "ACT3")
    assert code == 0 and "Operating income" in out and "P&L of ACT3" in out


def test_an_approved_version_is_refused_and_nothing_is_written(capsys, ws_path):
    from opsfin.appdb import open_app_db

    ws = workspace.open(ws_path)
    open_app_db(ws).create_plan_version("LOCKED", "budget", "demo", as_user=False, status="approved")
    code, out, err = _cli(capsys, ws_path, "build", "--version", "LOCKED", "--volumes", "actual")
    assert code == 2 and "approved and read-only" in err and "Traceback" not in out + err
    assert _rows(ws, "LOCKED") == {"plan_pnl": 0, "plan_capacity": 0, "plan_balances": 0}


def test_a_failed_write_leaves_the_old_rows(capsys, ws_path, monkeypatch):
    from opsfin import warehouse
    from opsfin.runs import planning

    assert _cli(capsys, ws_path, "build", "--version", "KEEP", "--volumes", "actual")[0] == 0
    ws = workspace.open(ws_path)
    before = _rows(ws, "KEEP")
    real = warehouse.insert_arrow
    calls = []

    def failing(con, table, data):
        calls.append(table.name)
        if table.name == "plan_capacity":
            raise RuntimeError("disk full")
        return real(con, table, data)

    monkeypatch.setattr(planning.warehouse, "insert_arrow", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        planning.build_plan_version(ws, "KEEP", "actual", "2024-03", "2024-04", actor="test")
    assert calls == ["plan_pnl", "plan_capacity"]
    assert _rows(ws, "KEEP") == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("build", "--version", "X", "--volumes", "NOPE"), "'NOPE' has no volume_plan rows"),
        (("build", "--version", "X", "--volumes", "actual", "--from", "2024-13"), "--from '2024-13'"),
        (("build", "--version", "X", "--volumes", "actual", "--from", "2024-04", "--to", "2024-01"), "2024-04"),
        (("build", "--version", "bad name", "--volumes", "actual"), "bad name"),
        (("show", "NOTBUILT"), "'NOTBUILT' has no plan_pnl rows"),
        (("show", "ACT", "--what", "profit"), "'profit': choose pnl, capacity, balances, cash"),
        (("show", "ACT", "--by", "customer"), "splits by site only"),
        (("show", "ACT", "--what", "capacity", "--vs", "actual"), "--vs actual compares the P&L"),
        (("show", "ACT", "--vs", "NOPE"), "'NOPE' has no plan_pnl rows to compare with"),
        (("show", "ACT", "--what", "capacity", "--vs", "B2024"), "'B2024' has no plan_capacity rows to compare"),
        (("show", "ACT", "--what", "balances", "--by", "site"), "--by site splits the P&L"),
        (("build", "--version", "X", "--volumes", "actual", "--kind", "wish"), "plan kind 'wish'"),
        (("roll", "--as-of", "2030-01"), "after the last month with shipments (2024-04)"),
    ],
)
def test_bad_input_is_one_clear_line(capsys, ws_path, args, message):
    code, out, err = _cli(capsys, ws_path, *args)
    assert code == 2, out + err
    assert message in err and "Traceback" not in out + err


def test_roll_builds_actuals_then_a_forecast(capsys, ws_path, tiny_demo):
    code, out, err = _cli(capsys, ws_path, "roll", "--as-of", "2024-03", "--models", "Naive", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["version"] == "fc-2024-03"
    assert (summary["from"], summary["to"]) == ("2024-01", "2025-09")  # January .. as-of + 18 months
    assert {m for m, s in summary["opex"].items() if s == "actual"} == {"2024-01", "2024-02", "2024-03"}
    ws = workspace.open(ws_path)
    pnl = ws.sql("SELECT period, line, sum(amount) AS a FROM plan_pnl WHERE version = 'fc-2024-03' GROUP BY ALL")
    got = {(r["period"], r["line"]): r["a"] for r in pnl.to_dicts()}
    gl = tiny_demo.sql(
        "SELECT -sum(g.amount) AS s FROM gl_entries g JOIN accounts a USING (account_id) WHERE a.role = 'revenue' "
        "AND g.posting_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'"
    )["s"][0]
    assert got[(dt.date(2024, 3, 1), "revenue")] == gl  # a closed month is the books'
    p50 = ws.sql(
        "SELECT sum(v.qty::DECIMAL(18, 4) * v.unit_price) AS r FROM volume_plan v WHERE version = 'fc-2024-03-demand' "
        "AND period = DATE '2025-09-01'"
    )["r"][0]
    assert abs(got[(dt.date(2025, 9, 1), "revenue")] - p50) < 1  # a forecast month is the forecast's volume × price
    code, out, err = _cli(capsys, ws_path, "roll", "--as-of", "2024-03", "--models", "Naive", "--format", "json")
    assert code == 0, err  # run again: the stored demand forecast is reused, the plan rebuilt
    from opsfin.appdb import open_app_db

    registered = open_app_db(ws).plan_version("fc-2024-03")
    assert (registered["kind"], registered["as_of"], registered["based_on"]) == (
        "forecast",
        dt.date(2024, 3, 1),
        "fc-2024-03-demand",
    )  # its forecast breaches are checked from April 2024 on


def test_months_a_version_does_not_cover_are_named(capsys, ws_path):
    args = ("build", "--version", "B-LATE", "--volumes", "B2024", "--from", "2024-04", "--to", "2024-05")
    code, out, err = _cli(capsys, ws_path, *args, "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert "2024-05: B2024 has no volume_plan rows" in summary["problems"]
    assert summary["opex"] == {"2024-04": "budget B2024", "2024-05": "run rate 2024-02..2024-04"}


def test_actual_months_past_the_books_are_named_and_run_rated(capsys, ws_path):
    args = ("build", "--version", "ACT-LATE", "--volumes", "actual", "--from", "2024-04", "--to", "2024-05")
    code, out, err = _cli(capsys, ws_path, *args, "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["problems"][0] == "2024-05: no actual shipments or invoices"
    assert summary["opex"] == {"2024-04": "actual", "2024-05": "run rate 2024-02..2024-04"}


COLUMNS = {
    "capacity": [
        "version",
        "period",
        "work_center_id",
        "required_hours",
        "available_hours",
        "utilization",
        "overtime_hours",
    ],
    "balances": ["version", "period", "role", "amount"],
    "cash": ["version", "period", "role", "amount"],
}


@pytest.mark.parametrize("what", ["capacity", "balances", "cash"])
def test_show_every_what_in_every_format(capsys, ws_path, what):
    """json: a list of objects with the table's columns (plus vs and delta); csv: the same header; table: the
    title. balances has the month-end roles, cash the cash-flow roles, four months each."""
    _cli(capsys, ws_path, "build", "--version", "ALL", "--volumes", "actual")
    code, out, err = _cli(capsys, ws_path, "show", "ALL", "--what", what, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert all(list(r) == COLUMNS[what] for r in rows)
    if what != "capacity":
        roles = {"balances": ["ar", "inventory", "ap"], "cash": ["cash_in", "cash_out", "net_cash_flow"]}[what]
        assert [r["role"] for r in rows] == roles * 4
    code, out, err = _cli(capsys, ws_path, "show", "ALL", "--what", what, "--format", "csv")
    assert code == 0 and out.splitlines()[0] == ",".join(COLUMNS[what]) and len(out.splitlines()) == len(rows) + 1
    code, out, err = _cli(capsys, ws_path, "show", "ALL", "--what", what, "--vs", "ALL", "--format", "json")
    assert code == 0, err
    compared = json.loads(out)
    assert all(list(r) == [*COLUMNS[what], "vs", "delta"] for r in compared)
    assert all(r["delta"] in (0, "0.00") for r in compared)
    code, out, err = _cli(capsys, ws_path, "show", "ALL", "--what", what)
    assert code == 0 and "of ALL" in out


def test_vs_leaves_months_the_other_has_not_empty(capsys, ws_path):
    """JAN-APR (2024-01..04) beside MAR-APR (2024-03..04): January and February have nothing to compare with
    (vs and delta null, not a delta of the whole amount); March and April are the same books (delta 0).
    The other way round, only MAR-APR's own two months are shown."""
    _cli(capsys, ws_path, "build", "--version", "JAN-APR", "--volumes", "actual")
    _cli(capsys, ws_path, "build", "--version", "MAR-APR", "--volumes", "actual", "--from", "2024-03")
    code, out, err = _cli(capsys, ws_path, "show", "JAN-APR", "--vs", "MAR-APR", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    early = [r for r in rows if r["period"] < "2024-03-01"]
    late = [r for r in rows if r["period"] >= "2024-03-01"]
    assert len(early) == len(late) == 12
    assert all(r["vs"] is None and r["delta"] is None for r in early)
    assert all(Decimal(r["delta"]) == 0 and r["vs"] == r["amount"] for r in late)
    code, out, err = _cli(capsys, ws_path, "show", "MAR-APR", "--vs", "JAN-APR", "--format", "json")
    assert {r["period"] for r in json.loads(out)} == {"2024-03-01", "2024-04-01"}
    code, out, err = _cli(capsys, ws_path, "show", "JAN-APR", "--vs", "MAR-APR")
    assert code == 0 and "Traceback" not in out + err
