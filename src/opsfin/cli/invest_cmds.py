"""Verbs of `opsfin invest` (work in progress)."""

from __future__ import annotations

from .invest_app import invest_app  # noqa: F401
