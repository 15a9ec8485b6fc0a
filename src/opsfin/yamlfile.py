"""Reading the workspace's YAML files: one clear line for a mistake, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import UserError


def parse_yaml(text: str, where: str | Path) -> Any:
    """Parse YAML text; a syntax error is a one-line UserError naming `where`."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML: {' '.join(str(exc).split())}") from None


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (an empty file is an empty mapping)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    data = parse_yaml(text, path) or {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    return data
