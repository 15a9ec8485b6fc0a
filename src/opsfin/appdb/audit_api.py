"""Reading and verifying the audit log (`AppDB.audit_entries`, `AppDB.verify_audit`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .audit import HEAD_ID, append_audit, entry_dict, verify_chain
from .errors import AppDbError
from .models import AuditHeadRow, AuditRow
from .sessions import SessionsMixin


class AuditMixin(SessionsMixin):
    """The audit log of `AppDB`: entries are only ever appended by the methods that change data."""

    def record_event(
        self, actor: str, action: str, object_type: str, object_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Append one entry for a change made outside the app database (a load, a period close, an
        allocation post: opsfin.runs.audit_trail); returns the entry."""
        for value, what, most in (
            (actor, "actor", 100),
            (action, "action", 50),
            (object_type, "object type", 20),
        ):
            if not isinstance(value, str) or not value.strip() or len(value) > most:
                raise AppDbError(f"audit {what} {value!r}: give 1 to {most} characters")
        with self._write() as s:
            return entry_dict(append_audit(s, actor, action, object_type, str(object_id)[:200], payload))

    def has_audit_entry(self, action: str, object_type: str, object_id: str) -> bool:
        """Whether the log holds an entry of `action` on this object (a re-run checks its write was recorded)."""
        query = (
            select(AuditRow.seq)
            .where(
                AuditRow.object_type == object_type,
                AuditRow.action == action,
                AuditRow.object_id == str(object_id)[:200],
            )
            .limit(1)
        )
        with self._read() as s:
            return s.scalar(query) is not None

    def audit_entries(self, limit: int | None = None, object_type: str | None = None) -> list[dict[str, Any]]:
        """Entries, newest first: {seq, at, actor, action, object_type, object_id, payload, prev_hash, hash}."""
        query = select(AuditRow).order_by(AuditRow.seq.desc())
        if object_type is not None:
            query = query.where(AuditRow.object_type == object_type)
        if limit is not None:
            query = query.limit(max(0, int(limit)))
        with self._read() as s:
            return [entry_dict(r) for r in s.scalars(query)]

    def audit_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest entry as the head row records it; None when the head row is gone.

        Write it down somewhere else from time to time: a later `verify_audit` plus a matching entry proves
        nothing before it was rewritten (see docs/app-database.md)."""
        with self._read() as s:
            head = s.get(AuditHeadRow, HEAD_ID)
            return (head.seq, head.hash) if head else None

    def verify_audit(self, anchor: tuple[int, str] | None = None) -> list[str]:
        """[] when the chain is intact; otherwise one line per problem (edited entry, deleted entry, broken link).

        `anchor`: an earlier `audit_head()` kept outside the database; that entry must still carry that hash.

        Reads the head and the log from one snapshot, so a concurrent append cannot look like a deletion
        (SQLite: one read transaction in WAL mode; PostgreSQL: REPEATABLE READ)."""
        with self._read() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            head = s.get(AuditHeadRow, HEAD_ID)
            rows = list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))
            return verify_chain(rows, head, anchor)
