"""`opsfin audit …`: the hash-chained audit log of the app database (src/opsfin/appdb)."""

from __future__ import annotations

from . import app  # noqa: F401
