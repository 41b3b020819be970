"""Every Examples section in skal's docstrings runs and shows what it says."""

import doctest
import importlib
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
