"""Validating the model files (`model/*.yaml`) with pydantic: strict types, one clear line per mistake.

Each engine declares its file as pydantic models built on `Entry` (unknown keys refused, with the list of
keys that exist) and the strict number types below (a YAML `true` or `"8%"` is not a number). `validate`
turns the first problem into one `UserError` naming the file, the entry, the field, the value and what
is allowed, e.g.

    model/guardrails.yaml: guardrails[2] (oee): field 'max': expected a number, got true

Entries of a list are counted from 1. See docs/configuration.md."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Protocol, Self, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import UserError

M = TypeVar("M", bound=BaseModel)


class Named(Protocol):
    """An entry of a model file's list that has a name (a scenario, a case, an experiment)."""

    @property
    def name(self) -> str: ...


def unique_names(entries: Iterable[Named], kind: str) -> set[str]:
    """The names of a file's list; a ValueError (the file's mistake, for a validator) when one is named twice."""
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise ValueError(f"{kind} {entry.name!r} is named twice; names are unique")
        seen.add(entry.name)
    return seen


Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=0)]
Text = Annotated[str, Strict()]
_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]+")


def _name_characters(name: str) -> str:
    if not _NAME_CHARACTERS.fullmatch(name):
        raise ValueError(f"{name!r}: use letters, digits and _ . - only")
    return name


#: the name of a scenario, an investment case or an experiment: it becomes part of a plan version
#: (`B2025+copper_spike`) and of web addresses, so letters, digits and _ . - only
EntryName = Annotated[Text, AfterValidator(_name_characters)]


def _in_catalog(kpi: str, info: ValidationInfo) -> str:
    catalog = (info.context or {}).get("catalog")
    if catalog is not None and kpi not in catalog:
        raise ValueError(f"unknown KPI {kpi!r}; `opsfin kpi --list` shows the catalog")
    return kpi


#: a KPI id, checked against the catalog the file is validated with (`validate(…, context={"catalog": …})`)
KpiId = Annotated[Text, AfterValidator(_in_catalog)]
LABEL_KEYS = ("kpi", "id", "name")


class Entry(BaseModel):
    """A mapping of a model file: unknown keys are refused, naming the keys there are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [k for k in data if k not in cls.model_fields]
            if unknown:
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key {keys}; keys are {allowed}",
                    {
                        "keys": ", ".join(repr(str(k)) for k in unknown),
                        "allowed": ", ".join(cls.model_fields),
                    },
                )
        return data


N = TypeVar("N", bound=Named)


class NamedList(Entry, Generic[N]):
    """A model file of a list whose entries have unique names (`scenarios:`, `experiments:`, `investments:`).
    A subclass declares the list as a field and says which (`LIST`) and what an entry is called (`KIND`,
    for the message when a name is given twice); `get` finds an entry by its name."""

    LIST: ClassVar[str]
    KIND: ClassVar[str]

    def entries(self) -> list[N]:
        return getattr(self, self.LIST)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        unique_names(self.entries(), self.KIND)
        return self

    def get(self, name: str) -> N | None:
        return next((e for e in self.entries() if e.name == name), None)

    @classmethod
    def parse(cls, data: Any, where: str | Path, context: dict[str, Any] | None = None) -> Self:
        """The file from its parsed YAML (None, an empty file, has no entries), as `validate` checks it."""
        return validate(cls, data if data is not None else {}, where, context)


def _decimal(value: Any) -> Any:
    """An exact number from YAML: int, float (through its text, not its binary value) or Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("number_type", "expected a number")
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise PydanticCustomError("number_type", "expected a number") from None
    if not out.is_finite():
        raise PydanticCustomError("finite_number", "expected a finite number")
    return out


DecimalNumber = Annotated[Decimal, BeforeValidator(_decimal)]


def refuse_bool(value: Any) -> Any:
    """A before-validator for lax numbers (text such as "0.5" still converts): true and false are refused."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "expected a number, got {value}", {"value": show(value)})
    return value


def as_list(value: Any) -> Any:
    """`x` → `[x]` and `"a, b"` → `["a", "b"]` for fields that take one value or a list (None → [])."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [str(value)]
    return value


def scalar_text(value: Any) -> Any:
    """A name or id written as a YAML number (`site: 1`) is its text; lists and mappings stay refused."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def show(value: Any) -> str:
    """A value as the user wrote it in YAML: true, null, 'text', 12.5 (shortened when long)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list | tuple):
        text = "a list"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_EXPECTED = {
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "number_type": "expected a number",
    "decimal_type": "expected a number",
    "decimal_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "missing": "missing (required)",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "too_short": "expected at least one value",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "≥"),
    "less_than_equal": ("le", "≤"),
    "greater_than": ("gt", ">"),
    "less_than": ("lt", "<"),
}
_NO_VALUE = {"missing", "unknown_key", "value_error", "assertion_error", "too_short"}


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        bound = ctx[key]
        text = f"expected a number {sign} {int(bound) if float(bound).is_integer() else bound}"
    elif kind == "literal_error":
        text = f"expected one of {ctx['expected']}"
    elif kind in _EXPECTED:
        text = _EXPECTED[kind]
    elif kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error") or error["msg"])
    else:
        text = error["msg"][:1].lower() + error["msg"][1:]
    if kind not in _NO_VALUE:
        text += f", got {show(error.get('input'))}"
    return text


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """`guardrails[2] (oee): field 'max'` from the error's location in the file's data."""
    first = 1 if len(loc) > 1 and isinstance(loc[1], int) else None  # an entry of a top-level list
    if first is None:
        return f"field {_path(loc)!r}" if loc else ""
    node = data
    for p in loc[: first + 1]:
        node = node[p] if isinstance(node, dict | list) and _has(node, p) else None
    entry = f"{'.'.join(map(str, loc[:first]))}[{loc[first] + 1}]"
    label = next(
        (node[k] for k in LABEL_KEYS if isinstance(node, dict) and isinstance(node.get(k), str)),
        None,
    )
    entry += f" ({label})" if label else ""
    rest = loc[first + 1 :]
    return entry + (f": field {_path(rest)!r}" if rest else "")


def _path(loc: tuple[Any, ...]) -> str:
    """`where.site[2]`: keys joined by dots, list positions counted from 1."""
    return "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _has(node: dict | list, key: Any) -> bool:
    return key in node if isinstance(node, dict) else isinstance(key, int) and 0 <= key < len(node)


def describe(exc: ValidationError, data: Any) -> str:
    """The first problem of a validation, as `entry: field 'x': what is wrong, got VALUE`."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = _where(tuple(p for p in first["loc"] if p != "__root__"), data)
    text = f"{where}: {_message(first)}" if where else _message(first)
    more = len(errors) - 1
    return text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, where: str | Path) -> Any:
    """Parse the YAML text of a model file; a syntax error is a one-line UserError naming `where`. Text
    in, data out: the engines parse their files with it, the I/O layer reads them (docs/configuration.md)."""
    try:  # libyaml's safe loader when installed: the same data, several times faster
        return yaml.load(text, Loader=FAST_LOADER)  # noqa: S506 - CSafeLoader is the safe loader
    except yaml.YAMLError:
        pass  # a mistake is read again by the pure-Python loader, whose message names the place as before
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML: {' '.join(str(exc).split())}") from None


def validate(model: type[M], data: Any, path: str | Path, context: dict[str, Any] | None = None) -> M:
    """`model` validated from a parsed YAML file; a mistake is one UserError naming `path`."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise UserError(f"{path}: {describe(exc, data)}") from None
