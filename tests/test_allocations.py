"""Service cost allocations: Horngren's textbook example, exact splits, the tiny demo, posting, CLI."""

from __future__ import annotations

import shutil
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

import opsfin
from cli_support import run_in_process
from opsfin.costing.allocations import allocate_costs
from opsfin.costing.costing_config import split_cents
from opsfin.errors import UserError

D = Decimal

# Horngren, Datar & Rajan, Cost Accounting (14th ed.), ch. 15, Robinson Company: support departments
# Plant Maintenance (PM, $6,300,000; labor-hours to IS 2,500, Machining 7,000, Assembly 15,500) and
# Information Systems (IS, $1,452,500; computer-hours to PM 2,100, Machining 25,200, Assembly 14,700);
# operating departments Machining ($4,000,000) and Assembly ($2,000,000).
OWN = {"PM": D("6300000"), "IS": D("1452500")}
WEIGHTS = {
    "PM": {"IS": 2500, "MACH": 7000, "ASSY": 15500},
    "IS": {"PM": 2100, "MACH": 25200, "ASSY": 14700},
}
OPERATING = {"MACH": D("4000000"), "ASSY": D("2000000")}
PUBLISHED = {  # total overhead of the operating departments after allocation, whole dollars
    "direct": {"MACH": 6877368, "ASSY": 6875132},
    "step": {"MACH": 7079263, "ASSY": 6673237},
    "reciprocal": {"MACH": 7049080, "ASSY": 6703420},
}


def totals(flows):
    out = dict(OPERATING)
    for (s, r), amt in flows.items():
        out[r] = out.get(r, D(0)) + amt
        out[s] = out.get(s, D(0)) - amt
    return out


@pytest.mark.parametrize("method", ["direct", "step", "reciprocal"])
def test_horngren_published_answers(method):
    flows = allocate_costs(method, OWN, WEIGHTS, ["PM", "IS"])
    after = totals(flows)
    assert {k: int(after[k].quantize(D(1))) for k in ("MACH", "ASSY")} == PUBLISHED[method]
    # every support dollar ends in an operating department, exactly
    assert after["PM"] + OWN["PM"] == 0 and after["IS"] + OWN["IS"] == 0  # totals() subtracts own-less flows
    assert after["MACH"] + after["ASSY"] == sum(OPERATING.values()) + sum(OWN.values())


def test_horngren_details():
    step = allocate_costs("step", OWN, WEIGHTS, ["PM", "IS"])
    assert step[("PM", "IS")] == D("630000.00") and step[("PM", "MACH")] == D("1764000.00")
    rec = allocate_costs("reciprocal", OWN, WEIGHTS)
    # complete reciprocated costs: PM = 6,404,648, IS = 2,092,965 (published, whole dollars)
    pm_total = sum(a for (s, _), a in rec.items() if s == "PM")
    is_total = sum(a for (s, _), a in rec.items() if s == "IS")
    assert int(pm_total.quantize(D(1))) == 6404648 and int(is_total.quantize(D(1))) == 2092965
    direct = allocate_costs("direct", OWN, WEIGHTS)
    assert ("PM", "IS") not in direct and ("IS", "PM") not in direct


def test_reciprocal_without_final_receiver_is_a_clear_error():
    with pytest.raises(UserError, match="no solution|no final receiver"):
        allocate_costs("reciprocal", {"A": D(10), "B": D(5)}, {"A": {"B": 1}, "B": {"A": 1}})


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_split_cents_conserves(total, weights):
    parts = split_cents(total, dict(enumerate(weights)))
    assert sum(parts.values()) == total
    wsum = sum(weights)
    for k, w in enumerate(weights):
        assert abs(parts[k] - total * w / wsum) < D("0.01")


# ------------------------------------------------------------------ the tiny demo (copied: never post into the shared one)


@pytest.fixture
def demo_copy(tiny_demo, tmp_path):
    dest = tmp_path / "ws"
    shutil.copytree(tiny_demo.path, dest)
    ws = opsfin.open(dest)
    from opsfin.model_files import write_default_model_files

    write_default_model_files(ws.model_dir)
    return ws


MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]


@pytest.mark.parametrize("method", ["direct", "step", "reciprocal"])
def test_demo_preview_conserves(demo_copy, method):
    ws = demo_copy
    for month in MONTHS:
        summary = ws.allocate(method, month, view="summary")
        kinds = dict(zip(summary["cost_center_id"], summary["kind"], strict=True))
        after = dict(zip(summary["cost_center_id"], summary["after"], strict=True))
        own = dict(zip(summary["cost_center_id"], summary["own_cost"], strict=True))
        for cc, kind in kinds.items():
            if kind in ("service", "support", "admin"):
                assert after[cc] == 0, (month, cc)
        assert sum(after.values()) == sum(own.values())
        prod = sum(v for cc, v in after.items() if kinds[cc] == "production")
        assert prod == sum(v for cc, v in own.items() if kinds[cc] in ("service", "support", "admin", "production"))
        flows = ws.allocate(method, month)
        assert flows["amount"].sum() == summary["allocated_out"].sum() == summary["allocated_in"].sum()


def test_demo_post_is_balanced_idempotent_and_checked(demo_copy):
    ws = demo_copy
    before = ws.sql("SELECT count(*) AS n, sum(amount) AS s FROM gl_entries").row(0)
    flows = ws.allocate("reciprocal", "2024-03", post=True)
    run_id = flows["run_id"][0]
    con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT journal_id, sum(amount), count(*), min(posting_date), max(_load_id) "
            "FROM gl_entries WHERE source_doc = ? GROUP BY 1",
            [run_id],
        ).fetchall()
        assert rows and all(r[1] == 0 for r in rows)
        assert {str(r[3]) for r in rows} == {"2024-03-31"} and {r[4] for r in rows} == {run_id}
        n_posted = sum(r[2] for r in rows)
        loads = con.execute(
            "SELECT table_name, rows_accepted, status FROM loads WHERE load_id = ?", [run_id]
        ).fetchall()
        assert loads == [("gl_entries", n_posted, "loaded")]
        # credits of each sender = its flows out; the service centres' month balance (own roles) is zero
        bal = dict(
            con.execute("""
            SELECT g.cost_center_id, sum(g.amount) FROM gl_entries g JOIN accounts a USING (account_id)
            JOIN cost_centers c USING (cost_center_id)
            WHERE g.posting_date BETWEEN '2024-03-01' AND '2024-03-31' AND c.kind IN ('service','support','admin')
              AND a.role IN ('maintenance','depreciation','payroll','opex','inventory_adjustment') GROUP BY 1""").fetchall()
        )
        assert all(v == 0 for v in bal.values()), bal
    finally:
        con.close()
    after = ws.sql("SELECT count(*) AS n, sum(amount) AS s FROM gl_entries").row(0)
    assert after[0] == before[0] + n_posted and after[1] == before[1]
    # the same run again posts nothing more
    from opsfin.runs.costing import allocation_result

    _, _, status = allocation_result(ws, "reciprocal", "2024-03", post=True)
    assert status["status"] == "already posted"
    assert ws.sql("SELECT count(*) FROM gl_entries").item() == after[0]
    # another method into the same month is refused
    with pytest.raises(UserError, match="already holds allocation run"):
        ws.allocate("direct", "2024-03", post=True)
    from opsfin.runs.checks import run_checks

    assert [f for f in run_checks(ws) if f.severity in ("stop", "warn")] == []


def test_demo_closed_period_refused(demo_copy):
    ws = demo_copy
    from opsfin.ingest.periods import close_period

    with ws.connect() as con:
        close_period(con, "2024-02", "tester")
    n = ws.sql("SELECT count(*) FROM gl_entries").item()
    with pytest.raises(UserError, match="2024-02 is closed"):
        ws.allocate("step", "2024-02", post=True)
    assert ws.sql("SELECT count(*) FROM gl_entries").item() == n
    assert ws.allocate("step", "2024-02").height > 0  # preview still works


# ------------------------------------------------------------------ CLI


def run(ws, *args):
    return run_in_process(*args, "-w", str(ws.path))


def test_cli_preview_and_post(demo_copy):
    import json

    proc = run(
        demo_copy,
        "allocate",
        "--method",
        "step",
        "--period",
        "2024-01",
        "--view",
        "flows",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert list(rows[0]) == [
        "run_id",
        "method",
        "period",
        "step",
        "sender",
        "receiver",
        "account_id",
        "role",
        "driver",
        "amount",
    ]
    assert rows[0]["step"] == 1 and rows[0]["method"] == "step"
    # without --view: the summary, one row per cost centre; what the senders give is what the flows carry
    proc = run(demo_copy, "allocate", "--method", "step", "--period", "2024-01", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert list(summary[0]) == [
        "cost_center_id",
        "kind",
        "own_cost",
        "allocated_in",
        "allocated_out",
        "after",
    ]
    assert len({r["cost_center_id"] for r in summary}) == len(summary)
    assert sum(Decimal(str(r["allocated_out"])) for r in summary) == sum(Decimal(str(r["amount"])) for r in rows)
    proc = run(
        demo_copy,
        "allocate",
        "--method",
        "step",
        "--period",
        "2024-01",
        "--post",
        "--format",
        "csv",
    )
    assert proc.returncode == 0 and "posted" in proc.stderr and "already" not in proc.stderr
    proc = run(
        demo_copy,
        "allocate",
        "--method",
        "step",
        "--period",
        "2024-01",
        "--post",
        "--format",
        "csv",
    )
    assert proc.returncode == 0 and "already posted" in proc.stderr
    proc = run(demo_copy, "check", "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "fifo", "--period", "2024-01"], "--method 'fifo'"),
        (["--method", "direct"], "--period YYYY-MM is required"),
        (
            ["--method", "direct", "--period", "2024-13"],
            "--period '2024-13': give a month as YYYY-MM",
        ),
        (["--method", "direct", "--period", "2024-01", "--view", "nope"], "--view 'nope'"),
    ],
)
def test_cli_errors(demo_copy, args, message):
    proc = run(demo_copy, "allocate", *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_cli_bad_yaml(demo_copy):
    (demo_copy.model_dir / "allocations.yaml").write_text(
        "rules:\n  - senders: {kind: service}\n    driver: magic\n    receivers: {kind: production}\n"
    )
    proc = run(demo_copy, "allocate", "--period", "2024-01")
    assert proc.returncode == 2 and "allocations.yaml: rules[1]: field 'driver': unknown driver 'magic'" in proc.stderr
    assert "Traceback" not in proc.stderr
