"""`opsfin demo`: build the demo company into a workspace, then (optionally) serve it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..demo import SCALES, generate
from . import app
from .output import console, err_console


@app.command("demo")
def demo_cmd(
    directory: Annotated[Path, typer.Option("--dir", help="folder of the demo workspace")] = Path("demo-workspace"),
    scale: Annotated[str, typer.Option(help=f"size: {', '.join(SCALES)}")] = "demo",
    seed: Annotated[int, typer.Option(help="random seed; the same seed and scale give the same data")] = 42,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="only build, do not start the web server")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace the warehouse of a non-demo workspace in --dir")] = False,
    host: Annotated[str, typer.Option(help="interface the web app listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port of the web app")] = 8000,
) -> None:
    """Simulate a manufacturer and distributor day by day and load every canonical table, then create the
    demo's users (an admin and a site-scoped plant manager, passwords printed once) and serve the web app."""
    with Progress(TextColumn("[bold]Simulating[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} months"), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("", total=SCALES[scale].months if scale in SCALES else 1)

        def tick(month: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=month)

        result = generate(directory, scale=scale, seed=seed, overwrite=overwrite, progress=tick)
    total = sum(result.rows.values())
    ws = result.workspace
    console.print(f"[bold green]Demo company built[/bold green] in {result.seconds:.1f} s: "
                  f"{total:,} rows in {len(result.rows)} tables, {result.anomalies} injected anomalies.")
    console.print(f"  workspace   {ws.path}")
    console.print(f"  warehouse   {ws.warehouse_path}")
    console.print(f"  truth       {ws.truth_dir} (ground truth of the injected anomalies; opsfin never reads it)")
    biggest = sorted(result.rows.items(), key=lambda kv: -kv[1])[:6]
    console.print("  largest     " + ", ".join(f"{k} {v:,}" for k, v in biggest))
    console.print("Explore it:")
    console.print(f"  opsfin check -w {ws.path}")
    console.print(f"  opsfin quarantine -w {ws.path}")
    console.print(f"  python -c \"import opsfin; print(opsfin.open('{ws.path}').table('gl_entries'))\"")
    _print_demo_users(ws)
    if no_serve:
        console.print(f"  opsfin serve -w {ws.path}")
        return
    from .serve_cmd import serve

    serve(ws.path, host, port)


def _print_demo_users(ws) -> None:
    """Create the demo's users (once) and print their passwords; later runs keep the existing users."""
    from ..appdb import create_demo_users

    created = create_demo_users(ws)
    if not created:
        console.print("Demo users exist already (their passwords were printed when they were created; "
                      "`opsfin users list` shows them).")
        return
    console.print("[bold]Log in with[/bold] (passwords are shown only now):")
    for name, role, sites, password in created:
        scope = f"sites {', '.join(sites)}" if sites else "every site"
        console.print(f"  {name:<14} {password}   ({role}, {scope})", markup=False, highlight=False)
