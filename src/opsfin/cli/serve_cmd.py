"""`opsfin serve`: the web app and REST API over a workspace (src/opsfin/web, docs/web.md)."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from ..errors import UserError
from .options import WorkspaceOpt
from .output import console
from .root import app


def check_port(host: str, port: int) -> None:
    """A clear error, before anything is built, when the web app could not listen on host:port (the port
    is out of range or taken, or the host is not an address of this machine)."""
    if not 0 < port < 65536:
        raise UserError("use a port from 1 to 65535", param="port", value=port)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"--port {port}: {host}:{port} is in use (another opsfin serve?); choose another "
                "port with --port (make demo PORT=8010)"
            ) from exc
        raise UserError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}); 127.0.0.1 "
            "is this machine only, 0.0.0.0 every interface"
        ) from exc


MAX_WORKERS = 32


def serve(ws_path, host: str = "127.0.0.1", port: int = 8000, banner: bool = True, workers: int = 1) -> None:
    """Build the app over the workspace and serve it with uvicorn until interrupted; with `workers` > 1,
    in that many processes (each builds the app itself, from WORKSPACE_ENV)."""
    import os

    import uvicorn

    if not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"use 1 to {MAX_WORKERS} worker processes (about one per core)", param="workers", value=workers)
    check_port(host, port)

    from .. import workspace
    from ..web import create_app
    from ..web.app import WORKSPACE_ENV, server_options

    if workers == 1:
        application = create_app(ws_path, warm=True)
        ws = application.state.opsfin.ws
        target: object = application
    else:
        from ..appdb import open_app_db

        ws = workspace.open(ws_path)
        open_app_db(ws).close()  # create or migrate it once here, not in every worker at the same moment
        os.environ[WORKSPACE_ENV] = str(ws.path)
        target = "opsfin.web.app:app_from_environment"
    if banner:
        processes = f" in {workers} worker processes" if workers > 1 else ""
        console.print(
            f"[bold]opsfin[/bold] serving {ws.path} at [bold]http://{host}:{port}/[/bold]{processes} "
            "(API docs at /api/docs); Ctrl+C stops it."
        )
    uvicorn.run(
        target,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        factory=workers > 1,
        workers=workers if workers > 1 else None,
        **server_options(ws.settings.web),
    )


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="interface to listen on (0.0.0.0 for every interface)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int, typer.Option(help="worker processes (about one per core); they share the app database")
    ] = 1,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Serve the web app (dashboards, drill-down, comments, actions) and the REST API at /api/v1."""
    serve(ws_path, host, port, workers=workers)
