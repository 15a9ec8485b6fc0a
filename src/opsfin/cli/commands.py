"""Commands the CLI tells the user to run next, written so they run as printed: the opsfin that is running
(`.venv/bin/opsfin`, not a bare `opsfin` that is not on PATH) and paths relative to the current folder."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from .output import console


def opsfin_command() -> str:
    """How to run this same opsfin from a shell in the current folder: `opsfin` when that name on PATH is
    the program running now; else the running script's path (e.g. `.venv/bin/opsfin`, relative when it is
    under the current folder); else (`python -m opsfin`, tests) the running interpreter with `-m opsfin`."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name.lower() in ("opsfin", "opsfin.exe") and script.is_file():
        found = shutil.which("opsfin")
        if found and os.path.samefile(found, script):
            return "opsfin"
        return shell_path(script)
    return f"{shell_path(Path(sys.executable))} -m opsfin"


def python_command() -> str:
    """The Python that runs this opsfin, as a shell word: the `python` beside the running opsfin script
    when there is one (`.venv/bin/python`, as the script is named), else the running interpreter."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name.lower() in ("opsfin", "opsfin.exe"):
        beside = script.with_name("python.exe" if script.suffix.lower() == ".exe" else "python")
        if beside.is_file():
            return shell_path(beside)
    return shell_path(Path(sys.executable))


def shell_path(path: str | Path, quote: bool = True) -> str:
    """`path` as a shell word: relative to the current folder when it lies under it (`demo-workspace`,
    `.venv/bin/opsfin`), else absolute. Symbolic links are kept: a venv's python links elsewhere."""
    absolute = Path(os.path.abspath(path))
    try:
        text = str(absolute.relative_to(Path.cwd()))
        if os.sep not in text and absolute.is_file():
            text = f".{os.sep}{text}"  # a program in the current folder is not found without ./
    except ValueError:
        text = str(absolute)
    return shlex.quote(text) if quote else text


def print_command(line: str) -> None:
    """One line, indented and never wrapped: a shell command can be copied and run as printed."""
    console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
