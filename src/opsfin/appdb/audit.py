"""The append-only, hash-chained audit log.

Each entry's `hash` is sha256 over the canonical JSON (sorted keys, no spaces) of
`seq, at (ISO 8601, UTC), actor, action, object_type, object_id, payload, prev_hash`; `prev_hash` is the
previous entry's hash (64 zeros for entry 1). The single `audit_head` row holds the last seq and hash
and is updated in the same transaction, so deleting the newest entries is detected too.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import AppDbError
from .models import AuditHeadRow, AuditRow
from .types import row_fields, utc_now

GENESIS = "0" * 64
HEAD_ID = 1


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: Decimals and dates become text, tuples lists; non-finite floats are refused."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise AppDbError(f"cannot record the non-finite number {value!r}")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise AppDbError(f"cannot record a value of type {type(value).__name__} in the audit log")


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: Any,
    prev_hash: str,
) -> str:
    """The hash of one entry (see the module docstring)."""
    body = {
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def append_audit(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    payload: dict[str, Any],
) -> AuditRow:
    """Append one entry inside the caller's transaction (the one making the change it records).

    Appends are serialised: on PostgreSQL the head row is locked (SELECT … FOR UPDATE) until commit;
    on SQLite write transactions start with BEGIN IMMEDIATE, which takes the database's write lock."""
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()).scalar_one()
    data = jsonable(payload)
    row = AuditRow(
        seq=head.seq + 1,
        at=utc_now(),
        actor=str(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        payload=canonical_json(data),
        prev_hash=head.hash,
    )
    row.hash = entry_hash(row.seq, row.at, row.actor, row.action, row.object_type, row.object_id, data, row.prev_hash)
    session.add(row)
    head.seq, head.hash = row.seq, row.hash
    session.flush()
    return row


def entry_dict(row: AuditRow) -> dict[str, Any]:
    return {
        **row_fields(row, ("seq", "at", "actor", "action", "object_type", "object_id")),
        "payload": json.loads(row.payload),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def _missing(first: int, last: int) -> str:
    span = f"entry {first} is" if first == last else f"entries {first}–{last} are"
    return f"{span} missing (deleted)"


def verify_chain(rows: list[AuditRow], head: AuditHeadRow | None, anchor: tuple[int, str] | None = None) -> list[str]:
    """Problems in the chain, one line each; [] when every entry, link and the head agree.

    `rows` in seq order. Detects an edited entry (its hash no longer matches its contents), an edited hash
    (the next entry's link breaks), an entry deleted from the start or middle (a gap in seq and a broken
    link) and entries deleted from the end (the head names a later entry). `anchor` (seq, hash), written
    down earlier outside the database, also catches a log rewritten from that entry on."""
    problems: list[str] = []
    expected_seq, prev_hash = 1, GENESIS
    for row in rows:
        if row.seq > expected_seq:
            problems.append(_missing(expected_seq, row.seq - 1))
        elif row.seq < expected_seq:
            problems.append(f"entry {row.seq}: sequence number out of order")
        try:
            payload = json.loads(row.payload)
        except (TypeError, ValueError):
            problems.append(f"entry {row.seq}: payload is not valid JSON (edited)")
            payload = row.payload
        else:
            if canonical_json(payload) != row.payload:
                problems.append(f"entry {row.seq}: payload text is not in canonical form (edited)")
        recomputed = entry_hash(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.object_type,
            row.object_id,
            payload,
            row.prev_hash,
        )
        if recomputed != row.hash:
            problems.append(f"entry {row.seq}: contents do not match its hash (edited entry or edited hash)")
        if row.prev_hash != prev_hash and row.seq == expected_seq:
            before = "the start of the log" if row.seq == 1 else f"entry {row.seq - 1}"
            problems.append(f"entry {row.seq}: prev_hash does not match {before} (chain broken)")
        expected_seq, prev_hash = row.seq + 1, row.hash
    last_seq = rows[-1].seq if rows else 0
    last_hash = rows[-1].hash if rows else GENESIS
    if head is None:
        problems.append("the audit head row is missing (deleted)")
    elif head.seq > last_seq:
        problems.append(_missing(last_seq + 1, head.seq) + " from the end of the log")
    elif head.seq < last_seq:
        problems.append(
            f"the audit head names entry {head.seq} but the log ends at entry {last_seq} "
            "(head edited, or entries added outside opsfin)"
        )
    elif head.hash != last_hash:
        problems.append(f"the audit head's hash does not match entry {last_seq} (head or entry edited)")
    if anchor is not None:
        seq, digest = anchor
        found = next((r for r in rows if r.seq == seq), None)
        if found is None:
            problems.append(f"the anchored entry {seq} is missing (log truncated or rewritten)")
        elif found.hash != digest:
            problems.append(f"entry {seq} does not match the anchor's hash (log rewritten)")
    return problems
