"""`opsfin check` on a workspace: every integrity check (opsfin.integrity) on its warehouse, opened
read-only (docs/check.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..integrity import Finding, run_all

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder


def run_checks(ws: WorkspaceFolder) -> list[Finding]:
    """Every check on the workspace's warehouse, in the order of `opsfin.integrity.CHECKS`."""
    with ws.connect(read_only=True) as con:
        return run_all(con, ws.settings.base_currency)
