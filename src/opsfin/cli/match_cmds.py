"""`opsfin match …` and `opsfin eval matching`: bank reconciliation and three-way invoice matching (src/opsfin/matching)."""

from __future__ import annotations

from . import app  # noqa: F401
