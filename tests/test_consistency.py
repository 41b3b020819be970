"""Consistency training on the unlabeled pool (ConsistencyTraining), on real networks."""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal import ActiveLearningClassifier, CNNClassifier
from skal.semi_supervised import ConsistencyTraining, resolve_semi_supervised


def small_cnn(**kw):
    return CNNClassifier(**{"filters": (8,), "dense_units": 16, "epochs": 3,
                            "random_state": 0, **kw})


@pytest.fixture(scope="module")
def digits40(digits_xy):
    """40 random labeled digits (seed 0), the rest of the first 1200 unlabeled, a test set."""
    X, y = digits_xy
    labeled = np.random.default_rng(0).choice(1200, 40, replace=False)
    unlabeled = np.setdiff1d(np.arange(1200), labeled)
    return X[labeled], y[labeled], X[unlabeled], X[1200:], y[1200:]


def test_training_on_the_pool_beats_the_same_training_on_the_labels(digits40):
    # The same loop, steps and seed; weight=0 leaves out the unlabeled loss. Measured: 0.836
    # (labels, Keras' fit) and 0.891 (consistency) with 500 epochs; seeds 1 and 2 gain 7
    # and 2 points.
    X, y, U, X_test, y_test = digits40
    scores = {}
    for weight in (0.0, 1.0):
        cnn = CNNClassifier(epochs=500, random_state=0).fit(
            X, y, X_unlabeled=U, consistency=ConsistencyTraining(weight=weight, noise=0.3))
        scores[weight] = (cnn.predict(X_test) == y_test).mean()
        assert cnn.history_["confident_fraction"][-1] > 0.5  # the network labels the pool
    assert scores[1.0] >= scores[0.0] + 0.03, scores


def test_the_same_seed_gives_the_same_network(digits40):
    X, y, U, X_test, _ = digits40
    fits = [small_cnn().fit(X, y, X_unlabeled=U, consistency=ConsistencyTraining(epochs=5))
            for _ in range(2)]
    np.testing.assert_array_equal(*(cnn.predict_proba(X_test) for cnn in fits))
    assert len(fits[0].history_["loss"]) == 5  # options.epochs replaces the network's 3


def test_images_and_frames_work_like_flat_rows(digits40):
    X, y, U, X_test, _ = digits40
    flat = small_cnn().fit(X, y, X_unlabeled=U).predict_proba(X_test)
    images = small_cnn().fit(X.reshape(-1, 8, 8), y, X_unlabeled=U.reshape(-1, 8, 8))
    np.testing.assert_allclose(images.predict_proba(X_test.reshape(-1, 8, 8)), flat, atol=1e-6)
    frame = small_cnn().fit(pd.DataFrame(X), y, X_unlabeled=pd.DataFrame(U))
    np.testing.assert_allclose(frame.predict_proba(pd.DataFrame(X_test)), flat, atol=1e-6)


def test_no_unlabeled_sample_is_a_plain_fit(digits40):
    X, y, U, X_test, _ = digits40
    cnn = small_cnn().fit(X, y, X_unlabeled=U[:0])
    assert "unlabeled_loss" not in cnn.history_
    np.testing.assert_array_equal(cnn.predict_proba(X_test),
                                  small_cnn().fit(X, y).predict_proba(X_test))


def test_a_network_trained_on_the_pool_pickles(digits40):
    X, y, U, X_test, _ = digits40
    cnn = small_cnn().fit(X, y, X_unlabeled=U)
    assert "_unlabeled" not in vars(cnn)  # the pool is not kept on the estimator
    again = pickle.loads(pickle.dumps(cnn))
    np.testing.assert_allclose(again.predict_proba(X_test), cnn.predict_proba(X_test), atol=1e-6)


# (what, fit keyword arguments over X_unlabeled=U, CNN options, error, message fragment)
BAD_UNLABELED = [
    ("wrong feature count", dict(X_unlabeled=lambda U: U[:, :10]), {}, ValueError,
     "X_unlabeled: "),
    ("NaN sample", dict(X_unlabeled=lambda U: np.vstack([U[:5], np.full((1, 64), np.nan)])),
     {}, ValueError, "X_unlabeled has 1 sample(s) with NaN or infinite values"),
    ("infinite sample", dict(X_unlabeled=lambda U: np.vstack([U[:5], np.full((1, 64), np.inf)])),
     {}, ValueError, "X_unlabeled has 1 sample(s) with NaN or infinite values"),
    ("strings", dict(X_unlabeled=lambda U: np.full((5, 64), "a")), {}, ValueError,
     "X_unlabeled"),
    ("sparse", dict(X_unlabeled=lambda U: sp.csr_matrix(U)), {}, TypeError,
     "X_unlabeled is a sparse matrix; give a dense array"),
    ("consistency a string", dict(consistency="fixmatch"), {}, TypeError,
     "consistency must be a skal.semi_supervised.ConsistencyTraining or None, got str"),
    ("consistency without X_unlabeled", dict(X_unlabeled=None,
                                            consistency=ConsistencyTraining()), {},
     ValueError, "consistency= needs X_unlabeled="),
    ("negative weight", dict(consistency=ConsistencyTraining(weight=-1)), {}, ValueError,
     "'weight' parameter of ConsistencyTraining"),
    ("threshold 0", dict(consistency=ConsistencyTraining(threshold=0)), {}, ValueError,
     "'threshold' parameter"),
    ("epochs 0", dict(consistency=ConsistencyTraining(epochs=0)), {}, ValueError,
     "'epochs' parameter"),
    ("epochs True", dict(consistency=ConsistencyTraining(epochs=True)), {}, ValueError,
     "'epochs' parameter"),
    ("unlabeled_batch_ratio 0", dict(consistency=ConsistencyTraining(unlabeled_batch_ratio=0)),
     {}, ValueError, "'unlabeled_batch_ratio' parameter"),
    ("validation split", {}, dict(validation_split=0.2), ValueError,
     "has no validation_split, class_weight or callbacks"),
    ("class weights (were ignored)", {}, dict(class_weight={0: 2.0}), ValueError,
     "has no validation_split, class_weight or callbacks"),
]


@pytest.mark.parametrize("what, kwargs, options, exc, fragment", BAD_UNLABELED,
                         ids=[row[0] for row in BAD_UNLABELED])
def test_bad_unlabeled_input_fails_clearly(digits40, what, kwargs, options, exc, fragment):
    X, y, U, _, _ = digits40
    call = {"X_unlabeled": U} | kwargs
    if callable(call["X_unlabeled"]):
        call["X_unlabeled"] = call["X_unlabeled"](U)
    with pytest.raises(exc) as info:
        small_cnn(**options).fit(X, y, **call)
    assert fragment in str(info.value), str(info.value)


# ------------------------------------------------------------------------------ campaigns

def learner(estimator, **kw):
    return ActiveLearningClassifier(estimator, **{
        "semi_supervised": ConsistencyTraining(epochs=3), "query_strategy": "margin",
        "initial_size": 20, "n_instances": 10, "n_queries": 2, "random_state": 0, **kw})


def test_a_campaign_trains_every_refit_on_the_unlabeled_pool(digits_xy):
    X, y = digits_xy[0][:300], digits_xy[1][:300]
    runs = [learner(small_cnn()).fit(X, y) for _ in range(2)]
    history = runs[0].history_
    assert [row["n_labeled"] for row in history] == [20, 30, 40]
    # Every fit trains on the pool rows nobody answered.
    assert [row["n_pseudo_labeled"] for row in history] == [280, 270, 260]
    assert runs[0].n_labeled_ == 40
    np.testing.assert_array_equal(runs[0].predict_proba(X), runs[1].predict_proba(X))


def test_max_pool_caps_the_unlabeled_rows_of_a_fit(digits_xy):
    X, y = digits_xy[0][:300], digits_xy[1][:300]
    fitted = learner(small_cnn(), n_queries=1,
                     semi_supervised=ConsistencyTraining(epochs=2, max_pool=50)).fit(X, y)
    assert [row["n_pseudo_labeled"] for row in fitted.history_] == [50, 50]


def test_the_name_consistency_is_the_default_option():
    option = resolve_semi_supervised("consistency")
    assert type(option) is ConsistencyTraining
    assert option.get_params() == ConsistencyTraining().get_params()


@pytest.mark.parametrize("estimator", [
    LogisticRegression(), make_pipeline(StandardScaler(), CNNClassifier())],
    ids=["LogisticRegression", "Pipeline"])
def test_estimators_that_cannot_take_the_pool_are_refused_before_any_label(digits_xy,
                                                                           estimator):
    X, y = digits_xy
    asked = []
    oracle = lambda X_batch: asked.append(len(X_batch)) or [0] * len(X_batch)  # noqa: E731
    with pytest.raises(TypeError, match="trains the network on the unlabeled pool, which "
                                        f"{type(estimator).__name__} cannot take"):
        learner(estimator, oracle=oracle).fit(X[:100], np.full(100, -1))
    assert asked == []


class PoolLogistic(LogisticRegression):
    """A scikit-learn classifier that declares it takes the pool: fit's X_unlabeled= and
    consistency= (it only counts the rows)."""

    def fit(self, X, y, sample_weight=None, *, X_unlabeled=None, consistency=None):
        self.n_unlabeled_seen_ = None if X_unlabeled is None else len(X_unlabeled)
        self.consistency_seen_ = consistency
        return super().fit(X, y, sample_weight=sample_weight)


class OnlyUnlabeled(LogisticRegression):
    def fit(self, X, y, *, X_unlabeled=None):
        return super().fit(X, y)


class PrivateMarker(LogisticRegression):
    _trains_on_unlabeled = True  # the private marker a campaign once read


def test_the_pool_is_declared_by_fits_public_parameters():
    from sklearn.utils.validation import has_fit_parameter

    from skal import KerasClassifier

    for cls in (CNNClassifier, KerasClassifier):
        assert has_fit_parameter(cls(), "X_unlabeled") and has_fit_parameter(cls(),
                                                                             "consistency")
        assert not hasattr(cls, "_trains_on_unlabeled")
    option = ConsistencyTraining()
    assert resolve_semi_supervised("consistency", PoolLogistic()).get_params() == \
        option.get_params()
    option.check_estimator(small_cnn())


@pytest.mark.parametrize("estimator, fragment", [
    (PrivateMarker(), "PrivateMarker cannot take: its fit has no X_unlabeled= and "
                      "consistency= parameters. Use skal.CNNClassifier"),
    (OnlyUnlabeled(), "OnlyUnlabeled cannot take: its fit has no consistency= parameter."),
], ids=["private marker", "X_unlabeled only"])
def test_consistency_refuses_an_estimator_without_the_fit_parameters(estimator, fragment):
    with pytest.raises(TypeError) as info:
        resolve_semi_supervised("consistency", estimator)
    assert "semi_supervised=ConsistencyTraining() trains the network on the unlabeled pool, " \
           "which " in str(info.value)
    assert fragment in str(info.value), str(info.value)


def test_a_campaign_hands_the_pool_to_any_estimator_that_declares_it(digits_xy):
    X, y = digits_xy[0][:300], digits_xy[1][:300]
    fitted = learner(PoolLogistic(max_iter=500), semi_supervised="consistency").fit(X, y)
    assert [row["n_pseudo_labeled"] for row in fitted.history_] == [280, 270, 260]
    assert fitted.estimator_.n_unlabeled_seen_ == 260
    assert type(fitted.estimator_.consistency_seen_) is ConsistencyTraining


def test_sample_weights_count_in_the_loop(digits40):
    X, y, U, X_test, y_test = digits40
    left_out = y == y[0]  # a class whose labels weigh nothing
    options = ConsistencyTraining(epochs=30, weight=0.0)
    plain = small_cnn(epochs=30).fit(X, y, X_unlabeled=U, consistency=options)
    weighted = small_cnn(epochs=30).fit(X, y, sample_weight=np.where(left_out, 0.0, 1.0),
                                        X_unlabeled=U, consistency=options)
    hits = [(model.predict(X_test) == y[0])[y_test == y[0]].mean() for model in (plain, weighted)]
    assert hits[0] > 0.5 and hits[1] < hits[0] / 2, hits


@pytest.mark.parametrize("n_labeled, epochs, expected_steps", [
    (40, 150, 300),  # 2 steps an epoch, past the 200-step floor: the option's epochs
    (10, 30, 210),  # 1 step an epoch: the floor, by repeating the 10 labels within an epoch
])
def test_the_options_epochs_count_and_the_step_floor_still_holds(digits40, n_labeled, epochs,
                                                                 expected_steps):
    X, y, U, _, _ = digits40
    cnn = small_cnn().fit(X[:n_labeled], y[:n_labeled], X_unlabeled=U,
                          consistency=ConsistencyTraining(epochs=epochs))
    steps = cnn.model_.optimizer.iterations.numpy()
    assert expected_steps <= steps <= expected_steps + 2 * len(cnn.history_["loss"]), steps


def test_a_warm_fine_tune_keeps_its_own_epochs(digits40):
    X, y, U, _, _ = digits40
    options = ConsistencyTraining(epochs=20)
    cnn = small_cnn(warm_start=True, finetune_epochs=2).fit(X, y, X_unlabeled=U,
                                                            consistency=options)
    assert len(cnn.history_["loss"]) >= 20
    cnn.fit(X, y, X_unlabeled=U, consistency=options)
    assert len(cnn.history_["loss"]) == 2


def test_a_binary_sigmoid_model_with_string_classes_trains_on_the_pool(digits_xy):
    import keras

    from skal import KerasClassifier

    X, y = digits_xy
    two = y < 2
    X, y = X[two], np.where(y[two] == 0, "zero", "one")

    def build(meta):
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    clf = KerasClassifier(build, epochs=20, random_state=0, verbose=0).fit(
        X[:20], y[:20], X_unlabeled=X[20:300], consistency=ConsistencyTraining(threshold=0.7))
    assert clf.history_["confident_fraction"][-1] > 0.5
    assert (clf.predict(X[300:]) == y[300:]).mean() > 0.95


@pytest.mark.parametrize("unlabeled, X, seed, exc, fragment", [
    ([1, 99], np.eye(5), 0, ValueError, "unlabeled has indices outside the pool (of 5 rows): [99]"),
    ([-1], np.eye(5), 0, ValueError, "outside the pool (of 5 rows): [-1]"),
    ([1.5], np.eye(5), 0, TypeError, "unlabeled must be integer row indices"),
    ([1, 1], np.eye(5), 0, ValueError, "unlabeled has 1 repeated indices"),
    ([[1, 2]], np.eye(5), 0, ValueError, "unlabeled must be a 1-D array of row indices"),
    ([1], iter([1, 2]), 0, TypeError, "X must be a pool that can be indexed by row"),
    ([1], np.eye(5), "abc", TypeError, "random_state must be None, an int >= 0"),
], ids=["outside", "negative", "float", "repeated", "2-D", "iterator pool", "string seed"])
def test_fit_params_refuses_bad_rows(unlabeled, X, seed, exc, fragment):
    with pytest.raises(exc) as info:
        ConsistencyTraining().fit_params(X, unlabeled, seed)
    assert fragment in str(info.value), str(info.value)


def test_unlabeled_batch_ratio_sets_the_unlabeled_rows_of_each_step(digits40):
    # One epoch (the labeled order is drawn first), every unlabeled row above the threshold:
    # the two fits differ only in the unlabeled batches, of 32 rows and of 4 x 32.
    X, y, U, X_test, _ = digits40

    def fit(ratio):
        options = ConsistencyTraining(epochs=1, threshold=0.01, unlabeled_batch_ratio=ratio)
        return small_cnn(min_train_steps=None).fit(X, y, X_unlabeled=U, consistency=options)

    one, four = fit(1), fit(4)
    assert one.history_["confident_fraction"] == four.history_["confident_fraction"] == [1.0]
    assert np.abs(one.predict_proba(X_test) - four.predict_proba(X_test)).max() > 1e-3
