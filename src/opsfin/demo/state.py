"""Mutable state of one simulation run and the rows it writes, table by table."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .anomalies import AnomalyPlan
from .demand import DemandPlan
from .experiments import DemoExperiments
from .ledger import Ledger
from .master import Company
from .wear import Wear


@dataclass
class Sim:
    c: Company
    plan: AnomalyPlan
    rng: np.random.Generator
    ledger: Ledger = field(default_factory=Ledger)
    rows: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    stock: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # demand model
    daily_demand: dict[str, float] = field(default_factory=dict)  # finished good -> mean units per calendar day
    lot_size: dict[str, int] = field(default_factory=dict)
    # sales
    backlog: list[list] = field(default_factory=list)  # open sales-order lines
    # production
    orders: dict[str, dict] = field(default_factory=dict)
    unreleased: list[str] = field(default_factory=list)
    queues: dict[str, list[tuple[float, str, int, int]]] = field(default_factory=lambda: defaultdict(list))
    machine_free: dict[str, float] = field(default_factory=dict)
    pipeline: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # planned units not yet at W1
    arrivals: dict[dt.date, list[tuple[str, int, str]]] = field(default_factory=lambda: defaultdict(list))
    # purchasing (site, item) -> qty on order
    on_order: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    due_receipts: dict[dt.date, list[dict]] = field(default_factory=lambda: defaultdict(list))
    due_invoices: dict[dt.date, list[dict]] = field(default_factory=lambda: defaultdict(list))
    open_ap: dict[str, dict] = field(default_factory=dict)  # payable invoices (not blocked)
    completed: list[str] = field(default_factory=list)  # orders completed, to close at month end
    # receivables: pay day -> list of (invoice_id, customer, doc cents, instalment 'first'|'rest'|None)
    due_payments: dict[dt.date, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    ar_base: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # invoice -> (ccy, doc total, base total)
    # payments on account (receipts.py): orders held until paid, prepayments due by day, and the paid ones
    ship_from: dict[str, dt.date] = field(default_factory=dict)  # order -> first day it can ship (after a cut-off)
    held_orders: dict[str, dt.date] = field(default_factory=dict)  # order -> day its prepayment is due
    prepayments_due: dict[dt.date, list[tuple[str, str, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # (order, customer, cents)
    prepaid: dict[str, list] = field(default_factory=dict)  # order -> [receipt id, cents not yet applied]
    # shop-floor traces for machine readings and month-end costing
    segments: list[tuple] = field(default_factory=list)  # (machine, start_min, end_min, units_total, units_good)
    windows: list[tuple] = field(default_factory=list)  # (machine, start_min, end_min)
    planned_stops: list[tuple] = field(default_factory=list)  # (machine, start_min, end_min)
    busy: list[tuple] = field(default_factory=list)  # (machine, start_min, end_min): setups and breakdowns
    # month accumulators
    month_ops: list[tuple] = field(default_factory=list)  # (wc, units, run_cmin_actual)
    month_labor: dict[str, list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )  # wc -> [quarter hours, cost cents]
    month_payroll: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # site -> cents
    month_vat: list[int] = field(default_factory=lambda: [0, 0])  # [output, input] cents
    month_parts: dict[tuple, int] = field(default_factory=lambda: defaultdict(int))  # (site, month) -> cents
    month_wh: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # machine -> Wh (from readings)
    vat_due: dict[dt.date, tuple[int, int]] = field(default_factory=dict)
    bank_lines: list[list] = field(
        default_factory=list
    )  # [booking, value, cents, counterparty, ref, desc, doc_type, doc_ids, kind (receipts.py)]
    bank_rng: np.random.Generator | None = None  # the bank lines' own draws (receipts.bank_rng)
    bank_truth: list[tuple] = field(default_factory=list)  # (bank_txn_id, doc_type, doc_id, kind), built last
    invoice_truth: list[tuple[str, int, str]] = field(default_factory=list)
    overtime_today: dict[str, bool] = field(default_factory=dict)
    wc_standard: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # labor cmin, run cmin, Wh per unit
    month_actuals: dict[str, tuple] = field(default_factory=dict)
    demand: DemandPlan | None = None  # family profiles, promotions, spare-part order draws
    # the month and the customer of each order shipped in it so far (support tickets come from them)
    shipped_to: tuple[dt.date | None, list[str]] = (None, [])
    wear: Wear = field(default=None)  # type: ignore[assignment]  # set by generate (demo/wear.py)
    experiments: DemoExperiments = field(default=None)  # type: ignore[assignment]  # set by generate

    def demand_rate(self, product: str, day: dt.date) -> float:
        """Expected units per calendar day of a finished good on `day`, as the planner sees the orders: the
        family's trend and season, the injected demand shift and any promotion (the bottleneck surge aside)."""
        rate = self.daily_demand[product]
        if self.demand is None or product in self.c.spares:
            return rate
        family = self.c.product_family[product]
        rate *= self.demand.family_factor(family, day) * self.plan.demand_shift_factor(family, day)
        rate *= self.demand.mix_factor(product, day)  # the planned mix shift (demand.MixShift)
        promo = self.demand.promotion(product, day)
        return rate * (promo.uplift if promo else 1.0)

    def next_id(self, prefix: str, width: int = 7) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]:0{width}d}"

    def day_of(self, minute: float) -> dt.date:
        return self.c.scale.start + dt.timedelta(days=int(minute // 1440))

    def ts(self, minute: float) -> dt.datetime:
        return dt.datetime.combine(self.c.scale.start, dt.time()) + dt.timedelta(seconds=round(minute * 60))

    def rate(self, ccy: str, day: dt.date) -> int:
        """FX rate to base (1e-8) on `day`."""
        i = min(max((day - self.c.scale.start).days, 0), self.c.days - 1)
        return int(self.c.fx[ccy][i])

    def move(self, when: dt.datetime, site: str, product: str, qty: int, kind: str, ref: str) -> None:
        self.stock[(site, product)] += qty
        if self.stock[(site, product)] < 0:
            raise AssertionError(f"negative stock {site} {product} at {when}")
        self.rows["inventory_movements"].append(
            (
                self.next_id("MV", 9),
                when,
                site,
                product,
                float(qty),
                self.c.std_cost[product],
                kind,
                ref,
            )
        )

    def bank(
        self,
        booking: dt.date,
        cents: int,
        counterparty: str,
        reference: str | None,
        description: str,
        doc_type: str,
        doc_ids: str | list[str],
        value: dt.date | None = None,
        kind: str = "reference",
    ) -> None:
        """A bank line paying `doc_ids`; `kind` says how it looks to the matching (demo/receipts.py)."""
        ids = [doc_ids] if isinstance(doc_ids, str) else list(doc_ids)
        self.bank_lines.append(
            [booking, value or booking, cents, counterparty, reference, description, doc_type, ids, kind]
        )
