"""What the anomaly detector scans: `model/detection.yaml` (or the built-in default scan list).

    settings:              # defaults for every scan entry (each may override any of them)
      grain: week
      ...
    scan:
      - kpi: energy_per_unit
        by: machine
      - kpi: capacity_utilization
        by: [site, work_center]
        alert_on: higher    # worse (default: the KPI's bad direction), higher, lower or both
        members: constraint # all (default) or constraint: per value of the first dimension, only the
                            # member of the last one with the highest median (a site's bottleneck)
        peers: all          # optional: compare each member with the median of its peers (all other
                            # members, or those sharing a `by` dimension) so that what moves them all
                            # (season, company-wide demand) is not an anomaly
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..kpis.definitions import Kpi
from ..kpis.periods import GRAINS
from ..kpis.sources import check_dims
from ..yamlfile import parse_yaml
from .model import SEVERITIES

FILE = "detection.yaml"


@dataclass(frozen=True)
class Settings:
    grain: str = "week"
    baseline: int | None = None     # trailing periods in the robust baseline (median / MAD)
    min_history: int | None = None  # observed periods in the baseline before a series may alert
    slack: float = 1.0         # CUSUM allowance k, in robust standard deviations
    threshold: float = 7.5     # CUSUM decision level h
    cap: float = 4.0           # one period adds at most cap − slack to the CUSUM
    spike: float = 0.0         # one period this many robust sd out alerts alone (0: spikes need company)
    min_change: float = 0.10   # a departure counts only from this share of the baseline ...
    min_abs: float = 0.0       # ... and from this absolute size (in the KPI's unit)
    release: int = 2           # periods back inside the band that close an alert
    relearn: int | None = None      # an alert this many periods long becomes the new normal
    severity: str = "warn"


@dataclass(frozen=True)
class Scan:
    kpi: str
    by: tuple[str, ...] = ()
    alert_on: str = "worse"
    members: str = "all"
    peers: str | None = None
    confirm: bool = False
    settings: Settings = Settings()


# baseline, min_history and relearn when not given: about half a year of history, a year at most
WINDOWS = {"day": (180, 90, 120), "week": (52, 26, 39), "month": (12, 6, 12), "quarter": (8, 4, 6),
           "year": (5, 3, 4)}
SETTING_KEYS = tuple(f.name for f in fields(Settings))
SCAN_KEYS = ("kpi", "by", "alert_on", "members", "peers", "confirm", *SETTING_KEYS)


def _settings(base: Settings, entry: Mapping[str, Any], where: str) -> Settings:
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name not in entry:
            continue
        v = entry[f.name]
        if f.name == "grain":
            if v not in GRAINS:
                raise UserError(f"{where}: unknown grain {v!r}; choose one of {', '.join(GRAINS)}")
        elif f.name == "severity":
            if v not in SEVERITIES:
                raise UserError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        elif isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            raise UserError(f"{where}: '{f.name}' must be a number ≥ 0, got {v!r}")
        elif f.type in (int, "int"):
            v = int(v)
        values[f.name] = v
    return replace(base, **values)


def _resolved(s: Settings, where: str) -> Settings:
    baseline, min_history, relearn = WINDOWS[s.grain]
    out = replace(s, baseline=s.baseline or baseline, min_history=s.min_history or min_history,
                  relearn=s.relearn or relearn)
    if out.baseline < 3 or out.min_history < 3 or out.min_history > out.baseline:  # type: ignore[operator]
        raise UserError(f"{where}: need 3 ≤ min_history ≤ baseline (got {out.min_history}, {out.baseline})")
    return out


def parse_detection(text: str, path: str | Path = FILE, catalog: Mapping[str, Kpi] | None = None) -> list[Scan]:
    data = parse_yaml(text, path) or {}
    if not isinstance(data, dict) or not isinstance(data.get("scan", []), list) \
            or not isinstance(data.get("settings", {}) or {}, dict):
        raise UserError(f"{path}: expected 'settings:' (a mapping) and 'scan:' (a list)")
    unknown = sorted(set(data.get("settings") or {}) - set(SETTING_KEYS))
    if unknown:
        raise UserError(f"{path}: settings: unknown key {', '.join(unknown)}; keys are {', '.join(SETTING_KEYS)}")
    base = _settings(Settings(), data.get("settings") or {}, f"{path}: settings")
    scans = []
    for i, entry in enumerate(data.get("scan") or [], start=1):
        where = f"{path}: scan #{i}" + (f" ({entry.get('kpi')})" if isinstance(entry, dict) else "")
        if not isinstance(entry, dict) or not entry.get("kpi"):
            raise UserError(f"{where}: each scan entry is a mapping with at least 'kpi'")
        bad = sorted(set(entry) - set(SCAN_KEYS))
        if bad:
            raise UserError(f"{where}: unknown key {', '.join(bad)}; keys are {', '.join(SCAN_KEYS)}")
        kpi = str(entry["kpi"])
        if catalog is not None and kpi not in catalog:
            raise UserError(f"{where}: unknown KPI {kpi!r}; `opsfin kpi --list` shows the catalog")
        by = entry.get("by") or []
        by = tuple(d.strip() for d in by.split(",")) if isinstance(by, str) else tuple(str(d) for d in by)
        if catalog is not None:
            try:
                check_dims(kpi, catalog[kpi].dims, set(by))
            except UserError as exc:
                raise UserError(f"{where}: {exc}") from None
        alert_on = entry.get("alert_on", "worse")
        if alert_on not in ("worse", "higher", "lower", "both"):
            raise UserError(f"{where}: alert_on must be worse, higher, lower or both")
        members = entry.get("members", "all")
        if members not in ("all", "constraint") or (members == "constraint" and len(by) < 2):
            raise UserError(f"{where}: members is 'all', or 'constraint' with at least two 'by' dimensions")
        peers = entry.get("peers")
        if peers is not None and peers != "all" and peers not in by[:-1]:
            raise UserError(f"{where}: peers is 'all' or one of the 'by' dimensions before the last")
        confirm = entry.get("confirm", False)
        if not isinstance(confirm, bool) or (confirm and not peers):
            raise UserError(f"{where}: confirm is true or false, and needs peers")
        scans.append(Scan(kpi, by, alert_on, members, peers, confirm, _resolved(_settings(base, entry, where), where)))
    return scans


def load_detection(model_dir: Path | None, catalog: Mapping[str, Kpi] | None = None) -> list[Scan]:
    """The workspace's scan list; the built-in default when model/detection.yaml is absent."""
    from .defaults import default_detection_yaml

    path = model_dir / FILE if model_dir else None
    if path and path.exists():
        return parse_detection(path.read_text(encoding="utf-8"), path, catalog)
    return parse_detection(default_detection_yaml(), "built-in detection defaults", catalog)
