"""The demand model: each family's trend and seasonality, occasional promotions, and the lumpy orders of
the spare-parts family (docs/demo-company.md, "Demand").

A family's planned level on a day is `trend × season` (`family_factor`); the volume plan (budget) knows
it. Promotions and the injected demand shift (`AnomalyPlan.demand_shift_factor`) come on top and only
the operational planner sees them, as it sees the orders."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from .master import REWORK_STAGE, SPARE_FAMILY, Company


@dataclass(frozen=True)
class FamilyProfile:
    trend_per_month: float  # compound growth of the level per month (−0.01 = −1 %/month)
    amplitude: float  # seasonal swing: the level is 1 ± amplitude at the peak and trough
    peak_month: int  # 1–12; the trough is six months later


PROFILES = {
    "Pumps": FamilyProfile(0.010, 0.30, 7),  # irrigation and building season: strongly seasonal
    "Valves": FamilyProfile(-0.010, 0.10, 3),  # a declining range
    "Controllers": FamilyProfile(0.020, 0.15, 11),  # growing, year-end project business
    "Sensors": FamilyProfile(0.005, 0.02, 1),  # nearly flat
}
DAYS_PER_MONTH = 365.25 / 12

PROMOTION_SHARE = 0.03  # of the product-months of the regular families
PROMOTION_UPLIFT = (1.5, 2.0)
PROMOTION_PRICE_CUT = (0.05, 0.10)

# spare parts: an order on a working day with this probability (about 30 % of months see any order),
# of a lumpy size: 1 + gamma(shape 0.8, scale 15) units, about 13 on average
SPARE_ORDER_P = 0.017
SPARE_QTY_SHAPE, SPARE_QTY_SCALE = 0.8, 15.0
SPARE_SAFETY_STOCK = 15  # units the planner keeps of each spare part (its reorder point)


def spare_daily_demand() -> float:
    """Mean units per calendar day of one spare part (orders on 5 of 7 days)."""
    return SPARE_ORDER_P * (1 + SPARE_QTY_SHAPE * SPARE_QTY_SCALE) * 5 / 7


@dataclass(frozen=True)
class Promotion:
    product: str
    month: dt.date  # first day of the month
    uplift: float  # demand multiplier of the month's order lines
    price_cut: float  # off the usual price


@dataclass
class MixShift:
    """From `month` on, a plant's demand moves towards the families that pass `to_wc` (the rework cell), its
    total units unchanged, so the plant's bottleneck moves from `from_wc` to `to_wc`."""

    plant: str
    month: dt.date  # first day of the month
    from_wc: str
    to_wc: str
    factors: dict[str, float]  # product -> demand multiplier
    share_before: float  # the planned units' share of the families passing `to_wc`
    share_after: float

    def truth_record(self, number: int, end: dt.date) -> dict:
        return {
            "id": f"A{number:04d}",
            "kind": "bottleneck_move",
            "kpi": None,
            "entity_type": "site",
            "entity_id": self.plant,
            "start": self.month.isoformat(),
            "end": end.isoformat(),
            "description": (
                f"From {self.month:%Y-%m} the mix at {self.plant} moves to the leak-tested families "
                f"({self.share_before:.0%} to {self.share_after:.0%} of its units): its bottleneck moves from "
                f"{self.from_wc} to {self.to_wc}."
            ),
            "month": self.month.isoformat(),
            "from_work_center": self.from_wc,
            "to_work_center": self.to_wc,
            "factors": dict(sorted(self.factors.items())),  # product -> its demand multiplier from the month
        }


@dataclass
class DemandPlan:
    """Family profiles, promotions and the spare-parts order draws of one simulation."""

    start: dt.date
    months: int
    product_family: dict[str, str]
    promotions: dict[tuple[str, dt.date], Promotion] = field(default_factory=dict)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    mix: MixShift | None = None  # the product-mix shift that moves a plant's bottleneck (plans.plan_mix_shift)

    def family_factor(self, family: str, day: dt.date) -> float:
        """The planned level of a family on `day`: its trend, centred on the middle of the history so the
        total over the history stays about the same, times its seasonal profile."""
        profile = PROFILES.get(family)
        if profile is None:
            return 1.0
        t = (day - self.start).days / DAYS_PER_MONTH - self.months / 2
        trend = (1 + profile.trend_per_month) ** t
        peak_day = (profile.peak_month - 0.5) * DAYS_PER_MONTH
        season = 1 + profile.amplitude * math.cos(2 * math.pi * (day.timetuple().tm_yday - peak_day) / 365.25)
        return trend * season

    def product_factor(self, product: str, day: dt.date) -> float:
        return self.family_factor(self.product_family[product], day) * self.mix_factor(product, day)

    def mix_factor(self, product: str, day: dt.date) -> float:
        """The product's demand multiplier from the mix shift (1 before its month and for the others)."""
        m = self.mix
        return m.factors.get(product, 1.0) if m is not None and day >= m.month else 1.0

    def promotion(self, product: str, day: dt.date) -> Promotion | None:
        return self.promotions.get((product, day.replace(day=1)))

    def truth_rows(self) -> list[tuple[str, str, dt.date, float, float]]:
        return [
            (p.product, self.product_family[p.product], p.month, p.uplift, p.price_cut)
            for _key, p in sorted(self.promotions.items())
        ]


def plan_demand_events(c: Company, rng: np.random.Generator) -> DemandPlan:
    """Promotions on a few product-months of the regular families (never the first month, which the
    opening stock covers), drawn once from the seed."""
    s = c.scale
    plan = DemandPlan(s.start, s.months, dict(c.product_family), rng=rng)
    regular = [p for p in c.finished if c.product_family[p] != SPARE_FAMILY]
    month_starts = [_add_months(s.start, k) for k in range(1, s.months)]
    slots = [(p, m) for m in month_starts for p in regular]
    n = max(2, round(PROMOTION_SHARE * len(regular) * s.months)) if slots else 0
    for i in sorted(rng.choice(len(slots), size=min(n, len(slots)), replace=False)):
        product, month = slots[int(i)]
        uplift = round(float(rng.uniform(*PROMOTION_UPLIFT)), 2)
        cut = round(float(rng.uniform(*PROMOTION_PRICE_CUT)), 2)
        plan.promotions[(product, month)] = Promotion(product, month, uplift, cut)
    return plan


def spare_part_orders(c: Company, plan: DemandPlan) -> list[tuple[str, int]]:
    """Today's spare-part orders (product, units) on a working day: each spare part is ordered rarely and
    in lumps."""
    rng = plan.rng
    out = []
    for pid in c.spares:
        if rng.random() < SPARE_ORDER_P:
            out.append((pid, 1 + int(rng.gamma(SPARE_QTY_SHAPE, SPARE_QTY_SCALE))))
    return out


def add_spare_parts(c: Company, rng: np.random.Generator) -> None:
    """Spare parts: finished goods of each plant like the others (BOM, the plant's three-stage routing, a
    rolled-up standard), with a short BOM of one or two bought items and short setups. Drawn after the rest
    of the master data (`master.build_company`), from the same generator, so that does not depend on them."""
    r = c.rows
    n = 0
    for site in c.plants:
        for _j in range(c.scale.spares_per_plant):
            n += 1
            pid = f"SP-{n:03d}"
            c.finished.append(pid)
            c.spares.append(pid)
            c.product_plant[pid], c.product_family[pid] = site, SPARE_FAMILY
            comps = list(rng.choice(c.bought, size=int(rng.integers(1, 3)), replace=False))
            c.bom[pid] = [(str(cid), 1) for cid in comps]
            c.material_std[pid] = sum(q * c.std_cost[cid] for cid, q in c.bom[pid])
            for cid, q in c.bom[pid]:
                r["bom"].append((pid, cid, float(q)))
            c.routing[pid] = [
                (wc, 10.0, run, labor, wh)
                for wc, _setup, run, labor, wh in c.routing[_first(c, site)]
                if not wc.endswith(f"-{REWORK_STAGE}")  # kits are not leak-tested
            ]
            c.list_price[pid] = 0  # priced with the others (plans.set_prices_and_expenses)
            r["products"].append([pid, f"Spare part kit {n}", SPARE_FAMILY, "finished", "pc"])


def _first(c: Company, site: str) -> str:
    return next(p for p in c.finished if c.product_plant[p] == site)


def _add_months(day: dt.date, k: int) -> dt.date:
    y, m = divmod(day.month - 1 + k, 12)
    return dt.date(day.year + y, m + 1, 1)
