"""Exceptions and warnings that skal raises or that its users raise to talk to it."""

from __future__ import annotations

import warnings

__all__ = ["StopLabeling"]


class StopLabeling(Exception):  # noqa: N818 -- a signal, not an error
    """Raised by an oracle or a campaign callback to end the labeling session.

    An oracle raises it when the person typed ``q``: the campaign ends after one last fit
    (``stop_reason_ == "oracle stopped"``). A callback of :class:`skal.Campaign` raises it
    after a fit to end :meth:`~skal.Campaign.run` there, with ``reason`` as the campaign's
    ``stop_reason_`` (``"callback stopped"`` when None).

    Parameters
    ----------
    labels : sequence or None, default=None
        Labels of the batch being labeled when the session stopped, one per queried sample,
        ``None`` for the samples not answered. The answered ones are kept (and trained on);
        the campaign then ends after one last fit.
    reason : str or None, default=None
        Why the session stopped, as a campaign's ``stop_reason_`` records it.

    Examples
    --------
    >>> from skal.exceptions import StopLabeling
    >>> def oracle(X_batch, indices):
    ...     raise StopLabeling([0] + [None] * (len(indices) - 1))  # one answer, then stop
    >>> try:
    ...     oracle(None, [4, 7])
    ... except StopLabeling as stop:
    ...     stop.labels
    [0, None]
    """

    def __init__(self, labels=None, reason: str | None = None) -> None:
        super().__init__(reason or "labeling stopped by the oracle")
        self.labels = labels
        self.reason = reason


def __getattr__(name: str):
    # skal 0.1 spelled it StopLabelling: still the same class, with a deprecation warning.
    if name == "StopLabelling":
        warnings.warn(
            "StopLabelling is deprecated and will be removed in skal 0.3; use "
            "skal.exceptions.StopLabeling (the same class).", FutureWarning, stacklevel=2,
        )
        return StopLabeling
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
