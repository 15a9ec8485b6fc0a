"""Who is asking: a bearer token (machines) or a session cookie (people), and CSRF protection.

- `Authorization: Bearer opsfin_…` → the token's user (`opsfin tokens create`).
- Cookie `opsfin_session` → the session's user (created by the login form). The cookie is HttpOnly,
  SameSite=Lax, and Secure when `web.secure_cookies` is set.
- CSRF: every form carries `csrf_token`, and a cookie-authenticated API write sends the same value in the
  `X-CSRF-Token` header. The token is an HMAC of the session id, which no other site can read. The login
  form (no session yet) uses a double-submit cookie instead.
Bearer-token requests need no CSRF token: a browser never attaches one by itself."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from .authz import authorize
from .problems import Problem

SESSION_COOKIE = "opsfin_session"
LOGIN_CSRF_COOKIE = "opsfin_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Caller:
    """The authenticated user (or None) and how they proved it: 'token', 'session' or None."""

    user: Any
    via: str | None
    session_id: str | None = None

    @property
    def csrf_token(self) -> str | None:
        return csrf_for(self.session_id) if self.session_id else None


def csrf_for(session_id: str) -> str:
    return hmac.new(session_id.encode(), b"opsfin-csrf-v1", hashlib.sha256).hexdigest()[:40]


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def identify(request: Request) -> Caller:
    """The caller of this request (cached on the request)."""
    cached = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    db = request.app.state.opsfin.app_db()
    caller = Caller(None, None)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(
                401,
                "the Authorization header must be `Bearer <token>`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        user = db.user_for_token(token.strip())
        if user is None:
            raise Problem(
                401,
                "this API token is unknown, revoked, or its user is disabled",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        caller = Caller(user, "token")
    else:
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            user = db.user_for_session(sid)
            if user is not None:
                caller = Caller(user, "session", sid)
    request.state.caller = caller
    return caller


def check_csrf(request: Request, caller: Caller, submitted: str | None = None) -> None:
    """Refuse a cookie-authenticated write without the session's CSRF token (header or form field)."""
    if caller.via != "session":
        return
    sent = submitted if submitted is not None else request.headers.get(CSRF_HEADER)
    expected = caller.csrf_token or ""
    if not sent or not hmac.compare_digest(str(sent), expected):
        raise Problem(
            403,
            "missing or wrong CSRF token: reload the page and submit the form again "
            f"(API clients using the session cookie send it as the {CSRF_HEADER} header)",
        )


def form_of(permission: str, **scope: Any) -> Any:
    """A FastAPI dependency for a form: its caller, allowed to `permission` (`authz.authorize(..., **scope)`) and
    its CSRF token checked, so a 401 or 403 comes before the form's own fields are read."""

    def allowed_caller(request: Request, csrf_token: Annotated[str, Form()] = "") -> Caller:
        caller = identify(request)
        authorize(caller.user, permission, **scope)
        check_csrf(request, caller, csrf_token)
        return caller

    return Depends(allowed_caller)


def set_session_cookie(response, request: Request, session_id: str, hours: int) -> None:
    settings = request.app.state.opsfin.ws.settings.web
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=hours * 3600,
        httponly=True,
        samesite="lax",
        secure=bool(settings.secure_cookies),
        path="/",
    )


def clear_session_cookie(response, request: Request) -> None:
    settings = request.app.state.opsfin.ws.settings.web
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=bool(settings.secure_cookies),
    )
