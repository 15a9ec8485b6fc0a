"""Reading a plan version back (`opsfin plan show`, docs/planning.md "Showing and comparing"): its P&L,
capacity, balances or cash rows, by site or for the company, and side by side with another version or
with the actuals.

- `pnl`: plan_pnl; without `by_site` one row per month and line (the sites summed).
- `capacity`: plan_capacity, per work centre and month.
- `balances`: plan_balances' month-end balances (every role but the cash-flow ones); `cash`: its cash-flow
  roles (`cash_in`, `cash_out`, `net_cash_flow`, any role starting with `cash`).
- `vs`: a version adds `vs` (its value on the same key) and `delta` (this version's minus it), over this
  version's months; within a month the other has rows for, a key only one side has counts 0 on the other;
  a month the other has no rows for has `vs` and `delta` null (nothing to compare with). A version with volumes but no stored P&L (an approved budget
  never built as a plan) is computed for the comparison, not stored. `actual` is the books' P&L for the
  same months, as `plan build --volumes actual` computes it (P&L only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ..canonical.tables import PLAN_PNL_LINES
from ..errors import UserError
from ..planning.balances import ROLES as BALANCE_ROLES
from ..planning.volumes import ACTUAL, MONEY

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

WHATS = ("pnl", "capacity", "balances", "cash")
TABLE_OF = {"pnl": "plan_pnl", "capacity": "plan_capacity", "balances": "plan_balances", "cash": "plan_balances"}
#: the column --vs compares, per what
VALUE_OF = {"pnl": "amount", "capacity": "required_hours", "balances": "amount", "cash": "amount"}
CASH_ROLE_PREFIXES = ("cash", "net_cash")


@dataclass(frozen=True)
class PlanView:
    """What `plan show` prints: the rows (the table's columns, plus `vs` and `delta` with a comparison)."""

    version: str
    what: str
    vs: str | None
    rows: pl.DataFrame


def check_what(what: str) -> str:
    if what not in WHATS:
        raise UserError("{param} " + f"{what!r}: choose {', '.join(WHATS)}", param="what", value=what)
    return what


def stored_rows(ws: WorkspaceFolder, version: str, what: str) -> pl.DataFrame:
    """The version's rows of the table behind `what`, without `_load_id`; empty when it has none."""
    name = TABLE_OF[what]
    with ws.connect(read_only=True) as con:
        present = con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
        if not present:
            return pl.DataFrame()
        data = con.sql(
            f'SELECT * EXCLUDE (_load_id) FROM "{name}" WHERE version = ?', params=[version]
        ).to_arrow_table()
    frame = pl.from_arrow(data)
    assert isinstance(frame, pl.DataFrame)
    frame = _in_order(frame, what)
    if what in ("balances", "cash"):
        cash = pl.col("role").str.starts_with(CASH_ROLE_PREFIXES[0]) | pl.col("role").str.starts_with(
            CASH_ROLE_PREFIXES[1]
        )
        frame = frame.filter(cash if what == "cash" else ~cash)
    return frame


def _in_order(frame: pl.DataFrame, what: str) -> pl.DataFrame:
    """Rows by month, then site (no site last) and line in statement order; work centre; role in the
    engine's order (planning.balances.ROLES)."""
    if what == "pnl":
        order = {line: i for i, line in enumerate(PLAN_PNL_LINES)}
        frame = frame.with_columns(_o=pl.col("line").replace_strict(order, default=len(order), return_dtype=pl.Int32))
        keys = ["period", "site_id", "_o"] if "site_id" in frame.columns else ["period", "_o"]
        return frame.sort(keys, nulls_last=True).drop("_o")
    if what == "capacity":
        return frame.sort("period", "work_center_id")
    order = {role: i for i, role in enumerate(BALANCE_ROLES)}  # the engine's order: balances, then cash
    frame = frame.with_columns(_o=pl.col("role").replace_strict(order, default=len(order), return_dtype=pl.Int32))
    return frame.sort("period", "_o", "role").drop("_o")


def _company(frame: pl.DataFrame, what: str, by_site: bool) -> pl.DataFrame:
    """P&L rows summed over the sites unless `by_site`; other tables as they are."""
    if what != "pnl" or by_site or frame.is_empty():
        return frame
    order = frame.select("line").unique(maintain_order=True)
    summed = frame.group_by("version", "period", "line", maintain_order=True).agg(pl.col("amount").sum().cast(MONEY))
    return summed.join(order.with_row_index("_o"), on="line").sort("period", "_o").drop("_o")


def show_plan(
    ws: WorkspaceFolder, version: str, what: str = "pnl", vs: str | None = None, by_site: bool = False
) -> PlanView:
    """The rows of `version` for `what`, compared with `vs` when given (module docstring)."""
    check_what(what)
    if by_site and what != "pnl":
        raise UserError("--by site splits the P&L (--what pnl); capacity is per work centre, balances per company")
    mine = stored_rows(ws, version, what)
    if mine.is_empty():
        raise UserError(
            "{param} "
            + f"{version!r} has no {TABLE_OF[what]} rows"
            + (" with cash-flow roles" if what == "cash" else ""),
            param="version",
            value=version,
            hint=f"build it: opsfin plan build --version {version} --volumes VERSION|actual",
        )
    rows = _company(mine, what, by_site)
    if vs is None:
        return PlanView(version, what, None, rows)
    months = sorted(set(mine["period"].to_list()))
    other = _company(_comparison(ws, vs, what, months), what, by_site)
    return PlanView(version, what, vs, _side_by_side(rows, other, what))


def _comparison(ws: WorkspaceFolder, vs: str, what: str, months: list[dt.date]) -> pl.DataFrame:
    """The rows `vs` is compared with: the actuals' P&L, a stored version's rows, or the P&L of a version's
    volumes computed for the occasion."""
    if vs == ACTUAL:
        if what != "pnl":
            raise UserError("--vs actual compares the P&L (--what pnl): the books hold no plan capacity or balances")
        return _computed_pnl(ws, ACTUAL, months, ACTUAL)
    stored = stored_rows(ws, vs, what)
    if not stored.is_empty():
        return stored
    if what == "pnl" and _has_volumes(ws, vs):
        return _computed_pnl(ws, vs, months, vs)
    raise UserError(
        "{param} " + f"{vs!r} has no {TABLE_OF[what]} rows to compare with",
        param="vs",
        value=vs,
        hint=f"build it first: opsfin plan build --version NAME --volumes {vs}",
    )


def _has_volumes(ws: WorkspaceFolder, version: str) -> bool:
    with ws.connect(read_only=True) as con:
        return con.execute("SELECT 1 FROM volume_plan WHERE version = ? LIMIT 1", [version]).fetchone() is not None


def _computed_pnl(ws: WorkspaceFolder, source: str, months: list[dt.date], label: str) -> pl.DataFrame:
    from .planning import compute_pnl

    pnl = compute_pnl(ws, source, months)
    return pnl.with_columns(version=pl.lit(label)).select("version", *pnl.columns)


def _side_by_side(mine: pl.DataFrame, other: pl.DataFrame, what: str) -> pl.DataFrame:
    """`mine` with `vs` (the other's value on the same key) and `delta`, over `mine`'s months; keys of one
    side only count 0; months `other` has no rows for have `vs` and `delta` null."""
    value = VALUE_OF[what]
    keys = [c for c in mine.columns if c not in ("version", *_measures(what))]
    covered = other["period"].unique().to_list()
    theirs = other.filter(pl.col("period").is_in(mine["period"].unique().to_list()))
    theirs = theirs.select(*keys, pl.col(value).alias("vs"))
    joined = mine.join(theirs, on=keys, how="full", coalesce=True, nulls_equal=True)
    version = mine["version"][0]
    zero = pl.lit(0, dtype=mine.schema[value])
    joined = joined.with_columns(
        pl.col("version").fill_null(version),
        pl.col(value).fill_null(zero),
        pl.col("vs").cast(mine.schema[value]).fill_null(zero),
    )
    compared = pl.col("period").is_in(covered)
    joined = joined.with_columns(pl.when(compared).then(pl.col("vs")).otherwise(None).alias("vs"))
    joined = joined.with_columns(delta=pl.col(value) - pl.col("vs"))
    joined = _in_order(joined, what)
    if value == "amount":
        joined = joined.with_columns(pl.col("vs").cast(MONEY), pl.col("delta").cast(MONEY))
    return joined.select("version", *[c for c in mine.columns if c != "version"], "vs", "delta")


def _measures(what: str) -> tuple[str, ...]:
    if what == "capacity":
        return ("required_hours", "available_hours", "utilization", "overtime_hours")
    return ("amount",)
