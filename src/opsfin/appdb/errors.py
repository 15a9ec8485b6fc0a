"""Errors of the app database. Both are user-facing: the CLI prints them in one line (exit 2)."""

from __future__ import annotations

from ..errors import UserError


class AppDbError(UserError):
    """A request the app database refuses: unknown or duplicate name, bad role or status, bad amount…"""


class LoginThrottled(AppDbError):
    """Too many failed logins for one (user name, client) in the last minute; retry after `retry_after` s."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"too many failed logins; try again in {self.retry_after} s")
