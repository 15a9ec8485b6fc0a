"""Guardrails and anomaly alerts (docs/alerts.md).

`run_alerts(tables, catalog, guardrails, start, end, scans)` is a pure function of warehouse tables
and model config: guardrail breaches (guardrails.py) plus anomalies (detect.py), each a continuous
run of periods merged into one Alert (runs.py), sorted by period, kind, KPI and scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from ..core.periods import parse_day, range_error
from ..kpis.definitions import Kpi
from .anomalies import detect_anomalies
from .defaults import default_detection_yaml, default_guardrails_yaml
from .guardrails import Guardrail, check_guardrails, parse_guardrails
from .model import Alert
from .scan import Scan, default_scans, parse_detection

__all__ = [
    "Alert",
    "Guardrail",
    "Scan",
    "default_detection_yaml",
    "default_guardrails_yaml",
    "default_scans",
    "parse_detection",
    "parse_guardrails",
    "run_alerts",
]


def run_alerts(
    tables,
    catalog: Mapping[str, Kpi] | None = None,
    guardrails: list[Guardrail] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    scans: list[Scan] | None = None,
) -> list[Alert]:
    """All alerts over [start, end] on `tables` (kpis.Tables).

    `catalog`: the KPI catalog (default: the built-in KPIs). `guardrails`: None or [] checks none.
    `scans`: None runs the built-in scan list, [] no anomaly scan. A workspace's model/ files are read by
    the I/O layer (`opsfin.runs.alerts.run_alerts(ws, …)`), which then calls this."""
    from ..kpis import KPI_BY_ID

    lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
    if lo and hi and lo > hi:
        raise range_error(lo, hi)
    catalog = catalog or KPI_BY_ID
    scans = default_scans(catalog) if scans is None else scans
    alerts = check_guardrails(tables, guardrails or [], catalog, lo, hi) + detect_anomalies(
        tables, scans, catalog, lo, hi
    )
    alerts.sort(key=lambda a: (a.period_start, a.kind, a.kpi, sorted(a.scope.items()), a.id))
    return alerts
