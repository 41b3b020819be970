import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skal.metrics import area_under_learning_curve, labels_to_reach


def test_aulc_linear_ramp_hand_computed():
    # Scores rise linearly from 0 to 1 over [0, 100]: area 50, width 100 -> 0.5.
    n_labeled = np.array([0, 25, 50, 75, 100])
    scores = n_labeled / 100
    assert area_under_learning_curve(n_labeled, scores) == pytest.approx(0.5)


def test_aulc_uneven_spacing_weights_segments_by_width():
    # Segments [10, 20] (mean 0.5) and [20, 50] (mean 0.9): (10*0.5 + 30*0.9) / 40 = 0.8.
    aulc = area_under_learning_curve([10, 20, 50], [0.4, 0.6, 1.2])
    assert aulc == pytest.approx(0.8)
    # A plain mean of the scores would give 0.733..., so the weighting matters.
    assert aulc != pytest.approx(np.mean([0.4, 0.6, 1.2]))


def test_aulc_returns_python_float_for_1d():
    aulc = area_under_learning_curve([1, 2], [0.2, 0.4])
    assert isinstance(aulc, float)
    assert aulc == pytest.approx(0.3)


@given(
    c=st.floats(0, 1),
    steps=st.lists(st.integers(1, 50), min_size=1, max_size=10),
    start=st.integers(0, 100),
)
def test_aulc_constant_curve_equals_constant(c, steps, start):
    n_labeled = start + np.cumsum([0, *steps])
    scores = np.full(n_labeled.shape, c)
    assert area_under_learning_curve(n_labeled, scores) == pytest.approx(c)


@given(
    scores=st.lists(st.floats(0, 1), min_size=2, max_size=20),
)
def test_aulc_in_unit_interval_for_unit_scores(scores):
    n_labeled = 10 * np.arange(1, len(scores) + 1)
    aulc = area_under_learning_curve(n_labeled, scores)
    assert min(scores) - 1e-12 <= aulc <= max(scores) + 1e-12
    assert 0.0 <= aulc <= 1.0


def test_aulc_2d_is_columnwise():
    n_labeled = np.array([0, 25, 50, 75, 100])
    ramp = n_labeled / 100
    scores = np.column_stack([ramp, np.full(5, 0.3), 1 - ramp])
    aulc = area_under_learning_curve(n_labeled, scores)
    assert isinstance(aulc, np.ndarray)
    assert aulc.shape == (3,)
    np.testing.assert_allclose(aulc, [0.5, 0.3, 0.5])
    for j in range(3):
        assert aulc[j] == pytest.approx(area_under_learning_curve(n_labeled, scores[:, j]))


def test_aulc_single_point_returns_score():
    assert area_under_learning_curve([10], [0.42]) == pytest.approx(0.42)
    np.testing.assert_allclose(area_under_learning_curve([10], [[0.1, 0.9]]), [0.1, 0.9])


def test_aulc_nan_propagates_to_its_column_only():
    scores = np.array([[0.5, 0.5], [np.nan, 0.7]])
    aulc = area_under_learning_curve([0, 10], scores)
    assert np.isnan(aulc[0])
    assert aulc[1] == pytest.approx(0.6)


@pytest.mark.parametrize("func", [area_under_learning_curve, labels_to_reach])
def test_length_mismatch_names_scores(func):
    args = ([10, 20, 30], [0.1, 0.2])
    kwargs = {"target": 0.1} if func is labels_to_reach else {}
    with pytest.raises(ValueError, match="^scores must have one row"):
        func(*args, **kwargs)


@pytest.mark.parametrize("func", [area_under_learning_curve, labels_to_reach])
@pytest.mark.parametrize("n_labeled", [[10, 30, 20], [10, 10, 20]])
def test_non_increasing_n_labeled_names_n_labeled(func, n_labeled):
    kwargs = {"target": 0.1} if func is labels_to_reach else {}
    with pytest.raises(ValueError, match="n_labeled.*strictly increasing"):
        func(n_labeled, [0.1, 0.2, 0.3], **kwargs)


@pytest.mark.parametrize(
    "n_labeled, scores, match",
    [
        ([], [], "n_labeled"),
        ([[1, 2]], [0.1, 0.2], "n_labeled"),
        ([1, 2], np.zeros((2, 2, 2)), "scores"),
        ([1, np.nan], [0.1, 0.2], "n_labeled"),
        (["a", "b"], [0.1, 0.2], "n_labeled"),
    ],
)
def test_malformed_input(n_labeled, scores, match):
    with pytest.raises(ValueError, match=match):
        area_under_learning_curve(n_labeled, scores)


def test_labels_to_reach_first_crossing():
    n_labeled = [10, 20, 30, 40]
    # Crosses at 30, dips, then crosses again: the first crossing wins.
    scores = [0.5, 0.7, 0.85, 0.6]
    assert labels_to_reach(n_labeled, scores, 0.8) == 30.0
    assert labels_to_reach(n_labeled, scores, 0.1) == 10.0


def test_labels_to_reach_exact_equality_counts():
    assert labels_to_reach([10, 20, 30], [0.5, 0.75, 0.9], target=0.75) == 20.0


def test_labels_to_reach_never_is_inf():
    result = labels_to_reach([10, 20, 30], [0.5, 0.75, 0.9], target=0.95)
    assert isinstance(result, float)
    assert result == np.inf


def test_labels_to_reach_ignores_nan():
    assert labels_to_reach([10, 20, 30], [np.nan, 0.2, 0.9], target=0.5) == 30.0
    assert labels_to_reach([10, 20], [np.nan, np.nan], target=0.0) == np.inf


def test_labels_to_reach_2d_is_columnwise():
    scores = np.array(
        [
            [0.9, 0.1, 0.1],
            [0.9, 0.6, 0.2],
            [0.9, 0.8, 0.3],
        ]
    )
    result = labels_to_reach([5, 15, 25], scores, target=0.6)
    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result, [5.0, 15.0, np.inf])


@pytest.mark.parametrize("target", ["0.5", None, float("nan"), True])
def test_labels_to_reach_bad_target(target):
    with pytest.raises(ValueError, match="target"):
        labels_to_reach([1, 2], [0.1, 0.2], target)
