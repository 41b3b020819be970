"""KerasClassifier: SciKeras' wrapper with its 0.13 quirks fixed, batched prediction, embed.

SciKeras 0.13 (unmaintained since 2025) quirks fixed here, each where it is fixed:

* tags -- ``KerasClassifier`` lists ``BaseEstimator`` before ``ClassifierMixin``, so on
  scikit-learn >= 1.7 its tags say it is not a classifier (``is_classifier`` is False, and
  ``cross_val_score`` silently uses ``KFold``): :meth:`KerasClassifier.__sklearn_tags__`;
* one sample's probabilities squeezed to shape (n_classes,): :meth:`KerasClassifier._decode_proba`,
  the one place every probability (``predict_proba``, ``embed``, MC-dropout) passes;
* ``classes_`` forgotten by a warm-started fit, and TensorFlow's op determinism and Python's
  global seeds (see :mod:`skal.keras._tf_compat`): :meth:`KerasClassifier.fit`;
* predictions in Keras' default batches of 32, about 5x slower than large batches on big
  pools: ``predict_batch_size`` and a compiled forward pass, :meth:`KerasClassifier._predict_raw`;
* a pool of another numeric dtype than the training data's (float64 after float32, or
  integers) refused as an "unsafe" cast, although the network computes in its own dtype
  anyway: :meth:`KerasClassifier._validate_data` casts it, refusing only values the fitted
  dtype cannot hold;
* sparse samples accepted by ``fit`` (SciKeras takes them) but not by the batched forward
  pass: :meth:`KerasClassifier._encode_X` densifies what the network is given;
* integer labels with a model compiled with ``categorical_crossentropy`` (SciKeras one-hot-
  encodes them only when its own ``loss`` parameter says so), one-hot labels with a sparse
  loss, and logits ranked as probabilities: :mod:`skal.keras._conventions`, applied in
  :meth:`KerasClassifier._fit_keras_model` and :meth:`KerasClassifier._decode_proba`. A
  model that outputs logits is refused at ``fit``, before training (:meth:`_check_outputs`),
  unless compiled with a ``from_logits=True`` cross-entropy loss: then its outputs go through
  the loss's softmax (or sigmoid) wherever they are read (:meth:`_predict_raw`,
  :meth:`_decode_proba`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier as _SciKerasClassifier
from scipy import sparse
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import _num_samples, check_is_fitted

from skal.keras._consistency import check_unlabeled, encode_unlabeled, fit_consistency
from skal.keras._conventions import (
    activate,
    check_probabilities,
    output_activation,
    targets_for_loss,
)
from skal.keras._mc_dropout import MCDropout
from skal.keras._reuse import TracedModelReuse
from skal.keras._saving import NativeSave
from skal.keras._tf_compat import around_scikeras, own_tracing

__all__ = ["KerasClassifier"]


class KerasClassifier(TracedModelReuse, MCDropout, NativeSave, _SciKerasClassifier):
    """SciKeras ``KerasClassifier`` that scikit-learn recognises as a classifier.

    Use it exactly like :class:`scikeras.wrappers.KerasClassifier` (any model-building
    callable or compiled Keras model as ``model``); it adds correct scikit-learn tags, fast
    batched prediction, the penultimate-layer embeddings (:meth:`embed`), stochastic
    MC-dropout passes (:meth:`predict_proba_samples`), reuse of a traced network between
    fits (:meth:`reuse_model_from`) and a native save (:meth:`save_fitted`,
    :meth:`load_fitted`): the protocol described in :mod:`skal.keras`.

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
    min_train_steps : int or None, default=200
        A fit from scratch trains for at least this many gradient steps: a small labeled
        set is repeated within each epoch (20 samples and ``batch_size=32``: 8 batches an
        epoch instead of one), and ``epochs`` is raised only for the remainder (never
        repeating rows with a ``validation_split``). Active learning starts from a few
        labels, where ``epochs`` alone gives a handful of steps (SciKeras' default of one
        epoch: a single step on 20 labels). The same default as
        :class:`~skal.keras.CNNClassifier`; ``None`` turns it off. A fit whose samples
        cannot be counted (inputs that are not arrays) gets no floor. When the floor
        overrides ``epochs`` (more steps than ``epochs`` alone gives), a ``UserWarning``
        says how many epochs and steps the fit ran; it is shown once per process for each
        class, ``epochs``, ``batch_size`` and ``min_train_steps``, so a campaign's refits
        on a growing labeled set warn once, not every round.
    **kwargs
        Every other SciKeras parameter (``loss``, ``optimizer``, ``epochs``, ``batch_size``,
        ``random_state``, ``verbose``, ``warm_start``, routed ``fit__``/``model__`` ...).

    Notes
    -----
    Keras conventions, checked (see :mod:`skal.keras._conventions`):

    * the model must output class probabilities (a softmax last layer; a sigmoid for one
      binary output), or logits with a cross-entropy loss compiled with
      ``from_logits=True`` (``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``
      and the like): skal then applies the loss's softmax (sigmoid for binary losses) to
      the outputs, and ``predict_proba`` returns probabilities. ``fit`` checks the outputs
      on a few training rows before training, so a model that outputs logits without such
      a loss is a ValueError saying how to fix it at ``fit``, not after the training; every
      ``predict_proba``, ``embed(..., return_proba=True)`` and MC-dropout pass is checked
      too -- finite, not negative, rows summing to 1;
    * ``y`` as integer (or any) class labels works with a model compiled with
      ``"sparse_categorical_crossentropy"`` or ``"categorical_crossentropy"`` (the labels
      are one-hot-encoded for the latter, whether the loss is given to the wrapper or
      compiled in the model); one-hot ``y`` works with ``"categorical_crossentropy"``
      (``predict`` then returns one-hot rows, as in SciKeras) and is a ValueError with
      ``"sparse_categorical_crossentropy"``.

    Attributes
    ----------
    model_ : keras.Model
        The fitted Keras model.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.

    Examples
    --------
    Any model-building function, as in SciKeras:

    >>> import keras
    >>> import numpy as np
    >>> from skal import KerasClassifier
    >>> def build():
    ...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, "relu"),
    ...                               keras.layers.Dropout(0.2), keras.layers.Dense(3, "softmax")])
    ...     model.compile("adam", "sparse_categorical_crossentropy")
    ...     return model
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.random((30, 4), dtype=np.float32), np.arange(30) % 3
    >>> clf = KerasClassifier(build, epochs=1, min_train_steps=None, verbose=0,
    ...                       random_state=0).fit(X, y)
    >>> clf.classes_
    array([0, 1, 2])
    >>> clf.predict_proba(X[:2]).shape, clf.embed(X[:2]).shape
    ((2, 3), (2, 8))
    >>> clf.predict_proba_samples(X[:2], 5, random_state=0).shape  # MC-dropout passes
    (5, 2, 3)
    """

    def __init__(
        self,
        model: Callable[..., Any] | None = None,
        *,
        predict_batch_size: int = 1024,
        embedding_layer: str | None = None,
        finetune_epochs: int | None = None,
        min_train_steps: int | None = 200,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, **kwargs)
        self.predict_batch_size = predict_batch_size
        self.embedding_layer = embedding_layer
        self.finetune_epochs = finetune_epochs
        self.min_train_steps = min_train_steps

    def __sklearn_tags__(self):
        # SciKeras' bases are in the wrong order for scikit-learn >= 1.7 (see module doc).
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        tags.input_tags.sparse = True  # any scipy format: fit as SciKeras, predict densified
        return tags

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        """SciKeras' validation, after the two conversions it misses.

        Sparse samples of any scipy format become CSR (SciKeras reformats only the
        ``spmatrix`` classes; a ``dok_array`` reached TensorFlow and failed there). After
        ``fit``, numeric samples of a dtype that cannot be cast safely to the training
        data's (float64 or integers after float32) are cast to it: the network computes in
        its own float dtype whatever it is given, and SciKeras refused them with "casting
        ... is not safe". Only values the fitted dtype cannot hold are refused.
        """
        if X is not None and sparse.issparse(X):
            X = sparse.csr_matrix(X)
        if X is not None and not reset:
            X = _as_fitted_dtype(X, getattr(self, "X_dtype_", None), type(self).__name__)
        return super()._validate_data(X=X, y=y, reset=reset, y_numeric=y_numeric)

    # ------------------------------------------------------------------ fitting
    def fit(
        self, X, y, sample_weight=None, *, X_unlabeled=None, consistency=None, **kwargs
    ) -> KerasClassifier:
        """Fit the Keras model; see :meth:`scikeras.wrappers.KerasClassifier.fit`.

        ``X_unlabeled`` (samples like ``X``'s, without labels) trains the network on them
        too, by consistency under perturbation, as ``consistency`` (a
        :class:`skal.semi_supervised.ConsistencyTraining`, default options when None) says.
        These two named parameters declare that the wrapper trains on the pool: a campaign
        with ``semi_supervised="consistency"`` looks for them in this signature
        (:func:`sklearn.utils.validation.has_fit_parameter`).
        """
        _check_not_continuous(y, type(self).__name__)
        self._unlabeled = check_unlabeled(self, X_unlabeled, consistency)
        warm = self.warm_start and self.initialized_
        # A fit from scratch on the pool trains for the option's epochs (a fine-tune keeps its
        # own); the step floor applies to them as to the estimator's.
        base = None if warm or self._unlabeled is None else self._unlabeled[1].epochs
        if warm and self.finetune_epochs is not None:
            kwargs.setdefault("epochs", _check_positive(self.finetune_epochs, "finetune_epochs"))
        elif not warm and self.min_train_steps is not None and "epochs" not in kwargs:
            n_samples = _count_samples(X)
            if n_samples is not None:
                kwargs["epochs"] = self._plan_min_steps(n_samples, base)
                self._warn_min_steps(n_samples, base, kwargs["epochs"])
        elif base is not None:
            kwargs.setdefault("epochs", base)
        try:
            with around_scikeras():
                super().fit(X, y, sample_weight=sample_weight, **kwargs)
        finally:
            self.__dict__.pop("_fit_repeats", None)
            self.__dict__.pop("_unlabeled", None)
        if self.classes_ is None:  # SciKeras forgets classes_ on a warm-started fit
            self.classes_ = self.target_encoder_.classes_
        return self

    def _plan_min_steps(self, n_samples: int, epochs: int | None = None) -> int:
        """Epochs (and data repeats, kept for ``_fit_keras_model``) for ``min_train_steps``.

        Small labeled sets give few steps per epoch (20 samples: one). Each Keras epoch
        costs ~10 ms of data-pipeline set-up, so 200 one-step epochs spend more time there
        than training. The data are repeated within an epoch instead, up to
        ``ceil(min_train_steps / epochs)`` batches, and epochs are raised only for the rest.
        """
        min_steps = _check_positive(self.min_train_steps, "min_train_steps")
        if epochs is None:
            epochs = getattr(self, "fit__epochs", self.epochs)
        batch = getattr(self, "fit__batch_size", self.batch_size) or 32
        if n_samples < 1 or math.ceil(n_samples / batch) * epochs >= min_steps:
            return epochs  # no samples: the data validation that follows says so
        validation = getattr(self, "fit__validation_split", self.validation_split)
        repeats = 1
        if not validation:  # repeated rows must not leak into a validation split
            repeats = max(1, (math.ceil(min_steps / epochs) * batch) // max(1, n_samples))
        # Epochs without the repeats, should the encoded inputs not be arrays to repeat.
        plain = max(epochs, math.ceil(min_steps / max(1, math.ceil(n_samples / batch))))
        self._fit_repeats = (repeats, plain)
        return max(epochs, math.ceil(min_steps / math.ceil(n_samples * repeats / batch)))

    def _warn_min_steps(self, n_samples: int, epochs: int | None, planned: int) -> None:
        """A UserWarning when ``min_train_steps`` overrode ``epochs``: once per process for
        each class, ``epochs``, ``batch_size`` and ``min_train_steps`` (see the parameter)."""
        plan = self.__dict__.get("_fit_repeats")
        if plan is None:  # the floor changed nothing
            return
        if epochs is None:
            epochs = getattr(self, "fit__epochs", self.epochs)
        batch = getattr(self, "fit__batch_size", self.batch_size) or 32
        key = (type(self).__qualname__, epochs, batch, self.min_train_steps)
        if key in _FLOOR_WARNED:
            return
        _FLOOR_WARNED.add(key)
        repeats = plan[0]
        steps = planned * math.ceil(n_samples * repeats / batch)
        repeated = (
            f", each repeating the {n_samples} samples {repeats} times" if repeats > 1 else ""
        )
        warnings.warn(
            f"{type(self).__name__}: min_train_steps={self.min_train_steps} overrode "
            f"epochs={epochs}, which gives {math.ceil(n_samples / batch) * epochs} optimizer "
            f"steps on {n_samples} samples (batch_size={batch}): this fit ran {planned} "
            f"epoch(s){repeated}, about {steps} steps. Pass min_train_steps=None to train "
            "for exactly `epochs`. (Shown once per process for these epochs, batch_size "
            "and min_train_steps.)",
            UserWarning,
            stacklevel=3,
        )

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kw):
        y = targets_for_loss(self, y)  # one-hot labels for a categorical loss, or an error
        self._check_outputs(X)  # logits: refused now, not after the training
        X, y, sample_weight, epochs = repeat_for_min_steps(
            self.__dict__.get("_fit_repeats"), X, y, sample_weight, epochs)
        pending = self.__dict__.get("_unlabeled")
        if pending is not None:
            X_unlabeled = encode_unlabeled(self, pending[0])
            if len(X_unlabeled):
                X = X.toarray() if sparse.issparse(X) else X  # batches of rows, as arrays
                return fit_consistency(self, X, y, sample_weight, epochs, X_unlabeled,
                                       pending[1])
        return super()._fit_keras_model(
            X, y, sample_weight, warm_start, epochs, initial_epoch, **kw
        )

    def _check_outputs(self, X, n_rows: int = 32) -> None:
        """The untrained network's probabilities on the first ``n_rows`` training rows,
        checked as every prediction's are (:func:`check_probabilities`): a model that
        outputs logits is a ValueError before its training. Outputs that are not finite
        (samples holding NaN) are left to the training and later checks; inputs that are
        not one array (a custom feature encoder's lists or dicts) are not checked here.
        Once per network: a warm-started or reused network was checked by its first fit."""
        if not (isinstance(X, np.ndarray) or sparse.issparse(X)) or not _num_samples(X):
            return
        cache = _network_cache(self.model_)
        if cache.outputs_checked:
            return
        forward = self._get_forward_fn()
        if forward is None:
            return
        rows = X[:n_rows]
        raw = self._forward(forward, rows.toarray() if sparse.issparse(rows) else rows)
        if not np.isfinite(raw).all():
            return
        try:
            self._decode_proba(raw)
        except ValueError as error:
            raise ValueError(
                f"{error} (Found at fit, before training, on the network's outputs for "
                f"{len(raw)} training samples.)"
            ) from None
        cache.outputs_checked = True

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs) -> KerasClassifier:
        """One epoch from the current weights; see SciKeras' ``partial_fit``."""
        with around_scikeras():
            return super().partial_fit(
                X, y, classes=classes, sample_weight=sample_weight, **kwargs
            )

    def initialize(self, X, y) -> KerasClassifier:
        """Build the model without fitting; see SciKeras' ``initialize``."""
        with around_scikeras():
            return super().initialize(X, y)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        # Derived Keras sub-models are rebuilt on demand, and a model taken over with
        # reuse_model_from belongs to the next fit only; don't pickle them.
        state.pop("_embedding_model", None)
        state.pop("_forward_fn", None)
        state.pop("_donor_model", None)
        state.pop("_unlabeled", None)
        return state

    # --------------------------------------------------------------- prediction
    def _check_predict_batch_size(self) -> int:
        bs = self.predict_batch_size
        if not isinstance(bs, int | np.integer) or isinstance(bs, bool) or bs < 1:
            raise ValueError(f"predict_batch_size must be a positive int, got {bs!r}.")
        return int(bs)

    def _network_output(self, X, **kwargs):
        # SciKeras predicts with Keras' default batch size (32) and a new data pipeline per
        # call; a compiled forward pass over predict_batch_size batches is much faster.
        if not self.initialized_:
            check_is_fitted(self, "model_")
        callbacks = getattr(self, "_predict_callbacks", None)
        forward = None if kwargs or callbacks else self._get_forward_fn()
        if forward is None:  # routed predict kwargs or callbacks: Keras' own predict loop
            kwargs.setdefault("batch_size", self._check_predict_batch_size())
            return super()._predict_raw(X, **kwargs)
        return self._forward(forward, self._encode_X(X))

    def _predict_raw(self, X, **kwargs):
        # What SciKeras' predict decodes: probabilities, also for a logits model compiled
        # with from_logits=True (a sigmoid output's threshold is 0.5, not a logit's 0).
        return activate(self._network_output(X, **kwargs), output_activation(self.model_))

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), even for one sample."""
        # SciKeras' predict_proba is _predict_raw then the target encoder; see _decode_proba.
        return self._decode_proba(self._network_output(X, **kwargs))

    def _decode_proba(self, raw: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (n_samples, n_classes) from the network's output.

        SciKeras' target encoder ends ``inverse_transform(..., return_proba=True)`` with
        ``np.squeeze``, so one sample's probabilities come back with shape (n_classes,).
        This is the one place skal undoes it: every probability skal returns comes here.
        The outputs of a model compiled with a ``from_logits=True`` cross-entropy loss go
        through that loss's softmax (or sigmoid) first.
        """
        raw = activate(raw, output_activation(self.model_))
        proba = self.target_encoder_.inverse_transform(raw, return_proba=True)
        proba = np.reshape(proba, (len(raw), -1))
        check_probabilities(self, proba)  # logits, NaN: a ValueError that says what to do
        return proba

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
        model = self.model_
        inputs = getattr(model, "inputs", None)
        if not inputs or len(inputs) != 1 or len(model.outputs) != 1:
            return None
        # Cached on the network too: a round that reuses the previous round's network
        # (reuse_model_from) keeps its traced forward pass.
        cache = _network_cache(model)
        if cache.forward is None:
            import tensorflow as tf

            spec = tf.TensorSpec((None, *inputs[0].shape[1:]), dtype=inputs[0].dtype)
            cache.forward = tf.function(
                lambda x: model(x, training=False), input_signature=[spec], autograph=False
            )
        self._forward_fn = (model, cache.forward)
        return cache.forward

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
        X = self.feature_encoder_.transform(X)
        # The forward pass, MC-dropout and embed slice rows and take len(X): dense rows.
        return X.toarray() if sparse.issparse(X) else X

    # --------------------------------------------------------------- embeddings
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
        # Cached on the network too, so that a round reusing the previous round's network
        # keeps the sub-model and its traced predict function: a new sub-model per round
        # retraced it every round (TensorFlow's "triggered tf.function retracing" warning).
        name = self._embedding_layer_name()
        cache = _network_cache(self.model_)
        sub = cache.embedding.get(name)
        if sub is None:
            layer = self.model_.get_layer(name)
            sub = keras.Model(self.model_.inputs, [layer.output, self.model_.outputs[0]])
            cache.embedding[name] = sub
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
            Only when ``return_proba`` is True; two-dimensional even for one sample.

        Examples
        --------
        >>> import numpy as np
        >>> from skal import CNNClassifier
        >>> X = np.random.default_rng(0).random((40, 16), dtype=np.float32)
        >>> cnn = CNNClassifier(filters=(4,), dense_units=8, epochs=1, min_train_steps=None,
        ...                     random_state=0).fit(X, np.arange(40) % 2)
        >>> emb, proba = cnn.embed(X[:1], return_proba=True)
        >>> emb.shape, proba.shape
        ((1, 8), (1, 2))
        """
        X = self._encode_X(X)
        with own_tracing():  # a new network traces its predict function once, by design
            emb, raw = self._get_embedding_model().predict(
                X, batch_size=self._check_predict_batch_size(), verbose=0
            )
        emb = np.asarray(emb).reshape(len(emb), -1)
        if not return_proba:
            return emb
        return emb, self._decode_proba(raw)


class _NetworkCache:
    """What skal derives from a Keras network, kept on the network (``_skal_cache``).

    A plain object, not a container: Keras' saving walks a model's attributes and would
    save the weights of a sub-model found in a dict or list, never those of an attribute
    it does not know.
    """

    __slots__ = ("embedding", "forward", "outputs_checked")

    def __init__(self) -> None:
        self.forward = None
        self.outputs_checked = False
        self.embedding: dict[str, keras.Model] = {}


def _network_cache(model) -> _NetworkCache:
    cache = model.__dict__.get("_skal_cache")
    if cache is None:
        cache = _NetworkCache()
        object.__setattr__(model, "_skal_cache", cache)  # past Keras' attribute tracking
    return cache


def _as_fitted_dtype(X, fitted, name: str):
    """``X`` cast to the float dtype ``fitted`` when SciKeras would refuse it as unsafe.

    Only numeric samples (bool, int, float) and a float ``fitted`` dtype; anything else is
    left to SciKeras' own check. Finite values beyond the fitted dtype's range would become
    infinite: a ValueError says so.
    """
    if fitted is None or np.dtype(fitted).kind != "f":
        return X
    if not hasattr(X, "dtype") and not sparse.issparse(X):
        try:  # lists, data frames: as SciKeras' check_array will see them
            converted = np.asarray(X)
        except (TypeError, ValueError):
            return X
        if converted.dtype.kind in "biuf":
            X = converted
    dtype = getattr(X, "dtype", None)
    if dtype is None:
        return X
    if np.dtype(dtype).kind not in "biuf" or np.can_cast(dtype, fitted):
        return X
    values = X.data if sparse.issparse(X) else np.asarray(X)
    with np.errstate(over="ignore", invalid="ignore"):
        cast = values.astype(fitted)
    overflow = np.isinf(cast) & ~np.isinf(values)
    if overflow.any():
        limit = np.finfo(fitted).max
        raise ValueError(
            f"X has {int(overflow.sum())} values beyond {fitted}'s range (+-{limit:.3g}), "
            f"the dtype this {name} was fitted on and computes in: scale the samples as "
            f"the training data were."
        )
    if sparse.issparse(X):
        X = X.copy()
        X.data = cast
        return X
    return cast


#: (class, epochs, batch_size, min_train_steps) whose floor warning was shown.
_FLOOR_WARNED: set[tuple] = set()


def repeat_for_min_steps(plan, X, y, sample_weight, epochs: int):
    """The training data repeated as ``_plan_min_steps`` planned (``(repeats, plain
    epochs)`` or None), for a fit that reaches ``min_train_steps``: ``(X, y,
    sample_weight, epochs)``. Inputs a custom feature encoder made lists or dicts are not
    repeated: they train for the plain epochs instead."""
    repeats, plain_epochs = plan if plan is not None else (1, epochs)
    if repeats > 1 and isinstance(X, np.ndarray) and isinstance(y, np.ndarray):
        X = np.concatenate([X] * repeats)
        y = np.concatenate([y] * repeats)
        if sample_weight is not None:
            sample_weight = np.concatenate([np.asarray(sample_weight)] * repeats)
    elif repeats > 1:
        epochs = plain_epochs
    return X, y, sample_weight, epochs


def _count_samples(X) -> int | None:
    try:
        return _num_samples(X)
    except TypeError:  # e.g. a dict of inputs: no floor
        return None


def _check_positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}.")
    return int(value)


def _check_not_continuous(y, name: str) -> None:
    """A ValueError pointing at the regressors when ``y`` holds numbers, not classes.

    SciKeras' own error ("Unknown label type: continuous") asks for a custom target encoder.
    """
    from sklearn.utils.multiclass import type_of_target

    try:
        with warnings.catch_warnings():  # NaN in y warns in its cast; SciKeras refuses it
            warnings.simplefilter("ignore", RuntimeWarning)
            kind = type_of_target(y, input_name="y")
    except (ValueError, TypeError):
        return  # SciKeras' validation names what is wrong with y
    if kind.startswith("continuous"):
        raise ValueError(
            f"y holds continuous values (type {kind!r}), but {name} predicts classes. For "
            "numbers use skal.KerasRegressor or skal.CNNRegressor (in a campaign, "
            "skal.ActiveLearningRegressor); for class labels stored as floats, cast them "
            "(y.astype(int))."
        )
