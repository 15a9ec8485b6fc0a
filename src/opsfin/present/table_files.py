"""A table of a page as a file (docs/web.md "Downloads"): CSV with every digit (`plain_text`, as
`--format csv`), or an Excel sheet whose cells are numbers with the number format of their kind
(docs/presentation.md), a bold frozen header and an autofilter."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..core.numbers import EXCEL_FORMATS, plain_text
from .labels import label
from .units import column_kind

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_columns(rows: Sequence[Mapping[str, Any]], hidden: Sequence[str] = ()) -> list[str]:
    """The columns of `rows` a file carries: every key of the first rows but links and page-only fields."""
    seen: dict[str, None] = {}
    for r in rows[:50]:
        for key, value in r.items():
            if key in hidden or key == "url" or key.endswith("_url") or isinstance(value, dict | list):
                continue
            seen.setdefault(key, None)
    return list(seen)


def table_file(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str, title: str) -> bytes:
    """`rows` as CSV or xlsx bytes; a column not in a row is an empty cell."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([plain_text(r.get(c)) for c in columns])
        return out.getvalue().encode("utf-8")
    return _xlsx(rows, columns, title)


def _xlsx(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
    sheet = book.add_worksheet(title[:31] or "table")
    bold = book.add_format({"bold": True, "bottom": 1})
    formats = {kind: book.add_format({"num_format": f}) for kind, f in EXCEL_FORMATS.items()}
    kinds = {c: column_kind(c, [r.get(c) for r in rows[:50]]) for c in columns}
    for j, c in enumerate(columns):
        sheet.write_string(0, j, label(c), bold)
        sheet.set_column(j, j, max(10, min(40, len(label(c)) + 2)))
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(columns):
            _cell(sheet, i, j, r.get(c), formats.get(kinds[c]), formats)
    sheet.freeze_panes(1, 0)
    if columns:
        sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    book.close()
    return buffer.getvalue()


def _cell(sheet, i: int, j: int, value: Any, fmt, formats) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(i, j, value)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(i, j, value.replace(tzinfo=None), formats["datetime"])
    elif isinstance(value, dt.date):
        sheet.write_datetime(i, j, dt.datetime(value.year, value.month, value.day), formats["date"])
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(i, j, float(value), fmt)  # the exact figure stays in the CSV; Excel holds doubles
    else:
        sheet.write_string(i, j, str(value))
