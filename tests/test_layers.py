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


def command_modules() -> set[str]:
    """The modules that build a command's flags and run it: those `grpo_lead.cli` dispatches to,
    and each task's ``cli`` (the run `grpo-lead eval` starts, the flags it adds), which the task
    table names as strings and nothing imports."""
    from grpo_lead.cli import COMMANDS
    from grpo_lead.tasks import TASKS

    tasks = {getattr(t, part).partition(":")[0] for t in TASKS.values()
             for part in ("evaluate", "eval_arguments") if getattr(t, part)}  # fmt: skip
    return {module for module, _, _ in COMMANDS.values()} | tasks


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


# Upward imports into command modules that are allowed: none (issue 31, item 1 removed the last).
KNOWN_UPWARD: set[tuple[str, str]] = set()


def upward_imports(graph: dict[str, set[str]], commands: set[str]) -> set[tuple[str, str]]:
    """(module, command module) pairs where a module other than the dispatcher imports one."""
    return {(m, t) for m, ts in graph.items() for t in ts & commands if m != "grpo_lead.cli"}


def test_the_upward_finder_finds_an_upward_import():
    graph = {"grpo_lead.cli": {"cmd"}, "lib": {"cmd"}, "cmd": {"lib"}}
    assert upward_imports(graph, {"cmd"}) == {("lib", "cmd")}


def test_no_new_import_up_into_a_command_module():
    commands = command_modules()
    upward = upward_imports(import_graph(), commands)
    assert upward - KNOWN_UPWARD == set(), "a module imports a command module"
    assert KNOWN_UPWARD - upward == set(), "an exception was removed: take it out of KNOWN_UPWARD"


def test_the_command_modules_include_each_tasks_cli():
    assert {"grpo_lead.eval_cli", "grpo_lead.tasks.math.cli", "grpo_lead.tasks.choice.cli"} <= (
        command_modules()
    )


def test_the_generic_evaluation_layer_imports_no_task_and_no_command():
    commands, graph = command_modules(), import_graph()
    evaluation = {
        m for m in graph if m == "grpo_lead.evaluation" or m.startswith("grpo_lead.evaluation.")
    }
    reached = {t for m in evaluation for t in graph[m]}
    assert not {t for t in reached if t.startswith("grpo_lead.tasks")}
    assert not reached & commands


def test_a_task_row_names_only_its_own_package():
    from grpo_lead.tasks import TASKS

    packages = {"math": "grpo_lead.tasks.math.", "mcq": "grpo_lead.tasks.choice."}
    for name, task in TASKS.items():
        for part in ("script_arguments", "build_dataset", "rewards", "evaluate", "eval_arguments"):
            where = getattr(task, part)
            assert where is None or where.startswith(packages[name]), (name, part, where)
