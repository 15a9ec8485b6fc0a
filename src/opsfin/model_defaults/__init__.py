"""The default model files, shipped as YAML beside this module and copied into a new workspace's `model/`.

`opsfin init` and `opsfin demo` write them (model_files.py); the engines fall back on them when a
workspace has no such file. Each is validated by its engine's pydantic models (docs/configuration.md)."""

from __future__ import annotations

from importlib import resources

FILES = (
    "guardrails.yaml",
    "detection.yaml",
    "activities.yaml",
    "allocations.yaml",
    "matching.yaml",
    "planning.yaml",
)


def default_text(name: str) -> str:
    """The text of the shipped default `model/<name>`."""
    if name not in FILES:
        raise KeyError(f"no default model file {name!r}")
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
