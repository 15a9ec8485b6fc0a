"""Names beside ids: `P1-PACK · Packing P1`, `C-004 · Nordwerk GmbH`. A member of a dimension is shown with
the name its master table gives it (read once per warehouse signature, through the result cache)."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context

from ..core.dimensions import MASTER_TABLES

# dimension → the master table and its key; the table's `name` column names each member
MASTER_NAMES = MASTER_TABLES
ID_COLUMNS = {key: dim for dim, (_, key) in MASTER_NAMES.items()}


def member_names(results) -> dict[str, dict[str, str]]:
    """dimension → member id → name, for every dimension of MASTER_NAMES."""

    def build() -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for dim, (table, key) in MASTER_NAMES.items():
            frame = results.ws.table(table).select(key, "name")
            out[dim] = {str(k): str(n) for k, n in frame.iter_rows() if n is not None and str(n) != str(k)}
        return out

    return results.cache.get(("member_names",), build)


def dimension_of(column: str) -> str | None:
    """The dimension an id column names (`product_id` → product, `work_center` → work_center)."""
    return column if column in MASTER_NAMES else ID_COLUMNS.get(column)


def with_name(member: Any, name: str | None) -> str:
    """`P1-PACK · Packing P1`; the id alone when it has no other name."""
    return f"{member} · {name}" if name else str(member)


@pass_context
def name_of(context, member: Any, dim: str) -> str:
    """Template filter: the master-data name of a member alone (`P1 Pack`), '' when it has none."""
    dimension = dimension_of(dim)
    request = context.get("request")
    if member is None or dimension is None or request is None:
        return ""
    return member_names(request.app.state.opsfin.results).get(dimension, {}).get(str(member), "")


@pass_context
def member_name(context, member: Any, dim: str) -> str:
    """Template filter: `{{ m.work_center | member_name('work_center') }}` → `P1-PACK · Packing P1`."""
    dimension = dimension_of(dim)
    request = context.get("request")
    if member is None or dimension is None or request is None:
        return "" if member is None else str(member)
    names = member_names(request.app.state.opsfin.results)
    return with_name(member, names.get(dimension, {}).get(str(member)))
