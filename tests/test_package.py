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
MAX_FUNCTION_LINES = 60  # a function's code, its docstring not counted


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
    assert "skal._persistence" in graph["skal._base_learner"]  # the learners' shared body
    assert "skal._base_learner" in graph["skal._learner"]
    assert "skal.io" in graph["skal._persistence"]  # the package of skal.io.journal
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_io_knows_nothing_of_the_learner():
    graph = import_graph()
    for name in [m for m in graph if m == "skal.io" or m.startswith("skal.io.")]:
        assert not graph[name] - {m for m in graph if m.startswith("skal.io")} - {"skal"}, name


def _trees() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text()) for name, path in _modules().items()}


def test_every_module_names_its_one_job_first():
    for name, tree in _trees().items():
        doc = ast.get_docstring(tree)
        if name == "skal.__main__":
            continue  # `python -m skal`: two lines, no job of its own
        assert doc, f"{name} has no docstring naming its job"
        first = doc.splitlines()[0]
        assert first.strip() and len(first) <= 100, f"{name}: its first line is {first!r}"


def _code_lines(node) -> int:
    body = node.body
    start = node.lineno
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        start = body[0].end_lineno
    return node.end_lineno - start


def test_no_function_is_longer_than_the_limit():
    too_long = {
        f"{name}.{node.name}": _code_lines(node)
        for name, tree in _trees().items() for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and _code_lines(node) > MAX_FUNCTION_LINES
    }
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines of code: {too_long}"


# Private names another module may use: scikit-learn's parameter validation of an estimator,
# and the learner's one check of X, shared by the mixins the learner class is built from.
SHARED_PRIVATE = {"_validate_params", "_parameter_constraints", "_check_X"}


def test_no_module_uses_another_modules_private_names():
    """``obj._name`` outside ``self``/``cls``/``super()`` only for names defined in the same
    module; skal.keras may reach into Keras and SciKeras (their quirks live there)."""
    found = []
    for name, tree in _trees().items():
        if name.startswith("skal.keras"):
            continue
        own = {node.name for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)}
        own |= {t.attr for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Attribute)}
        own |= {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                continue
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            if isinstance(base, ast.Call) and getattr(base.func, "id", None) == "super":
                continue
            if node.attr in own or node.attr in SHARED_PRIVATE:
                continue
            found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    assert not found, f"private names used across modules: {found}"


def test_the_architecture_examples_run():
    import re

    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 2  # a query strategy, a training on the pool
    for block in blocks:
        exec(compile(block, "ARCHITECTURE.md", "exec"), {})
