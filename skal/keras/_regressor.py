"""KerasRegressor: SciKeras' regressor with skal's fixes, batched prediction, MC passes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scikeras.wrappers import KerasRegressor as _SciKerasRegressor
from scipy import sparse
from sklearn.utils import RegressorTags
from sklearn.utils.validation import check_is_fitted

from skal.keras._mc_dropout import StochasticPasses
from skal.keras._reuse import TracedModelReuse
from skal.keras._saving import NativeSave
from skal.keras._tf_compat import around_scikeras, own_tracing
from skal.keras._wrapper import (
    KerasClassifier,
    _as_fitted_dtype,
    _check_positive,
    _count_samples,
    repeat_for_min_steps,
)

__all__ = ["KerasRegressor"]


class KerasRegressor(TracedModelReuse, StochasticPasses, NativeSave, _SciKerasRegressor):
    """SciKeras ``KerasRegressor`` fixed as :class:`skal.KerasClassifier` is, for regression.

    Use it like :class:`scikeras.wrappers.KerasRegressor` (a model-building callable or a
    compiled Keras model with a linear output). It adds correct scikit-learn tags, batched
    prediction through one compiled forward pass, the cast of a pool of another numeric
    dtype to the fitted one, ``min_train_steps`` and ``finetune_epochs`` as in the
    classifier, the penultimate-layer embeddings (:meth:`embed`, for
    ``query_strategy="greedy"``), stochastic MC-dropout passes (:meth:`predict_samples`,
    for ``query_strategy="variance"``) and reuse of a traced network between fits.

    Parameters
    ----------
    model : callable, keras.Model or None, default=None
        Builds (and compiles) the Keras model, as in SciKeras (``model__`` routes its
        parameters).
    predict_batch_size : int, default=1024
        Batch size of ``predict``, ``embed`` and MC passes.
    embedding_layer : str or None, default=None
        Layer whose output :meth:`embed` returns; ``None``: the input of the last layer
        with weights.
    finetune_epochs : int or None, default=None
        Epochs of a warm-started ``fit``; ``None`` means ``epochs``.
    min_train_steps : int or None, default=200
        A fit from scratch trains at least this many gradient steps (see
        :class:`skal.KerasClassifier`); ``None`` turns it off.
    **kwargs
        Every other SciKeras parameter (``loss``, ``optimizer``, ``epochs``,
        ``batch_size``, ``random_state``, ``verbose``, ``warm_start``, ...).

    Attributes
    ----------
    model_ : keras.Model
        The fitted Keras model.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from skal.keras import KerasRegressor
    >>> def build():
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, "relu"),
    ...                               keras.layers.Dropout(0.2), keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> X = np.random.default_rng(0).random((30, 3), dtype=np.float32)
    >>> reg = KerasRegressor(build, epochs=1, min_train_steps=None, verbose=0, random_state=0)
    >>> reg = reg.fit(X, X.sum(axis=1))
    >>> reg.predict(X[:2]).shape, reg.predict_samples(X[:2], 4, random_state=0).shape
    ((2,), (4, 2))
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
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.classifier_tags = None
        tags.target_tags.required = True
        tags.input_tags.sparse = True
        return tags

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        """SciKeras' validation, with sparse samples as CSR and, after ``fit``, a pool of
        another numeric dtype cast to the fitted one (as in :class:`KerasClassifier`)."""
        if X is not None and sparse.issparse(X):
            X = sparse.csr_matrix(X)
        if X is not None and not reset:
            X = _as_fitted_dtype(X, getattr(self, "X_dtype_", None), type(self).__name__)
        return super()._validate_data(X=X, y=y, reset=reset, y_numeric=y_numeric)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, sample_weight=None, **kwargs) -> KerasRegressor:
        """Fit the Keras model; see :meth:`scikeras.wrappers.KerasRegressor.fit`."""
        warm = self.warm_start and self.initialized_
        if warm and self.finetune_epochs is not None:
            kwargs.setdefault("epochs", _check_positive(self.finetune_epochs, "finetune_epochs"))
        elif not warm and self.min_train_steps is not None and "epochs" not in kwargs:
            n_samples = _count_samples(X)
            if n_samples is not None:
                kwargs["epochs"] = self._plan_min_steps(n_samples)
                self._warn_min_steps(n_samples, None, kwargs["epochs"])
        try:
            with around_scikeras():
                super().fit(X, y, sample_weight=sample_weight, **kwargs)
        finally:
            self.__dict__.pop("_fit_repeats", None)
        return self

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kw):
        X, y, sample_weight, epochs = repeat_for_min_steps(
            self.__dict__.get("_fit_repeats"), X, y, sample_weight, epochs)
        return super()._fit_keras_model(
            X, y, sample_weight, warm_start, epochs, initial_epoch, **kw
        )

    def partial_fit(self, X, y, sample_weight=None, **kwargs) -> KerasRegressor:
        """One epoch from the current weights; see SciKeras' ``partial_fit``."""
        with around_scikeras():
            return super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)

    def initialize(self, X, y) -> KerasRegressor:
        """Build the model without fitting; see SciKeras' ``initialize``."""
        with around_scikeras():
            return super().initialize(X, y)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        for name in ("_embedding_model", "_forward_fn", "_donor_model"):
            state.pop(name, None)
        return state

    # The classifier's machinery, which reads no class: one copy of each.
    _plan_min_steps = KerasClassifier._plan_min_steps
    _warn_min_steps = KerasClassifier._warn_min_steps
    _check_predict_batch_size = KerasClassifier._check_predict_batch_size
    _get_forward_fn = KerasClassifier._get_forward_fn
    _forward = KerasClassifier._forward
    _encode_X = KerasClassifier._encode_X
    _embedding_layer_name = KerasClassifier._embedding_layer_name
    _get_embedding_model = KerasClassifier._get_embedding_model

    # --------------------------------------------------------------- prediction
    def _predict_raw(self, X, **kwargs):
        # SciKeras predicts in Keras' batches of 32 with a new pipeline per call.
        if not self.initialized_:
            check_is_fitted(self, "model_")
        forward = None if kwargs else self._get_forward_fn()
        if forward is None:
            kwargs.setdefault("batch_size", self._check_predict_batch_size())
            return super()._predict_raw(X, **kwargs)
        return self._forward(forward, self._encode_X(X))

    def _decode_targets(self, raw: np.ndarray) -> np.ndarray:
        """Targets of the shape ``y`` had (1-D for a 1-D ``y``) from the network's output."""
        return np.asarray(self.target_encoder_.inverse_transform(np.asarray(raw)),
                          dtype=np.float64)

    def predict_samples(self, X, n_samples: int = 20, *, random_state=None) -> np.ndarray:
        """Stochastic forward passes with dropout active (MC dropout, Gal & Ghahramani 2016).

        The masks are hashed from ``(random_state, pass, layer, the sample's values)``, as
        in :meth:`skal.KerasClassifier.predict_proba_samples`: the same seed gives the same
        passes, whatever the batch or chunk a sample is predicted in.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Samples.
        n_samples : int, default=20
            Number of passes.
        random_state : int, RandomState instance, Generator or None, default=None
            Seeds the masks.

        Returns
        -------
        predictions : ndarray of shape (n_samples, n) or (n_samples, n, n_outputs)
            The predictions of each pass (float64).
        """
        passes = self._stochastic_passes(X, n_samples, random_state)
        return np.stack([self._decode_targets(raw) for raw in passes])

    def embed(self, X, *, return_proba: bool = False):
        """Penultimate-layer (or ``embedding_layer``) features of ``X``, shape (n, dim).

        With ``return_proba=True`` also the predictions of the same pass (a regressor has
        no probabilities: the name is the protocol's, see :mod:`skal.keras`).
        """
        X = self._encode_X(X)
        with own_tracing():
            emb, raw = self._get_embedding_model().predict(
                X, batch_size=self._check_predict_batch_size(), verbose=0
            )
        emb = np.asarray(emb).reshape(len(emb), -1)
        return (emb, self._decode_targets(raw)) if return_proba else emb
