"""The actual conversion pools of each month and their split over the operations that ended in it
(docs/unit-economics.md): labor by work centre, energy by cost centre and machine, variable and fixed overhead
by cost centre. Used by order_costs.py.

The pools are a few thousand and stay in Python as Decimals; the operations are tens of thousands, so the
splits run on one Polars frame per component (`core.money_frames.split_pools`: the cent splitter of
core/money.py, pool by pool, with the same result to the cent). Each pool's carriers are given in
operation_id order, the splitter's tie order."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import polars as pl

from ..core.money import round_cents, split_cents, timesheet_pay
from ..core.money_frames import split_pools
from . import reads

ZERO = Decimal("0.00")
#: a split's rows: pool, operation, cents, and the operation's order and month (carried along, not joined later)
PARTS: dict[str, Any] = {
    "_pool": pl.Int64,
    "operation_id": pl.Utf8,
    "cents": pl.Int64,
    "order_id": pl.Utf8,
    "month": pl.Date,
}


def cents_of(amount: Decimal) -> int:
    """A money amount as whole cents (half-even to the cent first, as `split_cents` does)."""
    return int(round_cents(amount).scaleb(2))


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class Book:
    """The pools of the months in the order they are made, and the cents each gives its operations."""

    def __init__(self) -> None:
        self.pools: list[dict[str, Any]] = []
        self.parts: list[pl.DataFrame] = []  # component, operation_id, cents, order_id, month (per pool and operation)

    def add(self, component: str, key: dict[str, Any], parts: pl.DataFrame, basis: list[str]) -> None:
        """Pools `key` (month, pool_type, pool_id, one per row of `parts`' `_pool` numbering) and their parts."""
        assigned = dict(parts.group_by("_pool").agg(pl.col("cents").sum()).iter_rows()) if parts.height else {}
        for i, (month, pool_type, pool_id, total) in enumerate(
            zip(key["month"], key["pool_type"], key["pool_id"], key["amount"], strict=True)
        ):
            got = money(assigned.get(i, 0))
            self.pools.append(
                {
                    "month": month,
                    "component": component,
                    "pool_type": pool_type,
                    "pool_id": pool_id,
                    "amount": total,
                    "assigned": got,
                    "unassigned": total - got,
                    "basis": basis[i],
                }
            )
        self.parts.append(parts.select(pl.lit(component).alias("component"), *list(PARTS)[1:]))


def _pool_frame(keys: list[tuple], amounts: list[Decimal], names: tuple[str, str]) -> pl.DataFrame:
    """Pools numbered 0… with their two key columns (`names`, e.g. work centre and month) and total cents."""
    return pl.DataFrame(
        {
            "_pool": list(range(len(keys))),
            names[0]: [k[0] for k in keys],
            names[1]: [k[1] for k in keys],
            "_total": [cents_of(a) for a in amounts],
        },
        schema={"_pool": pl.Int64, names[0]: pl.Utf8, names[1]: pl.Date, "_total": pl.Int64},
    )


def _split(pools: pl.DataFrame, ops: pl.DataFrame, on: list[str], weight: pl.Expr) -> pl.DataFrame:
    """Each pool's cents over its operations (those matching it `on`), by `weight`, to the cent. `ops` come in
    operation_id order (`reads.operations`): the join keeps it, and a stable sort by pool keeps it in each pool."""
    shares = pools.join(ops, on=on, how="inner", maintain_order="right").sort("_pool", maintain_order=True)
    shares = shares.with_columns(_weight=weight)
    return split_pools(shares, "_pool", "_weight", "_total").select(list(PARTS))


def assign_labor(labor_rows: list[dict[str, Any]], ops: pl.DataFrame, book: Book) -> None:
    """Timesheets booked to each work centre → its operations by labor minutes (run minutes if none)."""
    labor: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    pay: dict[tuple, Decimal] = {}  # timesheet rows alike pay the same: each shape priced once
    for r in labor_rows:  # rows alike within a work centre and month, `n` of them
        shape = (r["regular_hours"], r["overtime_hours"], r["hourly_rate"], r["overtime_multiplier"])
        if shape not in pay:
            pay[shape] = timesheet_pay(*shape)
        labor[(r["work_center_id"], r["month"])] += pay[shape] * r["n"]
    keys = sorted(labor)
    pools = _pool_frame(keys, [labor[k] for k in keys], ("work_center_id", "month"))
    has_labor = (pl.col("labor_minutes") > 0).any().over("_pool")
    weight = pl.when(has_labor).then(pl.col("labor_minutes")).otherwise(pl.col("run_minutes"))
    parts = _split(pools, ops, ["work_center_id", "month"], weight)
    carriers = pools.join(ops, on=["work_center_id", "month"], how="inner").group_by("_pool")
    kinds = carriers.agg(labor=(pl.col("labor_minutes") > 0).any(), run=(pl.col("run_minutes") > 0).any())
    kind = {r["_pool"]: r for r in kinds.iter_rows(named=True)}

    def basis(i: int) -> str:
        k = kind.get(i)
        return "labor_minutes" if k and k["labor"] else "run_minutes" if k and k["run"] else "none"

    book.add(
        "labor",
        {
            "month": [m for _, m in keys],
            "pool_type": ["work_center"] * len(keys),
            "pool_id": [wc for wc, _ in keys],
            "amount": [labor[k] for k in keys],
        },
        parts,
        [basis(i) for i in range(len(keys))],
    )


def assign_energy(kwh_rows: list[dict[str, Any]], gl: dict[tuple, Decimal], ops: pl.DataFrame, book: Book) -> None:
    """The energy bill of each cost centre → its machines by kWh → their operations by run minutes; with no
    bill, each machine's kWh × the site's standard price. An idle machine's share goes to the cost centre's
    operations."""
    cc_kwh: dict[tuple, list] = defaultdict(list)
    for r in kwh_rows:
        cc_kwh[(r["cost_center_id"], r["month"])].append(r)
    billed = {(cc, m) for (cc, m, role) in gl if role == "energy"}
    keys = sorted(set(cc_kwh) | billed)
    machine_pools: list[tuple[int, str, dt.date, Decimal]] = []  # (cost centre pool, machine, month, cost)
    left: list[Decimal] = []
    totals: list[Decimal] = []
    bases: list[str] = []
    for i, (cc, month) in enumerate(keys):
        machines = cc_kwh.get((cc, month), [])
        if (cc, month) in billed:
            bill = gl[(cc, month, "energy")]
            weights = [(r["machine_id"], r["kwh"]) for r in machines if r["kwh"] is not None and r["kwh"] > 0]
            machine_cost = split_cents(bill, weights) if weights else {}
            left.append(bill - sum(machine_cost.values(), ZERO))
            totals.append(bill)
            bases.append("bill/kwh")
        else:  # no bill: kWh × the site's standard price
            machine_cost = {
                r["machine_id"]: round_cents(Decimal(str(r["kwh"])) * r["std_energy_price"]) for r in machines
            }
            left.append(ZERO)
            totals.append(sum(machine_cost.values(), ZERO))
            bases.append("std_price")
        machine_pools += [(i, m_id, month, cost) for m_id, cost in machine_cost.items()]
    by_machine = pl.DataFrame(
        {
            "_pool": list(range(len(machine_pools))),
            "_cc_pool": [p[0] for p in machine_pools],
            "machine_id": [p[1] for p in machine_pools],
            "month": [p[2] for p in machine_pools],
            "_total": [cents_of(p[3]) for p in machine_pools],
        },
        schema={"_pool": pl.Int64, "_cc_pool": pl.Int64, "machine_id": pl.Utf8, "month": pl.Date, "_total": pl.Int64},
    )
    machine_parts = _split(by_machine, ops, ["machine_id", "month"], pl.col("run_minutes"))
    ran = set(machine_parts["_pool"].unique().to_list())
    for j, (i, _, _, cost) in enumerate(machine_pools):
        if j not in ran:  # machine idle all month: its energy goes to the cost centre's operations
            left[i] += cost
    rest = [i for i in range(len(keys)) if left[i]]
    extra = _pool_frame([keys[i] for i in rest], [left[i] for i in rest], ("cost_center_id", "month"))
    extra_parts = _split(extra, ops, ["cost_center_id", "month"], pl.col("run_minutes"))
    cc_of_machine = by_machine.select("_pool", pl.col("_cc_pool"))
    parts = pl.concat(
        [
            machine_parts.join(cc_of_machine, on="_pool").select(pl.col("_cc_pool").alias("_pool"), *list(PARTS)[1:]),
            extra_parts.with_columns(
                pl.col("_pool").replace_strict(list(range(len(rest))), rest, return_dtype=pl.Int64)
            ),
        ]
    )
    parts = parts.group_by(["_pool", "operation_id"], maintain_order=True).agg(
        pl.col("cents").sum(), pl.col("order_id", "month").first()
    )
    book.add(
        "energy",
        {
            "month": [m for _, m in keys],
            "pool_type": ["cost_center"] * len(keys),
            "pool_id": [cc for cc, _ in keys],
            "amount": totals,
        },
        parts,
        bases,
    )


def assign_overheads(gl: dict[tuple, Decimal], ops: pl.DataFrame, book: Book) -> None:
    """Variable / fixed overhead of each production cost centre → its operations by run minutes (machine hours),
    in (cost centre, month, role) order."""
    for role in ("variable_overhead", "fixed_overhead"):
        keys = sorted(k for k in gl if k[2] == role)
        pools = _pool_frame([(cc, m) for cc, m, _ in keys], [gl[k] for k in keys], ("cost_center_id", "month"))
        parts = _split(pools, ops, ["cost_center_id", "month"], pl.col("run_minutes"))
        ran = set(parts["_pool"].unique().to_list())
        book.add(
            role,
            {
                "month": [m for _, m, _ in keys],
                "pool_type": ["cost_center"] * len(keys),
                "pool_id": [cc for cc, _, _ in keys],
                "amount": [gl[k] for k in keys],
            },
            parts,
            ["run_minutes" if i in ran else "none" for i in range(len(keys))],
        )


def conversion(t: Any, months: list[dt.date] | None) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """The conversion pools of `months` (all if None) and their split: (parts, pools). `parts` has one row per
    pool and operation: component, operation_id, order_id, month, cents (Int64); `pools` as `cost_pools`."""
    ops = reads.operations(t, months)
    book = Book()
    assign_labor(reads.labor_rows(t, months), ops, book)
    gl = {(r["cost_center_id"], r["month"], r["role"]): r["amount"] for r in reads.gl_pools(t, months)}
    assign_energy(reads.machine_kwh(t, months), gl, ops, book)
    assign_overheads(gl, ops, book)
    columns = {"component": pl.Utf8, **{c: dtype for c, dtype in PARTS.items() if c != "_pool"}}
    parts = pl.concat(book.parts) if book.parts else pl.DataFrame(schema=columns)
    return parts, _ordered_pools(book.pools)


def _ordered_pools(pools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pools in the order they were always listed: labor, energy, then the overheads in (cost centre, month,
    role) order."""
    rank = {"labor": 0, "energy": 1}
    return sorted(
        pools,
        key=lambda p: (
            rank.get(p["component"], 2),
            (p["pool_id"], p["month"], p["component"]) if p["component"] not in rank else (),
        ),
    )
