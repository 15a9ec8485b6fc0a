"""Printing results as a Rich table, CSV or JSON. Decimals print exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table as RichTable

from ..jsonout import dumps as _dumps
from .options import OutputFormat

console = Console()
err_console = Console(stderr=True)


def dumps(data: Any) -> str:
    """The CLI's JSON; the REST API uses the same encoder (opsfin.jsonout)."""
    return _dumps(data)


def print_json(data: Any) -> None:
    sys.stdout.write(dumps(data) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def print_rows(rows: pl.DataFrame | list[dict[str, Any]], fmt: OutputFormat, title: str | None = None) -> None:
    """Print a table of rows in the chosen format."""
    records = rows.to_dicts() if isinstance(rows, pl.DataFrame) else list(rows)
    columns = list(rows.columns) if isinstance(rows, pl.DataFrame) else (list(records[0]) if records else [])
    if fmt == OutputFormat.json:
        print_json(records)
    elif fmt == OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for r in records:
            writer.writerow([_cell(r.get(c)) for c in columns])
        sys.stdout.write(buf.getvalue())
    else:
        table = RichTable(title=title, show_lines=False)
        for c in columns:
            table.add_column(c, overflow="fold")
        for r in records:
            table.add_row(*[_cell(r.get(c)) for c in columns])
        if not records:
            console.print(f"[dim]{title + ': ' if title else ''}no rows[/dim]")
        else:
            console.print(table)
