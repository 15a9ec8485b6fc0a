"""Editing `model/guardrails.yaml` from the web: controllers change a band or add a guardrail.

The file stays the single source of the guardrails (the alert engine and the CLI read it); the app database
records each change in the audit log (`record_guardrail_change`). A change is validated by the same parser
the alert engine uses before the file is replaced (atomically), so a bad band never lands. The comment block
at the top of the file is kept; each entry's `note` is data and survives, comments between entries do not.

Site scope: a guardrail whose `where: site` names only the editor's sites is theirs; one without a site
filter applies to the whole company and only unscoped controllers change it."""

from __future__ import annotations

import threading
from typing import Any

import yaml

from ..alerts.guardrails import FILE, parse_guardrails
from ..yamlfile import parse_yaml
from . import scenario_file
from .authz import authorize
from .problems import Problem

EDITABLE = ("min", "max", "severity", "owner", "note")
LABEL = f"model/{FILE}"  # how messages name the file: the server's own paths stay out of responses
_lock = threading.Lock()


def _read(ws) -> tuple[str, list[dict[str, Any]]]:
    text = scenario_file.read_text(ws, FILE)
    data = parse_yaml(text, LABEL) or {}
    entries = (data.get("guardrails") or []) if isinstance(data, dict) else []
    return scenario_file.file_header(text), [dict(e) for e in entries if isinstance(e, dict)]


def entry_sites(entry: dict[str, Any]) -> list[str] | None:
    """The sites a guardrail is limited to by `where: site`, or None (company-wide)."""
    where = entry.get("where") or {}
    site = where.get("site") if isinstance(where, dict) else None
    if site is None:
        return None
    return [str(s) for s in site] if isinstance(site, list) else [str(site)]


def list_guardrails(ws, grant, kpi: str | None = None, catalog=None) -> list[dict[str, Any]]:
    """Guardrail entries as written in the file, with their position (`index`) for editing.

    A site-scoped user sees those limited to their sites, and — read only — those without a site filter
    on a KPI that carries a site (the band applies at their sites too: the overview tile shows it); a
    guardrail on a company-level KPI (DSO…) is hidden from them like the KPI itself."""
    _, entries = _read(ws)
    out = []
    for i, e in enumerate(entries):
        if kpi and e.get("kpi") != kpi:
            continue
        sites = entry_sites(e)
        definition = (catalog or {}).get(e.get("kpi"))
        everywhere = sites is None and definition is not None and "site" in definition.dims
        if grant.sees(sites) or everywhere:
            out.append({"index": i, **e, "sites": sites})
    return out


def _write(ws, header: str, entries: list[dict[str, Any]], catalog) -> None:
    body = yaml.safe_dump({"guardrails": entries}, sort_keys=False, allow_unicode=True, width=110)
    text = header + body
    parse_guardrails(text, LABEL, catalog)  # a UserError (→ 400) names the entry and what is wrong
    scenario_file.write_atomically(ws.model_dir / FILE, text)


def change_guardrail(ws, db, user, catalog, index: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change min, max, severity, owner or note of guardrail #index (0-based, file order)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Problem(400, f"cannot change {', '.join(unknown)} of a guardrail; change {', '.join(EDITABLE)}")
    with _lock:
        header, entries = _read(ws)
        if not 0 <= index < len(entries):
            raise Problem(404, f"no guardrail #{index}; model/guardrails.yaml holds {len(entries)}")
        before = dict(entries[index])
        authorize(user, "edit_guardrails", site=entry_sites(before))
        after = dict(before)
        for key, value in changes.items():
            if value is None or value == "":
                after.pop(key, None)
            else:
                after[key] = value
        entries[index] = after
        _write(ws, header, entries, catalog)
    db.record_guardrail_change(user.name, str(after.get("kpi")), before, after)
    return {"index": index, **after, "sites": entry_sites(after)}


def add_guardrail(ws, db, user, catalog, entry: dict[str, Any]) -> dict[str, Any]:
    """Append a guardrail (kpi, by, where, grain, min, max, severity, owner, note)."""
    entry = {k: v for k, v in entry.items() if v not in (None, "", [], {})}
    authorize(user, "edit_guardrails", site=entry_sites(entry))
    with _lock:
        header, entries = _read(ws)
        entries.append(entry)
        _write(ws, header, entries, catalog)
        index = len(entries) - 1
    db.record_guardrail_change(user.name, str(entry.get("kpi")), None, entry)
    return {"index": index, **entry, "sites": entry_sites(entry)}
