"""The pack's data model, shared by the sections (pack_sections.py) and both renderers (pack_xlsx.py,
pack_html.py): sections of typed columns, and how one cell is read and shown. It imports none of them,
so the pack's modules form no import cycle (pack.py gathers and renders; docs/export-pack.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..core.numbers import format_number

#: How a column is shown: the renderers turn each kind into a cell format (xlsx) or text (html).
COLUMN_KINDS = (
    "text",
    "money",
    "number",
    "integer",
    "percent",
    "days",
    "date",
    "datetime",
    "status",
    "unit",
)


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
    wide: bool = False  # long free text (an alert's explanation): the page keeps it readable, never squeezed


@dataclass(frozen=True)
class Section:
    """One part of the pack: a sheet of the workbook, a section of the page."""

    key: str  # kpis, variances, alerts, actions
    title: str  # the sheet name
    description: str  # what it holds and where it comes from
    table: pl.DataFrame
    columns: tuple[Column, ...]
    empty: str  # what the section says when it has no rows


@dataclass(frozen=True)
class Chart:
    """A chart of the pack, drawn by both renderers (inline SVG on the page, a native chart in the workbook).

    `kind` "waterfall": `labels`/`values` are the bridge's steps, the last one the total (drawn from zero);
    `kind` "line": a KPI's monthly values, with its guardrail band (`low`, `high`; None when open)."""

    key: str
    title: str
    kind: str  # waterfall | line
    unit: str  # a KPI catalog unit (ratio, days, money…), "money" for the bridge
    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class PackContents:
    """Everything one pack shows; both renderers read only this."""

    company: str
    base_currency: str
    period: str  # YYYY-MM
    month_start: dt.date
    month_end: dt.date
    generated_at: dt.datetime  # naive UTC
    sites: tuple[str, ...] | None  # None: company level (every site)
    sections: tuple[Section, ...]
    charts: tuple[Chart, ...] = ()  # the variance waterfall and the KPI trends (pack_charts.py)

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
    return {
        "ok": "ok",
        "info": "info",
        "warn": "warn",
        "stop": "stop",
        "no data": "muted",
        "overdue": "stop",
    }.get(value)


def format_value(value: Any, kind: str) -> str:
    """A value as the page shows it: the one formatter of every screen (core.numbers,
    docs/presentation.md); `percent` is its `ratio`, `integer` its `count`."""
    return format_number(value, kind)
