"""The vectorised CSV path loads exactly what the row-by-row path loads.

Messy CSV files (every kind of bad value the value parser knows, white space, wrong field counts, blank
lines, duplicate keys, keys already loaded, unknown foreign keys, closed periods, unbalanced journals) are
loaded twice, into two workspaces prepared alike: once with the vectorised path switched off
(`fast_csv.USE_FAST = False`, the row-by-row path of `batch_from_source` + `validate_load`) and once with it
on. The accepted rows, the quarantine rows (row, column, reason, raw record), the counts and the first
problems must be identical, and the fast path must really have been taken."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import opsfin
import opsfin.errors
from opsfin import ingest
from opsfin.canonical import table as table_decl
from opsfin.ingest import fast_csv

MASTER = {
    "sites": "site_id,name,kind,region,std_energy_price\nS1,Plant,plant,EU,0.2000\nS2,Depot,warehouse,EU,0.1000\n",
    "cost_centers": "cost_center_id,site_id,name,kind,owner\nCC1,S1,Assembly,production,Ann\nCC2,S2,Store,warehouse,Bo\n",
    "accounts": "account_id,name,type,role\nA1,Sales,revenue,revenue\nA2,Cash,asset,cash\nA3,Rent,expense,opex\n",
    "products": "product_id,name,family,kind,uom,list_price,std_unit_cost\nP1,Widget,W,finished,pc,10.0000,4.0000\n",
    "work_centers": "work_center_id,site_id,cost_center_id,name,kind,std_labor_rate,std_variable_overhead_rate,"
    "std_fixed_overhead_rate\nW1,S1,CC1,Line 1,line,30.0000,5.0000,7.0000\n",
}
# one earlier GL journal: its entry ids are "already in gl_entries"
EARLIER_GL = "entry_id,journal_id,posting_date,account_id,cost_center_id,amount,currency,description,source_doc\n"
EARLIER_GL += "E1,J0,2024-03-01,A1,,10.00,EUR,old,D0\nE2,J0,2024-03-01,A2,,-10.00,EUR,old,D0\n"

BLANKS = ["", " ", "  x", "x ", "\tx", "x\u00a0", "\u3000x", "x\x1f", "\x85x"]
TEXT = ["A1", "A2", "A3", "A9", "é", "Ünïcode ok", "tab\tinside", "a;b", "NULL", "null", "x" * 70, "\u2028x"]
AMOUNTS = [
    "10.00", "-10.00", "5", "-5", "2.5", "-2.5", "0", "-0", "+1.00", "1.", ".5", "1.005", "1e2", "1E-2", "1,5",
    "1.234,56", "١٢", "１２", "²", "abc", "NaN", "inf", "99999999999999999", "9999999999999999.99", "0012.00",
    "1_000", "--1", "+-1", "1.2.3", "00000000000000000001.00",
]  # fmt: skip
DATES = [
    "2024-01-15", "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "2024-1-05", "20240105",
    "2024-01-05T00:00", "2024-01-05 00:00:00", "2024-01-05 10:00", "0000-01-01", "0001-01-01", "9999-12-31",
    "2024-W01-1", "15.01.2024", "2024-06-10", "2024-06-30", "2024-01-05Z",
]  # fmt: skip
CURRENCIES = ["EUR", "USD", "eur", "EURO", "E1R", "ÉUR", "EU", ""]
INTS = ["0", "1", "30", "-1", "+7", "007", "1.0", "1.5", "2147483647", "2147483648", "-2147483649", "1e3", "x", ""]
DOUBLES = ["0", "8", "8.5", "24", "24.01", "-0.5", "1e1", "1E400", ".5", "7.", "nan", "inf", "3,5", ""]
TIMES = ["06:00", "6:00", "06:00:00", "23:59:59", "24:00", "12:60", "12:00:60", "06:00:00.5", "0600", "x", ""]
BOOLS = ["true", "false", "TRUE", "Yes", "no", "1", "0", "y", "t", "ja", "", "İ"]


def _pick(rng: random.Random, good: list[str], bad: list[str], p_bad: float) -> str:
    value = rng.choice(bad) if rng.random() < p_bad else rng.choice(good)
    if rng.random() < 0.04:
        value = rng.choice(BLANKS).replace("x", value)
    return value


def gl_file(rng: random.Random, journals: int) -> str:
    lines = [EARLIER_GL.splitlines()[0]]
    entry = 0
    for j in range(journals):
        size = rng.choice([2, 2, 3, 4])
        amounts = [f"{rng.randint(1, 99999) / 100:.2f}" for _ in range(size - 1)]
        total = -sum(int(a.replace(".", "")) for a in amounts)
        amounts.append(f"{total // 100 if total >= 0 else -((-total) // 100)}.{abs(total) % 100:02d}")
        day = rng.choice(["2024-01-15", "2024-06-10", "2024-06-30", "2024-03-01"])
        for amount in amounts:
            entry += 1
            entry_id = rng.choice(["E1", "E2", f"E{entry - 1}", f" E{entry}"]) if rng.random() < 0.05 else f"E{entry}"
            fields = [
                entry_id,
                _pick(rng, [f"J{j}"], ["", f"J{j} ", "J0"], 0.03),
                _pick(rng, [day], DATES, 0.08),
                _pick(rng, ["A1", "A2", "A3"], ["A9", "", "a1"], 0.05),
                _pick(rng, ["", "CC1", "CC2"], ["CC9", "NULL"], 0.05),
                _pick(rng, [amount], AMOUNTS, 0.08),
                _pick(rng, ["EUR"], CURRENCIES, 0.06),
                _pick(rng, TEXT, ["", " "], 0.05),
                _pick(rng, [f"D{j}"], [""], 0.03),
            ]
            if rng.random() < 0.02:
                fields = fields[: rng.randint(1, 8)] if rng.random() < 0.5 else [*fields, "extra"]
            lines.append(",".join(fields))
        if rng.random() < 0.03:
            lines.append(rng.choice(["", "   ", "\t"]))
    return "\n".join(lines) + "\n"


def customers_file(rng: random.Random, rows: int) -> str:
    lines = ["customer_id,name,segment,country,currency,payment_terms_days,credit_limit,notes"]
    for i in range(rows):
        lines.append(
            ",".join(
                [
                    _pick(rng, [f"C{i}"], [f"C{max(i - 2, 0)}", ""], 0.05),
                    _pick(rng, TEXT, [""], 0.05),
                    _pick(rng, ["retail", "wholesale"], ["Retail", ""], 0.05),
                    _pick(rng, ["DE", "FR"], [""], 0.03),
                    _pick(rng, ["EUR", "USD"], CURRENCIES, 0.1),
                    _pick(rng, ["0", "30", "45"], INTS, 0.15),
                    _pick(rng, ["0", "1000.50", "250000"], AMOUNTS, 0.15),
                    rng.choice(TEXT),
                ]
            )
        )
    return "\n".join(lines) + "\n"


def shifts_file(rng: random.Random, rows: int) -> str:
    lines = ["shift_id\tsite_id\tname\tstart_time\thours"]
    for i in range(rows):
        fields = [
            f"SH{i}",
            _pick(rng, ["S1", "S2"], ["S9", ""], 0.1),
            _pick(rng, ["Early", "Late"], [""], 0.05),
            _pick(rng, ["06:00", "14:00:00"], TIMES, 0.2),
            _pick(rng, ["8", "7.5"], DOUBLES, 0.2),
        ]
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def routings_file(rng: random.Random, rows: int) -> str:
    header = "product_id;step;work_center_id;std_setup_minutes;std_run_minutes_per_unit;"
    lines = [header + "std_labor_minutes_per_unit;std_kwh_per_unit;value_added"]
    for i in range(rows):
        fields = [
            _pick(rng, ["P1"], ["P9"], 0.05),
            _pick(rng, [str(i % 40 + 1)], INTS, 0.1),
            _pick(rng, ["W1"], ["W9"], 0.05),
            _pick(rng, ["10", "0.5"], DOUBLES, 0.1),
            "1.25",
            "0.75",
            _pick(rng, ["0.1"], DOUBLES, 0.05),
            _pick(rng, ["true", "false"], BOOLS, 0.2),
        ]
        lines.append(";".join(fields))
    return "\n".join(lines) + "\n"


def prepared(folder: Path) -> opsfin.Workspace:
    ws = opsfin.init(folder)
    for name in ("sites", "cost_centers", "accounts", "products", "work_centers"):
        path = folder / f"{name}.csv"
        path.write_text(MASTER[name], encoding="utf-8")
        assert ingest.ingest_file(ws, path, table=name).rows_quarantined == 0
    earlier = folder / "earlier_gl.csv"
    earlier.write_text(EARLIER_GL, encoding="utf-8")
    assert ingest.ingest_file(ws, earlier, table="gl_entries").rows_accepted == 2
    ingest.close_period(ws, "2024-06", "test")
    return ws


def same_loads(text: str) -> str:
    """The reason with load ids made alike (the two workspaces' earlier loads have different ids)."""
    return re.sub(r"L[0-9]{8}T[0-9]{9}-[0-9a-f]{6}", "L(earlier)", text)


def outcome(ws: opsfin.Workspace, result: ingest.LoadResult, table: str) -> dict:
    cols = ", ".join(f'"{c}"' for c in table_decl(table).column_names)
    quarantine = ws.sql(
        "SELECT source_row, column_name, reason, raw_record FROM quarantine WHERE load_id = ? ORDER BY source_row",
        [result.load_id],
    ).rows()
    return {
        "counts": (result.rows_read, result.rows_accepted, result.rows_quarantined),
        "first_problems": [(p.source_row, p.column_name, same_loads(p.reason)) for p in result.first_problems],
        "ignored": result.ignored_columns,
        "accepted": ws.sql(f'SELECT {cols} FROM "{table}" WHERE _load_id = ? ORDER BY rowid', [result.load_id]).rows(),
        "quarantine": [(row, column, same_loads(reason), raw) for row, column, reason, raw in quarantine],
    }


def both_paths(tmp_path: Path, monkeypatch, name: str, text: str, table: str, **kwargs) -> tuple[dict, dict]:
    taken: list[bool] = []
    real_stage = fast_csv.stage_csv

    def spy(*args, **kw):
        staged = real_stage(*args, **kw)
        taken.append(staged is not None)
        return staged

    monkeypatch.setattr(fast_csv, "stage_csv", spy)
    results = []
    for fast in (False, True):
        folder = tmp_path / ("fast" if fast else "rows")
        ws = prepared(folder)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        monkeypatch.setattr(fast_csv, "USE_FAST", fast)
        taken.clear()
        result = ingest.ingest_file(ws, path, table=table, **kwargs)
        assert taken == ([True] if fast else []), "the fast path was not taken"
        results.append(outcome(ws, result, table))
    return results[0], results[1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gl_entries_identical(tmp_path, monkeypatch, seed):
    rows, fast = both_paths(tmp_path, monkeypatch, "gl.csv", gl_file(random.Random(seed), 150), "gl_entries")
    assert fast == rows
    reasons = " ".join(r[2] for r in rows["quarantine"])
    for words in ("duplicates row", "is already in gl_entries", "is not in accounts", "closed period", "as a whole"):
        assert words in reasons  # the corpus exercises every check across rows
    assert rows["counts"][1] > 40, rows["counts"]


@pytest.mark.parametrize("seed", [4, 5])
def test_customers_identical(tmp_path, monkeypatch, seed):
    rows, fast = both_paths(tmp_path, monkeypatch, "c.csv", customers_file(random.Random(seed), 200), "customers")
    assert fast == rows
    assert rows["counts"][1] > 20 and rows["counts"][2] > 20


def test_tsv_of_shifts_identical(tmp_path, monkeypatch):
    rows, fast = both_paths(tmp_path, monkeypatch, "s.tsv", shifts_file(random.Random(6), 200), "shifts")
    assert fast == rows
    assert rows["counts"][1] > 20 and rows["counts"][2] > 20


def test_routings_with_mapping_identical(tmp_path, monkeypatch):
    """A composite key, booleans and doubles, a `;` file, `null_values` and a constant through a mapping."""
    lines = routings_file(random.Random(7), 200).replace("std_kwh_per_unit", "kwh").splitlines()
    text = "".join(";".join(line.split(";")[:5] + line.split(";")[6:]) + "\n" for line in lines)  # no labour
    mapping = {
        "rename": {"kwh": "std_kwh_per_unit"},
        "null_values": ["", "NULL"],
        "constants": {"std_labor_minutes_per_unit": 0.75},
    }
    rows, fast = both_paths(tmp_path, monkeypatch, "r.csv", text, "routings", mapping=mapping)
    assert fast == rows
    assert rows["counts"][1] > 20 and rows["counts"][2] > 20


def test_rows_written_by_filter_and_sort_identical(tmp_path, monkeypatch):
    """With many rows left out, the accepted rows are filtered and sorted instead of cut around: same outcome."""
    from opsfin.ingest import fast_load

    monkeypatch.setattr(fast_load, "_MAX_CUTS", 0)
    text = customers_file(random.Random(8), 200).replace("\nC1,", "\n C1,")  # a row the value parser accepts
    rows, fast = both_paths(tmp_path, monkeypatch, "c.csv", text, "customers")
    assert fast == rows


HEADER = "customer_id,name,segment,country,currency,payment_terms_days,credit_limit\n"
ROW = "C1,Acme,retail,DE,EUR,30,10"
EDGE_FILES = {
    "header only": HEADER.encode(),
    "blank lines only": (HEADER + "\n\n  \n").encode(),
    "no line break at the end": (HEADER + ROW).encode(),
    "byte order mark": ("\ufeff" + HEADER + ROW + "\n").encode(),
    "blank lines before the header": ("\n \n" + HEADER + ROW + "\n").encode(),
    "CRLF line breaks": (HEADER + ROW + "\n").replace("\n", "\r\n").encode(),
    "a quoted field": (HEADER + ROW.replace("Acme", '"Acme, Inc"') + "\n").encode(),
    "a column twice": b"customer_id,customer_id\nC1,C2\n",
    "a required column missing": b"customer_id,name\nC1,A\n",
    "empty": b"",
    "not UTF-8": HEADER.encode() + ROW.replace("Acme", "M\u00fcller").encode("latin-1") + b"\n",
}


@pytest.mark.parametrize("name", list(EDGE_FILES))
def test_edge_files_identical(tmp_path, monkeypatch, name):
    """Files the vectorised path declines or that are refused as a whole: the same outcome or the same error."""
    outcomes = []
    for fast in (False, True):
        ws = prepared(tmp_path / f"ws{fast}")
        path = tmp_path / f"c{fast}.csv"
        path.write_bytes(EDGE_FILES[name])
        monkeypatch.setattr(fast_csv, "USE_FAST", fast)
        try:
            outcomes.append(outcome(ws, ingest.ingest_file(ws, path, table="customers"), "customers"))
        except opsfin.errors.UserError as exc:
            outcomes.append(str(exc).replace(str(path), "FILE"))
    assert outcomes[0] == outcomes[1]
