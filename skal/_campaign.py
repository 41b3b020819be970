"""The one loop of active learning: score the pool, pick a batch, reveal labels, refit.

``ActiveLearningClassifier.fit``, :func:`skal.evaluation.active_learning_curve` and the
command line all run this loop; they differ only in who reveals the labels and what they
record after each round (``on_round``).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

__all__ = ["CampaignResult", "StopLabelling", "initial_indices", "run_campaign"]


class StopLabelling(Exception):  # noqa: N818 -- a signal, not an error
    """Raised by an oracle to end the labelling session (the person typed ``q``).

    Parameters
    ----------
    labels : sequence or None, default=None
        Labels of the batch being labelled when the session stopped, one per queried sample,
        ``None`` for the samples not answered. The answered ones are kept (and trained on);
        the campaign then ends after one last fit.
    """

    def __init__(self, labels=None) -> None:
        super().__init__("labelling stopped by the oracle")
        self.labels = labels


def initial_indices(y: np.ndarray, initial_size, random_state) -> np.ndarray:
    """A stratified random initial set: at least one sample per class where possible.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels of the candidates.
    initial_size : int or float
        Number of samples, or a fraction of ``len(y)`` in (0, 1).
    random_state : int, RandomState, Generator or None
        Seeds the draw.

    Returns
    -------
    indices : ndarray of shape (initial_size,)
        Distinct indices into ``y``, shuffled.
    """
    n = len(y)
    if isinstance(initial_size, Integral):
        size = int(initial_size)
    else:
        size = max(1, math.ceil(float(initial_size) * n))
    if size > n:
        raise ValueError(
            f"initial_size={initial_size!r} asks for {size} initial labels but there are "
            f"only {n} samples."
        )
    rng = np.random.default_rng(random_state)
    order = rng.permutation(n)
    classes, y_idx = np.unique(np.asarray(y)[order], return_inverse=True)
    counts = np.bincount(y_idx, minlength=len(classes))
    # Proportional quotas, at least one per class, largest remainders first.
    exact = size * counts / n
    quota = np.minimum(np.maximum(np.floor(exact).astype(int), 1), counts)
    while quota.sum() > size:  # more classes than the budget, or rounding up to 1
        # Take from classes above one first; drop a class only when the budget is too small.
        floor = 1 if (quota > 1).any() else 0
        excess = np.where(quota > floor, quota - exact + 1e-9 * rng.random(len(quota)), -np.inf)
        quota[np.argmax(excess)] -= 1
    room = counts - quota
    for c in np.argsort(-(exact - np.floor(exact)), kind="stable"):
        if quota.sum() >= size:
            break
        if room[c] > 0:
            quota[c] += 1
            room[c] -= 1
    while quota.sum() < size:  # remainders exhausted: fill where samples remain
        c = int(np.flatnonzero(counts - quota > 0)[0])
        quota[c] += 1
    picked = np.concatenate(
        [order[np.flatnonzero(y_idx == c)[: quota[c]]] for c in range(len(classes))]
    )
    return rng.permutation(picked)


@dataclass
class CampaignResult:
    """What a campaign did: who was labelled when, and how long each round took."""

    labeled_indices: np.ndarray
    labels: np.ndarray
    labeled_round: np.ndarray
    queried_indices: list[np.ndarray] = field(default_factory=list)
    query_scores: list[np.ndarray] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    estimator: object = None
    stopped: bool = False


def run_campaign(
    *,
    n_samples: int,
    initial: np.ndarray,
    n_queries: int,
    n_instances: int,
    reveal: Callable[[np.ndarray], np.ndarray],
    fit: Callable[[np.ndarray, np.ndarray, object], object],
    query: Callable[..., tuple[np.ndarray, np.ndarray]],
    on_round: Callable[[int, object, np.ndarray], None] | None = None,
    verbose: int = 0,
    label_name: str = "labels",
    skipped: np.ndarray | None = None,
    reveal_context: bool = False,
) -> CampaignResult:
    """Run ``n_queries`` rounds of active learning over ``n_samples`` candidates.

    Parameters
    ----------
    n_samples : int
        Number of candidates (indices ``0..n_samples-1``).
    initial : ndarray of int
        Indices labelled before the first query.
    n_queries, n_instances : int
        Rounds, and samples queried per round.
    reveal : callable
        ``reveal(indices) -> labels``; a label of ``-1`` or None means skipped: the sample is
        not trained on and not asked again. It may raise :class:`StopLabelling` (with the
        labels answered so far) to end the campaign after one last fit.
    fit : callable
        ``fit(indices, labels, previous_estimator) -> fitted estimator``.
    query : callable
        ``query(estimator, candidate_indices, labeled_indices, n, round) -> (positions,
        scores)``, positions into ``candidate_indices``, most informative first.
    on_round : callable, optional
        ``on_round(round, estimator, labeled_indices)`` after each fit (round 0 = initial).
    verbose : int
        Print one line per round when > 0.
    skipped : ndarray of int, optional
        Indices skipped before the campaign (e.g. in an earlier session): never asked.
    reveal_context : bool, default=False
        Call ``reveal(indices, round=round, scores=scores)`` instead, where ``scores`` are
        the strategy's scores of the queried samples (None for the initial set).

    Returns
    -------
    CampaignResult
    """
    labeled_round = np.full(n_samples, -1, dtype=np.intp)
    asked = np.zeros(n_samples, dtype=bool)
    if skipped is not None:
        asked[np.asarray(skipped, dtype=np.intp)] = True
    result = CampaignResult(
        labeled_indices=np.empty(0, dtype=np.intp),
        labels=np.empty(0),
        labeled_round=labeled_round,
    )

    def take(indices, round_, scores=None):
        """Reveal and record labels; True when the oracle asked to stop."""
        stopped = False
        try:
            if reveal_context:
                revealed = reveal(indices, round=round_, scores=scores)
            else:
                revealed = reveal(indices)
        except StopLabelling as stop:
            stopped = True
            revealed = [] if stop.labels is None else list(stop.labels)
            revealed = (revealed + [None] * len(indices))[: len(indices)]
        labels = np.empty(len(indices), dtype=object)
        labels[:] = list(revealed)
        asked[indices] = True
        keep = np.array([lab is not None and not _is_minus_one(lab) for lab in labels], bool)
        labeled_round[indices[keep]] = round_
        result.labeled_indices = np.concatenate([result.labeled_indices, indices[keep]])
        result.labels = np.concatenate([result.labels.astype(object), labels[keep]])
        return stopped

    start = time.perf_counter()
    result.stopped = take(np.asarray(initial, dtype=np.intp), 0)
    estimator = fit(result.labeled_indices, _tidy(result.labels), None)
    result.history.append(
        {"round": 0, "n_labeled": len(result.labeled_indices), "query_time": 0.0,
         "fit_time": time.perf_counter() - start}
    )
    if on_round is not None:
        on_round(0, estimator, result.labeled_indices)
    _report(verbose, result.history[-1], n_queries, label_name)
    for round_ in range(1, n_queries + 1):
        if result.stopped:
            break
        candidates = np.flatnonzero(~asked)
        if len(candidates) == 0:
            break
        t0 = time.perf_counter()
        positions, scores = query(
            estimator, candidates, result.labeled_indices, n_instances, round_
        )
        picked = candidates[np.asarray(positions, dtype=np.intp)]
        t1 = time.perf_counter()
        result.queried_indices.append(picked)
        result.query_scores.append(np.asarray(scores))
        result.stopped = take(picked, round_, np.asarray(scores))
        estimator = fit(result.labeled_indices, _tidy(result.labels), estimator)
        result.history.append(
            {"round": round_, "n_labeled": len(result.labeled_indices),
             "query_time": t1 - t0, "fit_time": time.perf_counter() - t1}
        )
        if on_round is not None:
            on_round(round_, estimator, result.labeled_indices)
        _report(verbose, result.history[-1], n_queries, label_name)
    result.labels = _tidy(result.labels)
    result.estimator = estimator
    return result


def _is_minus_one(label) -> bool:
    return isinstance(label, Integral | float | np.number) and label == -1


def _tidy(labels: np.ndarray) -> np.ndarray:
    """Object array of labels back to a plain dtype (ints stay ints, strings stay strings)."""
    return np.asarray(labels.tolist()) if len(labels) else labels


def _report(verbose: int, row: dict, n_queries: int, label_name: str) -> None:
    if verbose > 0:
        print(
            f"[skal] round {row['round']}/{n_queries}: {row['n_labeled']} {label_name}, "
            f"query {row['query_time']:.2f}s, fit {row['fit_time']:.2f}s",
            file=sys.stderr,
            flush=True,
        )
