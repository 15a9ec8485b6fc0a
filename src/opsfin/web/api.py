"""REST API, read side (`/api/v1`): KPIs, alerts, bottlenecks, variances, unit economics, loads, quarantine.

Every endpoint authenticates (`auth.identify`), calls `authz.authorize` and returns the rows of the same
engine call as the CLI's `--format json`, limited to the caller's site scope (queries.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator

from ..jsonout import dumps
from . import queries
from .auth import identify
from .authz import authorize
from .problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["read"], responses=PROBLEM_RESPONSES)

# The shapes the server accepts, written into the OpenAPI document (`json_schema_extra`) so a client and
# Schemathesis know them. Documented, not enforced by FastAPI: the handlers and engines refuse a wrong value
# themselves with a 400 problem naming it (tests/test_web_api.py pins those messages). docs/web.md.
DAY = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DAY_OR_MONTH = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$"
# (an empty `by` or `as_of` means "not given", so their patterns allow the empty string)
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"  # an id or name of the model: a KPI, a site, a table, a load
WHERE = r"^[a-z_]+=[^,=]+(,[^,=]+)*$"
KPI_BY = r"^([a-z_]+(,[a-z_]+)*)?$"
UNIT_ECONOMICS_BY = r"^((product|family|site|shift|customer)(,(product|family|site|shift|customer))*)?$"
GRAINS = ["day", "week", "month", "quarter", "year"]
Grain = Annotated[str, Query(json_schema_extra={"enum": GRAINS}, description="day, week, month, quarter or year")]
From = Annotated[
    str | None,
    Query(alias="from", json_schema_extra={"pattern": DAY}, description="first day, YYYY-MM-DD"),
    AfterValidator(queries.year_in_range),
]
To = Annotated[
    str | None,
    Query(json_schema_extra={"pattern": DAY}, description="last day, YYYY-MM-DD"),
    AfterValidator(queries.year_in_range),
]
FromMonth = Annotated[
    str | None,
    Query(
        alias="from",
        json_schema_extra={"pattern": DAY_OR_MONTH},
        description="first month (YYYY-MM) or day (YYYY-MM-DD)",
    ),
    AfterValidator(queries.year_in_range),
]
ToMonth = Annotated[
    str | None,
    Query(json_schema_extra={"pattern": DAY_OR_MONTH}, description="last month (YYYY-MM) or day (YYYY-MM-DD)"),
    AfterValidator(queries.year_in_range),
]
# a filter: any text, an unknown site simply matches no row
Site = Annotated[str | None, Query(description="only this site (must be inside your site scope)")]
Name = Annotated[str | None, Query(json_schema_extra={"pattern": NAME, "maxLength": 100})]
# a plan version's name in a path (the plan pages and /api/v1/plans); the app database checks it again
VersionName = Annotated[
    str, Path(min_length=1, max_length=100, pattern=NAME, description="the plan version's name (e.g. B2026)")
]


def optional_day(description: str) -> Any:
    """The query of an optional day whose empty value means "not given" (as a page's form sends it)."""
    return Query(json_schema_extra={"pattern": f"^({DAY[1:-1]})?$"}, description=description)


def name_query(description: str, pattern: str = NAME) -> Any:
    """The query of an optional id or name of the model (a site, a version…): `pattern`, 100 characters at most."""
    return Query(json_schema_extra={"pattern": pattern, "maxLength": 100}, description=description)


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
def get_kpi(
    request: Request,
    kpi: Annotated[str, Path(json_schema_extra={"pattern": NAME, "maxLength": 100})],
    grain: Grain = "month",
    by: Annotated[
        str | None,
        Query(json_schema_extra={"pattern": KPI_BY}, description="dimensions, comma-separated (site, work_center…)"),
    ] = None,
    where: Annotated[
        list[str] | None,
        Query(
            json_schema_extra={"items": {"type": "string", "pattern": WHERE}},
            description="filter DIM=VALUE[,VALUE] (repeatable)",
        ),
    ] = None,
    from_: From = None,
    to: To = None,
) -> Response:
    """The rows of `opsfin kpi KPI --grain … --by … --where … --from … --to … --format json`:
    `period_start, <by…>, kpi, value, numerator, denominator`."""
    grant = grant_for(request)
    rows = queries.kpi_rows(
        results(request), grant, kpi, grain, queries.split_list(by), queries.parse_where(where), from_, to
    )
    return json_rows(rows)


@router.get("/alerts", summary="Guardrail breaches and anomalies")
def list_alerts(
    request: Request,
    from_: From = None,
    to: To = None,
    site: Site = None,
    kpi: Annotated[str | None, Query(description="only alerts on this KPI")] = None,
) -> Response:
    """`opsfin alerts --format json` rows plus `owner`, `grain`, `periods` and the `sites` they concern."""
    return json_rows(queries.alert_rows(results(request), grant_for(request), from_, to, site, kpi))


@router.get("/alerts/{alert_id}", summary="One alert")
def get_alert(request: Request, alert_id: Annotated[str, Path(json_schema_extra={"maxLength": 300})]) -> Response:
    return json_rows(queries.find_alert(results(request), grant_for(request), alert_id))


@router.get("/bottlenecks", summary="The constraint work centre per site and period")
def list_bottlenecks(
    request: Request, grain: Grain = "month", from_: From = None, to: To = None, site: Site = None
) -> Response:
    return json_rows(queries.bottleneck_rows(results(request), grant_for(request), grain, from_, to, site))


@router.get("/variances", summary="The variance bridge, its split, or a category's source rows")
def list_variances(
    request: Request,
    from_: FromMonth = None,
    to: ToMonth = None,
    budget: Annotated[str | None, name_query("volume_plan version")] = None,
    by: Annotated[
        str | None,
        Query(json_schema_extra={"enum": ["product", "work_center", "machine", "shift", "supplier", "customer"]}),
    ] = None,
    monthly: bool = False,
    drill: Annotated[str | None, name_query("a category: return its source rows")] = None,
    member: Annotated[str | None, Query(description="with drill and by: one member's rows")] = None,
    site: Site = None,
) -> Response:
    """`opsfin variance … --format json`. Site-scoped users ask for `by=work_center` or `by=machine`."""
    rows = queries.variance_rows(
        results(request), grant_for(request), from_, to, budget, by, monthly, drill, member, site
    )
    return json_rows(rows)


@router.get("/unit-economics", summary="Revenue, actual cost and contribution margin per group")
def list_unit_economics(
    request: Request,
    by: Annotated[
        str | None,
        Query(json_schema_extra={"pattern": UNIT_ECONOMICS_BY}, description="product, family, site, shift, customer"),
    ] = None,
    scope: Annotated[str, Query(json_schema_extra={"enum": ["product", "warehouse", "support"]})] = "product",
    from_: From = None,
    to: To = None,
    site: Site = None,
) -> Response:
    rows = queries.unit_economics_rows(results(request), grant_for(request), by, from_, to, scope, site)
    return json_rows(rows)


@router.get("/loads", summary="Ingest and generator loads")
def list_loads(request: Request) -> Response:
    return json_rows(queries.load_rows(results(request), grant_for(request)))


@router.get("/quarantine", summary="Rows ingest refused, with the reason")
def list_quarantine(request: Request, load: Name = None, table: Name = None, site: Site = None) -> Response:
    return json_rows(queries.quarantine_rows(results(request), grant_for(request), load, table, site))
