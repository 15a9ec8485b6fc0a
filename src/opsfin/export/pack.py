"""The monthly operations-finance pack (docs/export-pack.md): KPIs against their guardrails, the variance
bridge, the month's alerts and the open actions, as one Excel workbook or one printable HTML page.

`pack_contents(ws, period, sites)` gathers the tables from the engines through the Workspace (it never
computes a figure of its own; pack_sections.py); `build_pack(ws, period, fmt, sites)` renders them
(pack_xlsx.py, pack_html.py). A pack for a site scope holds only the rows of those sites, and leaves out
the company-level figures that mix other sites' data (DSO, the company variance bridge).

    from opsfin.export.pack import build_pack, pack_filename
    data = build_pack(ws, "2024-03", "xlsx", sites=("P1",))
    Path(pack_filename("2024-03", "xlsx")).write_bytes(data)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ..costing.variance import month_end
from ..errors import UserError

PACK_FORMATS = ("xlsx", "html")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")

#: How a column is shown: the renderers turn each kind into a cell format (xlsx) or text (html).
COLUMN_KINDS = ("text", "money", "number", "integer", "percent", "days", "date", "datetime", "status", "unit")


@dataclass(frozen=True)
class Column:
    """One shown column of a section's table.

    `kind` "unit" takes the format from the row's KPI unit (`unit_column`): ratio → percent, money →
    money, days → one decimal, units → whole numbers. `fallback` is read when `name` is null: the KPI
    table keeps money KPIs as exact decimals in their own column beside the DOUBLE values."""

    name: str
    header: str
    kind: str = "text"
    unit_column: str | None = None
    fallback: str | None = None


@dataclass(frozen=True)
class Section:
    """One part of the pack: a sheet of the workbook, a section of the page."""

    key: str                      # kpis, variances, alerts, actions
    title: str                    # the sheet name
    description: str              # what it holds and where it comes from
    table: pl.DataFrame
    columns: tuple[Column, ...]
    empty: str                    # what the section says when it has no rows


@dataclass(frozen=True)
class PackContents:
    """Everything one pack shows; both renderers read only this."""

    company: str
    base_currency: str
    period: str                   # YYYY-MM
    month_start: dt.date
    month_end: dt.date
    generated_at: dt.datetime     # naive UTC
    sites: tuple[str, ...] | None  # None: company level (every site)
    sections: tuple[Section, ...]

    @property
    def scope_text(self) -> str:
        return "all sites (company level)" if self.sites is None else ", ".join(self.sites)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


def cell_value(column: Column, row: dict[str, Any]) -> Any:
    """The value a cell shows: the column's, else its fallback's."""
    value = row.get(column.name)
    if value is None and column.fallback:
        value = row.get(column.fallback)
    return value


def cell_kind(column: Column, row: dict[str, Any]) -> str:
    """The format of one cell: the column's kind, or for kind "unit" the one the row's KPI unit asks for."""
    if column.kind != "unit":
        return column.kind
    unit = row.get(column.unit_column or "unit") or ""
    return {"ratio": "percent", "money": "money", "days": "days", "units": "integer"}.get(unit, "number")


def status_tone(value: Any, row: dict[str, Any]) -> str | None:
    """The colour a status cell gets: ok, info, warn, stop or muted (None: plain)."""
    if value == "breach":
        return row.get("severity") or "warn"
    return {"ok": "ok", "info": "info", "warn": "warn", "stop": "stop", "no data": "muted",
            "overdue": "stop"}.get(value)


def parse_period(period: str) -> tuple[dt.date, dt.date]:
    """`YYYY-MM` → (first day, last day) of the month; a UserError naming the parameter otherwise."""
    m = _PERIOD.match(str(period).strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise UserError(f"--period {period!r}: give a month as YYYY-MM, e.g. 2024-03")
    first = dt.date(int(m.group(1)), int(m.group(2)), 1)
    return first, month_end(first)


def check_format(fmt: str) -> str:
    if fmt not in PACK_FORMATS:
        raise UserError(f"--format {fmt!r}: a pack is one of {', '.join(PACK_FORMATS)}")
    return fmt


def pack_filename(period: str, fmt: str) -> str:
    """The file name of a pack: `pack-YYYY-MM.xlsx` or `pack-YYYY-MM.html`."""
    first, _ = parse_period(period)
    return f"pack-{first:%Y-%m}.{check_format(fmt)}"


def pack_media_type(fmt: str) -> str:
    """The HTTP content type of a pack in this format."""
    return MEDIA_TYPES[check_format(fmt)]


def pack_contents(ws, period: str, sites: tuple[str, ...] | list[str] | None = None,
                  generated_at: dt.datetime | None = None, app_db=None) -> PackContents:
    """The pack's tables for the month `period` (YYYY-MM), for the company or for the given sites.

    `app_db`: the AppDB holding the actions (default: the workspace's, `open_app_db(ws)`).
    UserError for a bad period, a month without data, or an unknown site."""
    from . import pack_sections as ps

    first, last = parse_period(period)
    ps.check_month_has_data(ws, first, last)
    site_map = ps.SiteMap.from_workspace(ws)
    scope = site_map.check_scope(sites)
    now = generated_at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    sections = (
        ps.kpi_section(ws, first, last, scope, site_map),
        ps.variance_section(ws, first, last, scope, site_map),
        ps.alert_section(ws, first, last, scope, site_map),
        ps.action_section(ws, now.date(), scope, app_db),
    )
    return PackContents(company=ws.settings.company, base_currency=ws.settings.base_currency,
                        period=f"{first:%Y-%m}", month_start=first, month_end=last, generated_at=now,
                        sites=scope, sections=sections)


def render(contents: PackContents, fmt: str) -> bytes:
    """Render gathered contents as an xlsx workbook or an HTML page."""
    if check_format(fmt) == "xlsx":
        from .pack_xlsx import render_xlsx

        return render_xlsx(contents)
    from .pack_html import render_html

    return render_html(contents).encode("utf-8")


def build_pack(ws, period: str, fmt: str, sites: tuple[str, ...] | list[str] | None = None, *,
               app_db=None) -> bytes:
    """The monthly operations-finance pack for `period` (YYYY-MM) as `fmt` ("xlsx" or "html") bytes.

    `sites`: None for the company pack, else only the rows of these sites (a site-scoped user's pack).
    `app_db`: the AppDB to read open actions from (default: the workspace's own, `open_app_db(ws)`)."""
    check_format(fmt)
    return render(pack_contents(ws, period, sites, app_db=app_db), fmt)


def format_value(value: Any, kind: str) -> str:
    """A value as the page shows it."""
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(str(value)):,.2f}"
    if kind == "percent":
        return f"{value:.1%}"
    if kind == "days":
        return f"{value:,.1f}"
    if kind == "integer":
        return f"{value:,.0f}"
    if kind == "number":
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
