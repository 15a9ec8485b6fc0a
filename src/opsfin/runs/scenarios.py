"""Running a scenario on a workspace (docs/scenarios.md): read model/scenarios.yaml and check its members
against the warehouse, read the base version's inputs (opsfin.scenarios.engine.prepare_base), run the
scenario through the plan engine, and store it as plan version `<base>+<scenario>` (kind `scenario`) through
the plan store of runs.planning, behind the same write guard and with an audit entry."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.dimensions import MASTER_TABLES
from ..core.money import to_decimal
from ..errors import UserError
from ..planning.inputs import PlanInputs
from ..planning.volumes import volumes_for
from ..scenarios.config import FILE, Scenario, ScenarioFile, parse_scenarios
from ..scenarios.engine import BaseCase, ScenarioReport, ScenarioRun, compare, prepare_base, run_scenario
from .model import find_named, label, read_optional_mapping
from .planning import load_planning_config, plan_months

if TYPE_CHECKING:
    from ..workspace_folder import WorkspaceFolder

Progress = Callable[[str], None]
AUDIT_ACTION = "scenario.run"
OVERTIME_KPI = "overtime_share"
#: each scope dimension → (table, column) that names its members
MEMBERS = {f"{dim}s": MASTER_TABLES[dim] for dim in ("product", "site", "supplier", "customer", "work_center")}
MEMBERS |= {"families": ("products", "family"), "currencies": ("suppliers", "currency")}  # currencies: and customers'


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario run and stored: its report against the base, the version written and its row counts."""

    scenario: Scenario
    version: str
    report: ScenarioReport
    run: ScenarioRun
    rows: dict[str, int]
    seconds: float


def scenario_version(scenario: Scenario) -> str:
    """The plan version a scenario is stored as: `<base>+<name>`."""
    return f"{scenario.base}+{scenario.name}"


def load_scenarios(model_dir: Path | None) -> ScenarioFile:
    """model/scenarios.yaml; no scenarios without the file."""
    found = read_optional_mapping(model_dir, FILE)
    return parse_scenarios(*found) if found else ScenarioFile()


def find_scenario(ws: WorkspaceFolder, name: str) -> Scenario:
    """The scenario named `name`; a UserError listing the names there are."""
    return find_named(load_scenarios(ws.model_dir).scenarios, name, "scenario", FILE)


def _members(t: Any, dim: str) -> set[str]:
    table, column = MEMBERS[dim]
    names = {r[column] for r in t(table).select(column).distinct().to_pyarrow().to_pylist()}
    if dim == "currencies":  # a foreign currency: one some customer or supplier bills in
        rows = t("customers").select("currency").distinct().to_pyarrow().to_pylist()
        names |= {r["currency"] for r in rows}
        names.discard(getattr(t, "base_currency", None))
    return {n for n in names if n is not None}


def check_members(t: Any, found: ScenarioFile) -> None:
    """Every member a scope names exists in the warehouse (a currency: a foreign one that a customer or a
    supplier bills in); a UserError names the scenario, the shock, the field and the member."""
    known: dict[str, set[str]] = {}
    for i, scenario in enumerate(found.scenarios, start=1):
        for j, shock in enumerate(scenario.shocks, start=1):
            for dim, members in shock.scope.given().items():
                if dim not in known:
                    known[dim] = _members(t, dim)
                missing = [m for m in members if m not in known[dim]]
                if missing:
                    raise UserError(
                        f"{label(FILE)}: scenarios[{i}] ({scenario.name}): field 'shocks[{j}].scope.{dim}': "
                        f"unknown {_singular(dim)} {missing[0]!r} (not in the warehouse's {MEMBERS[dim][0]})"
                    )


def check_scenarios(ws: WorkspaceFolder) -> ScenarioFile:
    """model/scenarios.yaml validated, its scopes' members and its bases checked against the warehouse."""
    from .tables import reading_tables

    found = load_scenarios(ws.model_dir)
    with reading_tables(ws) as t:
        check_members(t, found)
        vp = t("volume_plan")
        bases = {r["version"] for r in vp.select("version").distinct().to_pyarrow().to_pylist()}
    for i, scenario in enumerate(found.scenarios, start=1):
        if scenario.base not in bases:
            raise UserError(
                f"{label(FILE)}: scenarios[{i}] ({scenario.name}): field 'base': {scenario.base!r} has no "
                "volume_plan rows; `opsfin plan list` shows the versions"
            )
    return found


def _singular(dim: str) -> str:
    return {"families": "family", "currencies": "foreign currency"}.get(dim, dim[:-1].replace("_", " "))


@contextmanager
def base_case(ws: WorkspaceFolder, base: str, progress: Progress | None = None) -> Iterator[BaseCase]:
    """The base version's inputs (a `with` block: the warehouse stays open while the scenarios run): its
    volume_plan months, its volumes, model/planning.yaml, its own budget lines for opex, the month-end cash
    before the plan, and the overtime guardrail."""
    from .tables import reading_tables

    config = load_planning_config(ws.model_dir)
    with reading_tables(ws) as t:
        months = plan_months(t, base, None, None)
        if progress:
            progress(f"base {base}: {months[0]:%Y-%m}..{months[-1]:%Y-%m}")
        volumes = volumes_for(t, base, months, ws.settings.base_currency, config.site_mix_months)
        yield prepare_base(
            PlanInputs(t, volumes, months, config, (base,)),
            opening_cash=opening_cash(t, months[0]),
            overtime_share=overtime_share(ws),
            name=base,
            progress=progress,
        )


def opening_cash(t: Any, start: dt.date) -> Decimal:
    """The GL's balance of the `cash` accounts before `start`."""
    g, a = t("gl_entries"), t("accounts")
    j = g.filter(g.posting_date.cast("date") < start).join(
        a.filter(a.role == "cash").select("account_id"), "account_id"
    )
    return to_decimal(j.amount.cast("decimal(38, 2)").sum().to_pyarrow().as_py())


def overtime_share(ws: WorkspaceFolder) -> float:
    """The lowest `max` of the overtime-share guardrails (model/guardrails.yaml, else the shipped one)."""
    from ..alerts.guardrails import parse_guardrails
    from ..model_defaults import default_text
    from .model import load_guardrails

    rails = load_guardrails(ws.model_dir) or parse_guardrails(default_text("guardrails.yaml"), "default guardrails")
    limits = [g.max for g in rails if g.kpi == OVERTIME_KPI and g.max is not None]
    return float(min(limits)) if limits else 0.0


def run_named(ws: WorkspaceFolder, name: str, actor: str, progress: Progress | None = None) -> ScenarioResult:
    """Run scenario `name` against its base and store it as `<base>+<name>` (module docstring)."""
    from .plan_versions import ensure_writable
    from .tables import reading_tables

    started = time.perf_counter()
    scenario = find_scenario(ws, name)
    version = scenario_version(scenario)
    with reading_tables(ws) as t:
        check_members(t, ScenarioFile(scenarios=[scenario]))
    ensure_writable(ws, version, "scenario", actor, based_on=scenario.base)
    with base_case(ws, scenario.base, progress) as base:
        if progress:
            progress(f"scenario {name}: {len(scenario.shocks)} shock(s) through the plan engine")
        run = run_scenario(base, scenario.shocks)
        report = compare(run_scenario(base, []), run, scenario.name, scenario.base)
        months = list(base.months)
    rows = _store(ws, version, run, months, scenario, actor, progress)
    return ScenarioResult(scenario, version, report, run, rows, time.perf_counter() - started)


def _store(
    ws: WorkspaceFolder,
    version: str,
    run: ScenarioRun,
    months: list[dt.date],
    scenario: Scenario,
    actor: str,
    progress: Progress | None,
) -> dict[str, int]:
    from .audit_trail import record_write
    from .planning import store_plan_rows

    if progress:
        progress(f"writing {version}")
    rows = {"plan_pnl": run.plan.pnl, "plan_capacity": run.plan.capacity, "plan_balances": run.plan.balances}
    load_id = f"PLAN-{version}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    with ws.connect(read_only=False) as con:
        replaced = store_plan_rows(con, version, rows, load_id, f"opsfin scenario run {scenario.name}")
    counts = {n: f.height for n, f in rows.items()}
    payload = {
        "scenario": scenario.name,
        "base": scenario.base,
        "shocks": len(scenario.shocks),
        "from": f"{months[0]:%Y-%m}",
        "to": f"{months[-1]:%Y-%m}",
        "rows": counts,
        "lost_sales": run.lost_sales.height,
        "replaced": replaced,
    }
    record_write(ws, actor, AUDIT_ACTION, "plan_version", version, payload)
    return counts
