"""`model/activities.yaml` (activity-based costing) and `model/allocations.yaml` (service cost
allocations): validation with pydantic (model_schema.py), plus the exact money split both engines share.
The default files are `opsfin/model_defaults/activities.yaml` and `allocations.yaml`.

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
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, field_validator, model_validator

from ..core import money
from ..core.money import round_cents as to_cents  # noqa: F401  (abc and allocations import it from here)
from ..model_schema import DecimalNumber, Entry, Text, scalar_text, validate

ACTIVITIES_FILE = "activities.yaml"
ALLOCATIONS_FILE = "allocations.yaml"

# ------------------------------------------------------------------ exact money split (core/money)


def split_cents(total: Decimal, weights: dict[Any, Any]) -> dict[Any, Decimal]:
    """core/money's `split_cents` of `total` over `weights`, with the keys taken in name order: the parts add
    up to `total` exactly, and a tie goes to the larger weight, then to the smaller key (whatever order the
    warehouse returned the rows in). Parts come back in the order of `weights`."""
    parts = money.split_cents(total, sorted(weights.items(), key=lambda kw: str(kw[0])))
    return {k: parts[k] for k in weights}


# ------------------------------------------------------------------ selectors


def _one_or_many(value: Any) -> Any:
    """A name or a list of names (numbers are names too); None is none."""
    if value is None:
        return []
    return [scalar_text(v) for v in value] if isinstance(value, list | tuple) else [scalar_text(value)]


Names = Annotated[tuple[Text, ...], BeforeValidator(_one_or_many)]
Key = Annotated[Text, BeforeValidator(scalar_text)]


@dataclass(frozen=True)
class Selector:
    ids: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    site_kinds: tuple[str, ...] = ()

    def matches(self, cc: dict[str, Any]) -> bool:
        """`cc` carries cost_center_id, kind, site_id and site_kind."""
        return (
            (not self.ids or cc["cost_center_id"] in self.ids)
            and (not self.patterns or any(fnmatch.fnmatchcase(cc["cost_center_id"], p) for p in self.patterns))
            and (not self.kinds or cc["kind"] in self.kinds)
            and (not self.sites or cc["site_id"] in self.sites)
            and (not self.site_kinds or cc.get("site_kind") in self.site_kinds)
        )


class SelectorSpec(Entry):
    """A cost-centre selector as written: `{kind: service}`, `{pattern: 'CC-*-MNT'}`, or a glob alone."""

    ids: Names = ()
    pattern: Names = ()
    kind: Names = ()
    site: Names = ()
    site_kind: Names = ()

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):  # shorthand: a glob on the id
            return {"pattern": value}
        if value == {} or value is None:
            raise ValueError("expected a cost-centre selector such as {kind: service} or {pattern: 'CC-*-MNT'}")
        return value

    def selector(self) -> Selector:
        return Selector(self.ids, self.pattern, self.kind, self.site, self.site_kind)


def parse_selector(value: Any, where: str) -> Selector:
    """A `Selector` from its YAML value; a mistake is a UserError naming `where`."""
    return validate(SelectorSpec, value, where).selector()


DEFAULT_POOL_ROLES = ("maintenance", "depreciation", "payroll", "opex", "inventory_adjustment")
Roles = Annotated[tuple[Text, ...], BeforeValidator(_one_or_many), Field(min_length=1)]
Weight = Annotated[DecimalNumber, Field(ge=0)]

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


def _activity_driver(spec: Any) -> Any:
    driver = spec.get("driver") if isinstance(spec, dict) else spec
    if driver not in ACTIVITY_DRIVERS:
        raise ValueError(f"unknown driver {driver!r}; drivers are {', '.join(ACTIVITY_DRIVERS)}")
    return driver


class ResourceEntry(Entry):
    """`match` cost centres; their cost goes to activities by timesheet hours or by a fixed split."""

    match: SelectorSpec
    driver: Text | None = None
    split: dict[Key, Weight] | None = None
    fallback: Key | None = None

    @model_validator(mode="after")
    def _driver_or_split(self) -> ResourceEntry:
        if self.split is not None:
            total = sum(self.split.values(), Decimal(0))
            if not self.split or total != 100:
                raise ValueError(
                    f"split: percentages must be ≥ 0 and sum to 100 (they sum to {total}); "
                    f"write {{ACTIVITY: percent, ...}}"
                )
        elif self.driver != "timesheet_hours":
            raise ValueError(
                f"driver {self.driver!r} is not a resource driver; use timesheet_hours, "
                f"or give a fixed split {{ACTIVITY: percent}}"
            )
        return self

    def rule(self) -> ResourceRule:
        if self.split is not None:
            return ResourceRule(self.match.selector(), "split", tuple(self.split.items()))
        return ResourceRule(self.match.selector(), "timesheet_hours", (), self.fallback or None)


class ActivitiesFile(Entry):
    roles: Roles = DEFAULT_POOL_ROLES
    resources: Annotated[list[ResourceEntry], Field(min_length=1)]
    activities: Annotated[dict[Key, Annotated[str, BeforeValidator(_activity_driver)]], Field(min_length=1)]
    traditional: Literal[TRADITIONAL_BASES] = "units"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _activities_named(self) -> ActivitiesFile:
        for r in self.resources:
            for a in [*(r.split or {})] + ([r.fallback] if r.fallback and r.split is None else []):
                if a not in self.activities:
                    raise ValueError(f"resources name activity {a!r}, which has no driver under activities:")
        return self


def parse_abc_config(data: dict[str, Any], where: str = ACTIVITIES_FILE) -> AbcConfig:
    """The ABC configuration of a parsed activities.yaml; a mistake is one UserError naming `where`."""
    f = validate(ActivitiesFile, data, where)
    return AbcConfig(f.roles, tuple(r.rule() for r in f.resources), dict(f.activities), f.traditional, where)


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


class RuleEntry(Entry):
    """Senders' cost goes to receivers by the first driver with a positive total."""

    senders: SelectorSpec
    driver: Annotated[tuple[Text, ...], BeforeValidator(_one_or_many), Field(min_length=1)]
    receivers: SelectorSpec
    same_site: StrictBool = False
    weights: dict[Key, Weight] | None = None

    @field_validator("driver")
    @classmethod
    def _known_drivers(cls, drivers: tuple[str, ...]) -> tuple[str, ...]:
        for d in drivers:
            if d not in ALLOCATION_DRIVERS:
                raise ValueError(f"unknown driver {d!r}; drivers are {', '.join(ALLOCATION_DRIVERS)}")
        return drivers

    @model_validator(mode="after")
    def _fixed_needs_weights(self) -> RuleEntry:
        if "fixed" in self.driver and not self.weights:
            raise ValueError("the fixed driver needs weights {COST_CENTRE_OR_GLOB: weight}")
        return self


class AllocationsFile(Entry):
    roles: Roles = DEFAULT_POOL_ROLES
    rules: Annotated[list[RuleEntry], Field(min_length=1)]
    step_order: Annotated[list[SelectorSpec], BeforeValidator(lambda v: [] if v is None else v)] = []


def parse_allocation_config(data: dict[str, Any], where: str = ALLOCATIONS_FILE) -> AllocationConfig:
    """The allocation rules of a parsed allocations.yaml; a mistake is one UserError naming `where`."""
    f = validate(AllocationsFile, data, where)
    rules = tuple(
        AllocationRule(
            r.senders.selector(),
            r.driver,
            r.receivers.selector(),
            r.same_site,
            tuple((r.weights or {}).items()) if "fixed" in r.driver else (),
        )
        for r in f.rules
    )
    raw = {
        "roles": list(f.roles),
        "rules": data["rules"],
        "step_order": data.get("step_order") or [],
    }
    return AllocationConfig(f.roles, rules, tuple(s.selector() for s in f.step_order), raw, where)
