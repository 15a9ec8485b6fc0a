"""The KPI engine: any KPI, any grain, grouped by any dimension its rows carry, with filters.

`compute(t, kpis, grain, by, where, start, end)` is a pure function of warehouse tables (`t` maps a
table name to an Ibis table on any backend) and returns one Polars frame per KPI with the columns
`period_start, <by…>, kpi, value, numerator, denominator`. A zero denominator gives a null value.
Money KPIs keep exact decimals (cast explicitly: Ibis would round them otherwise)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import ibis
import ibis.expr.types as ir
import polars as pl

from ..core.frames import polars_frame
from ..core.periods import grain_code, parse_day, range_error
from ..errors import UserError
from .definitions import KPI_BY_ID, Kpi, Part
from .sources import SOURCES, check_by, check_dims
from .working_capital import working_capital


class Tables:
    """Warehouse tables on an Ibis backend, plus the company's base currency."""

    def __init__(self, backend: ibis.BaseBackend, base_currency: str = "EUR"):
        self.backend = backend
        self.base_currency = base_currency
        self._tables: dict[str, ir.Table] = {}

    def __call__(self, name: str) -> ir.Table:
        # each lookup asks the backend for the schema; a KPI reads some tables several times
        if name not in self._tables:
            self._tables[name] = self.backend.table(name)
        return self._tables[name]


def resolve(kpi_ids: Iterable[str], catalog: Mapping[str, Kpi] | None = None) -> list[Kpi]:
    catalog = catalog or KPI_BY_ID
    out = []
    for k in kpi_ids:
        if k not in catalog:
            raise UserError(f"unknown KPI {k!r}; `opsfin kpi --list` shows the catalog")
        out.append(catalog[k])
    return out


def source_rows(
    t: Tables,
    part: Part,
    by: list[str],
    where: Mapping[str, list[str]],
    start: dt.date | None,
    end: dt.date | None,
    keep: bool = True,
) -> ir.Table:
    """The rows of `part`'s source in [start, end] that pass `where` (and the part's own filter if `keep`),
    with the dimensions of `by` and `where`."""
    need = frozenset(by) | frozenset(where)
    rel = SOURCES[part.source].build(t, need)
    if part.prepare:
        rel = part.prepare(t, rel)
    if keep and part.keep is not None:
        rel = rel.filter(part.keep(rel))
    if start:
        rel = rel.filter(rel._date >= start)
    if end:
        rel = rel.filter(rel._date <= end)
    for dim, values in where.items():
        rel = rel.filter(rel[dim].isin(values))
    return rel


def part_measures(kpi: Kpi, part: Part, rel: ir.Table) -> tuple[ir.Value, ir.Value]:
    """The numerator and denominator of `part` on each row of `rel` (money as exact decimals)."""
    num_type = "decimal(38, 2)" if kpi.money else "float64"
    num = part.num(rel).cast(num_type) if part.num else ibis.literal(0, type=num_type)
    den = (
        part.den(rel).cast("float64") if part.den else ibis.literal(None if kpi.kind == "sum" else 0.0, type="float64")
    )
    return num, den


def period_keys(rel: ir.Table, grain: str, by: list[str]) -> dict[str, ir.Value]:
    """The columns a KPI's rows are summed by: the period's first day and the `by` dimensions."""
    cols = {"period_start": rel._date.truncate(grain_code(grain)).cast("date")}
    cols.update({d: rel[d].cast("string") for d in by})
    return cols


def _part_rows(kpi: Kpi, part: Part, rel: ir.Table, grain: str, by: list[str]) -> ir.Table:
    """Each row of `rel` (`source_rows`) with its period, `by` members, numerator and denominator."""
    num, den = part_measures(kpi, part, rel)
    return rel.select(**period_keys(rel, grain, by), _num=num, _den=den)


def compute_one(
    t: Tables,
    kpi: Kpi,
    grain: str = "month",
    by: list[str] | None = None,
    where: Mapping[str, list[str]] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    by, where = list(by or []), dict(where or {})
    check_by(by)
    check_dims(kpi.id, kpi.dims, set(by) | set(where))
    if kpi.kind == "balance":
        return working_capital(t, [kpi.id], grain, start, end)
    parts = [_part_rows(kpi, p, source_rows(t, p, by, where, start, end), grain, by) for p in kpi.parts]
    rows = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    agg = rows.group_by(["period_start", *by]).aggregate(numerator=rows._num.sum(), denominator=rows._den.sum())
    return kpi_frame(kpi, polars_frame(agg), by)


def kpi_frame(kpi: Kpi, df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """The KPI's frame from its summed `numerator` and `denominator` per period and `by` member."""
    if kpi.kind == "sum":
        df = df.with_columns(value=pl.col("numerator"))
    else:
        df = df.with_columns(
            value=pl.when(pl.col("denominator") != 0)
            .then(pl.col("numerator") * kpi.scale / pl.col("denominator"))
            .otherwise(None)
        )
    df = df.with_columns(kpi=pl.lit(kpi.id))
    return df.select("period_start", *by, "kpi", "value", "numerator", "denominator").sort(["period_start", *by])


def compute(
    t: Tables,
    kpi_ids: Iterable[str],
    grain: str = "month",
    by: list[str] | None = None,
    where: Mapping[str, list[str]] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    catalog: Mapping[str, Kpi] | None = None,
) -> list[pl.DataFrame]:
    """One frame per KPI, in the order asked."""
    grain_code(grain)
    lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
    if lo and hi and lo > hi:
        raise range_error(lo, hi)
    return [compute_one(t, k, grain, by, where, lo, hi) for k in resolve(kpi_ids, catalog)]


def combine(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Stack per-KPI frames. Exact decimals stay exact when every KPI is money; mixed with ratios they
    become DOUBLE."""
    if not frames:
        return pl.DataFrame()
    if len({f.schema["numerator"] for f in frames}) > 1:
        frames = [f.with_columns(pl.col("value", "numerator", "denominator").cast(pl.Float64)) for f in frames]
    return pl.concat(frames, how="vertical_relaxed")
