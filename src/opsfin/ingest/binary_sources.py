"""Reading binary tabular sources into raw rows: Excel .xlsx workbooks and Parquet files.

Both return a `sources.SourceData` (see `sources` for the contract). Reading them is guarded as
a whole: a damaged or hostile file (a broken zip, a workbook part with a DOCTYPE, a corrupted
Parquet data page) is a `UserError` naming the file and how far it was read, never a traceback.
A single value Python cannot hold (a Parquet date past year 9999) makes only its row a problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UserError
from ..readers.workbook import WORKBOOK_ERRORS, error_detail, open_workbook
from .source_rows import SourceData, SourceRow, check_header


def excel_sheet(path: Path, sheet: str | None) -> str:
    """The name of the sheet to read: `sheet` if the workbook has it, else the first sheet."""
    wb = _open_workbook(path)
    try:
        names = list(wb.sheetnames)
    finally:
        wb.close()
    if not names:
        raise UserError(f"{path}: the workbook has no sheets")
    if sheet is None:
        return names[0]
    if sheet not in names:
        raise UserError(f"{path}: no sheet {sheet!r}; its sheets are: {', '.join(names)}")
    return sheet


# the one safe way to open a workbook (a DOCTYPE refused, a damaged file a UserError): readers/workbook.py
_WORKBOOK_ERRORS = WORKBOOK_ERRORS
_open_workbook = open_workbook
_detail = error_detail


def read_xlsx(path: Path, sheet: str | None = None) -> SourceData:
    """One sheet of an .xlsx workbook (default: the first). Row 1 holds the column titles.
    Formulas give their last computed value."""
    name = excel_sheet(path, sheet)
    wb = _open_workbook(path)
    data = SourceData("xlsx", f"{path}#{name}", [], sheet=name)
    try:
        header = _sheet_rows(path, wb[name], data)
    except _WORKBOOK_ERRORS as exc:
        raise UserError(
            f"{path}: sheet {name!r} cannot be read after row {data.rows[-1].number if data.rows else 1} "
            f"({_detail(exc)})"
        ) from None
    finally:
        wb.close()
    if header is None:
        raise UserError(f"{path}: sheet {name!r} is empty (no title row)")
    return data


def _sheet_rows(path: Path, ws: Any, data: SourceData) -> list[str] | None:
    """Fill `data` with the rows of one sheet; returns the header (None for an empty sheet)."""
    header: list[str] | None = None
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if header is None:
            cells = list(values)
            while cells and cells[-1] is None:
                cells.pop()
            header = ["" if v is None else str(v).strip() for v in cells]
            check_header(path, header)
            data.columns = header
            continue
        row = list(values)
        problem = None
        if len(row) > len(header):
            if any(v is not None for v in row[len(header) :]):
                problem = "row has values to the right of the last titled column"
            else:
                row = row[: len(header)]
        row += [None] * (len(header) - len(row))
        data.rows.append(SourceRow(number, row, problem))
    return header


def read_parquet(path: Path) -> SourceData:
    """A Parquet file, read in batches; values keep their stored types (decimals stay Decimal)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        data = SourceData("parquet", str(path), list(pf.schema_arrow.names))
    except (pa.ArrowException, OSError, ValueError, IndexError) as exc:
        raise UserError(f"{path}: not a readable Parquet file ({_detail(exc)})") from None
    check_header(path, data.columns)
    try:
        for batch in pf.iter_batches(batch_size=65536):
            first = len(data.rows) + 1
            problems: dict[int, str] = {}
            columns = [_parquet_values(batch.column(i), name, problems) for i, name in enumerate(data.columns)]
            for offset, values in enumerate(zip(*columns, strict=True)):
                data.rows.append(SourceRow(first + offset, values, problems.get(offset)))
    except (pa.ArrowException, OSError, ValueError, IndexError, EOFError) as exc:
        # a damaged data page (bad compression, dictionary index out of bounds, bad page header)
        raise UserError(f"{path}: damaged Parquet data after row {len(data.rows)} ({_detail(exc)})") from None
    return data


def _parquet_values(array: Any, name: str, problems: dict[int, str]) -> list[Any]:
    """The Python values of one column of a batch. A value Python cannot hold (a date or time
    outside years 1-9999, nanoseconds it cannot keep) becomes its Arrow text, and its row a
    problem: the row is quarantined, the others are read."""
    try:
        return array.to_pylist()
    except (OverflowError, ValueError) as exc:
        reason = str(exc)
    values: list[Any] = []
    for i in range(len(array)):
        try:
            values.append(array[i].as_py())
        except (OverflowError, ValueError):
            values.append(_arrow_text(array.slice(i, 1)))
            problems.setdefault(
                i,
                f"column '{name}': the stored {array.type} value {values[-1]} cannot be read "
                f"({' '.join(reason.split())[:100]}); dates and times must lie in years 1 to 9999",
            )
    return values


def _arrow_text(one: Any) -> str:
    import pyarrow as pa

    try:
        return str(one.cast(pa.string())[0].as_py())
    except (pa.ArrowException, ValueError, OverflowError):
        return f"<{one.type} value>"
