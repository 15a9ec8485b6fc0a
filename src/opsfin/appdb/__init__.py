"""The app database: people, tokens, sessions, comments, actions, match decisions and the audit log.

SQLite in the workspace by default, PostgreSQL via `app_db.url`; Alembic migrations run on open.
See docs/app-database.md."""

from __future__ import annotations

from .db import AppDB, open_app_db
from .demo_users import create_demo_users
from .errors import AppDbError, LoginThrottled
from .records import ACTION_STATUSES, ROLES, SUBJECT_TYPES, Token, User

__all__ = [
    "ACTION_STATUSES",
    "ROLES",
    "SUBJECT_TYPES",
    "AppDB",
    "AppDbError",
    "LoginThrottled",
    "Token",
    "User",
    "create_demo_users",
    "open_app_db",
]
