"""Stopping criteria: each stops a real campaign when its measure says so, and not before."""

import pytest
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier, Campaign
from skal.stopping import (
    MaxUncertainty,
    OverallUncertainty,
    StabilizingPredictions,
    StoppingCriterion,
    resolve_stopping,
)


@pytest.fixture(scope="module")
def data(digits_xy):
    X, y = digits_xy
    return X[:600], y[:600]


def learner(**kw):
    params = dict(n_instances=20, initial_size=20, random_state=0, n_queries=25,
                  query_strategy="margin")
    params.update(kw)
    return ActiveLearningClassifier(LogisticRegression(max_iter=300), **params)


def test_stabilizing_predictions_stops_a_campaign_once_stable(data):
    X, y = data
    fitted = learner(stopping=StabilizingPredictions(threshold=0.97, window=2)).fit(X, y)
    campaign = fitted.campaign_
    assert campaign.stop_reason_ == "stabilizing predictions"
    assert len(campaign.history_) < 26  # before the budget
    rows = [row["stopping"][0] for row in campaign.history_]
    assert rows[-1].startswith("predictions stable for 2 of 2 rounds")
    assert not any(r.startswith("predictions stable for 2") for r in rows[:-1])  # not before
    # the learner's criterion is untouched: each campaign checks its own copy
    assert not hasattr(fitted.stopping, "kappas_")


def test_the_same_criterion_never_met_leaves_the_budget_to_end_it(data):
    X, y = data
    campaign = learner(n_queries=3, stopping=StabilizingPredictions(threshold=1.0,
                                                                    window=10)).fit(X, y)
    assert campaign.campaign_.stop_reason_ == "n_queries"


@pytest.mark.parametrize("criterion, reason", [
    (OverallUncertainty(threshold=0.3), "overall uncertainty"),
    (MaxUncertainty(threshold=0.9), "max uncertainty"),
])
def test_uncertainty_criteria_stop_when_the_model_is_confident(data, criterion, reason):
    X, y = data
    campaign = learner(stopping=[StabilizingPredictions(threshold=1.0, window=50),
                                 criterion]).fit(X, y).campaign_
    assert campaign.stop_reason_ == reason
    values = [float(row["stopping"][1].split()[2]) for row in campaign.history_]
    assert values[-1] < criterion.threshold and all(v >= criterion.threshold
                                                    for v in values[:-1])


def test_a_step_wise_campaign_records_the_progress_for_front_ends(data):
    X, y = data
    campaign = Campaign(learner(stopping=StabilizingPredictions(window=2)), X)
    batch = campaign.next_batch(30)
    campaign.answer(batch, y[batch])
    campaign.refit()
    assert campaign.history_[-1]["stopping"] == ["predictions stable for 0 of 2 rounds"]


BAD_STOPPING = [
    ("a class, not an object", StabilizingPredictions, TypeError, "stopping must be a criterion"),
    ("a string", "stable", TypeError, "'stopping' parameter"),
    ("a list with a non-criterion", [StabilizingPredictions(), 3], TypeError,
     "stopping must be a criterion"),
    ("kappa above 1", StabilizingPredictions(threshold=1.5), ValueError, "'threshold'"),
    ("window 0", StabilizingPredictions(window=0), ValueError, "'window'"),
    ("window True", StabilizingPredictions(window=True), ValueError, "not the bool"),
    ("threshold 0", OverallUncertainty(threshold=0), ValueError, "'threshold'"),
    ("stop set 0", MaxUncertainty(stop_set_size=0), ValueError, "'stop_set_size'"),
]


@pytest.mark.parametrize("name, stopping, error, match", BAD_STOPPING,
                         ids=[r[0] for r in BAD_STOPPING])
def test_bad_stopping_options_are_clear_errors(data, name, stopping, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        learner(n_queries=1, stopping=stopping).fit(X, y)


def test_resolve_stopping_gives_fresh_copies():
    criterion = StabilizingPredictions()
    criterion.kappas_ = [1.0]
    (copy,) = resolve_stopping(criterion)
    assert copy is not criterion and not hasattr(copy, "kappas_")
    assert isinstance(copy, StoppingCriterion)
