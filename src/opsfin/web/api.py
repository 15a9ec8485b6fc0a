"""REST API, read side (`/api/v1`): KPIs, alerts, bottlenecks, variances, unit economics, loads, quarantine.

Every endpoint authenticates (`auth.identify`), calls `authz.authorize` and returns the rows of the same
engine call as the CLI's `--format json`, limited to the caller's site scope (queries.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, StringConstraints

from ..jsonout import dumps
from . import queries
from .auth import identify
from .authz import authorize
from .problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["read"], responses=PROBLEM_RESPONSES)

# the shapes the server accepts, written into the OpenAPI document so a client (and Schemathesis) knows them
DAY = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DAY_OR_MONTH = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"  # an id or name of the model: a KPI, a site, a table, a load
WHERE = r"^[a-z_]+=[^,=]+(,[^,=]+)*$"
Grain = Literal["day", "week", "month", "quarter", "year"]
From = Annotated[str | None, Query(alias="from", pattern=DAY, description="first day, YYYY-MM-DD"),
                 AfterValidator(queries.year_in_range)]
To = Annotated[str | None, Query(pattern=DAY, description="last day, YYYY-MM-DD"),
               AfterValidator(queries.year_in_range)]
FromMonth = Annotated[str | None, Query(alias="from", pattern=DAY_OR_MONTH,
                                        description="first month (YYYY-MM) or day (YYYY-MM-DD)"),
                      AfterValidator(queries.year_in_range)]
ToMonth = Annotated[str | None, Query(pattern=DAY_OR_MONTH, description="last month (YYYY-MM) or day (YYYY-MM-DD)"),
                    AfterValidator(queries.year_in_range)]
Site = Annotated[str | None, Query(pattern=NAME, max_length=100,
                                   description="only this site (must be inside your site scope)")]
Name = Annotated[str | None, Query(pattern=NAME, max_length=100)]


def json_rows(data: Any, status: int = 200) -> Response:
    """JSON with the CLI's encoder: exact decimals as strings, ISO dates."""
    return Response(dumps(data, indent=None), status_code=status, media_type="application/json")


def grant_for(request: Request, permission: str = "read", **kw):
    return authorize(identify(request).user, permission, **kw)


def results(request: Request):
    return request.app.state.opsfin.results


@router.get("/kpis", summary="The KPI catalog")
def list_kpis(request: Request) -> Response:
    """Every KPI of `model/kpis.yaml` (site-scoped users: the KPIs that carry a site)."""
    return json_rows(queries.catalog_rows(results(request), grant_for(request)))


@router.get("/kpis/{kpi}", summary="One KPI by period and dimension")
def get_kpi(request: Request, kpi: Annotated[str, Path(pattern=NAME, max_length=100)],
            grain: Annotated[Grain, Query(description="day, week, month, quarter or year")] = "month",
            by: Annotated[str | None, Query(pattern=r"^[a-z_]+(,[a-z_]+)*$",
                                            description="dimensions, comma-separated (site, work_center…)")] = None,
            where: Annotated[list[Annotated[str, StringConstraints(pattern=WHERE)]] | None,
                             Query(description="filter DIM=VALUE[,VALUE] (repeatable)")] = None,
            from_: From = None, to: To = None) -> Response:
    """The rows of `opsfin kpi KPI --grain … --by … --where … --from … --to … --format json`:
    `period_start, <by…>, kpi, value, numerator, denominator`."""
    grant = grant_for(request)
    rows = queries.kpi_rows(results(request), grant, kpi, grain, queries.split_list(by),
                            queries.parse_where(where), from_, to)
    return json_rows(rows)


@router.get("/alerts", summary="Guardrail breaches and anomalies")
def list_alerts(request: Request, from_: From = None, to: To = None, site: Site = None,
                kpi: Annotated[str | None, Query(pattern=NAME, max_length=100, description="only alerts on this KPI")]
                = None) -> Response:
    """`opsfin alerts --format json` rows plus `owner`, `grain`, `periods` and the `sites` they concern."""
    return json_rows(queries.alert_rows(results(request), grant_for(request), from_, to, site, kpi))


@router.get("/alerts/{alert_id}", summary="One alert")
def get_alert(request: Request, alert_id: Annotated[str, Path(min_length=1, max_length=300)]) -> Response:
    return json_rows(queries.find_alert(results(request), grant_for(request), alert_id))


@router.get("/bottlenecks", summary="The constraint work centre per site and period")
def list_bottlenecks(request: Request, grain: Grain = "month", from_: From = None, to: To = None,
                     site: Site = None) -> Response:
    return json_rows(queries.bottleneck_rows(results(request), grant_for(request), grain, from_, to, site))


@router.get("/variances", summary="The variance bridge, its split, or a category's source rows")
def list_variances(request: Request, from_: FromMonth = None, to: ToMonth = None,
                   budget: Annotated[str | None, Query(pattern=NAME, max_length=100,
                                                       description="volume_plan version")] = None,
                   by: Annotated[Literal["product", "work_center", "machine", "shift", "supplier", "customer"]
                                 | None, Query()] = None,
                   monthly: bool = False,
                   drill: Annotated[str | None, Query(pattern=NAME, max_length=100,
                                                      description="a category: return its source rows")] = None,
                   member: Annotated[str | None, Query(pattern=NAME, max_length=100,
                                                       description="with drill and by: one member's rows")] = None,
                   site: Site = None) -> Response:
    """`opsfin variance … --format json`. Site-scoped users ask for `by=work_center` or `by=machine`."""
    rows = queries.variance_rows(results(request), grant_for(request), from_, to, budget, by, monthly, drill,
                                 member, site)
    return json_rows(rows)


@router.get("/unit-economics", summary="Revenue, actual cost and contribution margin per group")
def list_unit_economics(request: Request,
                        by: Annotated[str | None, Query(pattern=r"^(product|family|site|shift|customer)"
                                                                r"(,(product|family|site|shift|customer))*$",
                                                        description="product, family, site, shift, customer")] = None,
                        scope: Annotated[Literal["product", "warehouse", "support"], Query()] = "product",
                        from_: From = None, to: To = None, site: Site = None) -> Response:
    rows = queries.unit_economics_rows(results(request), grant_for(request), by, from_, to, scope, site)
    return json_rows(rows)


@router.get("/loads", summary="Ingest and generator loads")
def list_loads(request: Request) -> Response:
    return json_rows(queries.load_rows(results(request), grant_for(request)))


@router.get("/quarantine", summary="Rows ingest refused, with the reason")
def list_quarantine(request: Request, load: Name = None, table: Name = None,
                    site: Site = None) -> Response:
    return json_rows(queries.quarantine_rows(results(request), grant_for(request), load, table, site))
