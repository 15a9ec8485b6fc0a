"""`opsfin serve --workers N`: several processes over one workspace, writing to one app database.

The audit chain's head lives in the app database (a row locked per append), so writes that land in
different worker processes at the same moment still form one unbroken chain with consecutive sequence
numbers. These tests start real worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from cli_support import run_cli
from opsfin.appdb import open_app_db
from web_support import bearer, copy_workspace

WRITES = 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_workers_out_of_range_is_a_clear_error(tiny_demo, capsys):
    code, out, err = run_cli(capsys, "serve", "-w", str(tiny_demo.path), "--workers", "0")
    assert code == 2
    assert "--workers 0" in err + out and "1 to 32" in err + out


def test_writes_in_two_worker_processes_form_one_audit_chain(tiny_demo, tmp_path):
    ws = copy_workspace(tiny_demo, tmp_path / "ws")
    db = open_app_db(ws)
    db.add_user("writer", "analyst", "a long enough password 1", actor="test")
    token = db.create_token("writer-token", "writer", actor="test")
    first_seq = max(e["seq"] for e in db.audit_entries())
    db.close()
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "opsfin", "serve", "-w", str(ws.path), "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else "server exited"
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)

        def comment(i: int) -> int:
            # a new connection each time (no keep-alive), so the kernel spreads them over both workers
            r = httpx.post(
                f"{base}/api/v1/comments",
                headers=bearer(token),
                json={"subject_type": "kpi", "subject_id": "oee", "site": "P1", "body": f"comment {i}"},
                timeout=60,
            )
            return r.status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(comment, range(WRITES)))
        assert statuses == [201] * WRITES or statuses == [200] * WRITES, statuses
    finally:
        server.terminate()
        server.wait(30)
    db = open_app_db(ws)
    try:
        entries = [e for e in db.audit_entries() if e["seq"] > first_seq]
        bodies = sorted(e["payload"].get("body", "") for e in entries if e["object_type"] == "comment")
        assert bodies == sorted(f"comment {i}" for i in range(WRITES))
        seqs = sorted(e["seq"] for e in entries)
        assert seqs == list(range(first_seq + 1, first_seq + 1 + len(entries)))
        assert db.verify_audit() == []
    finally:
        db.close()
