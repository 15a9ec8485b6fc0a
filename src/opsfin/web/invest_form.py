"""How the Investments page's form edits `model/investments.yaml` (docs/web.md "Investments",
docs/investments.md "The Investments page").

The form covers every field of a case but its `review:` block (kept as written): name, owner, description,
capital spend by month, useful life, salvage, depreciation method, tax rate, dated cash flows, driver-change
effects (the scenario engine's shocks, in the Scenarios form's rows) with the plan version they change,
requires and excludes. A field the request does not send is kept as written. A save adds or replaces one
case, a removal drops one: the whole new file is validated by the investments parser
(`opsfin.invest.config`, the messages of `opsfin invest check`) before the atomic write that keeps the other
cases and the comments (the scenario editor's text edit, web/scenario_file.py), and the change is audited
(`investment.add` / `investment.change` / `investment.remove`, with before and after)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import yaml

from ..invest.config import FILE, Case, parse_investments
from ..model_schema import parse_yaml, validate
from . import scenario_file
from . import scenario_page as sp
from .problems import Problem

LABEL = f"model/{FILE}"
KEY = "investments"
BLANK_ROWS = 3  # empty capex and cash-flow rows offered below a case's own
DEPRECIATION = ("straight_line", "declining_balance", "none")  # invest.config.Case.depreciation
#: the form's one-value fields
SCALARS = ("owner", "description", "life_years", "salvage", "depreciation", "tax_rate", "base")
#: the entry fields the form edits, in the order a case is written (docs/investments.md "Cases"); the
#: others (`review`) are kept as written after them
FORM_FIELDS: tuple[str, ...] = ("name", "owner", "description", "capex", "life_years", "salvage", "depreciation")
FORM_FIELDS += ("tax_rate", "cash_flows", "effects", "base", "requires", "excludes")
ROW_FIELDS = ("capex", "cash_flows", "effects")  # written one flow mapping a line
_lock = threading.Lock()


# ---------------------------------------------------------------- the form's values
def _blank(*fields: str) -> dict[str, str]:
    return dict.fromkeys(fields, "")


def form_of(case: Case | None) -> dict[str, Any]:
    """The form's values for a case as parsed (None: a new case); defaults show as empty cells."""
    capex = [{"month": f"{c.month:%Y-%m}", "amount": format(c.amount, "f")} for c in case.capex] if case else []
    flows = [{"date": f.date.isoformat(), "amount": format(f.amount, "f")} for f in case.cash_flows] if case else []
    form: dict[str, Any] = {"original": case.name if case else "", "name": case.name if case else ""}
    for key in SCALARS:
        value = getattr(case, key, None) if case else None
        form[key] = "" if value is None else format(value, "f") if isinstance(value, Decimal) else str(value)
    if case is not None:
        form["salvage"] = "" if not case.salvage else form["salvage"]
        form["tax_rate"] = "" if not case.tax_rate else form["tax_rate"]
    form["depreciation"] = form["depreciation"] or "straight_line"
    form |= {"requires": ", ".join(case.requires) if case else "", "excludes": ", ".join(case.excludes) if case else ""}
    form["capex"] = capex + [_blank("month", "amount") for _ in range(BLANK_ROWS)]
    form["flows"] = flows + [_blank("date", "amount") for _ in range(BLANK_ROWS)]
    form["effects"] = sp.shock_rows(case.effects if case else [])
    return form


def shown(posted: dict[str, Any]) -> dict[str, Any]:
    """The posted form as it comes back after a refusal, with blank rows to add more."""
    out = {k: ("" if v is None else v) for k, v in posted.items()}
    out["depreciation"] = out["depreciation"] or "straight_line"
    out["capex"] = list(posted["capex"] or []) + [_blank("month", "amount") for _ in range(BLANK_ROWS)]
    out["flows"] = list(posted["flows"] or []) + [_blank("date", "amount") for _ in range(BLANK_ROWS)]
    out["effects"] = list(posted["effects"] or []) + [sp.blank_row() for _ in range(sp.BLANK_ROWS)]
    return out


def case_alone(entry: dict[str, Any], index: int) -> Case:
    """A case as written, parsed on its own (a UserError names the case and field) to fill the form."""
    return validate(Case, entry, f"{LABEL}: {KEY}[{index + 1}] ({entry.get('name')})")


# ---------------------------------------------------------------- the entry the form describes
def _as_yaml(text: str) -> Any:
    """A form cell read as YAML reads it (`5` a number, `2026-03-01` a date); text it cannot read stays
    text, so the parser names it."""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):
        return text
    return text if value is None or isinstance(value, list | dict) else value


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _rows(rows: list[dict[str, str]], first: str, read: Callable[[str], Any]) -> list[dict[str, Any]]:
    """Filled (`first`, amount) rows as entry items: `first` read by `read`, the amount exactly."""
    filled = [r for r in rows if r[first].strip() or r["amount"].strip()]
    return [{first: read(r[first].strip()), "amount": sp._size(r["amount"])} for r in filled]


def _scalar_cell(key: str, text: str) -> Any:
    """A one-value field as the parser takes it: an amount exactly, a life or a rate as YAML reads it (`5`,
    `0.25`; `25%` stays text, which the parser reads as 0.25), names and words as text."""
    if key == "salvage":
        return sp._size(text)
    return _as_yaml(text) if key in {"life_years", "tax_rate"} else text


def entry_from_form(posted: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """The case the form describes: each field sent over the case as written (a field not sent is kept)."""
    before = before or {}
    fields: dict[str, Any] = {"name": posted["name"].strip()}
    for key in SCALARS:
        text = posted[key].strip() if posted[key] is not None else None
        if text and not (key == "depreciation" and text == "straight_line"):  # the default goes unwritten
            fields[key] = _scalar_cell(key, text)
        elif text is None and key in before:
            fields[key] = before[key]
    given: tuple[tuple[str, str, str, Callable[[str], Any]], ...] = (
        ("capex", "capex", "month", str),
        ("flows", "cash_flows", "date", _as_yaml),
    )
    for key, entry_key, first, read in given:
        rows = _rows(posted[key], first, read) if posted[key] is not None else before.get(entry_key)
        if rows:
            fields[entry_key] = rows
    if posted["effects"] is not None:
        shocks = sp.entry_from_form("", "", "", posted["effects"])["shocks"]
        if shocks:
            fields["effects"] = shocks
    elif before.get("effects"):
        fields["effects"] = before["effects"]
    for key in ("requires", "excludes"):
        names = _names(posted[key]) if posted[key] is not None else before.get(key)
        if names:
            fields[key] = names
    entry = {k: fields[k] for k in FORM_FIELDS if k in fields}
    return entry | {k: v for k, v in before.items() if k not in FORM_FIELDS}


# ---------------------------------------------------------------- a case as YAML text
def _item_text(key: str, item: Any) -> str:
    """One capex, cash-flow or effect item as a flow mapping on one line."""
    if key == "effects" and isinstance(item, dict) and {"kind", "start", "size"} <= set(item):
        return scenario_file.shock_text(item)
    first = {"capex": "month", "cash_flows": "date"}.get(key)
    if isinstance(item, dict) and first and set(item) == {first, "amount"}:
        when, amount = item[first], item["amount"]
        if isinstance(when, dt.date):
            when_text = when.isoformat() if first == "date" else f"{when:%Y-%m}"
        else:
            when_text = scenario_file._scalar(when)
        amount_text = format(amount, "f") if isinstance(amount, Decimal) else str(amount)
        return f"{{{first}: {when_text}, amount: {amount_text}}}"
    return yaml.safe_dump(item, default_flow_style=True, sort_keys=False, allow_unicode=True).strip()


def case_text(entry: dict[str, Any], indent: int = 2) -> str:
    """A case as a block sequence item at `indent`, its capex, cash flows and effects one flow mapping a
    line."""
    pad, inner = " " * indent, " " * (indent + 2)
    lines = [f"{pad}- name: {scenario_file._scalar(entry['name'])}"]
    for key, value in entry.items():
        if key == "name":
            continue
        if key in ROW_FIELDS and isinstance(value, list) and value:
            lines.append(f"{inner}{key}:")
            lines += [f"{inner}  - {_item_text(key, item)}" for item in value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):  # requires, excludes
            lines.append(f"{inner}{key}: [{', '.join(scenario_file._scalar(v) for v in value)}]")
        elif isinstance(value, Decimal):
            lines.append(f"{inner}{key}: {format(value, 'f')}")
        else:
            body = yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=1000)
            lines += [inner + line for line in body.splitlines()]
    return "\n".join(lines) + "\n"


def _written(entry: dict[str, Any], case: Case) -> dict[str, Any]:
    """The entry as it is written: dates, months and amounts as the parser read them."""
    out = dict(entry)
    if "cash_flows" in entry:
        out["cash_flows"] = [{"date": f.date, "amount": f.amount} for f in case.cash_flows]
    if "capex" in entry:
        out["capex"] = [{"month": c.month, "amount": c.amount} for c in case.capex]
    if "salvage" in entry:
        out["salvage"] = case.salvage
    if "tax_rate" in entry:
        out["tax_rate"] = case.tax_rate
    return out


# ---------------------------------------------------------------- the edit
def save_case(
    ws: Any, db: Any, user: Any, original: str | None, posted: dict[str, Any] | None, check: Callable[..., None]
) -> tuple[str, Case | None]:
    """Add a case (`original` None), replace the one named `original`, or remove it (`posted` None). The
    whole new file is parsed first (a UserError names the case and field), `check(case, number)` runs the
    workspace's checks on the case saved, then the file is written atomically and the change audited.
    Returns the audit action and the case as parsed (None when removed)."""
    with _lock:
        text = scenario_file.read_text(ws, FILE)
        data = parse_yaml(text, LABEL) or {}
        entries = scenario_file.raw_entries(text, KEY, LABEL)
        names = [str(e.get("name")) for e in entries]
        if original and original not in names:
            raise Problem(404, f"no investment case named {original!r} in {LABEL}")
        index = names.index(original) if original else None
        before = entries[index] if index is not None else None
        entry = entry_from_form(posted, before) if posted is not None else None
        wanted = scenario_file._replaced(entries, index, entry)
        parsed = parse_investments({**(data if isinstance(data, dict) else {}), KEY: wanted}, LABEL)
        case = None
        if entry is not None:
            number = index if index is not None else len(entries)
            case = parsed.investments[number]
            check(case, number + 1)
            entry = _written(entry, case)
        new_text = scenario_file.edited_text(text, entries, index, entry, KEY, case_text)
        if scenario_file.reparsed(new_text, parse_investments, LABEL) != parsed.model_dump():
            raise Problem(409, f"{LABEL} cannot be rewritten without changing another entry; edit the file itself")
        scenario_file.write_atomically(ws.model_dir / FILE, new_text)
    action = "investment.add" if before is None else "investment.remove" if case is None else "investment.change"
    after = case.model_dump(mode="json", exclude_none=True) if case is not None else None
    name = case.name if case is not None else str(original)
    db.record_event(
        user.name, action, "investment", name, {"before": scenario_file.audit_dump(before, Case), "after": after}
    )
    return action, case
