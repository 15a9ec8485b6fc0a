"""Plan versions and their approval (maker-checker), of `AppDB` (docs/planning-versions.md).

A version's numbers live in the warehouse keyed by its name; the app database keeps what it is (kind,
based_on, as_of) and where it stands:

    draft --submit--> submitted --approve--> approved --archive--> archived
      ^                   |
      +------reject-------+   (a reason is required; the last rejection is kept)

- `submit`: any enabled user who may write (analyst, controller, admin; never a viewer);
- `approve`, `reject`, `archive`: a controller or an admin; never approved by the user who submitted it;
- a site-scoped user may read versions but never changes one: a version covers every site.

Every step appends its audit entry (`plan.<step>`, object `plan <name>`) in the same transaction as the
change. A refusal writes nothing and says why: `PlanRefused` (who may not), `PlanConflict` (the version's
status does not allow the step, or the name is taken), `PlanNotFound`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from .audit import append_audit
from .errors import AppDbError
from .models import NAME, PlanVersionRow, UserRow
from .sessions import SessionsMixin
from .types import utc_now

KINDS = ("budget", "forecast", "scenario")
STATUSES = ("draft", "submitted", "approved", "archived")
WRITERS = ("analyst", "controller", "admin")  # may create and submit
CHECKERS = ("controller", "admin")  # may approve, reject, archive
# step -> (the status it starts from, the status it leads to, the roles that may take it)
STEPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "submit": ("draft", "submitted", WRITERS),
    "approve": ("submitted", "approved", CHECKERS),
    "reject": ("submitted", "draft", CHECKERS),
    "archive": ("approved", "archived", CHECKERS),
}
PAST = {"submit": "submitted", "approve": "approved", "reject": "rejected", "archive": "archived"}
# as forecast versions (runs/forecast.py), plus `+`: a scenario's version is `<base>+<scenario>` (docs/scenarios.md)
VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]{0,99}")
REASON_MAX = 2000
FIELDS = (
    "name",
    "kind",
    "status",
    "based_on",
    "as_of",
    "created_by",
    "created_at",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "rejected_by",
    "rejected_at",
    "rejected_reason",
    "archived_by",
    "archived_at",
)


class PlanRefused(AppDbError):
    """The acting user may not take this step (unknown, disabled, role, site scope, or the submitter)."""


class PlanConflict(AppDbError):
    """The version's status does not allow the step, or a new version's name is taken."""


class PlanNotFound(AppDbError):
    """No plan version of that name in the app database."""


def plan_dict(row: PlanVersionRow) -> dict[str, Any]:
    return {f: getattr(row, f) for f in FIELDS}


def check_version_name(name: object, what: str = "plan version") -> str:
    if not isinstance(name, str) or not VERSION_NAME.fullmatch(name):
        raise AppDbError(f"{what} {name!r}: use 1 to 100 letters, digits and . _ - + (starting with a letter or digit)")
    return name


def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise AppDbError(f"plan kind {kind!r}: choose one of {', '.join(KINDS)}")
    return str(kind)


def _first_of_month(as_of: object) -> date | None:
    if as_of is None:
        return None
    if type(as_of) is not date:
        raise AppDbError(f"as_of {as_of!r}: give a month (a date on its first day)")
    return as_of.replace(day=1)


def acting_user(s: Session, name: object, step: str, allowed: tuple[str, ...]) -> UserRow:
    """The enabled, unscoped app user `name` holding one of `allowed` roles, or PlanRefused saying why."""
    row = s.scalar(select(UserRow).where(UserRow.name == name)) if isinstance(name, str) else None
    if row is None:
        raise PlanRefused(f"no app user named {name!r} (see opsfin users list)")
    if row.disabled:
        raise PlanRefused(f"user {row.name} is disabled")
    if row.role not in allowed:
        raise PlanRefused(
            f"user {row.name} ({row.role}) may not {step} a plan version: only {' or '.join(allowed)} may"
        )
    if row.sites is not None:
        raise PlanRefused(
            f"user {row.name} is limited to some sites; a plan version covers every site, "
            f"so only a user without a site scope may {step} it"
        )
    return row


def _check_reason(reason: object) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise AppDbError("a rejection needs a reason: say what to change")
    if len(text) > REASON_MAX:
        raise AppDbError(f"the reason is {len(text)} characters; keep it under {REASON_MAX}")
    return text


def _refuse_step(row: PlanVersionRow, step: str, user: UserRow) -> None:
    """PlanConflict when the status does not allow `step`; PlanRefused when the submitter approves."""
    start = STEPS[step][0]
    if row.status != start:
        raise PlanConflict(
            f"plan version {row.name} is {row.status}; only a version that is {start} can be {PAST[step]}"
            + (" (an archived version is final)" if row.status == "archived" else "")
        )
    if step == "approve" and row.submitted_by == user.name:
        raise PlanRefused(
            f"user {user.name} submitted plan version {row.name} and may not approve it too: "
            "another controller or admin approves (maker-checker)"
        )


class PlansMixin(SessionsMixin):
    """Plan versions of `AppDB`: register, create, list, and the approval steps."""

    def plan_version(self, name: str) -> dict[str, Any] | None:
        """The version's fields (FIELDS), or None when the app database does not know it."""
        with self._read() as s:
            row = s.scalar(select(PlanVersionRow).where(PlanVersionRow.name == name))
            return plan_dict(row) if row else None

    def plan_versions(self) -> list[dict[str, Any]]:
        """Every registered version, by name."""
        with self._read() as s:
            return [plan_dict(r) for r in s.scalars(select(PlanVersionRow).order_by(PlanVersionRow.name))]

    def create_plan_version(
        self,
        name: str,
        kind: str,
        actor: str,
        *,
        based_on: str | None = None,
        as_of: date | None = None,
        as_user: bool = True,
        status: str = "draft",
    ) -> dict[str, Any]:
        """Register a new version (audited `plan.create`). `as_user`: `actor` must be an app user who may
        write (the CLI's `--user`, the web's login); False for a writer such as a build, named as it names
        itself. `status` "approved" registers an existing approved budget (the demo's), approved by `actor`."""
        check_version_name(name)
        check_kind(kind)
        if based_on is not None:
            check_version_name(based_on, "based_on")
        month = _first_of_month(as_of)
        if status not in ("draft", "approved"):
            raise AppDbError(f"a new plan version is draft (or registered approved), not {status!r}")
        if not isinstance(actor, str) or not actor.strip() or len(actor) > NAME:
            raise AppDbError("actor must be a name of 1 to 100 characters")
        try:
            with self._write() as s:
                if as_user:
                    acting_user(s, actor, "create", WRITERS)
                existing = s.scalar(select(PlanVersionRow).where(PlanVersionRow.name == name))
                if existing is not None:
                    raise PlanConflict(f"plan version {name} exists already ({existing.status})")
                now = utc_now()
                row = PlanVersionRow(
                    name=name,
                    kind=kind,
                    based_on=based_on,
                    as_of=month,
                    status=status,
                    created_by=actor,
                    created_at=now,
                    approved_by=actor if status == "approved" else None,
                    approved_at=now if status == "approved" else None,
                )
                s.add(row)
                s.flush()
                payload = {"kind": kind, "status": status, "based_on": based_on, "as_of": month}
                append_audit(s, actor, "plan.create", "plan", name, payload)
                return plan_dict(row)
        except exc.IntegrityError:  # created by someone else between our check and our insert
            raise PlanConflict(f"plan version {name} exists already") from None

    def submit_plan_version(self, name: str, actor: str) -> dict[str, Any]:
        """draft → submitted, by an app user who may write."""
        return self._step(name, "submit", actor)

    def approve_plan_version(self, name: str, actor: str) -> dict[str, Any]:
        """submitted → approved, by a controller or admin other than the submitter."""
        return self._step(name, "approve", actor)

    def reject_plan_version(self, name: str, actor: str, reason: str) -> dict[str, Any]:
        """submitted → draft, by a controller or admin, with a reason (kept as the last rejection)."""
        return self._step(name, "reject", actor, _check_reason(reason))

    def archive_plan_version(self, name: str, actor: str) -> dict[str, Any]:
        """approved → archived, by a controller or admin (final)."""
        return self._step(name, "archive", actor)

    def _step(self, name: str, step: str, actor: str, reason: str | None = None) -> dict[str, Any]:
        """Take one approval step in one transaction with its audit entry; nothing is written when refused."""
        start, end, allowed = STEPS[step]
        with self._write() as s:
            row = s.scalar(select(PlanVersionRow).where(PlanVersionRow.name == name))
            if row is None:
                raise PlanNotFound(f"no plan version named {name!r} (see opsfin plan list)")
            user = acting_user(s, actor, step, allowed)
            _refuse_step(row, step, user)
            now, who = utc_now(), user.name
            row.status = end
            if step == "submit":
                row.submitted_by, row.submitted_at = who, now
            elif step == "approve":
                row.approved_by, row.approved_at = who, now
            elif step == "reject":
                row.rejected_by, row.rejected_at, row.rejected_reason = who, now, reason
            else:
                row.archived_by, row.archived_at = who, now
            payload: dict[str, Any] = {"from": start, "to": end, "kind": row.kind}
            if reason is not None:
                payload["reason"] = reason
            append_audit(s, who, f"plan.{step}", "plan", row.name, payload)
            s.flush()
            return plan_dict(row)
