"""Editing `model/scenarios.yaml` from the Scenarios page (docs/web.md "Scenarios"): add a scenario or
replace one, keeping the others as written.

The whole new file is validated by the scenario engine's own parser (opsfin.scenarios.config) before it is
written, so a bad entry never lands and the message is the CLI's (`scenarios[2] (name): field …`). The
entry is replaced in the text where it stands (the other scenarios and the comments around them stay as
they are); a file the text edit cannot follow (a flow-style list) is written again whole, its leading
comment block kept. The write is atomic (a temporary file, then a rename) and audited
(`scenario.add` / `scenario.change` with before and after)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from ..model_schema import parse_yaml
from ..scenarios.config import FILE, Scenario, parse_scenarios
from .problems import Problem

LABEL = f"model/{FILE}"  # how messages name the file: the server's own paths stay out of responses
PLAIN = re.compile(r"[A-Za-z0-9_.+-]+")
_lock = threading.Lock()


def read_text(ws: Any, file: str = FILE) -> str:
    """The text of model/<file> ("" when there is none)."""
    path = ws.model_dir / file
    return path.read_text(encoding="utf-8") if path.exists() else ""


def raw_entries(text: str, key: str = "scenarios", label: str = LABEL) -> list[dict[str, Any]]:
    """The entries of the file's `key` list as written (plain data, before validation)."""
    data = parse_yaml(text, label) or {}
    entries = data.get(key) if isinstance(data, dict) else None
    return [dict(e) for e in entries or [] if isinstance(e, dict)]


# ---------------------------------------------------------------- writing one entry as YAML
def _scalar(value: Any) -> str:
    """A YAML scalar for `value`: plain when it reads back as the same text, else double-quoted (JSON)."""
    if isinstance(value, dt.date):  # a month YAML read as a date: written back as YYYY-MM
        return f"{value:%Y-%m}"
    text = str(value)
    if PLAIN.fullmatch(text) and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _number(value: Any) -> str:
    return format(value, "f") if hasattr(value, "as_tuple") else str(value)


def shock_text(shock: dict[str, Any]) -> str:
    """One shock as a flow mapping: `{kind: capacity, scope: {work_centers: [P1-ASSY]}, start: 2024-02, …}`."""
    scope = ", ".join(
        f"{dim}: [{', '.join(_scalar(m) for m in members)}]"
        for dim, members in (shock.get("scope") or {}).items()
        if members
    )
    parts = [f"kind: {_scalar(shock['kind'])}", f"scope: {{{scope}}}", f"start: {_scalar(shock['start'])}"]
    if shock.get("end"):
        parts.append(f"end: {_scalar(shock['end'])}")
    size = shock["size"]
    parts.append(f"size: {_number(size) if not isinstance(size, str) else _scalar(size)}")
    return "{" + ", ".join(parts) + "}"


def entry_text(entry: dict[str, Any], indent: int = 2) -> str:
    """A scenario as a block sequence item at `indent` (`  - name: …`), its shocks one flow mapping a line,
    its `distributions` (kept from the file) as block YAML."""
    pad, inner = " " * indent, " " * (indent + 2)
    lines = [f"{pad}- name: {_scalar(entry['name'])}", f"{inner}base: {_scalar(entry['base'])}"]
    if entry.get("description"):
        lines.append(f"{inner}description: {json.dumps(entry['description'], ensure_ascii=False)}")
    if entry.get("shocks"):
        lines.append(f"{inner}shocks:")
        lines += [f"{inner}  - {shock_text(s)}" for s in entry["shocks"]]
    if entry.get("distributions"):
        body = yaml.safe_dump({"distributions": entry["distributions"]}, sort_keys=False, allow_unicode=True)
        lines += [inner + line for line in body.splitlines()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- where an entry stands in the text
def _last_line(node: yaml.Node) -> int:
    """The 0-based line where `node`'s text ends (a block collection: where its last value ends)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _last_line(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _last_line(node.value[-1])
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def entry_spans(text: str, key: str = "scenarios") -> list[tuple[int, int, int]] | None:
    """(first line, last line, indent of `- `) of each entry of a block-style `key:` list (`scenarios:`);
    None when the file has none to edit in place (no list, an empty or flow-style one)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    seq = next((v for k, v in root.value if getattr(k, "value", None) == key), None)
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        return None
    spans = []
    for item in seq.value:
        if not isinstance(item, yaml.MappingNode) or item.flow_style or item.start_mark.column < 2:
            return None
        spans.append((item.start_mark.line, _last_line(item), item.start_mark.column - 2))
    return spans


def file_header(text: str) -> str:
    """The file's leading block of comments and blank lines, kept when the file is written again."""
    lines = text.splitlines(keepends=True)
    n = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), len(lines))
    return "".join(lines[:n])


def edited_text(
    text: str,
    entries: list[dict[str, Any]],
    index: int | None,
    entry: dict[str, Any] | None,
    key: str = "scenarios",
    render: Callable[[dict[str, Any], int], str] = entry_text,
) -> str:
    """The file's text with entry #`index` of the `key` list replaced by `entry` (`index` None: `entry`
    appended; `entry` None: entry #`index` removed, the list left `[]` when it was the last), written by
    `render(entry, indent)`."""
    spans = entry_spans(text, key)
    if spans is not None and len(spans) == len(entries):
        lines = text.splitlines(keepends=True)
        if index is None:
            first, last, indent = spans[-1]
            first = last + 1
        else:
            first, last, indent = spans[index]
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        if entry is None and len(entries) == 1:
            lines = _emptied(text, lines, key)
        body = render(entry, indent) if entry is not None else ""
        return "".join(lines[:first]) + body + "".join(lines[last + 1 :])
    return whole_text(text, _replaced(entries, index, entry), key, render)


def _emptied(text: str, lines: list[str], key: str) -> list[str]:
    """The lines with `key:` written `key: []` (its last entry is going)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    line = next(k.start_mark.line for k, _ in root.value if getattr(k, "value", None) == key)
    lines = list(lines)
    lines[line] = re.sub(rf"^(\s*{re.escape(key)}\s*:)", r"\1 []", lines[line], count=1)
    return lines


def _replaced(entries: list[dict[str, Any]], index: int | None, entry: dict[str, Any] | None) -> list[dict[str, Any]]:
    if index is None:
        return [*entries, entry] if entry is not None else list(entries)
    return [*entries[:index], *([entry] if entry is not None else []), *entries[index + 1 :]]


def whole_text(
    text: str,
    entries: list[dict[str, Any]],
    key: str = "scenarios",
    render: Callable[[dict[str, Any], int], str] = entry_text,
) -> str:
    """The `key` list written again whole, after the file's leading comment block (other top-level keys
    are not kept: callers check the re-parsed file)."""
    if not entries:
        return file_header(text) + f"{key}: []\n"
    return file_header(text) + f"{key}:\n" + "".join(render(e, 2) for e in entries)


# ---------------------------------------------------------------- the edit
def save_scenario(ws, db, user, original: str | None, entry: dict[str, Any], check: Any) -> Scenario:
    """Add scenario `entry` (`original` None) or replace the one named `original`. The new file is parsed
    as a whole (a UserError names the entry and field), `check(scenario)` runs the warehouse's checks, and
    the file is written atomically and audited. Returns the scenario as parsed."""
    with _lock:
        text = read_text(ws)
        entries = raw_entries(text)
        names = [str(e.get("name")) for e in entries]
        index = names.index(original) if original else None
        if original and original not in names:
            raise Problem(404, f"no scenario named {original!r} in {LABEL}")
        before = entries[index] if index is not None else None
        if before and before.get("distributions") is not None:
            entry = {**entry, "distributions": before["distributions"]}
        wanted = _replaced(entries, index, entry)
        parsed = parse_scenarios({"scenarios": wanted}, LABEL)
        scenario = parsed.scenarios[index if index is not None else len(entries)]
        check(scenario)
        new_text = edited_text(text, entries, index, entry)
        if reparsed(new_text) != parsed.model_dump():  # the text edit lost its way: write the list again
            new_text = whole_text(text, wanted)
        if reparsed(new_text) != parsed.model_dump():
            raise Problem(409, f"{LABEL} cannot be rewritten without changing another entry; edit the file itself")
        write_atomically(ws.model_dir / FILE, new_text)
    after = scenario.model_dump(mode="json", exclude_none=True)
    old = audit_dump(before)
    db.record_event(
        user.name,
        "scenario.add" if before is None else "scenario.change",
        "scenario",
        scenario.name,
        {"before": old, "after": after},
    )
    return scenario


def write_atomically(path: Path, text: str) -> None:
    """`text` to `path` through a temporary file and a rename: a reader sees the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def reparsed(text: str, parse: Callable[[Any, str], BaseModel] = parse_scenarios, label: str = LABEL) -> Any:
    """The edited file `text` as `parse` reads it (`model_dump()`), to compare with what the edit meant;
    None when it does not parse."""
    try:
        return parse(parse_yaml(text, label) or {}, label).model_dump()
    except Exception:  # noqa: BLE001 - any failure means: do not trust the edit
        return None


def audit_dump(entry: dict[str, Any] | None, model: type[BaseModel] = Scenario) -> dict[str, Any] | None:
    """An entry as written, for the audit entry: as `model` parses it when it parses alone, else as JSON."""
    if entry is None:
        return None
    try:
        return model.model_validate(entry).model_dump(mode="json", exclude_none=True)
    except ValueError:
        return json.loads(json.dumps(entry, default=str))
