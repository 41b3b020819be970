"""Bad and unusual inputs to skal's Keras wrappers: one table row each, with its outcome.

Each row of ``CASES`` is a :class:`Case`: an estimator, the ``X``/``y`` it is fitted on, and
either an error (a class and a message fragment, from ``fit`` or from ``then``) or a check of
the fitted estimator. ``then(est)`` runs after ``fit`` (predict on other data, say) and its
result goes to ``check(est, result)``. ``build_only=True`` calls ``initialize(X, y)``
instead of ``fit``: the network is built and validated exactly as by ``fit``, without the
training (rows about shapes and outputs, where training adds nothing but seconds).

To add a case: append a ``Case(...)``. Keep models tiny (one conv block, a few units, one
epoch, ``min_train_steps=None`` unless the floor is the point): the file runs in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pytest
import scipy.sparse

from skal import CNNClassifier, KerasClassifier
from skal.keras import network_input_shape

RNG = np.random.default_rng(0)
N = 24
Y3 = np.arange(N) % 3
ONE_HOT = np.eye(3, dtype=np.float32)[Y3]
FLAT = RNG.random((N, 64), dtype=np.float32)
IMG = FLAT.reshape(N, 8, 8, 1)
COLOUR = RNG.random((12, 32, 32, 3), dtype=np.float32)
INTS = RNG.integers(0, 255, (N, 64))
SPARSE_FLAT = scipy.sparse.csr_matrix(np.where(FLAT > 0.7, FLAT, 0))
Y_COLOUR = np.arange(12) % 2


def cnn(**kw) -> CNNClassifier:
    params = dict(filters=(2,), dense_units=4, epochs=1, batch_size=32, random_state=0,
                  min_train_steps=None, verbose=0)
    return CNNClassifier(**{**params, **kw})


def dense(activation="softmax", compiled_loss="sparse_categorical_crossentropy", units=None,
          **kw) -> KerasClassifier:
    """A tiny KerasClassifier whose model ends in ``Dense(units or n_classes, activation)``,
    compiled with ``compiled_loss`` (None: not compiled; SciKeras compiles it with the
    wrapper's ``loss``, passed in ``kw``)."""

    def build(meta):
        model = keras.Sequential([
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(units or meta["n_classes_"], activation=activation),
        ])
        if compiled_loss is not None:
            model.compile("adam", compiled_loss)
        return model

    params = dict(epochs=1, random_state=0, verbose=0, min_train_steps=None)
    return KerasClassifier(build, **{**params, **kw})


class SmoothedLoss(keras.losses.SparseCategoricalCrossentropy):
    """A user's own loss: skal cannot tell which activation it applies to logits."""


def conv_layers(est):
    return [layer for layer in est.model_.layers
            if isinstance(layer, keras.layers.Conv1D | keras.layers.Conv2D)]


def reshape_target(est):
    (reshape,) = [layer for layer in est.model_.layers if isinstance(layer, keras.layers.Reshape)]
    return tuple(reshape.target_shape)


def is_proba(p, n, k):
    return p.shape == (n, k) and np.all(p >= 0) and np.allclose(p.sum(axis=1), 1, atol=1e-5)


def builds(shape, conv, channels):
    """A CNN built for samples of ``shape`` whose first convolution is ``conv`` over
    ``channels`` input channels."""

    def check(est, _):
        first = conv_layers(est)[0]
        assert est.input_shape_ == shape and reshape_target(est) == shape
        assert est.model_.inputs[0].shape[1:] == (int(np.prod(shape)),)  # flat rows in
        assert type(first) is conv
        assert first.kernel.shape[-2] == channels  # (k[, k], in_channels, filters)
        assert est.n_features_in_ == int(np.prod(shape))

    return check


def same_as(other_X):
    """``then`` predicts ``X_test`` in another form; the check compares with the fitted form."""

    def then(est):
        return est.predict_proba(other_X), est.predict_proba(FLAT[:5])

    def check(est, result):
        np.testing.assert_array_equal(*result)

    return then, check


@dataclass
class Case:
    id: str
    estimator: Callable[[], Any]
    X: Any
    y: Any
    error: tuple[type[Exception], str] | None = None  # from fit, or from then
    then: Callable[[Any], Any] | None = None
    check: Callable[[Any, Any], None] | None = None
    build_only: bool = False
    marks: list = field(default_factory=list)


FLAT_THEN, FLAT_CHECK = same_as(IMG[:5])
FLOOR_WARNING = pytest.mark.filterwarnings("ignore:.*overrode epochs:UserWarning")
SHAPED_THEN, SHAPED_CHECK = same_as(IMG[:5, :, :, 0])

CASES = [
    # ---------------------------------------------------------------- shapes (CNNClassifier)
    Case("colour images (n,32,32,3): Conv2D over 3 channels", cnn, COLOUR, Y_COLOUR,
         check=builds((32, 32, 3), keras.layers.Conv2D, 3),
         build_only=True),
    Case("colour images then flat rows of 3072", cnn, COLOUR, Y_COLOUR,
         then=lambda est: (est.predict_proba(COLOUR[:3].reshape(3, -1)),
                           est.predict_proba(COLOUR[:3])),
         check=lambda est, r: np.testing.assert_array_equal(*r)),
    Case("greyscale images (n,8,8): 8x8x1 Conv2D", cnn, IMG[..., 0], Y3,
         check=builds((8, 8, 1), keras.layers.Conv2D, 1),
         build_only=True),
    Case("non-square images (n,4,16): 4x16x1, not a square", cnn,
         FLAT.reshape(N, 4, 16), Y3, check=builds((4, 16, 1), keras.layers.Conv2D, 1),
         build_only=True),
    Case("signal (n,40,1): Conv1D, as flat (n,40)", cnn, FLAT[:, :40, None], Y3,
         check=builds((40, 1), keras.layers.Conv1D, 1),
         build_only=True),
    Case("flat square rows (n,64): 8x8x1 image", cnn, FLAT, Y3,
         check=builds((8, 8, 1), keras.layers.Conv2D, 1),
         build_only=True),
    Case("multi-channel signal needs input_shape=(L,C)", lambda: cnn(input_shape=(16, 4)),
         FLAT.reshape(N, 16, 4), Y3, check=builds((16, 4), keras.layers.Conv1D, 4),
         build_only=True),
    Case("kernel_size=5: 5x5 convolutions over images", lambda: cnn(kernel_size=5), IMG, Y3,
         check=lambda est, _: conv_layers(est)[0].kernel.shape[:2] == (5, 5),
         build_only=True),
    Case("kernel_size=7 on a signal: width-7 Conv1D", lambda: cnn(kernel_size=7),
         FLAT[:, :40, None], Y3,
         check=lambda est, _: conv_layers(est)[0].kernel.shape[:1] == (7,),
         build_only=True),
    Case("5-D samples are refused", cnn, FLAT.reshape(N, 2, 2, 4, 4), Y3,
         error=(ValueError, "takes flat rows")),
    Case("input_shape that does not fit the samples' shape", lambda: cnn(input_shape=(8, 8, 1)),
         FLAT.reshape(N, 4, 16, 1), Y3,
         error=(ValueError, "does not fit samples of shape (4, 16, 1)")),
    Case("input_shape of another size", lambda: cnn(input_shape=(7, 7, 1)), FLAT, Y3,
         error=(ValueError, "input_shape=(7, 7, 1) does not fit samples of 64 features")),
    Case("fitted on flat rows, predicts (n,8,8,1) images", cnn, FLAT, Y3,
         then=FLAT_THEN, check=FLAT_CHECK),
    Case("fitted on (n,8,8,1) images, predicts (n,8,8) and flat rows", cnn, IMG, Y3,
         then=SHAPED_THEN, check=SHAPED_CHECK),
    Case("fitted on images, flat rows of the wrong size", cnn, IMG, Y3,
         then=lambda est: est.predict_proba(FLAT[:3, :63]),
         error=(ValueError, "X has 63 features, but CNNClassifier is expecting 64 features "
                            "as input: X has samples of shape (63,), but this CNNClassifier "
                            "was fitted for samples of shape (8, 8, 1) (input_shape=None)"),
         build_only=True),
    Case("fitted on images, images of the same size but another shape", cnn, IMG, Y3,
         then=lambda est: est.predict_proba(FLAT[:3].reshape(3, 4, 16, 1)),
         error=(ValueError, "pass arrays of shape (n, 8, 8, 1) or (n, 8, 8), or flat rows "
                            "(n, 64)"),
         build_only=True),
    # ---------------------------------------------------------------- probabilities
    Case("logits model: Dense(3), no activation", lambda: dense(activation=None), FLAT, Y3,
         then=lambda est: est.predict_proba(FLAT),
         error=(ValueError, "activation='softmax'"),
         build_only=True),
    Case("logits model: refused at fit, before training", lambda: dense(activation=None),
         FLAT, Y3, error=(ValueError, "Found at fit, before training")),
    Case("logits model compiled with from_logits=True: softmax applied",
         lambda: dense(activation=None,
                       compiled_loss=keras.losses.SparseCategoricalCrossentropy(
                           from_logits=True)),
         FLAT, Y3, check=lambda est, _: is_proba(est.predict_proba(FLAT), N, 3)),
    Case("logits with a from_logits=True loss skal does not know: refused at fit",
         lambda: dense(activation=None, compiled_loss=SmoothedLoss(from_logits=True)),
         FLAT, Y3, error=(ValueError, "It was compiled with from_logits=True, but with "
                                      "loss='smoothed_loss'")),
    Case("negative outputs (tanh)", lambda: dense(activation="tanh"), FLAT, Y3,
         then=lambda est: est.predict_proba(FLAT), error=(ValueError, "values as low as"),
         build_only=True),
    Case("rows not summing to 1 (sigmoid over 3 classes)", lambda: dense(activation="sigmoid"),
         FLAT, Y3, then=lambda est: est.predict_proba(FLAT),
         error=(ValueError, "instead of 1"),
         build_only=True),
    Case("NaN outputs (diverged weights)", dense, FLAT, Y3,
         then=lambda est: (est.model_.layers[-1].kernel.assign(
             np.full(est.model_.layers[-1].kernel.shape, np.nan, dtype=np.float32)),
             est.predict_proba(FLAT)),
         error=(ValueError, "NaN or infinite values for 24 of 24 samples")),
    Case("embed(return_proba=True) is checked too", lambda: dense(activation=None),
         FLAT, Y3, then=lambda est: est.embed(FLAT, return_proba=True),
         error=(ValueError, "does not output class probabilities"),
         build_only=True),
    Case("integer y, loss='categorical_crossentropy' given to the wrapper",
         lambda: dense(compiled_loss=None, loss="categorical_crossentropy", optimizer="adam"),
         FLAT, Y3, check=lambda est, _: is_proba(est.predict_proba(FLAT), N, 3)),
    Case("softmax probabilities pass", dense, FLAT, Y3,
         check=lambda est, _: is_proba(est.predict_proba(FLAT), N, 3)),
    Case("one sigmoid output for two classes passes", lambda: dense(activation="sigmoid",
                                                                    compiled_loss="binary_crossentropy",
                                                                    units=1),
         FLAT, Y3 % 2, check=lambda est, _: is_proba(est.predict_proba(FLAT), N, 2)),
    # ---------------------------------------------------------------- targets and loss
    Case("one-hot y, loss='categorical_crossentropy' in the model",
         lambda: dense(compiled_loss="categorical_crossentropy"), FLAT, ONE_HOT,
         check=lambda est, _: (np.testing.assert_array_equal(est.classes_, [0, 1, 2]),
                               est.predict(FLAT[:4]).shape == (4, 3),
                               is_proba(est.predict_proba(FLAT), N, 3))),
    Case("one-hot y, loss='categorical_crossentropy' given to the wrapper",
         lambda: dense(compiled_loss=None, loss="categorical_crossentropy", optimizer="adam"),
         FLAT, ONE_HOT,
         check=lambda est, _: is_proba(est.predict_proba(FLAT), N, 3)),
    Case("integer y, loss='categorical_crossentropy' in the model",
         lambda: dense(compiled_loss="categorical_crossentropy"), FLAT, Y3,
         check=lambda est, _: (set(est.predict(FLAT)) <= {0, 1, 2},
                               is_proba(est.predict_proba(FLAT), N, 3))),
    Case("string y, categorical loss in the model",
         lambda: dense(compiled_loss="categorical_crossentropy"), FLAT,
         np.array(["a", "b", "c"])[Y3],
         check=lambda est, _: set(est.predict(FLAT)) <= {"a", "b", "c"}),
    Case("binary y, categorical loss, Dense(2, softmax)",
         lambda: dense(compiled_loss=keras.losses.CategoricalCrossentropy()), FLAT, Y3 % 2,
         check=lambda est, _: is_proba(est.predict_proba(FLAT), N, 2)),
    Case("categorical loss with one output for 3 classes",
         lambda: dense(compiled_loss="categorical_crossentropy", units=1), FLAT, Y3,
         error=(ValueError, "needs one output per class")),
    Case("one-hot y with a sparse loss", dense, FLAT, ONE_HOT,
         error=(ValueError, "y is one-hot encoded (shape (24, 3))")),
    Case("one-hot y with CNNClassifier's default (sparse) loss", cnn, IMG, ONE_HOT,
         error=(ValueError, "y.argmax(axis=1)")),
    Case("one-hot y with CNNClassifier(loss='categorical_crossentropy')",
         lambda: cnn(loss="categorical_crossentropy"), IMG, ONE_HOT,
         check=lambda est, _: is_proba(est.predict_proba(FLAT), N, 3)),
    # Targets that are not one class a sample: refused before Keras sees Dense(None).
    Case("multi-label y (rows with several 1s) with CNNClassifier", cnn, IMG,
         np.c_[Y3 == 0, Y3 > 0, Y3 < 2].astype(int),
         error=(ValueError, "y is multi-label")),
    Case("multi-label y with a sparse loss: the sigmoid model named", dense, FLAT,
         np.c_[Y3 == 0, Y3 > 0, Y3 < 2].astype(int),
         error=(ValueError, "loss='binary_crossentropy'")),
    Case("two columns of classes (multiclass-multioutput) with CNNClassifier", cnn, IMG,
         np.c_[Y3, 2 - Y3], error=(ValueError, "pass one column (y[:, j])")),
    Case("continuous y with CNNClassifier: the regressors named", cnn, IMG, Y3 + 0.5,
         error=(ValueError, "skal.CNNRegressor")),
    Case("continuous y with a KerasClassifier", dense, FLAT, np.linspace(0, 1, N),
         error=(ValueError, "y holds continuous values")),
    # ---------------------------------------------------------------- dtypes after fit
    # The network computes in float32 whatever it is given: another numeric dtype is cast
    # (SciKeras refused float64 or int64 after float32 as an "unsafe" cast).
    Case("fitted on float32, a float64 pool: the same probabilities", cnn, FLAT, Y3,
         then=lambda est: (est.predict_proba(FLAT.astype(np.float64)), est.predict_proba(FLAT)),
         check=lambda est, r: np.testing.assert_array_equal(*r),
         build_only=True),
    Case("fitted on float32, float64 images (n,8,8,1)", cnn, FLAT, Y3,
         then=lambda est: (est.predict_proba(IMG.astype(np.float64)), est.predict_proba(FLAT)),
         check=lambda est, r: np.testing.assert_array_equal(*r),
         build_only=True),
    Case("fitted on float32, an int64 pool: cast as float32", cnn, FLAT, Y3,
         then=lambda est: (est.predict_proba(INTS), est.predict_proba(INTS.astype(np.float32))),
         check=lambda est, r: np.testing.assert_array_equal(*r),
         build_only=True),
    Case("fitted on float32, a list of Python floats", dense, FLAT, Y3,
         then=lambda est: (est.predict_proba(FLAT[:3].astype(float).tolist()),
                           est.predict_proba(FLAT[:3])),
         check=lambda est, r: np.testing.assert_array_equal(*r),
         build_only=True),
    Case("fitted on float32, float64 values beyond float32's range", cnn, FLAT, Y3,
         then=lambda est: est.predict_proba(np.where(FLAT > 0.5, 1e300, FLAT.astype(np.float64))),
         error=(ValueError, "values beyond float32's range"),
         build_only=True),
    # ---------------------------------------------------------------- sparse samples
    # SciKeras' fit takes scipy.sparse; the batched forward pass densifies each call's rows.
    Case("CNN fitted on a CSR matrix, then predicts CSR: as dense", cnn, SPARSE_FLAT, Y3,
         then=lambda est: (est.predict_proba(SPARSE_FLAT),
                           est.predict_proba(SPARSE_FLAT.toarray())),
         check=lambda est, r: np.testing.assert_array_equal(*r)),
    Case("CNN fitted on a dok_array (not a TensorFlow format), predicts it", cnn,
         scipy.sparse.dok_array(SPARSE_FLAT), Y3,
         then=lambda est: est.predict(scipy.sparse.dok_array(SPARSE_FLAT)),
         check=lambda est, pred: pred.shape == (N,) and set(pred) <= {0, 1, 2}),
    Case("KerasClassifier fitted on CSR: predict_proba and embed of CSR rows", dense,
         SPARSE_FLAT, Y3,
         then=lambda est: (est.predict_proba(SPARSE_FLAT[:5]), est.embed(SPARSE_FLAT[:5]),
                           est.embed(SPARSE_FLAT[:5].toarray())),
         check=lambda est, r: (is_proba(r[0], 5, 3),
                               np.testing.assert_array_equal(r[1], r[2]))),
    # ---------------------------------------------------------------- the min_train_steps floor
    Case("KerasClassifier's default floor: 200 steps on 20 samples",
         lambda: KerasClassifier(dense().model, epochs=1, random_state=0, verbose=0),
         FLAT[:20], Y3[:20],
         check=lambda est, _: int(est.model_.optimizer.iterations.numpy()) >= 200,
         marks=[FLOOR_WARNING]),
    Case("no samples: scikit-learn's ValueError, not a ZeroDivisionError from the floor",
         lambda: dense(min_train_steps=200), FLAT[:0], Y3[:0],
         error=(ValueError, "0 sample(s)")),
    Case("an explicit floor on a KerasClassifier", lambda: dense(min_train_steps=30),
         FLAT[:20], Y3[:20],
         check=lambda est, _: int(est.model_.optimizer.iterations.numpy()) >= 30,
         marks=[FLOOR_WARNING]),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_case(case: Case):
    est = case.estimator()
    fit = est.initialize if case.build_only else est.fit
    if case.error is not None and case.then is None:
        with pytest.raises(case.error[0], match=_literal(case.error[1])):
            fit(case.X, case.y)
        return
    fit(case.X, case.y)
    if case.error is not None:
        with pytest.raises(case.error[0], match=_literal(case.error[1])):
            case.then(est)
        return
    result = case.then(est) if case.then is not None else None
    outcome = case.check(est, result)
    if isinstance(outcome, tuple):  # checks written as tuples of booleans (or None)
        assert all(x is not False for x in outcome), outcome
    else:
        assert outcome is not False


def _literal(fragment: str) -> str:
    import re

    return re.escape(fragment)


def test_min_train_steps_default_is_the_same_for_every_wrapper():
    assert KerasClassifier().min_train_steps == CNNClassifier().min_train_steps == 200


@pytest.mark.parametrize("sample_shape, input_shape, expected", [
    ((64,), None, (8, 8, 1)),
    ((40,), None, (40, 1)),
    ((8, 8), None, (8, 8, 1)),
    ((40, 1), None, (40, 1)),
    ((40, 3), None, (40, 3, 1)),  # a one-channel image; a 3-channel signal needs input_shape
    ((40, 3), (40, 3), (40, 3)),
    ((32, 32, 3), None, (32, 32, 3)),
    ((64,), (4, 16, 1), (4, 16, 1)),
    ((8, 8), (8, 8, 1), (8, 8, 1)),
])
def test_network_input_shape_rules(sample_shape, input_shape, expected):
    assert network_input_shape(sample_shape, input_shape) == expected
