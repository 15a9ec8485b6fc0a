"""The audit entry of a warehouse write: a load, a period close, an allocation post (docs/security.md).

The warehouse (DuckDB) and the app database are two databases, so the entry is appended right after the
warehouse commits: a write that failed leaves no entry, and a write that succeeded is never silent. The
entry goes to the workspace's app database (`app_db.url`), the one `opsfin audit list` reads."""

from __future__ import annotations

from typing import Any

from ..workspace_folder import WorkspaceFolder


def record_write(ws: WorkspaceFolder, actor: str, action: str, object_type: str, object_id: str,
                 payload: dict[str, Any]) -> dict[str, Any]:
    """Append the audit entry of a write that has just been committed; returns the entry."""
    from ..appdb import open_app_db

    return open_app_db(ws).record_event(actor, action, object_type, object_id, payload)  # type: ignore[arg-type]


def load_payload(result: Any) -> dict[str, Any]:
    """What an ingest's entry records: the tables and their counts, the source and the loads it replaced."""
    return {"source": result.source, "format": result.format, "sha256": result.sha256,
            "tables": {t.table: {"read": t.rows_read, "accepted": t.rows_accepted,
                                 "quarantined": t.rows_quarantined} for t in result.tables},
            "replaced": list(result.replaced_load_ids)}
