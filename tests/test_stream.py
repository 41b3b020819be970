"""skal.stream: the selectors' rules and budget, reproducibility, the simulated stream
(honest: a label is read only once asked), modAL's stream example, bad inputs."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC

from skal import ActiveLearningClassifier, Campaign
from skal.stream import (
    SELECTORS,
    FixedUncertainty,
    RandomizedVariableUncertainty,
    RandomSelection,
    Split,
    StreamResult,
    StreamSelector,
    VariableUncertainty,
    resolve_selector,
    simulate_stream,
)


def proba_of(confidence):
    """Two-class probabilities whose largest is ``confidence``."""
    c = np.asarray(confidence, dtype=float)
    return np.c_[c, 1.0 - c]


@pytest.fixture(scope="module")
def line():
    """A 1-D two-class problem and a model fitted on all of it."""
    X = np.linspace(-3, 3, 121)[:, None]
    y = (X[:, 0] > 0).astype(int)
    return X, y, LogisticRegression().fit(X, y)


def stream(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)


# ----------------------------------------------------------------------- the rules
def test_fixed_uncertainty_asks_exactly_at_or_below_its_threshold(line):
    X, _, model = line
    asked, confidence = FixedUncertainty(threshold=0.7, budget=1.0).decide(
        model, X, return_confidence=True)
    np.testing.assert_allclose(confidence, model.predict_proba(X).max(axis=1))
    np.testing.assert_array_equal(asked, confidence <= 0.7)
    assert 0 < asked.sum() < len(X)


def test_fixed_uncertainty_default_threshold_is_scikit_activemls():
    selector = FixedUncertainty(budget=0.1)
    selector.decide_proba(np.full((1, 4), 0.25))
    assert selector.threshold_ == pytest.approx(0.25 + 0.1 * 0.75)


def test_variable_threshold_shrinks_on_an_ask_and_grows_otherwise():
    selector = VariableUncertainty(step=0.1, budget=1.0)
    asked = selector.decide_proba(proba_of([0.95, 0.95]))  # 0.95 < 1.0: asked, 1.0 -> 0.9
    assert asked.tolist() == [True, False]  # 0.95 >= 0.9: not asked, 0.9 -> 0.99
    assert selector.threshold_ == pytest.approx(0.9 * 1.1)


def test_a_model_sure_everywhere_stops_fixed_uncertainty_not_variable():
    """Žliobaitė's point: a fixed threshold never asks once the model is sure (a drift far
    from the boundary goes unseen); the variable one rises until it spends the budget."""
    sure = proba_of(np.full(3000, 0.99))
    fixed, variable = FixedUncertainty(budget=0.1), VariableUncertainty(budget=0.1)
    assert fixed.decide_proba(sure).sum() == 0
    asked = variable.decide_proba(sure)
    assert 0.08 < asked.mean() <= 0.11 and asked[1000:].mean() > 0.08


@pytest.mark.parametrize("name", sorted(SELECTORS))
@pytest.mark.parametrize("window", [100, None])
def test_every_selector_keeps_to_its_budget(name, window):
    confidence = np.random.default_rng(0).uniform(0.5, 1.0, size=5000)
    selector = resolve_selector(name, budget=0.1).set_params(window=window, random_state=0)
    asked = selector.decide_proba(proba_of(confidence))
    assert selector.n_seen_ == 5000 and selector.n_asked_ == asked.sum()
    assert asked.mean() <= 0.1 + (0.01 if window else 1 / 5000)
    if name != "fixed_uncertainty":  # its threshold (0.55) asks few of these
        assert asked.mean() > 0.085
    if window is None:
        assert selector.spent_ == pytest.approx(asked.mean())


def test_the_window_forgets_and_the_cumulative_count_does_not():
    """After a long stretch of sure samples, a windowed budget asks again (a burst of about
    window * budget); a cumulative one spends all the budget saved meanwhile."""
    proba = proba_of(np.r_[np.full(500, 0.5), np.full(1000, 1.0), np.full(400, 0.5)])
    windowed = FixedUncertainty(threshold=0.6, budget=0.1, window=100).decide_proba(proba)
    cumulative = FixedUncertainty(threshold=0.6, budget=0.1, window=None).decide_proba(proba)
    assert 50 <= windowed[:500].sum() <= 65 and cumulative[:500].sum() == 50
    after = windowed[1500:]
    assert 9 <= np.argmin(after) <= 12 and 45 <= after.sum() <= 55  # a burst, then 10%
    assert cumulative[1500:1600].all() and cumulative[1500:].sum() == 140  # 0.1 of 1,900


def test_split_asks_some_confident_samples_and_random_ignores_the_model(line):
    X, _, model = line
    split = Split(budget=0.5, random_share=0.5, random_state=0).decide_proba(
        proba_of(np.full(400, 1.0)))
    assert split.sum() > 20  # the random half asks though the model is sure
    assert RandomSelection(budget=0.3, random_state=0).decide(None, X).sum() > 20


def test_one_batch_decides_as_the_same_samples_one_by_one(line):
    X, _, model = line
    for make in (lambda: VariableUncertainty(budget=0.2, window=10),
                 lambda: Split(budget=0.2, random_state=3)):
        batch = make().decide(model, X)
        single = make()
        np.testing.assert_array_equal(batch, [single.decide(model, x)[0] for x in X])


@pytest.mark.parametrize("make", [
    lambda s: RandomSelection(budget=0.3, random_state=s),
    lambda s: RandomizedVariableUncertainty(budget=0.3, random_state=s),
    lambda s: Split(budget=0.3, random_state=s),
])
def test_the_same_random_state_gives_the_same_decisions(make):
    proba = proba_of(np.random.default_rng(1).uniform(0.5, 1.0, size=500))
    first, again, other = (make(s).decide_proba(proba) for s in (7, 7, 8))
    np.testing.assert_array_equal(first, again)
    assert (first != other).any()


def test_selectors_are_scikit_learn_objects():
    selector = Split(random_share=0.3, budget=0.05, random_state=0)
    selector.decide_proba(proba_of([0.6, 0.7]))
    fresh = clone(selector)
    assert fresh.get_params() == selector.get_params() and not hasattr(fresh, "n_seen_")
    assert resolve_selector(selector).n_seen_ if False else not hasattr(
        resolve_selector(selector), "spent_")
    assert selector.n_seen_ == 2  # resolve_selector copies: the given one keeps its state
    assert {name: type(resolve_selector(name)) for name in SELECTORS} == SELECTORS
    assert resolve_selector("random", budget=0.3).budget == 0.3


def test_a_learner_or_a_campaign_stands_for_its_model(line):
    X, y, _ = line
    learner = ActiveLearningClassifier(LogisticRegression(), n_queries=2, n_instances=5,
                                       initial_size=6, random_state=0).fit(X, y)
    campaign = Campaign(learner, X, y).run(2)
    for holder in (learner, campaign):
        np.testing.assert_array_equal(
            VariableUncertainty(budget=0.3).decide(holder, X),
            VariableUncertainty(budget=0.3).decide(holder.estimator_, X))


def test_a_custom_selector_needs_only_want_label(line):
    X, _, model = line

    class Unsure(StreamSelector):
        def want_label(self, confidence, rng):
            return confidence < 0.8

    asked = Unsure(budget=1.0).decide(model, X)
    np.testing.assert_array_equal(asked, model.predict_proba(X).max(axis=1) < 0.8)


# ----------------------------------------------------------------------- the simulation
def test_simulate_stream_keeps_its_labels_in_a_campaign():
    X, y = stream(300)
    result = simulate_stream(LogisticRegression(), X, y, "variable_uncertainty",
                             refit_every=4, X_test=X[:100], y_test=y[:100])
    assert isinstance(result, StreamResult)
    campaign = result.campaign
    asked = np.flatnonzero(result.asked)
    np.testing.assert_array_equal(campaign.labeled_indices_, asked)  # the pool: the stream
    np.testing.assert_array_equal(campaign.labels_, y[asked])
    assert len(campaign.X) == len(X) and result.n_labels[-1] == len(asked)
    assert result.n_seen[0] == result.n_initial == 10 and result.n_seen[-1] == 300
    n_stream_labels = len(asked) - 10
    assert len(campaign.history_) == 1 + -(-n_stream_labels // 4)  # a fit per 4 labels
    assert result.selector.n_seen_ == 290 and result.selector.n_asked_ == n_stream_labels
    assert np.all(np.diff(result.n_labels) >= 0) and result.test_accuracy[-1] > 0.9
    assert np.isnan(result.correct[:10]).all() and 0.85 < result.prequential_accuracy[-1]
    assert 0.85 < result.aulc("test") <= 1 and 0.5 < result.aulc("prequential") <= 1


@pytest.mark.parametrize("selector", ["variable_uncertainty", Split(random_state=0)])
def test_a_label_is_read_only_once_asked(selector):
    """Permuting the labels of the samples never asked changes nothing that is asked."""
    X, y = stream(300)
    first = simulate_stream(GaussianNB(), X, y, selector, refit_every=3)
    other = y.copy()
    never = np.flatnonzero(~first.asked)
    other[never] = np.random.default_rng(0).permutation(1 - y[never])  # flipped, shuffled
    again = simulate_stream(GaussianNB(), X, other, selector, refit_every=3)
    np.testing.assert_array_equal(first.asked, again.asked)
    assert not np.array_equal(first.correct, again.correct)  # the labels did change


def test_the_initial_set_grows_until_it_holds_two_classes():
    X, y = stream(200)
    order = np.argsort(y, kind="stable")[::-1][: 200]  # all 1s first, then the 0s
    ones = int(y.sum())
    result = simulate_stream(GaussianNB(), X[order], y[order], "random", initial=5)
    assert result.n_initial == ones + 1 and result.asked[: ones + 1].all()


def test_modal_stream_based_sampling_example():
    """modAL's examples/stream-based_sampling.py: learn a square in an image from pixels
    drawn at random, asking only where the classifier's uncertainty is >= 0.4, until 90%
    accuracy. (A 30x30 image, not 500x500; a smaller forest.)"""
    side = 30
    image = np.zeros((side, side))
    image[6:side - 1 - 6, 6:side - 1 - 6] = 1
    X_full = np.transpose([np.tile(np.arange(side), side), np.repeat(np.arange(side), side)])
    y_full = image[X_full[:, 0], X_full[:, 1]].astype(int)
    rng = np.random.default_rng(0)
    initial = rng.choice(len(X_full), size=5, replace=False)
    while len(set(y_full[initial])) < 2:
        initial = rng.choice(len(X_full), size=5, replace=False)
    learner = ActiveLearningClassifier(
        RandomForestClassifier(n_estimators=10, random_state=0), random_state=0,
    ).fit(X_full[initial], y_full[initial])
    assert learner.n_labeled_ == 5
    selector = FixedUncertainty(threshold=0.6, budget=1.0)  # uncertainty 1 - p >= 0.4
    taught, accuracy = 0, learner.score(X_full, y_full)
    while accuracy < 0.90:
        i = rng.integers(len(X_full))
        if selector.decide(learner, X_full[i])[0]:
            learner.teach(X_full[i].reshape(1, -1), y_full[i].reshape(-1))
            taught, accuracy = taught + 1, learner.score(X_full, y_full)
        assert selector.n_seen_ < 3000, "no 90% after 3,000 pixels"
    assert learner.n_labeled_ == 5 + taught and 0 < taught < selector.n_seen_ / 2


# ----------------------------------------------------------------------- bad inputs
def _fitted():
    X, y = stream(50)
    return LogisticRegression().fit(X, y)


DECIDE_ERRORS = [  # (selector, estimator, X, error, fragment naming the parameter)
    (VariableUncertainty(budget=0.0), _fitted, np.zeros((1, 2)), ValueError, "'budget'"),
    (VariableUncertainty(budget=1.5), _fitted, np.zeros((1, 2)), ValueError, "'budget'"),
    (RandomSelection(budget="0.1"), None, np.zeros((1, 2)), TypeError, "'budget'"),
    (FixedUncertainty(threshold=0.0), _fitted, np.zeros((1, 2)), ValueError, "'threshold'"),
    (FixedUncertainty(threshold=1.2), _fitted, np.zeros((1, 2)), ValueError, "'threshold'"),
    (VariableUncertainty(step=1.0), _fitted, np.zeros((1, 2)), ValueError, "'step'"),
    (VariableUncertainty(window=0), _fitted, np.zeros((1, 2)), ValueError, "'window'"),
    (VariableUncertainty(window=True), _fitted, np.zeros((1, 2)), TypeError, "'window'"),
    (Split(random_share=1.0), _fitted, np.zeros((1, 2)), ValueError, "'random_share'"),
    (RandomizedVariableUncertainty(delta=0), _fitted, np.zeros((1, 2)), ValueError,
     "'delta'"),
    (VariableUncertainty(), lambda: SVC().fit(*stream(50)), np.zeros((1, 2)), TypeError,
     "predict_proba"),
    (VariableUncertainty(), LogisticRegression, np.zeros((1, 2)), ValueError, "not fitted"),
    (VariableUncertainty(), lambda: ActiveLearningClassifier(LogisticRegression()),
     np.zeros((1, 2)), ValueError, "no fitted model"),
    (VariableUncertainty(), None, np.zeros((1, 2)), TypeError, "estimator is None"),
    (VariableUncertainty(), _fitted, np.zeros((1, 3)), ValueError, "X has 3 features"),
    (VariableUncertainty(), _fitted, np.zeros(3), ValueError, "X has 3 features"),
    (VariableUncertainty(), _fitted, np.array([[0.0, np.nan]]), ValueError, "NaN"),
    (VariableUncertainty(), _fitted, np.array([["a", "b"]]), ValueError, "X"),
]


@pytest.mark.parametrize("selector, make, X, error, fragment", DECIDE_ERRORS)
def test_bad_decide_inputs(selector, make, X, error, fragment):
    estimator = make() if make is not None else None
    with pytest.raises(error, match=fragment):
        clone(selector).decide(estimator, X)


def test_bad_probabilities_name_proba():
    with pytest.raises(ValueError, match="proba .*NaN"):
        VariableUncertainty().decide_proba([[0.5, np.nan]])
    with pytest.raises(ValueError, match="proba"):
        VariableUncertainty().decide_proba([0.5, 0.5])


SIMULATE_ERRORS = [  # (keyword changes, error, fragment)
    ({"selector": "uncertain"}, ValueError, "not a stream selector name"),
    ({"selector": VariableUncertainty}, TypeError, "selector must be"),
    ({"learner": SVC()}, TypeError, "no predict_proba"),
    ({"learner": LogisticRegression}, TypeError, "learner must be"),
    ({"y_stream": np.r_[0, 1, -1, np.ones(47, int)]}, ValueError, "y_stream must hold every"),
    ({"y_stream": np.ones(50, int)}, ValueError, "single class"),
    ({"y_stream": np.ones(49, int)}, ValueError, "49 labels"),
    ({"X_stream": np.full((50, 2), np.nan)}, ValueError, "X_stream holds NaN"),
    ({"initial": 0}, ValueError, "'initial'"),
    ({"batch_size": True}, TypeError, "'batch_size'"),
    ({"refit_every": 1.5}, TypeError, "'refit_every'"),
    ({"X_test": np.zeros((5, 2))}, ValueError, "X_test and y_test"),
]


@pytest.mark.parametrize("changes, error, fragment", SIMULATE_ERRORS)
def test_bad_simulate_inputs(changes, error, fragment):
    X, y = stream(50)
    args = {"learner": LogisticRegression(), "X_stream": X, "y_stream": y,
            "selector": "variable_uncertainty", **changes}
    with pytest.raises(error, match=fragment):
        simulate_stream(**args)


def test_aulc_names_its_score():
    X, y = stream(60)
    result = simulate_stream(GaussianNB(), X, y, "random")
    with pytest.raises(ValueError, match="without X_test"):
        result.aulc()
    with pytest.raises(ValueError, match="score must be"):
        result.aulc("f1")
