"""No function in src/opsfin is over 80 lines unless the reason is written beside it (docs/testing.md).

A function's length is its `def` line to its last line (`end_lineno − lineno + 1`, as `ast` reads them;
decorators not counted). A longer one passes only when its `def` line, or the line just above it, carries
a comment `# long: <reason>` — e.g. a migration, which is history and never rewritten."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "opsfin"
MAX_LINES = 80
REASON = re.compile(r"#.*\blong:\s*\S")  # "long:" followed by some reason, in a comment


def long_functions(source: str, max_lines: int = MAX_LINES) -> list[tuple[str, int, int]]:
    """(name, def line, length) of each function of `source` over `max_lines` with no `long:` reason."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = node.end_lineno - node.lineno + 1
        if length <= max_lines:
            continue
        beside = [lines[node.lineno - 1]] + ([lines[node.lineno - 2]] if node.lineno >= 2 else [])
        if not any(REASON.search(line) for line in beside):
            found.append((node.name, node.lineno, length))
    return found


def _function(lines: int, comment_above: str = "", comment_on_def: str = "") -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 1))
    return f"{comment_above}\ndef f():{comment_on_def}\n{body}"


def test_the_checker_flags_a_long_function_and_accepts_a_stated_reason():
    # 81 lines (the def and 80 body lines) is over; exactly 80 is not
    assert long_functions(_function(81)) == [("f", 2, 81)]
    assert long_functions(_function(80)) == []
    assert long_functions(_function(81, comment_above="# long: kept whole for speed")) == []
    assert long_functions(_function(81, comment_on_def="  # long: history, never rewritten")) == []
    # the word alone, or a comment two lines up, is no reason
    assert long_functions(_function(81, comment_on_def="  # long:")) == [("f", 2, 81)]
    assert long_functions(_function(81, comment_above="# long: far away\n")) == [("f", 3, 81)]
    # methods and async functions count too
    method = "class C:\n" + "".join("    " + ln + "\n" for ln in _function(81).splitlines())
    assert long_functions(method) == [("f", 3, 81)]
    assert long_functions(_function(81).replace("def f", "async def f")) == [("f", 2, 81)]


def test_no_function_in_src_is_over_80_lines_without_a_reason():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for name, line, length in long_functions(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(SRC.parent)}:{line} {name} is {length} lines")
    assert not offenders, "split these functions, or write `# long: <reason>` beside their def:\n" + "\n".join(
        offenders
    )
