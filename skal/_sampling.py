"""Seeds and the stratified initial set of a campaign (pure functions)."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

__all__ = ["initial_indices", "n_initial", "round_seed"]

# Salts of the seed sequences, fixed so that a campaign's draws never change between versions.
INITIAL_SALT = 0xA11
EXTRA_SALT = 0xA12


def round_seed(seed: int, round_: int) -> int:
    """The seed of one round's query, derived from the campaign seed and the round."""
    return int(np.random.SeedSequence([seed, round_]).generate_state(1)[0])


def n_initial(initial_size, n: int) -> int:
    """``initial_size`` (a count, or a fraction of ``n`` in (0, 1)) as a count."""
    if isinstance(initial_size, Integral):
        return int(initial_size)
    return max(1, math.ceil(float(initial_size) * n))


def initial_indices(y: np.ndarray, initial_size, random_state) -> np.ndarray:
    """A stratified random initial set: at least one sample per class where possible.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels of the candidates.
    initial_size : int or float
        Number of samples, or a fraction of ``len(y)`` in (0, 1).
    random_state : int, RandomState, Generator, SeedSequence or None
        Seeds the draw.

    Returns
    -------
    indices : ndarray of shape (initial_size,)
        Distinct indices into ``y``, shuffled.
    """
    n = len(y)
    size = n_initial(initial_size, n)
    if size > n:
        raise ValueError(
            f"initial_size={initial_size!r} asks for {size} initial labels but there are "
            f"only {n} samples."
        )
    rng = np.random.default_rng(random_state)
    order = rng.permutation(n)
    classes, y_idx = np.unique(np.asarray(y)[order], return_inverse=True)
    counts = np.bincount(y_idx, minlength=len(classes))
    quota = _quotas(counts, size, n, rng)
    picked = np.concatenate(
        [order[np.flatnonzero(y_idx == c)[: quota[c]]] for c in range(len(classes))]
    )
    return rng.permutation(picked)


def _quotas(counts: np.ndarray, size: int, n: int, rng) -> np.ndarray:
    """Proportional quotas, at least one per class, largest remainders first."""
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
    return quota
