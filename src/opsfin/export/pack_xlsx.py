"""The pack as an Excel workbook (XlsxWriter): a cover sheet, then one sheet per section.

Each section sheet has a bold, frozen header row and an autofilter; numbers are written as numbers
(money `#,##0.00` — a Decimal becomes a float only in the cell, and shows its exact cents — ratios
`0.0%`), dates as real Excel dates, and each column is as wide as its longest shown value."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import xlsxwriter

from ..core.numbers import ALIASES, EXCEL_FORMATS
from .pack_model import (
    Column,
    PackContents,
    Section,
    cell_kind,
    cell_value,
    format_value,
    status_tone,
)

# each kind as Excel shows it, the same way the html page writes it (core.numbers, docs/presentation.md)
NUMBER_FORMATS = {
    kind: EXCEL_FORMATS[ALIASES.get(kind, kind)]
    for kind in ("money", "percent", "days", "integer", "number", "date", "datetime")
}
TONES = {  # background, font
    "ok": ("#C6EFCE", "#006100"),
    "info": ("#DDEBF7", "#1F4E79"),
    "warn": ("#FFEB9C", "#9C5700"),
    "stop": ("#FFC7CE", "#9C0006"),
    "muted": (None, "#808080"),
}
MAX_WIDTH = 60


class _Formats:
    """XlsxWriter formats, made once per (kind, tone) and reused."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self._made: dict[tuple, Any] = {}
        self.header = book.add_format({"bold": True, "bg_color": "#D9E1F2", "bottom": 1})
        self.title = book.add_format({"bold": True, "font_size": 16})
        self.label = book.add_format({"bold": True})
        self.note = book.add_format({"italic": True, "font_color": "#595959"})
        self.link = book.add_format({"font_color": "#0563C1", "underline": 1})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})

    def cell(self, kind: str, tone: str | None = None):
        key = (kind, tone)
        if key not in self._made:
            props: dict[str, Any] = {}
            if kind in NUMBER_FORMATS:
                props["num_format"] = NUMBER_FORMATS[kind]
            if tone:
                bg, font = TONES[tone]
                if bg:
                    props["bg_color"] = bg
                props["font_color"] = font
            self._made[key] = self.book.add_format(props) if props else None
        return self._made[key]


def _shown_text(value: Any, kind: str) -> str:
    """Roughly what Excel shows, to size the column."""
    if kind == "datetime":
        return "yyyy-mm-dd hh:mm"
    if kind == "date":
        return "yyyy-mm-dd"
    return format_value(value, kind)


def write_cell(sheet, fmts: _Formats, r: int, c: int, value: Any, kind: str, tone: str | None = None) -> None:
    """One cell, typed: numbers as numbers, dates as dates, text as text."""
    fmt = fmts.cell(kind, tone)
    if value is None or value == "":
        if fmt is not None:
            sheet.write_blank(r, c, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value, fmt)
    elif isinstance(value, Decimal | int | float) and kind not in ("text", "status"):
        sheet.write_number(r, c, float(value), fmt)  # float only here: the cell shows the exact cents
    elif isinstance(value, dt.datetime | dt.date):
        sheet.write_datetime(r, c, value, fmt)
    else:
        sheet.write_string(r, c, str(value), fmt)


def write_section(book: xlsxwriter.Workbook, fmts: _Formats, section: Section) -> None:
    sheet = book.add_worksheet(section.title)
    columns: tuple[Column, ...] = section.columns
    rows = [[(cell_value(col, row), cell_kind(col, row), row) for col in columns] for row in section.table.to_dicts()]
    widths = [len(c.header) + 3 for c in columns]  # + room for the filter button
    for cells in rows:
        for c, (value, kind, _) in enumerate(cells):
            widths[c] = max(widths[c], len(_shown_text(value, kind)) + 2)
    for c, col in enumerate(columns):
        sheet.write_string(0, c, col.header, fmts.header)
        long_text = widths[c] > MAX_WIDTH
        sheet.set_column(c, c, min(widths[c], MAX_WIDTH), fmts.wrap if long_text else None)
    for r, cells in enumerate(rows, start=1):
        for c, (value, kind, row) in enumerate(cells):
            tone = status_tone(value, row) if kind == "status" else None
            write_cell(sheet, fmts, r, c, value, kind, tone)
    sheet.freeze_panes(1, 0)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(columns) - 1)
    else:
        sheet.write_string(1, 0, section.empty, fmts.note)


def write_cover(book: xlsxwriter.Workbook, fmts: _Formats, contents: PackContents) -> None:
    sheet = book.add_worksheet("Cover")
    sheet.write_string(0, 0, "Operations-finance pack", fmts.title)
    facts: list[tuple[str, Any, str]] = [
        ("Company", contents.company, "text"),
        ("Period", contents.period, "text"),
        ("From", contents.month_start, "date"),
        ("To", contents.month_end, "date"),
        ("Site scope", contents.scope_text, "text"),
        ("Base currency", contents.base_currency, "text"),
        ("Generated at (UTC)", contents.generated_at, "datetime"),
    ]
    for i, (label, value, kind) in enumerate(facts, start=2):
        sheet.write_string(i, 0, label, fmts.label)
        write_cell(sheet, fmts, i, 1, value, kind)
    top = len(facts) + 3
    for c, header in enumerate(("Contents", "Rows", "What it holds")):
        sheet.write_string(top, c, header, fmts.header)
    for i, s in enumerate(contents.sections, start=top + 1):
        sheet.write_url(i, 0, f"internal:'{s.title}'!A1", fmts.link, s.title)
        sheet.write_number(i, 1, s.table.height, fmts.cell("integer"))
        sheet.write_string(i, 2, s.description if s.table.height else f"{s.description} {s.empty}")
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, max(20, len(contents.company) + 2, len(contents.scope_text) + 2))
    sheet.set_column(2, 2, 100)


def render_xlsx(contents: PackContents) -> bytes:
    """The workbook's bytes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties(
        {
            "title": f"Operations-finance pack {contents.period}",
            "company": contents.company,
            "comments": f"Site scope: {contents.scope_text}",
        }
    )
    fmts = _Formats(book)
    write_cover(book, fmts, contents)
    for section in contents.sections:
        write_section(book, fmts, section)
    if contents.charts:
        from .pack_xlsx_charts import write_charts

        write_charts(book, fmts.header, contents)
    book.close()
    return buffer.getvalue()
