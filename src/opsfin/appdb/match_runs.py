"""Bank reconciliation runs that keep their auto matches (runs are incremental; docs/matching.md "Runs").

A run is recorded in one transaction: one `match_runs` row, one `kept_matches` row per (bank line,
document) pair of its new auto matches (bulk inserted), and ONE audit entry (`match.run`, object
`run:<id>`, payload: run id, from/to, through date and counts) — not one per match. Later runs read the
kept matches back (`kept_matches`) and treat them like confirmed ones unless they were rejected since."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .audit import HEAD_ID, append_audit
from .errors import AppDbError
from .models import AuditHeadRow, KeptMatchRow, MatchRunRow
from .sessions import SessionsMixin
from .types import utc_now

RUN_COUNTS = ("bank_lines", "kept", "kept_lines", "suggested", "unmatched")
KEPT_COLUMNS = ("match_id", "bank_txn_id", "doc_type", "doc_id", "rule", "score")
BATCH = 50_000  # rows per executemany call (bounded memory for the parameter lists)


def run_dict(row: MatchRunRow) -> dict[str, Any]:
    return {
        "run_id": row.id,
        "at": row.at,
        "actor": row.actor,
        "date_from": row.date_from,
        "date_to": row.date_to,
        "through": row.through_date,
        **{k: getattr(row, k) for k in RUN_COUNTS},
    }


def _day(value: object, what: str) -> date | None:
    if value is None or (isinstance(value, date) and type(value) is date):
        return value
    raise AppDbError(f"{what} {value!r}: give a date")


def _check_run(actor: str, matches: Sequence[Sequence[Any]], counts: dict[str, int]) -> None:
    """Refuse a run without an actor, with a count missing, or with no kept match or a malformed one."""
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 100:
        raise AppDbError("actor must be a name of 1 to 100 characters")
    missing = [k for k in RUN_COUNTS if not isinstance(counts.get(k), int)]
    if missing:
        raise AppDbError(f"run counts missing or not whole numbers: {', '.join(missing)}")
    if not matches:
        raise AppDbError("a run keeps at least one auto match")
    bad = next((r for r in matches if len(r) != len(KEPT_COLUMNS)), None)
    if bad is not None:
        raise AppDbError(f"a kept match is (match_id, bank_txn_id, doc_type, doc_id, rule, score), not {bad!r}")


def _refuse_a_stale_run(s: Session, based_on: int | None) -> None:
    """Refuse a run computed before the latest recorded one (`based_on` is the latest the engine saw)."""
    # the audit head's lock serialises writers (PostgreSQL; SQLite writes take the database lock)
    s.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).with_for_update()).scalar_one()
    latest = s.scalar(select(func.max(MatchRunRow.id)))
    if latest != based_on:
        other = s.get(MatchRunRow, latest)
        raise AppDbError(
            f"run {latest} (by {other.actor if other else '?'}) was recorded after this "
            "reconciliation was computed; run it again"
        )


def _insert_kept_matches(s: Session, run_id: int, matches: Sequence[Sequence[Any]]) -> None:
    """Bulk insert the run's kept matches, `BATCH` rows per executemany call."""
    table = KeptMatchRow.__table__
    conn = s.connection()
    for start in range(0, len(matches), BATCH):
        conn.execute(
            insert(table),
            [
                {
                    "run_id": run_id,
                    "match_id": m,
                    "bank_txn_id": b,
                    "doc_type": t,
                    "doc_id": d,
                    "rule": r,
                    "score": float(sc),
                }
                for m, b, t, d, r, sc in matches[start : start + BATCH]
            ],
        )


class MatchRunsMixin(SessionsMixin):
    """Reconciliation runs and their kept auto matches, of `AppDB`."""

    def record_match_run(
        self,
        actor: str,
        matches: Sequence[Sequence[Any]],
        counts: dict[str, int],
        date_from: date | None = None,
        date_to: date | None = None,
        through: date | None = None,
        based_on: int | None = None,
    ) -> dict[str, Any]:
        """Keep the auto matches of a run: `matches` are rows `(match_id, bank_txn_id, doc_type, doc_id, rule,
        score)`. One transaction, one audit entry. `based_on` is the latest run id the engine saw (None: no
        run yet); when another run was recorded since, nothing is written and AppDbError says so."""
        _check_run(actor, matches, counts)
        frm, to, thru = (
            _day(date_from, "date_from"),
            _day(date_to, "date_to"),
            _day(through, "through"),
        )
        with self._write() as s:
            _refuse_a_stale_run(s, based_on)
            run = MatchRunRow(
                at=utc_now(),
                actor=actor.strip(),
                date_from=frm,
                date_to=to,
                through_date=thru,
                **{k: int(counts[k]) for k in RUN_COUNTS},
            )
            s.add(run)
            s.flush()
            _insert_kept_matches(s, run.id, matches)
            out = run_dict(run)
            append_audit(
                s,
                run.actor,
                "match.run",
                "match",
                f"run:{run.id}",
                {
                    "run_id": run.id,
                    "from": frm,
                    "to": to,
                    "through": thru,
                    "counts": {k: out[k] for k in RUN_COUNTS},
                },
            )
            return out

    def match_runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first."""
        with self._read() as s:
            return [run_dict(r) for r in s.scalars(select(MatchRunRow).order_by(MatchRunRow.id))]

    def latest_match_run(self) -> dict[str, Any] | None:
        """The newest run, or None before the first."""
        with self._read() as s:
            row = s.scalars(select(MatchRunRow).order_by(MatchRunRow.id.desc()).limit(1)).first()
            return run_dict(row) if row else None

    def kept_matches(self) -> list[tuple[int, str, str, str, str, str, float]]:
        """Every kept pair as `(run_id, match_id, bank_txn_id, doc_type, doc_id, rule, score)`, in the order
        kept (oldest run first)."""
        return [row for batch in self.kept_match_batches() for row in batch]

    def kept_match_batches(self, size: int = BATCH) -> Iterator[list[tuple[int, str, str, str, str, str, float]]]:
        """`kept_matches` in lists of at most `size` rows, streamed from one read (bounded memory for a
        million kept pairs)."""
        t = KeptMatchRow.__table__.c
        query = select(t.run_id, t.match_id, t.bank_txn_id, t.doc_type, t.doc_id, t.rule, t.score).order_by(t.id)
        with self._read() as s:
            result = s.connection().execution_options(yield_per=size).execute(query)
            for part in result.partitions():
                yield [tuple(r) for r in part]
