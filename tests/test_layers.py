"""The four layers of docs/architecture.md, checked on the code itself.

Every module under src/opsfin belongs to one layer: core → engines → I/O → front ends. A module may
import its own layer and the layers below it, never above; core imports nothing of opsfin outside
core. And no two modules import each other, directly or round a longer loop, nor do two packages
(importing a module runs its package's __init__ first). Imports are read with
`ast`, every one of them: at the top, inside functions, under `if TYPE_CHECKING:`."""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
CORE, ENGINE, IO, FRONT = 1, 2, 3, 4
LAYER_NAMES = {CORE: "core", ENGINE: "engine", IO: "I/O", FRONT: "front end"}

# (pattern, layer): the first pattern that matches a module's name below `opsfin.` decides; a pattern
# names a module or a package (and then everything inside it). A new top-level module or package
# must be placed here (and in docs/architecture.md) before the test passes.
LAYERS: tuple[tuple[str, int], ...] = (
    # core: money, periods, dimensions; the warehouse contract; errors; YAML parsing; shipped defaults
    ("core", CORE),
    ("errors", CORE),
    ("canonical", CORE),
    ("yamlfile", CORE),
    ("model_defaults", CORE),
    ("model_schema", CORE),
    ("values", CORE),  # the one value parser, below both ingest and the readers
    # engines: pure functions of tables and config
    ("kpis", ENGINE),
    ("costing", ENGINE),
    ("alerts", ENGINE),
    ("matching", ENGINE),
    ("integrity", ENGINE),
    ("evaluation", ENGINE),
    ("forecast", ENGINE),
    ("planning", ENGINE),
    ("scenarios", ENGINE),
    ("cash", ENGINE),
    ("predict", ENGINE),
    ("invest", ENGINE),
    ("experiments", ENGINE),
    # front ends: the command line, the web, the pack, and the presentation layer they share
    ("export", FRONT),
    ("cli", FRONT),
    ("web", FRONT),
    ("present", FRONT),
    ("jsonout", FRONT),
    ("__main__", FRONT),
    ("", FRONT),  # "" is opsfin/__init__.py, the Python API's front door
    # I/O: the workspace, warehouse, app database, readers and ingest, runs and postings, Parquet, caches
    ("workspace", IO),
    ("workspace_folder", IO),
    ("warehouse", IO),
    ("settings", IO),
    ("model_files", IO),
    ("appdb", IO),
    ("ingest", IO),
    ("readers", IO),
    ("runs", IO),
    ("demo", IO),
)


def module_files(src: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    out = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def imports_of(name: str, path: Path, is_package: bool, modules: dict) -> list[tuple[str, int]]:
    """The modules of `modules` that `name` imports, with the line of each import statement."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.name`: the longest module it names
                target = target.rpartition(".")[0]
            if target and target != name and (target, node.lineno) not in found:
                found.append((target, node.lineno))
    return found


def import_graph(src: Path, package: str = "opsfin") -> dict[str, list[tuple[str, int]]]:
    modules = module_files(src, package)
    return {name: imports_of(name, path, is_pkg, modules) for name, (path, is_pkg) in modules.items()}


def layer_of(module: str, package: str = "opsfin") -> int | None:
    rel = module[len(package) + 1 :] if module.startswith(package + ".") else ""
    for pattern, layer in LAYERS:
        if pattern == "" and rel == "":
            return layer
        if pattern and (fnmatchcase(rel, pattern) or fnmatchcase(rel, pattern + ".*")):
            return layer
    return None


def layer_violations(graph: dict[str, list[tuple[str, int]]], package: str = "opsfin") -> list[str]:
    """One line per module without a layer and per import that points up (or out of core)."""
    out = []
    for module, imports in sorted(graph.items()):
        mine = layer_of(module, package)
        if mine is None:
            out.append(f"{module}: in no layer; place it in LAYERS (tests/test_layers.py) and docs/architecture.md")
            continue
        for target, line in imports:
            theirs = layer_of(target, package)
            if theirs is not None and theirs > mine:
                out.append(f"{module} ({LAYER_NAMES[mine]}) imports {target} ({LAYER_NAMES[theirs]}), line {line}")
    return out


def cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """One import loop per strongly connected group of modules, as a path `a, b, …, a`."""
    edges = {m: sorted({t for t, _ in imports if t in graph}) for m, imports in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [_loop(group, edges) for group in groups]


def _loop(group: list[str], edges: dict[str, list[str]]) -> list[str]:
    """A shortest loop through the group's first module (breadth first inside the group)."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in edges[v]:
            if w == start:
                return paths[v] + [start]
            if w in members and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return group  # unreachable: a strongly connected group always loops back


# ---------------------------------------------------------------- the checks, on opsfin itself


def test_every_import_points_down_the_layers():
    problems = layer_violations(import_graph(SRC))
    assert problems == [], "imports against docs/architecture.md:\n" + "\n".join(problems)


def test_no_import_cycles():
    loops = cycles(import_graph(SRC))
    assert loops == [], "import cycles:\n" + "\n".join(" -> ".join(loop) for loop in loops)


def package_graph(graph: dict[str, list[tuple[str, int]]], package: str = "opsfin") -> dict[str, list[tuple[str, int]]]:
    """The import graph between the top-level packages and modules of `package` (opsfin.ingest,
    opsfin.readers, …): importing any module inside a package runs the package's __init__ first, so two
    packages that import each other's modules, even by different modules, load in a loop."""

    def top(module: str) -> str:
        return ".".join(module.split(".")[:2]) if module.startswith(package + ".") else module

    out: dict[str, list[tuple[str, int]]] = {}
    for module, imports in graph.items():
        edges = out.setdefault(top(module), [])
        edges += [(top(t), line) for t, line in imports if top(t) != top(module) and (top(t), line) not in edges]
    return out


def test_no_import_cycles_between_packages():
    loops = cycles(package_graph(import_graph(SRC)))
    assert loops == [], "packages importing each other:\n" + "\n".join(" -> ".join(loop) for loop in loops)


def test_the_graph_is_read_whole():
    """Function-level and TYPE_CHECKING imports count; the known edges of the code are found."""
    graph = import_graph(SRC)
    edges = {(m, t) for m, imports in graph.items() for t, _ in imports}
    assert ("opsfin.workspace", "opsfin.runs.matching") in edges  # inside a method
    assert ("opsfin.appdb.db", "opsfin.workspace_folder") in edges  # under TYPE_CHECKING
    assert ("opsfin.runs.matching", "opsfin.matching.runs") in edges  # a module, not the package
    assert layer_of("opsfin.export.pack_html") == FRONT and layer_of("opsfin.runs.parquet") == IO
    assert layer_of("opsfin") == FRONT and layer_of("opsfin.kpis.engine") == ENGINE


def sql_sent_by(path: Path) -> list[int]:
    """Lines where a module sends SQL of its own: a `.sql(…)`, `.execute(…)` or `.connect(…)` call, or a
    string that reads like a query."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("sql", "execute", "connect")
        ):
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(word in node.value for word in ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM"))
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_front_ends_send_no_sql():
    """The CLI, the web and the pack call engines and the I/O layer (runs/), which read the warehouse."""
    found = [
        f"{name}: line {line}"
        for name, (path, _) in sorted(module_files(SRC, "opsfin").items())
        if layer_of(name) == FRONT
        for line in sql_sent_by(path)
    ]
    assert found == [], "SQL in a front end; move it to the I/O layer (src/opsfin/runs/):\n" + "\n".join(found)


def test_the_sql_finder_finds_sql(tmp_path):
    path = tmp_path / "page.py"
    path.write_text(
        'def months(ws):\n    return ws.sql("SELECT DISTINCT m FROM gl")\n\n'
        'def label():\n    return "Select a month"\n',
        encoding="utf-8",
    )
    assert sql_sent_by(path) == [2]


FILE_CALLS = ("read_text", "read_bytes", "write_text", "write_bytes")


def files_touched_by(name: str, path: Path, is_package: bool, modules: dict) -> list[str]:
    """Where a module reads or writes a file itself: an `open(…)`, a `.read_text(…)`, `.read_bytes(…)`,
    `.write_text(…)` or `.write_bytes(…)` call, or an import of opsfin.yamlfile (which reads YAML files)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            found.append((node.lineno, "open(…)"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FILE_CALLS:
            found.append((node.lineno, f".{node.func.attr}(…)"))
    root = name.split(".")[0]
    found += [
        (line, f"imports {target}")
        for target, line in imports_of(name, path, is_package, modules)
        if target == f"{root}.yamlfile"
    ]
    return [f"{name}: line {line}: {what}" for line, what in sorted(found)]


def engine_file_access(src: Path, package: str = "opsfin") -> list[str]:
    modules = module_files(src, package)
    return [
        problem
        for name, (path, is_pkg) in sorted(modules.items())
        if layer_of(name, package) == ENGINE
        for problem in files_touched_by(name, path, is_pkg, modules)
    ]


def test_engines_read_no_files():
    """Engines are functions of tables and config: the I/O layer reads the model files (runs/model.py)."""
    found = engine_file_access(SRC)
    assert found == [], "an engine reads a file; read it in the I/O layer (src/opsfin/runs/model.py):\n" + "\n".join(
        found
    )


# Engines that may import duckdb, with the reason: none sends SQL; the I/O layer opens the warehouse.
DUCKDB_IN_ENGINES = {"opsfin.costing.reads": "costing_tables wraps a caller's DuckDB connection as Tables"}


def engine_duckdb_imports(src: Path, package: str = "opsfin") -> list[str]:
    """Where an engine imports duckdb (at the top or inside a function): engines take the warehouse
    `Tables` (Ibis) or frames, and the I/O layer (runs/) opens the connection."""
    found = []
    for name, (path, _) in sorted(module_files(src, package).items()):
        if layer_of(name, package) != ENGINE or name in DUCKDB_IN_ENGINES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                targets = [node.module or ""]
            else:
                continue
            if any(t == "duckdb" or t.startswith("duckdb.") for t in targets):
                found.append(f"{name}: line {node.lineno}")
    return found


def test_engines_import_no_duckdb():
    found = engine_duckdb_imports(SRC)
    assert found == [], "an engine imports duckdb; take the warehouse Tables (Ibis) instead:\n" + "\n".join(found)


# ---------------------------------------------------------------- the checker, on planted trees


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "opsfin" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CLEAN = {
    "__init__.py": "from .workspace import Workspace\n",
    "errors.py": "",
    "core/__init__.py": "",
    "core/periods.py": "from ..errors import UserError\n",
    "kpis/__init__.py": "from .engine import compute\n",
    "kpis/engine.py": "from ..core.periods import x\n",
    "workspace.py": "def kpi():\n    from .kpis import compute\n",
    "web/__init__.py": "",
    "web/app.py": "from ..workspace import Workspace\nfrom ..kpis.engine import compute\n",
}


def test_checker_passes_a_clean_tree(tmp_path):
    graph = import_graph(_tree(tmp_path, CLEAN))
    assert layer_violations(graph) == [] and cycles(graph) == []
    assert sorted(t for t, _ in graph["opsfin.workspace"]) == ["opsfin.kpis"]


@pytest.mark.parametrize(
    ("module", "text", "expected"),
    [
        (
            "kpis/spark.py",
            "def tables(ws):\n    from ..workspace import Workspace\n",
            "opsfin.kpis.spark (engine) imports opsfin.workspace (I/O), line 2",
        ),
        (
            "kpis/spark.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from opsfin.web import app\n",
            "opsfin.kpis.spark (engine) imports opsfin.web.app (front end), line 3",
        ),
        (
            "core/money.py",
            "from ..kpis import engine\n",
            "opsfin.core.money (core) imports opsfin.kpis.engine (engine), line 1",
        ),
        (
            "core/money.py",
            "import opsfin.workspace\n",
            "opsfin.core.money (core) imports opsfin.workspace (I/O), line 1",
        ),
        (
            "workspace.py",
            "from .web.app import x\n",
            "opsfin.workspace (I/O) imports opsfin.web.app (front end), line 1",
        ),
        ("gadgets.py", "", "opsfin.gadgets: in no layer"),
    ],
)
def test_checker_finds_an_import_pointing_up(tmp_path, module, text, expected):
    graph = import_graph(_tree(tmp_path, {**CLEAN, module: text}))
    problems = layer_violations(graph)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_checker_reports_a_cycle_as_a_path(tmp_path):
    planted = {
        **CLEAN,
        "kpis/a.py": "from . import b\n",
        "kpis/b.py": "def f():\n    from .c import x\n",
        "kpis/c.py": "from .a import y\n",
    }
    assert cycles(import_graph(_tree(tmp_path, planted))) == [
        ["opsfin.kpis.a", "opsfin.kpis.b", "opsfin.kpis.c", "opsfin.kpis.a"]
    ]


def test_checker_sees_two_packages_importing_each_other_by_different_modules(tmp_path):
    planted = {
        **CLEAN,
        "ingest/__init__.py": "from .. import readers\n",
        "ingest/values.py": "",
        "readers/__init__.py": "",
        "readers/ubl.py": "def f():\n    from ..ingest.values import parse\n",
    }
    graph = import_graph(_tree(tmp_path, planted))
    assert cycles(graph) == []  # no module loop ...
    assert cycles(package_graph(graph)) == [["opsfin.ingest", "opsfin.readers", "opsfin.ingest"]]  # ... a package one
    assert cycles(package_graph(import_graph(_tree(tmp_path / "clean", CLEAN)))) == []


def test_checker_sees_a_package_and_its_member_importing_each_other(tmp_path):
    planted = {
        **CLEAN,
        "web/__init__.py": "from . import pages\n",
        "web/pages.py": "from . import router\n",
    }
    assert cycles(import_graph(_tree(tmp_path, planted))) == [["opsfin.web", "opsfin.web.pages", "opsfin.web"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "from ..yamlfile import read_yaml_mapping\n",
            "opsfin.kpis.loader: line 1: imports opsfin.yamlfile",
        ),
        (
            "def f():\n    import opsfin.yamlfile\n",
            "opsfin.kpis.loader: line 2: imports opsfin.yamlfile",
        ),
        (
            "def f(p):\n    with open(p) as f:\n        return f.read()\n",
            "opsfin.kpis.loader: line 2: open(…)",
        ),
        (
            "def f(p):\n    return p.read_text(encoding='utf-8')\n",
            "opsfin.kpis.loader: line 2: .read_text(…)",
        ),
        ("def f(p):\n    return p.read_bytes()\n", "opsfin.kpis.loader: line 2: .read_bytes(…)"),
        ("def f(p, t):\n    p.write_text(t)\n", "opsfin.kpis.loader: line 2: .write_text(…)"),
        ("def f(p):\n    p.write_bytes(b'')\n", "opsfin.kpis.loader: line 2: .write_bytes(…)"),
    ],
)
def test_checker_finds_an_engine_reading_a_file(tmp_path, text, expected):
    root = _tree(tmp_path, {**CLEAN, "yamlfile.py": "", "kpis/loader.py": text})
    assert engine_file_access(root) == [expected]


def test_checker_lets_the_io_layer_read_files_and_engines_say_open(tmp_path):
    io_reads = "from .yamlfile import read_yaml_mapping\ndef f(p):\n    return p.read_text()\n"
    engine_says = '"""open(t): the open items at t."""\ndef is_open(row):\n    return row.open\n'
    root = _tree(
        tmp_path,
        {**CLEAN, "yamlfile.py": "", "workspace.py": io_reads, "kpis/aging.py": engine_says},
    )
    assert engine_file_access(root) == []


def test_checker_finds_an_engine_importing_duckdb(tmp_path):
    planted = {
        **CLEAN,
        "kpis/reads.py": "import polars\n\ndef f():\n    import duckdb.typing\n",
        "kpis/ids.py": "from duckdb import connect\n",
        "workspace.py": "import duckdb\n",  # the I/O layer opens the warehouse
        "kpis/duckdb_words.py": '"""import duckdb: not here."""\nfrom .engine import duckdb_like\n',
    }
    assert engine_duckdb_imports(_tree(tmp_path, planted)) == ["opsfin.kpis.ids: line 1", "opsfin.kpis.reads: line 4"]
