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


Declared = tuple[tuple[str, Any, Any], ...]  # options a group of verbs shares: (parameter, its type, default)
Verb = Callable[..., None]


def options_bundle(param: str, bundle: Callable[..., Any], declared: Declared) -> Callable[[Verb], Verb]:
    """A decorator that gives a verb the options `declared` (after its own), declared once: Typer reads the
    signature of the returned function, and the verb receives them together as `param`, `bundle(*values)`."""

    def decorate(verb: Verb) -> Verb:
        own = [p for p in inspect.signature(verb, eval_str=True).parameters.values() if p.name != param]
        added = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a, default=d) for n, a, d in declared]

        @functools.wraps(verb)
        def command(**options: Any) -> None:
            values = [options.pop(name) for name, _, _ in declared]
            verb(**{param: bundle(*values)}, **options)

        del command.__wrapped__  # Typer must see the signature below, not the verb's
        command.__signature__ = inspect.Signature(own + added, return_annotation=None)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in own + added}
        return command

    return decorate


@dataclass(frozen=True)
class RangeRead:
    """What a verb reading the warehouse over a range of days is given: --from, --to, --engine, --format, -w."""

    start: str | None
    end: str | None
    engine: str | None
    fmt: OutputFormat
    ws_path: Path | None


#: `@range_read`: the verb takes `*, read: RangeRead` (`unit-economics`, `order-costs`, `kpi`, …)
range_read = options_bundle(
    "read",
    RangeRead,
    (
        ("from_", FromOpt, None),
        ("to", ToOpt, None),
        ("engine", EngineOpt, None),
        ("fmt", FormatOpt, OutputFormat.table),
        ("ws_path", WorkspaceOpt, None),
    ),
)


@dataclass(frozen=True)
class Backtest:
    """What a verb backtesting the demand forecast is given: --origins, --horizon, --models, --format, -w."""

    origins: int
    horizon: int
    models: str
    fmt: OutputFormat
    ws_path: Path | None


#: `@backtest_options`: the verb takes `*, backtest: Backtest` (`forecast backtest`, `eval forecast`)
backtest_options = options_bundle(
    "backtest",
    Backtest,
    (
        ("origins", OriginsOpt, 3),
        ("horizon", BacktestHorizonOpt, 6),
        ("models", ModelsOpt, "auto"),
        ("fmt", FormatOpt, OutputFormat.table),
        ("ws_path", WorkspaceOpt, None),
    ),
)
