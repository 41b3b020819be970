import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import StratifiedKFold

from skal import ActiveLearningClassifier
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

