"""Plan versions on a workspace (docs/planning-versions.md): the write guard every writer of a version's
warehouse rows calls first, its status, and the list of versions (the app database's, merged with the
versions found in the warehouse).

- `ensure_writable(ws, version, kind, actor)`: a `submitted`, `approved` or `archived` version is
  read-only (UserError); a version the app database does not know yet is registered as a `draft` of
  `kind` created by `actor` (audited `plan.create`), so every version that holds numbers has an owner.
- `version_status(ws, version)`: the app database's status, None for a version it does not know.
- `list_versions(ws)`: every version, registered or only in the warehouse (`unregistered`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from ..appdb import open_app_db
from ..appdb.plans import FIELDS, PlanConflict, check_kind, check_version_name
from ..errors import UserError

if TYPE_CHECKING:
    from ..appdb import AppDB
    from ..workspace_folder import WorkspaceFolder

READ_ONLY = ("submitted", "approved", "archived")
UNREGISTERED = "unregistered"
# warehouse tables keyed by version; plan_pnl appears once the plan engine adds it
VERSION_TABLES = ("budget_lines", "volume_plan", "forecast_versions", "plan_pnl", "plan_capacity", "plan_balances")
BUDGET_NAME = re.compile(r"B\d{4}")  # the demo's yearly budgets: B2024, B2025…
LIST_COLUMNS = ("name", "kind", "status", "based_on", "as_of", "tables", *FIELDS[5:])


def _read_only_message(version: str, status: str) -> str:
    return f"plan version {version} is {status} and read-only; build or import into a new version name"


def version_status(ws: WorkspaceFolder, version: str) -> str | None:
    """The version's status in the app database (`draft`, `submitted`, `approved`, `archived`), or None."""
    row = open_app_db(ws).plan_version(version)
    return None if row is None else str(row["status"])


def ensure_writable(
    ws: WorkspaceFolder,
    version: str,
    kind: str,
    actor: str,
    *,
    based_on: str | None = None,
    as_of: dt.date | None = None,
) -> None:
    """Refuse a write to a version that is submitted, approved or archived (UserError naming its status);
    register a version the app database does not know as a draft of `kind` created by `actor` (with
    `based_on` and `as_of` when the writer knows them: a rolled forecast)."""
    check_version_name(version)
    check_kind(kind)
    db = open_app_db(ws)
    row = db.plan_version(version)
    if row is None:
        try:
            row = db.create_plan_version(version, kind, actor, based_on=based_on, as_of=as_of, as_user=False)
        except PlanConflict:  # another writer registered it a moment ago: judge its status
            row = db.plan_version(version)
    if row is not None and row["status"] in READ_ONLY:
        raise UserError(_read_only_message(version, str(row["status"])))


def warehouse_versions(ws: WorkspaceFolder) -> dict[str, list[str]]:
    """Version name -> the warehouse tables holding rows of it (tables that do not exist are skipped)."""
    with ws.connect(read_only=True) as con:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        found: dict[str, list[str]] = {}
        for table in VERSION_TABLES:
            if table not in present:
                continue
            for (name,) in con.execute(f'SELECT DISTINCT version FROM "{table}" ORDER BY version').fetchall():
                found.setdefault(str(name), []).append(table)
    return found


def _guess_kind(name: str, tables: list[str]) -> str:
    """The kind an unregistered version most likely has: a demand forecast, a `B<year>` budget, else a
    scenario."""
    if "forecast_versions" in tables:
        return "forecast"
    if "budget_lines" in tables or BUDGET_NAME.fullmatch(name):
        return "budget"
    return "scenario"


def list_versions(ws: WorkspaceFolder, db: AppDB | None = None) -> list[dict[str, Any]]:
    """Every version by name: the app database's rows (with the warehouse tables holding their numbers)
    and, with status `unregistered`, versions found only in the warehouse (their kind guessed). `db`: the
    app database to read (default: the workspace's; the web app passes its own)."""
    in_warehouse = warehouse_versions(ws)
    rows: dict[str, dict[str, Any]] = {}
    for row in (db or open_app_db(ws)).plan_versions():
        rows[row["name"]] = {**row, "tables": in_warehouse.get(row["name"], [])}
    for name, tables in in_warehouse.items():
        if name not in rows:
            rows[name] = {f: None for f in FIELDS} | {
                "name": name,
                "kind": _guess_kind(name, tables),
                "status": UNREGISTERED,
                "tables": tables,
            }
    return [{c: rows[n][c] for c in LIST_COLUMNS} for n in sorted(rows)]


def register_demo_budgets(ws: WorkspaceFolder, actor: str = "demo") -> list[str]:
    """Register each `B<year>` budget of the warehouse the app database does not know yet as an approved
    budget created and approved by `actor` (the demo's own budgets); returns the names registered."""
    db = open_app_db(ws)
    done = []
    for name, tables in warehouse_versions(ws).items():
        if BUDGET_NAME.fullmatch(name) and "budget_lines" in tables and db.plan_version(name) is None:
            try:
                db.create_plan_version(name, "budget", actor, as_user=False, status="approved")
            except PlanConflict:
                continue
            done.append(name)
    return done
