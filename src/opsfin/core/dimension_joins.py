"""The joins that take rows to their dimensions, built from the one declaration (`REACH` in
core/dimensions.py; docs/kpis.md "Dimensions and how rows reach them").

Every engine that splits rows by a dimension reaches it here: the KPI engine (kpis/sources.py) and
costing (costing/reads.py, costing/variance/reads.py). The rows are an Ibis table whose columns are
named by dimension (`product`, `site`, …); `reach` adds the columns of the asked dimensions.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

from .dimensions import Hop, hops_for

Tables = Callable[[str], ir.Table]  # a warehouse table by name


def reach(t: Tables, rel: ir.Table, source: str, dims: frozenset[str] | set[str], keep_rows: bool = False) -> ir.Table:
    """Join the master data that takes rows of `source` to `dims` (core/dimensions.py `REACH`). Hops
    through the same table and key are one join; a `clock` hop finds the shift from `_ts`.

    A hop drops a row whose key the master table does not hold (an `inner` hop) unless `keep_rows`:
    then every hop keeps it with an empty member, as costing does (a cost is never dropped)."""
    joins: dict[tuple[str, str, str, str], list[Hop]] = {}
    for hop in hops_for(source, dims):
        joins.setdefault((hop.via, hop.table, hop.key, hop.how), []).append(hop)
    for (via, table, key, how), hops in joins.items():
        if how == "clock":
            rel = shift_of(t, rel, "_ts")
            continue
        master = t(table).select(_key=key, **{h.to: h.column for h in hops})
        join_how = "left" if keep_rows else how
        rel = rel.join(master, rel[via] == master._key, how=join_how).drop("_key")
    return rel


def shift_of(t: Tables, rel: ir.Table, ts_col: str) -> ir.Table:
    """The site's shift whose [start, start + hours) contains the time of day of `ts_col`."""
    s = t("shifts")
    s = s.select(
        _shift_site="site_id",
        shift="shift_id",
        _start=s.start_time.hour() * 60 + s.start_time.minute(),
        _len=(s.hours * 60).cast("int64"),
    )
    minute = rel[ts_col].hour() * 60 + rel[ts_col].minute()
    rel = rel.mutate(_minute=minute)
    joined = rel.join(s, rel.site == s._shift_site)
    joined = joined.filter(((joined._minute - joined._start + 1440) % 1440) < joined._len)
    return joined.drop("_shift_site", "_start", "_len", "_minute")
