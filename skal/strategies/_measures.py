"""Informativeness measures: pure functions of predicted probabilities.

Uncertainty measures (Lewis & Gale 1994; Settles 2009) map ``proba`` of shape
(n_samples, n_classes) to one score per sample; MC-dropout and committee measures map a stack
of predictions, ``proba_samples`` of shape (n_passes, n_samples, n_classes), to one score per
sample. Higher always means more informative, so any of them can rank a pool or serve in a
scorer.

References
----------
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian Active Learning with Image Data.
ICML, PMLR 70:1183-1192.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "COMMITTEE_MEASURES",
    "MC_MEASURES",
    "UNCERTAINTY_MEASURES",
    "bald",
    "entropy",
    "entropy_last_axis",
    "kl_divergence",
    "least_confident",
    "margin",
    "mc_entropy",
    "variation_ratios",
    "vote_entropy",
]


def check_proba(proba) -> np.ndarray:
    """``proba`` as a float64 (n_samples, n_classes) array, or ValueError."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2:
        raise ValueError(f"proba must be 2-D (n_samples, n_classes), got shape {proba.shape}.")
    return proba


def check_samples(proba_samples) -> np.ndarray:
    """``proba_samples`` as a float64 (n_passes >= 1, n_samples, n_classes) array."""
    proba_samples = np.asarray(proba_samples, dtype=np.float64)
    if proba_samples.ndim != 3 or proba_samples.shape[0] < 1:
        raise ValueError(
            "proba_samples must be 3-D (n_passes, n_samples, n_classes) with at least one "
            f"pass, got shape {proba_samples.shape}."
        )
    return proba_samples


def vote_counts(proba_samples: np.ndarray) -> np.ndarray:
    """(n_samples, n_classes) number of passes (members) voting for each class."""
    n_passes, n, n_classes = proba_samples.shape
    votes = proba_samples.argmax(axis=2) + n_classes * np.arange(n)  # (T, n)
    return np.bincount(votes.ravel(), minlength=n * n_classes).reshape(n, n_classes)


def entropy_last_axis(p: np.ndarray) -> np.ndarray:
    """Entropy along the last axis of an array of distributions, any leading shape."""
    logp = np.log(np.where(p > 0, p, 1.0))  # 0 * log(0) counts as 0
    return -(p * logp).sum(axis=-1)


# ---------------------------------------------------------------- one prediction
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

    Examples
    --------
    >>> import numpy as np
    >>> from skal.strategies import least_confident
    >>> proba = np.array([[0.9, 0.1], [0.5, 0.5]])  # confident, then a tie
    >>> least_confident(proba).round(3)
    array([0.1, 0.5])
    """
    proba = check_proba(proba)
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

    Examples
    --------
    >>> import numpy as np
    >>> from skal.strategies import margin
    >>> proba = np.array([[0.9, 0.1], [0.5, 0.5]])  # confident, then a tie
    >>> margin(proba).round(3)
    array([0.2, 1. ])
    """
    proba = check_proba(proba)
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

    Examples
    --------
    >>> import numpy as np
    >>> from skal.strategies import entropy
    >>> proba = np.array([[0.9, 0.1], [0.5, 0.5]])  # confident, then a tie
    >>> entropy(proba).round(3)
    array([0.325, 0.693])
    """
    return entropy_last_axis(check_proba(proba))


# ---------------------------------------------------------------- stochastic passes
def mc_entropy(proba_samples) -> np.ndarray:
    """Predictive entropy: the entropy of the mean of the stochastic passes.

    ``H[y | x, D] ~= -sum_c pbar_c log pbar_c`` with ``pbar = mean_t p_t`` (Gal et al. 2017,
    "Max Entropy"). High both where the model is unsure because of its weights (epistemic)
    and where the data are noisy (aleatoric).

    Parameters
    ----------
    proba_samples : array-like of shape (n_passes, n_samples, n_classes)
        Class probabilities of each stochastic forward pass.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, log(n_classes)], in nats; higher is more uncertain.

    Examples
    --------
    Two dropout passes: they disagree on the first sample, agree on the second.

    >>> import numpy as np
    >>> from skal.strategies import mc_entropy
    >>> proba_samples = np.array([[[0.9, 0.1], [0.9, 0.1]],
    ...                           [[0.1, 0.9], [0.9, 0.1]]])
    >>> mc_entropy(proba_samples).round(3)
    array([0.693, 0.325])
    """
    return entropy(check_samples(proba_samples).mean(axis=0))


def bald(proba_samples) -> np.ndarray:
    """BALD: mutual information between the prediction and the model weights.

    ``I[y; w | x, D] ~= H[mean_t p_t] - mean_t H[p_t]`` (Houlsby et al. 2011; with MC dropout,
    Gal et al. 2017). It is high only where the passes *disagree* -- uncertainty that more
    labels can remove (epistemic) -- and near zero where every pass gives the same spread-out
    distribution (noise in the data, aleatoric).

    Parameters
    ----------
    proba_samples : array-like of shape (n_passes, n_samples, n_classes)
        Class probabilities of each stochastic forward pass.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, log(n_classes)], in nats; higher is more informative.

    References
    ----------
    Houlsby, N., Huszar, F., Ghahramani, Z. & Lengyel, M. (2011). Bayesian Active Learning
    for Classification and Preference Learning. arXiv:1112.5745.

    Examples
    --------
    Two dropout passes: they disagree on the first sample, agree on the second.

    >>> import numpy as np
    >>> from skal.strategies import bald
    >>> proba_samples = np.array([[[0.9, 0.1], [0.9, 0.1]],
    ...                           [[0.1, 0.9], [0.9, 0.1]]])
    >>> bald(proba_samples).round(3)
    array([0.368, 0.   ])
    """
    proba_samples = check_samples(proba_samples)
    mutual = entropy(proba_samples.mean(axis=0)) - entropy_last_axis(proba_samples).mean(0)
    return np.maximum(mutual, 0.0)  # >= 0 by Jensen; clip rounding noise


def variation_ratios(proba_samples) -> np.ndarray:
    """Variation ratio: the fraction of passes that do not vote for the modal class.

    ``1 - f_m / T``, with ``f_m`` the number of the ``T`` passes whose most probable class is
    the most frequent one (Freeman 1965; Gal et al. 2017).

    Parameters
    ----------
    proba_samples : array-like of shape (n_passes, n_samples, n_classes)
        Class probabilities of each stochastic forward pass.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, 1 - 1/n_classes], multiples of ``1/T``; higher is more uncertain.

    Examples
    --------
    Two dropout passes: they disagree on the first sample, agree on the second.

    >>> import numpy as np
    >>> from skal.strategies import variation_ratios
    >>> proba_samples = np.array([[[0.9, 0.1], [0.9, 0.1]],
    ...                           [[0.1, 0.9], [0.9, 0.1]]])
    >>> variation_ratios(proba_samples).round(3)
    array([0.5, 0. ])
    """
    proba_samples = check_samples(proba_samples)
    counts = vote_counts(proba_samples)
    return 1.0 - counts.max(axis=1) / proba_samples.shape[0]


# ---------------------------------------------------------------- committees
def vote_entropy(proba_samples) -> np.ndarray:
    """Vote entropy: the entropy of the committee's hard votes (Dagan & Engelson 1995).

    ``-sum_c (V(c)/M) log(V(c)/M)``, with ``V(c)`` the number of the ``M`` members whose most
    probable class is ``c``.

    Parameters
    ----------
    proba_samples : array-like of shape (n_members, n_samples, n_classes)
        Class probabilities predicted by each member.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        In [0, log(min(n_members, n_classes))], in nats; 0 when all members agree.

    References
    ----------
    Dagan, I. & Engelson, S. P. (1995). Committee-Based Sampling for Training Probabilistic
    Classifiers. ICML.

    Examples
    --------
    Three members' votes: split three ways on the first sample, two to one on the second.

    >>> import numpy as np
    >>> from skal.strategies import vote_entropy
    >>> proba_samples = np.array([[[0.8, 0.1, 0.1], [0.5, 0.3, 0.2]],
    ...                           [[0.2, 0.7, 0.1], [0.6, 0.1, 0.3]],
    ...                           [[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]]])
    >>> vote_entropy(proba_samples).round(3)
    array([1.099, 0.637])
    """
    proba_samples = check_samples(proba_samples)
    return entropy_last_axis(vote_counts(proba_samples) / proba_samples.shape[0])


def kl_divergence(proba_samples) -> np.ndarray:
    """Mean KL divergence of each member from the consensus (McCallum & Nigam 1998).

    ``(1/M) sum_m KL(p_m || pbar)``, with ``pbar`` the members' mean. For an MC-dropout
    committee this equals :func:`skal.strategies.bald` (both are the mutual information);
    the two differ for explicit committees only in name.

    Parameters
    ----------
    proba_samples : array-like of shape (n_members, n_samples, n_classes)
        Class probabilities predicted by each member.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Non-negative, in nats; 0 when all members predict the same distribution.

    References
    ----------
    McCallum, A. & Nigam, K. (1998). Employing EM and Pool-Based Active Learning for Text
    Classification. ICML.

    Examples
    --------
    Two members that disagree on the first sample and agree on the second; the same
    numbers as :func:`~skal.strategies.bald` gives for these passes:

    >>> import numpy as np
    >>> from skal.strategies import kl_divergence
    >>> proba_samples = np.array([[[0.9, 0.1], [0.9, 0.1]],
    ...                           [[0.1, 0.9], [0.9, 0.1]]])
    >>> kl_divergence(proba_samples).round(3)
    array([0.368, 0.   ])
    """
    proba_samples = check_samples(proba_samples)
    mean = proba_samples.mean(axis=0)
    ratio = np.where(proba_samples > 0, proba_samples / np.where(mean > 0, mean, 1.0), 1.0)
    return np.maximum((proba_samples * np.log(ratio)).sum(axis=2).mean(axis=0), 0.0)


# measure name -> function, the options of the strategies' ``measure`` parameters
UNCERTAINTY_MEASURES = {"entropy": entropy, "margin": margin, "least_confident": least_confident}
MC_MEASURES = {"bald": bald, "variation_ratios": variation_ratios, "mc_entropy": mc_entropy}
COMMITTEE_MEASURES = {"vote_entropy": vote_entropy, "kl_divergence": kl_divergence}
