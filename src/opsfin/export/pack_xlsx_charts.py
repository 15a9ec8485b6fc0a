"""The pack's charts as native Excel charts (XlsxWriter) on a `Charts` sheet, beside the data they draw:
the variance waterfall as stacked columns (an invisible base, then the step: green favourable, red
unfavourable, the total grey) and each KPI trend as a line with its guardrail bounds as dashed lines."""

from __future__ import annotations

from typing import Any

from ..core.numbers import EXCEL_FORMATS, kind_of_unit
from .pack_charts import BAD, GOOD, LINE, TOTAL
from .pack_model import Chart, PackContents

SHEET = "Charts"
ROWS_PER_CHART = 22


def write_charts(book, header, contents: PackContents) -> None:
    """A `Charts` sheet: each chart's data in columns A–E (its own block of rows) and the chart beside it."""
    sheet = book.add_worksheet(SHEET)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 4, 14)
    top = 0
    for chart in contents.charts:
        sheet.write_string(top, 0, chart.title, header)
        if chart.kind == "waterfall":
            drawn = _waterfall(book, sheet, header, chart, top + 1)
        else:
            drawn = _line(book, sheet, header, chart, top + 1)
        drawn.set_title({"name": chart.title, "name_font": {"size": 11}})
        drawn.set_size({"width": 720, "height": 320})
        sheet.insert_chart(top, 6, drawn)
        top += max(len(chart.labels) + 4, ROWS_PER_CHART)


def _number_format(book, unit: str):
    kind = kind_of_unit(unit)
    return book.add_format({"num_format": EXCEL_FORMATS.get(kind, EXCEL_FORMATS["number"])})


def _ref(row0: int, row1: int, col: int) -> list[Any]:
    return [SHEET, row0, col, row1, col]


def _waterfall(book, sheet, header, chart: Chart, top: int):
    """Columns: step, amount, base (hidden under the bar), the bar's height."""
    money = _number_format(book, "money")
    for c, name in enumerate(("Step", "Amount", "Base", "Bar")):
        sheet.write_string(top, c, name, header)
    level, last = 0.0, len(chart.values) - 1
    for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True), start=1):
        v = value or 0.0
        start, end = (0.0, v) if i - 1 == last else (level, level + v)
        level = end
        sheet.write_string(top + i, 0, label.replace("_", " "))
        sheet.write_number(top + i, 1, v, money)
        sheet.write_number(top + i, 2, min(start, end), money)
        sheet.write_number(top + i, 3, abs(end - start), money)
    first, final = top + 1, top + len(chart.values)
    colours = [TOTAL if i == last else GOOD if (v or 0) >= 0 else BAD for i, v in enumerate(chart.values)]
    drawn = book.add_chart({"type": "column", "subtype": "stacked"})
    drawn.add_series(
        {
            "categories": _ref(first, final, 0),
            "values": _ref(first, final, 2),
            "fill": {"none": True},
            "border": {"none": True},
            "name": "base",
        }
    )
    drawn.add_series(
        {
            "categories": _ref(first, final, 0),
            "values": _ref(first, final, 3),
            "name": "amount",
            "points": [{"fill": {"color": c}} for c in colours],
            "gap": 50,
        }
    )
    drawn.set_legend({"none": True})
    return drawn


def _line(book, sheet, header, chart: Chart, top: int):
    """Columns: month, value, guardrail min, guardrail max."""
    fmt = _number_format(book, chart.unit)
    for c, name in enumerate(("Month", "Value", "Guardrail min", "Guardrail max")):
        sheet.write_string(top, c, name, header)
    for i, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True), start=1):
        sheet.write_string(top + i, 0, label)
        if value is not None:
            sheet.write_number(top + i, 1, value, fmt)
        for c, bound in ((2, chart.low), (3, chart.high)):
            if bound is not None:
                sheet.write_number(top + i, c, bound, fmt)
    first, final = top + 1, top + len(chart.values)
    drawn = book.add_chart({"type": "line"})
    drawn.add_series(
        {
            "categories": _ref(first, final, 0),
            "values": _ref(first, final, 1),
            "name": "value",
            "line": {"color": LINE, "width": 2},
            "marker": {"type": "circle", "size": 4},
        }
    )
    for c, bound, name in ((2, chart.low, "guardrail min"), (3, chart.high, "guardrail max")):
        if bound is not None:
            drawn.add_series(
                {
                    "categories": _ref(first, final, 0),
                    "values": _ref(first, final, c),
                    "name": name,
                    "line": {"color": LINE, "dash_type": "dash", "width": 1.25},
                }
            )
    drawn.set_y_axis({"num_format": EXCEL_FORMATS.get(kind_of_unit(chart.unit), EXCEL_FORMATS["number"])})
    drawn.set_legend({"position": "bottom"})
    return drawn
