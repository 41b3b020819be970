"""A model's final step and its embeddings: what strategies and pseudo-labelers read from a
fitted estimator, a Pipeline's last step included.

A Pipeline is handled by transforming the samples through every step but the last and
asking the last step, so a learner around ``make_pipeline(MinMaxScaler(), CNNClassifier())``
gets the CNN's embeddings of the scaled samples.

Strategies that need a vector per sample work with any classifier: :func:`features_of` is
the model's embedding where it has ``embed``, else the features its last step sees (a
Pipeline's preprocessing output, e.g. a ``ColumnTransformer``'s one-hot columns), else the
raw features; :class:`InputFeatures` is the raw features where they are numbers, else the
Pipeline's preprocessing output.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from skal._pool import finite_rows, flat_features

__all__ = [
    "NUMBERS_ALTERNATIVE",
    "InputFeatures",
    "embed",
    "features_of",
    "final_step",
    "has_method",
    "last_step",
]

#: What to do when a strategy needs the features as numbers and they are not.
NUMBERS_ALTERNATIVE = (
    "give the model as a Pipeline whose first steps turn them into numbers (e.g. "
    "make_pipeline(ColumnTransformer([('cat', OneHotEncoder(), [...])], "
    "remainder='passthrough'), model))"
)


def final_step(estimator, X):
    """The last step of a (nested) Pipeline and ``X`` transformed through the others."""
    while isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator.steps[-1][1]
    return estimator, X


def last_step(estimator):
    """The last step of a (nested) Pipeline; any other estimator itself."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def has_method(estimator, method: str) -> bool:
    """Whether the estimator, or the last step of a (nested) Pipeline, has ``method``."""
    while isinstance(estimator, Pipeline) and not hasattr(estimator, method):
        estimator = estimator.steps[-1][1]
    return hasattr(estimator, method)


def embed(estimator, X, return_proba: bool = False, *, strategy: str | None = None):
    """Embeddings of ``X`` (the model's penultimate layer), from ``estimator.embed``.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Fitted. A Pipeline's last step is asked, on ``X`` transformed through the others.
        :class:`skal.KerasClassifier` and :class:`skal.CNNClassifier` have ``embed``; any
        estimator with ``embed(X, return_proba=False)`` works.
    X : array-like of shape (n_samples, n_features)
        Samples.
    return_proba : bool, default=False
        Also return class probabilities (from the same forward pass where the model can).
    strategy : str, optional
        Name of the calling strategy, for the error message.

    Returns
    -------
    embedding : ndarray of shape (n_samples, n_embedding)
        One row per sample, in the model's dtype (float32 for Keras: half the memory).
    proba : ndarray of shape (n_samples, n_classes)
        Only when ``return_proba`` is True.

    Raises
    ------
    TypeError
        If the (final) estimator has no ``embed`` method.
    """
    model, Xt = final_step(estimator, X)
    if not hasattr(model, "embed"):
        who = f"query_strategy={strategy!r}" if strategy else "This query strategy"
        raise TypeError(
            f"{who} needs embeddings of the pool, but {type(model).__name__} has no "
            "embed(X, return_proba=False) method. Use skal.CNNClassifier or "
            "skal.KerasClassifier (penultimate layer, or embedding_layer=...)."
        )
    return _embeddings(model, Xt, return_proba)


def _embeddings(model, Xt, return_proba: bool):
    """``model.embed(Xt)`` as (n, n_embedding) rows (and the probabilities as (n, n_classes))."""
    if not return_proba:
        emb = np.asarray(model.embed(Xt))
        return emb.reshape(len(emb), -1)
    emb, proba = model.embed(Xt, return_proba=True)
    emb = np.asarray(emb)
    # (n, n_classes) even for one sample, which SciKeras' probabilities squeeze to 1-D
    return emb.reshape(len(emb), -1), np.asarray(proba, dtype=np.float64).reshape(len(emb), -1)


def features_of(estimator, X, return_proba: bool = False, *, strategy: str | None = None):
    """What a strategy sees of ``X`` as a vector per sample, for any classifier.

    In order of precedence:

    * the model's embeddings, where the (final) estimator has ``embed`` (exactly
      :func:`embed`: the penultimate layer of :class:`skal.CNNClassifier` and
      :class:`skal.KerasClassifier`);
    * for a Pipeline whose last step has no ``embed``: the features that last step sees,
      ``pipeline[:-1].transform(X)`` (a sparse output densified, chunk by chunk), e.g. a
      ``ColumnTransformer``'s scaled numeric and one-hot columns;
    * for any other estimator: the raw features, flattened.

    These are label-free in the sense that matters to a strategy: a fitted preprocessing
    (a scaler, an encoder) learns no label; they are float64, one flat row per sample.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Fitted.
    X : array-like of shape (n_samples, ...)
        Samples, as the estimator takes them (a DataFrame for a ``ColumnTransformer``).
    return_proba : bool, default=False
        Also return the class probabilities (the model's ``predict_proba`` of the same
        transformed samples).
    strategy : str, optional
        Name of the calling strategy, for the error message.

    Returns
    -------
    features : ndarray of shape (n_samples, n_features_seen)
    proba : ndarray of shape (n_samples, n_classes)
        Only when ``return_proba`` is True.

    Raises
    ------
    ValueError
        If the features are not finite numbers (raw features that are strings need a Pipeline
        that turns them into numbers: the message says so).
    NotFittedError
        If a Pipeline's preprocessing is not fitted yet.
    """
    who = f"query_strategy={strategy!r}" if strategy else "This query strategy"
    try:
        model, Xt = final_step(estimator, X)
    except NotFittedError as exc:
        raise NotFittedError(
            f"{who} reads the features the Pipeline's last step sees, but the Pipeline is not "
            f"fitted yet ({exc}); fit the learner first (a random initial set), or start with "
            "query_strategy='typiclust' or 'probcover', which fit its preprocessing on the "
            "pool without labels."
        ) from exc
    if hasattr(model, "embed"):
        return _embeddings(model, Xt, return_proba)
    if model is estimator:  # not a Pipeline: the raw features
        F = flat_features(Xt, who, NUMBERS_ALTERNATIVE + ", or use a model with embed")
    else:
        F = _transformed_numbers(Xt, who, type(model).__name__)
    if not return_proba:
        return F
    return F, np.asarray(model.predict_proba(Xt), dtype=np.float64).reshape(len(F), -1)


def _transformed_numbers(Xt, who: str, step: str) -> np.ndarray:
    """A Pipeline's preprocessing output as dense, flat, finite float64 rows."""
    if hasattr(Xt, "toarray"):  # a sparse one-hot encoding: one chunk at a time
        Xt = Xt.toarray()
    return finite_rows(
        Xt, f"{who} reads the features the Pipeline's last step ({step}) sees",
        "add a step that encodes them (e.g. a OneHotEncoder in a ColumnTransformer)",
        "add an imputer (e.g. SimpleImputer) to the Pipeline",
    )


def _is_numeric(chunk) -> bool:
    """Whether a chunk of raw features is dense, finite float numbers."""
    if hasattr(chunk, "toarray"):
        return False
    try:
        return bool(np.isfinite(np.asarray(chunk, dtype=np.float64)).all())
    except (TypeError, ValueError):
        return False


class InputFeatures:
    """The pool's features as numbers, chunk by chunk: the raw features where they can be.

    What density and the cold-start strategies read, which should not depend on a model
    trained on a few labels:

    * raw features that are numbers: those, flattened to float64 (exactly
      ``skal._pool.flat_features``);
    * raw features that are not (a DataFrame with a string column, a sparse matrix, missing
      values), given a Pipeline: the output of its preprocessing (every step but the last, nested
      Pipelines included), densified. A fitted Pipeline's own preprocessing is used as it
      is; an unfitted one (a query before any model was fitted) is cloned and fitted
      without labels on the first chunk it sees -- the whole pool when the pool is smaller
      than ``pool_batch_size`` -- and then transforms every chunk;
    * otherwise a ValueError naming ``alternative``.

    The choice is made on the first chunk and kept for the query (so the pool and the
    labeled set are in the same space). Picklable, so a chunk scorer holding one can be
    shipped to dask workers.

    Parameters
    ----------
    estimator : estimator, Pipeline or None
        The model of the query.
    who : str
        The strategy, for error messages.
    alternative : str
        What the user can do instead, for error messages.
    """

    def __init__(self, estimator, who: str, alternative: str) -> None:
        self.estimator = estimator
        self.who = who
        self.alternative = alternative
        self.raw_ = None  # decided on the first chunk
        self.steps_ = None  # the preprocessing, for features that are not numbers

    def __call__(self, chunk) -> np.ndarray:
        if self.raw_ is None:
            self.raw_ = _is_numeric(chunk) or not _preprocessing(self.estimator)
        if self.raw_:
            return flat_features(chunk, self.who, self.alternative)
        if self.steps_ is None:
            self.steps_ = self._fitted_steps(chunk)
        Xt = chunk
        for step in self.steps_:
            Xt = step.transform(Xt)
        return _transformed_numbers(Xt, self.who, type(last_step(self.estimator)).__name__)

    def _fitted_steps(self, chunk) -> list:
        steps = _preprocessing(self.estimator)
        try:
            Xt = chunk
            for step in steps:
                Xt = step.transform(Xt)
            return steps
        except NotFittedError:
            pass
        fitted, Xt = [], chunk
        try:
            for step in steps:  # label-free: fit(X) without y
                fitted.append(clone(step).fit(Xt))
                Xt = fitted[-1].transform(Xt)
        except Exception as exc:
            raise ValueError(
                f"{self.who} reads the raw features as numbers, but they are not, and the "
                f"Pipeline's preprocessing is not fitted yet and cannot be fitted without "
                f"labels ({type(exc).__name__}: {exc}); fit the learner first, or give the "
                "pool as numbers."
            ) from exc
        return fitted


def _preprocessing(estimator) -> list:
    """Every step but the last of a (nested) Pipeline, outermost first, as Pipelines."""
    steps = []
    while isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            steps.append(estimator[:-1])
        estimator = estimator.steps[-1][1]
    return steps
