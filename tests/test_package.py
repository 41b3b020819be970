import ast
import subprocess
import sys
from pathlib import Path

import skal


def test_import_skal_does_not_import_tensorflow():
    code = (
        "import sys, skal, skal.strategies, skal.evaluation;"
        "heavy = [m for m in ('tensorflow', 'keras', 'scikeras', 'matplotlib')"
        " if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve():
    assert skal.CNNClassifier.__name__ == "CNNClassifier"
    assert "ActiveLearningClassifier" in dir(skal)


def test_cli_help():
    out = subprocess.run(
        [sys.executable, "-m", "skal", "demo", "--help"], capture_output=True, text=True,
        check=True,
    )
    assert "--seeds" in out.stdout and "digits" in out.stdout


PACKAGE = Path(skal.__file__).parent
MAX_MODULE_LINES = 450


def _modules() -> dict[str, Path]:
    """Every module of skal by dotted name (a package by its own name)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Which skal modules each skal module imports, wherever the import statement is.

    ``import a.b.c`` and ``from a.b import c`` also import the packages ``a`` and ``a.b``
    (their ``__init__`` runs first), except the importer's own enclosing packages, which are
    already importing; ``from a import name`` is an import of the module ``a.name`` if there
    is one, else of ``a``. Lazy ``import_module`` calls (skal/__init__.py) are not edges.
    """
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                imported = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                            for a in node.names]
            else:
                continue
            for target in imported:
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    step = ".".join(parts[:i])
                    implicit = i < len(parts) and name.startswith(step + ".")
                    if step in modules and step != name and not implicit:
                        targets.add(step)
        graph[name] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules, the first repeated last), or None."""
    state = dict.fromkeys(graph, 0)  # 0 unvisited, 1 on the current path, 2 done
    for start in sorted(graph):
        if state[start]:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_import_graph_is_found():
    graph = import_graph()
    assert "skal._persistence" in graph["skal._learner"]
    assert "skal.io" in graph["skal._persistence"]  # the package of skal.io.journal
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_io_knows_nothing_of_the_learner():
    graph = import_graph()
    for name in [m for m in graph if m == "skal.io" or m.startswith("skal.io.")]:
        assert not graph[name] - {m for m in graph if m.startswith("skal.io")} - {"skal"}, name


def test_no_module_is_longer_than_the_limit():
    lengths = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    too_long = {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"
