import subprocess
import sys
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from skal.plotting import ActiveLearningCurveDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def curves():
    n_labeled = np.array([10, 20, 30, 40])
    rng = np.random.default_rng(0)
    scores = {
        "random": np.linspace(0.4, 0.7, 4)[:, None] + rng.normal(0, 0.03, (4, 3)),
        "entropy": np.linspace(0.4, 0.9, 4)[:, None] + rng.normal(0, 0.05, (4, 3)),
    }
    return n_labeled, scores


def _band_bounds(poly):
    """Lower and upper y of a fill_between PolyCollection, keyed by x."""
    vertices = poly.get_paths()[0].vertices
    lower, upper = {}, {}
    for x, y in vertices:
        lower[x] = min(lower.get(x, np.inf), y)
        upper[x] = max(upper.get(x, -np.inf), y)
    xs = np.array(sorted(lower))
    return xs, np.array([lower[x] for x in xs]), np.array([upper[x] for x in xs])


def test_plot_draws_one_line_and_band_per_strategy(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores)
    assert disp.plot() is disp

    assert list(disp.lines_) == ["random", "entropy"]
    assert list(disp.fill_between_) == ["random", "entropy"]
    assert len(disp.ax_.get_lines()) == 2
    for name, s in scores.items():
        line = disp.lines_[name]
        np.testing.assert_array_equal(line.get_xdata(), n_labeled)
        np.testing.assert_allclose(line.get_ydata(), s.mean(axis=1))

        xs, lower, upper = _band_bounds(disp.fill_between_[name])
        np.testing.assert_array_equal(xs, n_labeled)
        np.testing.assert_allclose(lower, s.mean(axis=1) - s.std(axis=1))
        np.testing.assert_allclose(upper, s.mean(axis=1) + s.std(axis=1))
        # Band uses the line's colour.
        np.testing.assert_allclose(
            disp.fill_between_[name].get_facecolor()[0][:3],
            matplotlib.colors.to_rgb(line.get_color()),
        )


def test_plot_sets_axes_figure_and_labels(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    assert disp.ax_.get_xlabel() == "Number of labeled samples"
    assert disp.ax_.get_ylabel() == "Score"
    assert disp.figure_ is disp.ax_.figure

    disp = ActiveLearningCurveDisplay(
        n_labeled=n_labeled, scores=scores, score_name="Accuracy"
    ).plot()
    assert disp.ax_.get_ylabel() == "Accuracy"


def test_plot_on_given_ax(curves):
    n_labeled, scores = curves
    fig, ax = plt.subplots()
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot(ax=ax)
    assert disp.ax_ is ax
    assert disp.figure_ is fig


def test_legend_labels(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot(show_aulc=False)
    legend = disp.ax_.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["random", "entropy"]


def test_show_legend_false(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores)
    disp.plot(show_legend=False)
    assert disp.ax_.get_legend() is None


def test_single_array_default_and_custom_name():
    n_labeled = [5, 10, 15]
    scores = np.array([[0.1, 0.3], [0.4, 0.6], [0.7, 0.9]])
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    assert list(disp.lines_) == ["strategy"]
    np.testing.assert_allclose(disp.lines_["strategy"].get_ydata(), [0.2, 0.5, 0.8])

    for names in ("margin", ["margin"]):
        disp = ActiveLearningCurveDisplay(
            n_labeled=n_labeled, scores=scores, strategy_names=names
        ).plot()
        assert list(disp.lines_) == ["margin"]
        texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
        assert texts == ["margin (AULC 0.500)"]


def test_strategy_names_select_and_order_dict(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(
        n_labeled=n_labeled, scores=scores, strategy_names=["entropy"]
    ).plot()
    assert list(disp.lines_) == ["entropy"]
    with pytest.raises(ValueError, match="strategy_names"):
        ActiveLearningCurveDisplay(
            n_labeled=n_labeled, scores=scores, strategy_names=["bald"]
        ).plot()


def test_per_strategy_n_labeled():
    n_labeled = {"a": [10, 20, 30], "b": [5, 50]}
    scores = {"a": np.full((3, 2), 0.5), "b": np.full((2, 2), 0.6)}
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    np.testing.assert_array_equal(disp.lines_["a"].get_xdata(), [10, 20, 30])
    np.testing.assert_array_equal(disp.lines_["b"].get_xdata(), [5, 50])


def test_1d_scores_zero_width_band():
    disp = ActiveLearningCurveDisplay(n_labeled=[1, 2, 3], scores=[0.1, 0.2, 0.3]).plot()
    _, lower, upper = _band_bounds(disp.fill_between_["strategy"])
    np.testing.assert_allclose(lower, [0.1, 0.2, 0.3])
    np.testing.assert_allclose(upper, [0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_labeled": [1, 2, 3], "scores": np.zeros((2, 3))}, "rounds"),
        ({"n_labeled": {"x": [1, 2]}, "scores": {"a": np.zeros((2, 3))}}, "n_labeled"),
        ({"n_labeled": [1, 2], "scores": {}}, "scores"),
        ({"n_labeled": [1, 2], "scores": np.zeros((2, 3, 1))}, "scores"),
        (
            {"n_labeled": [1, 2], "scores": np.zeros((2, 3)), "strategy_names": ["a", "b"]},
            "strategy_names",
        ),
    ],
)
def test_invalid_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ActiveLearningCurveDisplay(**kwargs).plot()


def test_std_display_style_none_and_errorbar(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores)
    disp.plot(std_display_style=None)
    assert disp.fill_between_ == {}
    assert len(disp.lines_) == 2
    assert not disp.ax_.collections

    disp.plot(std_display_style="errorbar")
    assert list(disp.errorbar_) == ["random", "entropy"]
    assert disp.fill_between_ == {}
    np.testing.assert_allclose(disp.lines_["entropy"].get_ydata(), scores["entropy"].mean(axis=1))

    with pytest.raises(ValueError, match="std_display_style"):
        disp.plot(std_display_style="bars")


def test_from_results_tuple_form(curves):
    n_labeled, scores = curves
    results = {name: (n_labeled, s) for name, s in scores.items()}
    disp = ActiveLearningCurveDisplay.from_results(results, score_name="Accuracy")
    assert isinstance(disp, ActiveLearningCurveDisplay)
    assert list(disp.lines_) == ["random", "entropy"]
    assert disp.ax_.get_ylabel() == "Accuracy"
    for name, s in scores.items():
        np.testing.assert_allclose(disp.lines_[name].get_ydata(), s.mean(axis=1))


def test_from_results_object_form_and_plot_kwargs(curves):
    n_labeled, scores = curves
    results = {name: SimpleNamespace(n_labeled=n_labeled, scores=s) for name, s in scores.items()}
    fig, ax = plt.subplots()
    disp = ActiveLearningCurveDisplay.from_results(
        results, ax=ax, std_display_style=None, show_legend=False
    )
    assert disp.ax_ is ax
    assert disp.ax_.get_ylabel() == "Score"
    assert disp.fill_between_ == {}
    assert disp.ax_.get_legend() is None
    np.testing.assert_array_equal(disp.lines_["entropy"].get_xdata(), n_labeled)


@pytest.mark.parametrize("results", [{}, [1, 2], {"a": 3}, {"a": (1, 2, 3)}])
def test_from_results_invalid(results):
    with pytest.raises(ValueError, match="results"):
        ActiveLearningCurveDisplay.from_results(results)


def test_missing_matplotlib_gives_clear_error(monkeypatch, curves):
    n_labeled, scores = curves
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        disp.plot()


def test_import_does_not_import_matplotlib():
    code = "import sys, skal.plotting; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_from_cv_results_plots_the_searched_curves_without_rerunning():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    from skal import ActiveLearningClassifier
    from skal.metrics import make_curve_scorer

    X, y = load_digits(return_X_y=True)
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=300), n_queries=3, initial_size=20, random_state=0,
        store_round_estimators=True)
    search = GridSearchCV(learner, {"query_strategy": ["random", "margin"]}, cv=2,
                          scoring=make_curve_scorer(kind="curve"), refit="aulc"
                          ).fit(X[:400], y[:400])
    display = ActiveLearningCurveDisplay.from_cv_results(search.cv_results_, candidates=[0, 1])
    assert set(display.lines_) == {"query_strategy=random", "query_strategy=margin"}
    x, means = display.lines_["query_strategy=margin"].get_data()
    np.testing.assert_array_equal(x, [20, 30, 40, 50])
    row = search.cv_results_
    expected = [np.mean([row[f"split{k}_test_score_round_{r}"][1] for k in range(2)])
                for r in range(4)]
    np.testing.assert_allclose(means, expected)
    best = ActiveLearningCurveDisplay.from_cv_results(search.cv_results_)
    assert list(best.lines_) == ["query_strategy=margin"]
    plt.close("all")


def _legend_texts(disp):
    return [t.get_text() for t in disp.ax_.get_legend().get_texts()]


def test_legend_gives_each_curves_aulc_on_its_mean(curves):
    from skal.metrics import area_under_learning_curve

    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    for name, s in scores.items():
        expected = area_under_learning_curve(n_labeled, s.mean(axis=1))
        assert disp.aulc_[name] == pytest.approx(expected)
    assert _legend_texts(disp) == [
        f"{name} (AULC {area_under_learning_curve(n_labeled, s.mean(axis=1)):.3f})"
        for name, s in scores.items()
    ]
    # A single round has no area: the name alone.
    disp = ActiveLearningCurveDisplay(n_labeled=[10], scores=[[0.5, 0.7]]).plot()
    assert _legend_texts(disp) == ["strategy"] and disp.aulc_ == {}


def test_legend_gives_labels_to_target_or_says_it_is_not_reached():
    scores = {"fast": [[0.5], [0.9], [0.95]], "slow": [[0.4], [0.5], [0.6]]}
    disp = ActiveLearningCurveDisplay(n_labeled=[10, 20, 40], scores=scores).plot(
        target=0.9, show_aulc=False)
    assert _legend_texts(disp) == ["fast (0.9 at 20 labels)", "slow (0.9 not reached)"]
    disp = ActiveLearningCurveDisplay(n_labeled=[10, 20, 40], scores=scores).plot(target=0.9)
    assert _legend_texts(disp)[0] == "fast (AULC 0.850, 0.9 at 20 labels)"


def test_legend_title_says_what_the_band_is(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    assert disp.ax_.get_legend().get_title().get_text() == "Mean of 3 splits, band: \u00b11 s.d."
    disp.plot(std_display_style="errorbar")
    assert disp.ax_.get_legend().get_title().get_text() == "Mean of 3 splits, bars: \u00b11 s.d."
    disp.plot(std_display_style=None)
    assert disp.ax_.get_legend().get_title().get_text() == "Mean of 3 splits"
    # One split: no band to explain.
    disp = ActiveLearningCurveDisplay(n_labeled=[1, 2, 3], scores=[0.1, 0.2, 0.3]).plot()
    assert disp.ax_.get_legend().get_title().get_text() == ""


def test_markers_at_every_round(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    for line in disp.lines_.values():
        assert line.get_marker() == "o"
        np.testing.assert_array_equal(line.get_xdata(), n_labeled)
    disp.plot(std_display_style="errorbar")
    assert disp.lines_["random"].get_marker() == "o"
    disp.plot(line_kw={"marker": "s"})
    assert disp.lines_["random"].get_marker() == "s"


def test_reference_line(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    assert disp.reference_line_ is None
    assert len(disp.ax_.get_lines()) == 2
    disp.plot(reference_score=0.93, reference_label="All 1000 labels")
    line = disp.reference_line_
    assert line in disp.ax_.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.93, 0.93])
    assert line.get_linestyle() == "--"
    assert _legend_texts(disp)[-1] == "All 1000 labels (0.930)"


def test_title(curves):
    n_labeled, scores = curves
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores).plot()
    assert disp.ax_.get_title() == "Active-learning curves"
    disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores["random"]).plot()
    assert disp.ax_.get_title() == "Active-learning curve"
    disp.plot(title="Digits, 3 folds")
    assert disp.ax_.get_title() == "Digits, 3 folds"


@pytest.fixture(scope="module")
def small_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:200], y[:200]


def _quick_learner(**kwargs):
    from sklearn.linear_model import LogisticRegression

    from skal import ActiveLearningClassifier

    return ActiveLearningClassifier(LogisticRegression(max_iter=100), n_queries=1,
                                    initial_size=20, random_state=0, **kwargs)


def test_from_estimator_names_the_y_axis_after_the_scorer(small_digits):
    X, y = small_digits
    disp = ActiveLearningCurveDisplay.from_estimator(_quick_learner(), X, y, cv=2)
    assert disp.ax_.get_ylabel() == "Accuracy"
    assert list(disp.lines_) == ["auto"]  # named after the learner's (default) strategy
    disp = ActiveLearningCurveDisplay.from_estimator(
        {"margin": _quick_learner(query_strategy="margin")}, X, y, cv=2,
        scoring="balanced_accuracy")
    assert disp.ax_.get_ylabel() == "Balanced accuracy"
    assert disp.ax_.get_legend().get_title().get_text().startswith("Mean of 2 splits")


def test_default_score_name_of_regressors_is_r2():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from skal.plotting import _default_score_name

    assert _default_score_name([LinearRegression()]) == "R\u00b2"
    assert _default_score_name([LogisticRegression()]) == "Accuracy"
