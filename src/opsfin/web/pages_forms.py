"""The forms: log in and out, comments, actions, and the admin's users and tokens.

Every POST calls `authz.authorize` and checks the CSRF token (the dependency `auth.form_of`, before the form's
own fields are read); then it redirects (303) back to the page it came from (`next`, a local path only), so a
reload never posts twice."""

from __future__ import annotations

import datetime as dt
import hmac
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..appdb import LoginThrottled
from . import guardrails, pages
from .api_collab import (
    ActionId,
    ActionIn,
    ActionPatch,
    create_action_for,
    post_comment,
    visible_action,
)
from .auth import (
    LOGIN_CSRF_COOKIE,
    Caller,
    check_csrf,
    clear_session_cookie,
    form_of,
    identify,
    new_login_csrf,
    set_session_cookie,
)
from .authz import authorize
from .problems import Problem

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form()]
OptText = Annotated[str | None, Form()]


def local(next_url: str | None, default: str = "/") -> str:
    """Only a path on this site may follow a form (no open redirect)."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return default


def back(next_url: str | None, default: str = "/") -> RedirectResponse:
    return RedirectResponse(local(next_url, default), status_code=303)


Commenter = Annotated[Caller, form_of("comment")]
ActionManager = Annotated[Caller, form_of("manage_actions")]
GuardrailEditor = Annotated[Caller, form_of("edit_guardrails")]
UserManager = Annotated[Caller, form_of("manage_users")]


# ---------------------------------------------------------------- log in / out
def login_form(request: Request, next_url: str, message: str | None = None, status: int = 200) -> HTMLResponse:
    token = new_login_csrf()
    response = pages.templates.TemplateResponse(
        request,
        "login.html",
        {
            "next": local(next_url),
            "message": message,
            "csrf": token,
            "user": None,
            "nav": (),
            "view": None,
            "active": "",
            "site_names": {},
            "company": request.app.state.opsfin.ws.settings.company,
            "path": "/login",
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        path="/login",
        secure=bool(request.app.state.opsfin.ws.settings.web.secure_cookies),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    if identify(request).user is not None:
        return back(next)
    return login_form(request, next)


@router.post("/login")
def login_submit(
    request: Request,
    name: Text,
    password: Text,
    csrf_token: Text = "",
    next: Text = "/",
) -> Response:  # noqa: A002
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(csrf_token, expected):
        return login_form(request, next, "Your login form expired; please try again.", 403)
    state = request.app.state.opsfin
    client = request.client.host if request.client else "unknown"
    try:
        user = state.app_db().authenticate(name.strip(), password, client=client)
    except LoginThrottled as exc:
        response = login_form(request, next, f"Too many failed logins. Try again in {exc.retry_after} s.", 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if user is None:
        return login_form(request, next, "Wrong user name or password.", 401)
    hours = state.ws.settings.web.session_hours
    sid = state.app_db().create_session(user, hours=hours)
    response = back(next)
    set_session_cookie(response, request, sid, hours)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Text = "") -> Response:
    caller = identify(request)
    if caller.via == "session":
        check_csrf(request, caller, csrf_token)
        request.app.state.opsfin.app_db().end_session(caller.session_id)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response


# ---------------------------------------------------------------- comments and actions
@router.post("/comments")
def comment_submit(
    request: Request,
    subject_type: Text,
    subject_id: Text,
    body: Text,
    caller: Commenter,
    site: OptText = None,
    next: Text = "/",
) -> Response:  # noqa: A002
    if not body.strip():
        raise Problem(400, "the comment is empty")
    post_comment(request.app.state.opsfin, caller.user, subject_type, subject_id, body.strip(), site or None)
    return back(next)


# ---------------------------------------------------------------- form values (a 400 names the field)
def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Problem(400, f"{field} {value!r}: give a date as YYYY-MM-DD") from None


def _money(value: str, field: str) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise Problem(400, f"{field} {value!r}: give an amount such as 12500 or -800.50") from None
    if not amount.is_finite():
        raise Problem(400, f"{field} {value!r}: give a finite amount")
    return amount


def _bound(value: str | None, field: str, unit: str | None = None) -> float | None:
    """A guardrail bound typed in the form; with `unit="percent"` it is a ratio in % (33 → 0.33)."""
    if value is None or not value.strip():
        return None
    percent = unit == "percent"
    text = value.strip().replace(",", "").removesuffix("%").strip() if percent else value.strip().replace(",", "")
    try:
        number = Decimal(text)
    except ArithmeticError:
        hint = "a percentage for ratios: 8 for 8%" if percent else "a fraction for ratios: 0.08, not 8%"
        raise Problem(400, f"{field} {value!r}: give a number ({hint})") from None
    bound = float(number / 100 if percent else number)
    if not math.isfinite(bound):
        raise Problem(400, f"{field} {value!r}: give a finite number")
    return bound


@router.post("/actions")
def action_submit(
    request: Request,
    title: Text,
    owner: Text,
    due: Text,
    expected_impact: Text,
    caller: ActionManager,
    description: Text = "",
    subject_type: OptText = None,
    subject_id: OptText = None,
    site: OptText = None,
    next: Text = "/actions",
) -> Response:  # noqa: A002
    if not title.strip() or not owner.strip():
        raise Problem(400, "an action needs a title and an owner")
    data = ActionIn(
        title=title.strip(),
        owner=owner.strip(),
        due=_date(due, "due"),
        expected_impact=_money(expected_impact, "expected impact"),
        description=description.strip(),
        subject_type=subject_type or None,
        subject_id=subject_id or None,
        site=site or None,
    )
    action = create_action_for(request.app.state.opsfin, caller.user, data)
    path, _, query = local(next, "/actions").partition("?")
    if path == "/actions":  # from the actions page or a KPI or variance: open the new action, same view
        return back(f"/actions/{action['id']}" + (f"?{query}" if query else ""))
    return back(next)


@router.post("/actions/{action_id}")
def action_update_submit(
    request: Request,
    action_id: ActionId,
    caller: ActionManager,
    status: OptText = None,
    owner: OptText = None,
    due: OptText = None,
    expected_impact: OptText = None,
    next: Text = "",
) -> Response:  # noqa: A002
    state = request.app.state.opsfin
    current = visible_action(state, caller.user, action_id, "manage_actions")
    changes: dict = {}
    if status and status != current["status"]:
        changes["status"] = status
    if owner and owner.strip() != current["owner"]:
        changes["owner"] = owner.strip()
    if due and _date(due, "due") != current["due"]:
        changes["due"] = _date(due, "due")
    if expected_impact and _money(expected_impact, "expected impact") != current["expected_impact"]:
        changes["expected_impact"] = _money(expected_impact, "expected impact")
    if changes:
        checked = ActionPatch(**changes).model_dump(exclude_none=True)  # the API's rules (a 400 naming the field)
        state.app_db().update_action(caller.user.name, action_id, **checked)
    return back(next, f"/actions/{action_id}")


# ---------------------------------------------------------------- guardrails
@router.post("/guardrails/{index}")
def guardrail_submit(
    request: Request,
    index: int,
    caller: GuardrailEditor,
    min: OptText = None,  # noqa: A002
    max: OptText = None,
    severity: OptText = None,
    owner: OptText = None,  # noqa: A002
    unit: OptText = None,  # "percent": the page shows a ratio's band in % (33.0 for 0.33)
    next: Text = "/",
) -> Response:  # noqa: A002
    state = request.app.state.opsfin
    changes = {"min": _bound(min, "min", unit), "max": _bound(max, "max", unit)}
    if severity:
        changes["severity"] = severity
    if owner is not None and owner.strip():
        changes["owner"] = owner.strip()
    guardrails.change_guardrail(state.ws, state.app_db(), caller.user, state.results.catalog(), index, changes)
    state.results.cache.clear()
    return back(next)


# ---------------------------------------------------------------- admin: users and tokens
@dataclass(frozen=True)
class AdminForm:
    """A form of the admin page, allowed (manage_users) with its CSRF token checked: the app database and the
    admin (whose name is the actor of what the form changes)."""

    db: Any
    user: Any

    @property
    def name(self) -> str:
        return self.user.name


def admin_form(request: Request, caller: UserManager) -> AdminForm:
    return AdminForm(request.app.state.opsfin.app_db(), caller.user)


AsAdmin = Annotated[AdminForm, Depends(admin_form)]


@router.post("/admin/users")
def user_add_submit(
    request: Request,
    admin: AsAdmin,
    name: Text,
    password: Text,
    role: Text = "viewer",  # the least privilege unless the admin chooses
    sites: Text = "",
    next: Text = "/admin",
) -> Response:  # noqa: A002
    site_list = [s.strip() for s in sites.split(",") if s.strip()] or None
    known = request.app.state.opsfin.results.site_map().sites
    unknown = [s for s in site_list or [] if s not in known]
    if unknown:
        raise Problem(400, f"unknown site {', '.join(unknown)}; sites are {', '.join(known)}")
    admin.db.add_user(name.strip(), role, password, sites=site_list, actor=admin.name)
    return back(next, "/admin")


@router.post("/admin/users/{name}/disable")
def user_disable_submit(name: str, admin: AsAdmin, next: Text = "/admin") -> Response:  # noqa: A002
    if name == admin.name:
        raise Problem(400, "you cannot disable yourself")
    admin.db.disable_user(name, actor=admin.name)
    return back(next, "/admin")


@router.post("/admin/users/{name}/enable")
def user_enable_submit(name: str, admin: AsAdmin, next: Text = "/admin") -> Response:  # noqa: A002
    admin.db.enable_user(name, actor=admin.name)
    return back(next, "/admin")


@router.post("/admin/users/{name}/password")
def user_password_submit(name: str, password: Text, admin: AsAdmin, next: Text = "/admin") -> Response:  # noqa: A002
    admin.db.set_password(name, password, actor=admin.name)
    return back(next, "/admin")


@router.post("/admin/tokens", response_class=HTMLResponse)
def token_create_submit(request: Request, admin: AsAdmin, name: Text, user: Text, next: Text = "/admin") -> Response:  # noqa: A002
    token = admin.db.create_token(name.strip(), user.strip(), actor=admin.name)
    grant = authorize(admin.user, "manage_users")
    filters = dict(parse_qsl(local(next, "/admin").partition("?")[2]))  # the admin page's view, kept
    view = pages.view_for(request, grant, filters.get("period"), filters.get("site"))
    return pages.admin_view(
        request,
        grant,
        view,
        new_token=token,
        message=f"Token {name.strip()} for {user.strip()}: copy it now, it is shown only once.",
    )


@router.post("/admin/tokens/{name}/revoke")
def token_revoke_submit(name: str, admin: AsAdmin, next: Text = "/admin") -> Response:  # noqa: A002
    admin.db.revoke_token(name, actor=admin.name)
    return back(next, "/admin")
