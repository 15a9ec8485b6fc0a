"""`opsfin serve`: the web app and REST API over a workspace (src/opsfin/web, docs/web.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import WorkspaceOpt
from .output import console
from .root import app


def serve(ws_path, host: str = "127.0.0.1", port: int = 8000, banner: bool = True) -> None:
    """Build the app over the workspace and serve it with uvicorn until interrupted."""
    import uvicorn

    from ..web import create_app
    from ..web.app import server_options

    application = create_app(ws_path, warm=True)
    if banner:
        console.print(f"[bold]opsfin[/bold] serving {application.state.opsfin.ws.path} at "
                      f"[bold]http://{host}:{port}/[/bold] (API docs at /api/docs); Ctrl+C stops it.")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False,
                **server_options(application.state.opsfin.ws.settings.web))


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="interface to listen on (0.0.0.0 for every interface)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Serve the web app (dashboards, drill-down, comments, actions) and the REST API at /api/v1."""
    serve(ws_path, host, port)
