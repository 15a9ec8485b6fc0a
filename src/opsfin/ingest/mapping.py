"""Source mappings: how the columns and text of a source file become canonical columns and values.

A mapping is a small YAML file (conventionally in the workspace's `model/mappings/`):

    table: customers                 # optional: the canonical table (else --table)
    rename: {Kunde: customer_id}     # source column -> canonical column
    date_format: "%d.%m.%Y"          # strptime format for every DATE column
    date_formats: {due_date: "%Y%m%d"}   # per canonical column, wins over date_format
    timestamp_format: "%d.%m.%Y %H:%M"   # and timestamp_formats: {col: fmt}
    time_format: "%H:%M"
    decimal_separator: ","           # "." (default) or ","
    thousands_separator: "."         # none by default
    constants: {currency: EUR}       # a value for every row, for a column the source lacks
    null_values: ["", "NULL"]        # texts that mean "no value" (default: the empty text)
    delimiter: ";"                   # CSV only; default: detected from the header line
    encoding: utf-8-sig              # text files only
    sheet: Sheet1                    # Excel only; default: the first sheet
    tables:                          # several tables from one source (instead of table/rename/constants)
      - table: customers
        distinct: true               # one row per primary key (each column: its most frequent value)
        rename: {customerID: customer_id}
        derive: {name: "{customerID}", payment_terms_days: {days_between: [InvoiceDate, DueDate]}}
      - table: ar_invoices
        recode: {paperless: {Electronic: "true", Paper: "false"}}   # source text -> value, per column
      - table: ar_receipts
        when: {SettledDate: not_empty}   # a row filter: empty / not_empty per source column

`load_mapping` turns a bad file into a `UserError` that names the offending key;
`plan_columns` checks the mapping against a table and the source's columns, and
`checked_constants` reads its constants as values of their columns.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..canonical import Table
from ..errors import UserError
from ..values.parser import Invalid, value_checker

THOUSANDS_SEPARATORS = (".", ",", " ", "'", "\u00a0", "\u202f", "_")


class DaysBetween(BaseModel):
    """A derived whole number of days: from the first source column's date to the second's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days_between: tuple[str, str]


class TableMapping(BaseModel):
    """One target table of a `tables:` mapping: how the source's rows become this table's rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    rename: dict[str, str] = {}
    constants: dict[str, Any] = {}
    derive: dict[str, str | DaysBetween] = {}  # canonical column -> "text {SourceColumn}" or days_between
    recode: dict[str, dict[str, Any]] = {}  # canonical column -> {source text: value}
    when: dict[str, Literal["empty", "not_empty"]] = {}  # source column -> which rows feed this table
    distinct: bool = False  # master rows: one per primary key

    @field_validator("derive", mode="before")
    @classmethod
    def _derive_rules(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for name, rule in value.items():
            pair = rule.get("days_between") if isinstance(rule, dict) and len(rule) == 1 else None
            two_names = isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            if not isinstance(rule, str) and not two_names:
                raise ValueError(
                    f"{name}: a derived column is a text template such as "
                    '"R-{invoiceNumber}", or {days_between: [FromColumn, ToColumn]}'
                )
            if isinstance(rule, str):
                try:
                    list(string.Formatter().parse(rule))
                except ValueError as exc:
                    raise ValueError(f"{name}: the template {rule!r} cannot be read ({exc})") from None
        return value

    @field_validator("recode", mode="before")
    @classmethod
    def _recode_texts(cls, value: Any) -> Any:
        for name, texts in value.items() if isinstance(value, dict) else ():
            odd = [t for t in texts if not isinstance(t, str)] if isinstance(texts, dict) else []
            if odd:
                raise ValueError(
                    f"{name}: {odd[0]!r} is not a text; quote the source texts "
                    "(YAML reads Yes, No, On, Off, true, false and numbers unquoted as other values)"
                )
        return value


class Mapping(BaseModel):
    """A validated mapping. The empty mapping (`Mapping()`) means: canonical names, ISO dates, `.` decimals."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str | None = None
    rename: dict[str, str] = {}
    date_format: str | None = None
    date_formats: dict[str, str] = {}
    timestamp_format: str | None = None
    timestamp_formats: dict[str, str] = {}
    time_format: str | None = None
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: str | None = None
    constants: dict[str, Any] = {}
    null_values: list[str] = [""]
    delimiter: str | None = None
    encoding: str = "utf-8-sig"
    sheet: str | None = None
    tables: list[TableMapping] = []

    @field_validator("date_format", "timestamp_format", "time_format")
    @classmethod
    def _one_format(cls, value: str | None) -> str | None:
        if value is not None:
            _check_format(value)
        return value

    @field_validator("date_formats", "timestamp_formats")
    @classmethod
    def _many_formats(cls, value: dict[str, str]) -> dict[str, str]:
        for fmt in value.values():
            _check_format(fmt)
        return value

    @field_validator("thousands_separator")
    @classmethod
    def _thousands(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value not in THOUSANDS_SEPARATORS:
            shown = ", ".join(repr(s) for s in THOUSANDS_SEPARATORS)
            raise ValueError(f"must be one of {shown}")
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError('must be a single character (use "\\t" for tab)')
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _separators_differ(self) -> Mapping:
        if self.thousands_separator is not None and self.thousands_separator == self.decimal_separator:
            raise ValueError("thousands_separator and decimal_separator must differ")
        if self.tables and (self.table or self.rename or self.constants):
            raise ValueError("with `tables:`, give table, rename and constants in each entry of the list")
        return self

    def for_table(self, entry: TableMapping) -> Mapping:
        """The one-table mapping of one `tables:` entry: its table, rename and constants, the shared text forms."""
        return self.model_copy(
            update={"table": entry.table, "rename": entry.rename, "constants": entry.constants, "tables": []}
        )

    def date_format_for(self, column: str) -> str | None:
        return self.date_formats.get(column, self.date_format)

    def timestamp_format_for(self, column: str) -> str | None:
        return self.timestamp_formats.get(column, self.timestamp_format)


def _check_format(fmt: str) -> None:
    if "%" not in fmt:
        raise ValueError(f'{fmt!r} is not a strptime format (it has no % directive, e.g. "%d.%m.%Y")')
    try:
        dt.datetime(2001, 2, 3, 4, 5, 6).strftime(fmt)
    except ValueError as exc:
        raise ValueError(f"{fmt!r} is not a valid strptime format: {exc}") from None


def parse_mapping(data: Any, origin: str = "mapping") -> Mapping:
    """Validate an already-parsed mapping (dict); a problem is a `UserError` naming the key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{origin}: expected a mapping of keys (rename, date_format, ...) at the top level")
    try:
        return Mapping(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            model = TableMapping if first["loc"][0] == "tables" and len(first["loc"]) == 3 else Mapping
            known = ", ".join(model.model_fields)
            msg = f"unknown key; known keys: {known}"
        raise UserError(f"{origin}: key '{key}': {msg}") from None


def load_mapping(path: str | Path, search_dir: Path | None = None) -> Mapping:
    """Read a mapping YAML file. A bare name is also looked up in `search_dir` (model/mappings/)."""
    p = Path(path).expanduser()
    if not p.exists() and search_dir is not None:
        for candidate in (
            search_dir / p.name,
            search_dir / f"{p.name}.yaml",
            search_dir / f"{p.name}.yml",
        ):
            if candidate.exists():
                p = candidate
                break
    if not p.is_file():
        raise UserError(f"{path}: mapping file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{p}: mapping is not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_mapping(data, str(p))


@dataclass
class ColumnPlan:
    """Where each canonical column of a table comes from, for one source."""

    table: Table
    source_index: dict[str, int] = field(default_factory=dict)  # canonical column -> source column position
    constants: dict[str, Any] = field(default_factory=dict)  # canonical column -> constant value
    ignored: list[str] = field(default_factory=list)  # source columns that feed nothing


def plan_columns(
    table: Table,
    source_columns: Sequence[str],
    mapping: Mapping,
    source: str,
    mapping_origin: str = "mapping",
) -> ColumnPlan:
    """Match source columns to the table's columns, applying `rename` and `constants`.

    Names match exactly, else ignoring case and surrounding blanks. Raises `UserError` when the
    mapping names a column that does not exist, two source columns feed one canonical column,
    or a required column has no source."""
    origin = mapping_origin
    canonical = set(table.column_names)
    src_pos = {name: i for i, name in enumerate(source_columns)}
    for key, renamed in mapping.rename.items():
        if key not in src_pos:
            have = ", ".join(source_columns) or "none"
            raise UserError(f"{origin}: key 'rename.{key}': {source} has no column {key!r} (its columns: {have})")
        if renamed not in canonical:
            raise UserError(
                f"{origin}: key 'rename.{key}': {renamed!r} is not a column of {table.name} "
                f"(its columns: {', '.join(table.column_names)})"
            )
    for key_name, formats, types in (
        ("date_formats", mapping.date_formats, ("DATE",)),
        ("timestamp_formats", mapping.timestamp_formats, ("TIMESTAMP",)),
    ):
        for colname in formats:
            if colname not in canonical or table.column(colname).type not in types:
                raise UserError(
                    f"{origin}: key '{key_name}.{colname}': {table.name} has no {types[0]} column {colname!r}"
                )
    plan = ColumnPlan(table)
    lowered = {c.lower(): c for c in canonical}
    for pos, name in enumerate(source_columns):
        target = mapping.rename.get(name)
        if target is None:
            stripped = name.strip()
            target = stripped if stripped in canonical else lowered.get(stripped.lower())
        if target is None:
            if name.strip():
                plan.ignored.append(name)
            continue
        if target in plan.source_index:
            first = source_columns[plan.source_index[target]]
            raise UserError(
                f"{source}: columns {first!r} and {name!r} both map to {table.name}.{target}; rename or drop one"
            )
        plan.source_index[target] = pos
    for colname, value in mapping.constants.items():
        if colname not in canonical:
            raise UserError(f"{origin}: key 'constants.{colname}': {colname!r} is not a column of {table.name}")
        if colname in plan.source_index:
            raise UserError(
                f"{origin}: key 'constants.{colname}': {source} already has a column for "
                f"{colname!r}; drop the constant or the column"
            )
        plan.constants[colname] = value
    missing = [
        c.name
        for c in table.columns
        if not c.nullable and c.name not in plan.source_index and c.name not in plan.constants
    ]
    if missing:
        hint = f"; columns not used: {', '.join(plan.ignored)}" if plan.ignored else ""
        raise UserError(
            f"{source}: required column(s) of {table.name} missing: {', '.join(missing)}"
            f" (add them, or map them with `rename`/`constants` in a mapping){hint}"
        )
    return plan


def checked_constants(plan: ColumnPlan, mapping: Mapping, mapping_origin: str) -> dict[str, Any]:
    """The mapping's constants as canonical values of their columns; a bad one is a `UserError` naming its key."""
    constants: dict[str, Any] = {}
    for name, value in plan.constants.items():
        try:
            constants[name] = value_checker(plan.table.column(name), mapping)(value)
        except Invalid as exc:
            raise UserError(f"{mapping_origin}: key 'constants.{name}': {exc}") from None
    return constants
