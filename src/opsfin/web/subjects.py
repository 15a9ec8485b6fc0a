"""What a comment or an action is about, and which site that subject belongs to.

Subject ids (the app database stores them as given):

| subject_type | subject_id | site |
| --- | --- | --- |
| `kpi` | the KPI id, e.g. `oee` | the site the view was filtered to (`site`), else company level |
| `alert` | `alert:<alert id>`, e.g. `alert:AL-1c54ec877e5a` | the one site the alert's scope names, else none |
| `variance` | `variance:YYYY-MM:<category>[:<dim>=<member>]` | the member's site for a work centre or machine |
| `action` | `action:<id>` | the action's site |
| `match` | `match:<kind>:<id>` | none (company level) |

The site is derived on the server from the subject, never taken from the client, except for a KPI
(whose figure exists at every site): there the client names the site of the view."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .problems import Problem
from .queries import SITE_VARIANCE_DIMS, kpi_definition
from .results import Results

MAX_ID = 2**31 - 1  # ids are INTEGER columns (int4 on PostgreSQL)
SUBJECT_TYPES = ("kpi", "alert", "variance", "action", "match")
_VARIANCE = re.compile(r"^variance:(\d{4}-\d{2}):([a-z_]+)(?::([a-z_]+)=(.+))?$")


@dataclass(frozen=True)
class Subject:
    type: str
    id: str
    site: str | None
    url: str  # the page that shows it
    label: str


def variance_subject_id(month: str, category: str, by: str | None = None, member: str | None = None) -> str:
    """The subject id of a month's variance category, or of one member of its split (`by=member`)."""
    return f"variance:{month}:{category}" + (f":{by}={member}" if by and member else "")


def normalise_id(subject_type: str, subject_id: str) -> str:
    subject_id = (subject_id or "").strip()
    if subject_type in ("alert", "variance", "action", "match") and not subject_id.startswith(subject_type + ":"):
        subject_id = f"{subject_type}:{subject_id}"
    return subject_id


def resolve(results: Results, db, subject_type: str, subject_id: str, site: str | None = None) -> Subject:
    """The subject with its site; 400 for a malformed id, 404 for an unknown subject."""
    if subject_type not in SUBJECT_TYPES:
        raise Problem(400, f"subject_type {subject_type!r}: choose one of {', '.join(SUBJECT_TYPES)}")
    subject_id = normalise_id(subject_type, subject_id)
    if subject_type == "kpi":
        k = kpi_definition(results, subject_id)
        if site is not None and "site" not in k.dims:
            raise Problem(400, f"{k.id} has no site dimension; comment on it without a site")
        if site is not None and site not in results.site_map().sites:
            raise Problem(404, f"unknown site {site!r}")
        query = f"?site={site}" if site else ""
        return Subject(
            "kpi",
            k.id,
            site,
            f"/kpis/{k.id}{query}",
            f"KPI {k.name}" + (f" at {site}" if site else ""),
        )
    if subject_type == "alert":
        alert_id = subject_id.split(":", 1)[1]
        sites = results.site_map()
        for a in results.alerts():
            if a.id == alert_id:
                named = sites.sites_of_scope(a.scope)
                one = next(iter(named)) if named and len(named) == 1 else None
                return Subject("alert", subject_id, one, f"/alerts/{alert_id}", f"alert on {a.kpi}")
        raise Problem(404, f"no alert {alert_id!r}")
    if subject_type == "variance":
        m = _VARIANCE.match(subject_id)
        if not m:
            raise Problem(400, f"subject_id {subject_id!r}: use variance:YYYY-MM:<category>[:<dim>=<member>]")
        period, category, dim, member = m.groups()
        member_site = None
        if dim is not None:
            if dim in SITE_VARIANCE_DIMS:
                member_site = results.site_map().site_of(dim, member)
                if member_site is None:
                    raise Problem(404, f"unknown {dim} {member!r}")
        url = f"/variances?period={period}&category={category}" + (f"&by={dim}" if dim else "")
        label = f"variance {category} {period}" + (f" ({dim} {member})" if dim else "")
        return Subject("variance", subject_id, member_site, url, label)
    if subject_type == "action":
        raw = subject_id.split(":", 1)[1]
        if not raw.isdigit():
            raise Problem(400, f"subject_id {subject_id!r}: use action:<id>")
        if int(raw) > MAX_ID:
            raise Problem(404, f"no action {raw}")
        action = db.get_action(int(raw))
        if action is None:
            raise Problem(404, f"no action {raw}")
        return Subject("action", subject_id, action.get("site"), f"/actions/{raw}", f"action {action['title']}")
    return Subject("match", subject_id, None, "/", subject_id)
