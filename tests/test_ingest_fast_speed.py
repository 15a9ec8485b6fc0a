"""The pieces of the vectorised CSV path that exist for speed give what the plain ways give.

- `read_while_hashing` hashes the file in a second thread while DuckDB reads its lines: the SHA-256 and the
  line count are those of the file's bytes, and `_opsfin_lines` holds every line, in order.
- a file of printable ASCII only is "plain": a blank next to a delimiter (or at a line's ends) is then
  the only way a text can begin or end with white space, so one test per line stands for the tests of every
  text's ends; such files load exactly as the row-by-row path loads them.
- `_repeated_hashes` (the duplicate-key check sorts key hashes instead of grouping them) finds exactly the
  hashes of the keys that more than one accepted row holds; refused rows and null keys do not count.
"""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from tests.test_ingest_fast_equivalence import both_paths

from opsfin.ingest import fast_csv, fast_load


def test_read_while_hashing_gives_the_hash_the_count_and_every_line(tmp_path):
    lines = ["entry_id,amount", "E1,1.00", "", "E2,é 2", "E3,3.00"]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "gl.csv"
    path.write_bytes(data)
    con = duckdb.connect()
    sha, count, read = fast_csv.read_while_hashing(con, path)
    assert sha == hashlib.sha256(data).hexdigest()
    assert (count, read) == (5, fast_csv.LinesRead(printable=False, tabs=False))  # "é" is not ASCII
    rows = con.execute(f"SELECT rowid, line FROM {fast_csv.LINES} ORDER BY rowid").fetchall()
    assert rows == [(0, "entry_id,amount"), (1, "E1,1.00"), (2, None), (3, "E2,é 2"), (4, "E3,3.00")]


def test_read_while_hashing_counts_a_last_line_without_a_line_break(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_bytes(b"a,b\n1,2\n3,4")
    sha, count, read = fast_csv.read_while_hashing(duckdb.connect(), path)
    assert (sha, count, read) == (hashlib.sha256(b"a,b\n1,2\n3,4").hexdigest(), 3, fast_csv.LinesRead(True, False))


def test_read_while_hashing_says_when_duckdb_cannot_read_the_file(tmp_path):
    path = tmp_path / "latin1.csv"
    data = "a,b\ncaf\u00e9,1\n".encode("latin-1")
    path.write_bytes(data)
    sha, count, read = fast_csv.read_while_hashing(duckdb.connect(), path)
    assert (sha, count, read) == (hashlib.sha256(data).hexdigest(), 2, None)


def test_repeated_hashes_are_those_of_keys_held_twice_by_accepted_rows():
    con = duckdb.connect()
    keys = ["K1", "K2", "K1", "K3", "K2", "K4", "K4", None, None, "K5"]
    # K4's second row and K5 are refused (state 1): K4 is held once by an accepted row; nulls never repeat
    states = [0, 0, 0, 0, 0, 0, 1, 0, 0, 1]
    rows = pa.table(
        {
            "n": pa.array(range(2, 12), pa.int64()),
            "state": pa.array(states, pa.uint8()),
            "entry_id": pa.array(keys, pa.string()),
        }
    )
    con.register(fast_csv.ROWS, rows)
    alive = 'r.state = 0 AND r."entry_id" IS NOT NULL'
    found = fast_load._repeated_hashes(con, ["entry_id"], alive)
    expected = {con.execute("SELECT hash('K1')").fetchone()[0], con.execute("SELECT hash('K2')").fetchone()[0]}
    assert sorted(found.tolist()) == sorted(expected)


def test_no_repeated_hashes_in_distinct_keys():
    con = duckdb.connect()
    rows = pa.table(
        {
            "n": pa.array(range(2, 1002), pa.int64()),
            "state": pa.array([0] * 1000, pa.uint8()),
            "entry_id": pa.array([f"E{i}" for i in range(1000)], pa.string()),
        }
    )
    con.register(fast_csv.ROWS, rows)
    assert len(fast_load._repeated_hashes(con, ["entry_id"], "r.state = 0")) == 0


@pytest.mark.parametrize(
    ("data", "printable", "tabs"),
    [
        (b"a,b\n x ,y~\n", True, False),
        (b"a\tb\nx\ty\n", True, True),
        (b"a,b\nx\x7f,y\n", False, False),  # DEL
        (b"a,b\nx\x1f,y\n", False, False),  # a control character
        (b"a,b\r\nx,y\r\n", False, False),
        (b"a,b\nx,\xc2\xa0\n", False, False),  # a non-breaking space
        (b"a,b\n" + b"x,y\n" * 300_000 + b"\tz,1\n", True, True),  # past the first chunk read
    ],
)
def test_which_bytes_a_file_holds(tmp_path, data, printable, tabs):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert fast_csv._printable_ascii(path) == fast_csv.LinesRead(printable, tabs)


@pytest.mark.parametrize(
    ("data", "quotes"),
    [
        (b'a,b\n"x, y",1\n', True),
        (b"a,b\n" + b"x,y\n" * 300_000 + b'"z",1\n', True),  # past the first chunk read
        (b"a,b\nx,'y'\n", False),  # a single quote is not a CSV quote
    ],
)
def test_a_printable_file_says_whether_it_holds_a_double_quote(tmp_path, data, quotes):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    found = fast_csv._printable_ascii(path)
    assert found == fast_csv.LinesRead(True, False, quotes)
    assert found.lines_are_records() is not quotes


def test_only_a_printable_file_without_quotes_is_known_to_be_one_record_a_line():
    assert fast_csv.LinesRead(True, True).lines_are_records()
    assert not fast_csv.LinesRead(True, False, True).lines_are_records()
    assert not fast_csv.LinesRead(False, False).lines_are_records()  # a CR, NUL or U+0001 may be in it


def test_a_plain_file_needs_a_delimiter_that_is_not_the_blank_and_a_tab_only_as_the_delimiter():
    printable, with_tabs = fast_csv.LinesRead(True, False), fast_csv.LinesRead(True, True)
    assert printable.plain(",") and printable.plain(";") and printable.plain("\t")
    assert not printable.plain(" ")
    assert with_tabs.plain("\t") and not with_tabs.plain(",")
    assert not fast_csv.LinesRead(False, False).plain(",")


PLAIN_GL = (
    "entry_id,journal_id,posting_date,account_id,cost_center_id,amount,currency,description,source_doc\n"
    "E10,J10,2024-04-01,A1,,10.00,EUR,sale,D1\n"
    "E11,J10,2024-04-01,A2,CC1,-10.00,EUR,cash in,D1\n"
    " E12,J11,2024-04-01,A1,,5.00,EUR,lead blank,D2\n"  # a blank at the line's start
    "E13,J11,2024-04-01,A2,,-5.00,EUR,trail blank ,D2\n"  # before a delimiter
    "E14,J12,2024-04-01,A1,, 7.00,EUR,amount blank,D3\n"  # after a delimiter
    "E15,J12,2024-04-01,A2,,-7.00,EUR,end blank,D3 \n"  # at the line's end
    "E16,J13,2024-04-01,A1,CC2 ,3.00,EUR,x,D4\n"
    "E17,J13,2024-04-01,A2,,-3.00,EUR,,D4\n"  # an empty required text
    "E18,J14,2024-04-01,A1,,1.00,EUR,~!,D5\n"
    "E19,J14,2024-04-01,A2,,-1.00,EUR,a  b,D5\n"
)


def test_a_plain_file_loads_as_the_row_by_row_path_loads_it(tmp_path, monkeypatch):
    seen: list[bool] = []
    real_stage = fast_csv.stage_csv

    def spy(con, path, *args, **kw):
        staged = real_stage(con, path, *args, **kw)
        if path.name == "plain.csv":
            seen.append(staged is not None and staged.plain)
        return staged

    monkeypatch.setattr(fast_csv, "stage_csv", spy)
    rows, fast = both_paths(tmp_path, monkeypatch, "plain.csv", PLAIN_GL, "gl_entries")
    assert seen == [True]  # the plain test ran
    assert fast == rows
    # worked by hand: E12 (' E12' is E12), E14 (' 7.00'), E15 ('D3 ') and E16 ('CC2 ') are accepted by the
    # value parser, which trims texts and numbers; E17 has an empty description, so journal J13 is refused
    assert rows["counts"] == (10, 8, 2)
    assert [q[0] for q in rows["quarantine"]] == [8, 9]


def test_left_out_rows_are_those_sql_did_not_accept_and_the_refused_ones():
    state = pa.chunked_array([[fast_csv.ACCEPTED, fast_csv.ACCEPTED, fast_csv.PENDING], [fast_csv.ACCEPTED] * 2])
    numbers = np.array([2, 3, 4, 5, 6], dtype=np.int64)
    # by hand: position 2 is pending; rows 3 and 6 are refused (positions 1 and 4); row 99 is not in the table
    assert fast_load._left_out(state, numbers, {3: None, 6: None, 99: None}).tolist() == [1, 2, 4]
    assert fast_load._left_out(state, numbers, {}).tolist() == [2]


def test_left_out_rows_when_the_row_numbers_are_not_ascending():
    state = pa.chunked_array([[fast_csv.ACCEPTED] * 3])
    assert fast_load._left_out(state, np.array([5, 2, 3], dtype=np.int64), {2: None, 5: None}).tolist() == [0, 1]
