"""`opsfin plan` verbs (see plan_app.py)."""

from __future__ import annotations

from .plan_app import plan_app  # noqa: F401
