"""Alerts on a workspace: its KPI catalog, `model/guardrails.yaml` and `model/detection.yaml`, on its
warehouse tables, through the pure engine `opsfin.alerts.run_alerts` (docs/alerts.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import alerts
from ..alerts import Alert, Guardrail, Scan
from ..kpis.batch import Ask, Ready
from ..kpis.definitions import Kpi
from .model import load_catalog, load_detection, load_guardrails
from .tables import open_tables

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


def run_alerts(
    ws: WorkspaceFolder,
    catalog: Mapping[str, Kpi] | None = None,
    guardrails: list[Guardrail] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    scans: list[Scan] | None = None,
    ready: Ready = None,
) -> list[Alert]:
    """All alerts over [start, end] on the workspace's warehouse. What is not given comes from its model/
    files: the catalog, the guardrails (None reads model/guardrails.yaml; [] turns them off) and the
    scans (None reads model/detection.yaml, or the built-in list without it; [] turns them off).
    `ready`: KPI series already computed (of `kpi_asks`)."""
    catalog = catalog or load_catalog(ws.model_dir)
    if guardrails is None:
        guardrails = load_guardrails(ws.model_dir, catalog)
    if scans is None:
        scans = load_detection(ws.model_dir, catalog)
    tables = open_tables(ws, ws.settings.warehouse.backend)
    return alerts.run_alerts(tables, catalog, guardrails, start, end, scans, ready)


def kpi_asks(
    ws: WorkspaceFolder,
    catalog: Mapping[str, Kpi] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> list[Ask]:
    """The KPI series `run_alerts(ws, catalog, start=start, end=end)` reads: to compute them with others in
    few queries (kpis/batch.py) and hand them to it as `ready`."""
    catalog = catalog or load_catalog(ws.model_dir)
    guardrails, scans = load_guardrails(ws.model_dir, catalog), load_detection(ws.model_dir, catalog)
    return alerts.kpi_asks(guardrails, scans, start, end)


def forecast_alerts(
    ws: WorkspaceFolder,
    version: str | None = None,
    catalog: Mapping[str, Kpi] | None = None,
    guardrails: list[Guardrail] | None = None,
) -> list[Alert]:
    """`forecast_breach` alerts: model/guardrails.yaml against the KPIs the plan version projects (every
    version in the plan tables when `version` is None), on the months after its as_of (app database), else
    after the last month of the books (docs/alerts.md, "Forecast breaches"). maintenance_cost is driven by
    the sites' maintenance cost per hour run over planning.yaml's `opex.run_rate_months` up to that month."""
    from ..alerts.forecast_breach import PlanVersion, check_forecast
    from ..alerts.forecast_maintenance import KPI, maintenance_driver
    from ..errors import UserError
    from .plan_versions import list_versions
    from .planning import load_planning_config

    catalog = catalog or load_catalog(ws.model_dir)
    if guardrails is None:
        guardrails = load_guardrails(ws.model_dir, catalog)
    t = open_tables(ws, ws.settings.warehouse.backend)
    built = sorted(
        set(t("plan_capacity").version.to_pyarrow().to_pylist())
        | set(t("plan_balances").version.to_pyarrow().to_pylist())
    )
    if version is not None and version not in built:
        raise UserError(f"--version {version!r}: no plan rows; build it with `opsfin plan build --version {version}`")
    as_of = {v["name"]: v["as_of"] for v in list_versions(ws)}
    last = t("gl_entries").posting_date.max().to_pyarrow().as_py()
    books = last.replace(day=1) if last else dt.date.min
    sites = {r["work_center_id"]: r["site_id"] for r in t("work_centers").to_pyarrow().to_pylist()}
    wants_maintenance = KPI in catalog and any(g.kpi == KPI for g in guardrails)
    window = load_planning_config(ws.model_dir).opex.run_rate_months
    out = []
    for name in [version] if version else built:
        capacity, balances, pnl = (
            t(n).filter(t(n).version == name).drop("version").to_polars()
            for n in ("plan_capacity", "plan_balances", "plan_pnl")
        )
        reference = (as_of.get(name) or books).replace(day=1)
        driver = maintenance_driver(t, catalog[KPI], reference, window) if wants_maintenance else None
        plan = PlanVersion(name, capacity, balances, pnl, reference, driver)
        out += check_forecast(plan, guardrails, catalog, sites)
    return sorted(out, key=lambda a: (a.period_start, a.kpi, sorted(a.scope.items()), a.id))
