"""Injected anomalies with their ground truth.

The plan is drawn once from the seed. The simulation asks it for effect sizes
(`energy_factor`, `supplier_delay_days`, ...); the truth goes to `truth/anomalies.json`,
never into the warehouse. Effects are sized so a controller would want to be told:
a 25–35% drift, a 30-day payment slip, a 15% price rise — not 10×."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .master import FAMILIES, STAGE_MACHINE_SHARE, Company

KPI_KINDS = {
    "energy_drift": ("energy_per_unit", "machine"),
    "underused_support_team": ("support_utilization", "cost_center"),
    "late_supplier": ("supplier_on_time", "supplier"),
    "late_paying_customer": ("days_to_pay", "customer"),
    "material_price_rise": ("ppv_rate", "product"),
    # an overloaded constraint shows in its queue, several-fold: its load saturates below 100 %, and
    # capacity_utilization counts only the hours a machine had work, so it stays near availability
    "bottleneck_line": ("wait_time", "work_center"),
    "overtime_breach": ("overtime_share", "site"),
    "rising_breakdowns": ("availability", "machine"),
}


@dataclass
class Anomaly:
    kind: str
    entity_type: str
    entity_id: str
    start: dt.date
    end: dt.date
    description: str
    kpi: str | None = None
    params: dict = field(default_factory=dict)


@dataclass
class AnomalyPlan:
    start: dt.date
    items: list[Anomaly] = field(default_factory=list)
    matching: list[Anomaly] = field(default_factory=list)  # found by matching; recorded as they happen
    shift: Anomaly | None = None  # the injected demand shift (also in `items`; not a detector target)

    def _active(self, kind: str, entity: str, day: dt.date) -> Anomaly | None:
        for a in self.items:
            if a.kind == kind and a.entity_id == entity and a.start <= day <= a.end:
                return a
        return None

    def progress(self, a: Anomaly, day: dt.date) -> float:
        span = max((a.end - a.start).days, 1)
        return min(max((day - a.start).days / span, 0.0), 1.0)

    def energy_factor(self, machine: str, day: dt.date) -> float:
        a = self._active("energy_drift", machine, day)
        return 1.0 + (a.params["drift"] * (0.4 + 0.6 * self.progress(a, day)) if a else 0.0)

    def support_volume_factor(self, cost_center: str, day: dt.date) -> float:
        a = self._active("underused_support_team", cost_center, day)
        return a.params["volume"] if a else 1.0

    def supplier_delay_days(self, supplier: str, day: dt.date) -> int:
        a = self._active("late_supplier", supplier, day)
        return a.params["delay"] if a else 0

    def customer_extra_days(self, customer: str, day: dt.date) -> int:
        a = self._active("late_paying_customer", customer, day)
        return a.params["delay"] if a else 0

    def price_factor(self, product: str, day: dt.date) -> float:
        a = self._active("material_price_rise", product, day)
        return 1.0 + a.params["rise"] if a else 1.0

    def demand_surge(self, plant: str, day: dt.date) -> float:
        for a in self.items:
            if a.kind == "bottleneck_line" and a.params["plant"] == plant and a.start <= day <= a.end:
                return a.params["surge"]
        return 1.0

    def demand_shift_factor(self, family: str, day: dt.date) -> float:
        a = self.shift
        return a.params["factor"] if a and a.entity_id == family and a.start <= day <= a.end else 1.0

    def forced_overtime(self, site: str, day: dt.date) -> bool:
        return self._active("overtime_breach", site, day) is not None

    def breakdown_probability(self, machine: str, day: dt.date, base: float) -> float:
        a = self._active("rising_breakdowns", machine, day)
        return base + (a.params["extra"] * (0.35 + 0.65 * self.progress(a, day)) if a else 0.0)

    def wear_speed(self, machine: str, day: dt.date) -> float:
        """How much faster than normal the machine wears: a rising-breakdowns machine, more and more."""
        a = self._active("rising_breakdowns", machine, day)
        return 1.0 + (a.params["wear"] * (0.35 + 0.65 * self.progress(a, day)) if a else 0.0)

    def failing_machine(self, machine: str, day: dt.date) -> bool:
        return self._active("rising_breakdowns", machine, day) is not None

    def add_matching(self, kind: str, entity_type: str, entity_id: str, day: dt.date, description: str) -> None:
        self.matching.append(Anomaly(kind, entity_type, entity_id, day, day, description))

    def truth_records(self) -> list[dict]:
        out: list[dict] = []
        for i, a in enumerate(
            sorted(self.items, key=lambda a: (a.kind, a.start, a.entity_id))
            + sorted(self.matching, key=lambda a: (a.kind, a.start, a.entity_id))
        ):
            out.append(
                {
                    "id": f"A{i + 1:04d}",
                    "kind": a.kind,
                    "kpi": a.kpi,
                    "entity_type": a.entity_type,
                    "entity_id": a.entity_id,
                    "start": a.start.isoformat(),
                    "end": a.end.isoformat(),
                    "description": a.description,
                }
            )
            if a.kind == "demand_shift":
                out[-1]["factor"] = a.params["factor"]  # the family's level after the shift ÷ before
        return out


# long: one block per anomaly kind, in the order their random draws must keep (the demo is deterministic)
def plan_anomalies(c: Company, rng: np.random.Generator) -> AnomalyPlan:
    s = c.scale
    plan = AnomalyPlan(s.start)
    n = s.anomaly_instances
    total_days = (s.end - s.start).days
    # anomalies start after a clean baseline (a third of the history) so detectors have a reference
    earliest = max(int(total_days * 0.33), 21)

    def window(min_len: int, max_len: int) -> tuple[dt.date, dt.date]:
        length = int(rng.integers(min_len, max_len + 1))
        length = min(length, total_days - earliest - 1)
        first = int(rng.integers(earliest, max(total_days - length, earliest + 1)))
        return s.start + dt.timedelta(days=first), s.start + dt.timedelta(days=first + length)

    def window_in_slot(k: int, slots: int, min_len: int, max_len: int) -> tuple[dt.date, dt.date]:
        """A window inside the k-th of `slots` equal, consecutive slots: instances of one kind never overlap,
        so each is the largest of its kind in its own period."""
        span = (total_days - earliest - 1) // slots
        length = min(int(rng.integers(min_len, max_len + 1)), max(span - 7, 1))
        first = earliest + k * span + int(rng.integers(0, max(span - length - 7, 0) + 1))
        return s.start + dt.timedelta(days=first), s.start + dt.timedelta(days=first + length)

    def pick(pool: list[str], k: int) -> list[str]:
        return [str(x) for x in rng.choice(pool, size=min(k, len(pool)), replace=False)]

    def add(kind: str, entity: str, span: tuple[dt.date, dt.date], description: str, **params) -> None:
        kpi, etype = KPI_KINDS[kind]
        plan.items.append(Anomaly(kind, etype, entity, span[0], span[1], description, kpi, params))

    # the lines' and the packing cell's machines: a support stage's few stations have no peers to compare with
    machines = [m for wc in c.wc_ids if wc.split("-")[1] not in STAGE_MACHINE_SHARE for m in c.wc_machines[wc]]
    short, long_ = (20, 40) if s.name == "tiny" else (75, 150)
    chosen_machines = pick(machines, 2 * n)
    for m in chosen_machines[:n]:
        drift = round(float(rng.uniform(0.35, 0.45)), 2)
        add(
            "energy_drift",
            m,
            window(short, long_),
            f"Machine {m} draws more power per unit: kWh per unit drifts up to +{drift:.0%}.",
            drift=drift,
        )
    for m in chosen_machines[n : 2 * n]:
        add(
            "rising_breakdowns",
            m,
            window(short, long_),
            f"Machine {m} breaks down more and more often; availability falls.",
            extra=0.9,
            wear=3.0,  # it wears up to 4× as fast at the end of its window (demo/wear.py)
        )
    for cc in pick(c.support_ccs, n):
        add(
            "underused_support_team",
            cc,
            window(short, long_),
            f"Support team {cc} receives far fewer tickets than it is staffed for.",
            volume=0.45,
        )
    for sup in pick([x for x in c.suppliers], n):
        add(
            "late_supplier",
            sup,
            window(short, long_),
            f"Supplier {sup} delivers one to two weeks late.",
            delay=int(rng.integers(8, 14)),
        )
    eur_customers = [x for x in c.customers if c.customer[x].ccy == "EUR"]
    # big customers pay often enough for the slip to show
    for cus in pick(eur_customers[: max(10, len(eur_customers) // 4)], n):
        add(
            "late_paying_customer",
            cus,
            window(short, long_),
            f"Customer {cus} starts paying about a month later than its terms.",
            delay=int(rng.integers(28, 40)),
        )
    # a price rise worth a controller's attention hits a material with real spend: the upper half of the raw
    # materials by standard cost per finished unit across the BOMs; it lasts long enough to reach receipts
    weight = {
        p: c.std_cost[p] * sum(q for comps in c.bom.values() for cid, q in comps if cid == p)
        for p in c.bought
        if p.startswith("RM")
    }
    big_spend = sorted(weight, key=lambda p: (-weight[p], p))[: max(n, (len(weight) + 1) // 2)]
    for k, item in enumerate(pick(big_spend, n)):
        rise = round(float(rng.uniform(0.12, 0.18)), 2)
        add(
            "material_price_rise",
            item,
            window_in_slot(k, n, max(short, 35), max(long_, 45)),
            f"Purchase price of {item} rises by {rise:.0%}.",
            rise=rise,
        )
    for k in range(min(n, len(c.plants))):
        plant = c.plants[k % len(c.plants)]
        wc = f"{plant}-ASSY"
        add(
            "bottleneck_line",
            wc,
            window(short, long_),
            f"A demand surge at {plant} overloads {wc}, which becomes the constraint.",
            plant=plant,
            surge=1.3,
        )
    for k in range(n):
        plant = c.plants[k % len(c.plants)]
        add(
            "overtime_breach",
            plant,
            window(short, long_),
            f"Site {plant} works routine overtime, far above its guardrail.",
        )
    # avoid overlapping instances of the same kind on one entity
    seen: dict[tuple[str, str], dt.date] = {}
    kept = []
    for a in sorted(plan.items, key=lambda a: (a.kind, a.entity_id, a.start)):
        key = (a.kind, a.entity_id)
        if key in seen and a.start <= seen[key]:
            continue
        seen[key] = a.end
        kept.append(a)
    plan.items = kept
    _demand_shift(plan, c, rng)  # drawn last: the other anomalies keep their draws
    return plan


def _demand_shift(plan: AnomalyPlan, c: Company, rng: np.random.Generator) -> None:
    """One family's level drops or rises by 25–40 % from the first day of a month to the end of the history,
    with at least a third of the history (two months at least) on either side. It names no KPI: forecasts
    should show it, the detector is not scored on it."""
    s = c.scale
    lo, hi = max(1, s.months // 3), s.months - max(2, s.months // 3)
    if hi < lo:
        return
    family = str(rng.choice(FAMILIES))
    k = int(rng.integers(lo, hi + 1))
    size = round(float(rng.uniform(0.25, 0.40)), 2)
    factor = round(1 - size if rng.random() < 0.5 else 1 + size, 2)
    y, m = divmod(s.start.month - 1 + k, 12)
    start = dt.date(s.start.year + y, m + 1, 1)
    verb = "drops" if factor < 1 else "rises"
    a = Anomaly(
        "demand_shift",
        "family",
        family,
        start,
        s.end,
        f"Demand for {family} {verb} by {size:.0%} from {start:%Y-%m} on (level × {factor:.2f}).",
        None,
        {"factor": factor},
    )
    plan.items.append(a)
    plan.shift = a
