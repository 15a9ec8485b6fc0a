"""Verbs of `opsfin experiment` (work in progress)."""

from __future__ import annotations

from .experiment_app import experiment_app  # noqa: F401
