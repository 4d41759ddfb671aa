"""The package's import graph: no cycle (imports inside functions count; ``if TYPE_CHECKING:``
imports do not, they never run), and no module reaches up into a command module (the modules
`grpo_lead.cli` dispatches to) except the dispatcher itself."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "grpo_lead").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module of an imported dotted name (a module, or a name defined in one)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _runtime_imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    tree = ast.parse(path.read_text())
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
            and id(n) not in typing_only]  # fmt: skip


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _runtime_imports(path):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                names = [f"{base}.{a.name}" for a in node.names]
            for name in names:
                target = _owner(name) if name.startswith("grpo_lead") else None
                if target and target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


# Where `grpo-lead eval` and `estimate-difficulty` / `compare` are dispatched: the task table and
# the evaluation package hand on to the argument parsers of these modules.
DISPATCH = {"grpo_lead.tasks", "grpo_lead.evaluation"}
PARSERS = {"grpo_lead.evaluation.cli", "grpo_lead.choice.cli"}


def command_modules() -> set[str]:
    """The modules that build a command's flags and run it."""
    from grpo_lead.cli import COMMANDS

    return {module for module, _, _ in COMMANDS.values()} - DISPATCH | PARSERS


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_imports_and_skips_type_checking_ones():
    graph = import_graph()
    assert set(graph) == set(MODULES)
    # Method.config_kwargs imports the config inside the function
    assert "grpo_lead.configs" in graph["grpo_lead.toylab.grid"]
    # the registry names LeadOptions for types only
    assert "grpo_lead.options" not in graph["grpo_lead.advantages.registry"]


# Upward imports into command modules that the task-packages redesign (issue 31, item 1) removes.
KNOWN_UPWARD = {
    ("grpo_lead.evaluation", "grpo_lead.evaluation.cli"),
    ("grpo_lead.tasks", "grpo_lead.evaluation.cli"),
}


def test_no_new_import_up_into_a_command_module():
    commands = command_modules()
    graph = import_graph()
    upward = {(m, t) for m, ts in graph.items() for t in ts & commands if m != "grpo_lead.cli"}
    assert upward - KNOWN_UPWARD == set(), "a module imports a command module"
    assert KNOWN_UPWARD - upward == set(), "an exception was removed: take it out of KNOWN_UPWARD"
