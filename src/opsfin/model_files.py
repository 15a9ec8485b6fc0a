"""Default YAML files of a workspace's `model/` folder (KPI catalog, guardrails, mappings...).

Each later engine adds its default file here; existing files are never overwritten."""

from __future__ import annotations

from pathlib import Path

README = """# model/

Declarative configuration of this workspace, meant to be read, diffed and reviewed:

- `mappings/` — ingest mappings (column renames, date formats, decimal separators, constants).
  See docs/ingest.md.
"""


def write_default_model_files(model_dir: Path) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "mappings").mkdir(exist_ok=True)
    readme = model_dir / "README.md"
    if not readme.exists():
        readme.write_text(README, encoding="utf-8")
