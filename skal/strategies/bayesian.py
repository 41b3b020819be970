"""MC-dropout acquisition functions (Gal, Islam & Ghahramani 2017).

Each function maps a stack of ``T`` stochastic forward passes, ``proba_samples`` of shape
(T, n_samples, n_classes), to one score per sample, higher meaning more informative.
:class:`MCDropoutSampling` obtains the stack from a model with dropout kept active
(``predict_proba_samples`` of :class:`skal.KerasClassifier`) and ranks a pool with it.

References
----------
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian Active Learning with Image Data.
ICML, PMLR 70:1183-1192.
"""

from __future__ import annotations

import copy
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skal.strategies._base import ScoreStrategy
from skal.strategies._features import last_step, proba_samples, query_seed, stochastic_error
from skal.strategies.uncertainty import entropy, entropy_last_axis

__all__ = ["MCDropoutSampling", "bald", "mc_entropy", "variation_ratios"]


def _check_samples(proba_samples) -> np.ndarray:
    proba_samples = np.asarray(proba_samples, dtype=np.float64)
    if proba_samples.ndim != 3 or proba_samples.shape[0] < 1:
        raise ValueError(
            "proba_samples must be 3-D (n_passes, n_samples, n_classes) with at least one "
            f"pass, got shape {proba_samples.shape}."
        )
    return proba_samples


def _vote_counts(proba_samples: np.ndarray) -> np.ndarray:
    """(n_samples, n_classes) number of passes (members) voting for each class."""
    n_passes, n, n_classes = proba_samples.shape
    votes = proba_samples.argmax(axis=2) + n_classes * np.arange(n)  # (T, n)
    return np.bincount(votes.ravel(), minlength=n * n_classes).reshape(n, n_classes)


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
    """
    return entropy(_check_samples(proba_samples).mean(axis=0))


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
    """
    proba_samples = _check_samples(proba_samples)
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
    """
    proba_samples = _check_samples(proba_samples)
    counts = _vote_counts(proba_samples)
    return 1.0 - counts.max(axis=1) / proba_samples.shape[0]


_MEASURES = {"bald": bald, "variation_ratios": variation_ratios, "mc_entropy": mc_entropy}


def _peek_seed(rng: np.random.Generator) -> int:
    """A seed from ``rng`` without advancing it: the same for every chunk it scores."""
    return int(copy.deepcopy(rng).integers(2**32))


class _SeededMCScorer(ScoreStrategy):
    """Scores chunks from MC-dropout passes with one seed fixed for a whole query.

    The seed travels with the scorer (not in the chunk's generator), so every chunk -- in
    memory or a dask block on a worker -- gets the same dropout masks for the same sample.
    """

    requires = ()

    def __init__(self, measure=None, n_samples=None, seed=None, name=None):
        self.measure = measure
        self.n_samples = n_samples
        self.seed = seed
        self.name = name

    def score(self, estimator, X, rng) -> np.ndarray:
        samples = proba_samples(estimator, X, self.n_samples, self.seed, strategy=self.name)
        return self.measure(samples)


class MCDropoutSampling(ScoreStrategy):
    """Bayesian active learning with MC dropout (Gal, Islam & Ghahramani 2017).

    Scores each pool sample from ``n_samples`` forward passes with dropout active, by
    :func:`bald`, :func:`variation_ratios` or :func:`mc_entropy`. The estimator (or the last
    step of a Pipeline, given the samples transformed through the other steps) must have
    ``predict_proba_samples(X, n_samples, random_state=...)``, as :class:`skal.CNNClassifier`
    and :class:`skal.KerasClassifier` (with a Dropout layer) do.

    The pool is scored chunk by chunk with a running top-k: memory is
    O(pool_batch_size x n_samples x n_classes). The dropout masks of a sample depend only on
    the query's seed and on the sample, so the batch is the same whatever the chunking and
    the same for the same ``random_state``.

    Parameters
    ----------
    measure : {"bald", "variation_ratios", "mc_entropy"}, default="bald"
        Acquisition function of the stack of passes.
    n_samples : int, default=20
        Number of stochastic forward passes ``T`` (at least 2). Query time grows linearly.

    References
    ----------
    Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian Active Learning with Image
    Data. ICML, PMLR 70:1183-1192.

    Examples
    --------
    >>> from skal import ActiveLearningClassifier, CNNClassifier
    >>> from skal.strategies import MCDropoutSampling
    >>> learner = ActiveLearningClassifier(
    ...     CNNClassifier(), query_strategy=MCDropoutSampling("bald", n_samples=10))
    """

    _parameter_constraints: dict = {
        "measure": [StrOptions(set(_MEASURES))],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
    }
    requires = ("predict_proba_samples",)

    def __init__(self, measure: str = "bald", n_samples: int = 20) -> None:
        self.measure = measure
        self.n_samples = n_samples

    def __call__(self, estimator, X_pool, n_instances, random_state=None, **context):
        self._validate_params()
        model = last_step(estimator)
        if not hasattr(model, "predict_proba_samples"):
            raise TypeError(stochastic_error(model, repr(self)))
        scorer = _SeededMCScorer(
            _MEASURES[self.measure], int(self.n_samples), query_seed(random_state), repr(self)
        )
        return scorer(estimator, X_pool, n_instances, random_state, **context)

    def score(self, estimator, X, rng) -> np.ndarray:
        """Score one chunk; the dropout seed is peeked from ``rng`` (not advanced)."""
        samples = proba_samples(
            estimator, X, int(self.n_samples), _peek_seed(rng), strategy=repr(self)
        )
        return _MEASURES[self.measure](samples)
