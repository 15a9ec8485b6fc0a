"""The value rules of `opsfin.values.parser` as vectorised SQL, for the values it can decide alone.

For one canonical column and one raw text `v`, `column_sql` gives two SQL expressions:
- `clean`: true only when the value parser certainly ACCEPTS `v`, and
- `value`: the canonical value it then gives (DuckDB type of the column), NULL for an allowed null.

`clean` is deliberately narrower than the parser: texts with blanks or other white space at either end,
numbers in any but the plain form (`-1234.50`), dates other than `YYYY-MM-DD`, patterns other than the ones
known here, ... are left unclean, and the rows holding them are checked by the value parser itself (in
Python), which also words every refusal. So the outcome is the parser's by construction; SQL only
decides the common, plainly valid case fast. See docs/ingest.md, "How validation runs".
"""

from __future__ import annotations

from dataclasses import dataclass

from ..canonical import Column

#: Every code point `str.strip()` removes (`chr(c).isspace()`); tests check the list against Python.
PYTHON_SPACES = (
    tuple(range(0x09, 0x0E))
    + tuple(range(0x1C, 0x21))
    + (0x85, 0xA0, 0x1680)
    + tuple(range(0x2000, 0x200B))
    + (0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
)
_KNOWN_PATTERNS = {r"^[A-Z]{3}$": "[A-Z]{3}"}  # Python pattern -> RE2 full match of the same texts
_INT_DIGITS = {"INTEGER": 9, "BIGINT": 18}  # so many digits always fit the type
_DOUBLE_RE = r"[+-]?[0-9]{1,15}(\.[0-9]{1,15})?"
_DATE_RE = r"[0-9]{4}-(0[1-9]|1[0-2])-[0-3][0-9]"
_CLOCK_RE = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
_CAST_TYPES = ("INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "TIME")  # `_typed` casts these (and decimals)
_TRUE = ("true", "1", "yes")  # the parser's TRUE_TEXTS / FALSE_TEXTS
_FALSE = ("false", "0", "no")


@dataclass(frozen=True)
class ColumnSql:
    clean: str
    value: str
    quick: str = ""  # a cheaper test that implies `clean` (texts: printable ASCII at both ends); "" = `clean`
    plain: str = ""  # `clean` on a plain line (see `plain_line`: texts need no test of their ends); "" = `fast`

    @property
    def fast(self) -> str:
        return self.quick or self.clean

    @property
    def on_plain_line(self) -> str:
        return self.plain or self.fast


def plain_line(line: str, delimiter: str) -> str:
    """SQL: no field of `line` begins or ends with a blank. On a line of printable ASCII only (the whole file
    is: `fast_csv` checks the bytes; `delimiter` printable and not the blank, or a tab), every field's ends are
    then printable ASCII other than the blank, as `_edges_ascii` asks."""
    before, after = quote(" " + delimiter), quote(delimiter + " ")
    return (
        f"(NOT starts_with({line}, ' ') AND NOT ends_with({line}, ' ') "
        f"AND NOT contains({line}, {before}) AND NOT contains({line}, {after}))"
    )


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _texts(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join(quote(v) for v in values)


def _full(v: str, pattern: str) -> str:
    return f"regexp_full_match({v}, {quote(pattern)})"


def _edges_plain(v: str) -> str:
    """`v` is not empty and `str.strip()` leaves it as it is. An ASCII end must be printable and not a blank
    (control characters are left to the parser); other ends must not be Unicode white space."""
    first, last = f"unicode({v})", f"unicode(substr({v}, -1))"
    wide = ", ".join(str(c) for c in PYTHON_SPACES if c >= 128)
    return (
        f"({v} <> '' AND CASE WHEN {first} < 128 THEN {first} > 32 ELSE {first} NOT IN ({wide}) END "
        f"AND CASE WHEN {last} < 128 THEN {last} > 32 ELSE {last} NOT IN ({wide}) END)"
    )


def _edges_ascii(v: str) -> str:
    """`v` begins and ends with a printable ASCII character other than the blank (so `_edges_plain` holds)."""
    return f"(unicode({v}) BETWEEN 33 AND 126 AND unicode(substr({v}, -1)) BETWEEN 33 AND 126)"


def typed_cast(column: Column, v: str) -> str | None:
    """`TRY_CAST` of the raw text `v` to the column's type, when its clean test and value both use it (None
    otherwise). A caller may compute it once, by name, and pass the name to `column_sql` as `cast`."""
    if column.decimal_scale is None and column.type not in _CAST_TYPES:  # texts, booleans, unknown types
        return None
    return f"TRY_CAST({v} AS {column.type})"


def _typed(column: Column, v: str, cast: str | None) -> ColumnSql | None:
    """Clean and value of a non-null text `v` for the column's type, before the column's limits; `cast` names
    `typed_cast(column, v)` computed already (None: written out here)."""
    kind = column.type
    typed = cast or f"TRY_CAST({v} AS {kind})"
    if column.decimal_scale is not None:
        precision, scale = (int(p) for p in kind[kind.index("(") + 1 : -1].split(","))
        pattern = rf"[+-]?[0-9]{{1,{precision - scale}}}(\.[0-9]{{0,{scale}}})?"
        return ColumnSql(_full(v, pattern), typed)
    if kind == "VARCHAR":
        return ColumnSql("TRUE", v)
    if kind in _INT_DIGITS:
        return ColumnSql(_full(v, rf"[+-]?[0-9]{{1,{_INT_DIGITS[kind]}}}"), typed)
    if kind == "DOUBLE":
        return ColumnSql(_full(v, _DOUBLE_RE), typed)
    if kind == "BOOLEAN":
        lower = f"lower({v})"
        clean = f"(strlen({v}) = length({v}) AND {lower} IN ({_texts(_TRUE + _FALSE)}))"
        return ColumnSql(clean, f"({lower} IN ({_texts(_TRUE)}))")
    if kind == "DATE":
        # exactly the text DuckDB writes for the date: YYYY-MM-DD, years 0001-9999
        return ColumnSql(f"(strlen({v}) = 10 AND CAST({typed} AS VARCHAR) = {v})", typed)
    if kind == "TIMESTAMP":
        clean = f"({_full(v, _DATE_RE + '[ T]' + _CLOCK_RE)} AND NOT starts_with({v}, '0000') AND {typed} IS NOT NULL)"
        return ColumnSql(clean, typed)
    if kind == "TIME":
        return ColumnSql(_full(v, _CLOCK_RE), typed)
    return None


def _limits(column: Column, typed: str) -> list[str]:
    """SQL conditions for the column's allowed values, minimum, maximum and pattern; None when one is unknown."""
    conditions = []
    if column.allowed:
        conditions.append(f"{typed} IN ({_texts(column.allowed)})")
    if column.minimum is not None:
        conditions.append(f"{typed} >= {column.minimum!r}")
    if column.maximum is not None:
        conditions.append(f"{typed} <= {column.maximum!r}")
    if column.pattern is not None:
        conditions.append(
            _full(typed, _KNOWN_PATTERNS[column.pattern]) if column.pattern in _KNOWN_PATTERNS else "FALSE"
        )
    return conditions


def column_sql(column: Column, v: str, null_values: list[str], cast: str | None = None) -> ColumnSql:
    """Clean and value of the raw text `v` (a SQL expression, never NULL) for `column`; `cast`, when given,
    names `typed_cast(column, v)` computed once by the caller (the clean test and the value both use it).

    Only for the mapping's default text forms (`.` decimals, no thousands separator, ISO dates and times).
    The parser strips a value before it compares it with the null texts, so only null texts that stripping
    leaves as they are can ever match; a text with white space at an end is never clean here. The checks of
    the other types accept no white space at all, so only texts are checked for their ends."""
    typed = _typed(column, v, cast)
    if typed is None:  # a type this module does not know: the value parser decides every value
        return ColumnSql("FALSE", f"CAST(NULL AS {column.type})")
    nulls = [t for t in null_values if t == t.strip()]
    decided = column.pattern in _KNOWN_PATTERNS or (column.allowed and all(a == a.strip() for a in column.allowed))
    texts = column.type == "VARCHAR" and not decided  # (known patterns and allowed values have no white space)
    is_null = f"{v} IN ({_texts(nulls)})" if nulls else ""

    def clean(edges: str | None) -> str:
        check = " AND ".join(c for c in [edges, typed.clean, *_limits(column, typed.value)] if c and c != "TRUE")
        check = check or "TRUE"
        if not nulls:
            return check
        if not column.nullable:  # a null text is refused: the parser words it
            return f"(NOT {is_null} AND {check})"
        return f"({is_null} OR {check})"

    value = f"CASE WHEN {is_null} THEN NULL ELSE {typed.value} END" if nulls and column.nullable else typed.value
    if not texts:
        return ColumnSql(clean(None), value)
    return ColumnSql(clean(_edges_plain(v)), value, clean(_edges_ascii(v)), clean(f"({v} <> '')"))
