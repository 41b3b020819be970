"""What deep strategies need from a model: the final step of a Pipeline, embeddings.

A Pipeline is handled by transforming the samples through every step but the last and
asking the last step, so a learner around ``make_pipeline(MinMaxScaler(), CNNClassifier())``
gets the CNN's embeddings of the scaled samples.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline

__all__ = [
    "embed",
    "final_step",
    "has_method",
    "last_step",
    "mc_scores",
    "n_classes",
    "predict_proba_2d",
    "proba_samples",
    "query_seed",
]


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


def proba_samples(estimator, X, n_samples: int, random_state, *, strategy: str | None = None):
    """``n_samples`` stochastic (MC-dropout) class-probability passes over ``X``.

    Calls ``estimator.predict_proba_samples(X, n_samples, random_state=...)`` -- on the last
    step of a Pipeline, with ``X`` transformed through the others.

    Returns
    -------
    proba_samples : ndarray of shape (n_samples, n, n_classes)
        Float64.

    Raises
    ------
    TypeError
        If the (final) estimator cannot do stochastic forward passes.
    """
    model, Xt = final_step(estimator, X)
    if not hasattr(model, "predict_proba_samples"):
        raise TypeError(stochastic_error(model, strategy))
    samples = model.predict_proba_samples(Xt, n_samples, random_state=random_state)
    samples = np.asarray(samples, dtype=np.float64)
    return samples.reshape(samples.shape[0], len(Xt), -1)


def mc_scores(estimator, X, *, measure, n_samples: int, seed: int, strategy=None):
    """``measure`` of ``n_samples`` MC-dropout passes over ``X`` with dropout seed ``seed``.

    One seed for a whole query: every chunk (in memory or a dask block on a worker) gets the
    same dropout masks for the same sample.
    """
    return measure(proba_samples(estimator, X, n_samples, seed, strategy=strategy))


def predict_proba_2d(estimator, X) -> np.ndarray:
    """``estimator.predict_proba(X)`` as (n, n_classes), also for one sample."""
    return np.asarray(estimator.predict_proba(X), dtype=np.float64).reshape(len(X), -1)


def stochastic_error(model, strategy: str | None) -> str:
    """The message of the TypeError for a model without stochastic forward passes."""
    who = f"query_strategy={strategy!r}" if strategy else "This query strategy"
    return (
        f"{who} needs stochastic (MC-dropout) forward passes, but {type(model).__name__} "
        "cannot do them (it has no predict_proba_samples method). Use skal.CNNClassifier "
        "or skal.KerasClassifier with a Dropout layer, or a strategy that needs only "
        "predict_proba (e.g. 'entropy')."
    )


def n_classes(estimator, y_labeled=None) -> int | None:
    """The number of classes: the estimator's ``classes_``, else the distinct labels so far.

    None when neither tells (no ``classes_`` and no label yet).
    """
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        return len(classes)
    if y_labeled is not None and len(y_labeled):
        return len(set(np.asarray(y_labeled, dtype=object).tolist()))
    return None


def query_seed(random_state) -> int:
    """One 32-bit seed for a whole query, from an int, None or a Generator."""
    return int(np.random.default_rng(random_state).integers(2**32))
