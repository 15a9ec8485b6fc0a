"""Options shared by several verbs: one declaration, one help text each."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "-w",
        "--workspace",
        help="workspace folder (default: $OPSFIN_WORKSPACE or the current folder)",
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="how to print the result")]

# a range of days and the engine of a warehouse read (`unit-economics`, `abc`, `bottlenecks`, …)
FromOpt = Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="last day (YYYY-MM-DD)")]
EngineOpt = Annotated[str | None, typer.Option(help="duckdb (default) or spark")]

# the demand forecast's model choice and its backtest (`forecast run`, `forecast backtest`, `eval forecast`)
ModelsOpt = Annotated[str, typer.Option("--models", help="auto, or model names separated by commas")]
OriginsOpt = Annotated[int, typer.Option("--origins", help="how many as-of months to forecast from")]
BacktestHorizonOpt = Annotated[int, typer.Option("--horizon", help="months forecast after each as-of month")]


@dataclass(frozen=True)
class RangeRead:
    """What a verb reading the warehouse over a range of days is given: --from, --to, --engine, --format, -w."""

    start: str | None
    end: str | None
    engine: str | None
    fmt: OutputFormat
    ws_path: Path | None


_RANGE_READ_OPTIONS = (
    ("from_", FromOpt, None),
    ("to", ToOpt, None),
    ("engine", EngineOpt, None),
    ("fmt", FormatOpt, OutputFormat.table),
    ("ws_path", WorkspaceOpt, None),
)


def range_read(verb: Callable[..., None]) -> Callable[..., None]:
    """Give `verb` the options --from, --to, --engine, --format and -w (after its own), declared once here:
    Typer reads the signature of the returned function, and `verb` receives them as `read: RangeRead`."""
    own = [p for p in inspect.signature(verb, eval_str=True).parameters.values() if p.name != "read"]
    added = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d) for n, a, d in _RANGE_READ_OPTIONS
    ]

    @functools.wraps(verb)
    def command(**options: Any) -> None:
        start, end, engine, fmt, ws_path = (options.pop(name) for name, _, _ in _RANGE_READ_OPTIONS)
        verb(read=RangeRead(start, end, engine, fmt, ws_path), **options)

    del command.__wrapped__  # Typer must see the signature below, not the verb's
    command.__signature__ = inspect.Signature(own + added, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in own + added}
    return command
