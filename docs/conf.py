"""Sphinx configuration of skal's documentation site (``make docs``).

The API reference is written at build time from each public module's ``__all__``, so a
name added to skal appears in it without editing this folder; every name is documented
once, under the first public module (in ``API_MODULES`` order) that exports it.
"""

import importlib
import inspect
import os
import sys
from pathlib import Path

import matplotlib
from threadpoolctl import threadpool_limits

matplotlib.use("Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The gallery's matrices are tiny: BLAS on one thread (two made the logistic-regression
# examples five times slower on a busy 2-core machine; see tests/test_examples.py).
threadpool_limits(limits=1, user_api="blas")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import skal  # noqa: E402

project = "skal"
author = "the skal developers"
copyright = "2026, the skal developers"
release = version = skal.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]

html_theme = "pydata_sphinx_theme"
html_title = f"skal {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False

autosummary_generate = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "substitution"]
# What "auto" does is written once, in skal/strategies/_auto.py; the pages quote it.
from skal.strategies import AUTO_SUMMARY  # noqa: E402

myst_substitutions = {"auto_summary": AUTO_SUMMARY}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "write_computation_times": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}

# The public modules, in the order their names are claimed (see the module docstring).
API_MODULES = [
    ("skal.strategies", "Query strategies"),
    ("skal.semi_supervised", "Training on the pool"),
    ("skal.stopping", "When to stop"),
    ("skal.evaluation", "Evaluation"),
    ("skal.metrics", "Metrics and curve scorers"),
    ("skal.model_selection", "Model selection"),
    ("skal.plotting", "Plotting"),
    ("skal.keras", "Keras models"),
    ("skal.io", "Label journals"),
    ("skal.exceptions", "Exceptions"),
    ("skal.oracles", "Oracles"),
    ("skal.datasets", "Data sets"),
    ("skal.dask", "Dask"),
    ("skal.stream", "Stream-based selection"),
]


def _documentable(module, name):
    """The object a name of ``__all__`` stands for, if it is a class or a function."""
    obj = getattr(module, name, None)
    return obj if inspect.isclass(obj) or inspect.isfunction(obj) else None


def _api_sections():
    """``[(module, title, [(name, obj)], [constant names])]``, each object once."""
    claimed, sections = set(), []
    for module_name, title in API_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a module being written elsewhere, or an optional extra
            continue
        names, constants = [], []
        for name in getattr(module, "__all__", []):
            obj = _documentable(module, name)
            if obj is None:
                constants.append(name)
            elif id(obj) not in claimed:
                claimed.add(id(obj))
                names.append(name)
        sections.append((module_name, title, names, constants))
    top = [n for n in skal.__all__ if (o := _documentable(skal, n)) is not None
           and id(o) not in claimed]
    elsewhere = [n for n in skal.__all__ if n not in top and n != "__version__"]
    sections.insert(0, ("skal", "The learners, the campaign, loading", top, []))
    return sections, elsewhere


def write_api_reference():
    """Write ``api/index.rst``: one autosummary table per public module."""
    sections, elsewhere = _api_sections()
    lines = [
        ".. This file is written by conf.py at every build; edit conf.py, not it.",
        "",
        "API reference",
        "=============",
        "",
        "Every public name of skal, by module, with its docstring. ``import skal`` is lazy:",
        "TensorFlow is imported only when a Keras model is built.",
        "",
    ]
    if elsewhere:
        names = ", ".join(f"``{n}``" for n in elsewhere)
        lines += [f"The top-level ``skal`` also exports {names}; each is documented "
                  "under the module that defines it.", ""]
    for module_name, title, names, constants in sections:
        heading = f"``{module_name}``: {title}"
        lines += [heading, "-" * len(heading), "",
                  f".. automodule:: {module_name}", "   :no-members:", "",
                  f".. currentmodule:: {module_name}", ""]
        if names:
            lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
            lines += [f"   {name}" for name in names] + [""]
        if constants:
            lines += ["Constants: " + ", ".join(f"``{c}``" for c in constants) + ".", ""]
    out = DOCS / "api" / "index.rst"
    out.parent.mkdir(exist_ok=True)
    text = "\n".join(lines)
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


write_api_reference()
