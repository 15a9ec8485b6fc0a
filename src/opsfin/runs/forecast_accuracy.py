"""Reading stored forecast versions and the shipments that arrived since, for `opsfin forecast accuracy`,
`opsfin forecast backtest` and the web's Forecast page (docs/forecasting.md "Accuracy and backtests").

The measuring is the engine's (`forecast/accuracy.py`, `forecast/backtest.py`); this module only reads the
warehouse (`forecast_versions`, `forecast_values`, shipments through `forecast.demand.shipped_series`) and
limits the members to a site scope. Nothing is written: a backtest stores no version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import UserError
from ..forecast.accuracy import accuracy, naive_for_versions, versions_without_actuals

if TYPE_CHECKING:
    from ..forecast.backtest import BacktestResult
    from ..workspace_folder import WorkspaceFolder

FORECAST_COLUMNS = ["version", "as_of", "level", "key", "ds", "p10", "p50", "p90", "model"]
SITE_LEVELS = ("site", "product_site")  # the levels whose members belong to one site


def key_site(level: str, key: str) -> str | None:
    """The site a member belongs to: a site's key, or the site of a `product_id/site_id` key; None for
    the members that mix sites (total, family, product)."""
    if level == "site":
        return key
    if level == "product_site":
        return key.rsplit("/", 1)[-1]
    return None


def within_sites(frame: pd.DataFrame, sites: list[str] | None) -> pd.DataFrame:
    """The rows of `frame` (with level and key) whose member belongs to one of `sites`; all rows when None."""
    if sites is None:
        return frame
    wanted = set(sites)
    keep = [key_site(lv, k) in wanted for lv, k in zip(frame["level"], frame["key"], strict=True)]
    return frame[keep]


def _month(value) -> dt.date:
    return pd.Timestamp(value).date().replace(day=1)


def stored_versions(ws: WorkspaceFolder) -> pd.DataFrame:
    """Every stored forecast version, oldest first: version, as_of, horizon, level, models, created_at
    (none in a warehouse made before forecasts were stored)."""
    present = ws.sql("SELECT table_name FROM information_schema.tables WHERE table_name = 'forecast_versions'")
    if present.is_empty():
        return pd.DataFrame(columns=["version", "as_of", "horizon", "level", "models", "created_at"])
    rows = ws.sql(
        "SELECT version, as_of, horizon, level, models, created_at FROM forecast_versions ORDER BY created_at, version"
    ).to_pandas()
    rows["as_of"] = [_month(a) for a in rows["as_of"]]
    return rows


def stored_forecasts(ws: WorkspaceFolder, versions: list[str]) -> pd.DataFrame:
    """The values of `versions` as FORECAST_COLUMNS (ds = the month forecast, as_of = the version's)."""
    if not versions:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    marks = ", ".join("?" for _ in versions)
    rows = ws.sql(
        "SELECT v.version, f.as_of, v.level, v.key, v.period AS ds, v.p10, v.p50, v.p90, v.model "
        "FROM forecast_values v JOIN forecast_versions f USING (version) "
        f"WHERE v.version IN ({marks}) ORDER BY v.version, v.level, v.key, v.period",
        list(versions),
    ).to_pandas()
    rows["ds"] = pd.to_datetime(rows["ds"])
    rows["as_of"] = pd.to_datetime(rows["as_of"])
    return rows[FORECAST_COLUMNS]


def last_shipment_month(ws: WorkspaceFolder) -> dt.date | None:
    """The first day of the latest month with a shipment (None without shipments)."""
    last = ws.sql("SELECT max(shipped_date) AS d FROM shipments")["d"][0]
    return None if last is None else last.replace(day=1)


def product_families(ws: WorkspaceFolder) -> pd.DataFrame:
    return ws.sql("SELECT product_id, family FROM products ORDER BY product_id").to_pandas()


@dataclass
class Arrived:
    """The shipments that arrived: `bottom` (product_id, site_id, ds, y), `actuals` at every level
    (level, key, ds, y), the product families, and the last month (None when nothing shipped)."""

    bottom: pd.DataFrame
    actuals: pd.DataFrame
    families: pd.DataFrame
    last: dt.date | None


def arrived(ws: WorkspaceFolder) -> Arrived:
    """Every month of shipments in the warehouse, at every level of the hierarchy."""
    from ..forecast.demand import shipped_series
    from ..forecast.hierarchy import aggregate

    families = product_families(ws)
    last = last_shipment_month(ws)
    if last is None:
        empty = pd.DataFrame(columns=["level", "key", "ds", "y"])
        return Arrived(pd.DataFrame(columns=["product_id", "site_id", "ds", "y"]), empty, families, None)
    with ws.engine_tables() as tables:
        bottom = shipped_series(tables, last)
    return Arrived(bottom, aggregate(bottom, families), families, last)


@dataclass
class AccuracyReport:
    """`rows`: the accuracy rows (forecast/accuracy.py ACCURACY_COLUMNS); `notes`: versions without
    actuals yet, and other things to say; `versions`: the versions asked about."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)


def accuracy_report(
    ws: WorkspaceFolder,
    version: str | None = None,
    sites: list[str] | None = None,
    data: Arrived | None = None,
) -> AccuracyReport:
    """How every stored version (or `version`) did against the actuals that arrived since; with `sites`,
    only the members of those sites (the site and product × site levels). `data`: `arrived(ws)` if read."""
    known = stored_versions(ws)
    names = list(known["version"])
    if version is not None and version not in names:
        hint = f"stored versions: {', '.join(names)}" if names else "no version is stored yet"
        raise UserError("unknown forecast version", param="version", value=version, hint=hint)
    asked = [version] if version is not None else names
    if not asked:
        return AccuracyReport(pd.DataFrame(), ["no forecast version is stored yet: run `opsfin forecast demand`"])
    forecasts = within_sites(stored_forecasts(ws, asked), sites)
    data = data or arrived(ws)
    actuals = within_sites(data.actuals, sites)
    rows = accuracy(forecasts, actuals, naive_for_versions(forecasts, actuals))
    notes = []
    as_of = dict(zip(known["version"], known["as_of"], strict=True))
    since = f"the last shipment month is {data.last:%Y-%m}" if data.last else "nothing has shipped"
    visible = set(forecasts["version"])
    for name in versions_without_actuals(pd.DataFrame({"version": asked}), rows):
        if name in visible:
            notes.append(f"version {name} (as of {as_of[name]:%Y-%m}): no actuals yet after its as-of month ({since})")
        else:
            notes.append(f"version {name}: no forecast at the sites you see")
    return AccuracyReport(rows, notes, asked)


def backtest_report(
    ws: WorkspaceFolder, origins: int, horizon: int, models: tuple[str, ...] = ("auto",)
) -> BacktestResult:
    """Rolling-origin backtest of the demand forecast over the warehouse's shipments (nothing stored)."""
    from ..forecast.backtest import backtest, backtest_origins, demand_forecaster

    if origins < 1:
        raise UserError("{param} must be at least 1", param="origins", value=origins)
    if horizon < 1:
        raise UserError("{param} must be at least 1", param="horizon", value=horizon)
    data = arrived(ws)
    if data.last is None:
        raise UserError("nothing has shipped yet: there is no history to backtest", param="origins", value=origins)
    first = _month(pd.to_datetime(data.bottom["ds"]).min())
    chosen, notes = backtest_origins(first, data.last, origins, horizon)
    if not chosen:
        raise UserError(
            f"the history ({first:%Y-%m} to {data.last:%Y-%m}) is too short for a {horizon}-month backtest",
            param="horizon",
            value=horizon,
            hint="ask for a shorter horizon",
        )
    result = backtest(data.bottom, data.families, data.actuals, chosen, demand_forecaster(horizon, models))
    result.notes = notes + result.notes
    return result


CHART_LEVELS = ("family", "site")  # the members the Forecast page draws
CHART_HISTORY_MONTHS = 24  # actual months drawn before a version's as-of month


@dataclass
class ForecastPage:
    """What the web's Forecast page shows for one version: `versions` (stored_versions rows, newest
    first), `version` (the one shown, None when none is stored), `series` (one per family and site
    member the sites allow: level, key, actuals [(month, y)], forecast [(month, p10, p50, p90)]) and
    `accuracy` (accuracy_report of the version at those sites)."""

    versions: list[dict]
    version: str | None
    series: list[dict] = field(default_factory=list)
    accuracy: AccuracyReport | None = None


def forecast_page(ws: WorkspaceFolder, version: str | None = None, sites: list[str] | None = None) -> ForecastPage:
    """The newest stored version (or `version`: a UserError when unknown), limited to `sites` (None: all;
    then the family members are shown too, which mix sites)."""
    known = stored_versions(ws)
    listed = known.sort_values(["created_at", "version"], ascending=False).to_dict("records")
    if not listed:
        return ForecastPage([], None)
    name = version or listed[0]["version"]
    data = arrived(ws)
    report = accuracy_report(ws, name, sites, data)
    values = within_sites(stored_forecasts(ws, [name]), sites)
    values = values[values["level"].isin(CHART_LEVELS)]
    as_of = next(v["as_of"] for v in listed if v["version"] == name)
    start = pd.Timestamp(as_of) - pd.DateOffset(months=CHART_HISTORY_MONTHS - 1)
    actuals = data.actuals[pd.to_datetime(data.actuals["ds"]) >= start]
    series = []
    for level in CHART_LEVELS:
        mine = values[values["level"] == level]
        for key, part in mine.groupby("key", sort=True):
            seen = actuals[(actuals["level"] == level) & (actuals["key"] == key)]
            series.append(
                {
                    "level": level,
                    "key": key,
                    "actuals": [(_month(d), float(y)) for d, y in zip(seen["ds"], seen["y"], strict=True)],
                    "forecast": [
                        (_month(r.ds), float(r.p10), float(r.p50), float(r.p90))
                        for r in part.sort_values("ds").itertuples(index=False)
                    ],
                }
            )
    return ForecastPage(listed, name, series, report)
