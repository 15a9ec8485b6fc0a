"""A workspace is one folder: settings, model YAML, the warehouse and the app database."""

from __future__ import annotations

import contextlib
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
        from .runs.tables import open_tables

        return open_tables(self, engine or self.settings.warehouse.backend)

    @contextlib.contextmanager
    def engine_tables(self, engine: str | None = None):
        """`kpi_tables(engine)` for a `with` block; a DuckDB connection is closed at its end (so that the
        warehouse can be opened for writing again in this process)."""
        t = self.kpi_tables(engine)
        try:
            yield t
        finally:
            if t.backend.name == "duckdb":
                t.backend.disconnect()

    def kpi_catalog(self):
        from .runs.model import load_catalog

        return load_catalog(self.model_dir)

    def kpi(
        self,
        kpis: str | list[str],
        grain: str = "month",
        by: list[str] | None = None,
        where: dict[str, list[str]] | None = None,
        start=None,
        end=None,
        engine: str | None = None,
    ) -> pl.DataFrame:
        """KPIs as `period_start, <by…>, kpi, value, numerator, denominator`."""
        from .kpis import combine, compute

        ids = [k.strip() for k in kpis.split(",")] if isinstance(kpis, str) else list(kpis)
        frames = compute(self.kpi_tables(engine), ids, grain, by, where, start, end, catalog=self.kpi_catalog())
        return combine(frames)

    def bottlenecks(self, grain: str = "month", start=None, end=None, engine: str | None = None) -> pl.DataFrame:
        from .core.periods import parse_day
        from .kpis.bottlenecks import bottlenecks

        return bottlenecks(self.kpi_tables(engine), grain, parse_day(start, "--from"), parse_day(end, "--to"))

    # -- costing: order costs, unit economics, value streams (docs/unit-economics.md, docs/value-streams.md)
    def order_costs(self, start=None, end=None, engine: str | None = None) -> pl.DataFrame:
        """Actual cost per production order (completed in [start, end] when either is given), on DuckDB
        (default) or Spark (`engine="spark"`)."""
        from .core.periods import parse_day
        from .costing.order_costs import order_costs

        lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
        with self.engine_tables(engine) as t:
            return order_costs(t, lo, hi)

    def unit_economics(
        self, by=None, start=None, end=None, scope: str = "product", engine: str | None = None
    ) -> pl.DataFrame:
        """Unit economics per group (scope product), or cost per line picked (warehouse) / per ticket (support)."""
        from .core.periods import parse_day
        from .costing.unit_economics import SCOPES, support_costs, unit_economics, warehouse_costs

        lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
        if scope not in SCOPES:
            raise UserError(f"choose one of {', '.join(SCOPES)}", param="scope", value=scope)
        with self.engine_tables(engine) as t:
            if scope == "warehouse":
                return warehouse_costs(t, lo, hi)
            if scope == "support":
                return support_costs(t, lo, hi)
            return unit_economics(t, self.settings.base_currency, by, lo, hi)

    def value_stream(
        self,
        by: str = "family",
        start=None,
        end=None,
        steps: bool = False,
        engine: str | None = None,
    ) -> pl.DataFrame:
        """Value streams per family or product; `steps=True` lists the non-value-added steps and their cost."""
        from .core.periods import parse_day
        from .costing.value_stream import value_stream, value_stream_steps

        lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
        with self.engine_tables(engine) as t:
            fn = value_stream_steps if steps else value_stream
            return fn(t, by, lo, hi)

    # -- costing: activity-based costing and service cost allocations (docs/abc.md, docs/allocations.md)
    def abc(
        self,
        object: str = "product",  # noqa: A002
        start=None,
        end=None,
        view: str = "objects",
        engine: str | None = None,
    ) -> pl.DataFrame:
        """ABC against traditional costing per product or customer; `view`: objects, pools, activities, assignments."""
        from .runs.costing import abc_result

        return abc_result(self, object, start, end, view, engine=engine)

    def allocate(
        self,
        method: str,
        period: str,
        post: bool = False,
        view: str = "flows",
        engine: str | None = None,
    ) -> pl.DataFrame:
        """Service cost allocation flows (`view="summary"`: per cost centre); `post=True` also posts the journals
        (through DuckDB; `engine="spark"` previews only)."""
        from .runs.costing import allocation_result

        return allocation_result(self, method, period, post, view, engine=engine)[0]

    # -- costing: variance analysis (docs/variances.md)
    def variance(
        self,
        start=None,
        end=None,
        budget: str | None = None,
        by: str | None = None,
        monthly: bool = False,
        drill: str | None = None,
        member: str | None = None,
        engine: str | None = None,
    ) -> pl.DataFrame:
        """The variance bridge `category, [<by>], amount` (+ `total`), or with `drill=CATEGORY` its source rows,
        on DuckDB (default) or Spark (`engine="spark"`)."""
        from .costing.variance import source_rows, variance

        with self.engine_tables(engine) as t:
            if drill is not None:
                return source_rows(t, drill, start, end, budget, by, member, self.settings.base_currency)
            return variance(t, start, end, budget, by, self.settings.base_currency, monthly)

    def variance_summary(
        self, start=None, end=None, budget: str | None = None, engine: str | None = None
    ) -> pl.DataFrame:
        """The ends of the bridge: `static_budget_gm, flexible_budget_gm, actual_gm` (one row, Decimal)."""
        from .costing.variance import build_bridge, summary

        with self.engine_tables(engine) as t:
            ends = summary(build_bridge(t, start, end, budget, self.settings.base_currency))
        return pl.DataFrame([ends], schema={k: pl.Decimal(18, 2) for k in ends})

    # -- matching: bank reconciliation and three-way invoice match (docs/matching.md)
    def match_bank(self, start=None, end=None):
        """Bank lines booked in [start, end] matched to receipts, payments and GL cash lines: a
        `BankReconciliation` with the tables `.matches` and `.exceptions` and a `.summary`."""
        from .runs.matching import run_bank

        return run_bank(self, start, end)

    def match_invoices(self, as_of=None):
        """Three-way match of every supplier invoice line (receipts up to `as_of`, default today): an
        `InvoiceMatch` with the table `.lines` (status, issues, money at stake) and a `.summary`."""
        from .runs.matching import run_invoices

        return run_invoices(self, as_of)

    # -- forecasting: demand forecasts stored as plan versions (docs/forecasting.md)
    def forecast_demand(
        self,
        as_of,
        version: str,
        horizon: int = 18,
        models: str = "auto",
        level: int = 80,
        actor: str = "python",
        engine: str | None = None,
    ):
        """Forecast shipped quantity per product × site from the history up to `as_of` (YYYY-MM), reconcile
        it over product → family → total and site → total, and store it as plan version `version`
        (forecast_versions, forecast_values, volume_plan): a `StoredForecast`. An existing name is refused.
        `engine="spark"` runs it on Spark."""
        from .runs.forecast import forecast_demand

        return forecast_demand(self, as_of, version, horizon, models, level, actor, engine)

    # -- planning: a driver-based plan stored as a plan version (docs/planning.md)
    def plan_build(
        self,
        version: str,
        volumes: str,
        start: str | None = None,
        end: str | None = None,
        kind: str = "budget",
        actor: str = "python",
    ):
        """Build plan version `version` from `volumes` (`actual` or a version with volume_plan rows) over
        `start`..`end` (YYYY-MM) and store its plan_pnl, plan_capacity and plan_balances rows: a `BuiltPlan`."""
        from .runs.planning import build_plan_version

        return build_plan_version(self, version, volumes, start, end, kind, actor)

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
