"""Reading the workspace's YAML files: one clear line for a mistake, never a traceback. The I/O layer
uses it; the engines never do (they take parsed data or text: `model_schema.parse_yaml`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import UserError
from .model_schema import parse_yaml

__all__ = ["parse_yaml", "read_yaml_mapping"]


def read_yaml_mapping(path: Path, where: str | Path | None = None) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (an empty file is an empty mapping); messages name the
    file as `where` (default: its path)."""
    where = path if where is None else where
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{where}: not a UTF-8 text file") from None
    data = parse_yaml(text, where) or {}
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping at the top level")
    return data
