"""Option names, so that ``semi_supervised="pseudo_labels"`` can be grid-searched, and the
one resolution of a ``semi_supervised`` value into a checked option."""

from __future__ import annotations

from skal.semi_supervised._base import PoolTraining
from skal.semi_supervised._consistency import ConsistencyTraining
from skal.semi_supervised._label_spreading import LabelSpreadingPseudoLabels
from skal.semi_supervised._pseudo_labels import PseudoLabels

__all__ = ["SEMI_SUPERVISED", "resolve_semi_supervised"]

#: The names ``semi_supervised`` may be, each for its option class with default options.
SEMI_SUPERVISED = {"pseudo_labels": PseudoLabels, "label_spreading": LabelSpreadingPseudoLabels,
                   "consistency": ConsistencyTraining}

_ACCEPTED = ("None, False, " + ", ".join(map(repr, SEMI_SUPERVISED))
             + " or an object with an augment() method (a skal.semi_supervised.PoolTraining)")


def resolve_semi_supervised(value, estimator=None) -> PoolTraining | None:
    """What a ``semi_supervised`` option stands for: None (labeled samples only) or an option
    object with its options checked.

    Parameters
    ----------
    value : None, False, "pseudo_labels", "label_spreading", "consistency" or an object
        None or False: train on the labeled samples only. ``"pseudo_labels"``: a
        :class:`PseudoLabels` with its default options; ``"label_spreading"``: a
        :class:`LabelSpreadingPseudoLabels`; ``"consistency"``: a
        :class:`ConsistencyTraining`. An object with an ``augment`` method (the
        :class:`PoolTraining` protocol; built-in or not) is validated
        (``_parameter_constraints``, where it has them) and returned as it is.
    estimator : estimator object, optional
        The model the campaign will train, given to the option's ``check_estimator`` (where
        it has one: ``embed`` for ``LabelSpreadingPseudoLabels(embedding="model")``, fit's
        ``X_unlabeled`` for ``ConsistencyTraining``), so a mismatch fails before any label.

    Returns
    -------
    semi_supervised : PoolTraining (or another object with ``augment``) or None

    Raises
    ------
    ValueError
        If ``value`` is an unknown name, or an option with a bad value (an
        ``InvalidParameterError``, also a TypeError, naming it).
    TypeError
        If ``value`` is of any other type (or a class), or ``estimator`` lacks what it reads.

    Examples
    --------
    >>> from skal.semi_supervised import PseudoLabels, resolve_semi_supervised
    >>> resolve_semi_supervised("pseudo_labels")
    PseudoLabels()
    >>> resolve_semi_supervised(PseudoLabels(threshold=0.9)), resolve_semi_supervised(None)
    (PseudoLabels(threshold=0.9), None)
    >>> resolve_semi_supervised("pseudo")
    Traceback (most recent call last):
    ...
    ValueError: Unknown semi_supervised='pseudo'; choose None, False, 'pseudo_labels', 'label_spreading', 'consistency' or an object with an augment() method (a skal.semi_supervised.PoolTraining).
    """  # noqa: E501
    if value is None or value is False:
        return None
    if isinstance(value, str):
        try:
            value = SEMI_SUPERVISED[value]()
        except KeyError:
            raise ValueError(f"Unknown semi_supervised={value!r}; choose {_ACCEPTED}.") from None
    if isinstance(value, type):
        raise TypeError(f"semi_supervised must be {_ACCEPTED}, got the class "
                        f"{value.__name__}; give an object of it: {value.__name__}().")
    if not callable(getattr(value, "augment", None)):
        raise TypeError(f"semi_supervised must be {_ACCEPTED}, got {value!r} "
                        f"({type(value).__name__}).")
    if callable(getattr(value, "_validate_params", None)):
        value._validate_params()
    if estimator is not None and callable(getattr(value, "check_estimator", None)):
        value.check_estimator(estimator)
    return value
