"""The kill test (docs/testing.md): `kill -9` an ingest, an allocation post and a bank match run at seeded
random moments, then check that the warehouse and the audit log hold either nothing of the write or all of
it, that the audit chain is intact, that a clean re-run recovers, and that an ingest run twice adds nothing
the second time."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import opsfin
from cli_support import run_in_process
from opsfin.appdb import AppDB
from opsfin.appdb.db import app_db_url

SEED = 20_241_205
KILLS = 3  # kills per command
JOURNALS = 10_000  # two GL rows each: an ingest that takes a moment
PERIOD = "2024-03"  # a month of the tiny demo with service cost to allocate
PASSWORD = "correct horse battery"

COMMANDS = {
    "ingest": ("ingest", "{csv}", "--table", "gl_entries", "--output", "json"),
    "allocate": ("allocate", "--method", "step", "--period", PERIOD, "--post", "--format", "json"),
    "match": ("match", "bank", "--format", "json"),
}


def write_journals(path: Path, journals: int) -> None:
    """Balanced two-line journals in May 2024 (after the demo's months): every row is accepted."""
    lines = ["entry_id,journal_id,posting_date,account_id,cost_center_id,amount,currency,description,source_doc"]
    for j in range(journals):
        amount, day = f"{j % 997 + 1}.{j % 100:02d}", f"2024-05-{j % 28 + 1:02d}"
        lines.append(f"K{2 * j:07d},KJ{j:07d},{day},6000,,{amount},EUR,kill test,KT{j}")
        lines.append(f"K{2 * j + 1:07d},KJ{j:07d},{day},1000,,-{amount},EUR,kill test,KT{j}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def command(name: str, ws: Path, csv: Path) -> list[str]:
    args = [a.format(csv=csv) for a in COMMANDS[name]]
    return [sys.executable, "-m", "opsfin", *args, "--workspace", str(ws)]


def timed_run(name: str, ws: Path, csv: Path) -> float:
    """Run a command to the end as its own process; returns how long it took (start-up included: the kills
    are spread over that time)."""
    started = time.monotonic()
    proc = subprocess.run(command(name, ws, csv), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{name} on {ws.name}: {proc.stderr[-2000:]}"
    return time.monotonic() - started


def run(name: str, ws: Path, csv: Path) -> None:
    """Run a command to the end by the console entry point in this process: the same code, exit code and
    files as `python -m opsfin`, without an interpreter starting (the re-runs need no process of their own)."""
    proc = run_in_process(*command(name, ws, csv)[3:])
    assert proc.returncode == 0, f"{name} on {ws.name}: {proc.stderr[-2000:]}"


def kill_after(name: str, ws: Path, csv: Path, delay: float) -> int:
    """Start a command, SIGKILL it after `delay` seconds (unless it ended before); its exit code."""
    proc = subprocess.Popen(command(name, ws, csv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.kill()
    return proc.wait(timeout=60)


def warehouse_state(path: Path) -> dict:
    """Row counts of the tables the commands write, and the loads (without their ids and clock times)."""
    ws = opsfin.open(path)
    with ws.connect() as con:
        counts = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("gl_entries", "quarantine", "loads")
        }
        loads = con.execute(
            "SELECT table_name, source, sha256, rows_read, rows_accepted, rows_quarantined, status "
            "FROM loads ORDER BY ALL"
        ).fetchall()
    return {"counts": counts, "loads": loads}


def warehouse_problems(path: Path) -> list:
    """Broken invariants: a load whose rows are missing or extra, rows of no load, a journal not summing to 0."""
    ws = opsfin.open(path)
    with ws.connect() as con:
        return con.execute("""
            WITH gl AS (SELECT _load_id, count(*) AS n FROM gl_entries GROUP BY 1),
                 q AS (SELECT load_id, table_name, count(*) AS n FROM quarantine GROUP BY 1, 2)
            SELECT 'load', l.load_id FROM loads l
              LEFT JOIN q ON q.load_id = l.load_id AND q.table_name = l.table_name
              LEFT JOIN gl ON gl._load_id = l.load_id AND l.table_name = 'gl_entries'
             WHERE l.rows_read <> l.rows_accepted + l.rows_quarantined
                OR coalesce(q.n, 0) <> l.rows_quarantined
                OR (l.table_name = 'gl_entries' AND coalesce(gl.n, 0) <> l.rows_accepted)
            UNION ALL SELECT 'gl rows of no load', _load_id FROM gl
             WHERE _load_id NOT IN (SELECT load_id FROM loads WHERE table_name = 'gl_entries')
            UNION ALL SELECT 'quarantine rows of no load', load_id FROM q
             WHERE (load_id, table_name) NOT IN (SELECT (load_id, table_name) FROM loads)
            UNION ALL SELECT 'journal', journal_id FROM gl_entries GROUP BY journal_id HAVING sum(amount) <> 0
        """).fetchall()


def app_state(path: Path) -> dict:
    """The audit entries (action, object), whether the chain verifies, and the kept bank match runs."""
    db = AppDB(app_db_url(opsfin.open(path)))
    try:
        entries = [(e["action"], e["object_id"]) for e in reversed(db.audit_entries())]
        return {
            "audit": entries,
            "audit_problems": db.verify_audit(),
            "match_runs": [(r["kept"], r["through"]) for r in db.match_runs()],
            "kept": sum(len(b) for b in db.kept_match_batches()),
        }
    finally:
        db.close()


def state(path: Path) -> dict:
    return {**warehouse_state(path), **app_state(path)}


def load_ids(path: Path) -> set[str]:
    with opsfin.open(path).connect() as con:
        return {r[0] for r in con.execute("SELECT load_id FROM loads").fetchall()}


@pytest.fixture(scope="module")
def base(tiny_demo, tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the tiny demo whose app database already holds an audit entry, and the GL file to load."""
    folder = tmp_path_factory.mktemp("kill")
    shutil.copytree(tiny_demo.path, folder / "base", ignore=shutil.ignore_patterns("app.db*", "*.wal"))
    db = AppDB(app_db_url(opsfin.open(folder / "base")))
    db.add_user("kim", "viewer", PASSWORD, actor="test")
    db.close()
    csv = folder / "gl_entries.csv"
    write_journals(csv, JOURNALS)
    return folder / "base", csv


def fresh_copy(base: Path, target: Path) -> Path:
    shutil.copytree(base, target)
    return target


def audited(name: str, entries: list[tuple[str, str]], ids: set[str]) -> list[tuple[str, str]]:
    """The entries of the writes `name` makes (for the warehouse writes: of the loads in `ids`)."""
    action = {"ingest": "load.ingest", "allocate": "allocation.post", "match": "match.run"}[name]
    return [e for e in entries if e[0] == action and (name == "match" or e[1] in ids)]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_killed_command_leaves_before_or_after(base, tmp_path, name):
    base_ws, csv = base
    before = state(base_ws)
    assert before["audit_problems"] == [] and warehouse_problems(base_ws) == []
    complete = fresh_copy(base_ws, tmp_path / "complete")
    duration = timed_run(name, complete, csv)
    after = state(complete)
    assert after != before and after["audit_problems"] == []
    assert len(audited(name, after["audit"], load_ids(complete))) == 1
    if name == "ingest":  # a second run adds nothing
        run(name, complete, csv)
        assert state(complete) == after
    rng = random.Random(f"{SEED}-{name}")
    # one kill in each of KILLS equal slices of (0.05 s, the time a whole run took): the last slice holds
    # the commit, the first mostly Python starting up
    delays = [round(0.05 + (duration - 0.05) * (k + rng.random()) / KILLS, 3) for k in range(KILLS)]
    outcomes = []
    for i, delay in enumerate(delays):
        ws = fresh_copy(base_ws, tmp_path / f"killed{i}")
        code = kill_after(name, ws, csv, delay)
        where = f"{name}: seed {SEED}, delays {delays} (run took {duration:.2f}s), kill {i} at {delay}s, exit {code}"
        now = state(ws)
        assert now["audit_problems"] == [], where
        assert warehouse_problems(ws) == [], where
        landed = {k: now[k] for k in ("counts", "loads", "match_runs", "kept")}
        outcome = next(
            (o for o, s in (("before", before), ("after", after)) if landed == {k: s[k] for k in landed}),
            None,
        )
        assert outcome is not None, f"{where}: partial state {landed}"
        entries = audited(name, now["audit"], load_ids(ws))
        assert now["audit"][: len(before["audit"])] == before["audit"], where
        if outcome == "after" and not entries and name != "match":  # killed between commit and entry
            outcome = "after, entry left to the re-run"
        else:
            assert len(entries) == (outcome == "after"), f"{where}: landed {outcome}, audit entries {entries}"
        outcomes.append(outcome)
        run(name, ws, csv)  # recovery
        recovered = state(ws)
        assert {k: recovered[k] for k in landed} == {k: after[k] for k in landed}, where
        assert len(audited(name, recovered["audit"], load_ids(ws))) == 1, where
    print(f"{name}: seed {SEED}, delays {delays}, outcomes {outcomes}, run {duration:.2f}s")


class Killed(BaseException):
    """The process dies here (nothing catches a BaseException that is not an Exception)."""


@pytest.mark.parametrize("name", ["ingest", "allocate"])
def test_rerun_records_the_entry_of_a_write_killed_before_it(base, tmp_path, monkeypatch, name):
    """The one window a kill can leave open: the warehouse has committed, the audit entry is not yet
    appended. The next run of the same write finds it landed and appends the entry, once, marked late."""
    from opsfin.cli import main
    from opsfin.runs import audit_trail

    base_ws, _ = base
    small = tmp_path / "small.csv"
    write_journals(small, 3)
    ws = fresh_copy(base_ws, tmp_path / "ws")
    before = state(ws)
    args = command(name, ws, small)[3:]

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(audit_trail, "record_write", killed)
    with pytest.raises(Killed):
        main(args)
    landed = state(ws)
    assert landed["counts"]["loads"] == before["counts"]["loads"] + 1
    assert landed["audit"] == before["audit"]  # the write is there, its entry is not
    monkeypatch.undo()
    for _ in range(2):
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code in (0, None)
    db = AppDB(app_db_url(opsfin.open(ws)))
    entries = [e for e in db.audit_entries() if e["action"] in ("load.ingest", "allocation.post")]
    db.close()
    assert len(entries) == 1 and entries[0]["payload"]["late"] is True
    assert entries[0]["object_id"] in load_ids(ws)
    if name == "ingest":
        assert entries[0]["payload"]["tables"] == {"gl_entries": {"read": 6, "accepted": 6, "quarantined": 0}}
    else:
        with opsfin.open(ws).connect() as con:
            posted = con.execute(
                "SELECT count(DISTINCT journal_id), count(*) FROM gl_entries WHERE _load_id = ?",
                [entries[0]["object_id"]],
            ).fetchone()
        payload = entries[0]["payload"]
        assert (payload["period"], payload["journals"], payload["entries"]) == (PERIOD, *posted)
        assert posted[0] > 0
    assert state(ws)["counts"] == landed["counts"] and state(ws)["audit_problems"] == []
