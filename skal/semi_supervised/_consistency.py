"""Consistency training on the unlabeled pool: the option (public as
:class:`skal.semi_supervised.ConsistencyTraining`); the training loop is the estimator's
(``skal.keras._consistency`` for skal's Keras wrappers)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import has_fit_parameter

from skal._pool import DEFAULT_POOL_BATCH_SIZE, take_rows
from skal.semi_supervised._base import PoolTraining, PoolTrainingResult
from skal.semi_supervised._select import check_pool, check_rows, check_seed, draw_rows

__all__ = ["ConsistencyTraining"]


class ConsistencyTraining(PoolTraining):
    """Train the network on the unlabeled pool too: consistency under perturbation (FixMatch).

    Each training step of the network adds ``unlabeled_batch_ratio`` times as many
    unlabeled pool samples as labeled ones. The network labels them itself, in inference
    mode, and where its top probability reaches ``threshold`` that class becomes the target
    of the same samples perturbed -- Gaussian input noise (``noise`` times the pool's
    feature standard deviation) and the network's own training-mode layers (dropout and,
    for :class:`skal.CNNClassifier`, ``shift_augment``) -- weighted by ``weight`` against
    the labeled loss (Sohn et al. 2020). Unlike :class:`PseudoLabels`, whose guesses are
    fixed for a whole fit, the targets follow the network as it learns.

    For an estimator whose ``fit`` takes the pool as ``fit(X, y, X_unlabeled=...,
    consistency=...)``: skal's Keras wrappers (:class:`skal.CNNClassifier`,
    :class:`skal.KerasClassifier`), or any other that declares these two fit parameters
    (:func:`sklearn.utils.validation.has_fit_parameter` finds them); in a campaign
    (``ActiveLearningClassifier(semi_supervised=ConsistencyTraining())``) every refit gets
    the pool's unlabeled samples (at most ``max_pool``, drawn with the round's seed) as
    :meth:`augment`'s ``fit_params``.

    It needs long training: on MNIST-1D (500 random labels, the benchmark's CNN with
    ``shift_augment=10``; ``benchmarks/mnist1d_consistency_fits.py``, 3 seeds) 450 epochs
    over the labels with the pool reached a mean test accuracy of 0.946, against 0.920 for the
    same 450 epochs of the labels alone and 0.840 for the benchmark's 75 (in a one-seed probe
    at 75 epochs the pool did not help: 0.78). Set ``epochs`` for it; a step trains on the
    labeled batch and twice ``unlabeled_batch_ratio`` times as many unlabeled samples (plain
    and perturbed). In the benchmark's MNIST-1D campaigns, vote_entropy with
    ``ConsistencyTraining(epochs=450)`` reached random's accuracy at 2000 labels with 400
    labels in each of 5 seeds (modAL's best needs 1140), at 2.6× a labels-only round.

    With very few labels it pays late: on digits with one label per class it trained worse
    than the labels alone (mean test accuracy 0.573 against 0.643 at 10 labels, 10 seeds),
    while at 100 labels every strategy with it scored 0.962-0.990 against 0.909-0.966
    without (``benchmarks/label_efficiency.py --low``).

    Parameters
    ----------
    weight : float >= 0, default=1.0
        Weight of the unlabeled loss (0: the labels alone, with the same training loop).
    threshold : float in (0, 1], default=0.95
        Lowest top probability at which the network's label of an unlabeled sample is used.
    noise : float >= 0, default=0.15
        Standard deviation of the input noise of the perturbed copies, as a fraction of the
        unlabeled samples' feature standard deviation.
    unlabeled_batch_ratio : int >= 1, default=3
        Unlabeled samples per labeled sample in a training step.
    epochs : int >= 1 or None, default=None
        Passes over the labeled set of a fit from scratch (the estimator's
        ``min_train_steps`` still applies; a warm-started fine-tune keeps its
        ``finetune_epochs``); None: the estimator's own ``epochs``.
    max_pool : int >= 1 or None, default=10000
        In a campaign, unlabeled samples handed to each fit, drawn at random when the pool
        has more; None: all of them.

    References
    ----------
    .. [1] K. Sohn, D. Berthelot, C.-L. Li, Z. Zhang, N. Carlini, E. D. Cubuk, A. Kurakin,
       H. Zhang and C. Raffel, "FixMatch: Simplifying Semi-Supervised Learning with
       Consistency and Confidence", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skal import CNNClassifier
    >>> from skal.semi_supervised import ConsistencyTraining
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> cnn = CNNClassifier(filters=(8,), dense_units=16, epochs=3, random_state=0)
    >>> cnn = cnn.fit(X[:40], y[:40], X_unlabeled=X[40:400],
    ...               consistency=ConsistencyTraining(epochs=3))
    >>> sorted(cnn.history_)
    ['confident_fraction', 'loss', 'unlabeled_loss']

    In a campaign:

    >>> from skal import ActiveLearningClassifier
    >>> learner = ActiveLearningClassifier(
    ...     cnn, semi_supervised=ConsistencyTraining(epochs=3), n_queries=1, random_state=0)
    >>> learner = learner.fit(X[:300], y[:300])
    >>> learner.n_labeled_
    20
    """

    _parameter_constraints: dict = {
        "weight": [Interval(Real, 0, None, closed="left")],
        "threshold": [Interval(Real, 0, 1, closed="right")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "unlabeled_batch_ratio": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left"), None],
        "max_pool": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self, weight: float = 1.0, threshold: float = 0.95, noise: float = 0.15,
        unlabeled_batch_ratio: int = 3, epochs: int | None = None,
        max_pool: int | None = 10_000,
    ) -> None:
        self.weight = weight
        self.threshold = threshold
        self.noise = noise
        self.unlabeled_batch_ratio = unlabeled_batch_ratio
        self.epochs = epochs
        self.max_pool = max_pool

    @property
    def needs_model(self) -> bool:
        """Whether the option reads the previous round's model: no (the network trains on
        the pool itself)."""
        return False

    def check_estimator(self, estimator) -> None:
        """Raise TypeError unless ``estimator`` trains on the pool: its ``fit`` takes
        ``X_unlabeled=`` and ``consistency=`` (skal's Keras wrappers).

        Parameters
        ----------
        estimator : estimator object
            The model a campaign trains (fitted or not). A Pipeline is refused: its ``fit``
            would route the parameters to a step by name (``step__X_unlabeled``).

        Examples
        --------
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skal.semi_supervised import ConsistencyTraining
        >>> ConsistencyTraining().check_estimator(LogisticRegression())
        Traceback (most recent call last):
        ...
        TypeError: semi_supervised=ConsistencyTraining() trains the network on the unlabeled pool, which LogisticRegression cannot take: its fit has no X_unlabeled= and consistency= parameters. Use skal.CNNClassifier or skal.KerasClassifier (itself, not in a Pipeline), or semi_supervised='pseudo_labels'.
        """  # noqa: E501
        missing = [name for name in ("X_unlabeled", "consistency")
                   if not has_fit_parameter(estimator, name)]
        if missing:
            raise TypeError(
                f"semi_supervised={self!r} trains the network on the unlabeled pool, which "
                f"{type(estimator).__name__} cannot take: its fit has no "
                f"{' and '.join(name + '=' for name in missing)} parameter"
                f"{'s' if len(missing) > 1 else ''}. Use skal.CNNClassifier or "
                "skal.KerasClassifier (itself, not in a Pipeline), or "
                "semi_supervised='pseudo_labels'."
            )

    def augment(
        self, X, labeled, labels, unlabeled, previous, *, random_state=None,
        pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE,
    ) -> PoolTrainingResult:
        """No pool row to add: the unlabeled rows go to the estimator's ``fit`` instead.

        Parameters are those of :meth:`PoolTraining.augment`; ``labeled``, ``labels``,
        ``previous`` and ``pool_batch_size`` are not read.

        Returns
        -------
        result : PoolTrainingResult
            No indices; ``fit_params`` of :meth:`fit_params` (the unlabeled rows, at most
            ``max_pool``, drawn with ``random_state``), ``n_unlabeled`` their number.

        Examples
        --------
        >>> import numpy as np
        >>> from skal.semi_supervised import ConsistencyTraining
        >>> result = ConsistencyTraining(max_pool=2).augment(
        ...     np.eye(5), np.array([0]), np.array([1]), np.arange(1, 5), None, random_state=0)
        >>> len(result.indices), sorted(result.fit_params), result.n_unlabeled
        (0, ['X_unlabeled', 'consistency'], 2)
        """
        params = self.fit_params(X, unlabeled, random_state)
        n_unlabeled = len(params["X_unlabeled"]) if params else 0
        return PoolTrainingResult(np.empty(0, np.intp), np.empty(0), params, n_unlabeled)

    def fit_params(self, X, unlabeled, random_state=None) -> dict:
        """The keyword arguments a refit passes to the network's ``fit``: the unlabeled rows
        (at most ``max_pool``, drawn with ``random_state``) and this option.

        Parameters
        ----------
        X : array-like, memmap or DataFrame
            The pool.
        unlabeled : array-like of int
            Row indices of ``X`` nobody has labeled.
        random_state : int, Generator or None, default=None
            Seed of the ``max_pool`` draw.

        Returns
        -------
        params : dict
            ``{"X_unlabeled": rows of X, "consistency": self}``; empty without unlabeled rows.

        Examples
        --------
        >>> import numpy as np
        >>> from skal.semi_supervised import ConsistencyTraining
        >>> params = ConsistencyTraining(max_pool=2).fit_params(np.eye(5), [1, 3, 4], 0)
        >>> params["X_unlabeled"].shape
        (2, 5)
        """
        self._validate_params()
        check_seed(random_state)
        X, n_pool = check_pool(X)
        rows = draw_rows(check_rows(unlabeled, n_pool, "unlabeled"), self.max_pool, random_state)
        if len(rows) == 0:
            return {}
        return {"X_unlabeled": take_rows(X, rows), "consistency": self}
