"""The audit entry of a warehouse write: a load, a period close, an allocation post (docs/security.md).

The warehouse (DuckDB) and the app database are two databases, so the entry is appended right after the
warehouse commits: a write that failed leaves no entry, and a write that succeeded is never silent. A
process killed between the commit and the entry leaves a write without one; the next run of the same
write finds it landed and appends the missing entry (`record_write(..., landed=True)`). The entry goes to the
workspace's app database (`app_db.url`), the one `opsfin audit list` reads."""

from __future__ import annotations

from typing import Any

from ..workspace_folder import WorkspaceFolder


def record_write(
    ws: WorkspaceFolder,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: dict[str, Any],
    landed: bool = False,
) -> dict[str, Any] | None:
    """Append the audit entry of a write that has just been committed; returns the entry.

    `landed=True`: a re-run found the write already in the warehouse. Its entry is appended only if the log
    has none (the process that made the write was killed between the warehouse commit and its entry), and
    it says so (`"late": true`); returns None when the write was recorded."""
    from ..appdb import open_app_db

    db = open_app_db(ws)
    if landed and db.has_audit_entry(action, object_type, object_id):
        return None
    entry = {**payload, "late": True} if landed else payload
    return db.record_event(actor, action, object_type, object_id, entry)


def load_payload(result: Any) -> dict[str, Any]:
    """What an ingest's entry records: the tables and their counts, the source and the loads it replaced."""
    return {
        "source": result.source,
        "format": result.format,
        "sha256": result.sha256,
        "tables": {
            t.table: {
                "read": t.rows_read,
                "accepted": t.rows_accepted,
                "quarantined": t.rows_quarantined,
            }
            for t in result.tables
        },
        "replaced": list(result.replaced_load_ids),
    }


def landed_load_payload(ws: WorkspaceFolder, load_id: str) -> dict[str, Any]:
    """`load_payload` of a load already in the warehouse, read from its `loads` rows."""
    with ws.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, source, sha256, rows_read, rows_accepted, rows_quarantined "
            "FROM loads WHERE load_id = ? ORDER BY table_name",
            [load_id],
        ).fetchall()
    return {
        "source": rows[0][1] if rows else None,
        "sha256": rows[0][2] if rows else None,
        "tables": {t: {"read": r, "accepted": a, "quarantined": q} for t, _, _, r, a, q in rows},
    }
