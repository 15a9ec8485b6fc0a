"""Running the `opsfin` console entry point inside the test process."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

from opsfin.cli import main


def _exit_code(*args: str) -> int:
    """Run the console entry point on ARGS; the exit code the process would end with (`sys.exit("message")`
    prints the message to stderr and ends with 1, as Python does)."""
    try:
        main(list(args))
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """The CLI as the console entry point runs it: (exit code, stdout, stderr)."""
    code = _exit_code(*args)
    out = capsys.readouterr()
    return code, out.out, out.err


def run_in_process(*args: str) -> subprocess.CompletedProcess:
    """`python -m opsfin ARGS`, as `subprocess.run(..., capture_output=True, text=True)` returns it, but run by
    the console entry point inside the test process: the same exit code, stdout and stderr, without an
    interpreter starting and importing the package for each command (1.5–2 s of CPU, docs/testing.md)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _exit_code(*args)
    return subprocess.CompletedProcess(["opsfin", *args], code, out.getvalue(), err.getvalue())


def copy_with_model(tiny, folder: Path, name: str, text: str) -> Path:
    """A copy of the tiny demo at `folder/ws` with `text` as its model/<name>; the copy's path."""
    dest = folder / "ws"
    shutil.copytree(tiny.path, dest)
    (dest / "model" / name).write_text(text)
    return dest
