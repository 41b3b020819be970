"""Batch-aware strategies on embeddings: core-set (k-center greedy), BADGE, diverse mini-batch.

Top-k uncertainty scores each sample on its own, so a batch can be made of near-duplicates.
These strategies choose the batch as a whole, spread out in the model's representation.
Both keep the pool's embeddings in memory -- O(pool x embedding dim) -- and compute
distances block by block, never an O(pool^2) matrix.

The representation is :func:`skal.strategies._features.features_of`: the model's embeddings
where it has ``embed`` (:class:`skal.CNNClassifier`, :class:`skal.KerasClassifier`), else
the features a Pipeline's last step sees (``pipeline[:-1].transform(X)``, densified), else
the raw features -- so they run with any classifier.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skal._pool import chunk_slices, iter_chunks
from skal.strategies._base import SCORE_DECIMALS, QueryStrategy
from skal.strategies._features import features_of, query_seed
from skal.strategies._measures import UNCERTAINTY_MEASURES

__all__ = ["BADGE", "CoreSet", "DiverseMiniBatch"]

# Rows of float64 temporaries per distance block: bounds the extra memory to a few MiB.
_BLOCK_ELEMENTS = 1 << 20


def _embed_pool(estimator, X_pool, context, *, proba, strategy):
    """Embeddings (and probabilities) of a pool, chunk by chunk, concatenated: the model's
    ``embed``, or for a model without one the features its last step sees."""
    embs, probas = [], []
    for _, chunk in iter_chunks(X_pool, context.pool_batch_size):
        if context.check_chunk is not None:
            chunk = context.check_chunk(chunk)
        if len(chunk) == 0:
            continue
        if proba:
            emb, p = features_of(estimator, chunk, return_proba=True, strategy=strategy)
            probas.append(p)
        else:
            emb = features_of(estimator, chunk, strategy=strategy)
        embs.append(emb)
    emb = np.concatenate(embs)
    return (emb, np.concatenate(probas)) if proba else emb


def _blocks(n: int, width: int):
    """Row slices of ``n`` rows, each block about ``_BLOCK_ELEMENTS / width`` rows."""
    return chunk_slices(n, max(1, _BLOCK_ELEMENTS // max(width, 1)))


def _min_sq_dist(E: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distance of each row of ``E`` to its nearest row of ``centers``, blockwise.

    Memory O(block x (d + n_centers)); float64 arithmetic.
    """
    out = np.empty(len(E))
    C = np.asarray(centers, dtype=np.float64)
    c2 = np.einsum("ij,ij->i", C, C)
    for sl in _blocks(len(E), C.shape[1] + len(C)):
        B = np.asarray(E[sl], dtype=np.float64)
        d2 = np.einsum("ij,ij->i", B, B)[:, None] + c2[None, :] - 2.0 * (B @ C.T)
        out[sl] = d2.min(axis=1)
    return np.maximum(out, 0.0)


def _sq_dist_to(E: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Squared distance of each row of ``E`` to one point, blockwise and without cancellation."""
    out = np.empty(len(E))
    e = np.asarray(e, dtype=np.float64)
    for sl in _blocks(len(E), E.shape[1]):
        D = np.asarray(E[sl], dtype=np.float64) - e
        out[sl] = np.einsum("ij,ij->i", D, D)
    return out


class CoreSet(QueryStrategy):
    """Core-set selection by k-center greedy (Sener & Savarese 2018).

    Embeds the pool and the labeled set with the model's penultimate layer, then picks, one
    at a time, the pool sample farthest from its nearest labeled-or-already-picked sample
    (greedy max-min distance, a 2-approximation of the k-center problem). The batch covers
    the pool: separated clusters and regions far from the labeled set are each visited,
    and an exact duplicate of a picked sample is never next (its distance is 0).

    Without a labeled set (no ``X_labeled`` in the query context), the first center
    is the pool's mean embedding. Ties are broken by pool index; the strategy draws no
    random numbers, so ``random_state`` does not change the batch.

    **The embedding** is the model's ``embed(X)`` where it has one (the penultimate layer
    of :class:`skal.CNNClassifier` and :class:`skal.KerasClassifier`); with any other
    classifier, the features its last step sees: ``pipeline[:-1].transform(X)`` for a
    Pipeline (e.g. a ``ColumnTransformer``'s scaled and one-hot columns, densified), the
    raw features for a bare estimator. Distances are then those of the preprocessed
    features, so scale them (``StandardScaler``) for a meaningful cover. No label enters
    them: a bare estimator's core set can be chosen before any fit.

    Memory: O(pool x embedding dim) for the pool's embeddings plus O(pool) distances;
    distances are computed in blocks, never as an O(pool^2) or O(pool x labeled) matrix.
    Time: O((n_labeled + n_instances) x pool x embedding dim).

    References
    ----------
    Sener, O. & Savarese, S. (2018). Active Learning for Convolutional Neural Networks: A
    Core-Set Approach. ICLR.

    Examples
    --------
    >>> from skal import ActiveLearningClassifier, CNNClassifier
    >>> learner = ActiveLearningClassifier(CNNClassifier(), query_strategy="coreset")
    """

    _parameter_constraints: dict = {}
    requires = ()

    def select(self, estimator, X_pool, n_instances, context):
        """The k-center greedy batch, in selection order, with its max-min distances."""
        name, X_labeled = repr(self), context.X_labeled
        E = _embed_pool(estimator, X_pool, context, proba=False, strategy=name)
        if X_labeled is not None and len(X_labeled):
            min_d2 = np.full(len(E), np.inf)
            for _, chunk in iter_chunks(X_labeled, context.pool_batch_size):
                L = features_of(estimator, chunk, strategy=name)
                min_d2 = np.minimum(min_d2, _min_sq_dist(E, L))
        else:
            min_d2 = _sq_dist_to(E, E.mean(axis=0))
        k = min(int(n_instances), len(E))
        idx = np.empty(k, dtype=np.intp)
        scores = np.empty(k)
        chosen = np.zeros(len(E), dtype=bool)
        for j in range(k):
            # Rounding makes last-bit differences exact ties, broken by the lowest index.
            dist = np.round(np.sqrt(min_d2), SCORE_DECIMALS)
            i = int(np.argmax(np.where(chosen, -np.inf, dist)))
            idx[j], scores[j] = i, dist[i]
            chosen[i] = True
            min_d2 = np.minimum(min_d2, _sq_dist_to(E, E[i]))
        return idx, scores


class BADGE(QueryStrategy):
    """Batch Active learning by Diverse Gradient Embeddings (Ash et al. 2020).

    Each pool sample ``x`` with predicted probabilities ``p`` and penultimate features ``h``
    is represented by the gradient of the cross-entropy loss, at the predicted label
    ``yhat = argmax p``, with respect to the last layer's weights: ``g = (p - onehot(yhat))
    (x) h``, computed in closed form (no automatic differentiation). Its norm grows with the
    model's uncertainty, its direction with the sample's features. The batch is the
    k-means++ seeding of these embeddings: first the largest gradient, then each next sample
    drawn with probability proportional to its squared distance to the nearest one already
    chosen -- uncertain *and* diverse.

    The outer product is never formed: ``<a (x) h, b (x) k> = <a, b> <h, k>``, so distances
    come from ``p - onehot(yhat)`` and ``h`` alone.

    Scores are the squared gradient distance to the previously chosen samples at the time
    each sample is chosen (the first: its squared gradient norm); the order is the seeding
    order. The draws use ``random_state``: the same seed gives the same batch.

    ``h`` is the model's ``embed(X, return_proba=True)`` where it has one (the penultimate
    layer of :class:`skal.CNNClassifier` and :class:`skal.KerasClassifier`). A model
    without ``embed`` -- a scikit-learn classifier, a Pipeline -- has no penultimate layer:
    ``h`` is then the features its last step sees (``pipeline[:-1].transform(X)``, or the
    raw features of a bare estimator), and ``g`` is the exact loss gradient of a softmax
    (multinomial logistic) layer on those features, the last layer BADGE assumes, scaled
    by the model's own uncertainty ``p - onehot(yhat)``. It stays "uncertain and diverse":
    the norm follows the model's probabilities, the direction the preprocessed features.

    Memory: O(pool x (embedding dim + n_classes)) -- less than the O(pool x embedding dim x
    n_classes) of materialised gradient embeddings -- and never O(pool^2).
    Time: O(n_instances x pool x (embedding dim + n_classes)).

    References
    ----------
    Ash, J. T., Zhang, C., Krishnamurthy, A., Langford, J. & Agarwal, A. (2020). Deep Batch
    Active Learning by Diverse, Uncertain Gradient Lower Bounds. ICLR.

    Examples
    --------
    >>> from skal import ActiveLearningClassifier, CNNClassifier
    >>> learner = ActiveLearningClassifier(CNNClassifier(), query_strategy="badge")
    """

    _parameter_constraints: dict = {}
    requires = ("predict_proba",)

    def select(self, estimator, X_pool, n_instances, context):
        """The k-means++ seeding of the gradient embeddings, in seeding order."""
        rng = np.random.default_rng(context.random_state)
        H, P = _embed_pool(estimator, X_pool, context, proba=True, strategy=repr(self))
        A = P.copy()
        A[np.arange(len(A)), P.argmax(axis=1)] -= 1.0  # p - onehot(argmax p)
        h2 = np.einsum("ij,ij->i", np.asarray(H, dtype=np.float64), H)
        g2 = np.einsum("ij,ij->i", A, A) * h2  # squared gradient norms
        k = min(int(n_instances), len(A))
        idx = np.empty(k, dtype=np.intp)
        scores = np.empty(k)
        d2 = np.round(g2, SCORE_DECIMALS)  # the first pick: the largest gradient norm
        chosen = np.zeros(len(A), dtype=bool)
        for j in range(k):
            if j == 0 or not (total := d2.sum()) > 0:
                # the largest gradient first; then, when every distance is 0, the lowest
                # index not yet chosen
                i = int(np.argmax(np.where(chosen, -np.inf, d2)))
            else:
                cum = np.cumsum(d2)
                i = int(np.searchsorted(cum, rng.random() * total, side="right"))
                i = min(i, int(np.flatnonzero(d2 > 0)[-1]))
            idx[j], scores[j] = i, d2[i]
            chosen[i] = True
            to_i = self._sq_dist_to_one(A, H, g2, i)
            d2 = to_i if j == 0 else np.minimum(d2, to_i)  # D^2 to the nearest chosen
            d2[chosen] = 0.0
        return idx, scores

    @staticmethod
    def _sq_dist_to_one(A, H, g2, i) -> np.ndarray:
        """``|g_j - g_i|^2`` for all j, rounded: equal gradients give exactly 0."""
        out = np.empty(len(A))
        a, h = A[i], np.asarray(H[i], dtype=np.float64)
        for sl in _blocks(len(A), H.shape[1]):
            dot = (A[sl] @ a) * (np.asarray(H[sl], dtype=np.float64) @ h)
            out[sl] = g2[sl] + g2[i] - 2.0 * dot
        # cancellation leaves ~1e-16 relative noise where g_j == g_i
        out[out <= 1e-12 * (g2 + g2[i])] = 0.0
        return np.round(out, SCORE_DECIMALS)


class DiverseMiniBatch(QueryStrategy):
    """Diverse mini-batch active learning (Zhdanov 2019): uncertain, then spread out.

    Top-k uncertainty fills a large batch with near-duplicates from one stretch of the
    decision boundary. This strategy keeps the ``prefilter * n_instances`` most uncertain
    pool samples, clusters their embeddings (the model's penultimate layer) into
    ``n_instances`` clusters with k-means weighted by uncertainty, and takes from each
    cluster the sample nearest its centre. The batch is returned most uncertain first.

    ``prefilter=1`` is plain uncertainty sampling; larger values trade uncertainty for
    diversity. k-means is seeded from ``random_state``: the same seed gives the same batch.
    If the candidates have fewer distinct embeddings than ``n_instances`` (duplicates), the
    remaining places go to the most uncertain candidates not yet picked.

    The embeddings are the model's ``embed(X, return_proba=True)`` where it has one (the
    penultimate layer of :class:`skal.CNNClassifier` and :class:`skal.KerasClassifier`);
    for a model without ``embed``, the features its last step sees
    (``pipeline[:-1].transform(X)``, or the raw features of a bare estimator) with its
    ``predict_proba``.

    Parameters
    ----------
    measure : {"margin", "entropy", "least_confident"}, default="margin"
        Uncertainty measure of the predicted probabilities; it ranks the candidates and
        weights them in k-means.
    prefilter : int, default=10
        Candidates per place in the batch (Zhdanov's beta).

    Notes
    -----
    Memory: O(pool x embedding dim) for the pool's embeddings; k-means runs on the
    ``prefilter * n_instances`` candidates only.

    References
    ----------
    Zhdanov, F. (2019). Diverse mini-batch Active Learning. arXiv:1901.05954.

    Examples
    --------
    >>> from skal import ActiveLearningClassifier, CNNClassifier
    >>> learner = ActiveLearningClassifier(CNNClassifier(), query_strategy="diverse_margin")
    """

    _parameter_constraints: dict = {
        "measure": [StrOptions(set(UNCERTAINTY_MEASURES))],
        "prefilter": [Interval(Integral, 1, None, closed="left")],
    }
    requires = ("predict_proba",)

    def __init__(self, measure: str = "margin", prefilter: int = 10) -> None:
        self.measure = measure
        self.prefilter = prefilter

    def select(self, estimator, X_pool, n_instances, context):
        """One sample per k-means cluster of the most uncertain, most uncertain first."""
        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning

        H, P = _embed_pool(estimator, X_pool, context, proba=True, strategy=repr(self))
        u = np.round(UNCERTAINTY_MEASURES[self.measure](P), SCORE_DECIMALS)
        k = min(int(n_instances), len(u))
        by_uncertainty = np.lexsort((np.arange(len(u)), -u))  # ties: lowest index first
        cand = by_uncertainty[: min(len(u), self.prefilter * k)]
        if len(cand) > k:
            E = np.asarray(H[cand], dtype=np.float64)
            km = KMeans(n_clusters=k, n_init=1, random_state=query_seed(context.random_state))
            with warnings.catch_warnings():
                # fewer distinct embeddings than clusters: handled by the fill-up below
                warnings.simplefilter("ignore", ConvergenceWarning)
                # a tiny floor: k-means needs some positive weight when all are certain
                km.fit(E, sample_weight=u[cand] + 1e-12)
            d2 = _sq_dist_to_own_centre(E, km.cluster_centers_, km.labels_)
            picked = []
            for c in range(k):
                members = np.flatnonzero(km.labels_ == c)
                if len(members):
                    picked.append(members[np.lexsort((members, d2[members]))[0]])
            chosen = np.zeros(len(cand), dtype=bool)
            chosen[picked] = True
            fill = np.flatnonzero(~chosen)[: k - chosen.sum()]  # cand is uncertainty-ordered
            chosen[fill] = True
            cand = cand[chosen]  # a subset, still in uncertainty order
        idx = cand[np.lexsort((cand, -u[cand]))]
        return idx, u[idx]


def _sq_dist_to_own_centre(E: np.ndarray, centres: np.ndarray, labels: np.ndarray):
    D = E - centres[labels]
    return np.einsum("ij,ij->i", D, D)
