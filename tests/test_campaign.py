import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skal._campaign import initial_indices, run_campaign


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(st.integers(1, 30), min_size=2, max_size=8),
    size=st.integers(1, 60),
    seed=st.integers(0, 1000),
)
def test_initial_set_is_stratified(counts, size, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    if size > len(y):
        with pytest.raises(ValueError, match="initial_size"):
            initial_indices(y, size, seed)
        return
    idx = initial_indices(y, size, seed)
    assert len(idx) == size and len(np.unique(idx)) == size
    present = set(y[idx])
    assert len(present) == min(size, len(counts))  # one per class where possible
    np.testing.assert_array_equal(idx, initial_indices(y, size, seed))


def test_skipped_labels_are_not_trained_on_nor_asked_again():
    y = np.arange(20) % 2
    fitted_on = []

    def reveal(idx):
        return np.array([-1 if i % 5 == 0 else y[i] for i in idx], dtype=object)

    def fit(idx, labels, prev):
        fitted_on.append(np.array(idx))
        return "model"

    def query(est, candidates, labeled, n, round_):
        return np.arange(min(n, len(candidates))), np.zeros(min(n, len(candidates)))

    result = run_campaign(
        n_samples=20, initial=np.array([1, 2, 5]), n_queries=10, n_instances=4,
        reveal=reveal, fit=fit, query=query,
    )
    assert 5 not in result.labeled_indices and 0 not in result.labeled_indices
    assert all(i % 5 != 0 for i in np.concatenate(fitted_on))
    asked = np.concatenate([np.array([1, 2, 5]), *result.queried_indices])
    assert len(np.unique(asked)) == len(asked) == 20  # nobody asked twice; pool exhausted
    np.testing.assert_array_equal(result.labels, y[result.labeled_indices])
