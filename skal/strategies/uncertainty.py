"""Uncertainty measures of a probability matrix (Lewis & Gale 1994; Settles 2009).

Each function maps ``proba`` of shape (n_samples, n_classes) to one score per sample, higher
meaning more informative, so any of them can rank a pool or serve in a scorer.
"""

from __future__ import annotations

import numpy as np

from skal.strategies._base import ScoreStrategy

__all__ = ["UncertaintySampling", "entropy", "least_confident", "margin"]


def _check_proba(proba) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2:
        raise ValueError(f"proba must be 2-D (n_samples, n_classes), got shape {proba.shape}.")
    return proba


def least_confident(proba) -> np.ndarray:
    """One minus the probability of the most likely class.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, 1 - 1/n_classes]; higher is more uncertain.
    """
    proba = _check_proba(proba)
    return 1.0 - proba.max(axis=1)


def margin(proba) -> np.ndarray:
    """One minus the gap between the two most likely classes (Scheffer et al. 2001).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, 1]; 1 when the two top classes tie. Higher is more uncertain.
    """
    proba = _check_proba(proba)
    if proba.shape[1] < 2:
        return np.zeros(len(proba))
    top2 = np.partition(proba, -2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy(proba) -> np.ndarray:
    """Shannon entropy of the predicted class distribution, in nats (Shannon 1948).

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, log(n_classes)]; higher is more uncertain.
    """
    return entropy_last_axis(_check_proba(proba))


def entropy_last_axis(p: np.ndarray) -> np.ndarray:
    """Entropy along the last axis of an array of distributions, any leading shape."""
    logp = np.log(np.where(p > 0, p, 1.0))  # 0 * log(0) counts as 0
    return -(p * logp).sum(axis=-1)


_MEASURES = {"entropy": entropy, "margin": margin, "least_confident": least_confident}


class UncertaintySampling(ScoreStrategy):
    """Pick the samples the model is least sure about (uncertainty sampling).

    Parameters
    ----------
    measure : {"entropy", "margin", "least_confident"}, default="entropy"
        Uncertainty measure of the predicted probabilities; see :func:`entropy`,
        :func:`margin` and :func:`least_confident`.
    """

    requires = ("predict_proba",)

    def __init__(self, measure: str = "entropy") -> None:
        self.measure = measure

    def score(self, estimator, X, rng) -> np.ndarray:
        if self.measure not in _MEASURES:
            raise ValueError(
                f"measure must be one of {sorted(_MEASURES)}, got {self.measure!r}."
            )
        return _MEASURES[self.measure](estimator.predict_proba(X))
