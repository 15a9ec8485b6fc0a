"""Many KPI series in few queries: what a page of tiles or the alert scans ask for at once (docs/kpis.md).

`compute_many(t, asks, catalog)` returns, for each `Ask`, the frame `compute_one` returns for it, but reads
each source once per (grain, by, filters, range): KPIs of one part over the same source rows (the same
`prepare` join) are summed side by side in one query, each part's own filter moved into its sums
(`CASE WHEN keep THEN num END`, a period kept only where a row passed it); the balance KPIs (dso, dio, …)
share one read of the daily ledger; a KPI of several parts adds its parts' sums. An ask it cannot answer
this way (a KPI it does not know, a dimension its rows do not carry, a query that fails) is left out: the
caller computes it alone, which raises the ask's own error."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ibis
import polars as pl

from ..core.frames import polars_frame
from ..errors import UserError
from .definitions import Kpi, Part
from .engine import Tables, kpi_frame, part_measures, period_keys, source_rows
from .sources import check_by, check_dims
from .working_capital import daily_ledger, ledger_roles, working_capital

Where = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Ask:
    """One KPI series: `compute_one(t, kpi, grain, by, where, start, end)`."""

    kpi: str
    grain: str = "month"
    by: tuple[str, ...] = ()
    where: Where = ()
    start: dt.date | None = None
    end: dt.date | None = None

    @classmethod
    def of(
        cls,
        kpi: str,
        grain: str,
        by: Iterable[str] = (),
        where: Mapping[str, Iterable[str]] | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> Ask:
        return cls(kpi, grain, tuple(by), tuple((d, tuple(v)) for d, v in (where or {}).items()), start, end)

    @property
    def filters(self) -> dict[str, list[str]]:
        return {d: list(v) for d, v in self.where}


Member = tuple["Ask", Kpi, Part]  # a part of the KPI an ask names

# KPI series computed ahead, by what was asked (None: none)
Ready = Mapping[Ask, pl.DataFrame] | None


def compute_many(t: Tables, asks: Iterable[Ask], catalog: Mapping[str, Kpi]) -> dict[Ask, pl.DataFrame]:
    """The frame of each ask this batching answers (see the module's docstring); the others are left out."""
    balances: dict[tuple, list[tuple[Ask, Kpi]]] = {}
    groups: dict[tuple, list[Member]] = {}
    wanted: dict[Ask, Kpi] = {}
    for ask in dict.fromkeys(asks):
        kpi = catalog.get(ask.kpi)
        if kpi is None or not _checked(ask, kpi):
            continue
        if kpi.kind == "balance":
            balances.setdefault((ask.grain, ask.start, ask.end), []).append((ask, kpi))
            continue
        wanted[ask] = kpi
        for part in kpi.parts:
            key = (part.source, part.prepare, ask.grain, ask.by, ask.where, ask.start, ask.end)
            groups.setdefault(key, []).append((ask, kpi, part))
    out: dict[Ask, pl.DataFrame] = {}
    for same_range in balances.values():
        with contextlib.suppress(Exception):  # each ask is then computed alone, which reports its error
            out.update(_balances(t, same_range))
    sums: dict[tuple[Ask, Part], pl.DataFrame] = {}
    for same_rows in groups.values():
        with contextlib.suppress(Exception):
            sums.update(_side_by_side(t, same_rows))
    for ask, kpi in wanted.items():
        frames = [sums[(ask, part)] for part in kpi.parts if (ask, part) in sums]
        if len(frames) == len(kpi.parts):
            out[ask] = kpi_frame(kpi, _parts_summed(frames, ["period_start", *ask.by]), list(ask.by))
    return out


def _checked(ask: Ask, kpi: Kpi) -> bool:
    try:
        check_by(ask.by)
        check_dims(kpi.id, kpi.dims, set(ask.by) | {d for d, _ in ask.where})
    except UserError:
        return False
    return True


def _balances(t: Tables, members: list[tuple[Ask, Kpi]]) -> dict[Ask, pl.DataFrame]:
    """The balance KPIs of one grain and range on one read of the daily ledger."""
    ledger = daily_ledger(t, ledger_roles([k.id for _, k in members]))
    return {a: working_capital(t, [k.id], a.grain, a.start, a.end, ledger) for a, k in members}


def _side_by_side(t: Tables, members: list[Member]) -> dict[tuple[Ask, Part], pl.DataFrame]:
    """Parts over the same source rows, summed in one query: each part's numerator, denominator and count of
    rows that pass its filter, per period and `by` member (a period without such a row is left out)."""
    first, kpi0, part0 = members[0]
    by = list(first.by)
    rel = source_rows(t, part0, by, first.filters, first.start, first.end, keep=False)
    cols = {}
    for i, (_, kpi, part) in enumerate(members):
        num, den = part_measures(kpi, part, rel)
        if part.keep is not None:
            kept = part.keep(rel)
            num, den = (ibis.ifelse(kept, v, ibis.null(v.type())) for v in (num, den))
            cols[f"_k{i}"] = ibis.ifelse(kept, 1, 0)
        cols[f"_n{i}"], cols[f"_d{i}"] = num, den
    keys = period_keys(rel, first.grain, by)
    rows = rel.select(**keys, **cols)
    # the counts cast: DuckDB sums integers as HUGEINT
    sums = {c: rows[c].sum().cast("int64") if c.startswith("_k") else rows[c].sum() for c in cols}
    frame = polars_frame(rows.group_by(list(keys)).aggregate(**sums))
    out = {}
    for i, (ask, _, part) in enumerate(members):
        df = frame.filter(pl.col(f"_k{i}") > 0) if f"_k{i}" in frame.columns else frame
        out[(ask, part)] = df.select(*keys, numerator=pl.col(f"_n{i}"), denominator=pl.col(f"_d{i}"))
    return out


def _parts_summed(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """The sums of a KPI's parts added per period and member, as SQL sums their union: null where every
    part's sum is null."""
    if len(frames) == 1:
        return frames[0]
    both = pl.concat(frames, how="vertical_relaxed")
    sums = [pl.when(pl.col(c).count() > 0).then(pl.col(c).sum()).alias(c) for c in ("numerator", "denominator")]
    return both.group_by(keys, maintain_order=True).agg(sums)
