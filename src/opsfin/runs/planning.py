"""Building a plan version on a workspace (docs/planning.md): read model/planning.yaml and the warehouse,
call the pure plan engine (opsfin.planning.engine.build_plan), and store the result as the version's
`plan_pnl`, `plan_capacity` and `plan_balances` rows.

The write guard comes first (runs.plan_versions.ensure_writable: a submitted, approved or archived version is
refused; an unknown one is registered as a draft). The version's old rows are replaced in one transaction
with their `loads` rows; the audit entry follows the commit. A failure anywhere writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from .. import warehouse
from ..canonical import table
from ..core.periods import add_months, month_start, parse_month, range_error
from ..errors import UserError
from ..planning.config import FILE, PlanningConfig, default_planning_config, parse_planning_config
from ..planning.engine import PlanInputs, PlanResult, build_plan
from ..planning.volumes import ACTUAL, Volumes, volumes_for
from .model import read_optional_mapping

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

PLAN_TABLES = ("plan_pnl", "plan_capacity", "plan_balances")
AUDIT_ACTION, AUDIT_OBJECT = "plan.build", "plan_version"
Progress = Callable[[str], None]


@dataclass
class BuiltPlan:
    """A plan version just stored: its months, the engine's result, the rows written per table."""

    version: str
    volumes: str
    months: list[dt.date]
    result: PlanResult
    rows: dict[str, int]
    seconds: float
    problems: list[str] = field(default_factory=list)


def load_planning_config(model_dir: Path | None) -> PlanningConfig:
    """model/planning.yaml; the shipped default without the file."""
    found = read_optional_mapping(model_dir, FILE)
    return parse_planning_config(*found) if found else default_planning_config()


# ------------------------------------------------------------------------------------------ months
def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every first-of-month from `first` to `last`, both included."""
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def source_span(t: Any, source: str) -> tuple[dt.date, dt.date]:
    """The first and last month `source` has volumes for: the shipments for `actual`, else the version's
    volume_plan rows. A UserError when it has none."""
    if source == ACTUAL:
        sh = t("shipments")
        d = sh.shipped_date.cast("date")
        row = sh.aggregate(first=d.min(), last=d.max()).to_pyarrow().to_pylist()[0]
        what = "no shipments in the warehouse: nothing to build from actual volumes"
    else:
        vp = t("volume_plan")
        vp = vp.filter(vp.version == source)
        d = vp.period.cast("date")
        row = vp.aggregate(first=d.min(), last=d.max()).to_pyarrow().to_pylist()[0]
        what = f"{source!r} has no volume_plan rows; `opsfin plan list` shows the versions"
    if row["first"] is None:
        raise UserError("{param} " + what, param="volumes", value=source)
    return month_start(row["first"]), month_start(row["last"])


def plan_months(t: Any, source: str, start: str | dt.date | None, end: str | dt.date | None) -> list[dt.date]:
    """The months to build: --from .. --to (YYYY-MM), each side defaulting to the source's span."""
    first = _month(start, "--from")
    last = _month(end, "--to")
    if first is None or last is None:
        span = source_span(t, source)
        first = first or span[0]
        last = last or span[1]
    if first > last:
        raise range_error(first, last)
    return month_range(first, last)


def _month(value: str | dt.date | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return month_start(value) if value else None
    return parse_month(value, option)


# ------------------------------------------------------------------------------------------ building
def compute_plan(
    ws: WorkspaceFolder,
    source: str,
    months: list[dt.date] | None = None,
    start: str | None = None,
    end: str | None = None,
    budgets: tuple[str, ...] = (),
    volumes: Callable[[Any, list[dt.date], PlanningConfig], Volumes] | None = None,
    progress: Progress | None = None,
) -> tuple[list[dt.date], PlanResult]:
    """A plan computed but not stored: the months and the engine's result. `volumes` replaces the standard
    volumes of `source` (a rolling forecast's actuals then forecast)."""
    from .tables import reading_tables

    config = load_planning_config(ws.model_dir)
    say = progress or (lambda _text: None)
    with reading_tables(ws) as t:
        months = months or plan_months(t, source, start, end)
        say(f"volumes: {source}, {months[0]:%Y-%m}..{months[-1]:%Y-%m}")
        if volumes is not None:
            vols = volumes(t, months, config)
        else:
            vols = volumes_for(t, source, months, ws.settings.base_currency, config.site_mix_months)
        result = build_plan(PlanInputs(t, vols, months, config, budgets), progress)
    return months, result


def build_plan_version(
    ws: WorkspaceFolder,
    version: str,
    source: str,
    start: str | None = None,
    end: str | None = None,
    kind: str = "budget",
    actor: str = "python",
    progress: Progress | None = None,
    volumes: Callable[[Any, list[dt.date], PlanningConfig], Volumes] | None = None,
    months: list[dt.date] | None = None,
) -> BuiltPlan:
    """Build plan version `version` from `source` (`actual` or a version with volume_plan rows) over --from ..
    --to and store it, replacing the version's earlier plan rows; audited as `plan.build` by `actor`."""
    from .plan_versions import ensure_writable

    started = time.perf_counter()
    ensure_writable(ws, version, kind, actor)
    budgets = (version,) if source == ACTUAL else (version, source)
    months, result = compute_plan(ws, source, months, start, end, budgets, volumes, progress)
    if progress:
        progress(f"writing {version}")
    rows = {
        "plan_pnl": result.pnl,
        "plan_capacity": result.capacity,
        "plan_balances": result.balances,
    }
    load_id = f"PLAN-{version}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    source_text = (
        f"opsfin plan build --version {version} --volumes {source} --from {months[0]:%Y-%m} --to {months[-1]:%Y-%m}"
    )
    with ws.connect(read_only=False) as con:
        replaced = _store(con, version, rows, load_id, source_text)
    counts = {name: frame.height for name, frame in rows.items()}
    payload = {
        "volumes": source,
        "kind": kind,
        "from": f"{months[0]:%Y-%m}",
        "to": f"{months[-1]:%Y-%m}",
        "rows": counts,
        "replaced": replaced,
    }
    from .audit_trail import record_write

    record_write(ws, actor, AUDIT_ACTION, AUDIT_OBJECT, version, payload)
    seconds = time.perf_counter() - started
    return BuiltPlan(version, source, months, result, counts, seconds, list(result.problems))


def _store(
    con: duckdb.DuckDBPyConnection, version: str, rows: dict[str, pl.DataFrame], load_id: str, source: str
) -> list[str]:
    """Replace the version's rows of the three plan tables, in one transaction with their `loads` rows; the
    loads of the rows replaced are marked superseded. Returns their load ids."""
    import pyarrow as pa

    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    digest = hashlib.sha256(
        json.dumps({n: f.to_dicts() for n, f in rows.items()}, default=str, sort_keys=True).encode()
    ).hexdigest()
    with warehouse.transaction(con):
        for name in (*PLAN_TABLES, "loads"):  # a warehouse made before the plan tables gets them here
            con.execute(table(name).ddl())
        replaced = _old_loads(con, version)
        loads = []
        for name in PLAN_TABLES:
            decl = table(name)
            con.execute(f'DELETE FROM "{name}" WHERE version = ?', [version])
            frame = rows[name].with_columns(version=pl.lit(version), _load_id=pl.lit(load_id))
            data = pa.Table.from_pylist(frame.to_dicts(), schema=decl.arrow_schema())
            warehouse.insert_arrow(con, decl, data)
            loads.append(warehouse.written_load(load_id, name, source, digest, data.num_rows, started))
        if replaced:
            marks = ", ".join("?" for _ in replaced)
            con.execute(f"UPDATE loads SET status = 'superseded' WHERE load_id IN ({marks})", replaced)
        decl = table("loads")
        warehouse.insert_arrow(con, decl, pa.Table.from_pylist(loads, schema=decl.arrow_schema()))
    return replaced


#: the same store for the versions other commands compute (a scenario's: runs/scenarios.py)
store_plan_rows = _store


def _old_loads(con: duckdb.DuckDBPyConnection, version: str) -> list[str]:
    found: set[str] = set()
    for name in PLAN_TABLES:
        sql = f'SELECT DISTINCT _load_id FROM "{name}" WHERE version = ? AND _load_id IS NOT NULL'
        found.update(r[0] for r in con.execute(sql, [version]).fetchall())
    return sorted(found)


def compute_pnl(ws: WorkspaceFolder, source: str, months: list[dt.date]) -> pl.DataFrame:
    """The P&L rows (period, site_id, line, amount) of `source`'s volumes over `months`, computed and not
    stored (for a comparison): the operations and balances are not planned."""
    from ..planning.pnl import plan_pnl
    from .tables import reading_tables

    config = load_planning_config(ws.model_dir)
    with reading_tables(ws) as t:
        vols = volumes_for(t, source, months, ws.settings.base_currency, config.site_mix_months)
        budgets = () if source == ACTUAL else (source,)
        pnl, _opex = plan_pnl(PlanInputs(t, vols, months, config, budgets))
    return pnl
