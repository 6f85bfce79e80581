"""The package dependency rules, checked on the source (no import runs).

A package is the first level under `crazy_gary` (a top-level module is its own package).
Every import counts, wherever it stands, except one under `if TYPE_CHECKING:` (it never
executes, so annotations may name any package). The rules:

1. No import cycle between packages.
2. Dependencies point down the layers in `LAYERS`: a package imports only packages of its
   own layer or below (and within a layer, rule 1 keeps them one way).
3. No import inside a function unless a comment starting `# deferred:` on its line, or
   heading its group of imports, says why (a dependency only some deployments load,
   command-line start-up speed, a registration order).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "crazy_gary"
ROOT = "crazy_gary"

# Bottom first; a package imports only packages of its own layer or below.
# Docs: docs/architecture.md, "Packages".
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"__init__", "kit", "config", "runtime"}),
    ("infrastructure", {"errors", "durable", "observability"}),
    ("storage", {"direct_reads", "db", "data_versions"}),
    ("services", {"auth", "ratelimit", "realtime", "health", "toolhub", "endpoints", "llm",
                  "monitoring", "webhooks"}),
    ("domains", {"usage", "tasks", "approvals", "agent", "chat", "heavy", "users", "schedules",
                 "models", "migrations"}),
    ("client", {"client", "cli_client"}),
    ("entry points", {"api_schema", "app", "console", "startup", "asgi", "cli", "__main__"}),
]


def _package_of(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _sources() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "versions" not in p.relative_to(SRC).parts]


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def _says_why(lines: list[str], lineno: int) -> bool:
    """A `# deferred:` comment on the import's line or above it among the imports and comments
    that lead up to it (one comment may head a group of imports)."""
    i = lineno - 1
    if "# deferred:" in lines[i]:
        return True
    while i > 0:
        i -= 1
        line = lines[i].strip()
        if "# deferred:" in line:
            return True
        importish = line.startswith(("import ", "from ", ")", "#")) or line.endswith((",", "("))
        if line and not importish:
            return False
    return False


def _targets(node: ast.Import | ast.ImportFrom, path: Path) -> list[str]:
    """The crazy_gary packages an import statement names."""
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: resolve against the file's own module path
            here = [ROOT, *path.relative_to(SRC).with_suffix("").parts]
            base = ".".join(here[:len(here) - node.level] + ([base] if base else []))
        # `from crazy_gary import runtime` names the package `runtime`; a name defined in
        # crazy_gary/__init__.py (`__version__`) names that module.
        modules = ([f"{base}.{_module_or_init(a.name)}" for a in node.names] if base == ROOT
                   else [base])
    return [m.split(".")[1] for m in modules if m.startswith(ROOT + ".")]


def _module_or_init(name: str) -> str:
    exists = (SRC / f"{name}.py").exists() or (SRC / name / "__init__.py").exists()
    return name if exists else "__init__"


def _scan() -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """(package -> imported package -> [file:line]), and the undocumented deferred imports."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    deferred: list[str] = []
    for path in _sources():
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        here = _package_of(path)
        where = path.relative_to(SRC.parent)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if _under_type_checking(node, parents):
                continue
            for target in _targets(node, path):
                if target != here:
                    edges[here][target].append(f"{where}:{node.lineno}")
            if _in_function(node, parents):
                if not _says_why(lines, node.lineno):
                    deferred.append(f"{where}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return edges, deferred


def _cycles(edges: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def test_every_package_has_a_layer():
    packages = {_package_of(p) for p in _sources()}
    layered = set().union(*(members for _, members in LAYERS))
    assert packages - layered == set(), "add the new package to LAYERS (and docs/architecture.md)"
    assert layered - packages == set(), "LAYERS names a package that no longer exists"


def test_no_import_cycle_between_packages():
    edges, _ = _scan()
    report = []
    for component in _cycles(edges):
        for a in component:
            for b in component:
                if b in edges.get(a, {}):
                    report.append(f"{a} -> {b}: {', '.join(edges[a][b][:3])}")
    assert report == [], "import cycle between packages:\n" + "\n".join(report)


def test_dependencies_point_down_the_layers():
    layer_of = {pkg: i for i, (_, members) in enumerate(LAYERS) for pkg in members}
    edges, _ = _scan()
    upward = [f"{a} ({LAYERS[layer_of[a]][0]}) -> {b} ({LAYERS[layer_of[b]][0]}): "
              f"{', '.join(sites[:3])}"
              for a, targets in sorted(edges.items()) for b, sites in sorted(targets.items())
              if a in layer_of and b in layer_of and layer_of[b] > layer_of[a]]
    assert upward == [], "a package imports one from a higher layer:\n" + "\n".join(upward)


def test_imports_inside_functions_say_why():
    _, deferred = _scan()
    assert deferred == [], ("an import inside a function needs a `# deferred: <why>` comment "
                            "on its line or heading its group of imports, or belongs at the top:\n"
                            + "\n".join(deferred))


def test_the_checker_sees_a_cycle_and_an_upward_import():
    """The scan reads what it should: a made-up cycle is found, and a real edge is seen."""
    assert _cycles({"a": {"b": ["x"]}, "b": {"a": ["y"]}}) == [["a", "b"]]
    assert _cycles({"a": {"b": ["x"]}, "b": {}}) == []
    edges, _ = _scan()
    assert "config" in edges["app"] and "kit" in edges["errors"]
