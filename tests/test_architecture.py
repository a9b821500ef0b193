"""The house rules of docs/architecture.md, checked on the source: rooms, cycles, owners, sizes."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("monitoring", "partners", "secmail")
# The rooms built on the pipeline: the pipeline must never import them.
ROOMS_ON_TOP = (
    "monitoring.dashboard",
    "monitoring.notifications",
    "monitoring.headers",
    "monitoring.evidence",
    "monitoring.api",
    "monitoring.explanations",
)
# Who may name Membership: its model and admin, the registry's writes, demo data, and the one
# module that decides permission.
MEMBERSHIP_READERS = {
    "partners/models.py",
    "partners/admin.py",
    "partners/services.py",
    "partners/access.py",
    # The audit trail registers the model to record its changes; it decides nothing.
    "secmail/security/signals.py",
}
MAX_LINES = 650


def product_files() -> Iterator[Path]:
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def known_modules() -> set[str]:
    return {module_name(path) for path in product_files()}


def imported(path: Path, known: set[str]) -> set[str]:
    """Product modules this file imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            # The longest known prefix: `from monitoring import levels` is monitoring.levels.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    found.discard(module_name(path))
    return found


def import_graph() -> dict[str, set[str]]:
    known = known_modules()
    graph = {module_name(path): imported(path, known) for path in product_files()}
    # A package's __init__ is imported with every module below it; it is not an edge of theirs.
    for module, targets in graph.items():
        targets -= {name for name in targets if module.startswith(name + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_it_finds_a_cycle_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_it_resolves_imports_inside_functions(tmp_path) -> None:
    source = ROOT / "monitoring" / "cycles.py"
    assert "monitoring.models" in imported(source, known_modules())


def test_it_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_it_keeps_the_registry_free_of_monitoring_but_the_probe_library() -> None:
    graph = import_graph()
    wrong = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("partners")
        for target in targets
        if target.startswith("monitoring") and not target.startswith("monitoring.probe")
    }
    assert wrong == set()


def test_it_keeps_the_pipeline_free_of_the_rooms_built_on_it() -> None:
    graph = import_graph()
    wrong = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("monitoring") and not module.startswith(ROOMS_ON_TOP)
        for target in targets
        if target.startswith(ROOMS_ON_TOP)
    }
    assert wrong == set()


def test_it_reads_memberships_only_in_the_access_module() -> None:
    readers = {
        str(path.relative_to(ROOT))
        for path in product_files()
        if "Membership" in path.read_text() or "memberships__" in path.read_text()
    }
    demo = {name for name in readers if name.startswith("secmail/demo/")}
    assert readers - demo <= MEMBERSHIP_READERS


def test_it_starts_every_module_with_what_it_is_for_and_keeps_it_small() -> None:
    undocumented, large = [], []
    for path in product_files():
        text = path.read_text()
        if text.strip() and ast.get_docstring(ast.parse(text)) is None:
            undocumented.append(str(path.relative_to(ROOT)))
        if text.count("\n") > MAX_LINES:
            large.append(str(path.relative_to(ROOT)))
    assert undocumented == []
    assert large == []


def test_it_cites_only_its_own_docs() -> None:
    citing = [
        str(path.relative_to(ROOT))
        for path in [*product_files(), *(ROOT / "templates").rglob("*.*")]
        if "DESIGN.md" in path.read_text(errors="replace")
    ]
    assert citing == []
