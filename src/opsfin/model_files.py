"""Default YAML files of a workspace's `model/` folder (KPI catalog, guardrails, mappings...).

Each later engine adds its default file here; existing files are never overwritten."""

from __future__ import annotations

from pathlib import Path

README = """# model/

Declarative configuration of this workspace, meant to be read, diffed and reviewed:

- `kpis.yaml` — the KPI catalog; add your own KPIs here (docs/kpis.md).
- `guardrails.yaml` — bands each KPI must stay inside; `detection.yaml` — which KPI series the
  anomaly detector scans. Both feed `opsfin alerts` (docs/alerts.md).
- `activities.yaml` — activity-based costing drivers, `opsfin abc` (docs/abc.md);
  `allocations.yaml` — service cost allocation rules, `opsfin allocate` (docs/allocations.md).
- `matching.yaml` — bank reconciliation rules and three-way-match tolerances, `opsfin match`
  (docs/matching.md).
- `mappings/` — ingest mappings (column renames, date formats, decimal separators, constants).
  See docs/ingest.md.
"""


def write_default_model_files(model_dir: Path) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "mappings").mkdir(exist_ok=True)
    from .kpis.catalog import default_catalog_yaml

    catalog = model_dir / "kpis.yaml"
    if not catalog.exists():
        catalog.write_text(default_catalog_yaml(), encoding="utf-8")
    from .alerts.defaults import default_detection_yaml, default_guardrails_yaml

    for name, text in (("guardrails.yaml", default_guardrails_yaml), ("detection.yaml", default_detection_yaml)):
        if not (model_dir / name).exists():
            (model_dir / name).write_text(text(), encoding="utf-8")
    from .costing.costing_config import (
        ACTIVITIES_FILE,
        ALLOCATIONS_FILE,
        DEFAULT_ACTIVITIES_YAML,
        DEFAULT_ALLOCATIONS_YAML,
    )

    for name, content in ((ACTIVITIES_FILE, DEFAULT_ACTIVITIES_YAML), (ALLOCATIONS_FILE, DEFAULT_ALLOCATIONS_YAML)):
        if not (model_dir / name).exists():
            (model_dir / name).write_text(content, encoding="utf-8")
    _write_matching_yaml(model_dir)
    readme = model_dir / "README.md"
    if not readme.exists():
        readme.write_text(README, encoding="utf-8")


def _write_matching_yaml(model_dir: Path) -> None:
    """`matching.yaml`: the bank-reconciliation cascade and three-way-match tolerances (docs/matching.md)."""
    from .matching.config import FILE, default_matching_yaml

    if not (model_dir / FILE).exists():
        (model_dir / FILE).write_text(default_matching_yaml(), encoding="utf-8")
