"""Keras models for skal, through SciKeras.

This is the only module of skal that touches Keras internals or works around SciKeras 0.13
(unmaintained since 2025), so that the wrapper can be swapped without touching the rest:

* SciKeras' ``KerasClassifier`` lists ``BaseEstimator`` before ``ClassifierMixin``, so on
  scikit-learn >= 1.7 its tags say it is not a classifier (``is_classifier`` is False, and
  ``cross_val_score`` silently uses ``KFold``). :class:`KerasClassifier` fixes the tags.
* SciKeras predicts with Keras' default batch size (32), about 5x slower than large batches
  on big pools. :class:`KerasClassifier` predicts with ``predict_batch_size``.
* SciKeras has no notion of embeddings or stochastic (MC-dropout) passes; both live here.

Importing this module imports TensorFlow; ``import skal`` does not import it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# Keep TensorFlow's C++ start-up chatter (CUDA probes, oneDNN notes) off users' terminals.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np
from scikeras.wrappers import KerasClassifier as _SciKerasClassifier
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_is_fitted

__all__ = ["CNNClassifier", "KerasClassifier"]


@contextmanager
def _restore_op_determinism() -> Iterator[None]:
    """Undo SciKeras leaving TensorFlow's op determinism on after a seeded fit.

    SciKeras sets ``TF_DETERMINISTIC_OPS=1`` *before* asking whether determinism was on, so
    it always hears "yes" and never turns it off again; every later unseeded random op
    (dropout, shuffling) then raises "Random ops require a seed".
    """
    from tensorflow.python.framework import config

    was_enabled = config.is_op_determinism_enabled()
    try:
        yield
    finally:
        if not was_enabled and config.is_op_determinism_enabled():
            config.disable_op_determinism()


class KerasClassifier(_SciKerasClassifier):
    """SciKeras ``KerasClassifier`` that scikit-learn recognises as a classifier.

    Use it exactly like :class:`scikeras.wrappers.KerasClassifier` (any model-building
    callable or compiled Keras model as ``model``); it adds correct scikit-learn tags, fast
    batched prediction and access to the penultimate-layer embeddings.

    Parameters
    ----------
    model : callable, keras.Model or None, default=None
        Builds (and compiles) the Keras model, as in SciKeras. Its parameters are routed with
        the ``model__`` prefix, as in SciKeras.
    predict_batch_size : int, default=1024
        Batch size of ``predict``/``predict_proba``/``embed``; SciKeras' default is 32.
    embedding_layer : str or None, default=None
        Name of the layer whose output :meth:`embed` returns. ``None`` means the input of the
        last layer (the penultimate representation).
    finetune_epochs : int or None, default=None
        Epochs of a warm-started ``fit`` (``warm_start=True`` and a model already built):
        fine-tuning needs fewer epochs than training from scratch. ``None`` means ``epochs``.
    **kwargs
        Every other SciKeras parameter (``loss``, ``optimizer``, ``epochs``, ``batch_size``,
        ``random_state``, ``verbose``, ``warm_start``, routed ``fit__``/``model__`` ...).

    Attributes
    ----------
    model_ : keras.Model
        The fitted Keras model.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    """

    def __init__(
        self,
        model: Callable[..., Any] | None = None,
        *,
        predict_batch_size: int = 1024,
        embedding_layer: str | None = None,
        finetune_epochs: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, **kwargs)
        self.predict_batch_size = predict_batch_size
        self.embedding_layer = embedding_layer
        self.finetune_epochs = finetune_epochs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags

    def fit(self, X, y, sample_weight=None, **kwargs) -> KerasClassifier:
        """Fit the Keras model; see :meth:`scikeras.wrappers.KerasClassifier.fit`."""
        if self.warm_start and self.initialized_ and self.finetune_epochs is not None:
            fe = self.finetune_epochs
            if isinstance(fe, bool) or not isinstance(fe, int | np.integer) or fe < 1:
                raise ValueError(f"finetune_epochs must be a positive int or None, got {fe!r}.")
            kwargs.setdefault("epochs", int(fe))
        with _restore_op_determinism():
            super().fit(X, y, sample_weight=sample_weight, **kwargs)
        if self.classes_ is None:  # SciKeras forgets classes_ on a warm-started fit
            self.classes_ = self.target_encoder_.classes_
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs) -> KerasClassifier:
        """One epoch from the current weights; see SciKeras' ``partial_fit``."""
        with _restore_op_determinism():
            return super().partial_fit(
                X, y, classes=classes, sample_weight=sample_weight, **kwargs
            )

    def initialize(self, X, y) -> KerasClassifier:
        """Build the model without fitting; see SciKeras' ``initialize``."""
        with _restore_op_determinism():
            return super().initialize(X, y)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        # Derived Keras sub-models are rebuilt on demand; don't pickle them.
        state.pop("_embedding_model", None)
        state.pop("_forward_fn", None)
        return state

    def _check_predict_batch_size(self) -> int:
        bs = self.predict_batch_size
        if not isinstance(bs, int | np.integer) or isinstance(bs, bool) or bs < 1:
            raise ValueError(f"predict_batch_size must be a positive int, got {bs!r}.")
        return int(bs)

    def _predict_raw(self, X, **kwargs):
        if not self.initialized_:
            check_is_fitted(self, "model_")
        callbacks = getattr(self, "_predict_callbacks", None)
        forward = None if kwargs or callbacks else self._get_forward_fn()
        if forward is None:  # routed predict kwargs or callbacks: Keras' own predict loop
            kwargs.setdefault("batch_size", self._check_predict_batch_size())
            return super()._predict_raw(X, **kwargs)
        return self._forward(forward, self._encode_X(X))

    def _get_forward_fn(self):
        """A compiled inference step, traced once per model (not per call or chunk).

        ``model.predict`` rebuilds a data pipeline on every call; calling one
        ``tf.function`` per batch is about 25% faster on CPU (benchmarks/speed.py), and
        pool scoring calls predict once per chunk, every round. None when the model's
        input is not a single tensor.
        """
        cached = getattr(self, "_forward_fn", None)
        if cached is not None and cached[0] is self.model_:
            return cached[1]
        import tensorflow as tf

        model = self.model_
        inputs = getattr(model, "inputs", None)
        if not inputs or len(inputs) != 1 or len(model.outputs) != 1:
            return None
        spec = tf.TensorSpec((None, *inputs[0].shape[1:]), dtype=inputs[0].dtype)
        fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        self._forward_fn = (model, fn)
        return fn

    def _forward(self, fn, X: np.ndarray) -> np.ndarray:
        bs = self._check_predict_batch_size()
        dtype = self.model_.inputs[0].dtype
        parts = [
            np.asarray(fn(np.asarray(X[i : i + bs], dtype=dtype)))
            for i in range(0, len(X), bs)
        ]
        if not parts:
            return np.empty((0, *self.model_.outputs[0].shape[1:]), dtype=np.float32)
        return np.concatenate(parts)

    def _encode_X(self, X) -> np.ndarray:
        if not self.initialized_:
            check_is_fitted(self, "model_")
        X, _ = self._validate_data(X=X, y=None)
        return self.feature_encoder_.transform(X)

    def _embedding_layer_name(self) -> str:
        if self.embedding_layer is not None:
            names = [layer.name for layer in self.model_.layers]
            if self.embedding_layer not in names:
                raise ValueError(
                    f"embedding_layer={self.embedding_layer!r} is not a layer of the model; "
                    f"layers are {names}."
                )
            return self.embedding_layer
        # Penultimate representation: the input of the last layer with weights.
        dense = [layer for layer in self.model_.layers if layer.weights]
        if len(dense) < 2:
            raise ValueError(
                "Cannot find a penultimate layer for embeddings; set embedding_layer."
            )
        return dense[-2].name

    def _get_embedding_model(self) -> keras.Model:
        cached = getattr(self, "_embedding_model", None)
        if cached is not None and cached[0] is self.model_:
            return cached[1]
        layer = self.model_.get_layer(self._embedding_layer_name())
        sub = keras.Model(self.model_.inputs, [layer.output, self.model_.outputs[0]])
        self._embedding_model = (self.model_, sub)
        return sub

    def embed(self, X, *, return_proba: bool = False):
        """Penultimate-layer (or ``embedding_layer``) features of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, as accepted by ``predict``.
        return_proba : bool, default=False
            Also return the class probabilities from the same forward pass.

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_embedding)
            The layer's output, flattened per sample.
        proba : ndarray of shape (n_samples, n_classes)
            Only when ``return_proba`` is True.
        """
        X = self._encode_X(X)
        emb, raw = self._get_embedding_model().predict(
            X, batch_size=self._check_predict_batch_size(), verbose=0
        )
        emb = np.asarray(emb).reshape(len(emb), -1)
        if not return_proba:
            return emb
        return emb, self.target_encoder_.inverse_transform(raw, return_proba=True)

    def predict_proba_samples(self, X, n_samples: int = 20, *, random_state=None) -> np.ndarray:
        """Stochastic forward passes with dropout active (MC dropout, Gal et al. 2017).

        Parameters
        ----------
        X : array-like of shape (n_pool, n_features)
            Samples.
        n_samples : int, default=20
            Number of stochastic passes ``T``.
        random_state : int or None, default=None
            Seeds the dropout masks, so the same seed gives the same passes.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_pool, n_classes)
            Class probabilities of each pass.
        """
        if not any(isinstance(layer, keras.layers.Dropout) for layer in self.model_.layers):
            raise ValueError(
                f"{type(self).__name__}'s Keras model has no Dropout layer, so stochastic "
                "(MC-dropout) passes would all be identical; add dropout to the model."
            )
        X = self._encode_X(X)
        bs = self._check_predict_batch_size()
        if random_state is not None:
            keras.utils.set_random_seed(int(random_state))
        out = []
        for _ in range(n_samples):
            parts = [
                np.asarray(self.model_(X[i : i + bs], training=True))
                for i in range(0, len(X), bs)
            ]
            raw = np.concatenate(parts) if parts else np.empty((0, self.n_classes_))
            out.append(self.target_encoder_.inverse_transform(raw, return_proba=True))
        return np.stack(out)


def infer_input_shape(n_features: int, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    """Shape one flat sample is reshaped to: given, else square image or 1-D signal."""
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


class CNNClassifier(KerasClassifier):
    """A small convolutional network for images or signals, as a scikit-learn classifier.

    Takes flat samples ``(n_samples, prod(input_shape))`` -- so scikit-learn transformers can
    precede it in a Pipeline -- or already-shaped ``(n_samples, *input_shape)`` arrays.

    Parameters
    ----------
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` for 2-D convolutions or ``(length, channels)`` for 1-D.
        ``None`` infers it from the number of features: a square image with one channel when
        that is a perfect square (64 -> (8, 8, 1)), else a one-channel signal.
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
    **kwargs
        SciKeras pass-through parameters (``warm_start``, ``callbacks``, ``fit__*`` ...).
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
        epochs: int = 25,
        batch_size: int = 32,
        predict_batch_size: int = 1024,
        random_state: int | None = None,
        verbose: int = 0,
        embedding_layer: str | None = "embedding",
        finetune_epochs: int | None = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            predict_batch_size=predict_batch_size,
            embedding_layer=embedding_layer,
            finetune_epochs=finetune_epochs,
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

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # Shaped samples (n, h, w, c) are flattened so both forms share n_features_in_.
        if X is not None:
            X = np.asarray(X) if not hasattr(X, "ndim") else X
            if X.ndim > 2:
                X = np.reshape(X, (X.shape[0], -1))
        return super()._validate_data(X=X, y=y, reset=reset, y_numeric=y_numeric)

    def _keras_build_fn(self, meta: dict[str, Any]) -> keras.Model:
        n_features = meta["n_features_in_"]
        shape = infer_input_shape(n_features, self.input_shape)
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        conv, pool = (
            (keras.layers.Conv2D, keras.layers.MaxPooling2D)
            if len(shape) == 3
            else (keras.layers.Conv1D, keras.layers.MaxPooling1D)
        )
        inputs = keras.Input(shape=(n_features,), name="flat_input")
        x = keras.layers.Reshape(shape)(inputs)
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
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax", name="proba")(x)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate),
            loss="sparse_categorical_crossentropy",
        )
        return model
