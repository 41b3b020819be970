"""Regression query strategies: predictive variance (three sources) and greedy sampling.

A regressor has no class probabilities, so the classification measures (entropy, margin, ...)
do not apply. :class:`VarianceSampling` asks where the model is least sure of its number --
the variance of its prediction, from the estimator's own ``predict(X, return_std=True)``
(a Gaussian process, as in modAL's ``active_regression`` example), from MC-dropout passes
(``predict_samples``: :class:`skal.keras.KerasRegressor`, :class:`skal.CNNRegressor`) or from
a committee of bootstrap clones (any regressor). :class:`GreedySampling` chooses a whole
batch spread out in input and output space (Wu, Lin & Huang 2019, iGS), which needs no
uncertainty at all.
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from functools import partial
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, StrOptions

from skal._pool import is_frame, iter_chunks, take_rows
from skal.strategies._base import ChunkScorer, QueryStrategy
from skal.strategies._features import features_of, final_step, has_method, last_step, query_seed

__all__ = ["GreedySampling", "VarianceSampling", "variance_source"]

#: Where :class:`VarianceSampling` reads the variance, in the order ``source="auto"`` tries.
VARIANCE_SOURCES = ("std", "mc_dropout", "committee")


def _has_return_std(estimator) -> bool:
    predict = getattr(last_step(estimator), "predict", None)
    try:
        return predict is not None and "return_std" in inspect.signature(predict).parameters
    except (TypeError, ValueError):
        return False


def variance_source(estimator, source: str = "auto") -> str:
    """Which variance :class:`VarianceSampling` reads for this (fitted) estimator.

    ``"auto"``: ``"std"`` where the (final) estimator's ``predict`` takes ``return_std``
    (``GaussianProcessRegressor``, ``BayesianRidge``), else ``"mc_dropout"`` where it has
    ``predict_samples`` (skal's Keras regressors), else ``"committee"``.

    Examples
    --------
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> from sklearn.linear_model import LinearRegression
    >>> from skal.strategies import variance_source
    >>> variance_source(GaussianProcessRegressor()), variance_source(LinearRegression())
    ('std', 'committee')
    """
    if source == "std" and not _has_return_std(estimator):
        raise TypeError(
            f"VarianceSampling(source='std') needs predict(X, return_std=True), which "
            f"{type(last_step(estimator)).__name__} does not take; use source='committee' "
            "(bootstrap clones, any regressor) or 'auto'."
        )
    if source == "mc_dropout" and not has_method(estimator, "predict_samples"):
        raise TypeError(
            f"VarianceSampling(source='mc_dropout') needs predict_samples (MC-dropout "
            f"passes), which {type(last_step(estimator)).__name__} does not have; use "
            "skal.keras.KerasRegressor or skal.CNNRegressor with dropout, or "
            "source='committee'."
        )
    if source != "auto":
        return source
    if _has_return_std(estimator):
        return "std"
    return "mc_dropout" if has_method(estimator, "predict_samples") else "committee"


def _spread(predictions: np.ndarray, n: int) -> np.ndarray:
    """Variance over axis 0 of stacked predictions, averaged over outputs: shape (n,)."""
    return np.asarray(predictions, dtype=np.float64).reshape(len(predictions), n, -1) \
        .var(axis=0).mean(axis=1)


def std_scores(estimator, X) -> np.ndarray:
    """The predictive variance the (final) estimator reports: ``std ** 2``."""
    model, Xt = final_step(estimator, X)
    _, std = model.predict(Xt, return_std=True)
    std = np.asarray(std, dtype=np.float64).reshape(len(std), -1)
    return (std ** 2).mean(axis=1)


def mc_scores(estimator, X, *, n_samples: int, seed: int) -> np.ndarray:
    """Variance of ``n_samples`` MC-dropout passes (``predict_samples``), one seed a query."""
    model, Xt = final_step(estimator, X)
    return _spread(model.predict_samples(Xt, n_samples, random_state=seed), len(Xt))


def committee_scores(estimator, X, *, members) -> np.ndarray:
    """Variance of the members' predictions."""
    return _spread([member.predict(X) for member in members], len(X))


def fit_bootstrap_members(estimator, context, n_members: int, seed: int) -> list:
    """``n_members`` clones of ``estimator``, each fitted on a bootstrap resample of the
    labeled set with its own ``random_state`` (nested ones too), all from ``seed``."""
    X_labeled, y_labeled = context.X_labeled, context.y_labeled
    if X_labeled is None or y_labeled is None or not len(y_labeled):
        raise ValueError(
            "VarianceSampling(source='committee') fits bootstrap clones on the labeled set, "
            "but the query context has none: ActiveLearningRegressor passes it; called "
            "directly, give context=QueryContext(X_labeled=..., y_labeled=...)."
        )
    X_labeled = X_labeled if is_frame(X_labeled) else np.asarray(X_labeled)
    y_labeled = np.asarray(y_labeled, dtype=np.float64)
    seeds = np.random.SeedSequence(seed).generate_state(n_members + 1)
    rng = np.random.default_rng(seeds[-1])
    members = []
    for member_seed in seeds[:-1]:
        member = clone(estimator)
        keys = [k for k in member.get_params(deep=True)
                if k == "random_state" or k.endswith("__random_state")]
        if keys:
            member.set_params(**dict.fromkeys(keys, int(member_seed) & 0x7FFFFFFF))
        rows = rng.integers(0, len(y_labeled), size=len(y_labeled))
        members.append(member.fit(take_rows(X_labeled, rows), y_labeled[rows]))
    return members


class VarianceSampling(QueryStrategy):
    """Ask where the regressor's prediction varies most (its predictive variance).

    The variance comes from (``source``):

    * ``"std"``: the estimator's own ``predict(X, return_std=True)`` squared -- a Gaussian
      process (``GaussianProcessRegressor``) or ``BayesianRidge``; modAL's
      ``active_regression`` example (max std) is this strategy;
    * ``"mc_dropout"``: the variance of ``n_samples`` MC-dropout passes
      (``predict_samples``: :class:`skal.keras.KerasRegressor`, :class:`skal.CNNRegressor`),
      seeded once per query, so chunked scoring equals whole-pool scoring;
    * ``"committee"``: the variance of ``n_members`` bootstrap clones of the estimator,
      fitted on the labeled set at every query (any regressor; Burbidge et al. 2007);
    * ``"auto"`` (default): the first of these the estimator can give
      (:func:`variance_source`).

    Parameters
    ----------
    source : {"auto", "std", "mc_dropout", "committee"}, default="auto"
        Where the variance comes from.
    n_samples : int, default=20
        MC-dropout passes (at least 2).
    n_members : int, default=5
        Bootstrap clones of the committee (at least 2).

    References
    ----------
    Burbidge, R., Rowland, J. J. & King, R. D. (2007). Active Learning for Regression Based
    on Query by Committee. IDEAL.
    Gal, Y. & Ghahramani, Z. (2016). Dropout as a Bayesian Approximation. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> from skal.strategies import VarianceSampling
    >>> X = np.linspace(0, 10, 11)[:, None]
    >>> gp = GaussianProcessRegressor().fit(X[[0, 1, 2]], [0.0, 1.0, 2.0])
    >>> int(VarianceSampling()(gp, X, 1, random_state=0)[0])  # the farthest from 0..2
    10
    """

    _parameter_constraints: dict = {
        "source": [StrOptions({"auto", *VARIANCE_SOURCES})],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "n_members": [Interval(Integral, 2, None, closed="left")],
    }
    requires: tuple[str, ...] = ("predict",)
    tasks = ("regression",)

    def __init__(self, source: str = "auto", n_samples: int = 20, n_members: int = 5) -> None:
        self.source = source
        self.n_samples = n_samples
        self.n_members = n_members

    def select(self, estimator, X_pool, n_instances, context):
        """The samples of highest predictive variance, highest first."""
        seed = query_seed(context.random_state)
        source = variance_source(estimator, self.source)
        if source == "std":
            score_fn = std_scores
        elif source == "mc_dropout":
            score_fn = partial(mc_scores, n_samples=int(self.n_samples), seed=seed)
        else:
            members = fit_bootstrap_members(estimator, context, int(self.n_members), seed)
            score_fn = partial(committee_scores, members=members)
        context = replace(context, random_state=seed)
        return ChunkScorer(score_fn).select(estimator, X_pool, n_instances, context)


def _pool_features(estimator, X_pool, context) -> tuple[np.ndarray, np.ndarray]:
    """Features (:func:`features_of`) and predictions of the whole pool, chunk by chunk."""
    feats, preds = [], []
    for _, chunk in iter_chunks(X_pool, context.pool_batch_size):
        if context.check_chunk is not None:
            chunk = context.check_chunk(chunk)
        if len(chunk):
            feats.append(features_of(estimator, chunk, strategy="greedy"))
            preds.append(np.asarray(estimator.predict(chunk), dtype=np.float64)
                         .reshape(len(chunk), -1))
    return np.concatenate(feats), np.concatenate(preds)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances of every row of ``a`` to every row of ``b``: (len(a), len(b))."""
    sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


class GreedySampling(QueryStrategy):
    """Greedy sampling for regression (Wu, Lin & Huang 2019): a batch spread out in input
    and output space, no uncertainty needed.

    A pool sample's distance to the labeled set is, by ``space``:

    * ``"x"`` (GSx): ``min_m ||x - x_m||``, in the features the model sees
      (:func:`~skal.strategies._features.features_of`: its embedding where it has
      ``embed``, a Pipeline's transformed features, else the raw ones);
    * ``"y"`` (GSy): ``min_m |f(x) - y_m|``, the prediction against the labels;
    * ``"xy"`` (iGS, default): ``min_m ||x - x_m|| * |f(x) - y_m|``.

    The batch is chosen greedily: the farthest sample is taken, then joins the reference
    set (with its prediction as its target) before the next is chosen, so a batch does not
    gather in one far region. Memory O(pool x (features + labeled)).

    Parameters
    ----------
    space : {"xy", "x", "y"}, default="xy"
        Which distances.

    References
    ----------
    Wu, D., Lin, C.-T. & Huang, J. (2019). Active Learning for Regression Using Greedy
    Sampling. Information Sciences 474.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skal.strategies import GreedySampling, QueryContext, select_batch
    >>> X = np.array([[0.0], [1.0], [2.0], [9.0], [10.0]])
    >>> model = LinearRegression().fit(X[:2], [0.0, 1.0])
    >>> context = QueryContext(X_labeled=X[:2], y_labeled=np.array([0.0, 1.0]))
    >>> select_batch(GreedySampling("x"), model, X[2:], 2, context)[0]
    array([2, 0])
    """

    _parameter_constraints: dict = {"space": [StrOptions({"xy", "x", "y"})]}
    requires: tuple[str, ...] = ("predict",)
    tasks = ("regression",)

    def __init__(self, space: str = "xy") -> None:
        self.space = space

    def select(self, estimator, X_pool, n_instances, context):
        """The batch chosen greedily, farthest first; scores are the distances when chosen."""
        F, P = _pool_features(estimator, X_pool, context)
        if context.X_labeled is None or context.y_labeled is None or \
                not len(context.y_labeled):
            raise ValueError(
                "GreedySampling measures distances to the labeled set, but the query context "
                "has none: give context=QueryContext(X_labeled=..., y_labeled=...)."
            )
        F_ref = features_of(estimator, context.X_labeled, strategy="greedy")
        y_ref = np.asarray(context.y_labeled, dtype=np.float64).reshape(len(F_ref), -1)
        dist = self._distance(F, P, F_ref, y_ref)
        picked, scores = [], []
        for _ in range(min(int(n_instances), len(F))):
            i = int(np.argmax(dist))  # ties: the lowest index
            picked.append(i)
            scores.append(float(dist[i]))
            dist = np.minimum(dist, self._distance(F, P, F[i: i + 1], P[i: i + 1]))
            dist[picked] = -np.inf
        return np.asarray(picked, dtype=np.intp), np.asarray(scores)

    def _distance(self, F, P, F_ref, y_ref) -> np.ndarray:
        """Each pool sample's distance to its nearest reference, in ``space``."""
        dx = _distances(F, F_ref) if self.space != "y" else 1.0
        dy = _distances(P, y_ref) if self.space != "x" else 1.0
        return np.min(dx * dy * np.ones((len(F), len(F_ref))), axis=1)
