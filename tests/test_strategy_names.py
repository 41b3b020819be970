"""Each registered strategy name is pinned to its algorithm.

Every test builds a tiny pool on which the name's look-alikes rank the samples differently,
and asserts the exact ranking worked out by hand (in the comments). A registry entry that
points at the wrong algorithm (``"margin"`` -> least-confident, ``"bald"`` -> variation
ratios, ``"coreset"`` -> BADGE ...) turns its test red. Only public API is used:
``get_strategy(name)(estimator, X_pool, n_instances, random_state)`` and the measure
functions of :mod:`skal.strategies`.

The estimator is :class:`TableModel`, whose outputs are fixed tables: it finds each sample by
its row (every pool row is distinct; most pools are just ``[[0], [1], ...]``, the sample id
in column 0), so chunking and row order do not matter.
"""

from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from skal.strategies import (
    STRATEGIES,
    QueryContext,
    bald,
    entropy,
    get_strategy,
    kl_divergence,
    least_confident,
    margin,
    mc_entropy,
    variation_ratios,
    vote_entropy,
)


class TableModel(ClassifierMixin, BaseEstimator):
    """A classifier whose outputs are looked up in fixed tables, one row per pool sample.

    Parameters
    ----------
    rows : array-like of shape (n, n_features)
        The pool; a sample is identified by its (distinct) row.
    proba : array-like of shape (n, n_classes)
        ``predict_proba``.
    passes : array-like of shape (T, n, n_classes)
        Stochastic forward passes; ``predict_proba_samples(X, n_samples)`` repeats them
        ``n_samples / T`` times, which leaves every MC measure unchanged.
    embedding : array-like of shape (n, dim)
        ``embed``.
    """

    def __init__(self, rows=None, proba=None, passes=None, embedding=None):
        self.rows = rows
        self.proba = proba
        self.passes = passes
        self.embedding = embedding

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def _ids(self, X):
        where = {tuple(r): i for i, r in enumerate(np.asarray(self.rows, dtype=float))}
        return np.array([where[tuple(r)] for r in np.asarray(X, dtype=float)], dtype=int)

    def predict_proba(self, X):
        return np.asarray(self.proba, dtype=float)[self._ids(X)]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_proba_samples(self, X, n_samples=20, random_state=None):
        passes = np.asarray(self.passes, dtype=float)
        if n_samples % len(passes):
            raise ValueError(f"TableModel has {len(passes)} passes; n_samples={n_samples}")
        return np.tile(passes, (n_samples // len(passes), 1, 1))[:, self._ids(X)]

    def embed(self, X, return_proba=False):
        emb = np.asarray(self.embedding, dtype=float)[self._ids(X)]
        return (emb, self.predict_proba(X)) if return_proba else emb


def ids(n):
    """A pool of ``n`` samples, each its id in column 0."""
    return np.arange(n, dtype=float)[:, None]


def rank(name, model, X, n_instances=None, random_state=0):
    n_instances = len(X) if n_instances is None else n_instances
    return np.asarray(get_strategy(name)(model, X, n_instances, random_state)).tolist()


# --------------------------------------------------------------- uncertainty sampling
# 4 classes, pool order D, C, A, B:
#   D = [.97, .01, .01, .01]  entropy .168  margin 1-(.97-.01) = .04  least_conf .03
#   C = [.45, .20, .20, .15]  entropy 1.288 margin 1-(.45-.20) = .75  least_conf .55
#   A = [.50, .50, 0, 0]      entropy .693  margin 1-(.50-.50) = 1.0  least_conf .50
#   B = [.40, .30, .30, 0]    entropy 1.089 margin 1-(.40-.30) = .90  least_conf .60
# entropy:         C > B > A > D  -> [1, 3, 2, 0]
# margin:          A > B > C > D  -> [2, 3, 1, 0]
# least_confident: B > C > A > D  -> [3, 1, 2, 0]
UNCERTAIN_PROBA = np.array([
    [0.97, 0.01, 0.01, 0.01],
    [0.45, 0.20, 0.20, 0.15],
    [0.50, 0.50, 0.00, 0.00],
    [0.40, 0.30, 0.30, 0.00],
])
# MC passes and embeddings that would rank the pool otherwise (a strategy reading them by
# mistake gives another order): pass 1 is sure of every sample, pass 2 of none.
UNCERTAIN_MODEL = TableModel(
    ids(4), UNCERTAIN_PROBA,
    passes=[np.eye(4)[[0, 1, 2, 3]] * 0.9 + 0.025, np.full((4, 4), 0.25)],
    embedding=[[0, 0], [1, 0], [5, 5], [0, 9]],
)


def test_pin_entropy():
    np.testing.assert_allclose(entropy(UNCERTAIN_PROBA), [0.1677, 1.2877, 0.6931, 1.0889],
                               atol=1e-4)
    assert rank("entropy", UNCERTAIN_MODEL, ids(4)) == [1, 3, 2, 0]
    assert rank("entropy", UNCERTAIN_MODEL, ids(4), n_instances=2) == [1, 3]


def test_pin_margin():
    np.testing.assert_allclose(margin(UNCERTAIN_PROBA), [0.04, 0.75, 1.0, 0.9], atol=1e-12)
    assert rank("margin", UNCERTAIN_MODEL, ids(4)) == [2, 3, 1, 0]
    assert rank("margin", UNCERTAIN_MODEL, ids(4), n_instances=2) == [2, 3]


def test_pin_least_confident():
    np.testing.assert_allclose(least_confident(UNCERTAIN_PROBA), [0.03, 0.55, 0.5, 0.6],
                               atol=1e-12)
    assert rank("least_confident", UNCERTAIN_MODEL, ids(4)) == [3, 1, 2, 0]
    assert rank("least_confident", UNCERTAIN_MODEL, ids(4), n_instances=2) == [3, 1]


# ------------------------------------------------- MC dropout and the default committee
# Four passes of 3-class probabilities per sample (sure = .98 for one class, .01 others):
#   0 agree:       [.98,.01,.01], [.90,.05,.05], twice  votes (4,0,0)
#   1 split:       [.50,.48,.02], [.48,.50,.02], twice  votes (2,2,0)
#   2 noise:       [.40,.30,.30] four times              votes (4,0,0)
#   3 two_one_one: sure 0, sure 0, sure 1, sure 2         votes (2,1,1)
#   4 three_one:   sure 0, sure 0, sure 0, sure 1         votes (3,1,0)
# mc_entropy = H(mean pass):            0: .269  1: .777  2: 1.089  3: 1.043  4: .618
#   -> [2, 3, 1, 4, 0]
# bald = H(mean) - mean H(pass):         0: .0154 1: .0002 2: 0     3: .931   4: .506
#   -> [3, 4, 0, 1, 2]  (noise: every pass the same, so 0 information)
# kl_divergence (mean KL(pass || mean)) is the same mutual information -> [3, 4, 0, 1, 2]
# variation_ratios = 1 - modal votes/4:  0: 0     1: .5    2: 0     3: .5     4: .25
#   -> [1, 3, 4, 0, 2]  (ties by index)
# vote_entropy = H(votes / 4):           0: 0     1: ln 2 = .693   2: 0
#                                        3: 1.040 (.5,.25,.25)     4: .562 (.75,.25)
#   -> [3, 1, 4, 0, 2]
SURE = np.array([[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98]])
MC_PASSES = np.stack([  # (4 passes, 5 samples, 3 classes)
    [[0.98, 0.01, 0.01], [0.90, 0.05, 0.05]] * 2,
    [[0.50, 0.48, 0.02], [0.48, 0.50, 0.02]] * 2,
    [[0.40, 0.30, 0.30]] * 4,
    SURE[[0, 0, 1, 2]],
    SURE[[0, 0, 0, 1]],
], axis=1)
# predict_proba (the deterministic pass) ranks the pool [4, 0, 2, 1, 3] by any uncertainty
# measure, unlike every MC measure: a strategy reading it instead of the passes fails.
MC_MODEL = TableModel(
    ids(5),
    proba=[[0.5, 0.3, 0.2], [0.8, 0.1, 0.1], [0.6, 0.2, 0.2], [0.9, 0.05, 0.05],
           [0.34, 0.33, 0.33]],
    passes=MC_PASSES,
    embedding=[[0, 0], [1, 1], [2, 0], [0, 3], [4, 4]],
)
MC_RANKINGS = {
    "mc_entropy": [2, 3, 1, 4, 0],
    "bald": [3, 4, 0, 1, 2],
    "kl_divergence": [3, 4, 0, 1, 2],
    "variation_ratios": [1, 3, 4, 0, 2],
    "vote_entropy": [3, 1, 4, 0, 2],
}


def test_mc_measures_on_the_hand_built_passes():
    expected = {
        mc_entropy: [0.2686, 0.7773, 1.0889, 1.0431, 0.6181],
        bald: [0.0154, 0.0002, 0.0, 0.9312, 0.5062],
        kl_divergence: [0.0154, 0.0002, 0.0, 0.9312, 0.5062],
        variation_ratios: [0.0, 0.5, 0.0, 0.5, 0.25],
        vote_entropy: [0.0, np.log(2), 0.0, 1.0397, 0.5623],
    }
    for measure, values in expected.items():
        np.testing.assert_allclose(measure(MC_PASSES), values, atol=1e-4, err_msg=str(measure))


def _check_mc(name):
    assert rank(name, MC_MODEL, ids(5)) == MC_RANKINGS[name]
    assert rank(name, MC_MODEL, ids(5), random_state=7) == MC_RANKINGS[name]
    assert rank(name, MC_MODEL, ids(5), n_instances=2) == MC_RANKINGS[name][:2]


def test_pin_mc_entropy():
    _check_mc("mc_entropy")


def test_pin_bald():
    _check_mc("bald")


def test_pin_variation_ratios():
    _check_mc("variation_ratios")


def test_pin_vote_entropy():
    _check_mc("vote_entropy")


def test_pin_kl_divergence():
    _check_mc("kl_divergence")


def test_mc_look_alikes_really_differ():
    """The pins above are only worth something if the rankings are pairwise different."""
    rankings = list(map(tuple, MC_RANKINGS.values()))
    assert len(set(rankings)) == len(rankings) - 1  # only bald == kl_divergence (see above)
    # predict_proba ranks [4, 0, 2, 1, 3] by any plain uncertainty measure, unlike them all
    for name in ("entropy", "margin", "least_confident"):
        assert rank(name, MC_MODEL, ids(5)) == [4, 0, 2, 1, 3]


# ------------------------------------------------------------------ core-set and BADGE
# 2 classes, 2-D embeddings h, probabilities p:
#   0: h=( 3,0) p=(.9,.1)   1: h=(0,1) p=(.6,.4)   2: h=(0,2) p=(.7,.3)
#   3: h=( 0,2) p=(.7,.3) (a duplicate of 2)        4: h=(-5,0) p=(1, 0)
# coreset (no labeled set given: the first centre is the mean embedding (-.4, 1)):
#   squared distances to it: 0: 12.56  1: .16  2: 1.16  3: 1.16  4: 22.16 -> pick 4;
#   nearest-centre distances then 0: 12.56 1: .16 2: 1.16 3: 1.16       -> pick 0;
#   then (centre (3,0) is farther from all)  1: .16 2: 1.16 3: 1.16     -> pick 2;
#   then 3 is at 0 from 2, 1 at min(.16, 1)                              -> pick 1, then 3.
#   -> [4, 0, 2, 1, 3]; it draws nothing random. (Ranking by distance to the mean alone
#   would give [4, 0, 2, 3, 1]: the greedy never takes a duplicate of a picked sample.)
# badge: gradient g = (p - onehot(argmax p)) (x) h, |g|^2 = |p - onehot|^2 |h|^2:
#   0: .02 * 9 = .18   1: .32 * 1 = .32   2: .18 * 4 = .72   3: .72   4: 0 * 25 = 0
#   -> first pick 2 (largest; ties by index), not the most uncertain (1) nor coreset's (4).
#   Then k-means++: the next is drawn with probability ~ |g_j - g_2|^2
#   = |g_j|^2 + |g_2|^2 - 2 <a_j, a_2> <h_j, h_2>:
#   0: .18 + .72 - 0 = .90   1: .32 + .72 - 2 * .24 * 2 = .08   3: 0 (duplicate)   4: .72
#   -> P(second = 0, 1, 4) = (.90, .08, .72) / 1.70 = (.529, .047, .424); never 3.
DIVERSE_MODEL = TableModel(
    ids(5),
    proba=[[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.7, 0.3], [1.0, 0.0]],
    passes=np.full((2, 5, 2), 0.5),
    embedding=[[3, 0], [0, 1], [0, 2], [0, 2], [-5, 0]],
)


def test_pin_coreset():
    for seed in (0, 1, 12345):
        assert rank("coreset", DIVERSE_MODEL, ids(5), random_state=seed) == [4, 0, 2, 1, 3]
    assert rank("coreset", DIVERSE_MODEL, ids(5), n_instances=2) == [4, 0]


def test_pin_badge():
    n_seeds = 1000
    firsts, seconds = Counter(), Counter()
    for seed in range(n_seeds):
        first, second = rank("badge", DIVERSE_MODEL, ids(5), n_instances=2, random_state=seed)
        firsts[first] += 1
        seconds[second] += 1
    assert firsts == {2: n_seeds}
    assert 3 not in seconds  # the duplicate of the first pick is at gradient distance 0
    freq = {i: seconds[i] / n_seeds for i in (0, 1, 4)}
    expected = {0: 0.90 / 1.70, 1: 0.08 / 1.70, 4: 0.72 / 1.70}
    for i in expected:  # ~4 standard errors (sd <= .016 with 1000 seeds)
        assert abs(freq[i] - expected[i]) < 0.06, (freq, expected)
    # the same seed, the same batch
    assert rank("badge", DIVERSE_MODEL, ids(5), random_state=3) == rank(
        "badge", DIVERSE_MODEL, ids(5), random_state=3)


# -------------------------------------------------------------------------- density
# Raw features (what density measures similarity on), 2 classes:
#   0: (2,0) p=(.8,.2)   1: (0,1) p=(.55,.45)   2: (3,0) p=(.9,.1)   3: (1,0) p=(.7,.3)
# Unit rows (1,0),(0,1),(1,0),(1,0) sum to (3,1): mean cosine to the pool is 3/4 for
# 0, 2, 3 and 1/4 for the outlier 1.
# entropy: 0: .5004  1: .6881  2: .3251  3: .6109 -> plain entropy ranks [1, 3, 0, 2]
# density = entropy * mean cosine:
#   0: .5004*.75 = .3753  1: .6881*.25 = .1720  2: .3251*.75 = .2438  3: .6109*.75 = .4582
#   -> [3, 0, 2, 1]
# (with margin instead of entropy: .3, .225, .15, .45 -> [3, 0, 1, 2]; the embedding table
# puts the outlier in the crowd, so density on embeddings would rank otherwise too)
DENSITY_X = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0], [1.0, 0.0]])
DENSITY_MODEL = TableModel(
    DENSITY_X,
    proba=[[0.8, 0.2], [0.55, 0.45], [0.9, 0.1], [0.7, 0.3]],
    passes=np.full((2, 4, 2), 0.5),
    embedding=[[0, 1], [1, 0], [0, 1], [-1, 0]],
)


def test_pin_density():
    assert rank("density", DENSITY_MODEL, DENSITY_X) == [3, 0, 2, 1]
    assert rank("density", DENSITY_MODEL, DENSITY_X, n_instances=2) == [3, 0]
    assert rank("entropy", DENSITY_MODEL, DENSITY_X) == [1, 3, 0, 2]


# ------------------------------------------------------------------ diverse mini-batch
# 2 classes; margin score 1 - |p0 - p1|; embeddings in two far clusters A and B:
#   0 a_left  h=(-1,0)  p0=.525 -> .95     3 b_left  h=( 9,10) p0=.75 -> .5
#   2 a_mid   h=( 0,0)  p0=.55  -> .90     1 b_mid   h=(10,10) p0=.70 -> .6
#   4 a_right h=( 1,0)  p0=.525 -> .95     5 b_right h=(11,10) p0=.75 -> .5
# margin, 2 instances: the two most uncertain, both in A -> [0, 4]
# diverse_margin, 2 instances: the 10 x 2 most uncertain are all 6; k-means with 2 clusters
# finds A and B; margin-weighted centres: A (-.95 + 0 + .95) / 2.8 = (0,0) -> a_mid (2),
# B (9*.5 + 10*.6 + 11*.5) / 1.6 = (10,10) -> b_mid (1); most uncertain first -> [2, 1]
DMB_MODEL = TableModel(
    ids(6),
    proba=[[p, 1 - p] for p in (0.525, 0.70, 0.55, 0.75, 0.525, 0.75)],
    passes=np.full((2, 6, 2), 0.5),
    embedding=[[-1, 0], [10, 10], [0, 0], [9, 10], [1, 0], [11, 10]],
)


def test_pin_diverse_margin():
    for seed in range(5):
        assert rank("diverse_margin", DMB_MODEL, ids(6), n_instances=2,
                    random_state=seed) == [2, 1]
    assert rank("margin", DMB_MODEL, ids(6), n_instances=2) == [0, 4]


# ----------------------------------------------------------- cold start and auto
# One raw feature (PCA of one standardised feature is a rescaling: clusters, neighbours and
# coverage are as on the raw values), 2 classes (the model's classes_). Pool order:
#   0: 21   1: 0   2: 4   3: 2   4: 1   5: 3   6: 20   -> A = {0, 1, 2, 3, 4}, B = {20, 21}
# typiclust, 2 instances, no label: k-means with 0 + 2 clusters finds A and B. The largest, A,
# gives its most typical sample: mean distance to its 4 neighbours 2: (1+1+2+2)/4 = 1.5,
# 1 and 3: 1.75, 0 and 4: 2.5 -> 2 (row 3). Then B: 20 and 21 tie -> the lowest row, 0.
#   -> [3, 0]
# probcover, 2 instances: delta from 2 k-means clusters (A, B) and purity .8: distances to
# the other cluster A: 20, 19, 18, 17, 16 (from 0..4 to 20), B: 16, 17 (to 4); sorted
# 16 16 17 17 18 19 20, the .2 quantile 16.2 -> delta just below 16.2. Balls: 4 covers A and
# 20 (16 < 16.2) = 6, every other point of A 5, 20 covers B = 2, 21 covers B = 2 -> 4 first
# (row 2); then only 21 is uncovered, covered by 20 or 21 -> the lowest row, 0.
#   -> [2, 0]   (the most typical, 2, is not the best cover; the most central of all, 3, is
#   not either: coverage, not typicality)
# auto with no label: probcover -> [2, 0]; with 6 labels (3 per class x 2 classes):
# diverse_margin, pinned on DMB_MODEL above -> [2, 1]; with 5, probcover, which there
# (ids 0..5 evenly spaced, no labeled rows given: every ball covers as many) takes the
# lowest rows, 0 then 1 -> [0, 1].
COLD_X = np.array([[21.0], [0.0], [4.0], [2.0], [1.0], [3.0], [20.0]])
COLD_MODEL = TableModel(
    COLD_X, proba=np.full((7, 2), 0.5), passes=np.full((2, 7, 2), 0.5),
    embedding=np.column_stack([np.arange(7.0), np.zeros(7)]),
).fit(COLD_X[:2], [0, 1])


def test_pin_typiclust():
    for seed in range(5):
        assert rank("typiclust", COLD_MODEL, COLD_X, n_instances=2, random_state=seed) == [3, 0]


def test_pin_probcover():
    for seed in range(5):
        assert rank("probcover", COLD_MODEL, COLD_X, n_instances=2, random_state=seed) == [2, 0]


def test_pin_auto():
    for seed in range(3):
        assert rank("auto", COLD_MODEL, COLD_X, n_instances=2, random_state=seed) == [2, 0]
    model = DMB_MODEL  # no classes_: the classes are the distinct labels so far, 2
    six = QueryContext(random_state=0, y_labeled=np.arange(6) % 2)
    assert get_strategy("auto")(model, ids(6), 2, context=six).tolist() == [2, 1]
    assert get_strategy("probcover")(model, ids(6), 2, context=six).tolist() == [0, 1]
    five = QueryContext(random_state=0, y_labeled=np.arange(5) % 2)
    assert get_strategy("auto")(model, ids(6), 2, context=five).tolist() == [0, 1]


# -------------------------------------------------------------------------- random
def test_pin_random():
    n_pool, k, n_seeds = 20, 5, 400
    X = ids(n_pool)
    # a model every other strategy ranks the same way whatever the seed
    model = TableModel(
        X,
        proba=np.column_stack([np.linspace(0.5, 1, n_pool), np.linspace(0.5, 0, n_pool)]),
        passes=np.full((2, n_pool, 2), 0.5),
        embedding=np.column_stack([np.arange(n_pool), np.zeros(n_pool)]),
    )
    picks = [rank("random", model, X, n_instances=k, random_state=s) for s in range(n_seeds)]
    assert all(len(set(p)) == k and set(p) <= set(range(n_pool)) for p in picks)
    assert picks[0] == rank("random", model, X, n_instances=k, random_state=0)  # same seed
    assert len({tuple(p) for p in picks}) > n_seeds * 0.95  # different seeds differ
    # uniform: each sample picked k / n_pool = 1/4 of the time: 100 of 400 (sd 8.7)
    counts = Counter(i for p in picks for i in p)
    assert all(60 <= counts[i] <= 140 for i in range(n_pool)), counts
    # ... and in first place 1/20 of the time: 20 of 400 (sd 4.4)
    firsts = Counter(p[0] for p in picks)
    assert all(firsts[i] <= 40 for i in range(n_pool)), firsts


# ---------------------------------------------------------------------- rare class
# labels so far: three of class 0, one of class 1. Predicted class and margin uncertainty:
#   0: [.55, .45] class 0, 1-(.55-.45) = .9     3: [.95, .05] class 0, .1
#   1: [.60, .40] class 0, .8                   4: [.20, .80] class 1, .4
#   2: [.90, .10] class 0, .2                   5: [.10, .90] class 1, .2
# rare_class: class 1 first (fewest labels), its most uncertain (4), then class 0's (0),
# round-robin: 5, then 1 -> [4, 0, 5, 1, 2, 3]; margin alone would give [0, 1, 4, ...]
RARE_MODEL = TableModel(ids(6), [[.55, .45], [.6, .4], [.9, .1], [.95, .05], [.2, .8],
                                 [.1, .9]]).fit(None, [0, 1])


def test_pin_rare_class():
    context = QueryContext(random_state=0, y_labeled=np.array([0, 0, 0, 1]))
    assert get_strategy("rare_class")(RARE_MODEL, ids(6), 6, context=context).tolist() == [
        4, 0, 5, 1, 2, 3]
    assert rank("margin", RARE_MODEL, ids(6), n_instances=3) == [0, 1, 4]
    # the other way round (class 0 rarer): class 0's most uncertain first
    flipped = QueryContext(random_state=0, y_labeled=np.array([1, 1, 1, 0]))
    assert get_strategy("rare_class")(RARE_MODEL, ids(6), 2, context=flipped).tolist() == [0, 4]


# ------------------------------------------------------------------------ regression
class TableRegressor(RegressorMixin, BaseEstimator):
    """A regressor whose mean, std and MC passes are fixed tables, one row per pool sample
    (found by its row, as :class:`TableModel`)."""

    def __init__(self, rows=None, mean=None, std=None, passes=None):
        self.rows = rows
        self.mean = mean
        self.std = std
        self.passes = passes

    def fit(self, X, y):
        self.fitted_ = True
        return self

    _ids = TableModel._ids

    def predict(self, X, return_std=False):
        mean = np.asarray(self.mean, dtype=float)[self._ids(X)]
        return (mean, np.asarray(self.std, dtype=float)[self._ids(X)]) if return_std else mean

    def predict_samples(self, X, n_samples=20, random_state=None):
        passes = np.asarray(self.passes, dtype=float)
        return np.tile(passes, (n_samples // len(passes), 1))[:, self._ids(X)]


class PassesOnlyRegressor(TableRegressor):
    """The same tables, with no ``return_std``: "variance" reads the MC passes."""

    def predict(self, X):
        return np.asarray(self.mean, dtype=float)[self._ids(X)]


# pool ids 0..3, predictions 0, 1, 2, 3:
#   std                 .1  .5  .3  .2   -> variance (std source):   [1, 2, 3, 0]
#   passes mean +- d,  d=.9  0  .1  .2   -> variance (MC source):    [0, 3, 2, 1]
# greedy (iGS) from one label x=-1, y=0: dx 1 2 3 4, dy 0 1 2 3, products 0 2 6 12 -> 3
#   first; then against (x=3, y=3): sample 2 -> 1*1 = 1, sample 1 -> min(2, 2*2) = 2,
#   sample 0 -> 0: [3, 1, 2, 0] (a variance look-alike would give neither order)
REG_MEAN = [0.0, 1.0, 2.0, 3.0]
REG_PASSES = [np.add(REG_MEAN, [0.9, 0, 0.1, 0.2]), np.subtract(REG_MEAN, [0.9, 0, 0.1, 0.2])]


def test_pin_variance():
    gp_like = TableRegressor(ids(4), REG_MEAN, std=[0.1, 0.5, 0.3, 0.2], passes=REG_PASSES)
    assert rank("variance", gp_like, ids(4)) == [1, 2, 3, 0]
    mc_like = PassesOnlyRegressor(ids(4), REG_MEAN, std=None, passes=REG_PASSES)
    assert rank("variance", mc_like, ids(4)) == [0, 3, 2, 1]


def test_pin_greedy():
    model = TableRegressor(np.r_[ids(4), [[-1.0]]], REG_MEAN + [0.0], std=[1.0] * 5,
                           passes=[np.zeros(5)] * 2)
    context = QueryContext(random_state=0, X_labeled=np.array([[-1.0]]),
                           y_labeled=np.array([0.0]))
    assert get_strategy("greedy")(model, ids(4), 4, context=context).tolist() == [3, 1, 2, 0]


# -------------------------------------------------------------------------- multi-label
# Two labels, p(label applies) per sample; each measure puts another sample first:
#   p = (.1, .9)  (.6, .05)  (.9, .7)  (.8, .2)
#   mean binary entropy  .325 .436 .468 .500                  -> [3, 2, 1, 0]
#   binary minimum 1 - min|2p-1|  .2 .8 .6 .4                 -> [1, 2, 3, 0]
#   max loss (f = 2p-1; +1 on the likeliest label)  .4 .9 1.6 .8 -> [2, 1, 3, 0]
#   mean max loss (mean over one-label hypotheses)  1.3 1.05 1.0 1.1 -> [0, 3, 1, 2]
MULTILABEL_MODEL = TableModel(ids(4), [[0.1, 0.9], [0.6, 0.05], [0.9, 0.7], [0.8, 0.2]])


def test_pin_ml_entropy():
    assert rank("ml_entropy", MULTILABEL_MODEL, ids(4)) == [3, 2, 1, 0]


def test_pin_ml_binary_minimum():
    assert rank("ml_binary_minimum", MULTILABEL_MODEL, ids(4)) == [1, 2, 3, 0]


def test_pin_ml_max_loss():
    assert rank("ml_max_loss", MULTILABEL_MODEL, ids(4)) == [2, 1, 3, 0]


def test_pin_ml_mean_max_loss():
    assert rank("ml_mean_max_loss", MULTILABEL_MODEL, ids(4)) == [0, 3, 1, 2]


# ------------------------------------------------------------------------ coverage
def test_every_registered_name_has_a_pin_test():
    pinned = {name.removeprefix("test_pin_") for name in globals() if
              name.startswith("test_pin_")}
    assert set(STRATEGIES) <= pinned, f"no pin test for {sorted(set(STRATEGIES) - pinned)}"



def test_auto_is_described_once_and_shown_everywhere():
    import pathlib

    import skal.strategies
    from skal.strategies import AUTO_SUMMARY

    readme = pathlib.Path(__file__).parents[1] / "README.md"
    for where, text in (("README.md", readme.read_text()),
                        ("skal.strategies", skal.strategies.__doc__)):
        assert AUTO_SUMMARY in " ".join(text.split()), f"{where} describes 'auto' otherwise"
