"""Cold-start strategies: TypiClust and ProbCover, on an embedding that exists before any label.

With a handful of labels a model's uncertainty is mostly noise, and uncertainty sampling does
worse than random (Hacohen et al. 2022). These strategies ignore the model's predictions and
pick *representative* samples from the geometry of the pool: the most typical sample of each
large unlabeled cluster (TypiClust), or the centres of balls that cover the most of the pool
(ProbCover). Both see the pool through an embedding that needs no training by default: the
PCA of the standardised raw features, fitted on the pool at query time (raw features that
are not numbers are read through a Pipeline's own preprocessing).

Large pools: both work on at most ``max_candidates`` pool rows, drawn uniformly with the
query's seed in one pass over the pool chunks; the other rows are never picked.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skal._pool import chunk_slices, iter_chunks, take_rows
from skal.strategies._base import SCORE_DECIMALS, QueryStrategy
from skal.strategies._features import (
    NUMBERS_ALTERNATIVE,
    InputFeatures,
    features_of,
    n_classes,
    query_seed,
)

__all__ = ["RAW_ALTERNATIVE", "ProbCover", "TypiClust", "pca_embedding"]

EMBEDDINGS = ("pca", "raw", "model")
#: What to do instead when the raw features are not numbers.
RAW_ALTERNATIVE = (
    NUMBERS_ALTERNATIVE + ", or use embedding='model' with a model that has embed "
    "(skal.CNNClassifier)"
)
_PCA_COMPONENTS = 32
_MAX_CLUSTERS = 500  # TypiClust's reference implementation caps k-means there too
_MINIBATCH_WORK = 10_000_000  # points x clusters above which k-means goes mini-batch
_BLOCK_ELEMENTS = 1 << 20  # float64 temporaries per distance block: a few MiB
_DEFAULT_CLASSES = 10  # ProbCover's automatic delta when no class is known yet
_JUST_BELOW = 1.0 - 1e-6  # the automatic delta: just below the purity quantile


# ------------------------------------------------------------------ the embedding
def _sample_rows(X, limit: int, rng, context, transform):
    """At most ``limit`` rows of ``X``, drawn uniformly in one pass over its chunks.

    Each row gets a uniform key from ``rng``, drawn in pool order (so the draw does not
    depend on the chunking); the rows with the ``limit`` smallest keys are kept -- and only
    they are transformed. Returns their indices (ascending) and transformed rows.
    """
    keys, idx, rows = [], [], []
    n_kept, threshold = 0, np.inf
    for offset, chunk in iter_chunks(X, context.pool_batch_size):
        if context.check_chunk is not None:
            chunk = context.check_chunk(chunk)
        if len(chunk) == 0:
            continue
        k = rng.random(len(chunk))
        keep = np.flatnonzero(k < threshold)
        if not len(keep):
            continue
        part = chunk if len(keep) == len(chunk) else take_rows(chunk, keep)
        keys.append(k[keep])
        idx.append(keep + offset)
        rows.append(transform(part))
        n_kept += len(keep)
        if n_kept > 2 * limit:  # memory O(limit + chunk)
            keys, idx, rows = _smallest_keys(keys, idx, rows, limit)
            n_kept, threshold = limit, keys[0].max()
    if not keys:
        return np.empty(0, dtype=np.intp), np.empty((0, 0))
    keys, idx, rows = _smallest_keys(keys, idx, rows, limit)
    order = np.argsort(idx[0], kind="stable")
    return idx[0][order], rows[0][order]


def _smallest_keys(keys, idx, rows, limit):
    k, i, r = np.concatenate(keys), np.concatenate(idx), np.concatenate(rows)
    best = np.argsort(k, kind="stable")[:limit]
    return [k[best]], [i[best]], [r[best]]


def pca_embedding(F: np.ndarray, L: np.ndarray, seed: int):
    """Standardise, then PCA to at most 32 components, both fitted on the pool ``F``."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(F)
    F = scaler.transform(F)
    L = scaler.transform(L) if len(L) else np.empty((0, F.shape[1]))
    if len(F) < 2:  # nothing to rotate
        return F, L
    pca = PCA(n_components=min(_PCA_COMPONENTS, F.shape[1], len(F)), random_state=seed).fit(F)
    return pca.transform(F), (pca.transform(L) if len(L) else np.empty((0, pca.n_components_)))


class _PoolGeometry(QueryStrategy):
    """What TypiClust and ProbCover share: their options and the embedding of the query."""

    _parameter_constraints: dict = {
        "embedding": [StrOptions(set(EMBEDDINGS))],
        "max_candidates": [Interval(Integral, 1, None, closed="left")],
    }

    requires = ()  # "model" reads embed where the model has one, else what it sees

    def _embed(self, estimator, X_pool, context, rng):
        """(pool indices of the candidates, their embedding, the labeled set's, a seed)."""
        if self.embedding == "model":
            def transform(part):
                return np.asarray(features_of(estimator, part, strategy=repr(self)),
                                  dtype=np.float64)
        else:  # one for the pool and the labeled set: both in the same space
            transform = InputFeatures(estimator, f"query_strategy={self!r}", RAW_ALTERNATIVE)
        idx, F = _sample_rows(X_pool, self.max_candidates, rng, context, transform)
        L = np.empty((0, F.shape[1]))
        if context.X_labeled is not None:
            _, L = _sample_rows(context.X_labeled, self.max_candidates, rng, context, transform)
            L = L.reshape(len(L), F.shape[1]) if len(L) else np.empty((0, F.shape[1]))
        seed = query_seed(rng)
        if self.embedding == "pca":
            F, L = pca_embedding(F, L, seed)
        return idx, F, L, seed


def _cluster(P: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """k-means labels of the rows of ``P`` (mini-batch k-means when it would be slow)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.exceptions import ConvergenceWarning

    if n_clusters < 2:
        return np.zeros(len(P), dtype=np.intp)
    if len(P) * n_clusters > _MINIBATCH_WORK:
        km = MiniBatchKMeans(n_clusters, batch_size=4096, n_init=3, random_state=seed)
    else:
        km = KMeans(n_clusters, n_init=3, random_state=seed)
    with warnings.catch_warnings():
        # fewer distinct points than clusters (duplicates): some clusters stay empty
        warnings.simplefilter("ignore", ConvergenceWarning)
        return km.fit_predict(P).astype(np.intp)


def _typicality(M: np.ndarray, n_neighbors: int) -> np.ndarray:
    """1 / (mean distance to the ``n_neighbors`` nearest others + 1e-5); 0 when alone."""
    from sklearn.neighbors import NearestNeighbors

    if len(M) < 2:
        return np.zeros(len(M))
    dist, _ = NearestNeighbors(n_neighbors=min(n_neighbors, len(M) - 1)).fit(M).kneighbors()
    return np.round(1.0 / (dist.mean(axis=1) + 1e-5), SCORE_DECIMALS)


class TypiClust(_PoolGeometry):
    """TypiClust (Hacohen et al. 2022): the most typical sample of each large new cluster.

    The pool's candidates and the labeled set are embedded together and clustered by
    k-means into ``n_labeled + n_instances`` clusters (at most 500, but never fewer than
    ``n_instances``; mini-batch k-means when points x clusters exceeds 10 million). The
    batch is built one sample at a time: among the clusters with the fewest labeled or
    already picked samples, the largest (ties: the one with the lowest pool index) gives its
    most *typical* unpicked pool sample -- typicality being ``1 / (mean distance to its
    n_neighbors nearest neighbours in the cluster + 1e-5)``, with ``n_neighbors`` capped
    by the cluster's size. So the first picks come from the largest clusters without any
    label, each a point in the dense middle of its cluster rather than an outlier.

    Scores are the typicality of each pick, in selection order (not sorted). k-means is
    seeded from ``random_state``: the same seed gives the same batch.

    **The embedding** must exist before any label, since this is a cold-start strategy:

    * ``"pca"`` (default): the raw features, flattened and standardised, projected on their
      first ``min(32, n_features, n_candidates)`` principal components (no whitening), all
      fitted on the pool's candidates at query time; the labeled set goes through the same
      projection. Needs no training and works at zero labels; it is a good space for small
      inputs such as sklearn's digits or MNIST-1D. For natural images a self-supervised
      embedding (SimCLR, DINO, ...) is much better -- the paper uses one: compute it
      once, give it as the pool's features, and use ``"raw"``. Raw features that are not
      numbers (a DataFrame with a string column, a sparse matrix, missing values) are read
      through the estimator's own preprocessing when it is a Pipeline: every step but the
      last, ``pipeline[:-1].transform(X)`` (e.g. a ``ColumnTransformer`` with a
      ``OneHotEncoder``), densified. A Pipeline not fitted yet (a query before any fit)
      has its preprocessing cloned and fitted without labels on the pool's first chunk
      (``pool_batch_size`` rows: all of a smaller pool). A bare estimator given such
      features is an error that says so.
    * ``"raw"``: the flattened features as they are (through a Pipeline's preprocessing
      when they are not numbers, as above).
    * ``"model"``: the estimator's ``embed`` (the penultimate layer of
      :class:`skal.CNNClassifier` and :class:`skal.KerasClassifier`) -- a network trained
      on a few labels, so better once the model has learned something. For a model without
      ``embed``, the features its last step sees (``pipeline[:-1].transform(X)``, or the
      raw features of a bare estimator).

    Parameters
    ----------
    embedding : {"pca", "raw", "model"}, default="pca"
        The space the pool is clustered in (see above).
    n_neighbors : int, default=20
        Neighbours in the typicality (the paper's k = 20).
    max_candidates : int, default=20000
        Pool rows clustered at most: a larger pool is subsampled uniformly with the query's
        seed (the rest is never picked), and so is a larger labeled set.

    Notes
    -----
    Memory: O(max_candidates x (n_features + 32)); k-means is O(points x clusters) per
    iteration, typicality O(cluster size^2) per cluster picked from, in blocks.

    References
    ----------
    Hacohen, G., Dekel, A. & Weinshall, D. (2022). Active Learning on a Budget: Opposite
    Strategies Suit High and Low Budgets. ICML.

    Examples
    --------
    Three blobs, three picks: one from each, near its centre.

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import QueryContext, TypiClust, select_batch
    >>> rng = np.random.default_rng(0)
    >>> centres = np.array([[0, 0], [10, 0], [0, 10]])
    >>> X = np.concatenate([c + rng.standard_normal((30, 2)) for c in centres])
    >>> model = LogisticRegression().fit(X[[0, 30]], [0, 1])
    >>> idx, typicality = select_batch(TypiClust(), model, X, 3, QueryContext(random_state=0))
    >>> sorted((idx // 30).tolist())
    [0, 1, 2]
    >>> bool(np.all(np.linalg.norm(X[idx] - centres[idx // 30], axis=1) < 1.5))
    True
    """

    _parameter_constraints: dict = {
        **_PoolGeometry._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, embedding: str = "pca", n_neighbors: int = 20,
                 max_candidates: int = 20_000) -> None:
        self.embedding = embedding
        self.n_neighbors = n_neighbors
        self.max_candidates = max_candidates

    def select(self, estimator, X_pool, n_instances, context):
        """The most typical samples of the largest clusters without labels, in pick order."""
        rng = np.random.default_rng(context.random_state)
        idx, E, L, seed = self._embed(estimator, X_pool, context, rng)
        k = min(int(n_instances), len(E))
        P = np.concatenate([E, L])  # candidates first: row order is pool order
        n_clusters = min(len(P), max(k, min(len(L) + k, _MAX_CLUSTERS)))
        labels = _cluster(P, n_clusters, seed)
        n_c = int(labels.max()) + 1
        size = np.bincount(labels, minlength=n_c)
        taken = np.bincount(labels[len(E):], minlength=n_c)  # labeled, then picked too
        left = np.bincount(labels[: len(E)], minlength=n_c)  # pool samples not picked
        first = np.full(n_c, len(P))
        np.minimum.at(first, labels, np.arange(len(P)))  # ties: the lowest pool index
        cache: dict[int, tuple] = {}
        chosen = np.zeros(len(E), dtype=bool)
        picked, scores = [], []
        for _ in range(k):
            order = np.lexsort((first, -size, taken))
            c = int(order[left[order] > 0][0])
            if c not in cache:
                members = np.flatnonzero(labels == c)
                cache[c] = members, _typicality(P[members], self.n_neighbors)
            members, typ = cache[c]
            free = (members < len(E)) & ~chosen[np.minimum(members, len(E) - 1)]
            j = int(np.argmax(np.where(free, typ, -np.inf)))  # ties: the lowest index
            chosen[members[j]] = True
            taken[c] += 1
            left[c] -= 1
            picked.append(members[j])
            scores.append(typ[j])
        return idx[np.asarray(picked, dtype=np.intp)], np.asarray(scores, dtype=float)


# ------------------------------------------------------------------ ProbCover
def _sq_dists(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Squared distances of the rows of ``A`` to those of ``B`` (a small block)."""
    d2 = np.einsum("ij,ij->i", A, A)[:, None] + np.einsum("ij,ij->i", B, B)[None, :]
    return np.maximum(d2 - 2.0 * (A @ B.T), 0.0)


def _blocks(n: int, width: int):
    return chunk_slices(n, max(1, _BLOCK_ELEMENTS // max(width, 1)))


def _ball_counts(E: np.ndarray, U: np.ndarray, d2max: float) -> np.ndarray:
    """For each row of ``E``, how many rows of ``U`` lie within ``sqrt(d2max)``."""
    out = np.zeros(len(E), dtype=np.int64)
    if len(U):
        for sl in _blocks(len(E), len(U)):
            out[sl] = (_sq_dists(E[sl], U) <= d2max).sum(axis=1)
    return out


def _min_dist(E: np.ndarray, B: np.ndarray, labels=None) -> np.ndarray:
    """Distance of each row of ``E`` to its nearest row of ``B``; with ``labels`` (``B``
    being ``E``), to its nearest row of another label (inf if none)."""
    out = np.full(len(E), np.inf)
    for sl in _blocks(len(E), len(B)):
        d2 = _sq_dists(E[sl], B)
        if labels is not None:
            d2[labels[sl][:, None] == labels[None, :]] = np.inf
        out[sl] = d2.min(axis=1)
    return np.sqrt(out)


def _purity_delta(E: np.ndarray, n_clusters: int, purity: float, seed: int) -> float:
    """The largest radius whose balls are pure for a ``purity`` share of the points.

    Points are labeled by k-means with ``n_clusters`` clusters; the ball around ``x`` is pure
    while it is smaller than the distance from ``x`` to its nearest point of another cluster,
    so the radius is (just below) that distance's ``1 - purity`` quantile.
    """
    labels = _cluster(E, min(n_clusters, len(E)), seed)
    d_other = _min_dist(E, E, labels)
    d_other = d_other[np.isfinite(d_other) & (d_other > 0)]
    if not len(d_other):  # a single cluster: one ball covers all
        return np.inf
    return float(np.quantile(d_other, 1.0 - purity)) * _JUST_BELOW


class ProbCover(_PoolGeometry):
    """ProbCover (Yehuda et al. 2022): greedy maximum coverage by balls of radius delta.

    A sample *covers* the pool's candidates within distance ``delta`` of it in the
    embedding (see :class:`TypiClust` for ``embedding``). Candidates within ``delta`` of a
    labeled sample start covered. The batch is built greedily: each pick is the candidate
    whose ball covers the most not-yet-covered candidates (ties: the lowest pool index).
    Once everything is covered, the remaining picks are drawn at random (seeded), as in the
    reference implementation. Scores are the number of candidates each pick newly covers
    (non-increasing; 0 for the random picks).

    **The radius.** ``delta="auto"`` implements the paper's purity heuristic in closed
    form: label the candidates by k-means with as many clusters as classes (the estimator's
    ``classes_``, else the distinct labels so far, else 10); a ball around ``x`` is *pure*
    (one cluster only) while ``delta`` is below ``x``'s distance to the nearest candidate of
    another cluster; the largest ``delta`` with at least a ``purity`` share of pure balls is
    just below the ``1 - purity`` quantile of these distances. (A fixed quantile of
    nearest-neighbour distances would ignore the class structure the balls are meant to
    respect; a fixed number would depend on the embedding's scale.)

    The paper asks for purity >= 0.95, on self-supervised embeddings. On the PCA embedding
    that makes the balls too small for a low budget: on sklearn's digits (1,797 samples)
    the pseudo-label purity matches the true-class purity of the balls (0.98 at 0.95, 0.82
    at 0.8), but at 0.95 an average ball holds 6 samples and 100 picks cover 45% of the
    pool -- the greedy chases the densest spots and did no better than random sampling
    (LogisticRegression, 10 to 100 labels, 5 seeds) -- while at 0.8 a ball holds 20, 100
    picks cover 78% and the mean accuracy over the curve is 5 points above random (the
    same within a point for purities 0.3 to 0.8). Hence the default 0.8; raise it for a
    stronger embedding.

    Parameters
    ----------
    delta : float or "auto", default="auto"
        Ball radius in the embedding (> 0), or the purity heuristic.
    purity : float, default=0.8
        Share of pure balls for ``delta="auto"`` (the paper's alpha, 0.95 there), in
        (0, 1).
    embedding : {"pca", "raw", "model"}, default="pca"
        The space of the balls (see :class:`TypiClust`).
    max_candidates : int, default=20000
        Pool rows considered at most (a uniform, seeded subsample of a larger pool).

    Notes
    -----
    Memory O(max_candidates x (n_features + 32)): the ball graph is never stored;
    coverage counts are updated from blocked distance computations, O(candidates^2 x dim)
    in all, whatever the batch size.

    References
    ----------
    Yehuda, O., Dekel, A., Hacohen, G. & Weinshall, D. (2022). Active Learning Through a
    Covering Lens. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.strategies import ProbCover, QueryContext, select_batch
    >>> rng = np.random.default_rng(0)
    >>> centres = np.array([[0, 0], [10, 0], [0, 10]])
    >>> X = np.concatenate([c + rng.standard_normal((30, 2)) for c in centres])
    >>> model = LogisticRegression().fit(X[[0, 30, 60]], [0, 1, 2])
    >>> idx, newly_covered = select_batch(ProbCover(), model, X, 3, QueryContext(random_state=0))
    >>> sorted((idx // 30).tolist())
    [0, 1, 2]

    With the first blob labeled, the batch goes to the other two first:

    >>> context = QueryContext(random_state=0, X_labeled=X[:3], y_labeled=np.zeros(3))
    >>> sorted((select_batch(ProbCover(), model, X, 2, context)[0] // 30).tolist())
    [1, 2]
    """

    _parameter_constraints: dict = {
        **_PoolGeometry._parameter_constraints,
        "delta": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "purity": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, delta="auto", purity: float = 0.8, embedding: str = "pca",
                 max_candidates: int = 20_000) -> None:
        self.delta = delta
        self.purity = purity
        self.embedding = embedding
        self.max_candidates = max_candidates

    def select(self, estimator, X_pool, n_instances, context):
        """Greedy maximum coverage, in pick order, with the number newly covered."""
        rng = np.random.default_rng(context.random_state)
        idx, E, L, seed = self._embed(estimator, X_pool, context, rng)
        if self.delta == "auto":
            k_classes = n_classes(estimator, context.y_labeled) or _DEFAULT_CLASSES
            delta = _purity_delta(E, max(2, k_classes), float(self.purity), seed)
        else:
            delta = float(self.delta)
        d2max = delta**2
        covered = _min_dist(E, L) <= delta if len(L) else np.zeros(len(E), dtype=bool)
        counts = _ball_counts(E, E[~covered], d2max)
        chosen = np.zeros(len(E), dtype=bool)
        picked, gains = [], []
        k = min(int(n_instances), len(E))
        for _ in range(k):
            j = int(np.argmax(np.where(chosen, -1, counts)))  # ties: the lowest index
            if chosen[j] or counts[j] <= 0:
                break  # everything is covered
            diff = E - E[j]
            newly = ~covered & (np.einsum("ij,ij->i", diff, diff) <= d2max)
            covered |= newly
            counts = np.maximum(counts - _ball_counts(E, E[newly], d2max), 0)
            chosen[j] = True
            picked.append(j)
            gains.append(float(newly.sum()))
        rest = rng.permutation(np.flatnonzero(~chosen))[: k - len(picked)]
        order = np.concatenate([np.asarray(picked, dtype=np.intp), rest]).astype(np.intp)
        return idx[order], np.concatenate([gains, np.zeros(len(rest))])
