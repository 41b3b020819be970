"""CNNClassifier: a small 2-D or 1-D convolutional network, its body shared with the regressor."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from skal.keras._conventions import target_type_of
from skal.keras._wrapper import KerasClassifier

__all__ = [
    "CNNClassifier", "ConvolutionalNetwork", "RandomCircularShift", "infer_input_shape",
    "network_input_shape",
]


def infer_input_shape(n_features: int, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    """Shape one flat sample is reshaped to: given, else square image or 1-D signal.

    Examples
    --------
    >>> from skal.keras import infer_input_shape
    >>> infer_input_shape(64, None)  # a perfect square: an 8 x 8 one-channel image
    (8, 8, 1)
    >>> infer_input_shape(40, None)  # else a one-channel signal
    (40, 1)
    >>> infer_input_shape(40, (20, 2))  # given: checked against the number of features
    (20, 2)
    """
    if input_shape is None:
        side = math.isqrt(n_features)
        if side * side == n_features and side > 1:
            return (side, side, 1)
        return (n_features, 1)
    shape = tuple(int(d) for d in input_shape)
    if len(shape) not in (2, 3) or math.prod(shape) != n_features:
        raise ValueError(
            f"input_shape={tuple(input_shape)!r} does not fit samples of {n_features} "
            "features: it must be (length, channels) or (height, width, channels) "
            f"with a product of {n_features}."
        )
    return shape


def network_input_shape(
    sample_shape: Sequence[int], input_shape: Sequence[int] | None
) -> tuple[int, ...]:
    """The shape :class:`CNNClassifier` builds its network for, from one training sample.

    ``sample_shape`` is ``X.shape[1:]`` of the training data. With ``input_shape`` given,
    that is the network's shape; shaped samples must then have that shape (or lack only its
    trailing channel axis of 1). Without it:

    * ``(n_features,)`` (flat rows): :func:`infer_input_shape` -- a square one-channel image
      when ``n_features`` is a perfect square, else a one-channel signal;
    * ``(height, width, channels)``: that image (2-D convolutions over ``channels``);
    * ``(a, b)``: a one-channel image ``(a, b, 1)``, as ``keras.datasets.mnist`` loads
      greyscale images -- except ``(length, 1)``, a one-channel signal, the shape Keras'
      ``Conv1D`` takes. A multi-channel signal ``(length, channels)`` is ambiguous with a
      one-channel image: pass ``input_shape=(length, channels)``.

    Examples
    --------
    >>> from skal.keras import network_input_shape
    >>> network_input_shape((64,), None)  # flat rows of a square number of features
    (8, 8, 1)
    >>> network_input_shape((28, 28), None)  # greyscale images
    (28, 28, 1)
    >>> network_input_shape((40, 1), None)  # a one-channel signal
    (40, 1)
    >>> network_input_shape((40, 2), (40, 2))  # a two-channel signal must be named
    (40, 2)
    """
    sample_shape = tuple(int(d) for d in sample_shape)
    n_features = math.prod(sample_shape)
    if input_shape is not None:
        shape = infer_input_shape(n_features, input_shape)
        if len(sample_shape) > 1 and not _fits(sample_shape, shape):
            raise ValueError(
                f"input_shape={tuple(input_shape)!r} does not fit samples of shape "
                f"{sample_shape}: pass samples of shape {shape}"
                + (f" or {shape[:-1]}" if shape[-1] == 1 else "")
                + f", flat rows of {n_features} features, or another input_shape."
            )
        return shape
    if len(sample_shape) <= 1:
        return infer_input_shape(n_features, None)
    if len(sample_shape) == 3:
        return sample_shape
    if len(sample_shape) == 2:
        return sample_shape if sample_shape[1] == 1 else (*sample_shape, 1)
    raise ValueError(
        f"CNNClassifier takes flat rows, (height, width) or (height, width, channels) "
        f"images, or (length, channels) signals; got samples of shape {sample_shape}."
    )


def _fits(sample_shape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Shaped samples fit the network's shape: the same, or without its channel axis of 1."""
    return sample_shape == shape or (shape[-1] == 1 and sample_shape == shape[:-1])


@keras.saving.register_keras_serializable(package="skal")
class RandomCircularShift(keras.layers.Layer):
    """Training-time augmentation: roll each sample by a random number of positions.

    Each sample of a training batch is shifted circularly along ``axis`` by an integer drawn
    uniformly from ``[-max_shift, max_shift]``; at inference (``training=False``, which
    includes skal's MC-dropout passes) the layer is the identity.

    Parameters
    ----------
    max_shift : int
        Largest shift, in positions.
    axis : int, default=1
        Axis to roll (1: the signal of ``(n, length, channels)`` inputs; 2: the width of
        ``(n, height, width, channels)`` images).
    seed : int or None, default=None
        Seeds the shifts.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.keras import RandomCircularShift
    >>> x = np.arange(12, dtype="float32").reshape(2, 6, 1)  # two signals of length 6
    >>> shift = RandomCircularShift(max_shift=2, seed=0)
    >>> np.asarray(shift(x, training=False))[..., 0]  # inference: unchanged
    array([[ 0.,  1.,  2.,  3.,  4.,  5.],
           [ 6.,  7.,  8.,  9., 10., 11.]], dtype=float32)
    >>> rolled = np.asarray(shift(x, training=True))[..., 0]  # training: each row rolled
    >>> [sorted(row) == sorted(orig) for row, orig in zip(rolled, x[..., 0])]
    [True, True]
    """

    def __init__(self, max_shift: int, axis: int = 1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.max_shift = int(max_shift)
        self.axis = int(axis)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.max_shift == 0:
            return inputs
        ops = keras.ops
        length = inputs.shape[self.axis]
        shifts = keras.random.randint(
            (ops.shape(inputs)[0],), -self.max_shift, self.max_shift + 1,
            seed=self.seed_generator,
        )
        index = ops.mod(ops.arange(length)[None, :] - shifts[:, None], length)
        index = ops.cast(index, "int32")
        for d in range(1, len(inputs.shape)):
            if d != self.axis:
                index = ops.expand_dims(index, d)
        index = ops.broadcast_to(index, ops.shape(inputs))
        return ops.take_along_axis(inputs, index, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "max_shift": self.max_shift, "axis": self.axis,
                "seed": self.seed}


class ConvolutionalNetwork:
    """Mixin of :class:`CNNClassifier` and :class:`skal.CNNRegressor`: samples shaped for
    the network (flat rows or images/signals) and its convolutional body.

    Needs of its host: the CNN parameters (``input_shape``, ``filters``, ``kernel_size``,
    ``dense_units``, ``dropout``, ``shift_augment``) and a SciKeras wrapper after it in the
    MRO.
    """

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # The network takes flat rows (a Reshape layer shapes them), so shaped samples
        # (n, h, w, c) are flattened and both forms share n_features_in_. The network's shape
        # comes from the training samples' own shape; later samples must fit it.
        if X is not None:
            X = np.asarray(X) if not hasattr(X, "ndim") else X
            if X.ndim >= 2:
                if reset:
                    self.input_shape_ = network_input_shape(X.shape[1:], self.input_shape)
                else:
                    self._check_sample_shape(X)
            if X.ndim > 2:
                X = np.reshape(X, (X.shape[0], -1))
        return super()._validate_data(X=X, y=y, reset=reset, y_numeric=y_numeric)

    def initialize(self, X, y):
        """Build the model without fitting; see SciKeras' ``initialize``."""
        super().initialize(X, y)
        # A network attached from a file (load_fitted) has the shape it was trained for,
        # whatever form X takes here: read it from its Reshape layer.
        for layer in self.model_.layers:
            if isinstance(layer, keras.layers.Reshape):
                shape = tuple(int(d) for d in layer.target_shape)
                if math.prod(shape) == self.n_features_in_:
                    self.input_shape_ = shape
                break
        return self

    def _check_sample_shape(self, X) -> None:
        """Samples after fitting: flat rows of ``n_features_in_``, or the network's shape."""
        shape = getattr(self, "input_shape_", None)
        n_features = getattr(self, "n_features_in_", None)
        if shape is None or n_features is None:
            return  # not fitted: SciKeras says so
        sample = tuple(X.shape[1:])
        if (len(sample) == 1 and sample[0] == n_features) or _fits(sample, shape):
            return
        forms = [f"(n, {', '.join(map(str, shape))})"]
        if shape[-1] == 1:
            forms.append(f"(n, {', '.join(map(str, shape[:-1]))})")
        name = type(self).__name__
        size = math.prod(sample)
        # scikit-learn's wording when the sizes differ (its checks match it), then the shapes
        head = (
            f"X has {size} features, but {name} is expecting {n_features} features as input: "
            if size != n_features else ""
        )
        raise ValueError(
            f"{head}X has samples of shape {sample}, but this {name} was fitted for "
            f"samples of shape {shape} (input_shape={self.input_shape!r}): pass arrays of "
            f"shape {' or '.join(forms)}, or flat rows (n, {n_features})."
        )

    def _convolutional_body(self, meta: dict[str, Any]):
        """The network up to its head: ``(inputs, x)``, ``x`` the dropped-out embedding
        (layer ``"embedding"``); the classifier adds a softmax, the regressor a linear
        output."""
        n_features = meta["n_features_in_"]
        shape = getattr(self, "input_shape_", None) or infer_input_shape(
            n_features, self.input_shape
        )
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        shift = self.shift_augment
        if isinstance(shift, bool) or not isinstance(shift, int | np.integer) or shift < 0:
            raise ValueError(f"shift_augment must be a non-negative int, got {shift!r}.")
        conv, pool = (
            (keras.layers.Conv2D, keras.layers.MaxPooling2D)
            if len(shape) == 3
            else (keras.layers.Conv1D, keras.layers.MaxPooling1D)
        )
        inputs = keras.Input(shape=(n_features,), name="flat_input")
        x = keras.layers.Reshape(shape)(inputs)
        if shift:
            x = RandomCircularShift(int(shift), axis=len(shape) - 1)(x)
        spatial = min(shape[:-1])
        for n_filters in self.filters:
            x = conv(int(n_filters), self.kernel_size, padding="same", activation="relu")(x)
            if spatial >= 4:
                x = pool(2)(x)
                spatial //= 2
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dropout(self.dropout)(x)
        x = keras.layers.Dense(self.dense_units, activation="relu", name="embedding")(x)
        x = keras.layers.Dropout(self.dropout)(x)
        return inputs, x


class CNNClassifier(ConvolutionalNetwork, KerasClassifier):
    """A small convolutional network for images or signals, as a scikit-learn classifier.

    Takes flat samples ``(n_samples, prod(input_shape))`` -- so scikit-learn transformers can
    precede it in a Pipeline -- or already-shaped ``(n_samples, *input_shape)`` arrays, and
    after fitting on either form predicts on both: a CNN fitted on ``(n, 8, 8, 1)`` images
    takes ``(m, 64)`` rows, ``(m, 8, 8)`` and ``(m, 8, 8, 1)`` arrays, and one fitted on
    ``(n, 64)`` rows takes the images. Samples of any other shape or size are a ValueError
    naming both shapes. ``n_features_in_`` is always the flat number of features (64), and
    ``input_shape_`` the shape the network takes ((8, 8, 1)).

    Parameters
    ----------
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` for 2-D convolutions or ``(length, channels)`` for 1-D.
        ``None`` takes it from the training data (see :func:`network_input_shape`):

        * ``(n, height, width, channels)`` images: 2-D convolutions over ``channels``
          ((n, 32, 32, 3) colour images -> (32, 32, 3));
        * ``(n, height, width)``: one-channel images ((n, 28, 28) -> (28, 28, 1)), except
          ``(n, length, 1)``: a one-channel signal. A multi-channel signal
          ``(n, length, channels)`` needs ``input_shape=(length, channels)``;
        * flat ``(n, n_features)`` rows: a square one-channel image when ``n_features`` is a
          perfect square (64 -> (8, 8, 1)), else a one-channel signal (40 -> (40, 1)).
    filters : tuple of int, default=(32, 64)
        Number of filters of each convolution block.
    kernel_size : int, default=3
        Convolution kernel size.
    dense_units : int, default=128
        Width of the dense layer whose output is the embedding (layer ``"embedding"``).
    dropout : float, default=0.25
        Dropout rate after the convolutions and after the embedding layer.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    shift_augment : int, default=0
        Training-time augmentation: each training sample is rolled circularly by a random
        number of positions in ``[-shift_augment, shift_augment]`` along the signal (1-D) or
        the image width (2-D); see :class:`RandomCircularShift`. Suits data whose class does
        not depend on position, such as MNIST-1D (generated with circular translations).
        Predictions never shift. 0 (default) turns it off.
    epochs : int, default=25
        Training epochs per ``fit``.
    batch_size : int, default=32
        Training batch size.
    predict_batch_size : int, default=1024
        Prediction batch size.
    random_state : int or None, default=None
        Seeds weight initialisation, shuffling and dropout: two fits with the same seed on the
        same data give identical predictions.
    verbose : int, default=0
        Keras verbosity.
    embedding_layer : str, default="embedding"
        Layer whose output :meth:`embed` returns.
    finetune_epochs : int or None, default=5
        Epochs of a warm-started fit (``warm_start=True``), e.g. when an active learner
        with ``warm_start=True`` refits after ``teach``. ``None`` means ``epochs``.
    min_train_steps : int or None, default=200
        A fit from scratch trains for at least this many gradient steps: with 20 labels
        and ``batch_size=32``, 25 epochs are only 25 steps and leave the CNN undertrained
        (digits test accuracy 0.59 with 20 labels, 0.77 with this floor; see README).
    **kwargs
        SciKeras pass-through parameters (``warm_start``, ``callbacks``, ``fit__*`` ...).
        ``loss="categorical_crossentropy"`` trains on one-hot ``y`` (or one-hot-encodes
        integer labels); the default loss is ``"sparse_categorical_crossentropy"``, which
        takes class labels.

    Attributes
    ----------
    input_shape_ : tuple of int
        The shape of one sample as the network takes it, e.g. ``(32, 32, 3)``.
    n_features_in_ : int
        Number of features of a flat sample, ``prod(input_shape_)``.

    Examples
    --------
    A tiny network (one block of 4 filters) fitted for one epoch on 20 digits; the 64 flat
    features are taken as 8 x 8 one-channel images:

    >>> from skal import CNNClassifier
    >>> from skal.datasets import load_digits_split
    >>> X_train, X_test, y_train, y_test = load_digits_split()
    >>> cnn = CNNClassifier(filters=(4,), dense_units=8, epochs=1, min_train_steps=None,
    ...                     random_state=0).fit(X_train[:20], y_train[:20])
    >>> cnn.input_shape_, cnn.n_features_in_
    ((8, 8, 1), 64)
    >>> cnn.predict_proba(X_test[:3]).shape, cnn.embed(X_test[:3]).shape
    ((3, 9), (3, 8))
    >>> cnn.predict(X_test[:3].reshape(3, 8, 8)).shape  # images work too
    (3,)
    """

    def __init__(
        self,
        input_shape: Sequence[int] | None = None,
        *,
        filters: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        dense_units: int = 128,
        dropout: float = 0.25,
        learning_rate: float = 1e-3,
        shift_augment: int = 0,
        epochs: int = 25,
        batch_size: int = 32,
        predict_batch_size: int = 1024,
        random_state: int | None = None,
        verbose: int = 0,
        embedding_layer: str | None = "embedding",
        finetune_epochs: int | None = 5,
        min_train_steps: int | None = 200,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            predict_batch_size=predict_batch_size,
            embedding_layer=embedding_layer,
            finetune_epochs=finetune_epochs,
            min_train_steps=min_train_steps,
            epochs=epochs,
            batch_size=batch_size,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.input_shape = input_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.shift_augment = shift_augment

    def _keras_build_fn(self, meta: dict[str, Any]) -> keras.Model:
        _check_single_label(meta, target_type_of(self))
        inputs, x = self._convolutional_body(meta)
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax", name="proba")(x)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate),
            loss="sparse_categorical_crossentropy" if self.loss is None else self.loss,
        )
        return model


def _check_single_label(meta: dict[str, Any], kind: str | None) -> None:
    """A ValueError naming the fix when ``y`` has no single class per sample.

    SciKeras encodes multi-label and multi-output targets without a class count, which
    reached Keras as ``Dense(None)`` ("invalid value for `units`"); ``kind`` is SciKeras'
    target type, which tells one-hot rows (one class each) from multi-label ones.
    """
    if kind == "multilabel-indicator":
        what = ("y is multi-label (a 0/1 column per label, rows with several 1s or none), but "
                "CNNClassifier's softmax output gives one class per sample. For one class per "
                "row pass y.argmax(axis=1); for several labels a sample use a model with one "
                "sigmoid output per label (skal.KerasClassifier with loss="
                "'binary_crossentropy'), or a scikit-learn multi-label model such as "
                "OneVsRestClassifier.")
    elif kind == "multiclass-multioutput":
        what = ("y has several columns of classes (multiclass-multioutput), but CNNClassifier "
                "predicts one class per sample: pass one column (y[:, j]), or one model per "
                "column (sklearn.multioutput.MultiOutputClassifier).")
    elif meta.get("n_classes_") is not None:
        return
    else:
        what = (f"CNNClassifier needs one class per sample; y's target type is {kind!r}. "
                "Pass a 1-D array of class labels.")
    raise ValueError(what)
