"""What the app database hands out: small immutable records (never a password or token hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ROLES = ("admin", "controller", "analyst", "viewer")
SUBJECT_TYPES = ("kpi", "alert", "variance", "action", "match")
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")
OPEN_STATUSES = ("open", "in_progress")
MATCH_KINDS = ("bank", "invoice")
MATCH_DECISIONS = ("confirmed", "rejected")


@dataclass(frozen=True)
class User:
    """A person who logs in. `sites` None = every site; otherwise the sites this user may see."""

    id: int
    name: str
    role: str
    sites: tuple[str, ...] | None
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Token:
    """A bearer token for machine access, acting as `user`. Only its hash is stored."""

    id: int
    name: str
    user: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
