"""The YAML files of a workspace's `model/` folder (KPI catalog, guardrails, detection, costing, matching).

The defaults are YAML files shipped in `opsfin/model_defaults/` and copied as they are; the KPI catalog
is written from the engine's definitions (kpis/catalog.py), so its formulas are the ones computed.
A file that exists is never overwritten; runs/model.py reads them for the engines. See docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

from .model_defaults import FILES, default_text

README = """# model/

Declarative configuration of this workspace, meant to be read, diffed and reviewed:

- `kpis.yaml` — the KPI catalog; add your own KPIs here (docs/kpis.md).
- `guardrails.yaml` — bands each KPI must stay inside; `detection.yaml` — which KPI series the
  anomaly detector scans. Both feed `opsfin alerts` (docs/alerts.md).
- `activities.yaml` — activity-based costing drivers, `opsfin abc` (docs/abc.md);
  `allocations.yaml` — service cost allocation rules, `opsfin allocate` (docs/allocations.md).
- `matching.yaml` — bank reconciliation rules and three-way-match tolerances, `opsfin match`
  (docs/matching.md).
- `planning.yaml` — the plan engine's variance rates, opex run rate and site mix, `opsfin plan build`
  (docs/planning.md).
- `mappings/` — ingest mappings (column renames, date formats, decimal separators, constants).
  See docs/ingest.md.

A mistake in one of these files is reported in one line naming the file, the entry and the field
(docs/configuration.md).
"""


def write_default_model_files(model_dir: Path) -> None:
    """Write each default model file that `model_dir` does not have yet (never overwriting one)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "mappings").mkdir(exist_ok=True)
    from .kpis.catalog import default_catalog_yaml

    _write_new(model_dir / "kpis.yaml", default_catalog_yaml)
    for name in FILES:
        _write_new(model_dir / name, lambda name=name: default_text(name))
    _write_new(model_dir / "README.md", lambda: README)


def _write_new(path: Path, text) -> None:
    if not path.exists():
        path.write_text(text(), encoding="utf-8")
