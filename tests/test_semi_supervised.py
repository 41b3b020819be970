"""PseudoLabels and resolve_semi_supervised, on real models (no mocks)."""

import math
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import skal
from skal.semi_supervised import (
    LabelSpreadingPseudoLabels,
    PoolTraining,
    PseudoLabels,
    pool_training,
    resolve_semi_supervised,
)

N_LABELED = 50


@pytest.fixture(scope="module")
def split(digits_xy):
    """50 labeled digits (seed 0), the rest as candidates, and a model fitted on the 50."""
    X, y = digits_xy
    rng = np.random.default_rng(0)
    labeled = np.sort(rng.choice(len(X), N_LABELED, replace=False))
    candidates = np.setdiff1d(np.arange(len(X)), labeled)
    model = LogisticRegression(C=10, max_iter=5000).fit(X[labeled], y[labeled])
    return X, y, labeled, candidates, model


def confident(model, X, candidates, threshold):
    """Brute force: the candidates whose highest probability reaches the threshold."""
    proba = model.predict_proba(X[candidates])
    return candidates[proba.max(axis=1) >= threshold], proba


def test_confident_rows_are_selected_with_the_models_predictions(split):
    X, _, _, candidates, model = split
    idx, labels = PseudoLabels(threshold=0.9, max_ratio=1000).select(
        model, X, candidates, N_LABELED)
    expected, _ = confident(model, X, candidates, 0.9)
    assert len(expected) > 100
    np.testing.assert_array_equal(idx, expected)  # ascending, every confident candidate
    np.testing.assert_array_equal(labels, model.predict(X[idx]))
    assert idx.dtype == np.intp and labels.dtype == model.classes_.dtype
    assert np.isin(idx, candidates).all()


def test_threshold_one_with_a_soft_model_selects_only_certain_rows(split):
    X, y, labeled, candidates, _ = split
    soft = LogisticRegression(C=1.0, max_iter=5000).fit(X[labeled], y[labeled])
    idx, labels = PseudoLabels(threshold=1.0, max_ratio=1000).select(
        soft, X, candidates, N_LABELED)
    assert len(idx) <= 5 and len(idx) == len(labels)
    if len(idx):
        assert (soft.predict_proba(X[idx]).max(axis=1) == 1.0).all()


@pytest.mark.parametrize("n_labeled, max_ratio", [(20, 1.0), (50, 1.0), (13, 0.5), (100, 2.0)])
def test_per_class_cap_keeps_the_most_confident_of_each_class(split, n_labeled, max_ratio):
    X, _, _, candidates, model = split
    idx, labels = PseudoLabels(threshold=0.5, max_ratio=max_ratio).select(
        model, X, candidates, n_labeled)
    cap = math.ceil(max_ratio * n_labeled / len(model.classes_))
    classes, counts = np.unique(labels, return_counts=True)
    assert counts.max() <= cap and len(idx) <= max_ratio * n_labeled
    # within a class, nothing left out is more confident than what was kept
    sure, proba = confident(model, X, candidates, 0.5)
    conf = dict(zip(candidates, proba.max(axis=1), strict=True))
    predicted = dict(zip(candidates, model.classes_[proba.argmax(axis=1)], strict=True))
    for c in classes:
        kept = idx[labels == c]
        left = [i for i in sure if predicted[i] == c and i not in set(kept)]
        if left:
            assert min(conf[i] for i in kept) >= max(conf[i] for i in left)


def test_total_cap_keeps_the_fit_within_one_plus_max_ratio(split):
    X, _, _, candidates, model = split
    # per class ceil(0.1 * 30 / 10) = 1, in all floor(0.1 * 30) = 3: three classes, one each
    idx, labels = PseudoLabels(threshold=0.5, max_ratio=0.1).select(model, X, candidates, 30)
    assert len(idx) == 3 and len(set(labels)) == 3
    # 3 classes: per class 0.28 * 75 / 3 = 7.000000000000001 in floats, still 7, not 8
    # (visible when a class has no candidate: two classes, 7 each, within the 21 in all)
    X, y = split[0], split[1]
    first3 = np.flatnonzero(y < 3)
    three = LogisticRegression(max_iter=5000).fit(X[first3[:30]], y[first3[:30]])
    rest = first3[30:]
    rest = rest[three.predict(X[rest]) < 2]
    _, few = PseudoLabels(threshold=0.5, max_ratio=0.28).select(three, X, rest, 75)
    assert np.unique(few, return_counts=True)[1].tolist() == [7, 7]
    empty = PseudoLabels(threshold=0.5).select(model, X, candidates, 0)
    assert len(empty[0]) == len(empty[1]) == 0


def test_result_does_not_depend_on_chunking_or_candidate_order(split):
    X, _, _, candidates, model = split
    pseudo = PseudoLabels(threshold=0.8, max_ratio=2)
    idx, labels = pseudo.select(model, X, candidates, N_LABELED)
    shuffled = np.random.default_rng(1).permutation(candidates)
    for cand, size in ((candidates, 37), (shuffled, 16384), (shuffled, 1)):
        other = pseudo.select(model, X, cand, N_LABELED, pool_batch_size=size)
        np.testing.assert_array_equal(other[0], idx)
        np.testing.assert_array_equal(other[1], labels)


def test_max_pool_draw_is_seeded(split):
    X, _, _, candidates, model = split
    pseudo = PseudoLabels(threshold=0.5, max_ratio=1000, max_pool=300)
    a = pseudo.select(model, X, candidates, N_LABELED, random_state=0)
    again = pseudo.select(model, X, candidates, N_LABELED, random_state=0)
    other = pseudo.select(model, X, candidates, N_LABELED, random_state=1)
    np.testing.assert_array_equal(a[0], again[0])
    assert not np.array_equal(a[0], other[0])
    assert 0 < len(a[0]) <= 300 and 0 < len(other[0]) <= 300
    # a Generator works too, and a pool no larger than max_pool is scored whole
    assert len(pseudo.select(model, X, candidates, N_LABELED, np.random.default_rng(0))[0])
    whole = [PseudoLabels(threshold=0.5, max_ratio=1000, max_pool=len(candidates)).select(
        model, X, candidates, N_LABELED, random_state=seed)[0] for seed in (0, 1)]
    np.testing.assert_array_equal(whole[0], whole[1])


def test_dataframe_and_memmap_pools_give_the_same_result(split, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y, labeled, candidates, model = split
    pseudo = PseudoLabels(threshold=0.8, max_ratio=2, max_pool=500)
    idx, labels = pseudo.select(model, X, candidates, N_LABELED, random_state=3)
    assert len(idx) > 0

    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    frame_model = LogisticRegression(C=10, max_iter=5000).fit(frame.iloc[labeled], y[labeled])
    from_frame = pseudo.select(frame_model, frame, candidates, N_LABELED, random_state=3,
                               pool_batch_size=100)

    mm = np.memmap(tmp_path / "pool.dat", dtype=X.dtype, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    mm = np.memmap(tmp_path / "pool.dat", dtype=X.dtype, mode="r", shape=X.shape)
    from_memmap = pseudo.select(model, mm, candidates, N_LABELED, random_state=3)

    for other in (from_frame, from_memmap):
        np.testing.assert_array_equal(other[0], idx)
        np.testing.assert_array_equal(other[1], labels)


def test_string_classes_come_back_as_strings(split):
    X, y, labeled, candidates, _ = split
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    for y_named in (names[y], names[y].astype(object)):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        model.fit(X[labeled], y_named[labeled])
        idx, labels = PseudoLabels(threshold=0.9).select(model, X, candidates, N_LABELED)
        assert len(idx) > 0 and labels.dtype == model.classes_.dtype
        assert all(isinstance(label, str) for label in labels)
        np.testing.assert_array_equal(labels, model.predict(X[idx]))


def test_pseudo_labels_on_digits_are_mostly_right(split):
    X, y, _, candidates, model = split
    for max_ratio, at_least in ((1.0, 30), (1000, 200)):
        idx, labels = PseudoLabels(threshold=0.95, max_ratio=max_ratio).select(
            model, X, candidates, N_LABELED)
        assert len(idx) >= at_least
        assert (labels == y[idx]).mean() >= 0.95
    # what the model gets right overall is much less: the threshold is what makes them right
    assert (model.predict(X[candidates]) == y[candidates]).mean() < 0.9


def test_a_cnn_pseudo_labels_its_confident_digits(digits_xy):
    from tests.conftest import tiny_cnn

    X, y = digits_xy
    X, y = X[:400], y[:400]
    cnn = tiny_cnn(epochs=2).fit(X[:100], y[:100])
    candidates = np.arange(100, 400)
    proba = cnn.predict_proba(X[candidates])
    threshold = float(np.quantile(proba.max(axis=1), 0.5))
    idx, labels = PseudoLabels(threshold=threshold, max_ratio=1.0).select(
        cnn, X, candidates, 100, pool_batch_size=64)
    assert 0 < len(idx) <= 100
    assert np.unique(labels, return_counts=True)[1].max() <= 10
    np.testing.assert_array_equal(labels, cnn.predict(X[idx]))
    assert (cnn.predict_proba(X[idx]).max(axis=1) >= threshold - 1e-6).all()


def test_params_clone_pickle_and_repr():
    pseudo = PseudoLabels(threshold=0.9, max_ratio=0.5, max_pool=None)
    assert pseudo.get_params() == {"threshold": 0.9, "max_ratio": 0.5, "max_pool": None}
    assert repr(pseudo) == "PseudoLabels(max_pool=None, max_ratio=0.5, threshold=0.9)"
    for copy in (clone(pseudo), pickle.loads(pickle.dumps(pseudo))):
        assert copy is not pseudo and copy.get_params() == pseudo.get_params()
    assert clone(pseudo).set_params(threshold=0.8).threshold == 0.8
    assert skal.PseudoLabels is PseudoLabels and repr(PseudoLabels()) == "PseudoLabels()"


def test_resolve_semi_supervised_accepts_what_it_documents():
    assert resolve_semi_supervised(None) is None
    assert resolve_semi_supervised(False) is None
    assert resolve_semi_supervised("pseudo_labels").get_params() == PseudoLabels().get_params()
    mine = PseudoLabels(threshold=0.8)
    assert resolve_semi_supervised(mine) is mine


class SelectOnly:
    """The duck type ``semi_supervised`` used to advertise (``select``), without ``augment``."""

    def select(self, estimator, X, candidates, n_labeled, random_state=None, **kw):
        return np.empty(0, np.intp), np.empty(0)

    def __repr__(self):
        return "SelectOnly()"


class NotCallable:
    augment = 3


class Returns(PoolTraining):
    """An option that answers ``value`` whatever it is asked."""

    needs_model = False

    def __init__(self, value=None):
        self.value = value

    def augment(self, X, labeled, labels, unlabeled, previous, **kw):
        return self.value


def answer(value, model, X):
    """``value`` as an option's answer to a refit with rows 0-59 labeled."""
    labeled = np.arange(60)
    return pool_training(Returns(value), X, labeled, np.arange(60) % 2,
                         np.arange(60, len(X)), model)


LR = LogisticRegression(max_iter=1000)
BAD_INPUTS = [
    # (what, call, expected exception, message fragment)
    ("threshold 0", lambda m, X: PseudoLabels(threshold=0).select(m, X, [1], 5),
     ValueError, "'threshold' parameter of PseudoLabels must be a float in the range (0.0, 1.0]"),
    ("threshold 1.5", lambda m, X: PseudoLabels(threshold=1.5).select(m, X, [1], 5),
     ValueError, "'threshold' parameter"),
    ("threshold 'x'", lambda m, X: PseudoLabels(threshold="x").select(m, X, [1], 5),
     ValueError, "Got 'x' instead"),
    ("max_ratio 0", lambda m, X: PseudoLabels(max_ratio=0).select(m, X, [1], 5),
     ValueError, "'max_ratio' parameter of PseudoLabels must be a float in the range (0.0, inf)"),
    ("max_ratio -1", lambda m, X: PseudoLabels(max_ratio=-1).select(m, X, [1], 5),
     ValueError, "'max_ratio' parameter"),
    ("max_pool 0", lambda m, X: PseudoLabels(max_pool=0).select(m, X, [1], 5),
     ValueError, "'max_pool' parameter of PseudoLabels must be an int in the range [1, inf)"),
    ("max_pool 1.5", lambda m, X: PseudoLabels(max_pool=1.5).select(m, X, [1], 5),
     ValueError, "'max_pool' parameter"),
    ("no predict_proba", lambda m, X: PseudoLabels().select(SVC().fit(X[:20], [0, 1] * 10),
                                                            X, [1], 5),
     TypeError, "need the estimator's predict_proba(), which SVC does not have"),
    ("not fitted", lambda m, X: PseudoLabels().select(clone(LR), X, [1], 5),
     NotFittedError, "has no classes_: fit it first"),
    ("n_labeled -1", lambda m, X: PseudoLabels().select(m, X, [1], -1),
     ValueError, "'n_labeled' parameter of pseudo-label selection must be an int in the "
     "range [0, inf). Got -1"),
    ("n_labeled 2.5", lambda m, X: PseudoLabels().select(m, X, [1], 2.5),
     ValueError, "'n_labeled' parameter of pseudo-label selection must be an int in the range [0"),
    ("pool_batch_size 0", lambda m, X: PseudoLabels().select(m, X, [1], 5, pool_batch_size=0),
     ValueError, "'pool_batch_size' parameter of pseudo-label selection must be an int in "
     "the range [1"),
    ("float candidates", lambda m, X: PseudoLabels().select(m, X, [1.0, 2.0], 5),
     TypeError, "candidates must be integer row indices"),
    ("2-D candidates", lambda m, X: PseudoLabels().select(m, X, [[1, 2]], 5),
     ValueError, "candidates must be a 1-D array"),
    ("candidate outside", lambda m, X: PseudoLabels().select(m, X, [1, len(X)], 5),
     ValueError, "outside the pool"),
    ("repeated candidate", lambda m, X: PseudoLabels().select(m, X, [1, 1], 5),
     ValueError, "1 repeated indices"),
    ("iterable pool", lambda m, X: PseudoLabels().select(m, iter([X]), [1], 5),
     TypeError, "X must be a pool that can be indexed by row"),
    ("'pseudo'", lambda m, X: resolve_semi_supervised("pseudo"),
     ValueError, "Unknown semi_supervised='pseudo'; choose None, False, 'pseudo_labels', "
                 "'label_spreading'"),
    ("3", lambda m, X: resolve_semi_supervised(3),
     TypeError, "semi_supervised must be None, False, 'pseudo_labels', 'label_spreading', "
                "'consistency' or an object with an augment() method (a "
                "skal.semi_supervised.PoolTraining), got 3 (int)"),
    ("object()", lambda m, X: resolve_semi_supervised(object()),
     TypeError, "semi_supervised must be"),
    ("True", lambda m, X: resolve_semi_supervised(True), TypeError, "got True (bool)"),
    ("bad PseudoLabels", lambda m, X: resolve_semi_supervised(PseudoLabels(threshold=0)),
     ValueError, "'threshold' parameter"),
    ("a class, not an object", lambda m, X: resolve_semi_supervised(PseudoLabels),
     TypeError, "got the class PseudoLabels; give an object of it: PseudoLabels()"),
    ("only select (was advertised)", lambda m, X: resolve_semi_supervised(SelectOnly()),
     TypeError, "an object with an augment() method (a skal.semi_supervised.PoolTraining), "
                "got SelectOnly() (SelectOnly)"),
    ("augment not callable", lambda m, X: resolve_semi_supervised(NotCallable()),
     TypeError, "semi_supervised must be"),
    ("augment gives a list", lambda m, X: answer([1, [0]], m, X),
     TypeError, "Returns.augment must return a PoolTrainingResult(indices, labels, "
                "fit_params, n_unlabeled), got list"),
    ("augment gives 1-tuple", lambda m, X: answer(([1],), m, X),
     TypeError, "must return a PoolTrainingResult"),
    ("labeled row given back", lambda m, X: answer(([0, 60], [1, 1]), m, X),
     ValueError, "Returns.augment returned rows that are not unlabeled pool rows: [0]"),
    ("row outside the pool", lambda m, X: answer(([len(X)], [1]), m, X),
     ValueError, "not unlabeled pool rows: [1797]"),  # the digits pool has 1797
    ("repeated row", lambda m, X: answer(([60, 60], [1, 1]), m, X),
     ValueError, "Returns.augment returned 1 repeated indices"),
    ("float rows", lambda m, X: answer(([60.0], [1]), m, X),
     TypeError, "returned indices of shape (1,) and dtype float64"),
    ("boolean mask", lambda m, X: answer((np.arange(len(X)) > 60, [1]), m, X),
     TypeError, "dtype bool"),
    ("a label short", lambda m, X: answer(([60, 61], [1]), m, X),
     ValueError, "returned 2 indices but labels of shape (1,)"),
    ("one-hot labels", lambda m, X: answer(([60, 61], np.eye(2)), m, X),
     ValueError, "returned 2 indices but labels of shape (2, 2)"),
    ("fit_params a list", lambda m, X: answer(([], [], [("sample_weight", 1)]), m, X),
     TypeError, "returned fit_params=[('sample_weight', 1)]; give a dict"),
    ("fit_params key not a str", lambda m, X: answer(([], [], {0: 1}), m, X),
     TypeError, "returned fit_params={0: 1}"),
    ("n_unlabeled -1", lambda m, X: answer(([], [], {}, -1), m, X),
     ValueError, "returned n_unlabeled=-1; give an int >= 0"),
    ("n_unlabeled True", lambda m, X: answer(([], [], {}, True), m, X),
     ValueError, "returned n_unlabeled=True"),
    ("text pool, spreading", lambda m, X: LabelSpreadingPseudoLabels().select(
        None, np.full(X.shape, "x"), np.arange(40, 80), 40, labeled=np.arange(40),
        labels=np.arange(40) % 2),
     ValueError, "reads the raw features, which must be numbers"),
]


@pytest.mark.parametrize("what, call, error, fragment", BAD_INPUTS,
                         ids=[row[0] for row in BAD_INPUTS])
def test_bad_inputs_fail_with_a_clear_message(split, what, call, error, fragment):
    X, y, labeled, _, model = split
    with pytest.raises(error) as info:
        call(model, X)
    assert fragment in str(info.value), str(info.value)


# --------------------------------------------------------------------------- in a campaign


def _campaign_learner(**kw):
    from skal import ActiveLearningClassifier

    params = dict(query_strategy="margin", n_queries=3, n_instances=10, initial_size=30,
                  random_state=0, semi_supervised="pseudo_labels")
    params.update(kw)
    return ActiveLearningClassifier(LogisticRegression(max_iter=500, C=10), **params)


def test_campaign_trains_on_pseudo_labels_but_never_records_them(digits_xy, tmp_path):
    X, y = digits_xy
    journal = tmp_path / "labels.sqlite"
    learner = _campaign_learner(journal=str(journal)).fit(X, y)
    pseudo = [row["n_pseudo_labeled"] for row in learner.history_]
    assert pseudo[0] == 0  # no previous model at the first fit
    assert all(0 < p <= row["n_labeled"] for p, row in zip(pseudo[1:], learner.history_[1:]))
    assert learner.n_labeled_ == 60  # real labels only
    from skal import LabelJournal

    assert len(LabelJournal(journal).labels()) == 60
    plain = _campaign_learner(semi_supervised=None).fit(X, y)
    assert [row["n_pseudo_labeled"] for row in plain.history_] == [0, 0, 0, 0]
    # the first fits agree, then the pool changes the model (and so the queries)
    np.testing.assert_array_equal(learner.queried_indices_[0], plain.queried_indices_[0])
    assert not np.allclose(learner.estimator_.coef_, plain.estimator_.coef_)


def test_campaign_with_pseudo_labels_is_reproducible_and_takes_string_labels(digits_xy):
    X, y = digits_xy
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])[y]
    a = _campaign_learner().fit(X, names)
    b = _campaign_learner().fit(X, names)
    for qa, qb in zip(a.queried_indices_, b.queried_indices_):
        np.testing.assert_array_equal(qa, qb)
    assert set(a.predict(X[:50])) <= set(names)


def test_campaign_pseudo_labels_with_a_cnn(make_cnn, digits):
    from skal import ActiveLearningClassifier

    X_tr, X_te, y_tr, y_te = digits
    learner = ActiveLearningClassifier(
        make_cnn(epochs=5, min_train_steps=150), n_queries=2, n_instances=10,
        initial_size=40, random_state=0, semi_supervised=PseudoLabels(threshold=0.6),
    ).fit(X_tr, y_tr)
    assert [row["n_pseudo_labeled"] > 0 for row in learner.history_] == [False, True, True]
    assert learner.score(X_te, y_te) > 0.3


@pytest.mark.parametrize("value, exc", [("pseudo", ValueError), (3, TypeError),
                                        (object(), TypeError)])
def test_learner_refuses_bad_semi_supervised_at_fit(value, exc, digits_xy):
    X, y = digits_xy
    with pytest.raises(exc, match="semi_supervised"):
        _campaign_learner(semi_supervised=value).fit(X, y)


# --------------------------------------------------------------------------- label spreading


def _spread(X, y, n=30, **kw):
    from skal.semi_supervised import LabelSpreadingPseudoLabels

    labeled = np.random.default_rng(0).choice(len(X), n, replace=False)
    pool = np.setdiff1d(np.arange(len(X)), labeled)
    idx, guesses = LabelSpreadingPseudoLabels(**kw).select(
        None, X, pool, n, 0, labeled=labeled, labels=y[labeled])
    return labeled, idx, guesses


def test_label_spreading_pseudo_labels_are_mostly_right_and_capped(digits_xy):
    X, y = digits_xy
    labeled, idx, guesses = _spread(X, y, n=50)
    assert len(idx) == 150  # max_ratio=3
    assert not np.isin(idx, labeled).any() and np.all(np.diff(idx) > 0)
    assert (guesses == y[idx]).mean() >= 0.95
    counts = np.bincount(guesses, minlength=10)
    assert counts.max() <= math.ceil(3 * 50 / 10)
    _, few, _ = _spread(X, y, n=50, max_ratio=0.5)
    assert len(few) == 25
    _, wide, _ = _spread(X, y, n=50, max_ratio=10)
    _, capped, capped_guesses = _spread(X, y, n=50, max_ratio=10, max_pseudo_labels=120)
    assert len(wide) == 500 and len(capped) == 120
    assert np.isin(capped, wide).all()  # the surest of the same spread
    assert np.bincount(capped_guesses, minlength=10).max() <= 12 + 1  # still balanced


def test_label_spreading_takes_frames_images_and_string_labels(digits_xy):
    import pandas as pd

    X, y = digits_xy
    names = np.array([f"digit {d}" for d in range(10)])[y]
    _, idx, guesses = _spread(X, names)
    _, idx_frame, guesses_frame = _spread(pd.DataFrame(X), names)
    _, idx_image, guesses_image = _spread(X.reshape(-1, 8, 8, 1), names)
    np.testing.assert_array_equal(idx, idx_frame)
    np.testing.assert_array_equal(idx, idx_image)
    np.testing.assert_array_equal(guesses, guesses_image)
    assert set(guesses) <= set(names)


def test_label_spreading_in_a_campaign_from_the_first_fit(digits_xy):
    X, y = digits_xy
    learner = _campaign_learner(semi_supervised="label_spreading").fit(X, y)
    pseudo = [row["n_pseudo_labeled"] for row in learner.history_]
    assert pseudo == [3 * row["n_labeled"] for row in learner.history_]  # no model needed
    assert learner.n_labeled_ == 60


BAD_SPREADING = [  # (options, exception, fragment)
    (dict(threshold=1.5), ValueError, "threshold"),
    (dict(max_ratio=0), ValueError, "max_ratio"),
    (dict(max_pseudo_labels=0), ValueError, "max_pseudo_labels"),
    (dict(max_pseudo_labels=2.5), TypeError, "max_pseudo_labels"),
    (dict(max_pseudo_labels=True), ValueError, "max_pseudo_labels"),  # not 1
    (dict(max_pseudo_labels="all"), TypeError, "max_pseudo_labels"),
    (dict(n_neighbors=0), ValueError, "n_neighbors"),
    (dict(alpha=1.0), ValueError, "alpha"),
    (dict(n_components="all"), TypeError, "n_components"),
    (dict(min_accuracy=1.2), ValueError, "min_accuracy"),
    (dict(embedding="umap"), ValueError, "embedding"),
    (dict(embedding="TSNE"), ValueError, "embedding"),
    (dict(embedding="model"), TypeError, "has no embed"),  # _spread passes no model
]


@pytest.mark.parametrize("options, exc, fragment", BAD_SPREADING)
def test_label_spreading_bad_options(options, exc, fragment, digits_xy):
    X, y = digits_xy
    with pytest.raises(exc, match=fragment):
        _spread(X, y, **options)


def test_label_spreading_needs_the_labeled_rows(digits_xy):
    from skal.semi_supervised import LabelSpreadingPseudoLabels

    X, y = digits_xy
    with pytest.raises(TypeError, match="labeled= and labels="):
        LabelSpreadingPseudoLabels().select(None, X, np.arange(10, 100), 10)
    with pytest.raises(ValueError, match="labeled has 10 rows but labels 9"):
        LabelSpreadingPseudoLabels().select(None, X, np.arange(10, 100), 10,
                                            labeled=np.arange(10), labels=y[:9])


# (what, select's keyword overrides, error, message fragment): labeled rows 0-39 (digits),
# candidates 40-299. Each was a raw error from numpy or a silent wrong answer before.
BAD_LABELED = [
    ("labeled outside the pool", dict(labeled=np.r_[:39, 5000]), ValueError,
     "labeled has indices outside the pool (of 300 rows): [5000]"),
    ("negative labeled row (was the last row)", dict(labeled=np.r_[:39, -1]), ValueError,
     "labeled has indices outside the pool (of 300 rows): [-1]"),
    ("float labeled rows (were truncated)", dict(labeled=np.arange(40) + 0.5), TypeError,
     "labeled must be integer row indices, got dtype float64"),
    ("string labeled rows (were parsed)", dict(labeled=np.arange(40).astype(str)), TypeError,
     "labeled must be integer row indices"),
    ("boolean mask", dict(labeled=np.arange(300) < 40), TypeError,
     "labeled must be integer row indices, got dtype bool"),
    ("2-D labeled", dict(labeled=np.arange(40).reshape(-1, 1)), ValueError,
     "labeled must be a 1-D array of row indices, got shape (40, 1)"),
    ("repeated labeled row", dict(labeled=np.r_[:39, 0]), ValueError,
     "labeled has 1 repeated indices"),
    ("labeled row among the candidates", dict(labeled=np.r_[:39, 100]), ValueError,
     "labeled and candidates share 1 row(s) ([100])"),
    ("NaN label (was a class)", dict(labels=np.r_[np.zeros(39), np.nan]), ValueError,
     "labels hold 1 missing value(s)"),
    ("None label", dict(labels=[0] * 39 + [None]), ValueError, "labels hold 1 missing value(s)"),
    ("-1 label", dict(labels=np.r_[np.zeros(39, int), -1]), ValueError, "labels hold 1 missing"),
    ("mixed label types", dict(labels=[0] * 39 + ["a"]), ValueError,
     "labels mix label types ['int', 'str']"),
    ("one-hot labels", dict(labels=np.eye(2)[np.arange(40) % 2]), ValueError,
     "labels must be 1-D, one class label per labeled row, got shape (40, 2)"),
    ("string seed", dict(random_state="abc"), TypeError,
     "random_state must be None, an int >= 0 or a numpy Generator, got 'abc'"),
    ("pool_batch_size 0", dict(pool_batch_size=0), ValueError,
     "'pool_batch_size' parameter of pseudo-label selection must be an int in the range "
     "[1, inf). Got 0"),
    ("pool_batch_size -1", dict(pool_batch_size=-1), ValueError,
     "'pool_batch_size' parameter of pseudo-label selection must be an int in the range "
     "[1, inf). Got -1"),
]


@pytest.mark.parametrize("what, overrides, exc, fragment", BAD_LABELED,
                         ids=[row[0] for row in BAD_LABELED])
def test_label_spreading_refuses_bad_labeled_rows_and_labels(digits_xy, what, overrides, exc,
                                                             fragment):
    from skal.semi_supervised import LabelSpreadingPseudoLabels

    X, y = digits_xy
    call = dict(labeled=np.arange(40), labels=y[:40], random_state=0) | overrides
    with pytest.raises(exc) as info:
        LabelSpreadingPseudoLabels().select(None, X[:300], np.arange(40, 300), 40, **call)
    assert fragment in str(info.value), str(info.value)


def test_label_spreading_with_no_label_gives_an_empty_answer(digits_xy):
    from skal.semi_supervised import LabelSpreadingPseudoLabels

    X, y = digits_xy
    idx, guesses = LabelSpreadingPseudoLabels().select(
        None, X, np.arange(300), 0, labeled=np.array([], int), labels=y[:0])
    assert len(idx) == 0 and len(guesses) == 0


def test_a_sparse_pool_is_refused_by_the_raw_feature_readers(digits_xy):
    import scipy.sparse as sp

    from skal.semi_supervised import LabelSpreadingPseudoLabels

    X, y = digits_xy
    with pytest.raises(TypeError, match="reads the raw features as a dense array, but the pool "
                                        "is a sparse csr_matrix"):
        LabelSpreadingPseudoLabels().select(None, sp.csr_matrix(X), np.arange(40, 300), 40,
                                            labeled=np.arange(40), labels=y[:40])


def test_label_spreading_gives_nothing_where_the_graph_does_not_carry_the_labels(digits_xy):
    X, y = digits_xy
    noise = np.random.default_rng(0).permutation(y)  # labels unrelated to the features
    _, idx, _ = _spread(X, noise, n=100)
    assert len(idx) == 0
    _, idx, _ = _spread(X, noise, n=100, min_accuracy=0.0)  # the check off: noise is spread
    assert len(idx) == 300
    _, idx, _ = _spread(X, y, n=100)
    assert len(idx) == 300


def _one_label_per_class(y, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(np.flatnonzero(y == c)) for c in np.unique(y)])


def _check_both(Z, codes, n_unlabeled):
    """(held_out_accuracy, held_out_precision) of a k-NN spreading over ``Z``."""
    from sklearn.semi_supervised import LabelSpreading

    from skal.semi_supervised._graph import held_out_accuracy, held_out_precision

    spread = LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.2, max_iter=100)
    return (held_out_accuracy(spread, Z, codes, n_unlabeled, 0),
            held_out_precision(spread, Z, codes, n_unlabeled, 0))


def test_held_out_precision_trusts_separate_clusters_with_one_label_each():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=400, centers=np.arange(5)[:, None] * [40.0, 0], random_state=0)
    labeled = _one_label_per_class(y)
    rest = np.setdiff1d(np.arange(len(X)), labeled)
    Z = np.vstack([X[labeled], X[rest]])
    # No hidden label of a single-label class can be recovered: the old check scores 0;
    # spreading leaves each hidden one unreached, as a graph that follows the classes does.
    assert _check_both(Z, y[labeled], len(rest)) == (0.0, 1.0)
    # One connected cloud: every hidden label is reached by another class's label.
    noise = np.random.default_rng(0).normal(size=(400, 2))
    assert _check_both(noise[np.r_[labeled, rest]], y[labeled], len(rest)) == (0.0, 0.0)


def test_held_out_precision_does_not_blame_clusters_no_label_reaches():
    from sklearn.datasets import make_blobs

    # Each class has two far-apart clusters: two of its labels in the first, one in the other.
    centers = np.array([[0, 0], [100, 0], [0, 50], [100, 50], [0, 100], [100, 100]], float)
    X, blob = make_blobs(n_samples=180, centers=centers, cluster_std=1.0, random_state=0)
    y = blob // 2
    rng = np.random.default_rng(0)
    labeled = np.concatenate([rng.choice(np.flatnonzero(blob == b), 2 if b % 2 == 0 else 1,
                                         replace=False) for b in range(6)])
    rest = np.setdiff1d(np.arange(len(X)), labeled)
    accuracy, precision = _check_both(X[np.r_[labeled, rest]], y[labeled], len(rest))
    assert accuracy == pytest.approx(2 / 3)  # the lone label of each far cluster: missed
    assert precision == 1.0  # ... and never wrong: spreading leaves its cluster unlabeled


def test_label_spreading_with_one_label_per_class_on_a_tsne_map(digits_xy):
    X, y = digits_xy
    X, y = X[:500], y[:500]
    labeled = _one_label_per_class(y)
    pool = np.setdiff1d(np.arange(len(X)), labeled)
    spreading = LabelSpreadingPseudoLabels(embedding="tsne", max_ratio=20.0)
    idx, guesses = spreading.select(None, X, pool, len(labeled), 0, labeled=labeled,
                                    labels=y[labeled])
    assert len(idx) >= 100 and (guesses == y[idx]).mean() >= 0.9
    # Features that carry no class (one connected cloud): the same labels spread nowhere.
    noise = np.random.default_rng(0).normal(size=X.shape).astype(np.float32)
    idx, _ = LabelSpreadingPseudoLabels().select(None, noise, pool, len(labeled), 0,
                                                 labeled=labeled, labels=y[labeled])
    assert len(idx) == 0


# ------------------------------------------------------- label spreading over the model's embedding


def test_label_spreading_over_a_fitted_cnns_embedding(make_cnn, digits_xy):
    X, y = digits_xy
    labeled = np.random.default_rng(0).choice(len(X), 50, replace=False)
    pool = np.setdiff1d(np.arange(len(X)), labeled)
    cnn = make_cnn(epochs=10, min_train_steps=100).fit(X[labeled], y[labeled])
    spreading = LabelSpreadingPseudoLabels(embedding="model")
    idx, guesses = spreading.select(cnn, X, pool, 50, 0, labeled=labeled, labels=y[labeled])
    assert len(idx) == 150 and not np.isin(idx, labeled).any()
    assert (guesses == y[idx]).mean() >= 0.85
    _, raw_idx, _ = _spread(X, y, n=50)  # the same labels over the raw features' graph
    assert not np.array_equal(idx, raw_idx)  # the model's embedding is another graph
    # chunking changes nothing, and a Pipeline's last step is asked for the embedding
    again = spreading.select(cnn, X, pool, 50, 0, labeled=labeled, labels=y[labeled],
                             pool_batch_size=97)
    np.testing.assert_array_equal(idx, again[0])
    piped = make_pipeline(StandardScaler(with_mean=False, with_std=False), cnn)
    piped_idx, _ = spreading.select(piped.fit(X[labeled], y[labeled]), X, pool, 50, 0,
                                    labeled=labeled, labels=y[labeled])
    assert len(piped_idx) == 150


def test_model_embedding_spreading_in_a_campaign_starts_after_the_first_fit(make_cnn, digits):
    from skal import ActiveLearningClassifier

    X_tr, _, y_tr, _ = digits
    learner = ActiveLearningClassifier(
        make_cnn(epochs=5, min_train_steps=100), n_queries=2, n_instances=10,
        initial_size=40, random_state=0,
        semi_supervised=LabelSpreadingPseudoLabels(embedding="model", min_accuracy=0),
    ).fit(X_tr, y_tr)
    assert [row["n_pseudo_labeled"] for row in learner.history_] == [0, 3 * 50, 3 * 60]


def test_model_embedding_spreading_refuses_a_model_without_embed_before_any_label(digits_xy):
    X, y = digits_xy
    learner = _campaign_learner(semi_supervised=LabelSpreadingPseudoLabels(embedding="model"))
    with pytest.raises(TypeError, match="LogisticRegression has no embed"):
        learner.fit(X, y)
    assert not hasattr(learner, "estimator_")


# ------------------------------------------------------------- label spreading over a t-SNE map


# (what is done to a copy of the digits, embedding, fragment of the error)
BAD_SPREADING_POOLS = [
    (lambda X: X.__setitem__((5, 3), np.nan), "pca", "must be finite, but 1 sample"),
    (lambda X: X.__setitem__((5, 3), np.nan), "tsne", "must be finite, but 1 sample"),
    (lambda X: X.__setitem__((slice(0, 3), 0), np.inf), "tsne", "but 3 sample"),
    (lambda X: X.__setitem__((9, 0), -np.inf), "pca", "but 1 sample.*pseudo_labels"),
]


@pytest.mark.parametrize("spoil, embedding, fragment", BAD_SPREADING_POOLS)
def test_label_spreading_explains_a_pool_that_is_not_finite(digits_xy, spoil, embedding,
                                                            fragment):
    X, y = digits_xy
    X = X[:200].astype(float)
    spoil(X)
    with pytest.raises(ValueError, match=fragment):
        _spread(X, y[:200], embedding=embedding)


def test_tsne_spreading_takes_a_single_feature():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (50, 1)), rng.normal(8, 1, (50, 1))]
    y = np.repeat([0, 1], 50)
    labeled = np.array([0, 1, 2, 50, 51, 52])
    pool = np.setdiff1d(np.arange(100), labeled)
    idx, guesses = LabelSpreadingPseudoLabels(embedding="tsne").select(
        None, X, pool, 6, 0, labeled=labeled, labels=y[labeled])
    assert len(idx) == 18 and (guesses == y[idx]).all()


def test_tsne_map_carries_digits_labels_further_than_pca(digits_xy):
    X, y = digits_xy
    X, y = X[:800], y[:800]
    _, idx_pca, guesses_pca = _spread(X, y, n=30, max_ratio=100)
    _, idx, guesses = _spread(X, y, n=30, max_ratio=100, embedding="tsne")
    # measured: 595 pseudo-labels 96.5% right over the t-SNE map, 759 73.3% right over PCA
    assert len(idx) >= 400
    assert (guesses == y[idx]).mean() >= 0.9
    assert (guesses == y[idx]).mean() >= (guesses_pca == y[idx_pca]).mean() + 0.1


def test_tsne_map_is_reused_only_for_the_same_pool_contents(digits_xy):
    X, y = digits_xy
    X, y = X[:300].copy(), y[:300]
    labeled = np.random.default_rng(1).choice(len(X), 30, replace=False)
    pool = np.setdiff1d(np.arange(len(X)), labeled)

    def spread(spreading, X, labeled, pool):
        return spreading.select(None, X, pool, len(labeled), 0, labeled=labeled,
                                labels=y[labeled])

    kept = LabelSpreadingPseudoLabels(embedding="tsne", max_ratio=5)
    first = spread(kept, X, labeled, pool)
    # the same samples, ten more of them labeled: the map is the same, the result a fresh
    # object's
    more, rest = np.r_[labeled, pool[:10]], pool[10:]
    fresh = LabelSpreadingPseudoLabels(embedding="tsne", max_ratio=5)
    for got, want in zip(spread(kept, X, more, rest), spread(fresh, X, more, rest)):
        np.testing.assert_array_equal(got, want)
    # the pool changed in place (same array object): a new map, not the kept one
    X[pool[:100]] = X[pool[:100], ::-1]
    fresh = LabelSpreadingPseudoLabels(embedding="tsne", max_ratio=5)
    changed = spread(kept, X, labeled, pool)
    for got, want in zip(changed, spread(fresh, X, labeled, pool)):
        np.testing.assert_array_equal(got, want)
    assert not all(np.array_equal(a, b) for a, b in zip(first, changed))
    assert pickle.loads(pickle.dumps(kept)).get_params() == kept.get_params()
    assert not hasattr(clone(kept), "_tsne_cache")


def test_tsne_spreading_in_a_campaign_is_reproducible(digits_xy):
    X, y = digits_xy
    X, y = X[:400], y[:400]
    runs = [_campaign_learner(semi_supervised=LabelSpreadingPseudoLabels(
        embedding="tsne", max_ratio=5), n_queries=2).fit(X, y) for _ in range(2)]
    pseudo = [row["n_pseudo_labeled"] for row in runs[0].history_]
    assert pseudo == [5 * row["n_labeled"] for row in runs[0].history_]
    np.testing.assert_array_equal(runs[0].labeled_indices_, runs[1].labeled_indices_)


# (how the pool is given, how the labels are named): each gives the plain array's answer
TSNE_INPUTS = [
    ("frame", "digits"), ("images", "digits"), ("array", "names"), ("frame", "names"),
]


def test_tsne_spreading_takes_frames_images_and_string_labels(digits_xy):
    import pandas as pd

    X, y = digits_xy
    X, y = X[:300], y[:300]
    name_of = np.array([f"digit {d}" for d in range(10)])
    names = name_of[y]
    labeled = np.random.default_rng(2).choice(len(X), 30, replace=False)
    pool = np.setdiff1d(np.arange(len(X)), labeled)
    spreading = LabelSpreadingPseudoLabels(embedding="tsne", max_ratio=5)
    idx, guesses = spreading.select(None, X, pool, 30, 0, labeled=labeled, labels=y[labeled])
    assert len(idx) > 0
    given = {"array": X, "frame": pd.DataFrame(X), "images": X.reshape(-1, 8, 8, 1)}
    for pool_kind, label_kind in TSNE_INPUTS:
        labels, want = (names, name_of[guesses]) if label_kind == "names" else (y, guesses)
        got_idx, got = spreading.select(None, given[pool_kind], pool, 30, 0, labeled=labeled,
                                        labels=labels[labeled])
        np.testing.assert_array_equal(got_idx, idx)
        np.testing.assert_array_equal(got, want)
    # nothing to pseudo-label: an empty answer of the labels' dtype
    empty_idx, empty = spreading.select(None, X, pool[:0], 30, 0, labeled=labeled,
                                        labels=names[labeled])
    assert len(empty_idx) == 0 and empty.dtype == names.dtype


# ----------------------------------------------------------------- each option counts


def test_label_spreading_alpha_changes_which_rows_it_trusts(digits_xy):
    # alpha: how much of a node's label comes from its neighbours (sklearn's LabelSpreading)
    X, y = digits_xy
    spreads = {a: _spread(X[:600], y[:600], n=50, alpha=a)[1:] for a in (0.01, 0.99)}
    (near, near_guesses), (far, far_guesses) = spreads[0.01], spreads[0.99]
    assert len(set(near) ^ set(far)) >= 50, (len(near), len(far))
    assert (near_guesses == y[near]).mean() >= 0.95 and (far_guesses == y[far]).mean() >= 0.95


def test_label_spreading_n_components_is_the_graphs_dimension(digits_xy, monkeypatch):
    from skal.semi_supervised import _label_spreading

    X, y = digits_xy
    dims, pca = [], _label_spreading._pca
    monkeypatch.setattr(_label_spreading, "_pca",
                        lambda F, k: dims.append(pca(F, k).shape[1]) or pca(F, k))
    _, few, few_guesses = _spread(X[:600], y[:600], n=50, n_components=5)
    _, every, every_guesses = _spread(X[:600], y[:600], n=50, n_components=64)
    assert dims == [5, 64]  # 64: digits' own features, no projection
    assert len(set(few) ^ set(every)) >= 50
    # five components lose some of what tells digits apart
    assert (few_guesses == y[few]).mean() < (every_guesses == y[every]).mean()
