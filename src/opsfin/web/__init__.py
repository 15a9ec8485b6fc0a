"""The web app and REST API over a workspace: `create_app(path)`, served by `opsfin serve` (docs/web.md)."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
