"""`opsfin demo`: simulate the demo company day by day and write every table of model v1.

Deterministic: the same seed and scale give the same table contents (load ids aside)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..canonical import MODEL_TABLE_NAMES
from ..canonical.tables import DERIVED_TABLES
from ..errors import UserError
from ..workspace import Workspace, init
from . import month_end, people, production, purchasing, receipts, sales
from .anomalies import plan_anomalies
from .bottleneck import plan_mix_shift
from .demand import SPARE_SAFETY_STOCK, add_spare_parts, plan_demand_events
from .experiments import plan_experiments
from .master import ACCOUNT, BASE, STAGES, build_company
from .money import half_even_int
from .plans import (
    budget_lines,
    months,
    plan_demand,
    roll_up_standard_costs,
    set_fixed_overhead_rates,
    set_prices_and_expenses,
    volume_plan,
)
from .readings import month_readings
from .scales import SCALES, Scale
from .state import Sim
from .wear import plan_wear
from .write import Writer

MARKER = ".opsfin-demo"
BANK_ACCOUNT = "DE89370400440532013000"
# append-only tables are written at every month end, so memory does not grow with the history
STREAMED = [
    "operations",
    "timesheets",
    "inventory_movements",
    "warehouse_tasks",
    "quality_inspections",
    "support_tickets",
    "downtime_events",
    "maintenance_events",
    "production_orders",
    "purchase_orders",
    "goods_receipts",
    "ap_invoices",
    "ap_invoice_lines",
    "ap_payments",
    "ap_payment_allocations",
    "sales_orders",
    "shipments",
    "ar_invoices",
    "ar_invoice_lines",
    "ar_receipts",
    "ar_receipt_allocations",
]

Progress = Callable[[str, str, int, int], None]
"""Told at the start of each step of a build: (stage, detail, steps done, steps in all). The stages, in
order: "planning" (demand, budget, standard costs), "simulating" once per month (detail: YYYY-MM),
"writing" (master data, open orders, plans, bank statements), "ground truth"; a last call
("built", "", total, total) says the build is done."""


@dataclass
class DemoResult:
    workspace: Workspace
    rows: dict[str, int]
    seconds: float
    anomalies: int


def _prepare_dir(directory: Path, overwrite: bool) -> None:
    if directory.exists() and any(directory.iterdir()):
        if (directory / MARKER).exists() or overwrite:
            for name in ("warehouse.duckdb", "warehouse.duckdb.wal", "truth"):
                p = directory / name
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        elif (directory / "warehouse.duckdb").exists():
            raise UserError(
                f"{directory} already holds a workspace that is not a demo; choose another --dir "
                "(or pass --overwrite to replace its warehouse)"
            )


def generate(
    directory: str | Path,
    scale: str | Scale = "demo",
    seed: int = 42,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> DemoResult:
    """Build the demo company of `scale` (a name of SCALES, or a Scale of one's own, as tests do)."""
    if isinstance(scale, str) and scale not in SCALES:
        raise UserError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    started = dt.datetime.now()
    directory = Path(directory).expanduser().resolve()
    _prepare_dir(directory, overwrite)
    ws = init(directory, company="opsfin Demo Manufacturing", base_currency=BASE)
    sc = SCALES[scale] if isinstance(scale, str) else scale
    scale = sc.name
    (directory / MARKER).write_text(f"scale={scale} seed={seed}\n", encoding="utf-8")
    steps = sc.months + 3
    tell = progress or (lambda stage, detail, done, total: None)
    tell("planning", "demand, budget, standard costs", 0, steps)
    rng = np.random.default_rng([seed, 1])
    master_rng = np.random.default_rng([seed, 2])
    company = build_company(sc, master_rng)
    add_spare_parts(company, master_rng)
    plan = plan_anomalies(company, np.random.default_rng([seed, 3]))
    sim = Sim(company, plan, rng, demand=plan_demand_events(company, np.random.default_rng([seed, 5])))
    for cust in np.random.default_rng([seed, 4]).choice(
        [c for c in company.customers if company.customer[c].ccy == BASE][:15],
        size=max(2, sc.anomaly_instances),
        replace=False,
    ):  # larger customers (order volume falls with the customer number)
        company.customer[str(cust)].batch_payer = True
    plan_demand(sim)
    plan_mix_shift(sim, np.random.default_rng([seed, 12]))  # moves one plant's bottleneck (demo/bottleneck.py)
    plan_rows = volume_plan(sim)
    fixed_budget = set_fixed_overhead_rates(sim, plan_rows)
    roll_up_standard_costs(sim)
    sim.wear = plan_wear(company, seed)
    sim.experiments = plan_experiments(company, seed)  # a setup reduction and a placebo (demo/experiments.py)
    plan_rows = set_prices_and_expenses(sim, plan_rows)
    budget = budget_lines(sim, plan_rows, fixed_budget)
    load_id = f"DEMO-{scale}-{seed}"
    con = ws.connect()
    # Each monthly batch commits on its own so memory stays bounded at the large scale. A demo cut off
    # half-way is incomplete (no `loads` rows, no truth/); the next `opsfin demo` into the folder rebuilds it.
    try:
        writer = Writer(con, load_id)
        _simulate(sim, writer, fixed_budget, tell, steps)
        tell("writing", "master data, plans, bank statements", steps - 2, steps)
        _write_master(sim, writer, plan_rows, budget)
        writer.record_loads(f"opsfin demo --scale {scale} --seed {seed}", started)
    finally:
        con.close()
    tell("ground truth", "truth/", steps - 1, steps)
    _write_truth(sim, directory / "truth")
    sim.experiments.write_model(directory / "model")  # so `opsfin experiment analyze` works out of the box
    tell("built", "", steps, steps)
    seconds = (dt.datetime.now() - started).total_seconds()
    return DemoResult(ws, dict(writer.counts), seconds, len(plan.items) + len(plan.matching))


def _simulate(sim: Sim, writer: Writer, fixed_budget: dict, progress: Progress, steps: int) -> None:
    c = sim.c
    _opening_balances(sim)
    month_list = months(c.scale.start, c.scale.end)
    for k, (first, last) in enumerate(month_list):
        progress("simulating", f"{first:%Y-%m}", 1 + k, steps)
        usage = purchasing.usage_per_day(sim, first + dt.timedelta(days=14))
        day = first
        while day <= last:
            production.receive_transfers(sim, day)
            purchasing.receive(sim, day)
            purchasing.book_duplicates(sim, day)
            purchasing.book_unreceived(sim, day)
            purchasing.book_invoices(sim, day)
            sales.take_orders(sim, day)
            production.plan_orders(sim, day)
            production.release_orders(sim, day)
            people.decide_overtime(sim, day)
            production.schedule_day(sim, day)
            sales.ship(sim, day)
            purchasing.reorder(sim, day, usage)
            receipts.collect(sim, day)
            purchasing.payment_run(sim, day)
            month_end.settle_vat(sim, day)
            people.book_timesheets(sim, day)
            people.open_tickets(sim, day)
            day += dt.timedelta(days=1)
        writer.write("machine_readings", month_readings(sim, first, last))
        month_end.close_month(sim, first, last, fixed_budget)
        writer.flush(sim.rows, STREAMED)
        writer.write("gl_entries", _gl_columns(sim))


def _gl_columns(sim: Sim) -> dict[str, list]:
    cols = sim.ledger.take()
    cols["currency"] = [BASE] * len(cols["amount"])
    return cols


def _opening_balances(sim: Sim) -> None:
    c = sim.c
    day = c.scale.start
    when = dt.datetime.combine(day, dt.time(0, 0))
    for p in c.finished:  # ten days of demand; a spare part's safety stock
        qty = int(sim.demand_rate(p, day) * 10)
        sim.move(
            when,
            c.warehouse_site,
            p,
            max(qty, SPARE_SAFETY_STOCK) if p in c.spares else qty,
            "adjustment",
            "OPENING-BALANCE",
        )
    use = purchasing.usage_per_day(sim, day + dt.timedelta(days=14))
    for (site, item), per_day in sorted(use.items()):
        qty = int(per_day * 18)
        sim.move(when, site, item, qty, "adjustment", "OPENING-BALANCE")
    # valued in 1e-4 and rounded once per inventory account
    raw = sum(q * c.std_cost[item] for (_site, item), q in sim.stock.items() if item in c.bought)
    fg = sum(sim.stock[(c.warehouse_site, p)] * c.std_cost[p] for p in c.finished)
    fg_c, raw_c = half_even_int(fg, 100), half_even_int(raw, 100)
    capital = 6_000_000_00
    jid = sim.ledger.post(
        day,
        "Opening balances",
        "OPENING-BALANCE",
        [
            (ACCOUNT["cash"], None, capital),
            (ACCOUNT["inventory_fg"], None, fg_c),
            (ACCOUNT["inventory_raw"], None, raw_c),
            (ACCOUNT["equity"], None, -(capital + fg_c + raw_c)),
        ],
    )
    sim.bank(
        day,
        capital,
        "opsfin Demo Holding",
        "CAPITAL CONTRIBUTION",
        "Share capital paid in",
        "other",
        sim.ledger.cash_entry_id(jid, ACCOUNT["cash"]),
        kind=receipts.OPENING,
    )


def _write_master(sim: Sim, writer: Writer, plan_rows: list[tuple], budget: list[tuple]) -> None:
    c = sim.c
    r = c.rows
    for row in r["products"]:
        pid = row[0]
        row.extend([c.list_price[pid], c.std_cost[pid]])
    r["products"] = [tuple(x) for x in r["products"]]
    r["work_centers"] = [
        (
            wc,
            c.wc_site[wc],
            c.wc_cc[wc],
            f"{c.wc_site[wc]} {wc.split('-')[1].title()}",
            STAGES[c.wc_stage[wc]][2],
            *c.wc_rates[wc],
        )
        for wc in c.wc_ids
    ]
    r["routings"] = [
        (p, k + 1, wc, setup, run / 100, labor / 100, wh / 1000, STAGES[c.wc_stage[wc]][4])
        for p in c.finished
        for k, (wc, setup, run, labor, wh) in enumerate(c.routing[p])
    ]
    start = c.scale.start
    r["fx_rates"] = [
        (start + dt.timedelta(days=i), ccy, int(c.fx[ccy][i])) for ccy in ("USD", "GBP") for i in range(c.days)
    ]
    for name in (
        "sites",
        "cost_centers",
        "work_centers",
        "machines",
        "shifts",
        "employees",
        "products",
        "bom",
        "routings",
        "suppliers",
        "customers",
        "accounts",
        "activities",
        "fx_rates",
    ):
        writer.write(name, r[name])
    # orders still open, released or completed at the horizon (closed ones were written at their month end)
    writer.write("production_orders", [month_end.order_row(oid, o) for oid, o in sim.orders.items()])
    writer.write("budget_lines", budget)
    writer.write("volume_plan", plan_rows)
    statements, transactions, sim.bank_truth = _bank_rows(sim)
    writer.write("bank_statements", statements)
    writer.write("bank_transactions", transactions)
    missing = [t for t in MODEL_TABLE_NAMES if not writer.counts.get(t) and t not in DERIVED_TABLES]
    if missing:
        raise AssertionError(f"demo generator wrote no rows to: {', '.join(missing)}")


def _bank_rows(sim: Sim) -> tuple[list[tuple], list[tuple], list[tuple]]:
    lines = sorted(enumerate(sim.bank_lines), key=lambda x: (x[1][0], x[0]))
    statements, transactions, truth = [], [], []
    balance = 0
    by_day: dict[dt.date, list] = {}
    for _, ln in lines:
        by_day.setdefault(ln[0], []).append(ln)
    n = 0
    for day in sorted(by_day):
        sid = f"STMT-{day:%Y%m%d}"
        opening = balance
        for (
            booking,
            value,
            cents,
            counterparty,
            reference,
            description,
            doc_type,
            doc_ids,
            kind,
        ) in by_day[day]:
            n += 1
            tid = f"BT{n:08d}"
            transactions.append(
                (
                    tid,
                    sid,
                    BANK_ACCOUNT,
                    booking,
                    value,
                    cents,
                    BASE,
                    counterparty,
                    reference,
                    description,
                )
            )
            balance += cents
            for doc in doc_ids:
                truth.append((tid, doc_type, doc, kind))
        statements.append((sid, BANK_ACCOUNT, day, BASE, opening, balance))
    return statements, transactions, truth


def _write_truth(sim: Sim, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    records = sim.plan.truth_records()
    records += sim.wear.truth_records(len(records) + 1)  # the defect causes, after the anomalies
    if sim.demand is not None and sim.demand.mix is not None:  # the bottleneck's move (demo/bottleneck.py)
        records.append(sim.demand.mix.truth_record(len(records) + 1, sim.c.scale.end))
    (folder / "anomalies.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    bt = sim.bank_truth
    pq.write_table(
        pa.table(
            {
                "bank_txn_id": [t[0] for t in bt],
                "doc_type": [t[1] for t in bt],
                "doc_id": [t[2] for t in bt],
                "kind": [t[3] for t in bt],
            }
        ),
        folder / "bank_matches.parquet",
    )
    promotions = sim.demand.truth_rows() if sim.demand is not None else []
    pq.write_table(
        pa.table(
            {
                "product_id": pa.array([p[0] for p in promotions], pa.string()),
                "family": pa.array([p[1] for p in promotions], pa.string()),
                "month": pa.array([p[2] for p in promotions], pa.date32()),
                "uplift": pa.array([p[3] for p in promotions], pa.float64()),
                "price_cut": pa.array([p[4] for p in promotions], pa.float64()),
            }
        ),
        folder / "promotions.parquet",
    )
    it = sorted(sim.invoice_truth)
    pq.write_table(
        pa.table(
            {
                "invoice_id": [t[0] for t in it],
                "line": pa.array([t[1] for t in it], pa.int32()),
                "issue": [t[2] for t in it],
            }
        ),
        folder / "invoice_issues.parquet",
    )
    sim.experiments.write_truth(folder)  # the experiment's true effect and the placebo's zero
