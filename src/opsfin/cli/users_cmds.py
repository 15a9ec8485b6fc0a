"""`opsfin users …` and `opsfin tokens …`: people and machine access in the app database (src/opsfin/appdb)."""

from __future__ import annotations

from . import app  # noqa: F401
