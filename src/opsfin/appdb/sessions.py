"""The base of every part of `AppDB`: the read and write sessions that `AppDB` itself provides."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


class SessionsMixin:
    """`_read()` opens a session; `_write()` opens one that commits when the block ends without an error;
    `_lookup()` lends a pooled connection for a Core query (the per-request look-ups)."""

    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[Session]: ...
        def _read(self) -> AbstractContextManager[Session]: ...
        def _lookup(self) -> AbstractContextManager[Connection]: ...
