"""Running the `opsfin` console entry point inside the test process."""

from __future__ import annotations

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
