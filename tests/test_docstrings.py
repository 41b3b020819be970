"""Every Examples section in skal's docstrings runs and shows what it says."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import skal


def _modules():
    names = ["skal"]
    for info in pkgutil.walk_packages(skal.__path__, "skal."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_examples_run(name):
    if name.startswith("skal.cli._web"):
        pytest.importorskip("starlette", reason="the web extra is not installed")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


_PUBLIC_PACKAGES = [
    "skal",
    "skal.strategies",
    "skal.semi_supervised",
    "skal.stopping",
    "skal.evaluation",
    "skal.metrics",
    "skal.model_selection",
    "skal.plotting",
    "skal.keras",
    "skal.io",
    "skal.oracles",
    "skal.datasets",
    "skal.stream",
    "skal.dask",
]


def test_every_public_name_has_examples():
    """Issue #36: every public class and function documents runnable Examples."""
    missing = set()
    for package in _PUBLIC_PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # data constants such as dicts, tuples and strings
            doc = inspect.getdoc(obj) or ""
            if "\nExamples\n--------" not in "\n" + doc:
                missing.add(f"{package}.{name}")
    assert not missing, "no Examples section: " + ", ".join(sorted(missing))
