"""What each endpoint and page shows: engine rows (results.py) limited to the caller's grant.

Every function takes a `Grant` from `authz.authorize` and applies its site scope; the API (api.py) and
the pages (pages.py) call the same functions, so a page never shows a row its API refuses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..core import dimensions
from ..errors import UserError
from ..kpis.catalog import catalog_row
from .authz import Grant
from .problems import Problem, user_error_problem
from .results import Results

if TYPE_CHECKING:
    from ..alerts.model import Alert

# variance splits that carry a site (a work centre or machine belongs to one site)
SITE_VARIANCE_DIMS = ("work_center", "machine")
UNASSIGNED = "(unassigned)"


YEARS = range(1900, 3000)  # dates the app accepts: any business's, with room for month arithmetic


def year_in_range(value: str | None) -> str | None:
    """A date or month parameter (YYYY-MM-DD, YYYY-MM) whose year lies in 1900–2999, else a ValueError
    (engines add months to the dates they are given: year 9999 would overflow the calendar)."""
    if value and value[:4].isdigit() and int(value[:4]) not in YEARS:
        raise ValueError(f"{value!r} is out of range: give a date in the years {YEARS[0]}–{YEARS[-1]}")
    return value


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_where(items: Iterable[str] | None) -> dict[str, list[str]]:
    """`where=site=P1` (repeatable, values may list `a,b`), parsed as the CLI's --where is; 400 otherwise."""
    try:
        return dimensions.parse_where(items)
    except UserError as exc:
        raise user_error_problem(exc) from None


# ---------------------------------------------------------------- KPIs
def catalog_rows(results: Results, grant: Grant) -> list[dict[str, Any]]:
    """The KPI catalog; site-scoped users see only KPIs that carry a site."""
    rows = []
    for k in results.catalog().values():
        if grant.scoped and "site" not in k.dims:
            continue
        rows.append(catalog_row(k))
    return rows


def kpi_definition(results: Results, kpi: str):
    catalog = results.catalog()
    if kpi not in catalog:
        raise Problem(404, f"unknown KPI {kpi!r}; GET /api/v1/kpis lists the catalog")
    return catalog[kpi]


def kpi_rows(
    results: Results,
    grant: Grant,
    kpi: str,
    grain: str = "month",
    by: list[str] | None = None,
    where: dict[str, list[str]] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[dict[str, Any]]:
    """The rows of `opsfin kpi KPI --format json`; for a scoped user the site filter is forced."""
    definition = kpi_definition(results, kpi)
    twice = sorted({d for d in by or () if list(by or ()).count(d) > 1})
    if twice:
        raise Problem(400, f"by names {', '.join(twice)} twice; list each dimension once")
    where = {d: list(v) for d, v in (where or {}).items()}
    if grant.scoped:
        if "site" not in definition.dims:
            raise Problem(
                403,
                f"{kpi} has no site dimension: it mixes every site's data and is hidden from site-scoped users",
            )
        where["site"] = grant.site_filter(where.get("site")) or []
    key = tuple(sorted((d, tuple(v)) for d, v in where.items()))
    rows = results.kpi(kpi, grain, tuple(by or ()), key, start, end)
    if grant.scoped:
        forced = where["site"]
        rows = grant.keep(rows, lambda r: r["site"] if "site" in r else forced)
    return rows


# ---------------------------------------------------------------- alerts
def alert_rows(
    results: Results,
    grant: Grant,
    start: str | None = None,
    end: str | None = None,
    site: str | None = None,
    kpi: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts as `opsfin alerts --format json`, plus owner, grain, periods and the site(s) they concern."""
    sites = results.site_map()
    out = [_alert_row(a, sites.sites_of_scope(a.scope)) for a in results.alerts(start, end)]
    out = grant.keep(out, lambda r: r["sites"] or None)
    if site:
        out = [r for r in out if site in r["sites"]]
    if kpi:
        out = [r for r in out if r["kpi"] == kpi]
    return out


def find_alert(results: Results, grant: Grant, alert_id: str) -> dict[str, Any]:
    sites = results.site_map()
    for a in results.alerts():
        if a.id == alert_id:
            named = sites.sites_of_scope(a.scope)
            if not grant.sees(named):
                raise Problem(
                    403,
                    f"alert {alert_id} concerns {', '.join(sorted(named or [])) or 'the company'}, "
                    "outside your site scope",
                )
            return _alert_row(a, named)
    raise Problem(404, f"no alert {alert_id!r} (alert ids change when the data or guardrails change)")


def _alert_row(a: Alert, named: Iterable[str] | None) -> dict[str, Any]:
    """An alert as `opsfin alerts --format json`, plus owner, grain, periods and its sites (`named`)."""
    return a.to_dict() | {
        "owner": a.owner,
        "grain": a.grain,
        "periods": a.periods,
        "sites": sorted(named) if named else [],
    }


# ---------------------------------------------------------------- operations
def bottleneck_rows(
    results: Results,
    grant: Grant,
    grain: str = "month",
    start: str | None = None,
    end: str | None = None,
    site: str | None = None,
) -> list[dict[str, Any]]:
    rows = grant.keep(results.bottlenecks(grain, start, end), lambda r: r["site"])
    return [r for r in rows if r["site"] == site] if site else rows


# ---------------------------------------------------------------- variances
def variance_rows(
    results: Results,
    grant: Grant,
    start: str | None = None,
    end: str | None = None,
    budget: str | None = None,
    by: str | None = None,
    monthly: bool = False,
    drill: str | None = None,
    member: str | None = None,
    site: str | None = None,
) -> list[dict[str, Any]]:
    """The bridge (or with `drill` its source rows). Site-scoped users (or a `site` filter) get only the
    split by work centre or machine, limited to members of their sites; the company bridge, its total and
    the unassigned parts are hidden from them."""
    limited = grant.scoped or site is not None
    if limited and by not in SITE_VARIANCE_DIMS:
        raise Problem(
            403 if grant.scoped else 400,
            "the company variance bridge mixes every site's data; with a site scope or filter ask for "
            "by=work_center or by=machine (the splits that belong to a site)",
        )
    sites = results.site_map()
    wanted = grant.site_filter([site] if site else None)
    if drill is not None and limited:
        if member is None:
            raise Problem(
                403 if grant.scoped else 400,
                "with a site scope or filter, drill into one member: by=work_center&member=…",
            )
        member_site = sites.site_of(by or "", member)
        if member_site is None or member_site not in (wanted or []):
            raise Problem(403, f"{by} {member} is not in {', '.join(wanted or [])}")
    rows = results.variance(start=start, end=end, budget=budget, by=by, monthly=monthly, drill=drill, member=member)
    if drill is not None or not limited:
        return rows

    def site_of(r: dict) -> str | None:
        return sites.site_of(by or "", r.get(by or ""))

    rows = [r for r in rows if r["category"] != "total" and r.get(by) != UNASSIGNED]
    rows = grant.keep(rows, site_of)
    return [r for r in rows if site_of(r) in (wanted or [])]


# ---------------------------------------------------------------- unit economics
def unit_economics_rows(
    results: Results,
    grant: Grant,
    by: str | None = None,
    start: str | None = None,
    end: str | None = None,
    scope: str = "product",
    site: str | None = None,
) -> list[dict[str, Any]]:
    """Unit economics; with a site scope or filter the split is forced to carry the site (by … ,site)."""
    limited = grant.scoped or site is not None
    dims = split_list(by)
    if scope == "product" and limited and "site" not in dims:
        dims = [*(dims or ["product"]), "site"]
    if scope != "product" and dims:
        raise Problem(400, f"by applies to scope=product only (got scope={scope})")
    rows = results.unit_economics(",".join(dims) or None, start, end, scope)
    if not limited:
        return rows
    sites = results.site_map()
    wanted = grant.site_filter([site] if site else None) or []

    def site_of(r: dict) -> str | None:
        if "site_id" in r:
            return r["site_id"]
        return sites.site_of("cost_center", r.get("cost_center_id"))

    return [r for r in grant.keep(rows, site_of) if site_of(r) in wanted]


# ---------------------------------------------------------------- data
def load_rows(results: Results, grant: Grant) -> list[dict[str, Any]]:
    """Loads name no site: they are listed for unscoped users only."""
    return grant.keep(results.loads(), lambda r: None)


def quarantine_rows(
    results: Results,
    grant: Grant,
    load: str | None = None,
    table: str | None = None,
    site: str | None = None,
) -> list[dict[str, Any]]:
    """A quarantined row belongs to the site its raw record names; rows naming none are for unscoped users."""
    rows = grant.keep(results.quarantine(load, table), lambda r: r["site"])
    return [r for r in rows if r["site"] == site] if site else rows


# ---------------------------------------------------------------- collaboration
def visible_comments(grant: Grant, comments: list[dict]) -> list[dict]:
    return grant.keep(comments, lambda c: c.get("site"))


def visible_actions(grant: Grant, actions: list[dict]) -> list[dict]:
    return grant.keep(actions, lambda a: a.get("site"))
