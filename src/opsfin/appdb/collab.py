"""Collaboration: comments, actions (owner, due date, status, expected impact), guardrail changes and
the decisions taken on the matching engine's proposals. Every change writes its audit entry in the same
transaction."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from .audit import append_audit, canonical_json, jsonable
from .errors import AppDbError
from .models import ActionRow, CommentRow, MatchDecisionRow
from .records import ACTION_STATUSES, MATCH_DECISIONS, MATCH_KINDS, OPEN_STATUSES, SUBJECT_TYPES
from .sessions import SessionsMixin
from .types import row_fields, to_money, utc_now

ACTION_FIELDS = ("status", "owner", "due", "expected_impact", "title", "description")


def _text(value: object, what: str, max_len: int, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise AppDbError(f"{what} must not be empty")
    if len(value) > max_len:
        raise AppDbError(f"{what} is too long (at most {max_len} characters)")
    return value.strip() if required else value


def _subject(subject_type: str | None, subject_id: str | None, required: bool) -> tuple[str | None, str | None]:
    if subject_type is None and subject_id is None and not required:
        return None, None
    if subject_type not in SUBJECT_TYPES:
        raise AppDbError(f"subject_type {subject_type!r}: choose one of {', '.join(SUBJECT_TYPES)}")
    return subject_type, _text(subject_id, "subject_id", 200)


def _site(site: str | None) -> str | None:
    return None if site is None else _text(site, "site", 100)


def _due(value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise AppDbError(f"due {value!r}: give a date (YYYY-MM-DD)")
    return value


COMMENT_FIELDS = ("id", "at", "author", "subject_type", "subject_id", "body", "site")
#: what a person writes into an action; the audit entry of a new action records these
ACTION_CONTENT = (
    "title",
    "description",
    "owner",
    "due",
    "status",
    "expected_impact",
    "subject_type",
    "subject_id",
    "site",
)
ACTION_ROW_FIELDS = ("id", *ACTION_CONTENT, "created_by", "created_at", "updated_at")


def comment_dict(row: CommentRow) -> dict[str, Any]:
    return row_fields(row, COMMENT_FIELDS)


def action_dict(row: ActionRow) -> dict[str, Any]:
    return row_fields(row, ACTION_ROW_FIELDS)


def decision_dict(row: MatchDecisionRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "match_id": row.match_id,
        "decision": row.decision,
        "payload": json.loads(row.payload),
        "actor": row.actor,
        "at": row.at,
    }


class CollabMixin(SessionsMixin):
    """Comments, actions, guardrail changes and match decisions of `AppDB`."""

    # -- comments
    def add_comment(
        self, actor: str, subject_type: str, subject_id: str, body: str, site: str | None = None
    ) -> dict[str, Any]:
        """Comment on a KPI, alert, variance, action or match. `site` None = a company-level subject."""
        subject_type, subject_id = _subject(subject_type, subject_id, required=True)
        body = _text(body, "the comment", 10_000)
        author = _text(actor, "author", 100)
        with self._write() as s:
            row = CommentRow(
                at=utc_now(),
                author=author,
                subject_type=subject_type,
                subject_id=subject_id,
                body=body,
                site=_site(site),
            )
            s.add(row)
            s.flush()
            append_audit(
                s,
                author,
                "comment.add",
                "comment",
                row.id,
                {
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "site": row.site,
                    "body": body,
                },
            )
            return comment_dict(row)

    def list_comments(self, subject_type: str | None = None, subject_id: str | None = None) -> list[dict[str, Any]]:
        """Comments, oldest first, optionally on one subject type or one subject."""
        query = select(CommentRow).order_by(CommentRow.at, CommentRow.id)
        if subject_type is not None:
            query = query.where(CommentRow.subject_type == subject_type)
        if subject_id is not None:
            query = query.where(CommentRow.subject_id == subject_id)
        with self._read() as s:
            return [comment_dict(r) for r in s.scalars(query)]

    # -- actions
    def add_action(
        self,
        actor: str,
        title: str,
        owner: str,
        due: date,
        expected_impact: Decimal,
        subject_type: str | None = None,
        subject_id: str | None = None,
        site: str | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        """A new open action. `expected_impact` is exact money (2 decimals at most); `due` a date."""
        subject_type, subject_id = _subject(subject_type, subject_id, required=False)
        now = utc_now()
        row = ActionRow(
            title=_text(title, "title", 200),
            description=_text(description, "description", 10_000, required=False),
            owner=_text(owner, "owner", 100),
            due=_due(due),
            status="open",
            expected_impact=to_money(expected_impact),
            subject_type=subject_type,
            subject_id=subject_id,
            site=_site(site),
            created_by=_text(actor, "actor", 100),
            created_at=now,
            updated_at=now,
        )
        with self._write() as s:
            s.add(row)
            s.flush()
            d = action_dict(row)
            append_audit(
                s,
                row.created_by,
                "action.add",
                "action",
                row.id,
                {k: d[k] for k in ACTION_CONTENT},
            )
            return d

    def update_action(self, actor: str, action_id: int, **changes: Any) -> dict[str, Any]:
        """Change an action's status, owner, due, expected_impact, title or description.

        AppDbError on an unknown id, field or status. The audit entry records each field's before/after."""
        unknown = sorted(set(changes) - set(ACTION_FIELDS))
        if unknown:
            raise AppDbError(
                f"cannot change {', '.join(unknown)} of an action; choose among {', '.join(ACTION_FIELDS)}"
            )
        clean: dict[str, Any] = {}
        for field, value in changes.items():
            if field == "status":
                if value not in ACTION_STATUSES:
                    raise AppDbError(f"status {value!r}: choose one of {', '.join(ACTION_STATUSES)}")
                clean[field] = value
            elif field == "due":
                clean[field] = _due(value)
            elif field == "expected_impact":
                clean[field] = to_money(value)
            elif field == "description":
                clean[field] = _text(value, "description", 10_000, required=False)
            else:
                clean[field] = _text(value, field, 200 if field == "title" else 100)
        with self._write() as s:
            row = s.get(ActionRow, action_id) if _valid_id(action_id) else None
            if row is None:
                raise AppDbError(f"no action with id {action_id!r}")
            diff = {f: {"before": getattr(row, f), "after": v} for f, v in clean.items() if getattr(row, f) != v}
            if diff:
                for f, d in diff.items():
                    setattr(row, f, d["after"])
                row.updated_at = utc_now()
                s.flush()
                append_audit(
                    s,
                    _text(actor, "actor", 100),
                    "action.update",
                    "action",
                    row.id,
                    {"changes": diff},
                )
            return action_dict(row)

    def get_action(self, action_id: int) -> dict[str, Any] | None:
        with self._read() as s:
            row = s.get(ActionRow, action_id) if _valid_id(action_id) else None
            return action_dict(row) if row else None

    def list_actions(self, status: str | None = None) -> list[dict[str, Any]]:
        """Actions in creation order, optionally of one status."""
        if status is not None and status not in ACTION_STATUSES:
            raise AppDbError(f"status {status!r}: choose one of {', '.join(ACTION_STATUSES)}")
        query = select(ActionRow).order_by(ActionRow.id)
        if status is not None:
            query = query.where(ActionRow.status == status)
        with self._read() as s:
            return [action_dict(r) for r in s.scalars(query)]

    def overdue_actions(self, today: date) -> list[dict[str, Any]]:
        """Open or in-progress actions due before `today`, the most overdue first."""
        query = (
            select(ActionRow)
            .where(ActionRow.due < _due(today), ActionRow.status.in_(OPEN_STATUSES))
            .order_by(ActionRow.due, ActionRow.id)
        )
        with self._read() as s:
            return [action_dict(r) for r in s.scalars(query)]

    # -- guardrails (they live in model/guardrails.yaml; the app database only records the change)
    def record_guardrail_change(self, actor: str, kpi: str, before: dict | None, after: dict | None) -> None:
        """Audit a guardrail added (before None), changed, or removed (after None)."""
        action = "guardrail.add" if before is None else "guardrail.remove" if after is None else "guardrail.change"
        with self._write() as s:
            append_audit(
                s,
                _text(actor, "actor", 100),
                action,
                "guardrail",
                _text(kpi, "kpi", 200),
                {"before": before, "after": after},
            )

    # -- decisions on the matching engine's proposals
    def record_match_decision(
        self, actor: str, kind: str, match_id: str, decision: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Record that a person confirmed or rejected a proposed bank or invoice match.

        The payload is stored as JSON: Decimals and dates come back as text."""
        if kind not in MATCH_KINDS:
            raise AppDbError(f"kind {kind!r}: choose one of {', '.join(MATCH_KINDS)}")
        if decision not in MATCH_DECISIONS:
            raise AppDbError(f"decision {decision!r}: choose one of {', '.join(MATCH_DECISIONS)}")
        if not isinstance(payload, dict):
            raise AppDbError("the match decision's payload must be a mapping")
        data = jsonable(payload)
        row = MatchDecisionRow(
            kind=kind,
            match_id=_text(match_id, "match_id", 200),
            decision=decision,
            payload=canonical_json(data),
            actor=_text(actor, "actor", 100),
            at=utc_now(),
        )
        with self._write() as s:
            s.add(row)
            s.flush()
            append_audit(
                s,
                row.actor,
                f"match.{decision}",
                "match",
                f"{kind}:{row.match_id}",
                {"kind": kind, "decision": decision, "payload": data},
            )
            return decision_dict(row)

    def match_decisions(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The latest decision per (kind, match_id), in the order they were last decided."""
        query = select(MatchDecisionRow).order_by(MatchDecisionRow.id)
        if kind is not None:
            query = query.where(MatchDecisionRow.kind == kind)
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        with self._read() as s:
            for row in s.scalars(query):
                key = (row.kind, row.match_id)
                latest.pop(key, None)
                latest[key] = decision_dict(row)
        return list(latest.values())


def _valid_id(value: Any) -> bool:
    """An id the tables can hold (a 32-bit key on PostgreSQL): anything else names no row."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31
