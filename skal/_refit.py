"""Fitting the wrapped estimator on a labeled set: from scratch, warm, or reusing a network."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from skal._consistency import ConsistencyTraining
from skal._pool import take_rows

__all__ = ["base_estimator", "fit_estimator", "training_set"]

# Salt of the seed sequence of the pool rows offered for pseudo-labels.
PSEUDO_SALT = 0xA13


def base_estimator(estimator):
    """The learner's ``estimator`` parameter, ``None`` meaning the default CNN."""
    if estimator is not None:
        return estimator
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
        Continue ``previous`` (its own ``warm_start``) unless ``y`` has a class it lacks.
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
        if key and known is not None and np.isin(np.unique(y), known).all():
            previous.set_params(**{key: True})
            return previous.fit(X, y, **fit_params)
    estimator = clone(template)
    if discard_previous and previous is not None:
        reuse = getattr(estimator, "reuse_model_from", None)
        if reuse is not None:
            reuse(previous)
    return estimator.fit(X, y, **fit_params)


def training_set(X, labeled, labels, unlabeled, previous, pseudo, *, seed, pool_batch_size):
    """The rows a refit trains on: the labeled ones, plus the previous model's confident guesses.

    Parameters
    ----------
    X : array-like
        The pool.
    labeled : ndarray of int
        Pool indices of the labeled samples; ``labels`` are their labels.
    unlabeled : ndarray of int
        Pool indices nobody answered: the candidates for pseudo-labels.
    previous : estimator or None
        The model of the previous round: it labels the confident unlabeled rows, or embeds
        the pool for label spreading with ``embedding="model"`` (not needed otherwise).
    pseudo : PseudoLabels, LabelSpreadingPseudoLabels, ConsistencyTraining or None
        How pseudo-labels are chosen (consistency training: the network's ``fit`` takes the
        unlabeled rows); ``None`` trains on the labeled rows only.
    seed, pool_batch_size : int
        Seed of the subsample of ``unlabeled`` and rows scored at once.

    Returns
    -------
    X_fit, y_fit : array-like
        The training set, labeled rows first.
    n_pseudo : int
        How many pool rows it trains on without an answer (pseudo-labeled, or unlabeled).
    fit_params : dict
        Keyword arguments of the fit (``X_unlabeled`` for consistency training).
    """
    if pseudo is None or (previous is None and pseudo.needs_model) or len(unlabeled) == 0:
        return take_rows(X, labeled), labels, 0, {}
    if isinstance(pseudo, ConsistencyTraining):
        params = pseudo.fit_params(X, unlabeled, seed)
        return take_rows(X, labeled), labels, len(params["X_unlabeled"]), params
    rows, guesses = pseudo.select(
        previous, X, unlabeled, len(labeled), seed, pool_batch_size=pool_batch_size,
        labeled=labeled, labels=labels,
    )
    if len(rows) == 0:
        return take_rows(X, labeled), labels, 0, {}
    y_fit = np.concatenate([np.asarray(labels, dtype=object), np.asarray(guesses, dtype=object)])
    if np.asarray(labels).dtype != object:  # keep the labels' own dtype (ints stay ints)
        y_fit = y_fit.astype(np.result_type(np.asarray(labels), np.asarray(guesses)))
    return take_rows(X, np.concatenate([labeled, rows])), y_fit, len(rows), {}
