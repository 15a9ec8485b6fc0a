"""Machine wear and the causes of quality defects (docs/demo-company.md "Machines wear out", "Defects have
causes").

Each machine's wear grows with its run hours, faster the more of its staffed window it runs (load); a
planned maintenance takes most of it away, a breakdown repair some. Wear drives the breakdown hazard (the
company's average stays at the base probability: wear moves breakdowns to the worn machines, it does not
add any), the machine's temperature and vibration, and the defect rate of the work it does.

The defect rate of a piece of work is the company's base rate × the product of its causes' factors (a
worn machine running hot, a supplier's bad lots, a late shift, a crew with an operator in their first weeks),
divided by the running mean of those factors so the company's average rate stays the base rate. The
causes go to truth/anomalies.json.

Operators leave and are replaced (`plan_hires`): the new hire takes the leaver's place (work centre, shift,
machine and pay) from the day they leave; people.book_timesheets books the new hire from then on.

Every draw here comes from the wear's own random streams, never from the simulation's, so the simulation
makes the same draws in the same order (what they draw for changes where scrap or a breakdown moved)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .master import BASE, Company

RUN_HOURS_PER_WEAR = 400.0  # a machine running 12 of its 24 staffed hours gains about 1 wear a month
PLANNED_LEFT = 0.1  # the share of its wear a machine keeps after a planned maintenance
REPAIR_LEFT = 0.7  # ... and after a breakdown repair
HAZARD_CAP = 6.0  # a machine's hazard is at most 6× the company's
HAZARD_WEAR = 2.5  # wear past this adds no hazard
TEMPERATURE_PER_WEAR = 6.0  # °C a running machine gains per unit of wear
VIBRATION_PER_WEAR = 0.9  # mm/s
HOT_WEAR = 0.8  # above this wear a machine runs hot and its work has more defects
HOT_EFFECT = 2.5  # the defect factor gained per unit of wear above HOT_WEAR
HOT_CAP = 3.0  # ... up to this factor
MEAN_DECAY = 0.9985  # the running mean of the defect factors forgets an operation's weight by 0.15 % a step
LATE_SHIFT_EFFECT = 2.5
SUPPLIER_EFFECT = 4.0  # on a bad lot of the supplier
BAD_LOT_SHARE = 0.5  # the share of its lots that are bad
NEW_OPERATOR_EFFECT = 2.0  # a crew's work while one of them is in their first NEW_OPERATOR_DAYS after their hire
NEW_OPERATOR_DAYS = 42
OPERATOR_TURNOVER = 0.35  # the share of operators who leave in a year (each replaced the day they leave)


@dataclass(frozen=True)
class Hire:
    """A new operator taking over a leaver's place: `index` in the staff group `op:WC` (on `shift_id`,
    running `machine`) from `day` on."""

    day: dt.date
    group: str
    index: int
    employee_id: str
    shift_id: str
    machine: str


@dataclass
class DefectCause:
    kind: str
    entity_type: str
    entity_id: str
    start: dt.date
    end: dt.date
    effect: float  # the factor on the defect rate
    driver: str  # the column of `opsfin predict defects` that should find it
    description: str


@dataclass
class Wear:
    c: Company
    sensor_rng: np.random.Generator  # [seed, 6]
    defect_rng: np.random.Generator  # [seed, 7]
    causes: list[DefectCause] = field(default_factory=list)
    level: dict[str, float] = field(default_factory=dict)  # machine -> wear now
    at_day: dict[str, dict[int, float]] = field(default_factory=dict)  # machine -> day index -> wear that day
    run_today: dict[str, float] = field(default_factory=dict)  # machine -> run minutes today
    maintained_today: dict[str, bool] = field(default_factory=dict)  # machine -> planned maintenance today
    last_lot: dict[str, str] = field(default_factory=dict)  # material -> supplier of its last receipt
    bad_lot: dict[str, bool] = field(default_factory=dict)  # material -> whether its last lot is a bad one
    main_material: dict[str, str | None] = field(default_factory=dict)  # product -> its main material
    hires: list[Hire] = field(default_factory=list)  # in day order
    # (work centre, shift) -> the spans in which its crew has a new operator
    new_until: dict[tuple[str, str], list[tuple[dt.date, dt.date]]] = field(default_factory=dict)
    # Σ units × raw factor and Σ units, per stage kind (last stage or not): the running means
    mean_shape: float = 1.0  # the machines' mean wear hazard today (set_mean_hazard)
    factor_sums: dict[bool, list[float]] = field(default_factory=lambda: {True: [0.0, 0.0], False: [0.0, 0.0]})

    def set_mean_hazard(self, working: list[str]) -> None:
        """The mean wear hazard of the machines `working` today, at the start of the day."""
        shapes = [_hazard_shape(self.level.get(m, 0.0)) for m in working]
        self.mean_shape = float(np.mean(shapes)) if shapes else 1.0

    def hazard(self, machine: str, base: float) -> float:
        """The machine's breakdown probability today: `base` × its wear hazard ÷ the machines' mean one."""
        return base * min(_hazard_shape(self.level.get(machine, 0.0)) / self.mean_shape, HAZARD_CAP)

    def start_day(self, machine: str, day_index: int, planned: bool) -> None:
        """A machine's day begins: its wear is the day's (a planned maintenance today counts from tomorrow, so
        the day's hazards keep the company's mean)."""
        self.at_day.setdefault(machine, {})[day_index] = self.level.get(machine, 0.0)
        self.run_today[machine] = 0.0
        self.maintained_today[machine] = planned

    def repaired(self, machine: str) -> None:
        self.level[machine] = self.level.get(machine, 0.0) * REPAIR_LEFT

    def end_day(self, machine: str, window_minutes: float, speed: float) -> None:
        """Add the day's wear: run hours × load (0.5 + the share of the window run), × `speed`."""
        run = self.run_today.get(machine, 0.0)
        load = 0.5 + min(run / max(window_minutes, 1.0), 1.0)
        level = self.level.get(machine, 0.0) * (PLANNED_LEFT if self.maintained_today.get(machine) else 1.0)
        self.level[machine] = level + run / 60 / RUN_HOURS_PER_WEAR * load * speed

    def received(self, material: str, supplier: str) -> None:
        """A lot of `material` from `supplier` arrives: a bad one if the supplier is the cause's and a draw
        says so."""
        bad = any(k.kind == "defect_supplier_lots" and k.entity_id == supplier for k in self.causes)
        self.last_lot[material] = supplier
        self.bad_lot[material] = bad and self.defect_rng.random() < BAD_LOT_SHARE

    def defect_factor(
        self, machine: str, shift_id: str, product: str, day: dt.date, units: int, last_stage: bool
    ) -> float:
        """The factor on the base defect rate of `units` made on `machine` in `shift_id` on `day`, divided by
        the running mean of the factors of the work at that kind of stage."""
        raw = 1.0
        wear = self.level.get(machine, 0.0)
        for cause in self.causes:
            if not cause.start <= day <= cause.end:
                continue
            if cause.kind == "defect_machine_wear" and wear > HOT_WEAR:
                raw *= min(1 + cause.effect * (wear - HOT_WEAR), HOT_CAP)
            elif cause.kind == "defect_late_shift" and shift_id == cause.entity_id:
                raw *= cause.effect
            elif cause.kind == "defect_supplier_lots" and self._bad_lot(product, cause.entity_id):
                raw *= cause.effect
            elif cause.kind == "defect_new_operator" and self.new_operator(machine, shift_id, day):
                raw *= cause.effect
        sums = self.factor_sums[last_stage]
        sums[0] = sums[0] * MEAN_DECAY + raw * units
        sums[1] = sums[1] * MEAN_DECAY + units
        return raw * sums[1] / sums[0] if sums[0] else 1.0

    def new_operator(self, machine: str, shift_id: str, day: dt.date) -> bool:
        """Whether the crew of `machine`'s work centre on `shift_id` has an operator hired fewer than
        NEW_OPERATOR_DAYS before `day`."""
        spans = self.new_until.get((machine.rsplit("-", 1)[0], shift_id), ())
        return any(a <= day < b for a, b in spans)

    def _main_material(self, product: str) -> str | None:
        if product not in self.main_material:
            comps = self.c.bom.get(product, [])
            best = max(comps, key=lambda x: (x[1] * self.c.std_cost[x[0]], x[0]), default=None)
            self.main_material[product] = best[0] if best else None
        return self.main_material[product]

    def _bad_lot(self, product: str, supplier: str) -> bool:
        material = self._main_material(product)
        return material is not None and self.last_lot.get(material) == supplier and self.bad_lot[material]

    def defects(self, base: int, units: int, rate: float, factor: float) -> int:
        """Defects of `units` at `factor` × `rate`, from `base` (the simulation's draw at `rate`): thinned when
        the factor is below 1, topped up among the other units when above."""
        if factor <= 1:
            return int(self.defect_rng.binomial(base, factor)) if base else 0
        extra = min(rate * (factor - 1) / (1 - rate), 1.0)
        return base + int(self.defect_rng.binomial(units - base, extra))

    def truth_records(self, first_id: int) -> list[dict]:
        return [
            {
                "id": f"A{first_id + i:04d}",
                "kind": k.kind,
                "kpi": None,
                "entity_type": k.entity_type,
                "entity_id": k.entity_id,
                "start": k.start.isoformat(),
                "end": k.end.isoformat(),
                "description": k.description,
                "effect": k.effect,
                "driver": k.driver,
            }
            for i, k in enumerate(self.causes)
        ]


def plan_wear(c: Company, seed: int) -> Wear:
    """The wear model and its defect causes, drawn from their own streams ([seed, 6] and [seed, 7])."""
    wear = Wear(c, np.random.default_rng([seed, 6]), np.random.default_rng([seed, 7]))
    for m in sorted(c.machine_cycle):  # wear at the start: since a maintenance before the history
        wear.level[m] = float(wear.sensor_rng.uniform(0.0, 1.0))
    rng = wear.defect_rng
    start, end = c.scale.start, c.scale.end
    wear.causes.append(
        DefectCause("defect_machine_wear", "driver_group", "machine condition", start, end, HOT_EFFECT,
                    "machine_temperature_7d",
                    f"A machine worn past {HOT_WEAR:g} runs hot: its work's defect rate rises by "
                    f"{HOT_EFFECT:g}× the base per unit of wear above that.")
    )  # fmt: skip
    # a late shift: the night shifts do too little of the work for their defects to matter
    lates = [sid for site in c.plants for sid, _h, _n in c.site_shifts[site] if sid.endswith("-L")]
    if lates:
        late = str(rng.choice(lates))
        wear.causes.append(
            DefectCause("defect_late_shift", "shift", late, start, end, LATE_SHIFT_EFFECT, "shift_id",
                        f"Work on the late shift {late} (no supervisor after hours) has {LATE_SHIFT_EFFECT:g}× "
                        "the defect rate.")
        )  # fmt: skip
    # the base-currency supplier of the most products' main material (the largest quantity × standard cost of
    # the bill): the extra material its bad lots make the plants use carries no exchange-rate variance
    counts: dict[str, int] = {}
    for product in c.finished:
        material = wear._main_material(product)
        if material and material in c.item_supplier and c.supplier[c.item_supplier[material]].ccy == BASE:
            counts[c.item_supplier[material]] = counts.get(c.item_supplier[material], 0) + 1
    if counts:
        supplier = sorted(counts, key=lambda s: (-counts[s], s))[0]
        wear.causes.append(
            DefectCause("defect_supplier_lots", "supplier", supplier, start, end, SUPPLIER_EFFECT, "supplier_id",
                        f"Half the material lots from {supplier} are poor: work on them has "
                        f"{SUPPLIER_EFFECT:g}× the defect rate.")
        )  # fmt: skip
    wear.hires = plan_hires(c, np.random.default_rng([seed, 8]))
    for h in wear.hires:
        span = (h.day, h.day + dt.timedelta(days=NEW_OPERATOR_DAYS))
        wear.new_until.setdefault((h.group.partition(":")[2], h.shift_id), []).append(span)
    wear.causes.append(
        DefectCause("defect_new_operator", "driver_group", "operator", start, end, NEW_OPERATOR_EFFECT,
                    "newest_operator_days",
                    f"A crew's work while one of them is in their first {NEW_OPERATOR_DAYS} days after their "
                    f"hire has {NEW_OPERATOR_EFFECT:g}× the defect rate ({len(wear.hires)} operators hired: "
                    f"{', '.join(h.employee_id for h in wear.hires)}).")
    )  # fmt: skip
    return wear


def plan_hires(c: Company, rng: np.random.Generator) -> list[Hire]:
    """Operators leave at OPERATOR_TURNOVER a year (exponential times, drawn from `rng`), each replaced the same
    day by a new hire at the leaver's place and pay; at least one hire in the history (in its middle third),
    so the new-operator cause exists at every scale. Adds the new hires to the company's employee rows."""
    start, days = c.scale.start, c.days
    slots = [(g, i) for g in sorted(c.employees) if g.startswith("op:") for i in range(len(c.employees[g]))]
    drawn: list[tuple[int, str, int]] = []
    for group, index in slots:
        t = 0.0
        while (t := t + float(rng.exponential(365 / OPERATOR_TURNOVER))) < days:
            drawn.append((int(t), group, index))
    if not drawn:
        group, index = slots[int(rng.integers(0, len(slots)))]
        drawn.append((int(rng.integers(days // 3, 2 * days // 3)), group, index))
    hires = []
    rows = c.rows["employees"]
    row_of = {r[0]: r for r in rows}
    holder = {slot: c.employees[slot[0]][slot[1]][0] for slot in slots}  # who holds each place now
    for day, group, index in sorted(drawn):
        wc = group.partition(":")[2]
        site, machines = c.wc_site[wc], c.wc_machines[wc]
        leaver = holder[(group, index)]
        eid = holder[(group, index)] = f"E{len(rows) + 1:05d}"
        row_of[eid] = (eid, *row_of[leaver][1:])
        rows.append(row_of[eid])
        c.employee_rate[eid] = c.employee_rate[leaver]
        shift_id = c.site_shifts[site][(index // len(machines)) % len(c.site_shifts[site])][0]
        when = start + dt.timedelta(days=day)
        hires.append(Hire(when, group, index, eid, shift_id, machines[index % len(machines)]))
    return hires


def _hazard_shape(wear: float) -> float:
    """Convex in wear, flat past HAZARD_WEAR (so one failing machine does not lower everyone's hazard)."""
    w = min(wear, HAZARD_WEAR)
    return 0.2 + w * w
