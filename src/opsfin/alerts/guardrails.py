"""Guardrails: `model/guardrails.yaml`, parsed, validated and checked against the KPI engine.

    guardrails:
      - kpi: overtime_share
        by: site                # optional: one guardrail per member of these dimensions
        where: {site: [P1, P2]} # optional filter, DIM: value or [values]
        grain: month            # day, week, month (default), quarter, year
        max: 0.14               # min and/or max, in the KPI's own unit (fractions for ratios)
        severity: warn          # info, warn (default) or stop
        owner: HR business partner

A value outside [min, max] is a breach; a continuous run of breaching periods of one series (one
member of `by`, or the whole filtered scope) is one alert."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import UserError
from ..kpis import compute
from ..kpis.definitions import Kpi
from ..kpis.periods import GRAINS
from ..kpis.sources import check_by, check_dims
from ..yamlfile import parse_yaml
from .model import SEVERITIES, Alert, alert_id, fmt_span, fmt_value, scope_words
from .runs import merge_runs, period_end

FILE = "guardrails.yaml"
KEYS = ("kpi", "where", "by", "grain", "min", "max", "severity", "owner", "note")


@dataclass(frozen=True)
class Guardrail:
    kpi: str
    min: float | None = None
    max: float | None = None
    grain: str = "month"
    where: dict[str, list[str]] = field(default_factory=dict)
    by: tuple[str, ...] = ()
    severity: str = "warn"
    owner: str = ""
    note: str = ""


def _strings(value: Any, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(v, dict | list) or v is None for v in items):
        raise UserError(f"{where}: expected a value or a list of values")
    return [str(v) for v in items]


def _number(entry: dict, key: str, where: str) -> float | None:
    if entry.get(key) is None:
        return None
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{where}: '{key}' must be a number (a fraction for ratios: 0.08, not 8%), got {value!r}")
    if not math.isfinite(value):
        raise UserError(f"{where}: '{key}' must be a finite number, got {value!r}")
    return float(value)


def parse_entry(entry: Any, where: str, catalog: Mapping[str, Kpi] | None) -> Guardrail:
    if not isinstance(entry, dict):
        raise UserError(f"{where}: each guardrail is a mapping with kpi, where, grain, min, max, severity, owner")
    unknown = sorted(set(entry) - set(KEYS))
    if unknown:
        raise UserError(f"{where}: unknown key {', '.join(map(repr, unknown))}; keys are {', '.join(KEYS)}")
    kpi = entry.get("kpi")
    if not kpi or not isinstance(kpi, str):
        raise UserError(f"{where}: missing 'kpi'")
    if catalog is not None and kpi not in catalog:
        raise UserError(f"{where}: unknown KPI {kpi!r}; `opsfin kpi --list` shows the catalog")
    lo, hi = _number(entry, "min", where), _number(entry, "max", where)
    if lo is None and hi is None:
        raise UserError(f"{where}: give 'min', 'max' or both")
    if lo is not None and hi is not None and lo > hi:
        raise UserError(f"{where}: min {lo} is above max {hi}")
    grain = str(entry.get("grain", "month"))
    if grain not in GRAINS:
        raise UserError(f"{where}: unknown grain {grain!r}; choose one of {', '.join(GRAINS)}")
    severity = str(entry.get("severity", "warn"))
    if severity not in SEVERITIES:
        raise UserError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    raw_where = entry.get("where") or {}
    if not isinstance(raw_where, dict):
        raise UserError(f"{where}: 'where' must be a mapping DIM: value (e.g. where: {{site: P1}})")
    filters = {str(d): _strings(v, f"{where}: where.{d}") for d, v in raw_where.items()}
    by = entry.get("by") or []
    by = tuple(d.strip() for d in by.split(",")) if isinstance(by, str) else tuple(
        _strings(by, f"{where}: by") if by else ())
    if catalog is not None:
        try:
            check_by(by)
            check_dims(kpi, catalog[kpi].dims, set(filters) | set(by))
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
    owner = str(entry.get("owner") or (catalog[kpi].owner if catalog is not None else ""))
    return Guardrail(kpi, lo, hi, grain, filters, by, severity, owner, str(entry.get("note") or ""))


def parse_guardrails(text: str, path: str | Path = FILE, catalog: Mapping[str, Kpi] | None = None) -> list[Guardrail]:
    """Parse and validate guardrails YAML; a mistake is a UserError naming the file and the entry."""
    data = parse_yaml(text, path)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("guardrails", []), list | type(None)):
        raise UserError(f"{path}: expected a top-level 'guardrails:' list")
    entries = data.get("guardrails") or []
    out = []
    for i, entry in enumerate(entries, start=1):
        label = entry.get("kpi") if isinstance(entry, dict) else None
        out.append(parse_entry(entry, f"{path}: guardrail #{i}" + (f" ({label})" if label else ""), catalog))
    return out


def load_guardrails(model_dir: Path | None, catalog: Mapping[str, Kpi] | None = None) -> list[Guardrail]:
    path = model_dir / FILE if model_dir else None
    if not path or not path.exists():
        return []
    return parse_guardrails(path.read_text(encoding="utf-8"), path, catalog)


def _scope(g: Guardrail, row: dict) -> dict[str, str]:
    scope = {d: str(row[d]) for d in g.by}
    for dim, values in g.where.items():
        if dim not in scope:
            scope[dim] = ",".join(values)
    return scope


def check_guardrail(t, g: Guardrail, catalog: Mapping[str, Kpi], start: dt.date | None,
                    end: dt.date | None) -> list[Alert]:
    kpi = catalog[g.kpi]
    by = list(g.by)
    frame = compute(t, [g.kpi], g.grain, by, g.where, start, end, catalog=catalog)[0]
    frame = frame.with_columns(pl.col("value", "numerator", "denominator").cast(pl.Float64))
    side = (pl.when(pl.col("value") > g.max if g.max is not None else pl.lit(False)).then(1)
            .when(pl.col("value") < g.min if g.min is not None else pl.lit(False)).then(-1).otherwise(0))
    frame = frame.with_columns(_side=side)
    inside = frame.filter(pl.col("_side") == 0, pl.col("value").is_not_null())
    usual = (inside.group_by(by).agg(pl.col("value").median().alias("_usual")) if by
             else pl.DataFrame({"_usual": [inside["value"].median()]}))
    breaches = frame.filter(pl.col("_side") != 0)
    ratio = kpi.scale if kpi.kind == "ratio" else None
    runs = merge_runs(breaches, [*by, "_side"], g.grain, ratio, bad_sign=pl.col("_side"))
    runs = runs.join(usual, on=by, how="left") if by else runs.with_columns(_usual=usual["_usual"][0])
    alerts = []
    for r in runs.iter_rows(named=True):
        scope = _scope(g, r)
        above = r["_side"] > 0
        bound = g.max if above else g.min
        alerts.append(Alert(
            id=alert_id("guardrail", g.kpi, scope, r["run_start"], g.grain, g.severity, "max" if above else "min"),
            kind="guardrail", kpi=g.kpi, scope=scope, period_start=r["run_start"],
            period_end=period_end(r["run_last"], g.grain, end), value=r["value"], expected=r["_usual"],
            bound=bound, severity=g.severity, grain=g.grain, owner=g.owner, periods=r["periods"],
            explanation=_explain(kpi, scope, r, g.grain, above, bound),
            extra={"worst": r["worst"], "worst_period": r["worst_period"]}))
    return alerts


def _explain(kpi: Kpi, scope: dict[str, str], r: dict, grain: str, above: bool, bound: float | None) -> str:
    span = fmt_span(r["run_start"], r["run_last"], grain)
    verb = "was" if r["periods"] == 1 else "ran at"
    text = f"{kpi.name} {scope_words(scope)} {verb} {fmt_value(r['value'], kpi.unit)} {span}"
    if r["periods"] > 1 and r["worst"] is not None:
        text += f" (worst {fmt_value(r['worst'], kpi.unit)} {fmt_span(r['worst_period'], r['worst_period'], grain)})"
    side = "above the maximum" if above else "below the minimum"
    return text + f", {side} of {fmt_value(bound, kpi.unit)} its guardrail allows."


def check_guardrails(t, guardrails: list[Guardrail], catalog: Mapping[str, Kpi], start: dt.date | None = None,
                     end: dt.date | None = None) -> list[Alert]:
    return [a for g in guardrails for a in check_guardrail(t, g, catalog, start, end)]
