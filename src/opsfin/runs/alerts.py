"""Alerts on a workspace: its KPI catalog, `model/guardrails.yaml` and `model/detection.yaml`, on its
warehouse tables, through the pure engine `opsfin.alerts.run_alerts` (docs/alerts.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import alerts
from ..alerts import Alert, Guardrail, Scan
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
) -> list[Alert]:
    """All alerts over [start, end] on the workspace's warehouse. What is not given comes from its model/
    files: the catalog, the guardrails (None reads model/guardrails.yaml; [] turns them off) and the
    scans (None reads model/detection.yaml, or the built-in list without it; [] turns them off)."""
    catalog = catalog or load_catalog(ws.model_dir)
    if guardrails is None:
        guardrails = load_guardrails(ws.model_dir, catalog)
    if scans is None:
        scans = load_detection(ws.model_dir, catalog)
    tables = open_tables(ws, ws.settings.warehouse.backend)
    return alerts.run_alerts(tables, catalog, guardrails, start, end, scans)
