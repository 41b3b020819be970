"""What deep strategies need from a model: MC-dropout passes, probabilities, class counts.

The final step of a Pipeline and embeddings come from :mod:`skal._model_steps`, shared with
the pseudo-labelers, and are re-exported here for the strategies.
"""

from __future__ import annotations

import numpy as np

from skal._model_steps import embed, final_step, has_method, last_step

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
