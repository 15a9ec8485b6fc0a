"""`model/activities.yaml` (activity-based costing) and `model/allocations.yaml` (service cost
allocations): parsing, validation, defaults, plus the exact money split both engines share.

A cost-centre *selector* is a mapping with any of these keys (all given keys must match):
`ids` (list of ids), `pattern` (glob or list of globs on the id, e.g. `CC-*-MNT`), `kind` (a
cost-centre kind or a list), `site` (site id or list), `site_kind` (`plant`, `warehouse`, `support`
or a list). See docs/abc.md and docs/allocations.md.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..yamlfile import read_yaml_mapping

ACTIVITIES_FILE = "activities.yaml"
ALLOCATIONS_FILE = "allocations.yaml"
CENT = Decimal("0.01")

# ------------------------------------------------------------------ exact money split (largest remainder)


def to_cents(value: Any) -> Decimal:
    """A money amount as Decimal rounded half-even to the cent (floats go through repr, not binary)."""
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        d = Decimal(str(value))
    return d.quantize(CENT, rounding=ROUND_HALF_EVEN)


def split_cents(total: Decimal, weights: dict[Any, Any]) -> dict[Any, Decimal]:
    """Split `total` (cents) over `weights` (≥ 0, not all 0) so that the parts sum to `total` exactly.

    Each part gets the floor of its exact share in cents; the cents left go one by one to the largest
    remainders (ties: the larger weight, then the smaller key). Negative totals split like their
    absolute value. Keys with weight 0 get 0."""
    total = to_cents(total)
    exact = {k: Fraction(w) for k, w in weights.items()}
    if any(w < 0 for w in exact.values()):
        raise ValueError("split weights must not be negative")
    w_sum = sum(exact.values(), Fraction(0))
    if w_sum == 0:
        raise ValueError("split weights sum to 0")
    sign = -1 if total < 0 else 1
    cents = int(abs(total) * 100)
    floors: dict[Any, int] = {}
    rems: list[tuple[Fraction, Fraction, str, Any]] = []
    for k, w in exact.items():
        share = cents * w / w_sum
        f = share.numerator // share.denominator
        floors[k] = f
        rems.append((share - f, w, str(k), k))
    left = cents - sum(floors.values())
    rems.sort(key=lambda r: (-r[0], -r[1], r[2]))
    for _, _, _, k in rems[:left]:
        floors[k] += 1
    return {k: (Decimal(sign * v) / 100).quantize(CENT) for k, v in floors.items()}


# ------------------------------------------------------------------ selectors

_SELECTOR_KEYS = {"ids", "pattern", "kind", "site", "site_kind"}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


@dataclass(frozen=True)
class Selector:
    ids: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    site_kinds: tuple[str, ...] = ()

    def matches(self, cc: dict[str, Any]) -> bool:
        """`cc` carries cost_center_id, kind, site_id and site_kind."""
        return ((not self.ids or cc["cost_center_id"] in self.ids)
                and (not self.patterns or any(fnmatch.fnmatchcase(cc["cost_center_id"], p) for p in self.patterns))
                and (not self.kinds or cc["kind"] in self.kinds)
                and (not self.sites or cc["site_id"] in self.sites)
                and (not self.site_kinds or cc.get("site_kind") in self.site_kinds))


def parse_selector(value: Any, where: str) -> Selector:
    if isinstance(value, str):  # shorthand: a glob on the id
        return Selector(patterns=(value,))
    if not isinstance(value, dict) or not value:
        raise UserError(f"{where}: expected a cost-centre selector such as {{kind: service}} or "
                        f"{{pattern: 'CC-*-MNT'}}, got {value!r}")
    unknown = set(value) - _SELECTOR_KEYS
    if unknown:
        raise UserError(f"{where}: unknown selector key {', '.join(sorted(unknown))}; "
                        f"use {', '.join(sorted(_SELECTOR_KEYS))}")
    return Selector(tuple(_as_list(value.get("ids"))), tuple(_as_list(value.get("pattern"))),
                    tuple(_as_list(value.get("kind"))), tuple(_as_list(value.get("site"))),
                    tuple(_as_list(value.get("site_kind"))))


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise UserError(f"{path}: file missing; `opsfin init {path.parent.parent}` writes the default")
    return read_yaml_mapping(path)


def _roles(data: dict[str, Any], where: str, default: tuple[str, ...]) -> tuple[str, ...]:
    roles = _as_list(data.get("roles", list(default)))
    if not roles:
        raise UserError(f"{where}: roles: name at least one GL account role")
    return tuple(roles)


DEFAULT_POOL_ROLES = ("maintenance", "depreciation", "payroll", "opex", "inventory_adjustment")

# ------------------------------------------------------------------ activities.yaml (ABC)

ACTIVITY_DRIVERS = {
    "machine_hours": "Σ operations.run_minutes / 60 (dated by end_at) → order → product",
    "labor_hours": "Σ operations.labor_minutes / 60 (dated by end_at) → order → product",
    "setups": "count of operations with setup_minutes > 0 (dated by end_at) → product",
    "setup_minutes": "Σ operations.setup_minutes (dated by end_at) → product",
    "inspections": "count of quality_inspections (dated by inspected_at) → order → product",
    "production_orders": "count of production orders completed (completed_at) → product",
    "sales_orders": "count of sales-order lines ordered (ordered_date) → customer and product",
    "shipments": "count of shipment rows (shipped_date) → sales-order line → customer and product",
    "tickets": "count of support tickets with a customer, closed in the range (closed_at) → customer",
    "units": "Σ shipped qty (shipped_date) → customer and product",
    "revenue": "Σ AR invoice lines in base currency (invoice_date) → customer and product",
}
RESOURCE_DRIVERS = ("timesheet_hours", "split")
TRADITIONAL_BASES = ("units", "revenue", "machine_hours", "labor_hours")


@dataclass(frozen=True)
class ResourceRule:
    """Cost centres matched by `match` feed activities by timesheet-hour share or a fixed split."""
    match: Selector
    driver: str  # 'timesheet_hours' | 'split'
    split: tuple[tuple[str, Decimal], ...] = ()  # fixed % per activity (sums to 100)
    fallback: str | None = None  # activity for timesheet_hours when the centre booked no activity hours


@dataclass(frozen=True)
class AbcConfig:
    roles: tuple[str, ...]
    resources: tuple[ResourceRule, ...]
    activities: dict[str, str]  # activity_id -> activity driver
    traditional: str
    source: str = ACTIVITIES_FILE


def parse_abc_config(data: dict[str, Any], where: str = ACTIVITIES_FILE) -> AbcConfig:
    roles = _roles(data, where, DEFAULT_POOL_ROLES)
    raw_res = data.get("resources")
    if not isinstance(raw_res, list) or not raw_res:
        raise UserError(f"{where}: resources: expected a list of resource drivers (cost centres → activities)")
    rules = []
    for i, r in enumerate(raw_res, 1):
        at = f"{where}: resources[{i}]"
        if not isinstance(r, dict) or "match" not in r:
            raise UserError(f"{at}: expected a mapping with 'match' and 'driver' or 'split'")
        sel = parse_selector(r["match"], f"{at}.match")
        if "split" in r:
            split = r["split"]
            if not isinstance(split, dict) or not split:
                raise UserError(f"{at}.split: expected {{ACTIVITY: percent, ...}}")
            try:
                pct = tuple((str(a), Decimal(str(v))) for a, v in split.items())
            except ArithmeticError:
                raise UserError(f"{at}.split: percentages must be numbers") from None
            if any(v < 0 for _, v in pct) or sum(v for _, v in pct) != 100:
                raise UserError(f"{at}.split: percentages must be ≥ 0 and sum to 100 "
                                f"(they sum to {sum(v for _, v in pct)})")
            rules.append(ResourceRule(sel, "split", pct))
        else:
            driver = r.get("driver")
            if driver != "timesheet_hours":
                raise UserError(f"{at}.driver: {driver!r} is not a resource driver; use timesheet_hours, "
                                f"or give a fixed split {{ACTIVITY: percent}}")
            fb = r.get("fallback")
            rules.append(ResourceRule(sel, "timesheet_hours", (), str(fb) if fb else None))
    acts = data.get("activities")
    if not isinstance(acts, dict) or not acts:
        raise UserError(f"{where}: activities: expected a mapping ACTIVITY_ID: driver")
    activities: dict[str, str] = {}
    for a, spec in acts.items():
        driver = spec.get("driver") if isinstance(spec, dict) else spec
        if driver not in ACTIVITY_DRIVERS:
            raise UserError(f"{where}: activities.{a}: unknown driver {driver!r}; drivers are "
                            f"{', '.join(ACTIVITY_DRIVERS)}")
        activities[str(a)] = str(driver)
    for rule in rules:
        for a in [x for x, _ in rule.split] + ([rule.fallback] if rule.fallback else []):
            if a not in activities:
                raise UserError(f"{where}: resources name activity {a!r}, which has no driver under activities:")
    trad = str(data.get("traditional", "units"))
    if trad not in TRADITIONAL_BASES:
        raise UserError(f"{where}: traditional: {trad!r}; use one of {', '.join(TRADITIONAL_BASES)}")
    return AbcConfig(roles, tuple(rules), activities, trad, where)


def load_abc_config(model_dir: Path) -> AbcConfig:
    path = model_dir / ACTIVITIES_FILE
    return parse_abc_config(_load_yaml(path), str(path))


DEFAULT_ACTIVITIES_YAML = """\
# Activity-based costing (docs/abc.md). `opsfin abc --object product|customer`.
#
# Stage 1, resource drivers: the GL costs (roles below) of the cost centres each rule matches go to
# activity pools, by the share of the centre's timesheet hours booked to each activity_id, or by a
# fixed split in percent. The first rule that matches a cost centre wins; unmatched centres (the
# production centres, whose conversion cost is in the standard cost) stay out of the pools.
# Allocation journals (source_doc ALLOC-...) are left out: pools hold each centre's own cost.
roles: [maintenance, depreciation, payroll, opex, inventory_adjustment]

resources:
  - match: {kind: service}          # plant maintenance, e.g. CC-P1-MNT
    driver: timesheet_hours
    fallback: A-MAINT               # when the centre booked no hours to any activity
  - match: {kind: support}          # technical support and order desk, e.g. CC-S1-SUP1
    driver: timesheet_hours
    fallback: A-SUPPORT
  - match: {kind: warehouse}        # distribution centre, e.g. CC-W1-OPS
    driver: timesheet_hours
    fallback: A-SHIP
  - match: {kind: sales}            # sales and customer service, e.g. CC-W1-SAL
    split: {A-ORDER: 100}
  - match: {kind: admin}            # finance and plant administration, e.g. CC-S1-FIN
    split: {A-ADMIN: 100}

# Stage 2, activity drivers: each pool goes to products or customers by its driver's quantity.
# Drivers: machine_hours, labor_hours, setups, setup_minutes, inspections, production_orders,
# sales_orders, shipments, tickets, units, revenue.
activities:
  A-MAINT: machine_hours
  A-RUN: machine_hours
  A-SETUP: setups
  A-INSPECT: inspections
  A-ORDER: sales_orders
  A-SHIP: shipments
  A-SUPPORT: tickets
  A-ADMIN: revenue

# The volume-based comparison spreads the same total over units shipped (or revenue,
# machine_hours, labor_hours).
traditional: units
"""

# ------------------------------------------------------------------ allocations.yaml

ALLOCATION_DRIVERS = {
    "machine_hours": "Σ operations.run_minutes / 60 of the receiver's work centres in the month (end_at)",
    "maintenance_hours": "Σ maintenance_events.labor_hours on machines of the receiver's work centres (end_at)",
    "labor_hours": "Σ timesheet regular + overtime hours booked to the receiver in the month",
    "headcount": "number of employees of the receiver",
    "fixed": "the weights given under `weights:` (cost centre id or glob → weight)",
}
METHODS = ("direct", "step", "reciprocal")


@dataclass(frozen=True)
class AllocationRule:
    senders: Selector
    drivers: tuple[str, ...]  # tried in order: the first with a positive total over the receivers is used
    receivers: Selector
    same_site: bool = False
    weights: tuple[tuple[str, Decimal], ...] = ()  # for the 'fixed' driver


@dataclass(frozen=True)
class AllocationConfig:
    roles: tuple[str, ...]
    rules: tuple[AllocationRule, ...]
    step_order: tuple[Selector, ...]
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    source: str = ALLOCATIONS_FILE

    def rules_hash(self) -> str:
        """Stable hash of the rules as written (key order and layout do not matter)."""
        text = json.dumps(self.raw, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def parse_allocation_config(data: dict[str, Any], where: str = ALLOCATIONS_FILE) -> AllocationConfig:
    roles = _roles(data, where, DEFAULT_POOL_ROLES)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise UserError(f"{where}: rules: expected a list of {{senders, driver, receivers}}")
    rules = []
    for i, r in enumerate(raw_rules, 1):
        at = f"{where}: rules[{i}]"
        if not isinstance(r, dict):
            raise UserError(f"{at}: expected a mapping with senders, driver and receivers")
        for key in ("senders", "driver", "receivers"):
            if key not in r:
                raise UserError(f"{at}: missing '{key}'")
        drivers = tuple(_as_list(r["driver"]))
        for d in drivers:
            if d not in ALLOCATION_DRIVERS:
                raise UserError(f"{at}.driver: unknown driver {d!r}; drivers are {', '.join(ALLOCATION_DRIVERS)}")
        weights: tuple[tuple[str, Decimal], ...] = ()
        if "fixed" in drivers:
            w = r.get("weights")
            if not isinstance(w, dict) or not w:
                raise UserError(f"{at}.weights: the fixed driver needs weights {{COST_CENTRE_OR_GLOB: weight}}")
            try:
                weights = tuple((str(k), Decimal(str(v))) for k, v in w.items())
            except ArithmeticError:
                raise UserError(f"{at}.weights: weights must be numbers") from None
            if any(v < 0 for _, v in weights):
                raise UserError(f"{at}.weights: weights must not be negative")
        rules.append(AllocationRule(parse_selector(r["senders"], f"{at}.senders"), drivers,
                                    parse_selector(r["receivers"], f"{at}.receivers"),
                                    bool(r.get("same_site", False)), weights))
    order = data.get("step_order") or []
    if not isinstance(order, list):
        raise UserError(f"{where}: step_order: expected a list of cost-centre selectors")
    step_order = tuple(parse_selector(s, f"{where}: step_order[{i}]") for i, s in enumerate(order, 1))
    raw = {"roles": list(roles), "rules": raw_rules, "step_order": order}
    return AllocationConfig(roles, tuple(rules), step_order, raw, where)


def load_allocation_config(model_dir: Path) -> AllocationConfig:
    path = model_dir / ALLOCATIONS_FILE
    return parse_allocation_config(_load_yaml(path), str(path))


DEFAULT_ALLOCATIONS_YAML = """\
# Service cost allocations (docs/allocations.md).
# `opsfin allocate --method direct|step|reciprocal --period YYYY-MM [--post]`
#
# Each sender's month balance on each account of these roles is allocated to its receivers on the
# same account: Dr receiver, Cr sender. Previous allocation journals are left out of the balance.
roles: [maintenance, depreciation, payroll, opex, inventory_adjustment]

# A cost centre is a sender if a rule's `senders` match it (first matching rule wins). Receivers that
# are not senders are final (normally the production centres). `driver` may list fallbacks: the first
# driver with a positive total over the sender's receivers is used. `same_site: true` keeps the
# receivers on the sender's site.
rules:
  - senders: {kind: service}                    # plant maintenance, e.g. CC-P1-MNT
    driver: [maintenance_hours, machine_hours]  # maintenance labor hours per work centre
    receivers: {kind: production}
    same_site: true
  - senders: {kind: admin, site_kind: plant}    # plant administration, e.g. CC-P1-ADM
    driver: headcount
    receivers: {kind: [production, service]}
    same_site: true
  - senders: {kind: admin}                      # shared finance and administration, e.g. CC-S1-FIN
    driver: headcount
    receivers: {kind: [production, service, support, admin]}
  - senders: {kind: support}                    # shared support teams, e.g. CC-S1-SUP1
    driver: headcount
    receivers: {kind: [production, service, admin, support]}
# Warehouse (CC-W1-OPS) and sales (CC-W1-SAL) are distribution and selling costs: not allocated.

# Step-down order: senders matching an earlier selector allocate first (ties: by id). Senders no
# selector matches go last.
step_order:
  - {kind: admin, site_kind: support}           # CC-S1-FIN serves everyone
  - {kind: support}
  - {kind: admin}
  - {kind: service}
"""
