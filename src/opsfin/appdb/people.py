"""People and access: users (argon2 passwords), the login rate limit, bearer tokens and sessions."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Row, bindparam, delete, exc, func, select

from .audit import append_audit
from .errors import AppDbError, LoginThrottled
from .models import NAME, FailedLoginRow, SessionRow, TokenRow, UserRow
from .passwords import (
    TOKEN_PREFIX,
    dummy_hash,
    hash_password,
    needs_rehash,
    new_session_id,
    new_token,
    password_problem,
    sha256_hex,
    verify_password,
)
from .records import ROLES, Token, User
from .sessions import SessionsMixin
from .types import utc_now

LOGIN_WINDOW = timedelta(seconds=60)
FAILED_LOGIN_KEEP = timedelta(days=1)  # older failures are pruned
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


def check_name(name: object, what: str) -> str:
    """A user or token name: 1–100 characters, letters, digits and . _ @ + - (no spaces)."""
    if not isinstance(name, str) or not name.strip():
        raise AppDbError(f"{what} must not be empty")
    if len(name) > NAME or not _NAME_RE.match(name):
        raise AppDbError(
            f"{what} {name!r}: use up to {NAME} letters, digits and . _ @ + - (starting with a letter or digit)"
        )
    return name


def check_sites(sites: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """None (every site) or a non-empty tuple of distinct site ids; "A,B" is accepted too."""
    if sites is None:
        return None
    items = sites.split(",") if isinstance(sites, str) else list(sites)
    out: list[str] = []
    for s in items:
        if not isinstance(s, str) or not s.strip():
            raise AppDbError(f"sites: {s!r} is not a site id")
        if s.strip() not in out:
            out.append(s.strip())
    if not out:
        raise AppDbError("sites: give at least one site, or none at all for every site")
    return tuple(out)


def _check_password(password: object, user_name: str | None = None) -> str:
    problem = password_problem(password, user_name)
    if problem:
        raise AppDbError(problem)
    return password  # type: ignore[return-value]  # password_problem refused anything but a str


def to_user(row: UserRow | Row) -> User:
    sites = tuple(json.loads(row.sites)) if row.sites is not None else None
    return User(
        id=row.id,
        name=row.name,
        role=row.role,
        sites=sites,
        disabled=row.disabled,
        created_at=row.created_at,
    )


def _user_name(user: User | str) -> str:
    return user.name if isinstance(user, User) else user


# the two look-ups of every request (who sends this token, whose session is this cookie), built once and
# run as Core queries on a pooled connection: no ORM session nor identity map per request (about 5 × less
# CPU; docs/web.md "Speed"). Each request still reads the database, so a disabled user or a revoked token
# stops at the next request.
_USER_COLUMNS = (UserRow.id, UserRow.name, UserRow.role, UserRow.sites, UserRow.disabled, UserRow.created_at)
_USER_OF_TOKEN = (
    select(*_USER_COLUMNS)
    .join(TokenRow, TokenRow.user_id == UserRow.id)
    .where(TokenRow.token_hash == bindparam("token_hash"), TokenRow.revoked_at.is_(None))
)
_USER_OF_SESSION = (
    select(*_USER_COLUMNS)
    .join(SessionRow, SessionRow.user_id == UserRow.id)
    .where(SessionRow.session_hash == bindparam("session_hash"), SessionRow.expires_at > bindparam("now"))
)


class PeopleMixin(SessionsMixin):
    """Users, logins, tokens and sessions of `AppDB`."""

    login_attempts_per_minute: int

    # -- users
    def add_user(
        self,
        name: str,
        role: str,
        password: str,
        sites: Iterable[str] | None = None,
        actor: str = "cli",
    ) -> User:
        """Create a user; AppDbError on a duplicate name, a bad role or an empty password."""
        check_name(name, "user name")
        if role not in ROLES:
            raise AppDbError(f"role {role!r}: choose one of {', '.join(ROLES)}")
        site_ids = check_sites(sites)
        password_hash = hash_password(_check_password(password, name))  # slow on purpose: outside the transaction
        try:
            with self._write() as s:
                if s.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                    raise AppDbError(f"user {name!r} already exists")
                row = UserRow(
                    name=name,
                    role=role,
                    sites=None if site_ids is None else json.dumps(site_ids),
                    password_hash=password_hash,
                    disabled=False,
                    created_at=utc_now(),
                )
                s.add(row)
                s.flush()
                append_audit(
                    s,
                    actor,
                    "user.add",
                    "user",
                    name,
                    {"role": role, "sites": None if site_ids is None else list(site_ids)},
                )
                return to_user(row)
        except exc.IntegrityError:
            raise AppDbError(f"user {name!r} already exists") from None

    def get_user(self, name: str) -> User | None:
        with self._read() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            return to_user(row) if row else None

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self._read() as s:
            return [to_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def disable_user(self, name: str, actor: str = "cli") -> User:
        """Disable a user: no more logins, their sessions end, their tokens stop working."""
        with self._write() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise AppDbError(f"no user named {name!r}")
            if not row.disabled:
                row.disabled = True
                s.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
                append_audit(s, actor, "user.disable", "user", name, {"disabled": True})
            return to_user(row)

    def enable_user(self, name: str, actor: str = "cli") -> User:
        """Enable a disabled user again (their old sessions stay ended; old tokens work again unless revoked)."""
        with self._write() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise AppDbError(f"no user named {name!r}")
            if row.disabled:
                row.disabled = False
                append_audit(s, actor, "user.enable", "user", name, {"disabled": False})
            return to_user(row)

    def set_password(self, name: str, password: str, actor: str = "cli") -> User:
        """An admin sets a user's password (the reset when one is forgotten): the user's sessions end and
        the audit log records who did it (never the password)."""
        password_hash = hash_password(_check_password(password, name))  # outside the transaction
        with self._write() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise AppDbError(f"no user named {name!r}")
            row.password_hash = password_hash
            s.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            s.execute(delete(FailedLoginRow).where(FailedLoginRow.name == name))
            append_audit(s, actor, "user.set_password", "user", name, {"sessions_ended": True})
            return to_user(row)

    # -- logins
    def authenticate(self, name: str, password: str, client: str = "unknown") -> User | None:
        """The user when the password is right and the user enabled, else None (and the failure counts).

        Raises LoginThrottled when this (name, client) failed `login_attempts_per_minute` times in the
        last 60 s — even for the right password, so guessing cannot go on."""
        if not isinstance(name, str) or not isinstance(password, str) or not name or len(name) > NAME:
            verify_password(dummy_hash(), "")  # same time as a real attempt; no such user can exist
            return None
        client = str(client)[:200]
        now = utc_now()
        with self._read() as s:
            recent = list(
                s.scalars(
                    select(FailedLoginRow.at)
                    .where(
                        FailedLoginRow.name == name,
                        FailedLoginRow.client == client,
                        FailedLoginRow.at > now - LOGIN_WINDOW,
                    )
                    .order_by(FailedLoginRow.at)
                )
            )
            row = s.scalar(select(UserRow).where(UserRow.name == name))
        limit = self.login_attempts_per_minute
        if len(recent) >= limit:
            # Allowed again once enough of the failures have left the 60 s window.
            frees_at = recent[len(recent) - limit] + LOGIN_WINDOW
            raise LoginThrottled(math.ceil((frees_at - now).total_seconds()))
        # Verify against a dummy hash for unknown users, so timing does not reveal who exists.
        ok = verify_password(row.password_hash if row else dummy_hash(), password)
        if row is not None and ok and not row.disabled:
            # A hash made with weaker parameters is upgraded (hashed before the write lock is taken).
            upgraded = hash_password(password) if needs_rehash(row.password_hash) else None
            with self._write() as s:
                s.execute(delete(FailedLoginRow).where(FailedLoginRow.name == name, FailedLoginRow.client == client))
                fresh = s.get(UserRow, row.id) if upgraded else None
                if fresh is not None and upgraded is not None:
                    fresh.password_hash = upgraded
            return to_user(row)
        with self._write() as s:
            s.add(FailedLoginRow(name=name, client=client, at=now))
            s.execute(delete(FailedLoginRow).where(FailedLoginRow.at < now - FAILED_LOGIN_KEEP))
        return None

    # -- tokens
    def create_token(self, name: str, user: User | str, actor: str = "cli") -> str:
        """A new bearer token acting as `user`; returns the plaintext ONCE (only its sha256 is stored)."""
        check_name(name, "token name")
        user_name = _user_name(user)
        token = new_token()
        try:
            with self._write() as s:
                owner = s.scalar(select(UserRow).where(UserRow.name == user_name))
                if owner is None:
                    raise AppDbError(f"no user named {user_name!r}")
                if owner.disabled:
                    raise AppDbError(f"user {user_name!r} is disabled")
                if s.scalar(select(TokenRow.id).where(TokenRow.name == name)) is not None:
                    raise AppDbError(f"a token named {name!r} already exists (token names are never reused)")
                s.add(
                    TokenRow(
                        name=name,
                        user_id=owner.id,
                        token_hash=sha256_hex(token),
                        created_at=utc_now(),
                    )
                )
                s.flush()
                append_audit(s, actor, "token.create", "token", name, {"user": user_name})
        except exc.IntegrityError:
            raise AppDbError(f"a token named {name!r} already exists") from None
        return token

    def list_tokens(self, user: User | str | None = None) -> list[Token]:
        """Tokens (active and revoked) by name, optionally of one user. Never the token or its hash."""
        query = select(TokenRow, UserRow.name).join(UserRow, TokenRow.user_id == UserRow.id).order_by(TokenRow.name)
        if user is not None:
            query = query.where(UserRow.name == _user_name(user))
        with self._read() as s:
            return [
                Token(id=t.id, name=t.name, user=u, created_at=t.created_at, revoked_at=t.revoked_at)
                for t, u in s.execute(query)
            ]

    def revoke_token(self, name: str, actor: str = "cli") -> Token:
        """Revoke a token at once; AppDbError for an unknown name. Revoking twice changes nothing."""
        with self._write() as s:
            found = s.execute(
                select(TokenRow, UserRow.name)
                .join(UserRow, TokenRow.user_id == UserRow.id)
                .where(TokenRow.name == name)
            ).first()
            if found is None:
                raise AppDbError(f"no token named {name!r}")
            row, user_name = found
            if row.revoked_at is None:
                row.revoked_at = utc_now()
                append_audit(s, actor, "token.revoke", "token", name, {"user": user_name})
            return Token(
                id=row.id,
                name=row.name,
                user=user_name,
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )

    def user_for_token(self, token: str) -> User | None:
        """The user a bearer token acts as; None when unknown, revoked, or the user is disabled."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            return None
        with self._lookup() as conn:
            row = conn.execute(_USER_OF_TOKEN, {"token_hash": sha256_hex(token)}).first()
            return to_user(row) if row is not None and not row.disabled else None

    # -- sessions
    def create_session(self, user: User | str, hours: int = 12) -> str:
        """A new login session; returns the random session id for the cookie (only its hash is stored)."""
        if hours <= 0:
            raise AppDbError("a session must last at least one hour")
        user_name = _user_name(user)
        sid = new_session_id()
        now = utc_now()
        with self._write() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == user_name))
            if row is None or row.disabled:
                raise AppDbError(f"no active user named {user_name!r}")
            s.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            s.add(
                SessionRow(
                    session_hash=sha256_hex(sid),
                    user_id=row.id,
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
            )
        return sid

    def user_for_session(self, sid: str) -> User | None:
        """The user of a live session; None when unknown, expired, ended or the user is disabled."""
        if not isinstance(sid, str) or not sid:
            return None
        with self._lookup() as conn:
            row = conn.execute(_USER_OF_SESSION, {"session_hash": sha256_hex(sid), "now": utc_now()}).first()
            return to_user(row) if row is not None and not row.disabled else None

    def end_session(self, sid: str) -> None:
        """Log out: forget the session (no error when it is already gone)."""
        if not isinstance(sid, str) or not sid:
            return
        with self._write() as s:
            s.execute(delete(SessionRow).where(SessionRow.session_hash == sha256_hex(sid)))

    def count_users(self) -> int:
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(UserRow)) or 0)
