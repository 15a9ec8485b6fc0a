"""The README's first session works as written, on the tiny demo company with the shipped examples/.

The commands are read from the README's fenced block (so the test fails when the README drifts) and run
in-process, in a folder holding `demo-workspace` (built by `opsfin demo`, as `make demo` does) and
`examples/`. Also: the commands the demo prints run as printed, SQL-style `--where` filters get the right
form, flags show as flags in `--help`, and the demo build reports its stages."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import opsfin
from opsfin.appdb import open_app_db
from opsfin.cli import demo_cmd, main
from opsfin.cli.commands import opsfin_command, python_command, shell_path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
VENV_OPSFIN = ".venv/bin/opsfin"  # what `make` installs (Makefile: BIN := .venv/bin)


def run(*args: str) -> tuple[int, str, str]:
    """The console entry point in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def readme_session() -> list[list[str]]:
    """The commands of the README's "A first session" block, as shell words (comments dropped)."""
    section = README.read_text(encoding="utf-8").split("## A first session", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def words(text: str) -> str:
    """The text with every run of blanks (table cells wrapped over lines) as one space."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A folder as after `make demo`: `demo-workspace` (tiny scale, built by `opsfin demo`) and `examples/`.
    Returns (folder, the demo's exit code, stdout, stderr, the generator's progress calls)."""
    folder = tmp_path_factory.mktemp("first-session")
    shutil.copytree(REPO / "examples", folder / "examples")
    calls: list[tuple] = []
    generate = demo_cmd.generate

    def spy(*args, progress, **kwargs):
        def tell(*step):
            calls.append(step)
            progress(*step)

        return generate(*args, progress=tell, **kwargs)

    with pytest.MonkeyPatch.context() as mp, contextlib.chdir(folder):
        mp.setattr(demo_cmd, "generate", spy)
        code, out, err = run("demo", "--dir", "demo-workspace", "--scale", "tiny", "--no-serve")
    return folder, code, out, err, calls


# ------------------------------------------------------------------------------ the README's session
def test_make_demo_builds_the_workspace_the_session_uses():
    commands = readme_session()
    assert commands[0] == ["make", "demo"]
    recipe = re.search(r"^demo:.*\n\t(.+)$", (REPO / "Makefile").read_text(encoding="utf-8"), re.M).group(1)
    assert recipe.startswith("$(BIN)/opsfin demo --dir demo-workspace ")
    assert "--port $(PORT)" in recipe and "--host $(HOST)" in recipe
    for words_ in commands[1:]:
        assert words_[0] == VENV_OPSFIN, words_  # the venv's opsfin: make puts nothing on PATH
        assert words_[-2:] == ["-w", "demo-workspace"] or "demo-workspace" in words_, words_


def _expect(args: list[str], out: str, ws) -> None:
    """What the README says each command of its session prints."""
    verb, text = args[0], words(out)
    if verb == "check":
        assert "0 stop" in text  # "no stop findings"
    elif verb == "ingest":
        assert re.search(r"customers 8 7 1\b", text), text  # read, accepted, quarantined
        ids = ws.sql("SELECT customer_id FROM customers WHERE customer_id LIKE 'CUS-9%' ORDER BY 1")["customer_id"]
        assert ids.to_list() == [f"CUS-900{i}" for i in (1, 2, 3, 4, 5, 7, 8)]
    elif verb == "quarantine":
        assert "customers" in text and "currency" in text and "'euro'" in text
        rows = ws.sql("SELECT source_row, column_name, reason, raw_record FROM quarantine").to_dicts()
        assert len(rows) == 1 and rows[0]["source_row"] == 7 and rows[0]["column_name"] == "currency"
        assert "'euro' is not a three-letter ISO currency code" in rows[0]["reason"]
        assert json.loads(rows[0]["raw_record"])["customer_id"] == "CUS-9006"
    elif verb == "kpi":
        assert "oee" in text and "no rows" not in text
        if "--where" in args:
            assert "P2" not in text
    elif verb == "bottlenecks":
        assert "P1-ASSY" in text or "P1-MACH" in text
    elif verb == "allocate":
        assert "(summary)" in text and "CC-P1-MNT" in text and "CC-P1-ASSY" in text
        assert len(out.splitlines()) < 40  # one line per cost centre, not the flows
    elif verb == "alerts":
        assert "Alerts (" in text
    else:
        pytest.fail(f"README first session: no expectation for `opsfin {' '.join(args)}`; add one here")


def test_readme_first_session_runs_as_written(session, monkeypatch):
    folder, code, out, err, _ = session
    assert code == 0, err
    monkeypatch.chdir(folder)
    ws = opsfin.open(folder / "demo-workspace")
    assert ws.sql("SELECT count(*) FROM quarantine").item() == 0
    for command in readme_session()[1:]:
        code, out, err = run(*command[1:])
        assert code == 0, f"{shlex.join(command)}: {err}"
        assert "Traceback" not in err
        _expect(command[1:], out, ws)


# ------------------------------------------------------------------------ the demo's printed commands
def test_the_demo_prints_commands_that_run_as_printed(session):
    folder, code, out, _, _ = session
    assert code == 0
    lines = out.splitlines()
    explore = lines[lines.index("Explore it:") + 1 : lines.index("Explore it:") + 4]
    with contextlib.chdir(folder):
        prefix = opsfin_command()  # in this process: the interpreter with -m opsfin
    assert explore[0] == f"  {prefix} check -w demo-workspace"
    assert explore[1] == f"  {prefix} quarantine -w demo-workspace"
    serve_at = lines.index("Serve it:")
    assert lines[serve_at + 1] == f"  {prefix} serve -w demo-workspace"
    check = subprocess.run(shlex.split(explore[0]), cwd=folder, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "0 stop" in check.stdout, check.stderr
    python = subprocess.run(shlex.split(explore[2]), cwd=folder, capture_output=True, text=True, timeout=120)
    assert python.returncode == 0 and "gl_entries" not in python.stderr and "shape:" in python.stdout


def test_opsfin_command_names_the_running_program(tmp_path, monkeypatch):
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "opsfin"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script), "demo"])
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.chdir(tmp_path)
    assert opsfin_command() == ".venv/bin/opsfin"
    assert python_command() == shlex.quote(sys.executable)  # no python beside the script
    (bin_dir / "python").write_text("", encoding="utf-8")
    assert python_command() == ".venv/bin/python"
    monkeypatch.chdir(bin_dir.parent)
    assert opsfin_command() == "bin/opsfin"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert opsfin_command() == str(script)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin")
    assert opsfin_command() == "opsfin"  # on PATH: the bare name runs this same program
    monkeypatch.setattr(sys, "argv", ["/somewhere/pytest"])
    assert opsfin_command() == f"{shlex.quote(sys.executable)} -m opsfin"
    assert python_command() == shlex.quote(sys.executable)


def test_shell_path_is_relative_inside_the_folder_and_quoted(tmp_path, monkeypatch):
    (tmp_path / "my demo").mkdir()
    monkeypatch.chdir(tmp_path)
    assert shell_path(tmp_path / "my demo") == "'my demo'"
    assert shell_path(tmp_path / "my demo", quote=False) == "my demo"
    assert shell_path(tmp_path.parent) == shlex.quote(str(tmp_path.parent))


# ------------------------------------------------------------------------------------ the demo build
def test_the_demo_build_reports_each_stage(session):
    _, code, _, err, calls = session
    assert code == 0
    # tiny: 4 months from 2024-01; steps = planning + 4 months + writing + ground truth
    assert [(stage, detail, done, total) for stage, detail, done, total in calls if stage == "simulating"] == [
        ("simulating", f"2024-0{m}", m, 7) for m in (1, 2, 3, 4)
    ]
    assert [c[0] for c in calls] == ["planning"] + ["simulating"] * 4 + [
        "writing",
        "ground truth",
        "built",
    ]
    assert [c[2] for c in calls] == list(range(8))
    # not a terminal (a log): one line per stage on stderr, no bar
    assert err.splitlines() == [
        "demo: planning (demand, budget, standard costs)",
        "demo: simulating (from 2024-01, month by month)",
        "demo: writing (master data, plans, bank statements)",
        "demo: ground truth (truth/)",
    ]


# ------------------------------------------------------------------------------- filters and flags
def test_sql_style_where_is_refused_with_the_right_form(session):
    folder = session[0]
    code, out, err = run("kpi", "oee", "--where", "site='P1'", "-w", str(folder / "demo-workspace"))
    assert code == 2 and "no rows" not in out and "Traceback" not in err
    assert err.startswith("error: --where \"site='P1'\": ") and "--where site=P1,P2" in err
    code, _, err = run("kpi", "oee", "--where", "site IN ('P1')", "-w", str(folder / "demo-workspace"))
    assert code == 2 and "--where site=P1,P2" in err


def test_sql_style_where_is_refused_by_the_api(session):
    from opsfin.web import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    ws = opsfin.open(session[0] / "demo-workspace")
    token = open_app_db(ws).create_token("first-session", "admin", actor="test")
    client = TestClient(create_app(ws.path))
    response = client.get(
        "/api/v1/kpis/oee",
        params={"where": "site='P1'"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "site='P1'" in detail and "where site=P1,P2" in detail and "--where" not in detail
    ok = client.get(
        "/api/v1/kpis/oee",
        params={"where": "site=P1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "verb, flag",
    [
        (["demo"], "--no-serve"),
        (["demo"], "--overwrite"),
        (["allocate"], "--post"),
        (["ingest"], "--replace"),
        (["match", "bank"], "--preview"),
        (["variance"], "--monthly"),
        (["kpi"], "--list"),
    ],
)
def test_help_shows_flags_as_flags(verb, flag, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    code, out, _ = run(*verb, "--help")
    assert code == 0
    line = next(ln for ln in out.splitlines() if f" {flag} " in ln)
    assert "<bool>" not in out and "--no-overwrite" not in out, line
    assert "--help" in out and ("<int>" in out or "<str>" in out or "<path>" in out)  # values keep their type


# ---------------------------------------------------------------------------------------- the port
def test_a_port_in_use_is_a_clear_error_before_anything_is_built(session, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run("serve", "-w", str(session[0] / "demo-workspace"), "--port", str(port))
        assert code == 2 and "Traceback" not in err
        assert err == (
            f"error: --port {port}: 127.0.0.1:{port} is in use (another opsfin serve?); choose another "
            "port with --port (make demo PORT=8010)\n"
        )
        code, out, err = run("demo", "--dir", str(tmp_path / "never"), "--scale", "tiny", "--port", str(port))
        assert code == 2 and "is in use" in err and not (tmp_path / "never").exists()
    code, _, err = run("serve", "-w", str(session[0] / "demo-workspace"), "--port", "70000")
    assert code == 2 and err == "error: --port 70000: use a port from 1 to 65535\n"
