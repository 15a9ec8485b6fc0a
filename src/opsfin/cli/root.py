"""The root `opsfin` Typer app. Each verb module imports it from here and decorates its functions with
`@app.command`; `cli/__init__.py` imports every verb module to register them. Keeping the app out of
the package's `__init__` keeps the verb modules from importing the package that imports them."""

from __future__ import annotations

import typer
from typer.core import TyperOption


def _flags_show_no_value_type() -> None:
    """In `--help`, a flag (`--post`, `--no-serve`, `--help`) has no value type beside it: Typer 0.29 shows
    `<bool>` there, as if the flag took a value. Options that take a value keep theirs (`<int>`, `<path>`)."""
    shown = getattr(TyperOption, "display_type_rich", None)  # absent in older Typer, which shows none
    if shown is None or getattr(shown, "flags_show_none", False):
        return

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich.flags_show_none = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_value_type()

app = typer.Typer(
    name="opsfin",
    help="opsfin: operations finance on one trusted warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """opsfin: operations finance on one trusted warehouse."""
