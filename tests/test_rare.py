"""RareClassSampling: a rare class is found sooner than by uncertainty sampling."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier
from skal.strategies import QueryContext, RareClassSampling, select_batch


@pytest.fixture(scope="module")
def rare_pool(digits_xy):
    X, y = digits_xy
    keep = np.r_[np.flatnonzero(y != 9)[:600], np.flatnonzero(y == 9)[:8]]  # 9 is 1.3%
    return X[keep], y[keep]


def _rare_labels(strategy, X, y, seed):
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=300), query_strategy=strategy, n_queries=10,
        n_instances=10, initial_size=30, random_state=seed).fit(X, y)
    assert learner.history_[-1]["class_counts"][-1][0] == 9  # counts shown per round
    return int((y[learner.labeled_indices_] == 9).sum())


@pytest.mark.parametrize("seed", [1, 2])
def test_the_rare_class_gets_more_labels_than_with_margin_or_random(rare_pool, seed):
    X, y = rare_pool
    rare = _rare_labels(RareClassSampling(), X, y, seed)
    assert rare > _rare_labels("margin", X, y, seed)
    assert rare > _rare_labels("random", X, y, seed)


def test_the_batch_goes_round_robin_over_predicted_classes_fewest_labels_first(rare_pool):
    X, y = rare_pool
    labeled = np.r_[np.flatnonzero(y == 0)[:5], np.flatnonzero(y == 1)[:3],
                    np.flatnonzero(y == 9)[:1]]
    model = LogisticRegression(max_iter=300).fit(X[labeled], y[labeled])
    context = QueryContext(random_state=0, X_labeled=X[labeled], y_labeled=y[labeled])
    idx, scores = select_batch(RareClassSampling(), model, X, 6, context)
    predicted = model.predict(X[idx])
    assert predicted.tolist() == [9, 1, 0, 9, 1, 0]  # 1 label, 3, then 5
    assert len(set(idx.tolist())) == 6 and np.isfinite(scores).all()
    with pytest.raises(ValueError, match="'measure'"):
        ActiveLearningClassifier(LogisticRegression(), query_strategy=RareClassSampling(
            measure="bald"), n_queries=1).fit(X, y)
