"""Budgets in Excel on a workspace (docs/planning-excel.md): the rows of a version's template, and the
import of a filled-in workbook.

- `plan_template(ws, version, start, end)`: what `opsfin plan export` writes (export/plan_xlsx.py
  renders it): the version's months, one Volumes/Prices row per finished product and one Costs row per
  cost centre × account, with the version's values filled in.
- `import_plan(ws, path, version, kind, actor)`: reads the workbook (runs/plan_sheets.py); any bad cell
  refuses the whole file (`PlanFileRefused`, every problem with its cell) and nothing is written.
  Otherwise, after the write guard (`runs.plan_versions.ensure_writable`: a submitted, approved or
  archived version is refused), the version's `volume_plan` and `budget_lines` rows are replaced in one
  warehouse transaction, with their `loads` rows, and the audit entry `plan.import` follows."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from .. import warehouse
from ..appdb.plans import check_version_name
from ..canonical import table
from ..core.periods import add_months, parse_month
from ..errors import UserError
from .audit_trail import record_write
from .plan_sheets import Masters, read_plan_workbook, shown_amount

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

WRITTEN_TABLES = ("volume_plan", "budget_lines")
AUDIT_ACTION, AUDIT_OBJECT = "plan.import", "plan_version"
MAX_TEMPLATE_MONTHS = 120


class PlanFileRefused(UserError):
    """A workbook with bad cells: `problems` lists each with its sheet and cell; nothing was written."""

    def __init__(self, file_name: str, problems: list[str]):
        self.problems = list(problems)
        count = sum(1 for p in problems if not p.startswith("…"))
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{file_name}: refused, {count} problem(s) found; nothing was written:\n{lines}")


@dataclass
class PlanTemplate:
    """A version's template: months, product rows (Volumes and Prices) and cost rows (Costs).

    A product row: product_id, product, family, qty {month: float}, unit_price {month: Decimal}.
    A cost row: cost_center_id, account_id, cost_center, account, type, amount {month: Decimal as shown}."""

    version: str
    months: list[dt.date]
    products: list[dict[str, Any]] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PlanImport:
    """What an import wrote: the version, the rows written and the rows they replaced, per table."""

    version: str
    written: dict[str, int]
    replaced: dict[str, int]
    load_id: str


def _existing(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def _version_rows(con: duckdb.DuckDBPyConnection, name: str, version: str, columns: str) -> list[tuple]:
    if name not in _existing(con):
        return []
    return con.execute(f'SELECT {columns} FROM "{name}" WHERE version = ? ORDER BY ALL', [version]).fetchall()


def _month_range(start: str | None, end: str | None) -> list[dt.date]:
    if start is None and end is None:
        return []
    if start is None or end is None:
        raise UserError(
            "give both {start} and {end} for the months of the template", param="start" if start is None else "end"
        )
    first, last = parse_month(start, "--from"), parse_month(end, "--to")
    if last < first:
        raise UserError("{param} " + f"{end} is before " + "{start} " + start, param="end", value=end)
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
        if len(months) > MAX_TEMPLATE_MONTHS:
            raise UserError(f"a template holds at most {MAX_TEMPLATE_MONTHS} months", param="end", value=end)
    return months


def plan_template(ws: WorkspaceFolder, version: str, start: str | None = None, end: str | None = None) -> PlanTemplate:
    """The template of `version`: its months (with `start`..`end` added, YYYY-MM), every finished product
    and each cost centre × account the version budgets (for a version without budget lines: every pair
    any version budgets), its values filled in. A version without rows needs `start` and `end`."""
    check_version_name(version)
    with ws.connect(read_only=True) as con:
        volumes = _version_rows(con, "volume_plan", version, "period, product_id, qty, unit_price")
        lines = _version_rows(con, "budget_lines", version, "period, cost_center_id, account_id, amount")
        products = con.execute(
            "SELECT product_id, name, family FROM products WHERE kind = 'finished' "
            "OR product_id IN (SELECT product_id FROM volume_plan WHERE version = ?) ORDER BY product_id",
            [version],
        ).fetchall()
        pairs = sorted({(cc, a) for _, cc, a, _ in lines}) or [
            (cc, a)
            for cc, a in con.execute(
                "SELECT DISTINCT cost_center_id, account_id FROM budget_lines ORDER BY ALL"
            ).fetchall()
        ]
        cc_names = dict(con.execute("SELECT cost_center_id, name FROM cost_centers").fetchall())
        accounts = {a: (n, t) for a, n, t in con.execute("SELECT account_id, name, type FROM accounts").fetchall()}
    months = sorted({r[0] for r in volumes} | {r[0] for r in lines} | set(_month_range(start, end)))
    if not months:
        raise UserError(
            f"plan version {version} has no volume_plan or budget_lines rows; give {{start}} and {{end}} (YYYY-MM) "
            "for the months of an empty template",
            param="start",
        )
    template = PlanTemplate(version, months)
    qty = {(p, m): (q, price) for m, p, q, price in volumes}
    for pid, name, family in products:
        template.products.append(
            {
                "product_id": pid,
                "product": name,
                "family": family,
                "qty": {m: qty[(pid, m)][0] for m in months if (pid, m) in qty},
                "unit_price": {m: qty[(pid, m)][1] for m in months if (pid, m) in qty},
            }
        )
    amounts = {(cc, a, m): amount for m, cc, a, amount in lines}
    for cc, a in pairs:
        name, kind = accounts.get(a, (None, ""))
        shown = {m: shown_amount(amounts[(cc, a, m)], kind) for m in months if (cc, a, m) in amounts}
        template.costs.append(
            {
                "cost_center_id": cc,
                "account_id": a,
                "cost_center": cc_names.get(cc),
                "account": name,
                "type": kind,
                "amount": shown,
            }
        )
    return template


def _masters(ws: WorkspaceFolder) -> Masters:
    with ws.connect(read_only=True) as con:
        products = dict(con.execute("SELECT product_id, kind FROM products").fetchall())
        centres = frozenset(r[0] for r in con.execute("SELECT cost_center_id FROM cost_centers").fetchall())
        accounts = dict(con.execute("SELECT account_id, type FROM accounts").fetchall())
    return Masters(products, centres, accounts)


def _refuse_read_only(ws: WorkspaceFolder, version: str) -> None:
    """A read-only version is refused before the file is read (the guard proper runs before the write)."""
    from .plan_versions import READ_ONLY, version_status

    status = version_status(ws, version)
    if status in READ_ONLY:
        raise UserError(f"plan version {version} is {status} and read-only; build or import into a new version name")


def import_plan(
    ws: WorkspaceFolder,
    path: Path,
    version: str,
    kind: str = "budget",
    actor: str = "python",
    source: str | None = None,
) -> PlanImport:
    """Replace `version`'s volume_plan and budget_lines rows with the workbook at `path` (see the module
    docstring); `source` names the file in the audit entry and messages (default: its name)."""
    from .plan_versions import ensure_writable

    check_version_name(version)
    _refuse_read_only(ws, version)
    shown = source or path.name
    parsed = read_plan_workbook(path, _masters(ws))
    if parsed.problems:
        raise PlanFileRefused(shown, parsed.problems)
    ensure_writable(ws, version, kind, actor)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    load_id = f"PLANFILE-{version}-{started:%Y%m%dT%H%M%S%f}"
    rows = {
        "volume_plan": [{"version": version, **r, "_load_id": load_id} for r in parsed.volume_plan],
        "budget_lines": [{"version": version, **r, "_load_id": load_id} for r in parsed.budget_lines],
    }
    with ws.connect(read_only=False) as con:
        replaced = _replace(con, version, rows, load_id, digest, shown, started)
    written = {name: len(rows[name]) for name in WRITTEN_TABLES}
    payload = {"file": shown, "sha256": digest, "kind": kind, "rows": written, "replaced": replaced, "load_id": load_id}
    record_write(ws, actor, AUDIT_ACTION, AUDIT_OBJECT, version, payload)
    return PlanImport(version, written, replaced, load_id)


def _replace(
    con: duckdb.DuckDBPyConnection,
    version: str,
    rows: dict[str, list[dict[str, Any]]],
    load_id: str,
    digest: str,
    source: str,
    started: dt.datetime,
) -> dict[str, int]:
    """Delete the version's rows and insert the new ones, with a `loads` row per table, in one transaction;
    returns how many rows of each table were replaced."""
    replaced: dict[str, int] = {}
    with warehouse.transaction(con):
        for name in (*WRITTEN_TABLES, "loads"):  # a warehouse made before these tables existed gets them
            con.execute(table(name).ddl())
        loads = []
        for name in WRITTEN_TABLES:
            count = con.execute(f'SELECT count(*) FROM "{name}" WHERE version = ?', [version]).fetchone()
            replaced[name] = int(count[0]) if count else 0
            con.execute(f'DELETE FROM "{name}" WHERE version = ?', [version])
            decl = table(name)
            if rows[name]:
                warehouse.insert_arrow(con, decl, pa.Table.from_pylist(rows[name], schema=decl.arrow_schema()))
            command = f"opsfin plan import {source} --version {version}"
            loads.append(warehouse.written_load(load_id, name, command, digest, len(rows[name]), started))
        decl = table("loads")
        warehouse.insert_arrow(con, decl, pa.Table.from_pylist(loads, schema=decl.arrow_schema()))
    return replaced
