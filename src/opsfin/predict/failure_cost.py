"""What a breakdown and a planned maintenance cost each machine, priced from the company's own history
(docs/predict.md "Maintenance risk"). Pure: Polars frames and Decimals in, one row per machine out.

An event of a kind costs its parts + its labour hours × the maintenance labour rate + its hours down × the
contribution per run hour of the machine's work centre (the contribution the line does not make while the
machine stands). A machine's cost of a kind is the mean over its own events of that kind when it has at
least MIN_OWN_EVENTS of them, else the mean over every machine's events of that kind (a machine that never
broke down still has a price for breaking down). Money is Decimal, rounded to cents at the end."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from polars._typing import SchemaDict

from ..core.money import round_cents, to_decimal

MIN_OWN_EVENTS = 3
KINDS = ("breakdown", "planned")
COST_SCHEMA: SchemaDict = {
    "machine_id": pl.Utf8,
    "work_center_id": pl.Utf8,
    "breakdown_cost": pl.Decimal(18, 2),
    "breakdown_hours": pl.Float64,
    "planned_maintenance_cost": pl.Decimal(18, 2),
    "contribution_per_hour": pl.Decimal(18, 2),
}


@dataclass(frozen=True)
class EventMeans:
    """The means of a set of events: parts (Decimal), labour hours and hours down."""

    parts: Decimal
    labor_hours: Decimal
    hours_down: Decimal

    def priced(self, labor_rate: Decimal, contribution_per_hour: Decimal) -> Decimal:
        return self.parts + self.labor_hours * labor_rate + self.hours_down * contribution_per_hour


def _means(rows: pl.DataFrame) -> EventMeans:
    n = Decimal(rows.height)
    parts = sum((to_decimal(v) for v in rows["parts_cost"]), Decimal(0))
    labor = sum((to_decimal(v) for v in rows["labor_hours"]), Decimal(0))
    seconds = sum(
        (to_decimal((e - s).total_seconds()) for s, e in zip(rows["start_at"], rows["end_at"], strict=True)), Decimal(0)
    )
    return EventMeans(parts / n, labor / n, seconds / 3600 / n)


def event_means(events: pl.DataFrame, machines: list[str], kind: str) -> dict[str, EventMeans]:
    """Per machine, the means of its events of `kind` (its own with MIN_OWN_EVENTS or more, else the
    company's); a machine is left out when the company has no event of that kind."""
    of_kind = events.filter(pl.col("kind") == kind)
    if of_kind.is_empty():
        return {}
    company = _means(of_kind)
    own = {str(m): _means(rows) for (m,), rows in of_kind.group_by("machine_id") if rows.height >= MIN_OWN_EVENTS}
    return {m: own.get(m, company) for m in machines}


def machine_costs(
    events: pl.DataFrame,
    machines: pl.DataFrame,
    labor_rate: Decimal,
    contribution_per_hour: dict[str, Decimal],
) -> pl.DataFrame:
    """One row per machine (`machines`: machine_id, work_center_id): what a breakdown costs it, its mean
    hours down in a breakdown, what a planned maintenance costs it and its work centre's contribution per
    run hour. `events`: machine_id, kind, start_at, end_at, parts_cost, labor_hours (finished events only).
    A cost is null when the company has no event of that kind."""
    ids = [str(m) for m in machines["machine_id"]]
    breakdown, planned = (event_means(events, ids, kind) for kind in KINDS)
    rows = []
    for m, wc in zip(ids, machines["work_center_id"], strict=True):
        per_hour = contribution_per_hour.get(wc, Decimal(0))
        b, p = breakdown.get(m), planned.get(m)
        rows.append(
            (
                m,
                wc,
                round_cents(b.priced(labor_rate, per_hour)) if b else None,
                float(b.hours_down) if b else None,
                round_cents(p.priced(labor_rate, per_hour)) if p else None,
                round_cents(per_hour),
            )
        )
    return pl.DataFrame(rows, schema=COST_SCHEMA, orient="row")
