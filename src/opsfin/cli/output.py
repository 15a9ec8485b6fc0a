"""Printing results as a Rich table, CSV or JSON (docs/presentation.md).

CSV and JSON keep every digit (Decimals exact). A table is for reading: labels for headers, values as
their unit kind is written (opsfin.present), and it fits the terminal (COLUMNS, else 80): text columns
wrap, and when the figures still do not fit, the least important columns are left out with a note.
A number is never split across lines."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from ..core.numbers import plain_text
from ..jsonout import dumps as _dumps
from ..present import HumanTable, humanise
from ..present.units import KindOf
from .options import OutputFormat

console = Console()
err_console = Console(stderr=True)


def note(text: str) -> None:
    """One line on stderr as written: no markup or colour, never wrapped, so a path or a command can be copied."""
    err_console.print(text, markup=False, highlight=False, soft_wrap=True)


def step(text: str) -> None:
    """A long run's progress on stderr: `… reading the warehouse`."""
    note(f"… {text}")


def warn(lines: Iterable[str]) -> None:
    """Warnings on stderr, one per line, never wrapped."""
    for line in lines:
        note(f"warning: {line}")


def progress_bar(label: str, count: str) -> Progress:
    """A transient progress bar on stderr: `label` (a rich column template), the bar, `count`, the time."""
    return Progress(
        TextColumn(label), BarColumn(), TextColumn(count), TimeElapsedColumn(), console=err_console, transient=True
    )


# left out first when a table is too wide (then the others from the right); the first column always stays
MINOR_COLUMNS = (
    "numerator",
    "denominator",
    "run_id",
    "id",
    "cost_basis",
    "currency",
    "decision",
    "doc_type",
    "po_unit_price",
    "received_qty",
    "completion_shift_id",
    "released_at",
    "supplier_id",
    "scope",
    "period_end",
    "runner_up_utilization",
    "owner",
    "dimensions",
)
# left out last
HEADLINE_COLUMNS = (
    "value",
    "amount",
    "contribution_margin",
    "cm_ratio",
    "unit_cost",
    "total_cost",
    "revenue",
    "status",
    "severity",
    "explanation",
    "reason",
    "message",
    "pce",
    "cost_per_unit",
    "capacity_utilization",
    "money_at_stake",
    "gross_margin",
    "abc_profit",
    "difference",
    "cost",
    "cost_per_line",
    "cost_per_ticket",
    "lead_time_hours",
)
TEXT_MIN_WIDTH = 14  # a wrapping text column is never narrower (unless its longest word is wider)
GAP = 2  # columns are separated by two spaces


def dumps(data: Any) -> str:
    """The CLI's JSON; the REST API uses the same encoder (opsfin.jsonout)."""
    return _dumps(data)


def print_json(data: Any) -> None:
    sys.stdout.write(dumps(data) + "\n")


def print_rows(
    rows: pl.DataFrame | list[dict[str, Any]],
    fmt: OutputFormat,
    title: str | None = None,
    kinds: Mapping[str, KindOf] | None = None,
) -> None:
    """Print a table of rows in the chosen format. `kinds` names the unit kind of columns that neither
    their name nor their values tell (a KPI's `value`: a function of the row; see present.units)."""
    records = rows.to_dicts() if isinstance(rows, pl.DataFrame) else list(rows)
    columns = list(rows.columns) if isinstance(rows, pl.DataFrame) else (list(records[0]) if records else [])
    if fmt == OutputFormat.json:
        print_json(records)
    elif fmt == OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for r in records:
            writer.writerow([plain_text(r.get(c)) for c in columns])  # every digit, dates ISO
        sys.stdout.write(buf.getvalue())
    elif not records:
        console.print(f"[dim]{title + ': ' if title else ''}no rows[/dim]")
    else:
        table, hidden = fit_table(humanise(records, columns, kinds), console.width, title)
        console.print(table)
        if hidden:
            console.print(f"[dim]({hidden} column{'s' if hidden > 1 else ''} hidden; use --format csv)[/dim]")


def print_model_entries(rows: list[dict[str, Any]], fmt: OutputFormat, kind: str) -> None:
    """The entries of model/<kind>.yaml (`opsfin scenario list`, …); with none, a table says where to add them
    (docs/<kind>.md) and CSV or JSON print the empty result."""
    if not rows and fmt == OutputFormat.table:
        err_console.print(f"no {kind}: add them to model/{kind}.yaml (docs/{kind}.md)", markup=False)
        return
    print_rows(rows, fmt, title=kind.capitalize())


def fit_table(human: HumanTable, width: int, title: str | None = None) -> tuple[RichTable, int]:
    """A Rich table of `human` no wider than `width`, and how many columns it leaves out."""
    keep = list(range(len(human.columns)))
    while len(keep) > 1 and _min_width(human, keep) > width:
        keep.remove(_least_important(human.columns, keep))
    widths = _widths(human, keep, width)
    table = RichTable(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    for i, w in zip(keep, widths, strict=True):
        # the width holds the column's widest figure, so a number never wraps; a header wraps at its spaces
        table.add_column(
            human.labels[i],
            width=w,
            justify="right" if human.numeric[i] else "left",
            overflow="fold",
        )
    for row in human.cells:
        table.add_row(*[row[i] for i in keep])
    return table, len(human.columns) - len(keep)


def _min_width(human: HumanTable, keep: Sequence[int]) -> int:
    return sum(_column_range(human, i)[0] for i in keep) + GAP * (len(keep) - 1)


def _column_range(human: HumanTable, i: int) -> tuple[int, int]:
    """(narrowest, natural) width of column i: figures and one-word values whole, headers and text wrap."""
    cells = [row[i] for row in human.cells]
    header_word = max((len(w) for w in human.labels[i].split()), default=1)
    natural = max(len(human.labels[i]), *(len(c) for c in cells))
    longest_word = max((len(w) for c in cells for w in c.split()), default=0)
    if human.numeric[i] or all(" " not in c for c in cells):  # figures and ids are never split
        return max(header_word, max((len(c) for c in cells), default=0)), natural
    return max(header_word, min(natural, max(TEXT_MIN_WIDTH, longest_word))), natural


def _least_important(columns: Sequence[str], keep: Sequence[int]) -> int:
    """The column to leave out next: a minor one, else the rightmost ordinary one, else the rightmost
    headline; the first column stays unless it is minor (a run id repeated on every row)."""
    minor = [i for i in keep if columns[i] in MINOR_COLUMNS]
    if minor:
        return minor[-1]
    candidates = list(keep[1:])
    ordinary = [i for i in candidates if columns[i] not in HEADLINE_COLUMNS]
    return (ordinary or candidates)[-1]


def _widths(human: HumanTable, keep: Sequence[int], width: int) -> list[int]:
    """Each kept column's width: its narrowest, then the room left shared out up to its natural width."""
    ranges = [_column_range(human, i) for i in keep]
    widths = [lo for lo, _ in ranges]
    room = width - sum(widths) - GAP * (len(keep) - 1)
    while room > 0:
        short = [j for j, (_, hi) in enumerate(ranges) if widths[j] < hi]
        if not short:
            break
        for j in short:
            if room == 0:
                break
            widths[j] += 1
            room -= 1
    return widths
