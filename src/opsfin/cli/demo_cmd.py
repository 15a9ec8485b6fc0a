"""`opsfin demo`: build the demo company into a workspace, then (optionally) serve it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from ..demo import SCALES, generate
from ..demo.generate import Progress as BuildProgress
from .commands import opsfin_command, print_command, python_command, shell_path
from .output import console, err_console, note, progress_bar
from .root import app


@app.command("demo")
def demo_cmd(
    directory: Annotated[Path, typer.Option("--dir", help="folder of the demo workspace")] = Path("demo-workspace"),
    scale: Annotated[str, typer.Option(help=f"size: {', '.join(SCALES)}")] = "demo",
    seed: Annotated[int, typer.Option(help="random seed; the same seed and scale give the same data")] = 42,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="only build, do not start the web server")] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="replace the warehouse of a non-demo workspace in --dir"),
    ] = False,
    host: Annotated[str, typer.Option(help="interface the web app listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port of the web app")] = 8000,
) -> None:
    """Simulate a manufacturer and distributor day by day and load every canonical table, then create the
    demo's users (an admin and a site-scoped plant manager, passwords printed once) and serve the web app."""
    if not no_serve:
        from .serve_cmd import check_port

        check_port(host, port)  # before the build, not after it
    with build_progress() as tell:
        result = generate(directory, scale=scale, seed=seed, overwrite=overwrite, progress=tell)
    total = sum(result.rows.values())
    ws = result.workspace
    console.print(
        f"[bold green]Demo company built[/bold green] in {result.seconds:.1f} s: "
        f"{total:,} rows in {len(result.rows)} tables, {result.anomalies} injected anomalies."
    )
    biggest = sorted(result.rows.items(), key=lambda kv: -kv[1])[:6]
    for line in (
        f"workspace   {ws.path}",
        f"warehouse   {ws.warehouse_path}",
        f"truth       {ws.truth_dir} (ground truth of the injected anomalies; opsfin never reads it)",
        "largest     " + ", ".join(f"{k} {v:,}" for k, v in biggest),
    ):
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    opsfin, where = opsfin_command(), shell_path(ws.path)
    console.print("Explore it:")
    print_command(f"{opsfin} check -w {where}")
    print_command(f"{opsfin} quarantine -w {where}")
    folder = json.dumps(shell_path(ws.path, quote=False))  # a Python string literal in double quotes
    code = f'import opsfin; print(opsfin.open({folder}).table("gl_entries"))'
    print_command(f"{python_command()} -c {shlex.quote(code)}")
    from ..runs.plan_versions import register_demo_budgets

    register_demo_budgets(ws)  # the demo's B<year> budgets, approved by `demo` (docs/planning-versions.md)
    _print_demo_users(ws, f"{opsfin} users list -w {where}")
    if no_serve:
        console.print("Serve it:")
        print_command(
            f"{opsfin} serve -w {where}"
            + (f" --host {shlex.quote(host)}" if host != "127.0.0.1" else "")
            + (f" --port {port}" if port != 8000 else "")
        )
        return
    from .serve_cmd import serve

    serve(ws.path, host, port)


@contextmanager
def build_progress() -> Iterator[BuildProgress]:
    """The demo build's progress on stderr: a bar (stage, month, steps, time) on a terminal; one line per
    stage otherwise, so logs stay short."""
    if err_console.is_terminal:
        with progress_bar(
            "[bold]{task.fields[stage]}[/bold] {task.description}", "{task.completed}/{task.total}"
        ) as bar:
            task = bar.add_task("", total=None, stage="Starting")

            def tell(stage: str, detail: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=detail, stage=stage.capitalize())

            yield tell
        return
    told: list[str] = []

    def tell_line(stage: str, detail: str, done: int, total: int) -> None:
        if stage not in told and stage != "built":
            told.append(stage)
            what = f"from {detail}, month by month" if stage == "simulating" else detail
            note(f"demo: {stage} ({what})")

    yield tell_line


def _print_demo_users(ws, list_command: str) -> None:
    """Create the demo's users (once) and print their passwords; later runs keep the existing users."""
    from ..appdb import create_demo_users

    created = create_demo_users(ws)
    if not created:
        console.print(
            "Demo users exist already (their passwords were printed when they were created); list them with:",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        print_command(list_command)
        return
    console.print("[bold]Log in with[/bold] (passwords are shown only now):")
    for name, role, sites, password in created:
        scope = f"sites {', '.join(sites)}" if sites else "every site"
        console.print(f"  {name:<14} {password}   ({role}, {scope})", markup=False, highlight=False)
