"""CNNClassifier and KerasClassifier: the SciKeras fixes, on real Keras models."""

import pickle
import re

import keras
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import StratifiedKFold, check_cv, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils import get_tags

from skal import CNNClassifier, KerasClassifier
from skal.keras import infer_input_shape


def _mlp(meta):
    model = keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(16, activation="relu", name="hidden"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def test_tags_say_classifier(make_cnn):
    for est in (make_cnn(), KerasClassifier(_mlp)):
        assert is_classifier(est)
        tags = get_tags(est)
        assert tags.estimator_type == "classifier"
        assert tags.classifier_tags is not None
        assert isinstance(check_cv(3, np.array([0, 1] * 10), classifier=is_classifier(est)),
                          StratifiedKFold)


def test_cross_val_score_with_classifier_scorers(make_cnn, digits_xy):
    X, y = digits_xy
    X, y = X[:450], y[:450]
    for scoring in ("accuracy", "roc_auc_ovr", "neg_log_loss"):
        scores = cross_val_score(make_cnn(epochs=2), X, y, cv=3, scoring=scoring)
        assert scores.shape == (3,) and np.all(np.isfinite(scores))
    acc = cross_val_score(make_cnn(epochs=20, batch_size=32), X, y, cv=3)
    assert acc.mean() > 0.5


def test_same_random_state_same_predictions(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    p1 = make_cnn().fit(X_tr[:300], y_tr[:300]).predict_proba(X_te)
    p2 = make_cnn().fit(X_tr[:300], y_tr[:300]).predict_proba(X_te)
    np.testing.assert_array_equal(p1, p2)
    p3 = make_cnn(random_state=1).fit(X_tr[:300], y_tr[:300]).predict_proba(X_te)
    assert not np.array_equal(p1, p3)


def test_clone_params_pickle(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn(dense_units=12)
    params = cnn.get_params()
    assert params["dense_units"] == 12 and params["predict_batch_size"] == 1024
    cnn2 = clone(cnn).set_params(dense_units=20)
    assert cnn2.dense_units == 20 and cnn.dense_units == 12
    cnn.fit(X_tr[:200], y_tr[:200])
    p = cnn.predict_proba(X_te)
    restored = pickle.loads(pickle.dumps(cnn))
    np.testing.assert_array_equal(restored.predict_proba(X_te), p)
    np.testing.assert_array_equal(restored.classes_, cnn.classes_)


def test_flat_and_shaped_inputs_agree(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn().fit(X_tr[:200].reshape(-1, 8, 8, 1), y_tr[:200])
    assert cnn.n_features_in_ == 64
    np.testing.assert_array_equal(
        cnn.predict_proba(X_te), cnn.predict_proba(X_te.reshape(-1, 8, 8, 1))
    )
    flat = make_cnn().fit(X_tr[:200], y_tr[:200])
    np.testing.assert_array_equal(flat.predict_proba(X_te), cnn.predict_proba(X_te))


def test_conv1d_for_signals():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 40)).astype(np.float32)
    y = (X[:, :20].mean(axis=1) > 0).astype(int)
    cnn = CNNClassifier(filters=(4,), dense_units=8, epochs=2, random_state=0).fit(X, y)
    assert any(isinstance(layer, keras.layers.Conv1D) for layer in cnn.model_.layers)
    assert cnn.predict_proba(X).shape == (120, 2)


def test_input_shape_inference_and_errors(make_cnn, digits):
    assert infer_input_shape(64, None) == (8, 8, 1)
    assert infer_input_shape(40, None) == (40, 1)
    assert infer_input_shape(64, (4, 16, 1)) == (4, 16, 1)
    X_tr, _, y_tr, _ = digits
    with pytest.raises(ValueError, match="input_shape"):
        make_cnn(input_shape=(7, 7, 1)).fit(X_tr[:50], y_tr[:50])


def test_predict_batch_size_is_used_and_checked(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn(predict_batch_size=200).fit(X_tr[:200], y_tr[:200])
    expected = cnn.model_.predict(X_te, batch_size=200, verbose=0)
    calls = []
    fn = cnn._get_forward_fn()

    def spy(x):
        calls.append(len(x))
        return fn(x)

    cnn._forward_fn = (cnn.model_, spy)
    np.testing.assert_allclose(cnn.predict_proba(X_te), expected, rtol=1e-5, atol=1e-6)
    assert calls == [200, 200, 140]  # 540 samples in batches of 200, not 17 of 32
    assert cnn._get_forward_fn() is spy  # cached: no new trace per call
    cnn.set_params(predict_batch_size=0)
    with pytest.raises(ValueError, match="predict_batch_size"):
        cnn.predict_proba(X_te)


def test_forward_fn_is_traced_once_across_calls(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn(predict_batch_size=100).fit(X_tr[:200], y_tr[:200])
    for n in (5, 50, 333, 540):
        cnn.predict_proba(X_te[:n])
    fn = cnn._get_forward_fn()
    assert fn.experimental_get_tracing_count() == 1


def test_warm_start_keeps_classes(make_cnn, digits):
    X_tr, _, y_tr, _ = digits
    cnn = make_cnn(warm_start=True).fit(X_tr[:200], y_tr[:200])
    w0 = [w.copy() for w in cnn.model_.get_weights()]
    model = cnn.model_
    cnn.fit(X_tr[200:400], y_tr[200:400])
    assert cnn.model_ is model  # continued, not rebuilt
    assert not all(np.array_equal(a, b) for a, b in zip(w0, cnn.model_.get_weights()))
    np.testing.assert_array_equal(cnn.classes_, np.arange(10))


def test_finetune_epochs(make_cnn, digits):
    X_tr, _, y_tr, _ = digits
    cnn = make_cnn(epochs=4, finetune_epochs=2, warm_start=True).fit(X_tr[:100], y_tr[:100])
    assert len(cnn.history_["loss"]) == 4  # first fit: from scratch, all epochs
    cnn.fit(X_tr[:150], y_tr[:150])
    assert len(cnn.history_["loss"]) == 2  # warm fit: fine-tuning epochs only
    cold = make_cnn(epochs=4, finetune_epochs=2).fit(X_tr[:100], y_tr[:100])
    cold.fit(X_tr[:150], y_tr[:150])
    assert len(cold.history_["loss"]) == 4  # without warm_start it is ignored
    cnn.set_params(finetune_epochs=0)
    with pytest.raises(ValueError, match="finetune_epochs"):
        cnn.fit(X_tr[:150], y_tr[:150])


def test_embed_and_user_model(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn(dense_units=16).fit(X_tr[:200], y_tr[:200])
    emb, proba = cnn.embed(X_te, return_proba=True)
    assert emb.shape == (len(X_te), 16)
    np.testing.assert_allclose(proba, cnn.predict_proba(X_te), atol=1e-6)
    user = KerasClassifier(_mlp, epochs=2, random_state=0, verbose=0).fit(X_tr, y_tr)
    assert user.embed(X_te).shape == (len(X_te), 16)
    named = KerasClassifier(_mlp, embedding_layer="nope", epochs=1, verbose=0).fit(X_tr, y_tr)
    with pytest.raises(ValueError, match="embedding_layer"):
        named.embed(X_te)


def test_pipeline_with_scaler(make_cnn, digits):
    X_tr, X_te, y_tr, y_te = digits
    pipe = make_pipeline(MinMaxScaler(), make_cnn(epochs=10, batch_size=32)).fit(X_tr * 16, y_tr)
    assert pipe.score(X_te * 16, y_te) > 0.5


def test_seeded_fit_does_not_leave_op_determinism_on(make_cnn, digits):
    from tensorflow.python.framework import config

    X_tr, _, y_tr, _ = digits
    make_cnn().fit(X_tr[:100], y_tr[:100])
    assert not config.is_op_determinism_enabled()
    # an unseeded fit with dropout and shuffling works after a seeded one
    make_cnn(random_state=None, epochs=1).fit(X_tr[:100], y_tr[:100])


def test_seeded_fit_ignores_other_threads_drawing_from_python_random(make_cnn, digits):
    # Keras draws layers' default seeds from Python's global `random` right after SciKeras
    # seeds it; a Dask worker's event loop draws from it meanwhile. Each skal fit draws
    # from a generator of its own thread, so a seeded fit trains the same anyway.
    import random
    import threading
    import time

    X_tr, X_te, y_tr, _ = digits
    quiet = make_cnn(epochs=1).fit(X_tr[:100], y_tr[:100]).predict_proba(X_te[:50])
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            time.sleep(1e-4)

    thread = threading.Thread(target=draw)
    thread.start()
    try:
        busy = make_cnn(epochs=1).fit(X_tr[:100], y_tr[:100]).predict_proba(X_te[:50])
    finally:
        stop.set()
        thread.join()
    np.testing.assert_array_equal(busy, quiet)


def _steps_and_epochs(cnn, X, y):
    import keras

    steps = []
    cnn.set_params(callbacks=[keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: steps.append(batch))])
    cnn.fit(X, y)
    return len(steps), len(cnn.history_["loss"])


def test_min_train_steps_repeats_small_data_within_epochs(make_cnn, digits):
    X_tr, _, y_tr, _ = digits
    cnn = make_cnn(epochs=2, batch_size=32, min_train_steps=10)
    # 20 samples: one batch per epoch; repeated 8x to 5 batches, so 2 epochs give 10 steps.
    assert _steps_and_epochs(cnn, X_tr[:20], y_tr[:20]) == (10, 2)
    # 100 samples: 4 batches; no whole repeat fits in 5 batches, so epochs rise to 3.
    assert _steps_and_epochs(cnn, X_tr[:100], y_tr[:100]) == (12, 3)
    # 400 samples already give 13 batches per epoch: nothing changes.
    assert _steps_and_epochs(cnn, X_tr[:400], y_tr[:400]) == (26, 2)
    # A validation split must not see repeated training rows: epochs rise instead.
    held = make_cnn(epochs=2, batch_size=32, min_train_steps=10, validation_split=0.5)
    assert _steps_and_epochs(held, X_tr[:20], y_tr[:20]) == (10, 10)
    with pytest.raises(ValueError, match="min_train_steps"):
        make_cnn(min_train_steps=-3).fit(X_tr[:20], y_tr[:20])


@pytest.mark.parametrize("shift", [0, 2])  # the augmentation's seed state is reset too
def test_refit_reuses_model_with_fresh_initial_state(make_cnn, digits, shift):
    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn(dropout=0.3, shift_augment=shift).fit(X_tr[:60], y_tr[:60])
    model = cnn.model_
    cnn.fit(X_tr[100:250], y_tr[100:250])
    fresh = make_cnn(dropout=0.3, shift_augment=shift).fit(X_tr[100:250], y_tr[100:250])
    assert cnn.model_ is model  # the traced training step was kept
    np.testing.assert_array_equal(cnn.predict_proba(X_te), fresh.predict_proba(X_te))
    # A different network (here: wider embedding) is built anew, not squeezed into the old one.
    cnn.set_params(dense_units=24).fit(X_tr[100:250], y_tr[100:250])
    assert cnn.model_ is not model
    np.testing.assert_array_equal(
        cnn.predict_proba(X_te),
        make_cnn(dropout=0.3, dense_units=24, shift_augment=shift).fit(X_tr[100:250], y_tr[100:250])
        .predict_proba(X_te),
    )


def test_single_sample_proba_keeps_two_dimensions(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn().fit(X_tr[:100], y_tr[:100])
    assert cnn.predict_proba(X_te[:1]).shape == (1, 10)
    assert cnn.predict(X_te[:1]).shape == (1,)
    # SciKeras squeezes one sample's probabilities; every skal output path undoes it
    emb, proba = cnn.embed(X_te[:1], return_proba=True)
    assert emb.shape == (1, 16) and proba.shape == (1, 10)
    np.testing.assert_array_equal(proba, cnn.predict_proba(X_te[:1]))
    assert cnn.predict_proba_samples(X_te[:1], 3, random_state=0).shape == (3, 1, 10)
    binary = make_cnn().fit(X_tr[:100], y_tr[:100] % 2)
    assert binary.predict_proba(X_te[:1]).shape == (1, 2)
    assert binary.embed(X_te[:1], return_proba=True)[1].shape == (1, 2)


def test_bad_dropout_names_itself(make_cnn, digits):
    X_tr, _, y_tr, _ = digits
    with pytest.raises(ValueError, match="dropout"):
        make_cnn(dropout=1.5).fit(X_tr[:20], y_tr[:20])


def test_random_circular_shift_rolls_each_sample_in_training_only():
    from skal.keras import RandomCircularShift

    x = np.tile(np.arange(12, dtype=np.float32), (64, 1))[:, :, None] + 100 * np.arange(64)[
        :, None, None
    ]
    layer = RandomCircularShift(3, axis=1, seed=0)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    out = np.asarray(layer(x, training=True))
    shifts = set()
    for row_in, row_out in zip(x[:, :, 0], out[:, :, 0]):
        matches = [s for s in range(-3, 4) if np.array_equal(np.roll(row_in, s), row_out)]
        assert len(matches) == 1  # a circular roll by at most max_shift, nothing else
        shifts.add(matches[0])
    assert len(shifts) >= 5  # shifts differ between the samples of one batch
    # Images roll along their width: every row of a sample moves by the same amount.
    img = np.arange(2 * 4 * 6, dtype=np.float32).reshape(2, 4, 6, 1)
    rolled = np.asarray(RandomCircularShift(2, axis=2, seed=1)(img, training=True))
    for a, b in zip(img[..., 0], rolled[..., 0]):
        assert any(np.array_equal(np.roll(a, s, axis=1), b) for s in range(-2, 3))


def test_shift_augment_trains_on_shifted_signals(digits):
    # A signal whose class is a bump's shape, wherever the bump is (circularly), as in
    # MNIST-1D: with few labels the augmented CNN generalises to unseen positions better.
    rng = np.random.default_rng(0)
    n, length = 600, 40
    y = rng.integers(0, 2, size=n)
    shapes = np.array([[0, 1, 2, 1, 0, 0], [0, 2, 0, 2, 0, 0]], dtype=np.float32)
    X = np.zeros((n, length), dtype=np.float32)
    pos = rng.integers(0, length, size=n)
    for i in range(n):
        X[i] = np.roll(np.pad(shapes[y[i]], (0, length - 6)), pos[i])
    X += rng.normal(scale=0.2, size=X.shape).astype(np.float32)
    train = pos < 20  # the training bumps sit in the first half only
    params = dict(filters=(8,), dense_units=16, epochs=10, random_state=0)
    plain = CNNClassifier(**params).fit(X[train][:60], y[train][:60])
    shifted = CNNClassifier(shift_augment=20, **params).fit(X[train][:60], y[train][:60])
    assert any(type(layer).__name__ == "RandomCircularShift" for layer in shifted.model_.layers)
    assert shifted.score(X[~train], y[~train]) > plain.score(X[~train], y[~train]) + 0.2
    again = CNNClassifier(shift_augment=20, **params).fit(X[train][:60], y[train][:60])
    np.testing.assert_array_equal(again.predict_proba(X), shifted.predict_proba(X))


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_bad_shift_augment_names_itself(make_cnn, digits, bad):
    X_tr, _, y_tr, _ = digits
    with pytest.raises(ValueError, match="shift_augment"):
        make_cnn(shift_augment=bad).fit(X_tr[:20], y_tr[:20])


# ------------------------------------------------------------ what skal asks of an estimator


def test_reuse_model_from_same_network_is_identical_to_a_rebuild(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    previous = make_cnn(dropout=0.3).fit(X_tr[:60], y_tr[:60])
    model = previous.model_
    est = clone(previous).set_params(epochs=4, random_state=1)  # training-only differences
    assert est.reuse_model_from(previous) is True
    est.fit(X_tr[100:250], y_tr[100:250])
    assert est.model_ is model  # the traced training step was kept
    fresh = make_cnn(dropout=0.3, epochs=4, random_state=1).fit(X_tr[100:250], y_tr[100:250])
    np.testing.assert_array_equal(est.predict_proba(X_te), fresh.predict_proba(X_te))
    np.testing.assert_array_equal(
        est.predict_proba_samples(X_te, 3, random_state=0),
        fresh.predict_proba_samples(X_te, 3, random_state=0),
    )
    assert "_donor_model" not in est.__dict__  # handed over to that fit only
    again = clone(est)
    assert again.reuse_model_from(est) is True  # a clone of the refitted one, again
    assert again.fit(X_tr[:80], y_tr[:80]).model_ is model


def test_reuse_model_from_refuses_what_it_cannot_take_over(make_cnn, digits):
    from sklearn.linear_model import LogisticRegression

    X_tr, X_te, y_tr, _ = digits
    previous = make_cnn().fit(X_tr[:60], y_tr[:60])
    model, weights = previous.model_, [w.copy() for w in previous.model_.get_weights()]
    other = make_cnn(dense_units=24)  # another architecture
    assert other.reuse_model_from(previous) is False
    assert make_cnn(learning_rate=0.01).reuse_model_from(previous) is False  # compiled apart
    assert other.fit(X_tr[:60], y_tr[:60]).model_ is not model
    np.testing.assert_array_equal(
        other.predict_proba(X_te),
        make_cnn(dense_units=24).fit(X_tr[:60], y_tr[:60]).predict_proba(X_te),
    )
    est = make_cnn()
    assert est.reuse_model_from(LogisticRegression().fit(X_tr[:60], y_tr[:60])) is False
    assert est.reuse_model_from(None) is False
    assert est.reuse_model_from(make_cnn()) is False  # not fitted
    assert est.reuse_model_from(make_cnn().initialize(X_tr[:60], y_tr[:60])) is False  # untrained
    assert KerasClassifier(_mlp).reuse_model_from(previous) is False  # another class
    assert "_donor_model" not in est.__dict__
    for a, b in zip(weights, previous.model_.get_weights()):  # previous left untouched
        np.testing.assert_array_equal(a, b)


def test_reuse_model_from_with_other_data_builds_anew(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    previous = make_cnn().fit(X_tr[:60], y_tr[:60] % 3)  # 3 classes
    est = clone(previous)
    assert est.reuse_model_from(previous) is True
    est.fit(X_tr[:60], y_tr[:60])  # 10 classes: another output layer, built anew
    assert est.model_ is not previous.model_
    np.testing.assert_array_equal(
        est.predict_proba(X_te), make_cnn().fit(X_tr[:60], y_tr[:60]).predict_proba(X_te)
    )


def test_save_fitted_and_load_fitted_round_trip(make_cnn, digits, tmp_path):
    from sklearn.exceptions import NotFittedError

    X_tr, X_te, y_tr, _ = digits
    cnn = make_cnn(shift_augment=1).fit(X_tr[:200], y_tr[:200])
    path = tmp_path / "cnn.keras"
    assert cnn.save_fitted(path) is None and path.exists()
    loaded = clone(cnn).load_fitted(path, X_tr[:200], y_tr[:200])
    np.testing.assert_array_equal(loaded.predict_proba(X_te), cnn.predict_proba(X_te))
    np.testing.assert_array_equal(loaded.embed(X_te), cnn.embed(X_te))
    np.testing.assert_array_equal(
        loaded.predict_proba_samples(X_te, 3, random_state=0),
        cnn.predict_proba_samples(X_te, 3, random_state=0),
    )
    np.testing.assert_array_equal(loaded.classes_, cnn.classes_)
    assert loaded.n_features_in_ == 64
    user = KerasClassifier(_mlp, epochs=1, random_state=0, verbose=0).fit(X_tr, y_tr)
    user.save_fitted(str(tmp_path / "user.keras"))
    back = clone(user).load_fitted(str(tmp_path / "user.keras"), X_tr, y_tr)
    np.testing.assert_array_equal(back.predict_proba(X_te), user.predict_proba(X_te))

    with pytest.raises(NotFittedError):
        make_cnn().save_fitted(tmp_path / "unfitted.keras")
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="Keras model could not be loaded"):
        clone(cnn).load_fitted(garbage, X_tr[:200], y_tr[:200])
    with pytest.raises(ValueError, match="does not match"):  # 10 outputs, 2 classes
        clone(cnn).load_fitted(path, X_tr[:200], y_tr[:200] % 2)
    with pytest.raises(ValueError, match="does not match"):  # 64 inputs, 32 features
        clone(cnn).load_fitted(path, X_tr[:200, :32], y_tr[:200])


def test_savable_estimators_is_a_fixed_allow_list():
    import skal.keras

    assert dict(skal.keras.SAVABLE_ESTIMATORS) == {
        "CNNClassifier": CNNClassifier, "KerasClassifier": KerasClassifier,
        "CNNRegressor": skal.keras.CNNRegressor, "KerasRegressor": skal.keras.KerasRegressor,
    }
    with pytest.raises(TypeError):
        skal.keras.SAVABLE_ESTIMATORS["Evil"] = object
    # public names keep their documented home (and pickles name skal.keras.<class>)
    for name in ("CNNClassifier", "KerasClassifier", "RandomCircularShift"):
        assert getattr(skal.keras, name).__module__ == "skal.keras"
    dumped = pickle.dumps(CNNClassifier(filters=(4,)))
    assert b"skal.keras" in dumped and b"skal.keras._" not in dumped
    assert pickle.loads(dumped).get_params()["filters"] == (4,)


# ------------------------------------------------------------------ TensorFlow's log noise
# What TensorFlow 2.21 writes while it loads (before Abseil's logging is initialised, so
# whatever TF_CPP_MIN_LOG_LEVEL says), and at run time; see skal/keras/_tf_compat.py.
TF_NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796194654.760245   29410 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors from "
    "different computation orders. To turn them off, set the environment variable "
    "`TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1796194654.760778   29410 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "I0000 00:00:1796194700.740345   30635 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1796194660.411217   29410 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
]
TF_NOISE_PATTERNS = re.compile(
    r"^[IWE]\d{4} |absl::InitializeLog|node_def_util|cudart_stub|cuda_platform|cuInit|"
    r"triggered tf\.function retracing|rebuild TensorFlow", re.M
)


@pytest.mark.parametrize("level, kept", [
    (0, TF_NOISE),  # TF_CPP_MIN_LOG_LEVEL=0: everything, as TensorFlow would
    (1, []),  # from 1 on: no INFO line, no banner; no cuInit failure without a driver
    (2, []),
    (3, []),
])
def test_tf_load_noise_is_filtered_as_the_log_level_says(level, kept):
    from skal.keras._tf_compat import _without_noise

    ours = ["/x.py:1: DeprecationWarning: a Python warning stays", "plain text stays"]
    text = "\n".join([TF_NOISE[0], ours[0], *TF_NOISE[1:], ours[1]]) + "\n"
    expected = [TF_NOISE[0], ours[0], *TF_NOISE[1:], ours[1]] if kept else ours
    assert _without_noise(text, level).splitlines() == expected


def test_tf_load_noise_keeps_real_errors():
    from skal.keras._tf_compat import _without_noise

    fatal = "F0000 00:00:1.5 12 main.cc:1] a fatal error always stays"
    error = "E0000 00:00:1.5 12 gpu_device.cc:2] an ERROR stays below level 3"
    cuinit = ("E0000 00:00:1.5 12 cuda_platform.cc:52] failed call to cuInit: "
              "CUDA_ERROR_OUT_OF_MEMORY")  # with a driver: a real failure
    text = "\n".join([fatal, error, cuinit]) + "\n"
    assert _without_noise(text, 2).splitlines() == [fatal, error, cuinit]
    assert _without_noise(text, 3).splitlines() == [fatal]


def test_filtered_stderr_drops_noise_written_to_fd2_and_restores_it(capfd):
    import os

    from skal.keras._tf_compat import _filtered_stderr

    with _filtered_stderr(2):
        os.write(2, ("\n".join(TF_NOISE) + "\nkept line\n").encode())
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "kept line\nafter\n"


def test_reused_network_keeps_its_traced_functions(caplog):
    """A round that reuses the previous network reuses its embedding sub-model and forward
    pass: no retrace, so no "triggered tf.function retracing" warning."""
    from sklearn.base import clone

    rng = np.random.default_rng(0)
    X = rng.random((40, 16), dtype=np.float32)
    y = np.arange(40) % 2
    est = KerasClassifier(_mlp, epochs=1, random_state=0, verbose=0, min_train_steps=None)
    est.fit(X, y)
    est.embed(X)
    est.predict_proba(X)
    sub, forward = est._get_embedding_model(), est._get_forward_fn()
    with caplog.at_level("WARNING", logger="tensorflow"):
        for _ in range(6):
            nxt = clone(est)
            assert nxt.reuse_model_from(est)
            est = nxt.fit(X, y)
            est.embed(X)
            est.predict_proba(X)
            assert est._get_embedding_model() is sub and est._get_forward_fn() is forward
    assert "retracing" not in caplog.text
    assert sub.predict_function.experimental_get_tracing_count() == 1


def test_saved_network_does_not_carry_skals_cache(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((40, 16), dtype=np.float32)
    y = np.arange(40) % 2
    est = KerasClassifier(_mlp, epochs=1, random_state=0, verbose=0, min_train_steps=None)
    est.fit(X, y).embed(X)  # an embedding sub-model cached on the network
    est.save_fitted(tmp_path / "m.keras")
    loaded = clone(est).load_fitted(tmp_path / "m.keras", X, y)
    np.testing.assert_array_equal(loaded.embed(X), est.embed(X))


def test_skal_demo_writes_no_tensorflow_log_lines(tmp_path):
    """`skal demo` in a fresh process: no TensorFlow C++ line, no retracing warning.

    15 initial labels give a last partial batch, which (with a seeded fit's op determinism)
    is where TensorFlow 2.21 logs its "NodeDef mentions attribute use_unbounded_threadpool".
    TF_CPP_MIN_LOG_LEVEL is removed from the environment: a user who never set it.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(root)
    out = subprocess.run(
        [sys.executable, "-m", "skal", "demo", "--seeds", "1", "--strategies", "random,margin",
         "--n-queries", "1", "--epochs", "1", "--initial-size", "15", "--n-instances", "5",
         "--output", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=root, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "accuracy" in out.stderr  # the demo's own progress lines are still there
    assert not TF_NOISE_PATTERNS.search(out.stderr), out.stderr


# ------------------------------------------------------------------ logits, found at fit
def _logits_mlp(loss):
    def build(meta):
        model = keras.Sequential([
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(meta["n_classes_"]),  # logits: no activation
        ])
        model.compile("adam", loss)
        return model

    return build


def test_logits_model_compiled_from_logits_gives_probabilities(digits_xy):
    X, y = digits_xy[0][:100], digits_xy[1][:100]
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    est = KerasClassifier(_logits_mlp(loss), epochs=1, random_state=0, verbose=0,
                          min_train_steps=None).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (100, 10) and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])
    emb, proba_e = est.embed(X[:5], return_proba=True)
    np.testing.assert_allclose(proba_e, proba[:5], rtol=1e-4, atol=1e-6)
    assert est.predict_proba_samples(X[:5], n_samples=2).shape == (2, 5, 10)


def test_one_logit_with_binary_from_logits_loss_predicts_by_probability(digits_xy):
    X, y = digits_xy[0][:100], digits_xy[1][:100] % 2

    def build(meta):
        model = keras.Sequential([keras.Input((meta["n_features_in_"],)), keras.layers.Dense(1)])
        model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
        return model

    est = KerasClassifier(build, epochs=1, random_state=0, verbose=0,
                          min_train_steps=None).fit(X, y)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(est.predict(X), proba.argmax(axis=1))  # 0.5, not logit 0


def test_logits_model_with_a_probability_loss_is_refused_at_fit(digits_xy):
    X, y = digits_xy[0][:100], digits_xy[1][:100]
    est = KerasClassifier(_logits_mlp("sparse_categorical_crossentropy"), epochs=1,
                          random_state=0, verbose=0, min_train_steps=None)
    with pytest.raises(ValueError, match=r"(?s)activation='softmax'.*from_logits=True.*"
                                         r"Found at fit, before training"):
        est.fit(X, y)
    assert int(est.model_.optimizer.iterations.numpy()) == 0  # refused before training


# ------------------------------------------------------------------ the step floor, visible
def test_min_train_steps_floor_warns_when_it_overrides_epochs(monkeypatch, digits_xy):
    import warnings

    from skal.keras import _wrapper

    monkeypatch.setattr(_wrapper, "_FLOOR_WARNED", set())
    X, y = digits_xy[0][:20], digits_xy[1][:20]
    cnn = CNNClassifier(filters=(2,), dense_units=4, epochs=1, random_state=0,
                        min_train_steps=30)  # the default, 200, warns the same: slower
    with pytest.warns(UserWarning, match=r"min_train_steps=30 overrode epochs=1, which gives "
                                         r"1 optimizer steps on 20 samples.*"
                                         r"min_train_steps=None") as record:
        cnn.fit(X, y)
    assert [w.filename for w in record] == [__file__]  # points at the caller's fit
    assert int(cnn.model_.optimizer.iterations.numpy()) >= 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone(cnn).fit(X[:18], y[:18])  # a campaign's next refit: warned once already
        clone(cnn).set_params(min_train_steps=None).fit(X, y)  # no floor: silent


def test_class_weight_balanced_reaches_the_keras_fit_of_a_campaign(digits_xy):
    """A rare class: 5 samples against 100. Balanced class weights, given to the CNN as
    scikit-learn's ``class_weight="balanced"``, make the network find it."""
    from sklearn.metrics import recall_score

    from skal import ActiveLearningClassifier, CNNClassifier

    X, y = digits_xy
    train = np.r_[np.flatnonzero(y == 0)[:100], np.flatnonzero(y == 1)[:5]]
    test = np.r_[np.flatnonzero(y == 0)[100:150], np.flatnonzero(y == 1)[5:55]]
    recall = {}
    for weight in (None, "balanced"):
        learner = ActiveLearningClassifier(CNNClassifier(
            epochs=3, random_state=0, min_train_steps=None, class_weight=weight))
        learner.fit(X[train], y[train])
        recall[weight] = recall_score(y[test], learner.predict(X[test]), pos_label=1)
    assert recall["balanced"] > recall[None] + 0.2, recall
