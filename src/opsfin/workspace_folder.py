"""What the I/O layer needs of an opened workspace: its folder, its settings, its warehouse.

`opsfin.workspace.Workspace` is the one implementation. The app database (appdb/) and the engine runs
(runs/) are typed against this protocol, not the class, because the class calls into them
(`ws.match_bank()`, `ws.allocate()`…): importing it back would close an import cycle. See
docs/architecture.md."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from .settings import Settings


class WorkspaceFolder(Protocol):
    """An opened workspace folder."""

    path: Path
    settings: Settings

    @property
    def warehouse_path(self) -> Path: ...

    @property
    def model_dir(self) -> Path: ...

    @property
    def truth_dir(self) -> Path: ...

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection: ...

    def sql(self, query: str, params: list | None = None) -> pl.DataFrame: ...
