"""Guardrails and anomaly alerts (DESIGN.md "Guardrails"; docs/alerts.md).

`run_alerts(ws_or_tables, catalog, guardrails, start, end)` is a pure function of warehouse tables
and model config: guardrail breaches (guardrails.py) plus anomalies (detect.py), each a continuous
run of periods merged into one Alert (runs.py), sorted by period, kind, KPI and scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from ..kpis.definitions import Kpi
from ..kpis.periods import parse_day
from .anomalies import detect_anomalies
from .defaults import default_detection_yaml, default_guardrails_yaml
from .guardrails import Guardrail, check_guardrails, load_guardrails, parse_guardrails
from .model import Alert
from .scan import Scan, load_detection, parse_detection

__all__ = ["Alert", "Guardrail", "Scan", "default_detection_yaml", "default_guardrails_yaml",
           "load_detection", "load_guardrails", "parse_detection", "parse_guardrails", "run_alerts"]


def run_alerts(ws_or_tables, catalog: Mapping[str, Kpi] | None = None, guardrails: list[Guardrail] | None = None,
               start: str | dt.date | None = None, end: str | dt.date | None = None,
               scans: list[Scan] | None = None) -> list[Alert]:
    """All alerts over [start, end].

    `ws_or_tables`: a Workspace (its model/ files fill in whatever is not given) or kpis.Tables.
    `guardrails` / `scans`: None reads model/guardrails.yaml / model/detection.yaml of a workspace
    (with Tables: no guardrails, the built-in scan list); [] turns that half off."""
    from ..errors import UserError
    from ..workspace import Workspace

    lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
    if lo and hi and lo > hi:
        raise UserError(f"--from {lo} is after --to {hi}")
    if isinstance(ws_or_tables, Workspace):
        ws = ws_or_tables
        catalog = catalog or ws.kpi_catalog()
        tables = ws.kpi_tables()
        if guardrails is None:
            guardrails = load_guardrails(ws.model_dir, catalog)
        if scans is None:
            scans = load_detection(ws.model_dir, catalog)
    else:
        from ..kpis import KPI_BY_ID

        tables, catalog = ws_or_tables, catalog or KPI_BY_ID
        guardrails = guardrails or []
        scans = load_detection(None, catalog) if scans is None else scans
    alerts = check_guardrails(tables, guardrails, catalog, lo, hi) + detect_anomalies(tables, scans, catalog, lo, hi)
    alerts.sort(key=lambda a: (a.period_start, a.kind, a.kpi, sorted(a.scope.items()), a.id))
    return alerts
