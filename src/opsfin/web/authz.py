"""Authorization: the one function every endpoint and page calls, `authorize(user, permission, …)`.

It decides two things in one place:
- **role**: may this user do this at all? Roles are ranked; each permission needs a minimum role
  (viewers read; analysts also comment; controllers also edit guardrails, create and update actions and
  decide matches; admins also manage users and tokens and read the audit log);
- **site scope**: a user created with `--sites` sees only rows of those sites. The returned `Grant`
  carries the scope and filters rows (`grant.keep`); a figure that mixes every site's data (a KPI without a
  site dimension such as DSO, the company variance bridge) is refused with `company_level=True`; a row that
  names no site is for unscoped users only.

A refusal is a `Problem`: 401 without a user, 403 for a role or a site the user may not reach."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .problems import Problem

ROLE_RANK = {"viewer": 0, "analyst": 1, "controller": 2, "admin": 3}

# permission -> the least role that holds it
PERMISSIONS: dict[str, str] = {
    "read": "viewer",  # every page and GET endpoint (rows still filtered by site)
    "export": "viewer",  # download the monthly pack
    "comment": "analyst",  # comments on KPIs, alerts, variances, actions
    "edit_guardrails": "controller",
    "manage_actions": "controller",  # create, update, confirm actions
    "decide_matches": "controller",  # confirm or reject matches
    "load_data": "controller",  # upload a file on the Data page, as `opsfin ingest` (unscoped users)
    "submit_plans": "analyst",  # create and submit plan versions (unscoped users: appdb/plans.py)
    "approve_plans": "controller",  # approve, reject, archive plan versions (never one's own submission)
    "manage_users": "admin",  # users and tokens
    "read_audit": "admin",
}


class _Unset:
    pass


UNSET: Any = _Unset()

SiteSet = frozenset[str] | None  # None: a row that names no site


@dataclass(frozen=True)
class Grant:
    """What `authorize` allowed: the user, the permission, and the sites the user may see (None = all)."""

    user: Any
    permission: str
    sites: frozenset[str] | None

    @property
    def scoped(self) -> bool:
        return self.sites is not None

    def sees(self, sites: str | Iterable[str] | None) -> bool:
        """A row belongs to `sites` (one site, several, or None when it names none). An unscoped user
        sees every row; a scoped user sees a row only when it names sites and all of them are theirs."""
        if self.sites is None:
            return True
        if sites is None:
            return False
        wanted = {sites} if isinstance(sites, str) else set(sites)
        return bool(wanted) and wanted <= self.sites

    def keep(self, rows: Iterable[dict], site_of: Callable[[dict], str | Iterable[str] | None]) -> list[dict]:
        """The rows this grant may see; `site_of(row)` names the row's site(s) or None."""
        rows = list(rows)
        if self.sites is None:
            return rows
        return [r for r in rows if self.sees(site_of(r))]

    def site_filter(self, requested: Iterable[str] | None) -> list[str] | None:
        """The sites a query must be limited to: the requested ones (each must be visible), or for a
        scoped user every site of the scope; None when nothing limits the query."""
        asked = sorted(set(requested)) if requested else []
        if self.sites is None:
            return asked or None
        outside = [s for s in asked if s not in self.sites]
        if outside:
            raise Problem(
                403,
                f"site {', '.join(outside)} is outside your site scope ({', '.join(sorted(self.sites))})",
            )
        return asked or sorted(self.sites)


def authorize(
    user,
    permission: str,
    *,
    site: str | Iterable[str] | None | _Unset = UNSET,
    company_level: bool = False,
) -> Grant:
    """Allow `user` to `permission`, or raise a Problem (401 no user, 403 role or site).

    `site`: the site(s) of the one object acted on (None = an object that names no site, which only
    unscoped users reach). `company_level=True`: the figure mixes every site's data, so site-scoped users
    may not see it."""
    if user is None or getattr(user, "disabled", False):
        raise Problem(
            401,
            "log in, or send an API token as `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    needed = PERMISSIONS.get(permission)
    if needed is None:
        raise ValueError(f"unknown permission {permission!r}")  # a programming error, not a user's
    if ROLE_RANK.get(user.role, -1) < ROLE_RANK[needed]:
        raise Problem(
            403,
            f"role {user.role} may not {permission.replace('_', ' ')} (needs {needed} or above)",
        )
    sites = getattr(user, "sites", None)
    grant = Grant(user, permission, frozenset(sites) if sites is not None else None)
    if company_level and grant.scoped:
        raise Problem(
            403,
            "this figure mixes every site's data; it is hidden from site-scoped users "
            f"(your sites: {', '.join(sorted(grant.sites or ()))})",
        )
    if not isinstance(site, _Unset) and not grant.sees(site):
        named = site if isinstance(site, str) else ", ".join(sorted(site)) if site is not None else "no site"
        raise Problem(
            403,
            f"this object belongs to {named or 'no site'}, outside your site scope "
            f"({', '.join(sorted(grant.sites or ()))})",
        )
    return grant


def can(user, permission: str) -> bool:
    """For templates: show a form only when `authorize` would allow it (the endpoint still checks)."""
    try:
        authorize(user, permission)
    except Problem:
        return False
    return True
