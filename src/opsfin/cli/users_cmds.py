"""`opsfin users …` and `opsfin tokens …`: people and machine access in the app database (src/opsfin/appdb)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from .. import workspace
from ..errors import UserError
from .options import FormatOpt, OutputFormat, WorkspaceOpt
from .output import err_console, print_rows
from .root import app

users_app = typer.Typer(
    name="users",
    help="People who log in to the web app (roles and site scope).",
    no_args_is_help=True,
)
tokens_app = typer.Typer(name="tokens", help="Bearer tokens for machine access to the REST API.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")

UserName = Annotated[str, typer.Argument(help="login name")]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="read the password from the first line of stdin (default: prompt twice, hidden)"
    ),
]


def cli_actor() -> str:
    """Who made a change from the command line, for the audit log: "cli:<os user>"."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (some containers)
        return "cli"


def _open(ws_path):
    from ..appdb import open_app_db

    ws = workspace.open(ws_path)
    return ws, open_app_db(ws)


def _known_sites(ws, sites: str) -> list[str]:
    """The --sites list, each checked against the warehouse's `sites` table."""
    wanted = [s.strip() for s in sites.split(",") if s.strip()]
    if not wanted:
        raise UserError("--sites: name at least one site (e.g. --sites P1,P2), or leave it out for every site")
    known = set(ws.table("sites")["site_id"].to_list())
    unknown = [s for s in wanted if s not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none: load the sites table first"
        raise UserError(f"--sites: unknown site {', '.join(unknown)} (known sites: {listed})")
    return wanted


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password.strip():
        raise UserError("the password must not be empty")
    return password


@users_app.command("add")
def users_add_cmd(
    name: Annotated[str, typer.Argument(help="login name (letters, digits and . _ @ + -)")],
    role: Annotated[
        str,
        typer.Option(help="admin, controller, analyst or viewer (default: viewer, the least privilege)"),
    ] = "viewer",
    sites: Annotated[
        str | None,
        typer.Option(help="limit the user to these sites (comma-separated site ids); default: every site"),
    ] = None,
    password_stdin: PasswordStdinOpt = False,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Add a user. The password (at least 8 characters, not a common one) is stored only as an argon2 hash."""
    from ..appdb import ROLES

    if role not in ROLES:
        raise UserError(f"--role {role!r}: choose one of {', '.join(ROLES)}")
    ws, db = _open(ws_path)
    site_ids = _known_sites(ws, sites) if sites is not None else None
    password = _read_password(password_stdin)
    user = db.add_user(name, role, password, sites=site_ids, actor=cli_actor())
    scope = ", ".join(user.sites) if user.sites else "every site"
    typer.echo(f"user {user.name} added: role {user.role}, {scope}")


def _when(at, fmt: OutputFormat):
    """Timestamps to the second in a table; exact (ISO 8601, UTC) in CSV and JSON."""
    return at.strftime("%Y-%m-%d %H:%M:%S") if at is not None and fmt == OutputFormat.table else at


def _user_row(u, fmt: OutputFormat) -> dict:
    sites = (
        (list(u.sites) if u.sites else None)
        if fmt == OutputFormat.json
        else (", ".join(u.sites) if u.sites else "(all)")
    )
    return {
        "name": u.name,
        "role": u.role,
        "sites": sites,
        "disabled": u.disabled,
        "created_at": _when(u.created_at, fmt),
    }


@users_app.command("list")
def users_list_cmd(fmt: FormatOpt = OutputFormat.table, ws_path: WorkspaceOpt = None) -> None:
    """Every user with role, sites and status (never a password hash)."""
    _, db = _open(ws_path)
    print_rows([_user_row(u, fmt) for u in db.list_users()], fmt, title="Users")


def _set_disabled(name: str, ws_path, disabled: bool) -> None:
    _, db = _open(ws_path)
    (db.disable_user if disabled else db.enable_user)(name, actor=cli_actor())
    typer.echo(f"user {name} {'disabled' if disabled else 'enabled'}")


@users_app.command("disable")
def users_disable_cmd(name: UserName, ws_path: WorkspaceOpt = None) -> None:
    """Disable a user: logins, sessions and the user's tokens stop working at once."""
    _set_disabled(name, ws_path, disabled=True)


@users_app.command("enable")
def users_enable_cmd(name: UserName, ws_path: WorkspaceOpt = None) -> None:
    """Enable a disabled user again (recorded in the audit log)."""
    _set_disabled(name, ws_path, disabled=False)


@users_app.command("set-password")
def users_set_password_cmd(
    name: UserName,
    password_stdin: PasswordStdinOpt = False,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Set a user's password (a reset): the user's sessions end; the audit log records who did it."""
    _, db = _open(ws_path)
    if db.get_user(name) is None:
        raise UserError(f"no user named {name!r}")
    db.set_password(name, _read_password(password_stdin), actor=cli_actor())
    typer.echo(f"password of user {name} set; their sessions ended")


@tokens_app.command("create")
def tokens_create_cmd(
    name: Annotated[str, typer.Argument(help="a name for the token (e.g. the machine that uses it)")],
    user: Annotated[str, typer.Option("--user", help="the user whose role and sites the token acts with")],
    ws_path: WorkspaceOpt = None,
) -> None:
    """Create a bearer token. It is printed once (stdout); only its hash is stored."""
    _, db = _open(ws_path)
    token = db.create_token(name, user, actor=cli_actor())
    typer.echo(token)
    err_console.print(f"token {name} for user {user} created. Store it now: it will not be shown again.")


@tokens_app.command("list")
def tokens_list_cmd(
    user: Annotated[str | None, typer.Option("--user", help="only this user's tokens")] = None,
    fmt: FormatOpt = OutputFormat.table,
    ws_path: WorkspaceOpt = None,
) -> None:
    """Tokens with their user and status (never the token or its hash)."""
    _, db = _open(ws_path)
    rows = [
        {
            "name": t.name,
            "user": t.user,
            "status": "revoked" if t.revoked else "active",
            "created_at": _when(t.created_at, fmt),
            "revoked_at": _when(t.revoked_at, fmt),
        }
        for t in db.list_tokens(user)
    ]
    print_rows(rows, fmt, title="Tokens")


@tokens_app.command("revoke")
def tokens_revoke_cmd(
    name: Annotated[str, typer.Argument(help="token name")],
    ws_path: WorkspaceOpt = None,
) -> None:
    """Revoke a token: requests with it get 401 from now on."""
    _, db = _open(ws_path)
    db.revoke_token(name, actor=cli_actor())
    typer.echo(f"token {name} revoked")
