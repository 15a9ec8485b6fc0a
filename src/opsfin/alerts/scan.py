"""What the anomaly detector scans: `model/detection.yaml` (or the built-in default scan list).

settings:              # defaults for every scan entry (each may override any of them)
  grain: week
  ...
scan:
  - kpi: energy_per_unit
    by: machine
  - kpi: machine_load
    by: [site, work_center]
    alert_on: higher    # worse (default: the KPI's bad direction), higher, lower or both
    members: constraint # all (default) or constraint: per value of the first dimension, only the
                        # member of the last one that is the constraint where an alert opens: the
                        # highest median over the two baselines before (constraint.py) ...
    constraint_by: machine_load  # ... of this KPI (default: the scanned one)
    peers: all          # optional: compare each member with the median of its peers (all other
                        # members, or those sharing a `by` dimension) so that what moves them all
                        # (season, company-wide demand) is not an anomaly
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, StrictBool, ValidationInfo, model_validator

from ..core.periods import GRAINS
from ..errors import UserError
from ..kpis.definitions import Kpi
from ..kpis.sources import check_dims
from ..model_schema import Count, Entry, KpiId, NonNegative, Text, as_list, parse_yaml, validate
from .model import SEVERITIES

FILE = "detection.yaml"


@dataclass(frozen=True)
class Settings:
    grain: str = "week"
    baseline: int | None = None  # trailing periods in the robust baseline (median / MAD)
    min_history: int | None = None  # observed periods in the baseline before a series may alert
    slack: float = 1.0  # CUSUM allowance k, in robust standard deviations
    threshold: float = 7.5  # CUSUM decision level h
    cap: float = 4.0  # one period adds at most cap − slack to the CUSUM
    spike: float = 0.0  # one period this many robust sd out alerts alone (0: spikes need company)
    min_change: float = 0.10  # a departure counts only from this share of the baseline ...
    min_abs: float = 0.0  # ... and from this absolute size (in the KPI's unit)
    release: int = 2  # periods back inside the band that close an alert
    pool: int = 1  # each period reads as the pooled last `pool` periods (Σ numerator / Σ denominator)
    relearn: int | None = None  # an alert this many periods long becomes the new normal
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
    constraint_by: str | None = None  # the KPI that ranks the constraint (None: the scanned KPI)


# baseline, min_history and relearn when not given: about half a year of history, a year at most
WINDOWS = {
    "day": (180, 90, 120),
    "week": (52, 26, 39),
    "month": (12, 6, 12),
    "quarter": (8, 4, 6),
    "year": (5, 3, 4),
}
SETTING_KEYS = tuple(f.name for f in fields(Settings))


class SettingsEntry(Entry):
    """`settings:` of detection.yaml, and the settings any scan entry may override (None: not given)."""

    grain: Literal[tuple(GRAINS)] | None = None  # type: ignore[valid-type]
    baseline: Count | None = None
    min_history: Count | None = None
    slack: NonNegative | None = None
    threshold: NonNegative | None = None
    cap: NonNegative | None = None
    spike: NonNegative | None = None
    min_change: NonNegative | None = None
    min_abs: NonNegative | None = None
    release: Count | None = None
    pool: Count | None = None
    relearn: Count | None = None
    severity: Literal[SEVERITIES] | None = None  # type: ignore[valid-type]

    def over(self, base: Settings) -> Settings:
        """`base` with the settings this entry gives."""
        return replace(base, **{k: getattr(self, k) for k in SETTING_KEYS if getattr(self, k) is not None})


class ScanEntry(SettingsEntry):
    kpi: KpiId
    by: Annotated[tuple[Text, ...], BeforeValidator(as_list)] = ()
    alert_on: Literal["worse", "higher", "lower", "both"] = "worse"
    members: Literal["all", "constraint"] = "all"
    peers: Text | None = None
    confirm: StrictBool = False
    constraint_by: KpiId | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ScanEntry:
        if self.members == "constraint" and len(self.by) < 2:
            raise ValueError("members is 'all', or 'constraint' with at least two 'by' dimensions")
        if self.peers is not None and self.peers != "all" and self.peers not in self.by[:-1]:
            raise ValueError(f"peers is 'all' or one of the 'by' dimensions before the last, got {self.peers!r}")
        if self.confirm and not self.peers:
            raise ValueError("confirm is true or false, and needs peers")
        if self.constraint_by and self.members != "constraint":
            raise ValueError("constraint_by needs members: constraint")
        catalog = (info.context or {}).get("catalog")
        if catalog is not None:
            try:
                for kpi in filter(None, (self.kpi, self.constraint_by)):
                    check_dims(kpi, catalog[kpi].dims, set(self.by))
            except UserError as exc:
                raise ValueError(str(exc)) from None
        return self


class DetectionFile(Entry):
    settings: Annotated[SettingsEntry, BeforeValidator(lambda v: {} if v is None else v)] = SettingsEntry()
    scan: Annotated[list[ScanEntry], BeforeValidator(lambda v: [] if v is None else v)] = []


def _resolved(s: Settings, where: str) -> Settings:
    baseline, min_history, relearn = WINDOWS[s.grain]
    out = replace(
        s,
        baseline=s.baseline or baseline,
        min_history=s.min_history or min_history,
        relearn=s.relearn or relearn,
    )
    if out.baseline < 3 or out.min_history < 3 or out.min_history > out.baseline:  # type: ignore[operator]
        raise UserError(f"{where}: need 3 ≤ min_history ≤ baseline (got {out.min_history}, {out.baseline})")
    if out.pool < 1:
        raise UserError(f"{where}: field 'pool': expected a whole number ≥ 1, got {out.pool}")
    return out


def parse_detection(text: str, path: str | Path = FILE, catalog: Mapping[str, Kpi] | None = None) -> list[Scan]:
    """The scan list of detection YAML; a mistake is one UserError naming the file, entry and field."""
    data = parse_yaml(text, path)
    checked = validate(DetectionFile, {} if data is None else data, path, {"catalog": catalog})
    base = checked.settings.over(Settings())
    scans = []
    for i, e in enumerate(checked.scan, start=1):
        settings = _resolved(e.over(base), f"{path}: scan[{i}] ({e.kpi})")
        scans.append(Scan(e.kpi, e.by, e.alert_on, e.members, e.peers, e.confirm, settings, e.constraint_by))
    return scans


def default_scans(catalog: Mapping[str, Kpi] | None = None) -> list[Scan]:
    """The built-in scan list (opsfin/model_defaults/detection.yaml): what runs without a
    model/detection.yaml. The I/O layer reads a workspace's file (opsfin.runs.model.load_detection)."""
    from .defaults import default_detection_yaml

    return parse_detection(default_detection_yaml(), "built-in detection defaults", catalog)
