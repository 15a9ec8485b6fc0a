"""`AppDB`: the engine, transactions and migrations of the app database; `open_app_db(ws)`."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from .audit_api import AuditMixin
from .collab import CollabMixin
from .errors import AppDbError
from .match_runs import MatchRunsMixin
from .migrate import upgrade
from .people import PeopleMixin
from .plans import PlansMixin

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder as Workspace

DEFAULT_FILE = "app.db"


# WAL with synchronous=NORMAL: a commit appends to the WAL file without waiting for the disk (fsync), which
# happens at each checkpoint instead. The database stays consistent through a crash or a power cut, and a crash
# of opsfin loses nothing; a power cut (or an OS crash) may undo the last transactions committed before it, each
# whole — a comment with its audit entry, never one without the other, so the audit chain still verifies. With
# FULL, each comment waited for one fsync (6–12 ms on the test machine) while holding the write lock that every
# writer of every worker process queues on (docs/app-database.md, docs/web.md "Speed").
SQLITE_SYNCHRONOUS = "NORMAL"


def _sqlite_engine(url: URL) -> Engine:
    """SQLite shared by threads: WAL for concurrent readers, writes start with BEGIN IMMEDIATE."""
    memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite would defer it to the first write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock at once: two writers queue instead of failing later
        # when a read snapshot cannot be upgraded.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("opsfin_write") else "BEGIN")

    return engine


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def safe_url(url: URL | str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


class AppDB(PeopleMixin, CollabMixin, AuditMixin, MatchRunsMixin, PlansMixin):
    """The app database at a SQLAlchemy URL. Safe to share between threads (one engine, a session per call).

    Opening runs the Alembic migrations to head (idempotent)."""

    def __init__(self, url: str | URL, login_attempts_per_minute: int = 5, migrate: bool = True):
        try:
            self.url = make_url(url)
        except exc.ArgumentError:
            raise AppDbError(f"app_db.url {str(url)!r} is not a database URL") from None
        if self.url.drivername == "postgresql":  # the driver opsfin ships with (psycopg 3), not psycopg2
            self.url = self.url.set(drivername="postgresql+psycopg")
        if login_attempts_per_minute < 1:
            raise AppDbError("login_attempts_per_minute must be at least 1")
        self.login_attempts_per_minute = login_attempts_per_minute
        try:
            self.engine = _engine(self.url)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as e:
            raise AppDbError(f"cannot use the app database {safe_url(self.url)}: {e}") from None
        writer = self.engine.execution_options(opsfin_write=True)
        self._write_lock: Any = (
            threading.RLock() if self.url.get_backend_name() == "sqlite" else contextlib.nullcontext()
        )
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)
        if migrate:
            try:
                upgrade(writer)
            except exc.SQLAlchemyError as e:
                self.engine.dispose()
                reason = getattr(e, "orig", None) or e
                raise AppDbError(
                    f"cannot open the app database {safe_url(self.url)}: {str(reason).strip().splitlines()[0]}"
                ) from None

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A transaction that changes data; commits on success (with its audit entries), else rolls back."""
        # SQLite: one writer per process at a time. The threads of a process then queue on this lock, and
        # only one of them polls SQLite's write lock (held by another process) with its busy-wait backoff,
        # instead of every thread sleeping and retrying (measured: benchmarks/bench_web.py, docs/web.md);
        # PostgreSQL queues writers itself.
        with self._write_lock, self._writer.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def _lookup(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"AppDB({safe_url(self.url)!r})"


_open: dict[tuple[str, int], AppDB] = {}
_open_lock = threading.Lock()


def app_db_url(ws: Workspace) -> URL:
    """`app_db.url`, else SQLite `app.db` in the workspace; a relative SQLite path is relative to the workspace."""
    configured = ws.settings.app_db.url
    if not configured:
        return URL.create("sqlite", database=str(ws.path / DEFAULT_FILE))
    try:
        url = make_url(configured)
    except exc.ArgumentError:
        raise AppDbError(f"app_db.url {configured!r} is not a database URL") from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_absolute():
            url = url.set(database=str(ws.path / path))
    return url


def open_app_db(ws: Workspace) -> AppDB:
    """The app database of a workspace, migrated to head. One `AppDB` per URL per process."""
    url = app_db_url(ws)
    key = (url.render_as_string(hide_password=False), ws.settings.web.login_attempts_per_minute)
    with _open_lock:
        db = _open.get(key)
        if (
            db is not None
            and url.get_backend_name() == "sqlite"
            and url.database not in (None, "", ":memory:")
            and not Path(url.database).exists()
        ):
            db.close()  # the file was removed (e.g. a rebuilt demo): create and migrate it again
            db = None
        if db is None:
            db = _open[key] = AppDB(url, login_attempts_per_minute=key[1])
        return db
