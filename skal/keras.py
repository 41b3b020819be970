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

import logging
import math
import os
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# Keep TensorFlow's C++ start-up chatter (CUDA probes, oneDNN notes) off users' terminals.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np
from scikeras.wrappers import KerasClassifier as _SciKerasClassifier
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import _num_samples, check_is_fitted

__all__ = ["CNNClassifier", "KerasClassifier", "RandomCircularShift"]


class _OwnRetracingFilter(logging.Filter):
    """Drop TensorFlow's retracing warning about skal's own per-model forward function.

    Each refit builds a new Keras model, so its compiled forward pass is traced once per
    round by design; TensorFlow counts those traces and warns as if it were a bug.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "_get_forward_fn" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(_OwnRetracingFilter())


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


class _ThreadPythonRandom:
    """Stands in for the ``random`` module where SciKeras seeds it and Keras draws seeds.

    Keras draws the default seeds of layers and initialisers from Python's global ``random``
    right after SciKeras seeds it, so a seeded fit is reproducible only if no other thread
    draws in between -- and a Dask worker's event loop does, so the same seeded CNN trained
    differently on a worker. Inside :func:`_own_python_random` this thread uses its own
    ``random.Random`` (seeded by SciKeras, drawn from by Keras; seeding also seeds the
    global module, as SciKeras intends); elsewhere this is the global module.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def __getattr__(self, name: str):
        own = getattr(self._local, "rng", None)
        return getattr(random if own is None else own, name)

    def seed(self, *args, **kwargs) -> None:
        random.seed(*args, **kwargs)
        own = getattr(self._local, "rng", None)
        if own is not None:
            own.seed(*args, **kwargs)

    def getstate(self):
        own = getattr(self._local, "rng", None)
        return random.getstate() if own is None else (random.getstate(), own.getstate())

    def setstate(self, state) -> None:
        own = getattr(self._local, "rng", None)
        if own is None:
            random.setstate(state)
        else:
            random.setstate(state[0])
            own.setstate(state[1])


_PYTHON_RANDOM = _ThreadPythonRandom()


@contextmanager
def _own_python_random() -> Iterator[None]:
    """SciKeras' seeding and Keras' seed draws use a random generator of this thread."""
    from keras.src.random import seed_generator
    from scikeras.utils import random_state

    seed_generator.python_random = _PYTHON_RANDOM  # idempotent: module-level stand-ins
    random_state.random = _PYTHON_RANDOM
    local = _PYTHON_RANDOM._local
    previous = getattr(local, "rng", None)
    local.rng = random.Random()
    try:
        yield
    finally:
        local.rng = previous


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
    min_train_steps : int or None, default=None
        A fit from scratch trains for at least this many gradient steps, raising ``epochs``
        when the training set is small (20 samples are one batch per epoch). ``None``: off.
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
        min_train_steps: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, **kwargs)
        self.predict_batch_size = predict_batch_size
        self.embedding_layer = embedding_layer
        self.finetune_epochs = finetune_epochs
        self.min_train_steps = min_train_steps

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags

    def fit(self, X, y, sample_weight=None, **kwargs) -> KerasClassifier:
        """Fit the Keras model; see :meth:`scikeras.wrappers.KerasClassifier.fit`."""
        warm = self.warm_start and self.initialized_
        if warm and self.finetune_epochs is not None:
            kwargs.setdefault("epochs", _check_positive(self.finetune_epochs, "finetune_epochs"))
        elif not warm and self.min_train_steps is not None and "epochs" not in kwargs:
            kwargs["epochs"] = self._plan_min_steps(_num_samples(X))
        try:
            with _restore_op_determinism(), _own_python_random():
                super().fit(X, y, sample_weight=sample_weight, **kwargs)
        finally:
            self.__dict__.pop("_fit_repeats", None)
        if self.classes_ is None:  # SciKeras forgets classes_ on a warm-started fit
            self.classes_ = self.target_encoder_.classes_
        return self

    def _plan_min_steps(self, n_samples: int) -> int:
        """Epochs (and data repeats, kept for ``_fit_keras_model``) for ``min_train_steps``.

        Small labelled sets give few steps per epoch (20 samples: one). Each Keras epoch
        costs ~10 ms of data-pipeline set-up, so 200 one-step epochs spend more time there
        than training. The data are repeated within an epoch instead, up to
        ``ceil(min_train_steps / epochs)`` batches, and epochs are raised only for the rest.
        """
        min_steps = _check_positive(self.min_train_steps, "min_train_steps")
        epochs = getattr(self, "fit__epochs", self.epochs)
        batch = getattr(self, "fit__batch_size", self.batch_size) or 32
        if math.ceil(n_samples / batch) * epochs >= min_steps:
            return epochs
        validation = getattr(self, "fit__validation_split", self.validation_split)
        repeats = 1
        if not validation:  # repeated rows must not leak into a validation split
            repeats = max(1, (math.ceil(min_steps / epochs) * batch) // max(1, n_samples))
        self._fit_repeats = repeats
        return max(epochs, math.ceil(min_steps / math.ceil(n_samples * repeats / batch)))

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kw):
        repeats = self.__dict__.get("_fit_repeats", 1)
        if repeats > 1 and isinstance(X, np.ndarray) and isinstance(y, np.ndarray):
            X = np.concatenate([X] * repeats)
            y = np.concatenate([y] * repeats)
            if sample_weight is not None:
                sample_weight = np.concatenate([np.asarray(sample_weight)] * repeats)
        return super()._fit_keras_model(
            X, y, sample_weight, warm_start, epochs, initial_epoch, **kw
        )

    def _build_keras_model(self) -> keras.Model:
        """Build a new model; reuse an identical old one's compiled training step if any.

        A fit from scratch builds a new Keras model, and Keras then traces its training
        step again (~0.9 s for the default CNN, a third of a digits round). When this
        estimator's previous model, or the one handed over by the active learner from its
        previous round (``_donor_model``), has the same layers, variable shapes and compile
        settings, the fresh model's initial state (weights, optimizer slots, dropout seeds)
        is copied into it and the old model is returned: training is then exactly that of
        the fresh model, without the retrace.
        """
        fresh = super()._build_keras_model()
        donor = self.__dict__.pop("_donor_model", None)
        if donor is None:
            donor = self.__dict__.get("model_")
        if donor is not None and donor is not fresh and _reset_into(donor, fresh):
            return donor
        return fresh

    def _reuse_model_of(self, previous) -> None:
        """Offer ``previous``'s Keras model to this estimator's next build (see above).

        Only for an estimator of the same class; ``previous`` must not be used afterwards.
        """
        model = getattr(previous, "model_", None)
        if type(previous) is type(self) and model is not None:
            self._donor_model = model

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs) -> KerasClassifier:
        """One epoch from the current weights; see SciKeras' ``partial_fit``."""
        with _restore_op_determinism(), _own_python_random():
            return super().partial_fit(
                X, y, classes=classes, sample_weight=sample_weight, **kwargs
            )

    def initialize(self, X, y) -> KerasClassifier:
        """Build the model without fitting; see SciKeras' ``initialize``."""
        with _restore_op_determinism(), _own_python_random():
            return super().initialize(X, y)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        # Derived Keras sub-models are rebuilt on demand; don't pickle them.
        state.pop("_embedding_model", None)
        state.pop("_forward_fn", None)
        state.pop("_donor_model", None)
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

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), even for one sample.

        SciKeras squeezes a single sample's probabilities to shape (n_classes,).
        """
        proba = np.asarray(super().predict_proba(X, **kwargs))
        return proba.reshape(_num_samples(X), -1)

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
        fn = tf.function(
            lambda x: model(x, training=False), input_signature=[spec], autograph=False
        )
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

        Every ``Dropout`` layer of the model (and its subclasses, e.g. ``SpatialDropout2D``)
        drops units as in training, while every other layer runs in inference mode (batch
        normalisation uses its moving statistics, so a sample's output does not depend on
        the other samples of its batch).

        The dropout masks are not drawn from Keras' random state: the mask of a sample in
        pass ``t`` is a hash of ``(random_state, t, layer, the sample's values)``. So the same
        ``random_state`` gives the same passes, a sample gets the same masks whatever the
        batch or chunk it is scored in (chunked pool scoring equals whole-pool scoring), and
        no global random state is read or changed.

        Parameters
        ----------
        X : array-like of shape (n_pool, n_features)
            Samples.
        n_samples : int, default=20
            Number of stochastic passes ``T``.
        random_state : int, RandomState instance, Generator or None, default=None
            Seeds the dropout masks, so the same seed gives the same passes; ``None`` draws
            a fresh seed.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_pool, n_classes)
            Class probabilities of each pass.

        References
        ----------
        Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian Active Learning with Image
        Data. ICML.
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        if n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        if not self.initialized_:
            check_is_fitted(self, "model_")
        n_layers, fn = self._mc_dropout_fn()
        X = self._encode_X(X)
        X = np.ascontiguousarray(X, dtype=self.model_.inputs[0].dtype)
        keys = _row_keys(X)
        seed = _seed_of(random_state)
        bs = self._check_predict_batch_size()
        out = []
        for t in range(int(n_samples)):
            salts = np.random.SeedSequence([seed, t]).generate_state(n_layers).astype(np.int64)
            parts = [
                np.asarray(fn(X[i : i + bs], keys[i : i + bs], salts))
                for i in range(0, len(X), bs)
            ]
            raw = np.concatenate(parts) if parts else np.empty((0, self.n_classes_))
            proba = self.target_encoder_.inverse_transform(raw, return_proba=True)
            out.append(np.reshape(proba, (len(raw), -1)))  # SciKeras squeezes one sample
        return np.stack(out)

    def _mc_dropout_fn(self):
        """``(n_dropout_layers, f)``, ``f(x, row_keys, salts)`` one stochastic pass.

        A concrete ``tf.function`` traced once per model and cached on the Keras model (so
        pickling the estimator never meets it). While tracing, each Dropout layer's ``call``
        is swapped for :func:`_hashed_dropout`; the swap is undone at once.
        """
        model = self.model_
        cached = model.__dict__.get("_skal_mc_dropout_fn")
        if cached is not None:
            return cached
        import tensorflow as tf

        layers = [
            layer
            for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, keras.layers.Dropout) and float(layer.rate) > 0
        ]
        if not layers:
            raise ValueError(
                f"{type(self).__name__}'s Keras model has no Dropout layer with rate > 0, so "
                "stochastic (MC-dropout) passes would all be identical; add dropout to the "
                "model."
            )
        inputs = getattr(model, "inputs", None)
        if not inputs or len(inputs) != 1 or len(model.outputs) != 1:
            raise ValueError("predict_proba_samples needs a model with one input and one output.")
        spec = tf.TensorSpec((None, *inputs[0].shape[1:]), dtype=inputs[0].dtype)

        def one_pass(x, keys, salts):
            for i, layer in enumerate(layers):
                object.__setattr__(layer, "call", _hashed_dropout(layer, keys, salts[i]))
            try:
                return model(x, training=False)
            finally:
                for layer in layers:
                    object.__delattr__(layer, "call")

        fn = tf.function(one_pass, autograph=False).get_concrete_function(
            spec, tf.TensorSpec((None,), tf.int64), tf.TensorSpec((len(layers),), tf.int64)
        )
        object.__setattr__(model, "_skal_mc_dropout_fn", (len(layers), fn))
        return len(layers), fn


# --------------------------------------------------------------- MC-dropout helpers
_M32 = 0xFFFFFFFF


def _architecture(model) -> list:
    layers = []
    for layer in model._flatten_layers(include_self=False):
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        layers.append((type(layer), repr(config)))
    return layers


def _compile_settings(model) -> str:
    config = model.get_compile_config() or {}
    optimizer = dict(config.get("optimizer") or {})
    optimizer["config"] = {k: v for k, v in (optimizer.get("config") or {}).items()
                           if k != "name"}
    return repr({**config, "optimizer": optimizer})


def _same_variables(a, b) -> bool:
    return len(a) == len(b) and all(
        tuple(u.shape) == tuple(v.shape) and u.dtype == v.dtype for u, v in zip(a, b)
    )


def _reset_into(old: keras.Model, fresh: keras.Model) -> bool:
    """Give ``old`` the exact initial state of ``fresh`` when both are the same network.

    Returns False (and changes nothing) unless ``old`` has a traced training step and both
    models have the same class, layers (configs up to names), variables and compile settings.
    """
    if (
        type(old) is not type(fresh)
        or getattr(old, "train_function", None) is None
        or not getattr(old, "compiled", False)
        or not getattr(fresh, "compiled", False)
        or old.optimizer is None
        or not old.optimizer.built
        or fresh.optimizer is None
        or type(old.optimizer) is not type(fresh.optimizer)
        or not _same_variables(old.variables, fresh.variables)
        or _architecture(old) != _architecture(fresh)
        or _compile_settings(old) != _compile_settings(fresh)
    ):
        return False
    fresh.optimizer.build(fresh.trainable_variables)
    if not _same_variables(old.optimizer.variables, fresh.optimizer.variables):
        return False
    for target, source in zip(old.variables, fresh.variables):
        target.assign(source)
    for target, source in zip(old.optimizer.variables, fresh.optimizer.variables):
        target.assign(source)
    old.stop_training = False
    return True


def _mix32(h, xor=np.bitwise_xor, rshift=np.right_shift, band=np.bitwise_and):
    """A 32-bit integer hash (T. Mueller's), in int64 arithmetic.

    Numpy by default; pass ``tf.bitwise`` ops for TensorFlow int64 tensors. Multipliers
    below 2**31 keep every product under 2**63, so no backend relies on overflow, and int64
    ops have kernels on every device.
    """
    h = band(xor(h, rshift(h, 16)) * 0x45D9F3B, _M32)
    h = band(xor(h, rshift(h, 16)) * 0x45D9F3B, _M32)
    return xor(h, rshift(h, 16))


def _row_keys(X: np.ndarray) -> np.ndarray:
    """One 32-bit key per sample, a hash of its values (identical rows, identical keys)."""
    flat = np.ascontiguousarray(X).reshape(len(X), -1)
    words = flat.view(np.uint8)
    if words.shape[1] % 4 == 0:
        words = words.view(np.uint32)
    mult = np.random.default_rng(0x5CA1).integers(1, 2**63, size=words.shape[1], dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = (words.astype(np.uint64) * (mult | np.uint64(1))).sum(axis=1, dtype=np.uint64)
    h = ((h >> np.uint64(32)) ^ h) & np.uint64(_M32)
    return _mix32(h.astype(np.int64))


def _seed_of(random_state) -> int:
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, int | np.integer) and not isinstance(random_state, bool):
        return int(random_state) & _M32
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _hashed_dropout(layer, keys, salt):
    """A replacement ``call`` for a Dropout layer: inverted dropout with hashed masks.

    The mask of element ``j`` of a sample with key ``k`` is ``hash(hash(k ^ salt) + j)``
    compared with the rate: a pure function of the sample, the pass and the layer.
    """
    import tensorflow as tf

    rate = float(layer.rate)

    def call(inputs, training=False):
        shape = tf.shape(inputs)
        if hasattr(layer, "_get_noise_shape"):  # spatial dropout: one mask per channel
            noise = tf.stack([shape[i] if d is None else d for i, d in enumerate(
                layer._get_noise_shape(inputs))])
        elif layer.noise_shape is not None:
            noise = tf.stack([shape[i] if d is None else tf.constant(d, tf.int32)
                              for i, d in enumerate(layer.noise_shape)])
        else:
            noise = shape
        noise = tf.cast(noise, tf.int32)
        n_elem = tf.cast(tf.reduce_prod(noise[1:]), tf.int64)
        ops = dict(
            xor=tf.bitwise.bitwise_xor, rshift=tf.bitwise.right_shift, band=tf.bitwise.bitwise_and
        )
        row = _mix32(ops["xor"](keys, salt), **ops)[:, None]
        counter = tf.range(n_elem, dtype=tf.int64)[None, :] * 0x9E3779B1
        h = _mix32(ops["band"](row + counter, _M32), **ops)
        uniform = tf.cast(tf.bitwise.right_shift(h, 8), tf.float32) * (1.0 / (1 << 24))
        keep = tf.reshape(tf.cast(uniform >= rate, inputs.dtype), noise)
        return inputs * keep / tf.cast(1.0 - rate, inputs.dtype)

    return call



def _check_positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}.")
    return int(value)


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
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax", name="proba")(x)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate),
            loss="sparse_categorical_crossentropy",
        )
        return model


def attach_fitted_model(estimator: KerasClassifier, model: keras.Model, X, y) -> KerasClassifier:
    """Make an unfitted wrapper a fitted one around an already-trained Keras model.

    SciKeras' fitted state (target and feature encoders, ``classes_``, ``n_features_in_``,
    ``X_dtype_``, ...) is rebuilt with ``initialize(X, y)`` on the training data, but
    ``model`` takes the place of the freshly built network, weights and optimizer state
    included. Used by :func:`skal.load`; no pickle, no model-building code runs.

    Parameters
    ----------
    estimator : KerasClassifier
        An unfitted wrapper with the parameters of the one that trained ``model``.
    model : keras.Model
        The trained (and compiled) Keras model.
    X, y : array-like
        The data the model was trained on (for the encoders; no training happens).

    Returns
    -------
    estimator : KerasClassifier
        ``estimator``, fitted.
    """
    estimator._build_keras_model = lambda: model  # shadows the method for this call only
    try:
        estimator.initialize(X, y)
    finally:
        del estimator._build_keras_model
    return estimator
