"""Fixtures for the app-database tests: each test gets a fresh database, SQLite and PostgreSQL.

On PostgreSQL every test runs in its own schema (dropped afterwards), so runs are independent and other
tests using the same test database are left alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from opsfin.appdb import AppDB
from services import postgres_schema_url

LOGIN_LIMIT = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db_url(request, tmp_path):
    """The URL of an empty app database: a SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/app.db"
        return
    with postgres_schema_url("appdb_test") as url:
        yield url


@pytest.fixture
def db(app_db_url):
    """A migrated `AppDB` allowing LOGIN_LIMIT failed logins per minute."""
    app_db = AppDB(app_db_url, login_attempts_per_minute=LOGIN_LIMIT)
    yield app_db
    app_db.close()


def run_raw(db: AppDB, sql: str, **params):
    """Run SQL behind the app's back (what a person with database access could do); returns the rows."""
    with db.engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        return result.fetchall() if result.returns_rows else []


@pytest.fixture
def raw():
    """`raw(db, sql, **params)`: SQL behind the app's back (see run_raw)."""
    return run_raw
