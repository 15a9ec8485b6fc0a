"""`opsfin serve`: the web app and REST API over a workspace (src/opsfin/web)."""

from __future__ import annotations

from . import app  # noqa: F401
