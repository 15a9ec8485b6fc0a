"""A workspace is one folder: settings, model YAML, the warehouse and the app database."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from . import warehouse
from .canonical import TABLE_BY_NAME, table
from .errors import UserError
from .settings import SETTINGS_FILE, Settings, default_settings_yaml, load_settings

MODEL_DIR = "model"


class Workspace:
    """An opened workspace. Methods return Polars tables."""

    def __init__(self, path: Path, settings: Settings):
        self.path = path
        self.settings = settings

    # -- locations
    @property
    def warehouse_path(self) -> Path:
        p = Path(self.settings.warehouse.path)
        return p if p.is_absolute() else self.path / p

    @property
    def model_dir(self) -> Path:
        return self.path / MODEL_DIR

    @property
    def truth_dir(self) -> Path:
        return self.path / "truth"

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return warehouse.connect(self.warehouse_path, read_only=read_only)

    # -- reading
    def table(self, name: str) -> pl.DataFrame:
        """A whole warehouse table (canonical or system) as Polars."""
        table(name)  # clear error for an unknown name
        with self.connect(read_only=True) as con:
            return pl.from_arrow(con.sql(f'SELECT * FROM "{name}"').to_arrow_table())  # type: ignore[return-value]

    def sql(self, query: str, params: list | None = None) -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return pl.from_arrow(con.sql(query, params=params or None).to_arrow_table())  # type: ignore[return-value]

    def row_counts(self) -> dict[str, int]:
        with self.connect(read_only=True) as con:
            return {
                name: int(con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
                for name in TABLE_BY_NAME
            }

    # -- KPI engine
    def kpi_tables(self, engine: str | None = None):
        """Warehouse tables for the engines, on DuckDB (default) or Spark (`engine="spark"`)."""
        from .kpis.backends import open_tables

        return open_tables(self, engine or self.settings.warehouse.backend)

    def kpi_catalog(self):
        from .kpis.catalog import load_catalog

        return load_catalog(self.model_dir)

    def kpi(self, kpis: str | list[str], grain: str = "month", by: list[str] | None = None,
            where: dict[str, list[str]] | None = None, start=None, end=None, engine: str | None = None) -> pl.DataFrame:
        """KPIs as `period_start, <by…>, kpi, value, numerator, denominator`."""
        from .kpis import combine, compute

        ids = [k.strip() for k in kpis.split(",")] if isinstance(kpis, str) else list(kpis)
        frames = compute(self.kpi_tables(engine), ids, grain, by, where, start, end, catalog=self.kpi_catalog())
        return combine(frames)

    def bottlenecks(self, grain: str = "month", start=None, end=None, engine: str | None = None) -> pl.DataFrame:
        from .kpis.bottlenecks import bottlenecks
        from .kpis.periods import parse_day

        return bottlenecks(self.kpi_tables(engine), grain, parse_day(start, "--from"), parse_day(end, "--to"))

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"


def resolve_path(path: str | os.PathLike[str] | None) -> Path:
    """The workspace folder: the argument, else `OPSFIN_WORKSPACE`, else the current folder."""
    if path is None:
        path = os.environ.get("OPSFIN_WORKSPACE") or "."
    return Path(path).expanduser().resolve()


def open(path: str | os.PathLike[str] | None = None) -> Workspace:  # noqa: A001 - public API name
    """Open an existing workspace folder."""
    root = resolve_path(path)
    if not (root / SETTINGS_FILE).exists():
        raise UserError(f"{root} is not an opsfin workspace (no {SETTINGS_FILE}); create one with `opsfin init {root}`")
    ws = Workspace(root, load_settings(root))
    if not ws.warehouse_path.exists():
        raise UserError(f"{ws.warehouse_path}: warehouse file missing; run `opsfin init {root}` to create it")
    return ws


def init(path: str | os.PathLike[str], company: str = "My company", base_currency: str = "EUR") -> Workspace:
    """Create (or complete) a workspace: opsfin.yaml, model/ and a warehouse holding every table.

    An existing opsfin.yaml or model file is never overwritten."""
    root = Path(path).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    settings_file = root / SETTINGS_FILE
    if not settings_file.exists():
        settings_file.write_text(default_settings_yaml(company, base_currency), encoding="utf-8")
    from .model_files import write_default_model_files

    write_default_model_files(root / MODEL_DIR)
    ws = Workspace(root, load_settings(root))
    with ws.connect() as con:
        warehouse.create_schema(con)
    return ws
