"""`opsfin forecast series FILE`: any file of unique_id, ds, y in, one row per series and step out
(docs/forecasting.md "Forecasting a file"). Bad rows are skipped and counted with their place; a file that
cannot be used is one clear error, never a traceback.

The series are short (fewer than two seasons) and asked for `--models Naive`, so every forecast is the
series' last value: the expected numbers below are read off the input by hand."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_support import run_cli

HEADER = "unique_id,ds,y\n"
GOOD = (
    HEADER + "A,2023-01-01,10\nA,2023-02-01,12\nA,2023-03-01,11.25\nB,2023-01-01,5\nB,2023-02-01,7\nB,2023-03-01,0.1\n"
)


def _write(tmp_path, text: str, name: str = "series.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def test_csv_output_has_exactly_the_forecast_columns_one_row_per_series_and_step(tmp_path, capsys):
    path = _write(tmp_path, GOOD)
    code, out, err = run_cli(
        capsys, "forecast", "series", str(path), "--horizon", "2", "--models", "Naive", "--format", "csv"
    )
    assert code == 0, err
    columns, rows = _csv_rows(out)
    assert columns == ["unique_id", "ds", "model", "yhat", "lo", "hi"]
    assert [(r["unique_id"], r["ds"]) for r in rows] == [
        ("A", "2023-04-01"),
        ("A", "2023-05-01"),
        ("B", "2023-04-01"),
        ("B", "2023-05-01"),
    ]
    # naive: the last value, written with every digit
    assert [float(r["yhat"]) for r in rows] == [11.25, 11.25, 0.1, 0.1]
    assert rows[2]["yhat"] == "0.1"
    for r in rows:
        assert float(r["lo"]) <= float(r["yhat"]) <= float(r["hi"])
        assert r["model"]


def test_bad_rows_are_skipped_and_counted_with_file_row_and_column(tmp_path, capsys):
    text = (
        HEADER
        + "A,2023-01-01,10\n"  # line 2
        + "A,2023-02-01,abc\n"  # line 3: not a number
        + "A,2023-02-01,12\n"  # line 4
        + "A,2023-03-01,11\n"  # line 5
        + "A,2023-03-01,99\n"  # line 6: duplicate of line 5
        + "B,2023-01-01,\n"  # line 7: missing y
        + "B,2023-01-01,5\n"  # line 8
        + "B,2023-02-15,6\n"  # line 9: not the first of a month
        + "B,2023-02-01,7\n"  # line 10
    )
    path = _write(tmp_path, text)
    code, out, err = run_cli(
        capsys, "forecast", "series", str(path), "--horizon", "1", "--models", "Naive", "--format", "csv"
    )
    assert code == 0, err
    assert "Traceback" not in err
    assert "skipped 4 of 9 rows of series.csv" in err
    for place in ("series.csv:3:y", "series.csv:6:ds", "series.csv:7:y", "series.csv:9:ds"):
        assert place in err, place
    assert "duplicate of row 5" in err
    _, rows = _csv_rows(out)
    # the first of two rows for one date is kept: A ends at 11, not 99
    assert {r["unique_id"]: float(r["yhat"]) for r in rows} == {"A": 11.0, "B": 7.0}


def test_a_series_with_a_gap_is_left_out_with_a_warning(tmp_path, capsys):
    text = HEADER + "A,2023-01-01,1\nA,2023-02-01,2\nC,2023-01-01,1\nC,2023-03-01,3\n"
    path = _write(tmp_path, text)
    code, out, err = run_cli(
        capsys, "forecast", "series", str(path), "--horizon", "1", "--models", "Naive", "--format", "csv"
    )
    assert code == 0, err
    assert "series 'C' skipped: no row for 2023-02-01" in err
    assert "skipped 2 of 4 rows" in err
    _, rows = _csv_rows(out)
    assert [r["unique_id"] for r in rows] == ["A"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("unique_id,ds,value\nA,2023-01-01,1\n", "no column y"),
        (HEADER + "A,2023-01-01,x\nA,2023-02-01,\n", "no usable row (2 read, 2 skipped"),
        ("", "the file is empty"),
    ],
)
def test_a_file_that_cannot_be_used_is_one_clear_error(tmp_path, capsys, text, expected):
    path = _write(tmp_path, text)
    code, out, err = run_cli(capsys, "forecast", "series", str(path), "--horizon", "1")
    assert code == 2
    assert expected in err
    assert err.startswith("error: ") and "Traceback" not in err
    assert out == ""


def test_missing_file_and_unknown_frequency_are_clear_errors(tmp_path, capsys):
    code, _, err = run_cli(capsys, "forecast", "series", str(tmp_path / "nothere.csv"), "--horizon", "1")
    assert code == 2 and "no such file" in err
    path = _write(tmp_path, GOOD)
    code, _, err = run_cli(capsys, "forecast", "series", str(path), "--horizon", "1", "--freq", "Y")
    assert code == 2 and "--freq" in err
    code, _, err = run_cli(capsys, "forecast", "series", str(path), "--horizon", "0")
    assert code == 2 and "--horizon" in err


def test_parquet_input_and_output_file(tmp_path, capsys):
    import datetime as dt

    path = tmp_path / "series.parquet"
    table = pa.table(
        {
            "unique_id": ["Q", "Q", "Q"],
            "ds": [dt.date(2022, 1, 1), dt.date(2022, 4, 1), dt.date(2022, 7, 1)],
            "y": [3.0, 4.0, 2.5],
        }
    )
    pq.write_table(table, path)
    target = tmp_path / "out.csv"
    code, out, err = run_cli(
        capsys,
        "forecast",
        "series",
        str(path),
        "--horizon",
        "2",
        "--freq",
        "QS",
        "--models",
        "Naive",
        "--output",
        str(target),
    )
    assert code == 0, err
    assert out == ""
    columns, rows = _csv_rows(target.read_text(encoding="utf-8"))
    assert columns == ["unique_id", "ds", "model", "yhat", "lo", "hi"]
    assert [(r["ds"], float(r["yhat"])) for r in rows] == [("2022-10-01", 2.5), ("2023-01-01", 2.5)]


def test_json_and_table_formats(tmp_path, capsys):
    path = _write(tmp_path, GOOD)
    code, out, err = run_cli(
        capsys, "forecast", "series", str(path), "--horizon", "1", "--models", "Naive", "--format", "json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [set(r) for r in rows] == [{"unique_id", "ds", "model", "yhat", "lo", "hi"}] * 2
    assert rows[0]["ds"] == "2023-04-01" and rows[0]["yhat"] == 11.25
    code, out, err = run_cli(capsys, "forecast", "series", str(path), "--horizon", "1", "--models", "Naive")
    assert code == 0, err
    assert "Forecast of series.csv: 2 series × 1 steps" in out
    assert "11.25" in out
    code, _, err = run_cli(
        capsys, "forecast", "series", str(path), "--horizon", "1", "--output", str(tmp_path / "x"), "--format", "table"
    )
    assert code == 2 and "--format" in err
