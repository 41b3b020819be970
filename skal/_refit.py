"""Fitting the wrapped estimator on a labeled set: from scratch, warm, or reusing a network."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.pipeline import Pipeline

from skal._pool import take_rows
from skal.semi_supervised import pool_training

__all__ = ["PSEUDO_SALT", "base_estimator", "fit_estimator", "training_set"]

# Salt of the seed sequence of the pool rows offered for pseudo-labels.
PSEUDO_SALT = 0xA13


def base_estimator(estimator, task: str = "classification"):
    """The learner's ``estimator`` parameter, ``None`` meaning the default CNN of the task."""
    if estimator is not None:
        return estimator
    if task == "regression":
        from skal.keras import CNNRegressor  # lazy: imports TensorFlow

        return CNNRegressor()
    from skal.keras import CNNClassifier  # lazy: imports TensorFlow

    return CNNClassifier()


def _warm_start_param(estimator) -> str | None:
    """Name of the parameter that makes ``fit`` continue from the current weights."""
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        inner = _warm_start_param(last)
        return f"{name}__{inner}" if inner else None
    return "warm_start" if "warm_start" in estimator.get_params(deep=False) else None


def fit_estimator(
    template, X, y, previous=None, *, warm_start: bool = False, discard_previous: bool = False,
    fit_params: dict | None = None,
):
    """Fit on exactly ``(X, y)``: continue ``previous`` when warm-starting, else a clone.

    Parameters
    ----------
    template : estimator
        Unfitted estimator to clone for a fit from scratch.
    X, y : array-like
        The labeled set.
    previous : estimator or None
        The last fitted estimator.
    warm_start : bool
        Continue ``previous`` (its own ``warm_start``) unless ``y`` has a class it lacks (a
        regressor, without ``classes_``, always continues).
    discard_previous : bool
        The caller drops ``previous`` after this fit, so a clone may take over its network
        (an estimator with ``reuse_model_from``): the training step is not traced again and,
        with fresh initial weights, results are unchanged.
    fit_params : dict or None
        Keyword arguments of ``fit`` (the unlabeled pool of consistency training).
    """
    fit_params = fit_params or {}
    if warm_start and previous is not None:
        key = _warm_start_param(previous)
        known = getattr(previous, "classes_", None)
        if key and (is_regressor(previous) if known is None
                    else np.isin(np.unique(y), known).all()):
            previous.set_params(**{key: True})
            return previous.fit(X, y, **fit_params)
    estimator = clone(template)
    if discard_previous and previous is not None:
        reuse = getattr(estimator, "reuse_model_from", None)
        if reuse is not None:
            reuse(previous)
    return estimator.fit(X, y, **fit_params)


def training_set(X, labeled, labels, unlabeled, previous, pseudo, *, seed, pool_batch_size):
    """The rows a refit trains on: the labeled ones, plus what the pool-training option adds.

    Parameters
    ----------
    X : array-like
        The pool.
    labeled : ndarray of int
        Pool indices of the labeled samples; ``labels`` are their labels.
    unlabeled : ndarray of int
        Pool indices nobody answered: what the option may train on.
    previous : estimator or None
        The model of the previous round, for an option that reads it (``needs_model``).
    pseudo : PoolTraining (or an object with ``augment``) or None
        A resolved ``semi_supervised`` option, asked through
        :func:`skal.semi_supervised.pool_training`; ``None`` trains on the labeled rows only.
    seed, pool_batch_size : int
        The option's ``random_state`` and rows scored at once.

    Returns
    -------
    X_fit, y_fit : array-like
        The training set, labeled rows first, then the option's pool rows.
    n_pseudo : int
        How many pool rows it trains on without an answer (pseudo-labeled, or unlabeled).
    fit_params : dict
        Keyword arguments of the fit (``X_unlabeled`` for consistency training).
    """
    extra = pool_training(pseudo, X, labeled, labels, unlabeled, previous, random_state=seed,
                          pool_batch_size=pool_batch_size)
    n_pseudo = len(extra.indices) + extra.n_unlabeled
    if len(extra.indices) == 0:
        return take_rows(X, labeled), labels, n_pseudo, extra.fit_params
    guesses = extra.labels
    y_fit = np.concatenate([np.asarray(labels, dtype=object), np.asarray(guesses, dtype=object)])
    if np.asarray(labels).dtype != object:  # keep the labels' own dtype (ints stay ints)
        y_fit = y_fit.astype(np.result_type(np.asarray(labels), np.asarray(guesses)))
    rows = np.concatenate([labeled, extra.indices])
    return take_rows(X, rows), y_fit, n_pseudo, extra.fit_params
