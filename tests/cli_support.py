"""Running the `opsfin` console entry point inside the test process."""

from __future__ import annotations

import shutil
from pathlib import Path

from opsfin.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """The CLI as the console entry point runs it: (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def copy_with_model(tiny, folder: Path, name: str, text: str) -> Path:
    """A copy of the tiny demo at `folder/ws` with `text` as its model/<name>; the copy's path."""
    dest = folder / "ws"
    shutil.copytree(tiny.path, dest)
    (dest / "model" / name).write_text(text)
    return dest
