"""Errors meant for the person at the keyboard. The CLI prints them in one line, exit code 2; the REST API
returns them as a 400 problem (docs/presentation.md "Errors").

An error can carry fields besides its text, so that each front end words it in its own terms:
`param` is the engine's name of the parameter that is wrong (`start`), `value` what was given,
`hint` how to put it right. `what` may name parameters in braces (`{param}`, `{end}`): the CLI
writes them as options (`--from`, `--to`), the API as query parameters (`from`, `to`). `str(error)`
is the CLI's wording, so `UserError("msg")` and code that prints an error keep working. A plain
message (no `param`) is never rewritten."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# engine parameter → (CLI option, API query parameter), where either differs from the engine's name;
# any other parameter is `--name-with-dashes` on the command line and `name` in a query string
PARAMETER_NAMES: dict[str, tuple[str, str]] = {
    "start": ("--from", "from"),
    "end": ("--to", "to"),
}
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def cli_name(param: str) -> str:
    """`start` → `--from`, `as_of` → `--as-of`."""
    return PARAMETER_NAMES[param][0] if param in PARAMETER_NAMES else "--" + param.replace("_", "-")


def api_name(param: str) -> str:
    """`start` → `from`, `as_of` → `as_of`."""
    return PARAMETER_NAMES[param][1] if param in PARAMETER_NAMES else param


def _value_text(value: Any) -> str:
    """` 'x'` for a text, ` 2024-05-01` for a date or number, `` for none."""
    if value is None:
        return ""
    return f" {value!r}" if isinstance(value, str) else f" {value}"


def param_of(option: str) -> str | None:
    """The engine parameter a CLI option names: `--from` → `start`, `--as-of` → `as_of`; None for a
    name that is not an option (a positional argument)."""
    if not option.startswith("--"):
        return None
    for param, (cli, _api) in PARAMETER_NAMES.items():
        if cli == option:
            return param
    return option[2:].replace("-", "_")


class UserError(Exception):
    """A mistake in what the user asked or supplied (missing file, unknown table...).

    `UserError("text")` is a plain message. With `param`, every `{name}` in `what` is a parameter
    (`{param}` the one in error): `"{param} 2024-05-01 is after {end} 2024-04-01"`. A `what` that
    names none gets the parameter and its value in front:
    `UserError("use product or customer", param="object", value="x")` → `--object 'x': use product …`."""

    def __init__(
        self,
        what: str = "",
        *,
        param: str | None = None,
        value: Any = None,
        hint: str | None = None,
    ):
        self.what = what
        self.param = param
        self.value = value
        self.hint = hint
        super().__init__(what)

    def phrase(self, name: Callable[[str], str] = cli_name) -> str:
        """The message, naming each parameter with `name` (cli_name or api_name)."""
        if self.param is None:
            text = self.what
        else:
            placed = _PLACEHOLDER.search(self.what) is not None
            what = self.what if placed else f"{{param}}{_value_text(self.value)}: {self.what}"
            text = _PLACEHOLDER.sub(lambda m: name(self.param if m[1] == "param" else m[1]), what)  # type: ignore[arg-type]
        return f"{text}; {self.hint}" if self.hint else text

    def __str__(self) -> str:
        return self.phrase(cli_name)
