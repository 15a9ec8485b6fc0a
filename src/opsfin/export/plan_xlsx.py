"""A plan version's budget template as an Excel workbook (XlsxWriter, as the pack): sheets `Volumes`,
`Prices` and `Costs` in the layout runs/plan_sheets.py reads back (docs/planning-excel.md).

Each sheet has a bold title row and its key and name columns frozen; months are titled `YYYY-MM` as
text; volumes are numbers (whole ones shown without decimals), prices show 2 to 4 decimals and amounts 2.
A Decimal becomes a float only in the cell: below 10^13 its shortest form is the exact Decimal, so the
file reads back to the same cents. The key and name columns are grey: only the month cells are typed in."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import xlsxwriter

from ..core.numbers import EXCEL_FORMATS
from ..runs.plan_files import PlanTemplate
from ..runs.plan_sheets import COST_TITLES, COSTS, PRICES, PRODUCT_TITLES, VOLUMES

MAX_WIDTH = 40
MONTH_WIDTH = 13
FORMATS = {
    "amount": EXCEL_FORMATS["money"],  # #,##0.00
    "price": "#,##0.00##",
    "whole": EXCEL_FORMATS["count"],  # #,##0
    "qty": "#,##0.0###",
}


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook):
        self.header = book.add_format({"bold": True, "bg_color": "#D9E1F2", "bottom": 1})
        self.key = book.add_format({"bg_color": "#F2F2F2"})
        self.numbers = {kind: book.add_format({"num_format": fmt}) for kind, fmt in FORMATS.items()}


def _number_kind(column: str, value: Any) -> str:
    if column == "qty":
        return "whole" if float(value).is_integer() else "qty"
    return "price" if column == "unit_price" else "amount"


def _write_sheet(
    book: xlsxwriter.Workbook,
    fmts: _Formats,
    name: str,
    titles: tuple[str, ...],
    rows: list[dict[str, Any]],
    column: str,
    template: PlanTemplate,
) -> None:
    """One sheet: the titles, then per row its keys and names and one cell per month of `row[column]`."""
    sheet = book.add_worksheet(name)
    widths = [len(t) + 2 for t in titles]
    for c, title in enumerate(titles):
        sheet.write_string(0, c, title, fmts.header)
    for c, month in enumerate(template.months, start=len(titles)):
        sheet.write_string(0, c, f"{month:%Y-%m}", fmts.header)
    for r, row in enumerate(rows, start=1):
        for c, title in enumerate(titles):
            text = "" if row.get(title) is None else str(row[title])
            sheet.write_string(r, c, text, fmts.key)
            widths[c] = max(widths[c], len(text) + 2)
        values: dict[Any, Decimal | float] = row[column]
        for c, month in enumerate(template.months, start=len(titles)):
            if month in values:
                value = values[month]
                # float only in the cell: its shortest form is the exact value (see the module docstring)
                sheet.write_number(r, c, float(value), fmts.numbers[_number_kind(column, value)])
    for c, width in enumerate(widths):
        sheet.set_column(c, c, min(width, MAX_WIDTH))
    if template.months:
        sheet.set_column(len(titles), len(titles) + len(template.months) - 1, MONTH_WIDTH)
    sheet.freeze_panes(1, 1 if name != COSTS else 2)


def render_plan_xlsx(template: PlanTemplate, company: str = "") -> bytes:
    """The template's workbook bytes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties(
        {
            "title": f"Plan version {template.version}",
            "company": company,
            "comments": "opsfin plan import FILE --version NAME reads it back (docs/planning-excel.md)",
        }
    )
    fmts = _Formats(book)
    _write_sheet(book, fmts, VOLUMES, PRODUCT_TITLES, template.products, "qty", template)
    _write_sheet(book, fmts, PRICES, PRODUCT_TITLES, template.products, "unit_price", template)
    _write_sheet(book, fmts, COSTS, COST_TITLES, template.costs, "amount", template)
    book.close()
    return buffer.getvalue()


def plan_filename(version: str) -> str:
    """The file name of a version's template: `plan-B2026.xlsx`."""
    return f"plan-{version}.xlsx"
