"""Demand forecasts on a workspace (docs/forecasting.md "Demand forecasts from the warehouse"): read the
warehouse, call the pure engine (opsfin.forecast.demand), and store the result as a plan version —
`forecast_versions`, `forecast_values` and `volume_plan` rows and their `loads` rows in one transaction,
then the audit entry. A version name is never reused: an existing one is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import pyarrow as pa

from .. import warehouse
from ..canonical import table
from ..core.periods import parse_month
from ..errors import UserError
from ..forecast import ForecastConfig, ForecastResult, forecast_series
from ..forecast.demand import DemandForecast, demand_forecast, plan_rows
from .audit_trail import record_write

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
WRITTEN_TABLES = ("forecast_versions", "forecast_values", "volume_plan")
AUDIT_ACTION, AUDIT_OBJECT = "forecast.demand", "forecast_version"


@dataclass
class StoredForecast:
    """A demand forecast stored as plan version `version`: the engine's result and the rows written."""

    version: str
    forecast: DemandForecast
    rows: dict[str, list[dict[str, Any]]]
    load_id: str

    @property
    def values(self) -> list[dict[str, Any]]:
        """The forecast_values rows without their version: period, level, key, p10, p50, p90, model."""
        return [{k: v for k, v in r.items() if k != "version"} for r in self.rows["forecast_values"]]


def parse_models(models: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """`auto`, or model names separated by commas, as a tuple."""
    names = [m.strip() for m in models.split(",")] if isinstance(models, str) else [str(m).strip() for m in models]
    names = [m for m in names if m]
    if not names:
        raise UserError("name a model or auto", param="models", value=models if isinstance(models, str) else "")
    return tuple(names)


ENGINES = ("local", "spark")


def check_engine(engine: str | None) -> str:
    """`local` (the default: this machine's cores) or `spark`."""
    kind = (engine or "local").lower()
    if kind not in ENGINES:
        raise UserError("use local (the default) or spark", param="engine", value=engine)
    return kind


def forecaster(kind: str) -> Callable[[pd.DataFrame, ForecastConfig], ForecastResult]:
    """The function that runs the engine: `forecast_series` here, or the same on Spark."""
    if kind == "spark":
        from .forecast_spark import forecast_on_spark

        return forecast_on_spark
    return forecast_series


def check_version_name(version: str) -> str:
    if not isinstance(version, str) or not VERSION_NAME.fullmatch(version):
        raise UserError(
            "{param} "
            + f"{version!r}: a version name is 1 to 100 letters, digits, '_', '.' or '-' (starting with a letter or digit)",
            param="version",
            value=version,
        )
    return version


def _taken(con: duckdb.DuckDBPyConnection, version: str) -> str | None:
    """The table that already holds plan version `version` (forecast_versions or volume_plan), or None."""
    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for name in ("forecast_versions", "volume_plan"):
        if name in present and con.execute(f'SELECT 1 FROM "{name}" WHERE version = ? LIMIT 1', [version]).fetchone():
            return name
    return None


def _refuse_existing(ws: WorkspaceFolder, con: duckdb.DuckDBPyConnection, version: str, actor: str) -> None:
    where = _taken(con, version)
    if where is None:
        return
    if where == "forecast_versions":  # a version stored by a process killed before its entry gets one now
        row = con.execute("SELECT as_of, horizon FROM forecast_versions WHERE version = ?", [version]).fetchone()
        payload = {"as_of": f"{row[0]:%Y-%m}", "horizon": row[1]} if row else {}
        record_write(ws, actor, AUDIT_ACTION, AUDIT_OBJECT, version, payload, landed=True)
    raise UserError(
        "{param} " + f"{version!r} already exists (in {where}); a plan version is never overwritten",
        param="version",
        value=version,
        hint="choose another name, e.g. " + f"{version}-2",
    )


def forecast_demand(
    ws: WorkspaceFolder,
    as_of: str | dt.date,
    version: str,
    horizon: int = 18,
    models: str | tuple[str, ...] = "auto",
    level: int = 80,
    actor: str = "python",
    engine: str | None = None,
) -> StoredForecast:
    """Forecast shipped quantity from the history up to `as_of` (YYYY-MM) for `horizon` months, reconcile
    it over the hierarchy and store it as plan version `version` with its audit entry (by `actor`).
    `engine` "spark" reads the warehouse and runs the forecasts on Spark; the default is this machine."""
    month = as_of if isinstance(as_of, dt.date) else parse_month(as_of, "--as-of")
    check_version_name(version)
    config = ForecastConfig(horizon=horizon, freq="MS", level=level, models=parse_models(models))
    with ws.connect(read_only=True) as con:
        _refuse_existing(ws, con, version, actor)
    from .tables import open_tables

    kind = check_engine(engine)
    t = open_tables(ws, "spark" if kind == "spark" else "duckdb")
    try:
        result = demand_forecast(t, month, config, ws.settings.base_currency, forecaster(kind))
    finally:
        if kind != "spark":  # the Spark session is the process's, kept for the next command
            t.backend.disconnect()
    rows = plan_rows(result, version)
    load_id = f"FORECAST-{version}"
    from .plan_versions import ensure_writable

    ensure_writable(ws, version, "forecast", actor)  # registered as a draft forecast; refused when read-only
    with ws.connect(read_only=False) as con:
        _store(con, ws, version, rows, load_id, f"{month:%Y-%m}", actor)
    stored = StoredForecast(version, result, rows, load_id)
    payload = {
        "as_of": f"{month:%Y-%m}",
        "horizon": horizon,
        "models": list(config.models),
        "reconciler": result.reconciler,
        "rows": {name: len(rows[name]) for name in WRITTEN_TABLES},
    }
    record_write(ws, actor, AUDIT_ACTION, AUDIT_OBJECT, version, payload)
    return stored


def _store(
    con: duckdb.DuckDBPyConnection,
    ws: WorkspaceFolder,
    version: str,
    rows: dict[str, list[dict[str, Any]]],
    load_id: str,
    as_of: str,
    actor: str,
) -> None:
    """All the version's rows and their `loads` rows, in one transaction; refused when the name is taken."""
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with warehouse.transaction(con):
        for name in (*WRITTEN_TABLES, "loads"):  # a warehouse made before these tables existed gets them
            con.execute(table(name).ddl())
        _refuse_existing(ws, con, version, actor)
        rows["forecast_versions"][0]["created_at"] = started
        digest = hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()
        loads = []
        for name in WRITTEN_TABLES:
            decl = table(name)
            data = [{**r, "_load_id": load_id} for r in rows[name]]
            warehouse.insert_arrow(con, decl, pa.Table.from_pylist(data, schema=decl.arrow_schema()))
            command = f"opsfin forecast demand --as-of {as_of} --version {version}"
            loads.append(warehouse.written_load(load_id, name, command, digest, len(data), started))
        decl = table("loads")
        warehouse.insert_arrow(con, decl, pa.Table.from_pylist(loads, schema=decl.arrow_schema()))
