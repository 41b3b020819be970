"""A model's final step and its embeddings: what strategies and pseudo-labelers read from a
fitted estimator, a Pipeline's last step included.

A Pipeline is handled by transforming the samples through every step but the last and
asking the last step, so a learner around ``make_pipeline(MinMaxScaler(), CNNClassifier())``
gets the CNN's embeddings of the scaled samples.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline

__all__ = ["embed", "final_step", "has_method", "last_step"]


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
    if not return_proba:
        emb = np.asarray(model.embed(Xt))
        return emb.reshape(len(emb), -1)
    emb, proba = model.embed(Xt, return_proba=True)
    emb = np.asarray(emb)
    # (n, n_classes) even for one sample, which SciKeras' probabilities squeeze to 1-D
    return emb.reshape(len(emb), -1), np.asarray(proba, dtype=np.float64).reshape(len(emb), -1)
