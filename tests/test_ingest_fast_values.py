"""The SQL value rules (`ingest.fast_values`) never accept what the value parser refuses, and give its value.

For every kind of column and a corpus of texts (hand-picked hostile ones plus generated ones), a text SQL
calls clean must be accepted by `values.parser.value_checker` with the very same canonical value; and the
plainly written good values must be clean (else the vectorised path would silently fall back to Python)."""

from __future__ import annotations

import datetime as dt
import sys

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsfin.canonical.types import col
from opsfin.ingest.fast_values import PYTHON_SPACES, column_sql, typed_cast
from opsfin.values.parser import Invalid, value_checker

COLUMNS = {
    "id": col("id"),
    "note": col("note", null=True),
    "kind": col("kind", allowed=("plant", "warehouse")),
    "currency": col("currency", pattern=r"^[A-Z]{3}$"),
    "other_pattern": col("code", pattern=r"^[0-9]+$"),
    "money": col("money", "DECIMAL(18,2)"),
    "price": col("price", "DECIMAL(18,4)", minimum=0, null=True),
    "days": col("days", "INTEGER", minimum=0),
    "big": col("big", "BIGINT"),
    "hours": col("hours", "DOUBLE", minimum=0, maximum=24),
    "flag": col("flag", "BOOLEAN"),
    "day": col("day", "DATE"),
    "stamp": col("stamp", "TIMESTAMP", null=True),
    "clock": col("clock", "TIME"),
}
HOSTILE = [
    "", " ", "\t", "x", " x", "x ", "x\u00a0", "\u3000x", "\x1fx", "x\x85", "\u2028", "NULL", "null", "é", "e\u0301",
    "0", "-0", "+0", "1", "-1", "+7", "007", "1.", ".5", "1.5", "1.005", "12.50", "12.5000", "-12.34", "1e2", "1E-2",
    "1,5", "1_000", "١٢", "１２", "²", "NaN", "nan", "inf", "-inf", "Infinity", "99999999999999999",
    "9999999999999999.99", "10000000000000000", "00000000000000000001", "2147483647", "2147483648", "-2147483648",
    "-2147483649", "9223372036854775807", "9223372036854775808", "true", "TRUE", "Yes", "no", "y", "t", "İ",
    "2024-01-31", "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10", "2024-1-5", "20240105",
    "0000-01-01", "0001-01-01", "9999-12-31", "2024-01-05T00:00", "2024-01-05 00:00:00", "2024-01-05 10:00",
    "2024-01-05T10:00:00", "2024-01-05 24:00", "2024-01-05 10:60", "2024-01-05 10:00:60", "2024-01-05 10:00+01:00",
    "2024-01-05 10:00:00.5", "06:00", "6:00", "23:59:59", "24:00", "12:60", "12:00:60", "06:00:00.5", "EUR", "eur",
    "EURO", "ÉUR", "E1R", "plant", "Plant", "warehouse ", "123", "12a", "8", "24", "24.01", "-0.5", "7.", "1E400",
]  # fmt: skip


CON = duckdb.connect()


def sql_results(column, texts: list[str]) -> list[tuple[bool, object]]:
    CON.register("t", pa.table({"v": pa.array(texts, type=pa.string()), "i": pa.array(range(len(texts)))}))
    try:
        sql = column_sql(column, "t.v", ["", "NULL"])
        rows = CON.execute(
            f"SELECT coalesce({sql.fast}, FALSE), coalesce({sql.clean}, FALSE), CAST({sql.value} AS {column.type}) "
            "FROM t ORDER BY t.i"
        ).fetchall()
        assert all(clean for fast, clean, _ in rows if fast)  # the quick test implies the exact one
        return [(fast or clean, value) for fast, clean, value in rows]
    finally:
        CON.unregister("t")


def same(python_value: object, sql_value: object) -> bool:
    if isinstance(python_value, float) and isinstance(sql_value, float):
        return repr(python_value) == repr(sql_value)
    return type(python_value) is type(sql_value) and python_value == sql_value


class Forms:
    decimal_separator = "."
    thousands_separator = None
    null_values = ["", "NULL"]
    time_format = None

    def date_format_for(self, column: str) -> None:
        return None

    def timestamp_format_for(self, column: str) -> None:
        return None


def check_texts(column, texts: list[str]) -> int:
    """Assert every clean text is accepted with the same value; returns how many were clean."""
    checker = value_checker(column, Forms())
    clean = 0
    for text, (is_clean, value) in zip(texts, sql_results(column, texts), strict=True):
        if not is_clean:
            continue
        clean += 1
        try:
            expected = checker(text)
        except Invalid as exc:
            pytest.fail(f"{column.name}: SQL accepts {text!r}, the parser refuses it: {exc}")
        assert same(expected, value), (column.name, text, expected, value)
    return clean


@pytest.mark.parametrize("name", list(COLUMNS))
def test_hostile_texts(name):
    check_texts(COLUMNS[name], HOSTILE)


GOOD = {
    "id": ["C1", "é", "a b"],
    "note": ["", "NULL", "x"],
    "kind": ["plant"],
    "currency": ["EUR"],
    "money": ["12.50", "-3", "0.5", "1."],
    "price": ["1.2345", ""],
    "days": ["30", "0", "+7"],
    "big": ["9223372036854775"],
    "hours": ["7.5", "24"],
    "flag": ["true", "No", "1"],
    "day": ["2024-02-29"],
    "stamp": ["2024-01-05 10:00", "2024-01-05T10:00:59", ""],
    "clock": ["06:00", "23:59:59"],
}


@pytest.mark.parametrize("name", list(GOOD))
def test_plain_good_values_are_decided_in_sql(name):
    assert check_texts(COLUMNS[name], GOOD[name]) == len(GOOD[name])


def test_other_patterns_are_left_to_the_parser():
    assert check_texts(COLUMNS["other_pattern"], ["123", "1"]) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.text(max_size=12), st.from_regex(r"[ +-]?[0-9]{0,20}(\.[0-9]{0,5})?[ ]?")), max_size=40))
def test_generated_texts(texts):
    for column in COLUMNS.values():
        check_texts(column, texts)


@given(st.lists(st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat), min_size=1, max_size=20))
@settings(max_examples=30, deadline=None)
def test_generated_dates(texts):
    assert check_texts(COLUMNS["day"], texts) == len(texts)


@given(st.lists(st.decimals(min_value=-(10**15), max_value=10**15, places=2).map(str), min_size=1, max_size=20))
@settings(max_examples=30, deadline=None)
def test_generated_money(texts):
    assert check_texts(COLUMNS["money"], [t for t in texts if "E" not in t]) == len([t for t in texts if "E" not in t])


@pytest.mark.parametrize("name", list(COLUMNS))
def test_a_cast_computed_once_gives_the_same_verdicts(name):
    """`column_sql(..., cast=NAME)`, NAME holding `typed_cast` (as the CSV staging computes it once per row),
    decides every hostile text as the written-out SQL does."""
    column = COLUMNS[name]
    cast = typed_cast(column, "t.v")
    assert (cast is None) == (column.type in ("VARCHAR", "BOOLEAN"))
    CON.register("t", pa.table({"v": pa.array(HOSTILE, type=pa.string()), "i": pa.array(range(len(HOSTILE)))}))
    try:
        results = []
        for sql in (
            column_sql(column, "t.v", ["", "NULL"]),
            column_sql(column, "t.v", ["", "NULL"], "c" if cast else None),
        ):
            results.append(
                CON.execute(
                    f"SELECT coalesce({sql.fast}, FALSE), coalesce({sql.clean}, FALSE), "
                    f"CAST({sql.value} AS {column.type}) FROM (SELECT t.*, {cast or 'NULL'} AS c FROM t) t ORDER BY t.i"
                ).fetchall()
            )
    finally:
        CON.unregister("t")
    assert repr(results[0]) == repr(results[1])  # (repr: NaN equals itself)
    if cast:  # the name is used: a wrong cast changes the values
        wrong = column_sql(column, "t.v", ["", "NULL"], "NULL")
        assert wrong.value != column_sql(column, "t.v", ["", "NULL"]).value


def test_python_spaces_are_what_strip_removes():
    assert set(PYTHON_SPACES) == {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}
