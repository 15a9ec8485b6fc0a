"""Guardrails and anomaly alerts (docs/alerts.md).

`run_alerts(tables, catalog, guardrails, start, end, scans)` is a pure function of warehouse tables
and model config: guardrail breaches (guardrails.py) plus anomalies (detect.py), each a continuous
run of periods merged into one Alert (runs.py), sorted by period, kind, KPI and scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from ..core.periods import parse_day, range_error
from ..kpis.batch import Ask, Ready, compute_many
from ..kpis.definitions import Kpi
from .anomalies import detect_anomalies, series_asks
from .defaults import default_detection_yaml, default_guardrails_yaml
from .guardrails import Guardrail, check_guardrails, guardrail_ask, parse_guardrails
from .model import Alert
from .scan import Scan, default_scans, parse_detection

__all__ = [
    "Alert",
    "Guardrail",
    "Scan",
    "default_detection_yaml",
    "default_guardrails_yaml",
    "default_scans",
    "kpi_asks",
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
    ready: Ready = None,
) -> list[Alert]:
    """All alerts over [start, end] on `tables` (kpis.Tables).

    `catalog`: the KPI catalog (default: the built-in KPIs). `guardrails`: None or [] checks none.
    `scans`: None runs the built-in scan list, [] no anomaly scan. A workspace's model/ files are read by
    the I/O layer (`opsfin.runs.alerts.run_alerts(ws, …)`), which then calls this. `ready`: KPI series
    already computed (of `kpi_asks`); the others are computed here, in few queries (kpis/batch.py)."""
    from ..kpis import KPI_BY_ID

    lo, hi = _range(start, end)
    catalog = catalog or KPI_BY_ID
    scans = default_scans(catalog) if scans is None else scans
    guardrails = guardrails or []
    ready = dict(ready or {})
    ready.update(compute_many(tables, [a for a in kpi_asks(guardrails, scans, lo, hi) if a not in ready], catalog))
    alerts = check_guardrails(tables, guardrails, catalog, lo, hi, ready) + detect_anomalies(
        tables, scans, catalog, lo, hi, ready
    )
    alerts.sort(key=lambda a: (a.period_start, a.kind, a.kpi, sorted(a.scope.items()), a.id))
    return alerts


def kpi_asks(
    guardrails: list[Guardrail], scans: list[Scan], start: str | dt.date | None, end: str | dt.date | None
) -> list[Ask]:
    """Every KPI series the guardrails and scans read for alerts over [start, end]."""
    lo, hi = _range(start, end)
    return [guardrail_ask(g, lo, hi) for g in guardrails] + [a for s in scans for a in series_asks(s, hi)]


def _range(start: str | dt.date | None, end: str | dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    lo, hi = parse_day(start, "--from"), parse_day(end, "--to")
    if lo and hi and lo > hi:
        raise range_error(lo, hi)
    return lo, hi
