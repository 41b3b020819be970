"""The documentation site builds with no Sphinx warning (``sphinx-build -W``).

The gallery's examples are not run here (``plot_gallery=0``; tests/test_examples.py runs
them); the API reference is generated from the docstrings, so a docstring that Sphinx or
numpydoc cannot read fails this test. Skipped, saying why, where the ``docs`` extra's
packages are missing (``make test`` installs them: they are in the ``test`` extra).
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS_PACKAGES = ["sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "myst_parser"]
MISSING = [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]

pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"the docs extra is not installed ({', '.join(MISSING)} missing): "
    "pip install -e '.[docs]' to build the site here",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-E",
         "-D", "plot_gallery=0", "-b", "html", "-d", str(out / "doctrees"),
         str(ROOT / "docs"), str(out / "html")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, (
        f"sphinx-build -W failed:\n{result.stderr[-6000:]}\n{result.stdout[-2000:]}")
    return out / "html"


def test_pages_of_the_site_are_built(site):
    for page in ["index", "install", "modal_migration", "benchmarks", "api/index",
                 "auto_examples/index", "user_guide/index", "user_guide/loop",
                 "user_guide/strategies", "user_guide/keras", "user_guide/labeling",
                 "user_guide/more_learners", "user_guide/in_depth"]:
        assert (site / f"{page}.html").is_file(), page
    for example in sorted((ROOT / "examples").glob("plot_*.py")):
        assert (site / "auto_examples" / f"{example.stem}.html").is_file(), example.name


def test_api_reference_documents_every_public_name(site):
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import conf  # docs/conf.py: what the reference lists, computed as the build did
    finally:
        sys.path.remove(str(ROOT / "docs"))
    sections, _ = conf._api_sections()
    documented = [f"{module}.{name}" for module, _, names, _ in sections for name in names]
    assert len(documented) == len(set(documented))
    for name in ["skal.ActiveLearningClassifier", "skal.Campaign", "skal.keras.CNNClassifier",
                 "skal.keras.attach_fitted_model", "skal.plotting.ActiveLearningCurveDisplay",
                 "skal.strategies.MCDropoutSampling", "skal.stopping.StabilizingPredictions",
                 "skal.metrics.make_curve_scorer", "skal.dask.limit_tensorflow_threads"]:
        assert name in documented, name
    for name in documented:
        page = site / "api" / "generated" / f"{name}.html"
        assert page.is_file(), name
    reference = (site / "api" / "index.html").read_text()
    assert "skal.keras.attach_fitted_model" in reference


def test_the_strategies_page_quotes_auto_summary(site):
    from skal.strategies import AUTO_SUMMARY

    text = re.sub(r"<[^>]+>", "", (site / "user_guide" / "strategies.html").read_text())
    assert " ".join(AUTO_SUMMARY.split()) in " ".join(text.split())
