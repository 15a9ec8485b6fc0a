"""The rework cell's cycle and the product-mix shift that moves one plant's bottleneck from its assembly line
to its leak-test and rework cell (docs/demo-company.md, "Routings and the bottleneck").

Only the leak-tested families (`master.REWORK_FAMILIES`) pass the rework cell, so its load follows their
share of the plant's units: the cell's cycle is set so that it runs below the assembly line before the shift
and above it after. The shift keeps the plant's total units, so the other stages' loads do not move."""

from __future__ import annotations

import numpy as np

from ..core.periods import add_months
from .demand import MixShift
from .master import CONSTRAINT_STAGE, REWORK_FAMILIES, REWORK_STAGE, Company, routing_step
from .state import Sim

MOVED_LOAD = 1.15  # the rework cell's load after the shift, relative to the assembly line's
CALM_LOAD = (0.5, 0.75)  # ... and before it (the higher, the smaller the share can grow)
MAX_SHARE = 0.9  # of the plant's units in the leak-tested families after the shift
MIN_MOVED_LOAD = 1.05  # a plant whose share cannot grow enough for this is not shifted


def rework_share(c: Company, weights: dict[str, float], site: str) -> float:
    """The planned units' share of the leak-tested families at `site` (weights: product -> planned units)."""
    total = sum(w for p, w in weights.items() if c.product_plant[p] == site)
    rework = sum(w for p, w in weights.items() if c.product_plant[p] == site and _reworked(c, p))
    return rework / total if total else 0.0


def set_rework_cycle(c: Company, site: str, share: float) -> None:
    """The rework cell's ideal cycle at `site`, and the routing steps that use it: the cell's load is
    `calm_load(share)` of the assembly line's at the plan's mix (load ∝ share × cycle ÷ machines)."""
    rwk, assy = f"{site}-{REWORK_STAGE}", f"{site}-{CONSTRAINT_STAGE}"
    if rwk not in c.wc_machines:
        return
    a_cycle = c.machine_cycle[c.wc_machines[assy][0]]
    per_station = a_cycle / len(c.wc_machines[assy])
    cycle = calm_load(share) * per_station * len(c.wc_machines[rwk]) / share if share else a_cycle
    cycle = round(min(max(cycle, 0.25 * a_cycle), 2.0 * a_cycle), 1)
    for m in c.wc_machines[rwk]:
        c.machine_cycle[m] = cycle
    # the machines' rows (written by master._products) carry the ideal cycle the readings' performance uses
    c.rows["machines"] = [
        (m, w, name, cycle if w == rwk else ideal, kw) for m, w, name, ideal, kw in c.rows["machines"]
    ]
    for p, steps in c.routing.items():
        c.routing[p] = [routing_step(c, rwk, step[1]) if step[0] == rwk else step for step in steps]


def share_after(share: float) -> float:
    return min(MAX_SHARE, share * MOVED_LOAD / CALM_LOAD[0])


def calm_load(share: float) -> float:
    """The rework cell's load relative to the assembly line's before the shift, such that the shift to
    `share_after(share)` takes it to MOVED_LOAD."""
    return min(max(MOVED_LOAD * share / share_after(share), CALM_LOAD[0]), CALM_LOAD[1]) if share else 0.0


def load_after(share: float) -> float:
    """The rework cell's load relative to the assembly line's after the shift (≥ 1: it is the constraint)."""
    return calm_load(share) * share_after(share) / share if share else 0.0


def plan_mix_shift(sim: Sim, rng: np.random.Generator) -> MixShift | None:
    """One plant shifts its mix from a month drawn in the middle third of the history: of the plants whose
    share can grow enough, one without a bottleneck-line surge after the month if there is one (so that the
    two effects are measured apart), the smallest share (the most room to grow) first. A surge at that plant
    after the month overloads both the rework cell and the assembly line (30 % more of every product); its
    truth keeps naming the assembly line, whose queue is the one the detector watches."""
    c = sim.c
    s = c.scale
    weights = {p: sim.daily_demand[p] for p in c.regular}
    shares = {site: rework_share(c, weights, site) for site in c.plants}
    candidates = [site for site in c.plants if 0 < shares[site] and load_after(shares[site]) >= MIN_MOVED_LOAD]
    if not candidates or sim.demand is None:
        return None
    lo, hi = max(1, s.months // 3), s.months - max(2, s.months // 3)  # two months at least after
    month = add_months(s.start, int(rng.integers(lo, max(hi, lo) + 1)))
    surged = {a.params["plant"] for a in sim.plan.items if a.kind == "bottleneck_line" and a.end >= month}
    plant = min(candidates, key=lambda site: (site in surged, shares[site], site))
    before, after = shares[plant], share_after(shares[plant])
    up, down = after / before, (1 - after) / (1 - before)
    factors = {p: up if _reworked(c, p) else down for p in weights if c.product_plant[p] == plant}
    shift = MixShift(plant, month, f"{plant}-{CONSTRAINT_STAGE}", f"{plant}-{REWORK_STAGE}", factors, before, after)
    sim.demand.mix = shift
    return shift


def _reworked(c: Company, product: str) -> bool:
    return c.product_family[product] in REWORK_FAMILIES
