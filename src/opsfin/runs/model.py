"""A workspace's model files and ground truth, read for the engines (the I/O layer; docs/configuration.md).

Each function reads one file of the workspace's `model/` folder (or `truth/`) and hands its text or its
parsed mapping to the engine's `parse_*`, which validates it: the engines never read a file. A file that
is missing falls back as it always has: the built-in KPIs, no guardrails, the shipped detection and
matching defaults (opsfin/model_defaults/); costing files are required (`opsfin init` writes them).

Messages name the file relative to the workspace (`model/guardrails.yaml: guardrails[2] (oee): …`), so the
server's own paths stay out of web responses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..alerts.guardrails import FILE as GUARDRAILS_FILE
from ..alerts.guardrails import Guardrail, parse_guardrails
from ..alerts.scan import FILE as DETECTION_FILE
from ..alerts.scan import Scan, default_scans, parse_detection
from ..costing.costing_config import (
    ACTIVITIES_FILE,
    ALLOCATIONS_FILE,
    AbcConfig,
    AllocationConfig,
    parse_abc_config,
    parse_allocation_config,
)
from ..errors import UserError
from ..evaluation.detection import Truth, parse_truth
from ..kpis.catalog import parse_catalog
from ..kpis.definitions import Kpi
from ..matching.config import FILE as MATCHING_FILE
from ..matching.config import MatchingConfig, default_config, parse_config
from ..model_schema import Named
from ..yamlfile import read_yaml_mapping

CATALOG_FILE = "kpis.yaml"
TRUTH_FILE = "anomalies.json"
N = TypeVar("N", bound=Named)


def label(name: str, folder: str = "model") -> str:
    """How messages name a workspace file: `model/guardrails.yaml`."""
    return f"{folder}/{name}"


def read_text(path: Path, where: str) -> str:
    """A file's UTF-8 text; a folder, an unreadable or a non-UTF-8 file is one UserError naming `where`."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{where}: not a UTF-8 text file") from None
    except OSError as exc:  # a folder, no permission, ...: one line, not a traceback
        raise UserError(f"{where}: cannot be read ({exc.strerror or exc})") from None


def read_mapping(path: Path, where: str) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (empty: an empty mapping), as `read_text` reads it."""
    try:
        return read_yaml_mapping(path, where)
    except OSError as exc:
        raise UserError(f"{where}: cannot be read ({exc.strerror or exc})") from None


def read_optional_mapping(model_dir: Path | None, name: str) -> tuple[dict[str, Any], str] | None:
    """model/<name> as `read_mapping` reads it, with how messages name it; None without the folder or
    the file (the caller's default applies)."""
    path = model_dir / name if model_dir else None
    if not path or not path.exists():
        return None
    where = label(name)
    return read_mapping(path, where), where


def no_such(name: str, kind: str, names: Iterable[str], file: str) -> UserError:
    """The error for a `kind` (scenario, experiment) not in model/<file>, listing the names there are."""
    listed = ", ".join(names) or f"none: add one to model/{file}"
    return UserError("{param} " + f"{name!r}: no such {kind} ({kind}s: {listed})", param="name", value=name)


def find_named(entries: Iterable[N], name: str, kind: str, file: str) -> N:
    """The entry named `name` of model/<file>'s list of `kind`s; the `no_such` error when there is none."""
    listed = list(entries)
    found = next((e for e in listed if e.name == name), None)
    if found is None:
        raise no_such(name, kind, (e.name for e in listed), file)
    return found


def load_catalog(model_dir: Path | None) -> dict[str, Kpi]:
    """The KPI catalog: the built-in KPIs with model/kpis.yaml's metadata, plus the user's KPIs."""
    found = read_optional_mapping(model_dir, CATALOG_FILE)
    return parse_catalog(*found) if found else parse_catalog(None)


def load_guardrails(model_dir: Path | None, catalog: Mapping[str, Kpi] | None = None) -> list[Guardrail]:
    """model/guardrails.yaml, checked against `catalog`; none without the file."""
    path = model_dir / GUARDRAILS_FILE if model_dir else None
    if not path or not path.exists():
        return []
    where = label(GUARDRAILS_FILE)
    return parse_guardrails(read_text(path, where), where, catalog)


def load_detection(model_dir: Path | None, catalog: Mapping[str, Kpi] | None = None) -> list[Scan]:
    """The scan list of model/detection.yaml; the built-in list without the file."""
    path = model_dir / DETECTION_FILE if model_dir else None
    if not path or not path.exists():
        return default_scans(catalog)
    where = label(DETECTION_FILE)
    return parse_detection(read_text(path, where), where, catalog)


def _required(model_dir: Path, name: str) -> dict[str, Any]:
    path, where = model_dir / name, label(name)
    if not path.exists():
        raise UserError(f"{where}: file missing; `opsfin init {model_dir.parent}` writes the default")
    return read_mapping(path, where)


def load_abc_config(model_dir: Path) -> AbcConfig:
    """model/activities.yaml (activity-based costing); the file is required."""
    return parse_abc_config(_required(model_dir, ACTIVITIES_FILE), label(ACTIVITIES_FILE))


def load_allocation_config(model_dir: Path) -> AllocationConfig:
    """model/allocations.yaml (service cost allocations); the file is required."""
    return parse_allocation_config(_required(model_dir, ALLOCATIONS_FILE), label(ALLOCATIONS_FILE))


def load_matching_config(model_dir: Path) -> MatchingConfig:
    """model/matching.yaml; the shipped defaults without the file."""
    path = model_dir / MATCHING_FILE
    if not path.exists():
        return default_config()
    where = label(MATCHING_FILE)
    return parse_config(read_mapping(path, where), where)


def load_truth(truth_dir: Path) -> list[Truth]:
    """truth/anomalies.json, the demo's ground truth (`opsfin eval detection`)."""
    path, where = truth_dir / TRUTH_FILE, label(TRUTH_FILE, "truth")
    if not path.exists():
        raise UserError(f"{where}: no ground truth; build a demo company with `opsfin demo`")
    return parse_truth(read_text(path, where), where)
