"""What the Investments page shows and how its form edits `model/investments.yaml` (docs/web.md
"Investments").

Every figure comes from the runs layer (`opsfin.runs.invest`: the cases evaluated, the portfolio;
`opsfin.runs.invest_review`: the review), cached per warehouse load and model files like the other pages.
The form adds or replaces one case: the whole new file is validated by the investments parser
(`opsfin.invest.config`, the CLI's messages) before the atomic write (the scenario editor's text edit and
write, web/scenario_file.py), and the edit is audited (`investment.add` / `investment.change`)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from typing import Any

import yaml

from ..invest.config import FILE, Case, parse_investments
from ..model_schema import parse_yaml
from . import scenario_file
from .problems import Problem

LABEL = f"model/{FILE}"
KEY = "investments"
BLANK_FLOWS = 3
#: the fields the form edits; a case's other fields (capex, life, tax, effects, review…) are kept as written
FORM_FIELDS = ("name", "owner", "description", "requires", "excludes", "cash_flows")
_lock = threading.Lock()


# ---------------------------------------------------------------- figures (runs layer, cached)
def evaluated(results: Any, rate: str | None) -> list[Any]:
    """`opsfin invest evaluate`'s cases at `rate` (the file's rate without it), ranked by NPV."""
    from ..runs.invest import evaluate

    cases = results.cache.get(("invest_evaluate", rate), lambda: evaluate(results.ws, (), rate))
    return sorted(cases, key=lambda e: (-e.worth.npv, e.case.name))


def portfolio(results: Any, budget: str, rate: str | None) -> dict[str, Any]:
    """`opsfin invest portfolio --budget …`'s JSON (runs.invest.portfolio_json)."""
    from ..runs.invest import portfolio as choose
    from ..runs.invest import portfolio_json

    def compute() -> dict[str, Any]:
        return portfolio_json(*choose(results.ws, budget, rate))

    return results.cache.get(("invest_portfolio", budget, rate), compute)


def review(results: Any, name: str, rate: str | None) -> dict[str, Any]:
    """`opsfin invest review NAME`'s JSON."""
    from ..runs.invest_review import review_named

    return results.cache.get(("invest_review", name, rate), lambda: review_named(results.ws, name, rate).as_json())


def flow_chart(name: str, flows: list[tuple[dt.date, Decimal]]) -> dict[str, Any]:
    """A case's flows as bars by date with their running total as a line (exact Decimal sums)."""
    running, total = [], Decimal(0)
    for _, amount in flows:
        total += amount
        running.append(total)
    days = [d.isoformat() for d, _ in flows]
    amounts = [float(a) for _, a in flows]
    bars = {
        "type": "bar",
        "name": "cash flow",
        "x": days,
        "y": amounts,
        "marker": {"color": ["#2e7d32" if a >= 0 else "#c62828" for a in amounts]},
    }
    line = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "cumulative",
        "x": days,
        "y": [float(v) for v in running],
    }
    layout = {
        "title": {"text": f"{name}: cash flows and their running total"},
        "height": 320,
        "margin": {"l": 80, "r": 20, "t": 40, "b": 50},
        "xaxis": {"type": "date", "title": {"text": "date"}},
        "yaxis": {"title": {"text": "base currency"}, "tickformat": ",.0f"},
        "legend": {"orientation": "h"},
    }
    return {"data": [bars, line], "layout": layout}


# ---------------------------------------------------------------- the form
def form_of(entry: dict[str, Any] | None) -> dict[str, Any]:
    """The form's values for a case as written in the file (None: a new case)."""
    entry = entry or {}
    flows = [
        {"date": str(f.get("date", "")), "amount": str(f.get("amount", ""))}
        for f in entry.get("cash_flows") or []
        if isinstance(f, dict)
    ]
    return {
        "original": str(entry.get("name", "")),
        "name": str(entry.get("name", "")),
        "owner": str(entry.get("owner") or ""),
        "description": str(entry.get("description") or ""),
        "requires": ", ".join(map(str, entry.get("requires") or [])),
        "excludes": ", ".join(map(str, entry.get("excludes") or [])),
        "flows": flows + [{"date": "", "amount": ""} for _ in range(BLANK_FLOWS)],
    }


def _as_yaml(text: str) -> Any:
    """A form cell read as YAML reads it (`2750` a number, `2026-03-01` a date); text it cannot read stays
    text, so the parser names it."""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):
        return text
    return text if value is None or isinstance(value, list | dict) else value


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def entry_from_form(posted: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """The case the form describes: the form's fields over the case's other fields as written."""
    kept = {k: v for k, v in (before or {}).items() if k not in FORM_FIELDS}
    entry: dict[str, Any] = {"name": posted["name"].strip()}
    for key in ("owner", "description"):
        if posted[key].strip():
            entry[key] = posted[key].strip()
    flows = [
        {"date": _as_yaml(f["date"].strip()), "amount": _as_yaml(f["amount"].strip())}
        for f in posted["flows"]
        if f["date"].strip() or f["amount"].strip()
    ]
    if flows:
        entry["cash_flows"] = flows
    entry |= kept
    for key in ("requires", "excludes"):
        if _names(posted[key]):
            entry[key] = _names(posted[key])
    return entry


def _flow_item(item: Any) -> str:
    if isinstance(item, dict) and set(item) == {"date", "amount"}:
        day, amount = item["date"], item["amount"]
        day_text = day.isoformat() if isinstance(day, dt.date) else scenario_file._scalar(day)
        amount_text = format(amount, "f") if isinstance(amount, Decimal) else str(amount)
        return f"{{date: {day_text}, amount: {amount_text}}}"
    return yaml.safe_dump(item, default_flow_style=True, sort_keys=False, allow_unicode=True).strip()


def case_text(entry: dict[str, Any], indent: int = 2) -> str:
    """A case as a block sequence item at `indent`, its cash flows and capex one flow mapping a line."""
    pad, inner = " " * indent, " " * (indent + 2)
    lines = [f"{pad}- name: {scenario_file._scalar(entry['name'])}"]
    for key, value in entry.items():
        if key == "name":
            continue
        if key in ("cash_flows", "capex") and isinstance(value, list) and value:
            lines.append(f"{inner}{key}:")
            lines += [f"{inner}  - {_flow_item(item)}" for item in value]
            continue
        if isinstance(value, list) and all(isinstance(v, str) for v in value):  # requires, excludes
            lines.append(f"{inner}{key}: [{', '.join(scenario_file._scalar(v) for v in value)}]")
            continue
        body = yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=1000)
        lines += [inner + line for line in body.splitlines()]
    return "\n".join(lines) + "\n"


def _parsed(data: Any) -> Any:
    return parse_investments(data, LABEL)


def _reparsed(text: str) -> dict[str, Any] | None:
    try:
        return _parsed(parse_yaml(text, LABEL) or {}).model_dump()
    except Exception:  # noqa: BLE001 - any failure means: do not trust the edit
        return None


def save_case(ws: Any, db: Any, user: Any, original: str | None, posted: dict[str, Any]) -> Any:
    """Add a case (`original` None) or replace the one named `original`; the whole new file is parsed first
    (a UserError names the case and field), then written atomically and audited. Returns the parsed case."""
    path = ws.model_dir / FILE
    with _lock:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        data = parse_yaml(text, LABEL) or {}
        entries = scenario_file.raw_entries(text, KEY, LABEL)
        names = [str(e.get("name")) for e in entries]
        if original and original not in names:
            raise Problem(404, f"no investment case named {original!r} in {LABEL}")
        index = names.index(original) if original else None
        before = entries[index] if index is not None else None
        entry = entry_from_form(posted, before)
        wanted = [*entries, entry] if index is None else [*entries[:index], entry, *entries[index + 1 :]]
        parsed = _parsed({**(data if isinstance(data, dict) else {}), KEY: wanted})
        case = parsed.investments[index if index is not None else len(entries)]
        entry = _written(entry, case)
        new_text = scenario_file.edited_text(text, entries, index, entry, KEY, case_text)
        if _reparsed(new_text) != parsed.model_dump():
            raise Problem(409, f"{LABEL} cannot be rewritten without changing another entry; edit the file itself")
        scenario_file.write_atomically(path, new_text)
    old = _dump(before)
    after = case.model_dump(mode="json", exclude_none=True)
    action = "investment.add" if before is None else "investment.change"
    db.record_event(user.name, action, "investment", case.name, {"before": old, "after": after})
    return case


def _dump(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A case as written, for the audit entry (as parsed when it parses alone)."""
    if entry is None:
        return None
    try:
        return Case.model_validate(entry).model_dump(mode="json", exclude_none=True)
    except ValueError:
        return json.loads(json.dumps(entry, default=str))


def _written(entry: dict[str, Any], case: Any) -> dict[str, Any]:
    """The entry as it is written: the cash flows as the parser read them (dates, exact amounts)."""
    if "cash_flows" not in entry:
        return entry
    return entry | {"cash_flows": [{"date": f.date, "amount": f.amount} for f in case.cash_flows]}
