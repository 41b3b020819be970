import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.metrics import get_scorer, r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal import ActiveLearningClassifier, ActiveLearningRegressor
from skal.evaluation import active_learning_curve, campaign_scores


@pytest.fixture
def learner():
    return ActiveLearningClassifier(
        LogisticRegression(max_iter=300), query_strategy="margin", n_queries=3,
        n_instances=10, initial_size=20, random_state=0,
    )


def test_curve_shape_and_scores_match_refits(learner, digits_xy):
    X, y = digits_xy
    X, y = X.astype(np.float64), y
    n_labeled, scores = active_learning_curve(learner, X, y, cv=3)
    np.testing.assert_array_equal(n_labeled, [20, 30, 40, 50])
    assert scores.shape == (4, 3)
    # the last row is exactly what fitting the learner on each training part scores
    for k, (tr, te) in enumerate(StratifiedKFold(3).split(X, y)):
        fitted = clone(learner).fit(X[tr], y[tr])
        assert scores[-1, k] == pytest.approx(fitted.score(X[te], y[te]))
        # and every earlier row is a model trained on the first n labels of that campaign
        for r, n in enumerate(n_labeled):
            idx = fitted.labeled_indices_[:n]
            ref = LogisticRegression(max_iter=300).fit(X[tr][idx], y[tr][idx])
            assert scores[r, k] == pytest.approx(ref.score(X[te], y[te]))


def test_campaign_picks_the_same_labels_as_fit(learner, digits_xy):
    X, y = digits_xy
    _, _, fitted = campaign_scores(learner, X[:1000], y[:1000], X[1000:], y[1000:])
    direct = clone(learner).fit(X[:1000], y[:1000])
    np.testing.assert_array_equal(fitted.labeled_indices_, direct.labeled_indices_)


def test_scoring_and_parallel(learner, digits_xy):
    X, y = digits_xy
    # log loss needs every class in every round's model: an initial set with one of each
    learner.set_params(initial_selection="stratified")
    n1, s1 = active_learning_curve(learner, X, y, cv=2, scoring="neg_log_loss")
    n2, s2 = active_learning_curve(learner, X, y, cv=2, scoring="neg_log_loss", n_jobs=2)
    np.testing.assert_allclose(s1, s2)
    assert (s1 < 0).all()
    _, _, fitted = campaign_scores(learner, X[:900], y[:900], X[900:], y[900:],
                                   scoring="neg_log_loss")
    expected = get_scorer("neg_log_loss")(fitted, X[900:], y[900:])
    assert s1.shape == (4, 2) and np.isfinite(expected)


def test_verbose_progress(capsys, digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=300), n_queries=2, initial_size=20, verbose=1
    )
    campaign_scores(learner, X[:900], y[:900], X[900:], y[900:])
    err = capsys.readouterr().err
    assert "round 2/2" in err and "40 labels" in err
    learner.set_params(verbose=0)
    campaign_scores(learner, X[:900], y[:900], X[900:], y[900:])
    assert capsys.readouterr().err == ""


def test_display_from_estimator_runs_real_curves(digits_xy):
    import matplotlib

    matplotlib.use("Agg")
    from skal.plotting import ActiveLearningCurveDisplay

    X, y = digits_xy
    learners = {
        s: ActiveLearningClassifier(LogisticRegression(max_iter=300), query_strategy=s,
                                    n_queries=2, n_instances=10, initial_size=20,
                                    random_state=0)
        for s in ("random", "margin")
    }
    display = ActiveLearningCurveDisplay.from_estimator(learners, X, y, cv=2)
    n_labeled, scores = active_learning_curve(learners["margin"], X, y, cv=2)
    line = display.lines_["margin"]
    np.testing.assert_array_equal(line.get_xdata(), n_labeled)
    np.testing.assert_allclose(line.get_ydata(), scores.mean(axis=1))
    assert set(display.lines_) == {"random", "margin"}


def test_campaign_scores_leave_unlabeled_test_rows_out(learner, digits_xy):
    X, y = digits_xy
    marked = y[300:600].copy()
    marked[::2] = -1
    _, scores, _ = campaign_scores(learner, X[:300], y[:300], X[300:600], marked,
                                   scoring="accuracy")
    _, clean, _ = campaign_scores(learner, X[:300], y[:300], X[301:600:2], y[301:600:2],
                                  scoring="accuracy")
    np.testing.assert_array_equal(scores, clean)
    with pytest.raises(ValueError, match="no labeled rows"):
        campaign_scores(learner, X[:300], y[:300], X[:5], np.full(5, -1))


def test_per_class_recall_and_balanced_accuracy_are_curves_of_the_round_models(digits_xy):
    # an imbalanced pool: class 9 is rare; its recall is a curve of its own
    X, y = digits_xy
    keep = np.r_[np.flatnonzero(y != 9), np.flatnonzero(y == 9)[:15]]
    X, y = X[keep], y[keep]
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=300), n_queries=3,
                                       n_instances=20, initial_size=20, random_state=0,
                                       store_round_estimators=True)
    n_labeled, scores, fitted = campaign_scores(
        learner, X[:1200], y[:1200], X[1200:], y[1200:],
        scoring=["accuracy", "balanced_accuracy", "per_class_recall"])
    recall = scores["per_class_recall"]
    assert recall.shape == (4, 10)
    for k, model in enumerate(fitted.round_estimators_):
        predicted = model.predict(X[1200:])
        for c in range(10):
            right = predicted[y[1200:] == c] == c
            assert recall[k, c] == pytest.approx(right.mean())
        assert scores["balanced_accuracy"][k] == pytest.approx(recall[k].mean())
    assert not np.allclose(scores["balanced_accuracy"], scores["accuracy"])
    # the cross-validated curve stacks the splits before the classes
    n, curves = active_learning_curve(learner, X, y, cv=2, scoring={
        "recall": "per_class_recall", "bacc": get_scorer("balanced_accuracy")})
    assert curves["recall"].shape == (4, 2, 10) and curves["bacc"].shape == (4, 2)
    np.testing.assert_allclose(curves["recall"].mean(axis=2), curves["bacc"])


@pytest.mark.parametrize("scoring, error", [
    (42, TypeError),
    ([], ValueError),
    ({}, ValueError),
    (["accuracy", 3], TypeError),
    ("no_such_scorer", ValueError),
])
def test_bad_scoring_is_refused_before_a_campaign(learner, digits_xy, scoring, error):
    X, y = digits_xy
    with pytest.raises(error, match="scoring|scorer"):
        campaign_scores(learner, X[:300], y[:300], X[300:400], y[300:400], scoring=scoring)


def test_per_class_recall_on_a_regressor_names_a_regression_scorer(digits_xy):
    from sklearn.linear_model import BayesianRidge

    from skal import ActiveLearningRegressor

    X, y = digits_xy
    learner = ActiveLearningRegressor(BayesianRidge(), n_queries=1, random_state=0)
    y = y.astype(float)
    with pytest.raises(ValueError, match="needs a classifier.*'r2'"):
        campaign_scores(learner, X[:100], y[:100], X[100:150], y[100:150],
                        scoring=["r2", "per_class_recall"])



def _small_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X[:300], (y[:300] - y.mean()) / y.std()  # continuous targets


PLAIN_MODELS = [  # (plain model, data, the learner Campaign(model, X) trains it with)
    (lambda: GaussianNB(), _small_digits, ActiveLearningClassifier),
    (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)), _small_digits,
     ActiveLearningClassifier),
    (lambda: BayesianRidge(), _diabetes, ActiveLearningRegressor),
]


@pytest.mark.parametrize("make, data, default", PLAIN_MODELS)
def test_a_plain_model_is_run_by_the_default_learner(make, data, default):
    X, y = data()
    n_labeled, scores = active_learning_curve(make(), X, y, cv=2)
    # the default learner's campaign: its initial set only (n_queries=0), on each split
    assert n_labeled.tolist() == [default(make()).initial_size] and scores.shape == (1, 2)
    _, round_scores, fitted = campaign_scores(make(), X[:200], y[:200], X[200:], y[200:])
    assert type(fitted) is default and type(fitted.estimator) is type(make())
    assert round_scores[-1] == pytest.approx(fitted.score(X[200:], y[200:]))


def test_a_learner_or_model_is_needed():
    X, y = _small_digits()
    with pytest.raises(TypeError, match="ActiveLearningClassifier or ActiveLearningRegressor"):
        active_learning_curve("margin", X, y, cv=2)


REGRESSION_TEST_MARKERS = [  # (value in y_test, whether it marks the row unlabeled)
    (np.nan, True),
    (None, True),
    (-1.0, False),  # a target like any other, as ActiveLearningRegressor.score reads it
]


@pytest.mark.parametrize("value, marks", REGRESSION_TEST_MARKERS)
def test_campaign_scores_of_a_regressor_read_markers_as_its_score_does(value, marks):
    X, y = _diabetes()
    learner = ActiveLearningRegressor(BayesianRidge(), n_queries=2, initial_size=20,
                                      random_state=0, store_round_estimators=True)
    y_test = y[200:].astype(object if value is None else float)
    y_test[::3] = value
    _, scores, fitted = campaign_scores(learner, X[:200], y[:200], X[200:], y_test,
                                        scoring="r2")
    keep = np.arange(100) % 3 != 0 if marks else slice(None)
    truth = y_test[keep].astype(float)
    expected = [r2_score(truth, m.predict(X[200:][keep])) for m in fitted.round_estimators_]
    np.testing.assert_allclose(scores, expected)
    _, default, _ = campaign_scores(learner, X[:200], y[:200], X[200:], y_test)
    np.testing.assert_allclose(default, expected)  # scoring=None: the learner's R²
    assert fitted.round_estimators_[-1].predict(X[:1]).shape == (1,)
    assert fitted.score(X[200:], y_test) == pytest.approx(expected[-1])
