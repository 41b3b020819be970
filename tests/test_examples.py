"""The gallery's examples (examples/plot_*.py) run, so that they cannot rot.

Each is run as a script (``runpy``, ``__name__ == "__main__"``) in one process -- TensorFlow
is imported once -- with matplotlib's Agg backend, in a temporary working directory, and
BLAS on one thread: the examples' matrices are tiny, and two BLAS threads on a busy 2-core
machine made the logistic-regression examples five times slower (measured: 2.3 s against
12.8 s of CPU for the grid search).
"""

import runpy
import time
from pathlib import Path

import matplotlib
import pytest
from threadpoolctl import threadpool_limits

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("plot_*.py"))
# The gallery promises each example finishes in under a minute on 2 cores; in this process
# (TensorFlow already imported by an earlier one) they take a few seconds each.
MAX_SECONDS = 60


def test_there_are_examples():
    assert len(EXAMPLES) >= 7, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_example_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            namespace = runpy.run_path(str(path), run_name="__main__")
        figures = plt.get_fignums()
    finally:
        plt.close("all")
    seconds = time.perf_counter() - start
    assert figures, f"{path.name} draws no figure: the gallery would show no plot"
    assert namespace, path.name
    assert seconds < MAX_SECONDS, f"{path.name} took {seconds:.0f} s"
