"""The training-on-the-pool protocol: user-written options, on real models (no mocks).

Bad answers of an option are rows of the table in tests/test_semi_supervised.py.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skal._refit import fit_estimator, training_set
from skal.semi_supervised import (
    ConsistencyTraining,
    LabelSpreadingPseudoLabels,
    PoolTraining,
    PoolTrainingResult,
    PseudoLabels,
    pool_training,
    resolve_semi_supervised,
)


class NearestLabel:
    """A user's option, no subclass of skal's: each unlabeled sample of the first
    ``max_rows`` gets the label of its nearest labeled sample."""

    needs_model = False

    def __init__(self, max_rows=200):
        self.max_rows = max_rows
        self.calls = []

    def augment(self, X, labeled, labels, unlabeled, previous, *, random_state=None,
                pool_batch_size=16384):
        self.calls.append((len(labeled), len(unlabeled), random_state, pool_batch_size))
        rows = unlabeled[:self.max_rows]
        d = ((X[rows, None] - X[None, labeled]) ** 2).sum(axis=-1)
        return PoolTrainingResult(rows, labels[d.argmin(axis=1)])


class TopGuesses:
    """A user's option that reads the previous model (no ``needs_model``: it is assumed)."""

    def augment(self, X, labeled, labels, unlabeled, previous, *, random_state=None,
                pool_batch_size=16384):
        proba = previous.predict_proba(X[unlabeled])
        rows = unlabeled[np.argsort(-proba.max(axis=1), kind="stable")[:len(labeled)]]
        return np.sort(rows), previous.predict(X[np.sort(rows)])  # a plain tuple works too


class WeighedGuesses(PoolTraining):
    """Nearest-label guesses that weigh half a label: rows and fit parameters together."""

    needs_model = False

    def __init__(self, weight=0.5):
        self.weight = weight

    def augment(self, X, labeled, labels, unlabeled, previous, *, random_state=None,
                pool_batch_size=16384):
        rows, guesses, _, _ = NearestLabel(100).augment(X, labeled, labels, unlabeled, None)
        weights = np.r_[np.ones(len(labeled)), np.full(len(rows), self.weight)]
        return PoolTrainingResult(rows, guesses, {"sample_weight": weights})


@pytest.fixture(scope="module")
def round_data(digits_xy):
    """A campaign's refit on digits: 40 random labels, the rest of the pool unlabeled."""
    X, y = digits_xy
    labeled = np.random.default_rng(0).choice(len(X), 40, replace=False)
    unlabeled = np.setdiff1d(np.arange(len(X)), labeled)
    return X, y, labeled, unlabeled


def refit(option, round_data, previous=None, seed=7):
    X, y, labeled, unlabeled = round_data
    return training_set(X, labeled, y[labeled], unlabeled, previous, option, seed=seed,
                        pool_batch_size=512)


def test_a_users_option_is_accepted_and_trains_the_next_fit(round_data):
    X, y, labeled, unlabeled = round_data
    option = NearestLabel()
    assert resolve_semi_supervised(option, LogisticRegression()) is option
    X_fit, y_fit, n_pseudo, fit_params = refit(option, round_data)
    assert option.calls == [(40, len(unlabeled), 7, 512)]  # the seed and chunking passed on
    assert n_pseudo == 200 and fit_params == {}
    np.testing.assert_array_equal(X_fit, X[np.r_[labeled, unlabeled[:200]]])
    np.testing.assert_array_equal(y_fit[:40], y[labeled])
    assert y_fit.dtype == y.dtype and (y_fit[40:] == y[unlabeled[:200]]).mean() > 0.85
    template = LogisticRegression(max_iter=2000)
    model = fit_estimator(template, X_fit, y_fit)
    alone = fit_estimator(template, X[labeled], y[labeled])
    rest = unlabeled[200:]
    assert (model.predict(X[rest]) == y[rest]).mean() > (alone.predict(X[rest]) == y[rest]).mean()


def test_an_option_that_reads_the_model_is_asked_once_there_is_one(round_data):
    X, y, labeled, _ = round_data
    option = TopGuesses()
    assert resolve_semi_supervised(option) is option
    X_fit, y_fit, n_pseudo, _ = refit(option, round_data)  # no model yet: labels only
    assert n_pseudo == 0 and len(X_fit) == 40
    model = LogisticRegression(max_iter=2000).fit(X[labeled], y[labeled])
    X_fit, y_fit, n_pseudo, _ = refit(option, round_data, previous=model)
    assert n_pseudo == 40 and len(X_fit) == len(y_fit) == 80
    np.testing.assert_array_equal(y_fit[40:], model.predict(X_fit[40:]))


def test_an_options_fit_params_reach_the_fit(round_data):
    X, y, labeled, _ = round_data
    X_fit, y_fit, n_pseudo, fit_params = refit(WeighedGuesses(), round_data)
    assert n_pseudo == 100 and sorted(fit_params) == ["sample_weight"]
    template = LogisticRegression(max_iter=2000)
    model = fit_estimator(template, X_fit, y_fit, fit_params=fit_params)
    same = LogisticRegression(max_iter=2000).fit(X_fit, y_fit, sample_weight=fit_params[
        "sample_weight"])
    unweighted = LogisticRegression(max_iter=2000).fit(X_fit, y_fit)
    np.testing.assert_allclose(model.coef_, same.coef_)
    assert not np.allclose(model.coef_, unweighted.coef_)


def test_the_built_in_options_answer_the_protocol_as_their_old_methods(round_data):
    X, y, labeled, unlabeled = round_data
    model = LogisticRegression(C=10, max_iter=5000).fit(X[labeled], y[labeled])
    for option in (PseudoLabels(threshold=0.8, max_pool=500), LabelSpreadingPseudoLabels()):
        assert isinstance(option, PoolTraining)
        got = option.augment(X, labeled, y[labeled], unlabeled, model, random_state=3,
                             pool_batch_size=100)
        want = option.select(model, X, unlabeled, len(labeled), 3, labeled=labeled,
                             labels=y[labeled])
        assert len(got.indices) > 0 and got.fit_params is None and got.n_unlabeled == 0
        np.testing.assert_array_equal(got.indices, want[0])
        np.testing.assert_array_equal(got.labels, want[1])
    consistency = ConsistencyTraining(max_pool=300)
    got = consistency.augment(X, labeled, y[labeled], unlabeled, None, random_state=3)
    want = consistency.fit_params(X, unlabeled, 3)
    assert len(got.indices) == 0 and got.n_unlabeled == 300
    np.testing.assert_array_equal(got.fit_params["X_unlabeled"], want["X_unlabeled"])
    assert got.fit_params["consistency"] is consistency


def test_the_base_class_asks_for_augment_and_accepts_any_estimator():
    option = PoolTraining()
    assert option.needs_model and option.check_estimator(LogisticRegression()) is None
    with pytest.raises(NotImplementedError, match="PoolTraining must implement augment"):
        pool_training(option, np.eye(3), np.array([0]), np.array([1]), np.array([1, 2]),
                      LogisticRegression())
    assert resolve_semi_supervised(option) is option


def test_a_users_option_in_a_campaign(digits_xy):
    from skal import ActiveLearningClassifier

    X, y = digits_xy
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=500), query_strategy="margin", n_queries=2,
        n_instances=10, initial_size=30, random_state=0, semi_supervised=NearestLabel(),
    ).fit(X, y)
    assert [row["n_pseudo_labeled"] for row in learner.history_] == [200, 200, 200]
    assert learner.n_labeled_ == 50
