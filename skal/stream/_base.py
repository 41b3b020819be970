"""The stream-selection protocol: a budget gate, its accounting, and checks of what arrives."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, check_random_state

from skal import ActiveLearningClassifier
from skal._params import StrictParamsMixin
from skal._pool import is_frame, n_features_of
from skal.campaign import Campaign

__all__ = ["StreamSelector", "check_arrivals", "model_of"]


class StreamSelector(StrictParamsMixin, BaseEstimator):
    """Base class of stream selectors: ask for a label or not, sample by sample, on a budget.

    :meth:`decide` sees a fitted model and the samples that just arrived, and answers, for
    each in arrival order, whether to ask for its label. A sample is asked only while
    budget is left; the rule of a subclass (:meth:`want_label`) decides among those.

    **Budget accounting** (Žliobaitė et al. 2014, as scikit-activeml's budget managers):
    after every sample seen, ``u <- u * (window - 1) / window + asked`` (``asked`` is 1 or
    0), and ``spent_ = u / window`` estimates the fraction of the last ``window`` samples
    that were asked. Budget is left while ``spent_ < budget``. The estimate forgets: a
    stream that asked nothing for a while may ask a burst of about ``budget * window``
    in a row, and over a long stream the fraction asked stays near ``budget`` (slightly
    above for a selector that asks whenever it may: each ask can overshoot by
    ``1 / window``; below it for random selection, gated part of the time). With
    ``window=None`` the accounting is cumulative: ``spent_ = n_asked_ / n_seen_``, so
    every selector that wants labels spends ``budget`` of the stream, and budget saved
    while the model was sure is spent later (after a drift) in one go.

    The selector is stateful: what was spent, and a subclass's adaptive threshold, are
    fitted attributes (ending in ``_``), set by the first :meth:`decide`; ``clone`` gives
    a fresh one. The same ``random_state`` (an int) and the same arrivals give the same
    decisions.

    Parameters
    ----------
    budget : float in (0, 1], default=0.1
        The fraction of the stream that may be labeled.
    window : int >= 1 or None, default=100
        Samples over which the spent fraction is estimated; ``None``: the whole stream.
    random_state : int, RandomState instance or None, default=None
        Seeds the selector's random draws (random and split selectors, a randomized
        threshold).

    Attributes
    ----------
    n_seen_ : int
        Samples decided on so far.
    n_asked_ : int
        Of those, the ones whose label was asked.
    spent_ : float
        The estimated fraction of the last ``window`` samples asked (of all samples seen
        with ``window=None``).
    n_classes_ : int or None
        Classes of the model's probabilities at the last decision (None without a model).

    Examples
    --------
    A selector of your own -- ask for every sample the model is less than 90% sure of:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stream import StreamSelector
    >>> class Unsure(StreamSelector):
    ...     def want_label(self, confidence, rng):
    ...         return confidence < 0.9
    >>> X = np.linspace(-3, 3, 60)[:, None]
    >>> model = LogisticRegression().fit(X, X[:, 0] > 0)
    >>> selector = Unsure(budget=1.0)
    >>> asked = selector.decide(model, X)
    >>> X[asked, 0].min() > -1 and X[asked, 0].max() < 1, selector.n_seen_
    (np.True_, 60)
    """

    _parameter_constraints: dict = {
        "budget": [Interval(Real, 0, 1, closed="right")],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }
    needs_model = True  # random selection sets False: it reads no model

    def __init__(self, budget: float = 0.1, *, window: int | None = 100,
                 random_state=None) -> None:
        self.budget = budget
        self.window = window
        self.random_state = random_state

    def decide(self, estimator, X, *, return_confidence: bool = False):
        """Whether to ask for the label of each sample that just arrived, in arrival order.

        Parameters
        ----------
        estimator : fitted classifier, ActiveLearningClassifier or Campaign
            Anything with ``predict_proba``; a learner or a campaign stands for its newest
            model (``estimator_``). ``None`` for a selector that reads no model.
        X : array-like of shape (n_samples, ...) or (n_features,)
            The samples, in arrival order; a 1-D array is one sample of tabular features.
        return_confidence : bool, default=False
            Also return the model's probability of its most likely class for each sample
            (NaN without a model).

        Returns
        -------
        asked : ndarray of bool of shape (n_samples,)
            True where the label should be asked; the budget counts it as spent.
        confidence : ndarray of float of shape (n_samples,)
            Only when ``return_confidence`` is True.
        """
        if not hasattr(self, "n_seen_"):
            self._validate_params()
        model = model_of(estimator) if self.needs_model or estimator is not None else None
        X = check_arrivals(X, model)
        proba = np.empty((len(X), 0)) if model is None else model.predict_proba(X)
        if len(proba) != len(X):
            raise ValueError(f"the estimator's predict_proba gave {len(proba)} rows for "
                             f"{len(X)} samples.")
        return self.decide_proba(proba, return_confidence=return_confidence)

    def decide_proba(self, proba, *, return_confidence: bool = False):
        """:meth:`decide`, from the model's class probabilities of the arrived samples.

        For a caller that has them already (one ``predict_proba`` for both its own use and
        the selector's). A selector that reads no model counts the rows only: give an
        array of shape ``(n_samples, 0)``.

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes)
            The fitted model's probabilities of the samples, in arrival order.
        return_confidence : bool, default=False
            Also return each sample's largest probability (NaN without a model).

        Returns
        -------
        asked : ndarray of bool of shape (n_samples,)
        confidence : ndarray of float of shape (n_samples,)
            Only when ``return_confidence`` is True.
        """
        if not hasattr(self, "n_seen_"):
            self._validate_params()
        proba = np.asarray(proba, dtype=float)
        if self.needs_model:
            proba = check_proba(proba)
            confidence = proba.max(axis=1)
        else:
            confidence = np.full(len(proba), np.nan)
        if not hasattr(self, "n_seen_"):
            self._start()
        self.n_classes_ = proba.shape[1] if proba.ndim == 2 and proba.shape[1] else None
        asked = np.zeros(len(confidence), dtype=bool)
        keep = 1.0 if self.window is None else (self.window - 1) / self.window
        for i, c in enumerate(confidence.tolist()):
            if self.spent_ < self.budget:  # budget left: the rule decides
                asked[i] = bool(self.want_label(c, self.rng_))
            self.n_seen_ += 1
            self.n_asked_ += int(asked[i])
            self.u_ = self.u_ * keep + asked[i]  # without a window: labels asked so far
            self.spent_ = self.u_ / (self.window or self.n_seen_)
        return (asked, confidence) if return_confidence else asked

    def _start(self) -> None:
        """The fitted state of a fresh selector: nothing seen, nothing spent."""
        self.n_seen_, self.n_asked_, self.u_, self.spent_ = 0, 0, 0.0, 0.0
        self.rng_ = check_random_state(self.random_state)
        self._init_state()

    def _init_state(self) -> None:
        """A subclass's own fitted state (an adaptive threshold), set before the first
        decision."""

    def want_label(self, confidence: float, rng: np.random.RandomState) -> bool:
        """Whether to ask for one sample's label, while budget is left (subclasses).

        Parameters
        ----------
        confidence : float
            The model's probability of its most likely class for the sample (NaN when the
            selector reads no model).
        rng : numpy.random.RandomState
            The selector's random generator (``rng_``).

        Returns
        -------
        bool
        """
        raise NotImplementedError(f"{type(self).__name__} must implement want_label.")


def model_of(estimator):
    """The fitted classifier that ``estimator`` stands for, or a clear error.

    A learner (:class:`skal.ActiveLearningClassifier`) and a :class:`skal.Campaign` stand
    for their newest model, ``estimator_``; anything else must be a fitted classifier with
    ``predict_proba``.
    """
    if estimator is None:
        raise TypeError(
            "estimator is None, but this selector reads the model's probabilities: pass a "
            "fitted classifier (or a fitted learner), or use skal.stream.RandomSelection."
        )
    if isinstance(estimator, ActiveLearningClassifier | Campaign):
        what = type(estimator).__name__
        fitted = isinstance(estimator, Campaign) or hasattr(estimator, "campaign_")
        model = estimator.estimator_ if fitted else None
        if model is None:
            raise ValueError(f"estimator ({what}) has no fitted model yet: fit it first.")
        estimator = model
    if not callable(getattr(estimator, "predict_proba", None)):
        raise TypeError(
            f"estimator must have predict_proba (class probabilities), and "
            f"{type(estimator).__name__} has none: use SVC(probability=True), wrap it in "
            "sklearn.calibration.CalibratedClassifierCV, or use skal.stream.RandomSelection."
        )
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError) as exc:
        raise ValueError(
            f"estimator ({type(estimator).__name__}) is not fitted ({exc}); fit it on the "
            "labels so far before deciding on arriving samples."
        ) from None
    return estimator


def check_arrivals(X, model, name: str = "X"):
    """Arriving samples as rows of finite numbers (a DataFrame as it is), checked against
    the model's number of features; a 1-D array is one sample."""
    if not is_frame(X):
        try:
            X = check_array(X, allow_nd=True, ensure_2d=False, ensure_min_samples=0,
                            ensure_all_finite=False, input_name=name)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be samples of numbers ({exc}).") from None
        if X.ndim == 0:
            raise ValueError(f"{name} must be samples (one per row), got the scalar {X!r}.")
        if X.ndim == 1:
            X = X.reshape(1, -1)
        bad = ~np.isfinite(X.reshape(len(X), -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{name} holds NaN or infinite values in {int(bad.sum())} sample(s) "
                f"(first at row {int(np.flatnonzero(bad)[0])}); impute or drop them before "
                "they reach the selector."
            )
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and not is_frame(X) and n_features_of(X) != expected:
        raise ValueError(
            f"{name} has {n_features_of(X)} features per sample (shape {X.shape}), but the "
            f"model was fitted with {expected}: give samples of the model's features (one "
            "sample: a 1-D array of them, or a row)."
        )
    return X


def check_proba(proba: np.ndarray) -> np.ndarray:
    """The model's class probabilities: a finite (n_samples, n_classes >= 1) array."""
    if proba.ndim != 2 or not proba.shape[1] or not np.isfinite(proba).all():
        raise ValueError(
            "proba (the model's predict_proba of the arrived samples) must be finite, of "
            f"shape (n_samples, n_classes), got shape {proba.shape}"
            + ("" if proba.ndim != 2 or np.isfinite(proba).all() else " with NaN or inf")
            + "."
        )
    return proba
