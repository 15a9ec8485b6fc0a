"""Dimensions: the members a row can be split and filtered by, and the one declaration of how each
kind of row reaches them (docs/kpis.md "Dimensions and how rows reach them").

A row follows its own id column first (`OWN`), then hops through master data: `machine → work_center`
(the `machines` table), `work_center → site` (`work_centers`), and so on. `REACH` lists, for each
source of rows the engines read, the hops to each dimension it carries; the KPI engine and costing build
their joins from it (`reach` in core/dimension_joins.py) and `SiteMap` follows the same hops to find the
site of a member. An engine that splits by a subset of `DIMENSIONS` declares it with `supported_dims`
and checks its `--by` with `check_dim` / `parse_by`, so every engine words the error the same.

Also here: the site scope (`SITE_DIMS`, `SiteMap`: member → site, from master-data frames) and the
`where` filter (`site=P1,P2`) the CLI and the web both parse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import polars as pl
import pyarrow as pa

from ..errors import UserError

#: Dimensions are the canonical id columns without `_id`, plus `family` (from products.family).
DIMENSIONS = (
    "site",
    "work_center",
    "machine",
    "shift",
    "product",
    "family",
    "customer",
    "supplier",
    "cost_center",
)

#: each dimension with a master table → (that table, its key column): where its members and their names are
MASTER_TABLES: dict[str, tuple[str, str]] = {
    "product": ("products", "product_id"),
    "customer": ("customers", "customer_id"),
    "supplier": ("suppliers", "supplier_id"),
    "work_center": ("work_centers", "work_center_id"),
    "machine": ("machines", "machine_id"),
    "cost_center": ("cost_centers", "cost_center_id"),
    "shift": ("shifts", "shift_id"),
    "site": ("sites", "site_id"),
}


@dataclass(frozen=True)
class Hop:
    """One step through master data: the row's `via` column matches `table.key`; the row gains
    `table.column` under the name `to`. `how`: `inner` drops rows without a match, `left` keeps them
    with a null, `clock` is the shift of a site whose [start_time, start_time + hours) holds the row's time."""

    via: str
    table: str
    key: str
    column: str
    to: str
    how: Literal["inner", "left", "clock"] = "inner"


MACHINE_WORK_CENTER = Hop("machine", "machines", "machine_id", "work_center_id", "work_center")
WORK_CENTER_SITE = Hop("work_center", "work_centers", "work_center_id", "site_id", "site")
COST_CENTER_SITE = Hop("cost_center", "cost_centers", "cost_center_id", "site_id", "site")
SHIFT_SITE = Hop("shift", "shifts", "shift_id", "site_id", "site")
EMPLOYEE_SITE = Hop("employee_id", "employees", "employee_id", "site_id", "site")
PRODUCT_FAMILY = Hop("product", "products", "product_id", "family", "family")
ORDER_SITE = Hop("order_id", "production_orders", "order_id", "site_id", "site")
ORDER_PRODUCT = Hop("order_id", "production_orders", "order_id", "product_id", "product")
OPERATION_WORK_CENTER = Hop("operation_id", "operations", "operation_id", "work_center_id", "work_center", "left")
OPERATION_MACHINE = Hop("operation_id", "operations", "operation_id", "machine_id", "machine", "left")
OPERATION_SHIFT = Hop("operation_id", "operations", "operation_id", "shift_id", "shift", "left")
SITE_SHIFT_BY_CLOCK = Hop("site", "shifts", "site_id", "shift_id", "shift", "clock")

Path = tuple[Hop, ...]
OWN: Path = ()  # the row carries the member in its own column

_MACHINE_SITE: Path = (MACHINE_WORK_CENTER, WORK_CENTER_SITE)

#: source of rows → dimension → the hops from the row to that dimension (docs/kpis.md lists the same)
REACH: dict[str, dict[str, Path]] = {
    "machine_readings": {
        "machine": OWN,
        "work_center": (MACHINE_WORK_CENTER,),
        "site": _MACHINE_SITE,
        "shift": (*_MACHINE_SITE, SITE_SHIFT_BY_CLOCK),
    },
    "operations": {
        "work_center": OWN,
        "machine": OWN,
        "shift": OWN,
        "site": (WORK_CENTER_SITE,),
        "product": (ORDER_PRODUCT,),
        "family": (ORDER_PRODUCT, PRODUCT_FAMILY),
    },
    "production_output": {"site": OWN, "product": OWN, "family": (PRODUCT_FAMILY,)},
    "quality_inspections": {
        "site": (ORDER_SITE,),
        "product": (ORDER_PRODUCT,),
        "family": (ORDER_PRODUCT, PRODUCT_FAMILY),
        "work_center": (OPERATION_WORK_CENTER,),
        "machine": (OPERATION_MACHINE,),
        "shift": (OPERATION_SHIFT,),
    },
    "timesheets": {"cost_center": OWN, "work_center": OWN, "shift": OWN, "site": (EMPLOYEE_SITE,)},
    "support_tickets": {"cost_center": OWN, "customer": OWN, "site": (COST_CENTER_SITE,)},
    "warehouse_tasks": {"site": OWN},
    "shipments": {"site": OWN, "customer": OWN, "product": OWN, "family": (PRODUCT_FAMILY,)},
    "gl_entries": {"cost_center": OWN, "site": (COST_CENTER_SITE,)},
    "maintenance_events": {
        "machine": OWN,
        "work_center": (MACHINE_WORK_CENTER,),
        "site": _MACHINE_SITE,
    },
    "goods_receipts": {"supplier": OWN, "site": OWN, "product": OWN, "family": (PRODUCT_FAMILY,)},
    "receipt_allocations": {"customer": OWN},
    # read by costing (order costs, unit economics, the variance bridge), not by a KPI
    "production_orders": {"site": OWN, "product": OWN, "family": (PRODUCT_FAMILY,)},
    "ar_invoice_lines": {"customer": OWN, "product": OWN, "family": (PRODUCT_FAMILY,)},
}

#: Dimensions whose members belong to one site, and the hops from a member to its site. The other
#: dimensions (customer, supplier, product, family) span sites: their rows are company-level.
SITE_PATHS: dict[str, Path] = {
    "site": OWN,
    "work_center": (WORK_CENTER_SITE,),
    "machine": _MACHINE_SITE,
    "cost_center": (COST_CENTER_SITE,),
    "shift": (SHIFT_SITE,),
}
SITE_DIMS = tuple(SITE_PATHS)
#: the id column a raw record names a site-bearing member by (`site_id` → site, …)
ID_COLUMNS = {f"{dim}_id": dim for dim in SITE_DIMS}
#: master-data tables a `SiteMap` is built from
SITE_MAP_TABLES = ("sites", "work_centers", "machines", "cost_centers", "shifts")


def dims_of(source: str) -> frozenset[str]:
    """The dimensions rows of `source` carry."""
    return frozenset(REACH[source])


def hops_for(source: str, dims: Iterable[str]) -> list[Hop]:
    """The hops rows of `source` take to reach `dims`, each once, every hop after the hops it needs."""
    out: list[Hop] = []
    for dim in DIMENSIONS:
        if dim in dims:
            out.extend(h for h in REACH[source].get(dim, OWN) if h not in out)
    return sorted(out, key=lambda h: _depth(REACH[source], h))


def _depth(paths: Mapping[str, Path], hop: Hop) -> int:
    return max(path.index(hop) for path in paths.values() if hop in path)


# ------------------------------------------------------------------------------------------ --by choices
def supported_dims(*dims: str) -> tuple[str, ...]:
    """The dimensions an engine splits by, in its order: a subset of `DIMENSIONS` (another name is a bug)."""
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"not dimensions of core/dimensions.py: {', '.join(unknown)}")
    return dims


def check_dim(dim: str, supported: tuple[str, ...], engine: str) -> str:
    """One `--by` dimension, checked against the ones `engine` splits by (a UserError otherwise)."""
    if dim not in supported:
        raise UserError(
            f"choose one of {', '.join(supported)} (the dimensions {engine} splits by)",
            param="by",
            value=dim,
        )
    return dim


def parse_by(by: str | Iterable[str] | None, supported: tuple[str, ...], engine: str) -> list[str]:
    """`--by` dimensions (comma-separated text or a list; blanks skipped), each one `engine` splits by,
    none twice; [] for None or nothing."""
    items = [b.strip() for b in (by.split(",") if isinstance(by, str) else by or []) if b and b.strip()]
    for b in items:
        check_dim(b, supported, engine)
    if len(set(items)) != len(items):
        raise UserError("{param} " + ",".join(items) + ": a dimension is named twice", param="by")
    return items


# ------------------------------------------------------------------------------------------ site scope
Frame: TypeAlias = pl.DataFrame | pa.Table  # a table of master data, Polars or Arrow


def _rows(frame: Frame, key: str, value: str) -> list[tuple[Any, Any]]:
    df = frame if isinstance(frame, pl.DataFrame) else pl.DataFrame(pl.from_arrow(frame))
    return list(df.select(key, value).iter_rows())


def _pairs(frame: Frame, key: str, value: str) -> dict[str, str]:
    """key → value of a master table, leaving out rows where either is missing."""
    return {str(k): str(v) for k, v in _rows(frame, key, value) if k is not None and v is not None}


@dataclass(frozen=True)
class SiteMap:
    """Which site each member of a site-bearing dimension belongs to (master data, `SITE_PATHS`)."""

    members: dict[str, dict[str, str]]  # dim -> member -> site
    sites: dict[str, str]  # site id -> name, in the order of the sites table given
    shift_names: dict[str, str]  # shift id -> name (Early, Late…)

    @classmethod
    def from_frames(cls, frames: Mapping[str, Frame]) -> SiteMap:
        """From the master-data tables `SITE_MAP_TABLES` (Polars or Arrow), by the hops of `SITE_PATHS`."""
        sites = {str(s): str(n if n is not None else s) for s, n in _rows(frames["sites"], "site_id", "name")}
        lookups = {h: _pairs(frames[h.table], h.key, h.column) for path in SITE_PATHS.values() for h in path}
        members: dict[str, dict[str, str]] = {"site": {s: s for s in sites}}
        for dim, path in SITE_PATHS.items():
            if not path:
                continue
            reached = dict(lookups[path[0]])
            for hop in path[1:]:
                reached = {m: lookups[hop][v] for m, v in reached.items() if v in lookups[hop]}
            members[dim] = reached
        return cls(members, sites, _pairs(frames["shifts"], "shift_id", "name"))

    @classmethod
    def read(cls, table: Callable[[str], Frame]) -> SiteMap:
        """From a reader of whole tables by name (a workspace's `table`, an Ibis backend's `to_pyarrow`…)."""
        return cls.from_frames({name: table(name) for name in SITE_MAP_TABLES})

    def site_of(self, dim: str, member: Any) -> str | None:
        """The site of one member (a site is its own), None when the member or dimension has none."""
        if member is None:
            return None
        if dim == "site":
            return str(member)
        return self.members.get(dim, {}).get(str(member))

    def check_scope(self, sites: Iterable[str] | None) -> tuple[str, ...] | None:
        """The sites of a scoped view, checked against the sites table (None: company level)."""
        if sites is None:
            return None
        scope = tuple(dict.fromkeys(str(s).strip() for s in sites if str(s).strip()))
        if not scope:
            raise UserError("name at least one site (or leave it out for the company pack)", param="sites")
        unknown = [s for s in scope if s not in self.sites]
        if unknown:
            raise UserError(
                f"unknown site {', '.join(unknown)}; the sites are "
                f"{', '.join(self.sites) or 'none (load the sites table)'}",
                param="sites",
            )
        return scope

    def sites_of(self, members: Mapping[str, Iterable[str | None]]) -> set[str | None] | None:
        """The sites rows with these members belong to (None in the set for a member no site owns);
        None when no member is of a site-bearing dimension (a company-level or cross-site row)."""
        found: set[str | None] = set()
        named = False
        for dim, values in members.items():
            if dim in SITE_PATHS:
                for v in values:
                    named = True
                    found.add(self.site_of(dim, v))
        return found if named else None

    def sites_of_scope(self, scope: Mapping[str, Any]) -> frozenset[str] | None:
        """The sites an alert scope (dim -> member, members may be 'a,b') names; None when it names
        none or a member of unknown site (not provably one of the user's sites)."""
        found = self.sites_of({d: [m.strip() for m in str(v).split(",")] for d, v in scope.items()})
        if not found or None in found:
            return None
        return frozenset(s for s in found if s is not None)

    def sites_of_record(self, record: Mapping[str, Any] | None) -> frozenset[str] | None:
        """The site a raw (quarantined) record names: its site_id, else the site of a work centre,
        machine, cost centre or shift it names; None when it names none."""
        for column, dim in ID_COLUMNS.items():
            value = (record or {}).get(column)
            site = None if value in (None, "") else self.site_of(dim, value)
            if site is not None:
                return frozenset({site})
        return None

    def visible(self, members: Mapping[str, Iterable[str | None]], scope: tuple[str, ...] | None) -> bool:
        """Whether a row with these members may be shown in a view of `scope` (None: every row)."""
        if scope is None:
            return True
        sites = self.sites_of(members)
        return sites is not None and None not in sites and sites <= set(scope)

    def site_text(self, members: Mapping[str, Iterable[str | None]]) -> str | None:
        """The sites of a row as `P1,P2` (None when it has none)."""
        sites = self.sites_of(members) or set()
        return ",".join(sorted(s for s in sites if s)) or None


# ------------------------------------------------------------------------------------------ where
_SQL_MARKS = ("'", '"', "(", ")", "==", "!=", "<", ">", " in ", " IN ")


def parse_where(items: Iterable[str] | None) -> dict[str, list[str]]:
    """`site=P1,P2` filters (one dimension per item; repeat for several) → {dim: [members]}.

    A UserError (parameter `where`: `--where` on the command line, `where` in the API) for an item
    without `DIM=VALUE` and for SQL (`site='P1'`, `site IN (…)`), naming the item and the right form."""
    out: dict[str, list[str]] = {}
    for item in items or []:
        named = "{param} " + repr(item)
        if any(mark in item for mark in _SQL_MARKS):
            raise UserError(
                named + ": write DIM=VALUE without quotes or SQL, several values with commas (e.g. {param} site=P1,P2)",
                param="where",
                value=item,
            )
        dim, sep, value = item.partition("=")
        members = [v.strip() for v in value.split(",") if v.strip()]
        if not sep or not dim.strip() or not members:
            raise UserError(
                named + ": use DIM=VALUE (e.g. {param} site=P1); repeat for several",
                param="where",
                value=item,
            )
        out.setdefault(dim.strip(), []).extend(members)
    return out
