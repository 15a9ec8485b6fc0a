"""Engine results for the web, through the Workspace methods and the result cache.

Nothing here computes a figure: each method calls the engine the CLI calls (`ws.kpi`, `ws.variance`,
`run_alerts`…) once per warehouse signature and hands out the rows. Site scope is applied by the
callers (queries.py), after the cache, so one cached result serves every user."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from .cache import ResultCache

SITE_DIMS = ("site", "work_center", "machine", "cost_center", "shift")
ID_COLUMNS = {"site_id": "site", "work_center_id": "work_center", "machine_id": "machine",
              "cost_center_id": "cost_center", "shift_id": "shift"}


@dataclass(frozen=True)
class SiteMap:
    """Which site each site-bearing dimension member belongs to (master data)."""

    members: dict[str, dict[str, str]]   # dim -> member -> site
    sites: dict[str, str]                # site id -> name
    shift_names: dict[str, str]          # shift id -> name (Early, Late…)

    def site_of(self, dim: str, member: Any) -> str | None:
        if member is None:
            return None
        if dim == "site":
            return str(member)
        return self.members.get(dim, {}).get(str(member))

    def sites_of_scope(self, scope: dict[str, str]) -> frozenset[str] | None:
        """The sites an alert scope (dim -> member, members may be 'a,b') names, or None."""
        found: set[str] = set()
        for dim, value in scope.items():
            if dim not in SITE_DIMS:
                continue
            for member in str(value).split(","):
                site = self.site_of(dim, member.strip())
                if site is None:
                    return None  # an unknown member: not provably one of the user's sites
                found.add(site)
        return frozenset(found) or None

    def sites_of_record(self, record: dict[str, Any] | None) -> frozenset[str] | None:
        """The site a raw (quarantined) record names: its site_id, else the site of a work centre,
        machine, cost centre or shift it names; None when it names none."""
        if not record:
            return None
        for column, dim in ID_COLUMNS.items():
            value = record.get(column)
            if value not in (None, ""):
                site = self.site_of(dim, value)
                if site is not None:
                    return frozenset({site})
        return None


class Results:
    """Cached engine calls over one workspace."""

    def __init__(self, ws):
        self.ws = ws
        self.cache = ResultCache(ws)

    # -- model and master data
    def catalog(self):
        return self.cache.get(("catalog",), self.ws.kpi_catalog)

    def guardrails(self):
        from ..alerts import load_guardrails

        return self.cache.get(("guardrails",), lambda: load_guardrails(self.ws.model_dir, self.catalog()))

    def site_map(self) -> SiteMap:
        def build() -> SiteMap:
            ws = self.ws
            members: dict[str, dict[str, str]] = {}
            members["work_center"] = dict(ws.sql("SELECT work_center_id, site_id FROM work_centers").iter_rows())
            members["machine"] = dict(ws.sql("SELECT m.machine_id, w.site_id FROM machines m "
                                             "JOIN work_centers w USING (work_center_id)").iter_rows())
            members["cost_center"] = dict(ws.sql("SELECT cost_center_id, site_id FROM cost_centers").iter_rows())
            members["shift"] = dict(ws.sql("SELECT shift_id, site_id FROM shifts").iter_rows())
            sites = dict(ws.sql("SELECT site_id, name FROM sites ORDER BY site_id").iter_rows())
            shift_names = dict(ws.sql("SELECT shift_id, name FROM shifts").iter_rows())
            return SiteMap(members, sites, shift_names)

        return self.cache.get(("site_map",), build)

    def months(self) -> list[dt.date]:
        """First days of the months that hold GL postings or machine readings, oldest first."""
        def build() -> list[dt.date]:
            rows = self.ws.sql(
                "SELECT DISTINCT m FROM (SELECT date_trunc('month', posting_date) AS m FROM gl_entries "
                "UNION SELECT date_trunc('month', hour_start) FROM machine_readings) WHERE m IS NOT NULL ORDER BY m")
            return [v.date() if isinstance(v, dt.datetime) else v for v in rows.to_series().to_list()]

        return self.cache.get(("months",), build)

    # -- engines
    def kpi(self, kpi: str, grain: str = "month", by: tuple[str, ...] = (),
            where: tuple[tuple[str, tuple[str, ...]], ...] = (), start: str | None = None,
            end: str | None = None) -> list[dict]:
        """The rows of `opsfin kpi KPI … --format json` (one KPI)."""
        def build() -> list[dict]:
            frame = self.ws.kpi([kpi], grain, list(by), {d: list(v) for d, v in where}, start, end)
            return frame.to_dicts()

        return self.cache.get(("kpi", kpi, grain, by, where, start, end), build)

    def alerts(self, start: str | None = None, end: str | None = None) -> list:
        from ..alerts import run_alerts

        return self.cache.get(("alerts", start, end), lambda: run_alerts(self.ws, self.catalog(), start=start, end=end))

    def bottlenecks(self, grain: str = "month", start: str | None = None, end: str | None = None) -> list[dict]:
        return self.cache.get(("bottlenecks", grain, start, end),
                              lambda: self.ws.bottlenecks(grain, start, end).to_dicts())

    def variance(self, start: str | None = None, end: str | None = None, budget: str | None = None,
                 by: str | None = None, monthly: bool = False, drill: str | None = None,
                 member: str | None = None) -> list[dict]:
        key = ("variance", start, end, budget, by, monthly, drill, member)
        return self.cache.get(key, lambda: self.ws.variance(start, end, budget, by, monthly=monthly, drill=drill,
                                                            member=member).to_dicts())

    def variance_summary(self, start: str | None = None, end: str | None = None,
                         budget: str | None = None) -> dict:
        """The ends of the bridge: static-budget, flexible-budget and actual gross margin."""
        return self.cache.get(("variance_summary", start, end, budget),
                              lambda: self.ws.variance_summary(start, end, budget).to_dicts()[0])

    def unit_economics(self, by: str | None = None, start: str | None = None, end: str | None = None,
                       scope: str = "product") -> list[dict]:
        return self.cache.get(("unit_economics", by, start, end, scope),
                              lambda: self.ws.unit_economics(by=by, start=start, end=end, scope=scope).to_dicts())

    def loads(self) -> list[dict]:
        return self.cache.get(("loads",), lambda: self.ws.sql(
            "SELECT load_id, table_name, source, rows_read, rows_accepted, rows_quarantined, started_at, "
            "finished_at, status FROM loads ORDER BY started_at DESC, load_id, table_name").to_dicts())

    def quarantine(self, load: str | None = None, table: str | None = None) -> list[dict]:
        """Quarantined rows with their raw record parsed and the site it names (`site`, or None)."""
        from ..ingest import list_quarantine

        def build() -> list[dict]:
            sites = self.site_map()
            out = []
            for r in list_quarantine(self.ws, load_id=load, table=table).to_dicts():
                try:
                    raw = json.loads(r["raw_record"]) if r["raw_record"] else None
                except ValueError:
                    raw = None
                r["raw_record"] = raw if raw is not None else r["raw_record"]
                named = sites.sites_of_record(raw if isinstance(raw, dict) else None)
                r["site"] = next(iter(named)) if named else None
                out.append(r)
            return out

        return self.cache.get(("quarantine", load, table), build)
