"""Label spreading over a neighbour graph of the pool: pseudo-labels that need no model's
confidence (public as :class:`skal.semi_supervised.LabelSpreadingPseudoLabels`)."""

from __future__ import annotations

import hashlib
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skal._model_steps import embed, has_method
from skal._pool import DEFAULT_POOL_BATCH_SIZE, chunk_slices, take_rows
from skal.semi_supervised._base import PseudoLabeling
from skal.semi_supervised._graph import held_out_precision, spread_labels
from skal.semi_supervised._select import (
    CONFIDENCE_DECIMALS,
    balanced,
    check_labeled,
    flat_rows,
    prepare,
)

__all__ = ["LabelSpreadingPseudoLabels"]


class LabelSpreadingPseudoLabels(PseudoLabeling):
    """Pseudo-labels spread from the labeled samples over a neighbour graph of the pool.

    Each round, label spreading (Zhou et al. 2004, :class:`sklearn.semi_supervised.
    LabelSpreading` with a k-nearest-neighbour graph) carries the labels of the labeled
    samples to the unlabeled pool through its neighbourhood structure, in an embedding of the
    pool (centred, PCA to at most ``n_components`` dimensions): by default of the raw
    features (no training and no label needed, right for small inputs such as digits), or
    with ``embedding="model"`` of the previous round's model (its penultimate layer, as
    Iscen et al. 2019): that graph follows what the network has learned, e.g. MNIST-1D's
    shifted digits, which a Euclidean graph of the raw signal ignores. The samples it
    is surest of, class-balanced and capped as in :class:`PseudoLabels`, become
    pseudo-labeled training samples of the next fit. Unlike :class:`PseudoLabels` it does
    not trust the network's own confidence, which is high and often wrong while labels are
    few: on digits with 20 random labels the default CNN's pseudo-labels of confidence
    >= 0.95 were 80% right, and a CNN trained on 20 labels plus 60 spread pseudo-labels
    scored 0.637 against 0.607 without them (0.859 against 0.825 at 50 labels).

    Parameters
    ----------
    threshold : float in [0, 1], default=0.0
        Lowest spread-label confidence (the normalised label distribution's maximum) of a
        pseudo-labeled sample; 0 keeps the most confident ones up to the caps.
    max_ratio : float > 0, default=3.0
        Pseudo-labels per labeled sample, at most: the fit sees at most ``1 + max_ratio``
        times the samples of a labeled-only fit. More pay where the graph follows the
        classes: on digits (benchmarks/label_efficiency.py, 10 seeds) diverse_margin needed
        74 labels to 95% test accuracy with 3 and 59 with 10 (72 on labels alone); with
        ``max_pseudo_labels`` a large ratio helps while labels are few and stops growing
        the fit after.
    max_pseudo_labels : int >= 1 or None, default=None
        Pseudo-labels per round, at most, whatever the number of labels (None: only
        ``max_ratio`` caps them). Bounds what a round costs: on digits a round with
        ``max_ratio=10`` cost up to 3.4× a labels-only one uncapped (at 150 labels, 1097
        pseudo-labels) and 1.6-2.0× with ``max_pseudo_labels=600``, which reached 95% test
        accuracy with 60 labels (benchmarks/pool_training_cost.py).
    max_pool : int >= 1 or None, default=10000
        Unlabeled samples in the graph per round, drawn at random when the pool has more.
    n_neighbors : int >= 1, default=10
        Neighbours of each sample in the graph.
    alpha : float in (0, 1), default=0.2
        Label spreading's clamping factor: how much a labeled sample's own label may change.
    n_components : int >= 1, default=32
        Dimensions of the PCA embedding.
    embedding : {"pca", "model", "tsne"}, default="pca"
        The graph's features: ``"pca"`` the raw features; ``"model"`` the embedding of the
        model fitted in the previous round (``estimator.embed``, e.g. :class:`skal.CNNClassifier`;
        the last step of a Pipeline), so no pseudo-label before the first fit. One forward pass
        of at most ``max_pool`` pool samples per round. The ``min_accuracy`` check is then
        optimistic (the model was trained on the labels it hides). ``"tsne"``: a 2-D t-SNE
        map (van der Maaten and Hinton 2008, :class:`sklearn.manifold.TSNE`, seeded) of the
        PCA features, whose neighbourhoods follow the clusters of small images more closely
        than the PCA space: on 800 digits with 30 random labels, 595 spread labels were
        96.5% right against 73.3% over PCA, and in the benchmark (10 seeds, ``max_ratio=30,
        max_pseudo_labels=1000``) diverse_margin reached 95% test accuracy with 32 labels
        against 60 over PCA, and 90% with 24 (from 10 labels: 80% with 14), at 2-3× a
        labels-only round. No label or model needed;
        the map is computed once and kept while the graph's samples (labeled and candidates
        together, compared by content) stay the same, as they do in a campaign whose pool
        has at most ``max_pool`` samples. It costs about 5 s for 1,250 digits and grows
        faster than the pool; for pools of tens of thousands, or features where Euclidean
        distance means little (MNIST-1D's shifted signals), prefer ``"model"``.
    min_accuracy : float in [0, 1], default=0.6
        No pseudo-label at all unless, with the labeled samples' own labels hidden in turn
        (5-fold, stratified), at least this fraction of the labels spreading gives them is
        right: on a graph that does not follow the classes, spread labels would teach the
        model noise. A hidden label that spreading does not reach is not counted (an
        unreached sample gets no pseudo-label); one whose class has no other label counts
        as right when it stays unreached, as in a graph that follows the classes, and wrong
        when another class's label reaches it, so a campaign that starts with one label per
        class is checked too. Measured on digits, PCA graph (it reaches every sample), random
        labels: 0.65 at 20 labels, 0.77 at 30, 0.88 at 50, kept labels 93-100% right;
        t-SNE map, 20 stratified labels: 0.90-1.00 (it reaches 74-87% of the pool, 96-98%
        of it right), 10 labels (one per class): 1.0, every hidden label unreached (a check
        that counted unreached labels as missed gave 0.45-0.60 and 0, and refused the
        spreading); MNIST-1D (whose digits are placed by circular translation, which a
        Euclidean graph ignores): 0.05 to 0.44 from 20 to 1000 labels, kept labels about 50%
        right: there the option trains on the labels alone. 0 turns the check off.

    See Also
    --------
    PseudoLabels : pseudo-labels from the model's own confident predictions (CEAL).

    References
    ----------
    .. [1] D. Zhou, O. Bousquet, T. N. Lal, J. Weston and B. Schoelkopf, "Learning with
       Local and Global Consistency", NIPS 2004.
    .. [2] A. Iscen, G. Tolias, Y. Avrithis and O. Chum, "Label Propagation for Deep
       Semi-supervised Learning", CVPR 2019.
    .. [3] L. van der Maaten and G. Hinton, "Visualizing Data using t-SNE", JMLR 9, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skal.semi_supervised import LabelSpreadingPseudoLabels
    >>> X, y = load_digits(return_X_y=True)
    >>> labeled = np.flatnonzero(np.r_[True, np.diff(y) != 0])[:30]   # 30 labels
    >>> pool = np.setdiff1d(np.arange(len(X)), labeled)
    >>> idx, guesses = LabelSpreadingPseudoLabels().select(
    ...     None, X, pool, len(labeled), 0, labeled=labeled, labels=y[labeled])
    >>> len(idx), bool((guesses == y[idx]).mean() > 0.9)
    (90, True)

    Over a fitted model's embedding (any estimator with ``embed``, here a small network):

    >>> from skal import CNNClassifier
    >>> cnn = CNNClassifier(filters=(8,), dense_units=16, epochs=5, random_state=0)
    >>> cnn = cnn.fit(X[labeled], y[labeled])
    >>> idx, guesses = LabelSpreadingPseudoLabels(embedding="model", min_accuracy=0).select(
    ...     cnn, X, pool, len(labeled), 0, labeled=labeled, labels=y[labeled])
    >>> len(idx)
    90
    """

    _parameter_constraints: dict = {
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "max_ratio": [Interval(Real, 0, None, closed="neither")],
        "max_pseudo_labels": [Interval(Integral, 1, None, closed="left"), None],
        "max_pool": [Interval(Integral, 1, None, closed="left"), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "embedding": [StrOptions({"pca", "model", "tsne"})],
        "min_accuracy": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self, threshold: float = 0.0, max_ratio: float = 3.0,
        max_pseudo_labels: int | None = None, max_pool: int | None = 10_000,
        n_neighbors: int = 10, alpha: float = 0.2, n_components: int = 32,
        embedding: str = "pca", min_accuracy: float = 0.6,
    ) -> None:
        self.threshold = threshold
        self.max_ratio = max_ratio
        self.max_pseudo_labels = max_pseudo_labels
        self.max_pool = max_pool
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.n_components = n_components
        self.embedding = embedding
        self.min_accuracy = min_accuracy

    def select(
        self, estimator, X, candidates, n_labeled: int, random_state=None, *,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE, labeled=None, labels=None,
    ):
        """The candidates to pseudo-label, and their spread labels.

        Parameters
        ----------
        estimator : estimator object or None
            With ``embedding="model"``, the fitted model whose ``embed`` gives the graph's
            features; not used otherwise (the labels spread from ``labels``).
        X, candidates, n_labeled, random_state, pool_batch_size
            As in :meth:`PseudoLabels.select`.
        labeled : array-like of int
            Row indices of ``X`` of the labeled samples (required).
        labels : array-like
            Their labels (required).

        Returns
        -------
        indices : ndarray of shape (n_selected,), dtype intp
            The selected row indices of ``X``, ascending.
        labels : ndarray of shape (n_selected,)
            Their pseudo-labels, of ``labels``' dtype.
        """
        from sklearn.semi_supervised import LabelSpreading

        self._validate_params()
        labeled, labels = check_labeled(labeled, labels)
        classes, codes = np.unique(labels, return_inverse=True)
        X, rows, per_class, total = prepare(
            self, X, candidates, n_labeled, len(classes), random_state,
            pool_batch_size=pool_batch_size, max_total=self.max_pseudo_labels, labeled=labeled)
        if total == 0 or len(rows) == 0 or len(classes) < 2:
            return np.empty(0, np.intp), labels[:0]
        nodes = np.concatenate([labeled, rows])
        if self.embedding == "tsne":
            Z = self._tsne(X, nodes, pool_batch_size)
        else:
            Z = _pca(self._features(estimator, X, nodes, pool_batch_size), self.n_components)
        y = np.concatenate([codes, np.full(len(rows), -1)])
        spread = LabelSpreading(kernel="knn", n_neighbors=min(self.n_neighbors, len(Z) - 1),
                                alpha=self.alpha, max_iter=100)
        if held_out_precision(spread, Z, codes, len(rows), random_state) < self.min_accuracy:
            return np.empty(0, np.intp), labels[:0]  # the graph does not carry the labels
        dist = spread_labels(spread, Z, y)[len(labeled):]
        confidence, predicted = dist.max(axis=1), dist.argmax(axis=1)
        sure = (confidence >= self.threshold) & (confidence > 0)
        idx = rows[sure]
        confidence = np.round(confidence[sure], CONFIDENCE_DECIMALS)
        keep = balanced(idx, confidence, predicted[sure], per_class=per_class, total=total)
        keep = keep[np.argsort(idx[keep], kind="stable")]
        return idx[keep], classes[predicted[sure][keep]]

    @property
    def needs_model(self) -> bool:
        """Whether :meth:`select` reads the previous round's model (``embedding="model"``)."""
        return self.embedding == "model"

    def check_estimator(self, estimator) -> None:
        """Raise TypeError if ``select`` cannot read what it needs from ``estimator``.

        Parameters
        ----------
        estimator : estimator object or None
            The model (fitted or not) the campaign trains; with ``embedding="model"`` it
            must have ``embed`` (a Pipeline's last step may).

        Examples
        --------
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skal.semi_supervised import LabelSpreadingPseudoLabels
        >>> LabelSpreadingPseudoLabels().check_estimator(LogisticRegression())
        >>> LabelSpreadingPseudoLabels(embedding="model").check_estimator(LogisticRegression())
        Traceback (most recent call last):
        ...
        TypeError: semi_supervised=LabelSpreadingPseudoLabels(embedding='model') spreads labels over the fitted model's embedding, but LogisticRegression has no embed(X) method: use skal.CNNClassifier or skal.KerasClassifier, or embedding='pca' (the raw features).
        """  # noqa: E501
        if self.needs_model and (estimator is None or not has_method(estimator, "embed")):
            raise TypeError(
                f"semi_supervised={self!r} spreads labels over the fitted model's embedding, "
                f"but {type(estimator).__name__} has no embed(X) method: use "
                "skal.CNNClassifier or skal.KerasClassifier, or embedding='pca' (the raw "
                "features)."
            )

    def _tsne(self, X, nodes, pool_batch_size):
        """A 2-D t-SNE map of the nodes' PCA features; the last map is kept, so a campaign
        whose nodes do not change pays for it once."""
        from sklearn.manifold import TSNE

        order = np.argsort(nodes, kind="stable")
        F = flat_rows(X, nodes[order], pool_batch_size, f"semi_supervised={self!r}")
        key = (hashlib.blake2b(F.tobytes(), digest_size=16).hexdigest(), F.shape,
               self.n_components)
        cached = getattr(self, "_tsne_cache", None)
        if cached is None or cached[0] != key:
            Z = _pca(F, self.n_components)
            perplexity = min(30.0, max(1.0, (len(Z) - 1) / 3.0))
            init = "pca" if Z.shape[1] >= 2 else "random"  # a PCA init needs 2 dimensions
            M = TSNE(2, perplexity=perplexity, init=init, random_state=0).fit_transform(Z)
            cached = self._tsne_cache = (key, M)
        M = np.empty_like(cached[1])
        M[order] = cached[1]
        return M

    def _features(self, estimator, X, rows, pool_batch_size):
        """The graph's features of ``rows``: the raw features, or the model's embedding."""
        if not self.needs_model:
            return flat_rows(X, rows, pool_batch_size, f"semi_supervised={self!r}")
        self.check_estimator(estimator)
        return np.concatenate([
            np.asarray(embed(estimator, take_rows(X, rows[part])), dtype=np.float64)
            for part in chunk_slices(len(rows), pool_batch_size)])


def _pca(F, n_components):
    """``F`` centred, in at most ``n_components`` principal dimensions."""
    from sklearn.decomposition import PCA

    F = F - F.mean(axis=0)
    k = min(n_components, F.shape[0], F.shape[1])
    return PCA(k, random_state=0).fit_transform(F) if k < F.shape[1] else F
