"""`opsfin check` on a workspace: every integrity check (opsfin.integrity) on its warehouse tables, opened
read-only (docs/check.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..integrity import Finding, run_all
from .tables import reading_tables

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


def run_checks(ws: WorkspaceFolder) -> list[Finding]:
    """Every check on the workspace's warehouse (DuckDB), in the order of `opsfin.integrity.CHECKS`."""
    with reading_tables(ws) as t:
        return run_all(t, ws.settings.base_currency)
