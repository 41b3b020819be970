"""A simulated stream campaign: samples arrive, a selector asks, a Campaign keeps the labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skal import ActiveLearningClassifier
from skal._labels import check_y, unlabeled_mask
from skal._params import check_count
from skal._pool import take_rows
from skal.campaign import Campaign, CampaignSpec
from skal.metrics import area_under_learning_curve
from skal.stream._base import StreamSelector, check_arrivals
from skal.stream._registry import resolve_selector

__all__ = ["StreamResult", "simulate_stream"]


@dataclass(eq=False)
class StreamResult:
    """What a simulated stream asked, and its learning curves.

    One curve point per fit (the initial one, then after every ``refit_every`` labels)
    and one at the end of the stream.

    Attributes
    ----------
    n_seen : ndarray of int of shape (n_points,)
        Samples of the stream seen at each point.
    n_labels : ndarray of int of shape (n_points,)
        Labels spent by then (the initial ones included).
    prequential_accuracy : ndarray of shape (n_points,)
        Accuracy of the model on each sample when it arrived (before its label, if
        asked), averaged over the samples seen after the initial set (test-then-train).
    test_accuracy : ndarray of shape (n_points,) or None
        The model's accuracy on ``X_test`` at each point; None without a test set.
    asked : ndarray of bool of shape (n_stream,)
        Whether each stream sample's label was asked (the initial ones are).
    correct : ndarray of float of shape (n_stream,)
        1.0 where the model's prediction on arrival was right, 0.0 where wrong, NaN for
        the initial samples (no model yet).
    n_initial : int
        The initial samples: the first ``initial``, and more if they held one class.
    selector : StreamSelector
        The selector after the stream (its ``n_asked_``, ``spent_``, ``threshold_``...).
    campaign : Campaign
        The campaign: its pool is the stream seen, its answers the labels asked, its
        ``estimator_`` the last model.

    Examples
    --------
    What :func:`~skal.stream.simulate_stream` returns:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stream import VariableUncertainty, simulate_stream
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> result = simulate_stream(LogisticRegression(), X, y, VariableUncertainty(budget=0.1),
    ...                          refit_every=5)
    >>> result.n_seen[-1], result.n_labels[-1], result.n_initial
    (np.int64(200), np.int64(39), 10)
    >>> result.asked.shape, int(result.asked.sum())
    ((200,), 39)
    >>> round(result.aulc("prequential"), 2)
    0.91
    """

    n_seen: np.ndarray
    n_labels: np.ndarray
    prequential_accuracy: np.ndarray
    test_accuracy: np.ndarray | None
    asked: np.ndarray
    correct: np.ndarray
    n_initial: int
    selector: StreamSelector
    campaign: Campaign

    def aulc(self, score: str = "test") -> float:
        """Area under the curve of ``score`` ("test" or "prequential") against labels spent,
        normalised by the label range (:func:`skal.metrics.area_under_learning_curve`)."""
        if score not in ("test", "prequential"):
            raise ValueError(f"score must be 'test' or 'prequential', got {score!r}.")
        values = self.test_accuracy if score == "test" else self.prequential_accuracy
        if values is None:
            raise ValueError("the stream ran without X_test: use score='prequential'.")
        last = np.r_[np.diff(self.n_labels) > 0, True]  # one point per label count
        keep = last & ~np.isnan(values)
        return area_under_learning_curve(self.n_labels[keep], values[keep])


def simulate_stream(learner, X_stream, y_stream, selector, *, initial: int = 10,
                    batch_size: int = 1, refit_every: int = 1, X_test=None,
                    y_test=None) -> StreamResult:
    """Run a stream through a selector, with ``y_stream`` answering what it asks.

    The first ``initial`` samples are labeled (and more, one by one, until two classes
    are seen) and fit the first model. Then the samples arrive ``batch_size`` at a time:
    the current model predicts them (prequential accuracy), the selector decides which to
    ask, every sample joins the campaign's pool (:meth:`skal.Campaign.add_samples`) and
    the asked ones get their label from ``y_stream`` (:meth:`skal.Campaign.answer`). After
    every ``refit_every`` new labels the campaign refits on all its labels. A label is
    read only once it is asked: which samples are asked never depends on the others.

    Parameters
    ----------
    learner : ActiveLearningClassifier, CampaignSpec or classifier
        What to train: a learner's parameters (``estimator``, ``warm_start``,
        ``semi_supervised``, ``random_state``...; its query options are unused), or a
        classifier, which is cloned for every fit.
    X_stream : array-like of shape (n_stream, ...)
        The samples in arrival order.
    y_stream : array-like of shape (n_stream,)
        Their labels: the simulation's oracle, every one known.
    selector : str or StreamSelector
        Who decides (see :func:`resolve_selector`); a copy is used, yours is unchanged.
    initial : int >= 1, default=10
        Samples labeled at the start.
    batch_size : int >= 1, default=1
        Samples that arrive together and are decided by the same model.
    refit_every : int >= 1, default=1
        New labels between fits.
    X_test, y_test : array-like or None, default=None
        A held-out set scored at every curve point.

    Returns
    -------
    StreamResult

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal.stream import VariableUncertainty, simulate_stream
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> result = simulate_stream(LogisticRegression(), X, y, VariableUncertainty(budget=0.1),
    ...                          refit_every=5)
    >>> result.n_seen[-1], int(result.asked.sum()) <= 10 + 0.1 * 600 + 10
    (np.int64(600), True)
    >>> result.prequential_accuracy[-1] > 0.9
    np.True_
    """
    selector = resolve_selector(selector)
    spec = _spec_of(learner, selector)
    X = check_arrivals(X_stream, None, "X_stream")
    y = _check_stream_labels(y_stream, len(X), "y_stream")
    counts = {name: check_count(value, name, caller="simulate_stream") for name, value in
              (("initial", initial), ("batch_size", batch_size), ("refit_every", refit_every))}
    test = _check_test(X_test, y_test)
    n, n0 = len(X), _initial_count(y, counts["initial"])
    campaign = Campaign(spec, take_rows(X, np.arange(n0)))
    campaign.answer(np.arange(n0), y[:n0], reason="initial")
    campaign.refit()
    asked, correct = np.zeros(n, dtype=bool), np.full(n, np.nan)
    asked[:n0] = True
    rows, pending = [_point(campaign, n0, correct, n0, test)], 0
    for start in range(n0, n, counts["batch_size"]):
        stop = min(start + counts["batch_size"], n)
        chunk, model = take_rows(X, np.arange(start, stop)), campaign.estimator_
        proba = model.predict_proba(chunk) if selector.needs_model else \
            np.empty((stop - start, 0))
        mask = selector.decide_proba(proba)  # before any label of the chunk is read
        correct[start:stop] = model.predict(chunk) == y[start:stop]
        ids = campaign.add_samples(chunk)
        if mask.any():
            campaign.answer(ids[mask], y[start:stop][mask], reason="stream")
            asked[start:stop], pending = mask, pending + int(mask.sum())
        if pending >= counts["refit_every"] or (stop == n and pending):
            campaign.refit()
            pending = 0
            rows.append(_point(campaign, stop, correct, n0, test))
    if rows[-1][0] != n:
        rows.append(_point(campaign, n, correct, n0, test))
    seen, labels, preq, acc = (np.array(c) for c in zip(*rows))
    return StreamResult(seen, labels, preq, None if test is None else acc, asked, correct,
                        n0, selector, campaign)


def _spec_of(learner, selector: StreamSelector) -> CampaignSpec:
    """What to train, as a campaign's spec: a learner's parameters, or a classifier."""
    if isinstance(learner, ActiveLearningClassifier | CampaignSpec):
        return CampaignSpec.from_estimator(learner)
    if not callable(getattr(learner, "fit", None)) or isinstance(learner, type):
        raise TypeError(
            "learner must be a classifier (with fit and predict_proba), a "
            f"skal.ActiveLearningClassifier or a CampaignSpec, got {learner!r}."
        )
    if selector.needs_model and not callable(getattr(learner, "predict_proba", None)):
        raise TypeError(
            f"learner ({type(learner).__name__}) has no predict_proba, which "
            f"{type(selector).__name__} reads: use SVC(probability=True), wrap it in "
            "sklearn.calibration.CalibratedClassifierCV, or selector='random'."
        )
    return CampaignSpec(estimator=learner)


def _check_stream_labels(y, n: int, name: str) -> np.ndarray:
    """Every label of the stream, known (a simulation's oracle)."""
    y = check_y(y, n)
    missing = unlabeled_mask(y)
    if missing.any():
        raise ValueError(
            f"{name} must hold every sample's label (it answers the simulation), but "
            f"{int(missing.sum())} are unlabeled (first at {int(np.flatnonzero(missing)[0])})."
        )
    return y


def _check_test(X_test, y_test):
    """The held-out set as (X, y), or None; both or neither."""
    if X_test is None and y_test is None:
        return None
    if X_test is None or y_test is None:
        raise ValueError("give both X_test and y_test, or neither.")
    X_test = check_arrivals(X_test, None, "X_test")
    return X_test, _check_stream_labels(y_test, len(X_test), "y_test")


def _initial_count(y: np.ndarray, initial: int) -> int:
    """The first ``initial`` samples, then one more at a time until two classes are seen."""
    n0, seen = min(initial, len(y)), set(y[:initial].tolist())
    while len(seen) < 2 and n0 < len(y):
        seen.add(y[n0].item() if hasattr(y[n0], "item") else y[n0])
        n0 += 1
    if len(seen) < 2:
        raise ValueError(
            "y_stream holds a single class: a classifier needs two (the stream is labeled "
            "from its start until two classes are seen)."
        )
    return n0


def _point(campaign: Campaign, n_seen: int, correct: np.ndarray, n0: int, test) -> tuple:
    """One curve point: samples seen, labels, prequential and test accuracy."""
    done = correct[n0:n_seen]
    preq = float(np.mean(done)) if len(done) else np.nan
    acc = np.nan
    if test is not None:
        acc = float(np.mean(campaign.estimator_.predict(test[0]) == test[1]))
    return n_seen, len(campaign.labeled_indices_), preq, acc
