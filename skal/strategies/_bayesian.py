"""MC-dropout sampling (Gal, Islam & Ghahramani 2017).

:class:`MCDropoutSampling` obtains a stack of stochastic forward passes from a model with
dropout kept active (``predict_proba_samples`` of :class:`skal.KerasClassifier`) and ranks a
pool by one of the measures of :mod:`skal.strategies._measures` (BALD, variation ratios,
predictive entropy). A model without those passes (any scikit-learn classifier) gets the
same measures from a committee of bootstrap clones instead.

References
----------
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian Active Learning with Image Data.
ICML, PMLR 70:1183-1192.
"""

from __future__ import annotations

import copy
from functools import partial
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skal.strategies._base import ChunkScorer, ScoreStrategy
from skal.strategies._features import (
    DEFAULT_MEMBERS,
    fit_committee,
    has_method,
    mc_scores,
    member_scores,
    query_seed,
)
from skal.strategies._measures import MC_MEASURES

__all__ = ["MCDropoutSampling"]


def _peek_seed(rng: np.random.Generator) -> int:
    """A seed from ``rng`` without advancing it: the same for every chunk it scores."""
    return int(copy.deepcopy(rng).integers(2**32))


class MCDropoutSampling(ScoreStrategy):
    """Bayesian active learning with MC dropout (Gal, Islam & Ghahramani 2017).

    Scores each pool sample from ``n_samples`` forward passes with dropout active, by
    :func:`bald`, :func:`variation_ratios` or :func:`mc_entropy`. The estimator (or the last
    step of a Pipeline, given the samples transformed through the other steps) must have
    ``predict_proba_samples(X, n_samples, random_state=...)``, as :class:`skal.CNNClassifier`
    and :class:`skal.KerasClassifier` (with a Dropout layer) do.

    **Any other classifier** (a scikit-learn estimator, a Pipeline without MC passes) gets
    the same measure of a committee instead of the passes: 5 clones of the learner's
    estimator, each with its own ``random_state`` and fitted on a bootstrap resample of the
    labeled set drawn within each class, at every query -- exactly
    ``Committee(n_members=5)``'s members (query by bagging, Abe & Mamitsuka 1998). BALD is
    then the committee's mutual information (= :func:`kl_divergence` to the consensus),
    variation ratios its share of dissenting votes, and ``mc_entropy`` the entropy of its
    mean prediction. ``n_samples`` is not used there; for another committee size use
    :class:`Committee` (``measure="kl_divergence"`` for BALD). The labeled set comes with
    the query's context, which :class:`skal.ActiveLearningClassifier` fills.

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
    Abe, N. & Mamitsuka, H. (1998). Query Learning Strategies Using Boosting and Bagging.
    ICML.

    Examples
    --------
    >>> from skal import ActiveLearningClassifier, CNNClassifier
    >>> from skal.strategies import MCDropoutSampling
    >>> learner = ActiveLearningClassifier(
    ...     CNNClassifier(), query_strategy=MCDropoutSampling("bald", n_samples=10))
    """

    _parameter_constraints: dict = {
        "measure": [StrOptions(set(MC_MEASURES))],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
    }
    requires = ("predict_proba",)  # MC passes where the model has them, else a committee

    def __init__(self, measure: str = "bald", n_samples: int = 20) -> None:
        self.measure = measure
        self.n_samples = n_samples

    def select(self, estimator, X_pool, n_instances, context):
        """The best-scored samples, with one dropout seed for every chunk of the query."""
        # The seed travels with the scorer (not in the chunk's generator), so every chunk
        # -- in memory or a dask block on a worker -- gets the same masks for a sample.
        seed = query_seed(context.random_state)
        if has_method(estimator, "predict_proba_samples"):
            scorer = ChunkScorer(partial(
                mc_scores, measure=MC_MEASURES[self.measure], n_samples=int(self.n_samples),
                seed=seed, strategy=repr(self),
            ))
        else:  # no MC passes: the same measure of a committee of bootstrap clones
            members, classes = fit_committee([estimator] * DEFAULT_MEMBERS, context, seed,
                                             who=repr(self))
            scorer = ChunkScorer(partial(member_scores, measure=MC_MEASURES[self.measure],
                                         members=members, classes=classes))
        return scorer.select(estimator, X_pool, n_instances, context)

    def score(self, estimator, X, rng) -> np.ndarray:
        """Score one chunk; the dropout seed is peeked from ``rng`` (not advanced)."""
        return mc_scores(estimator, X, measure=MC_MEASURES[self.measure],
                         n_samples=int(self.n_samples), seed=_peek_seed(rng),
                         strategy=repr(self))
