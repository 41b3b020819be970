"""CampaignSpec: what a learner asks of its campaign, as one immutable description."""

from __future__ import annotations

from dataclasses import dataclass, fields

from skal._label_sets import check_indicator_y, check_not_one_hot, is_indicator
from skal._labels import CLASSIFICATION, MULTILABEL, REGRESSION, TASKS
from skal._pool import DEFAULT_POOL_BATCH_SIZE

__all__ = ["CampaignSpec", "as_learner"]


@dataclass(frozen=True)
class CampaignSpec:
    """What a campaign trains, how it chooses, how it starts and when it stops.

    A :class:`skal.Campaign` reads its options from this description only, never from a
    learner's attributes one by one. A learner hands one over through its public parameters
    (:meth:`from_estimator`); the fields are the learner parameters of the same names (see
    :class:`skal.ActiveLearningClassifier` for what each means), already validated by the
    learner's ``_parameter_constraints``, and the ``task`` its scikit-learn tags declare.

    Parameters
    ----------
    estimator : estimator or None
        The model to train (``None``: :class:`skal.CNNClassifier`, or
        :class:`skal.CNNRegressor` for a regression task).
    query_strategy : str, strategy object or callable
        How the next batch is chosen.
    n_instances : int
        Samples handed out per round.
    n_queries : int
        Rounds of :meth:`skal.Campaign.run` after the initial set.
    initial_size : int or float
        The initial set: a count, or a fraction of the pool.
    initial_selection : {"random", "stratified"}
        How the initial set is drawn: without labels, or (peeking) one per class.
    warm_start : bool
        Refit from the current weights.
    pool_batch_size : int
        Pool samples scored at once.
    verbose : int
        One line per round when > 0.
    random_state : int, RandomState instance or None
        Seeds the campaign.
    oracle : callable, object with ``label`` or None
        Who answers what ``y`` does not know.
    journal : str, path-like, LabelJournal or None
        Where answers are recorded.
    max_labels : int or None
        The labeling budget.
    semi_supervised : None, str or object
        Training on the pool (see :mod:`skal.semi_supervised`).
    store_round_estimators : bool
        Keep every round's model.
    stopping : None, criterion or list of criteria
        When to stop before the budget (see :mod:`skal.stopping`).
    task : {"classification", "regression", "multilabel"}, default="classification"
        What the labels are: class names, or regression targets (floats; only NaN, None and
        pd.NA mark unlabeled samples, no class is needed twice, the initial set is random,
        and regression strategies only). From the learner's tags
        (:func:`sklearn.base.is_regressor`), never from one of its attributes; a
        classification spec given a 2-D 0/1 ``y`` becomes ``"multilabel"``
        (:meth:`for_targets`): a set of labels per sample, multi-label strategies, a random
        initial set, no pseudo-labels or stopping criteria.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.campaign import CampaignSpec
    >>> spec = CampaignSpec.from_estimator(
    ...     ActiveLearningClassifier(LogisticRegression(), n_instances=5, max_labels=50))
    >>> spec.n_instances, spec.max_labels, spec.query_strategy
    (5, 50, 'auto')
    >>> spec.replace(n_instances=8).n_instances
    8
    >>> spec.task
    'classification'
    """

    estimator: object = None
    query_strategy: object = "auto"
    n_instances: int = 10
    n_queries: int = 0
    initial_size: int | float = 10
    initial_selection: str = "random"
    warm_start: bool = False
    pool_batch_size: int = DEFAULT_POOL_BATCH_SIZE
    verbose: int = 0
    random_state: object = None
    oracle: object = None
    journal: object = None
    max_labels: int | None = None
    semi_supervised: object = None
    store_round_estimators: bool = False
    stopping: object = None
    task: str = CLASSIFICATION

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {list(TASKS)}, got {self.task!r}.")
        if self.task == MULTILABEL:
            self._check_multilabel()
        if self.task != REGRESSION:
            return
        if self.initial_selection == "stratified":
            raise ValueError(
                "initial_selection='stratified' draws one sample per class, but a regression "
                "task has no classes: use initial_selection='random' (the default)."
            )
        if self.semi_supervised not in (None, False):
            raise ValueError(
                f"semi_supervised={self.semi_supervised!r} trains on pseudo-labeled classes; "
                "a regression campaign trains on its labels only: use semi_supervised=None."
            )
        if self.stopping is not None:
            raise ValueError(
                f"stopping={self.stopping!r}: skal's stopping criteria read class "
                "probabilities, which a regressor has none of; use stopping=None and a "
                "budget (n_queries or max_labels)."
            )

    def _check_multilabel(self) -> None:
        """Options that read one class per sample do not apply to a multi-label task."""
        for name, value, ok in (("initial_selection", self.initial_selection, "'random'"),
                                ("semi_supervised", self.semi_supervised, "None"),
                                ("stopping", self.stopping, "None")):
            if value not in (None, False, "random"):
                raise ValueError(
                    f"{name}={value!r} reads one class per sample, but this is a multi-label "
                    f"campaign (a 2-D 0/1 y): use {name}={ok}."
                )

    def for_targets(self, y) -> CampaignSpec:
        """This spec for the labels ``y``: a classification spec and a 2-D 0/1 ``y``
        (several columns) give a multi-label one.

        A ``y`` whose labeled rows all hold exactly one 1 is refused as ambiguous (one-hot
        classes?); a spec that already says ``task="multilabel"`` takes it.
        """
        if self.task != CLASSIFICATION or y is None or not is_indicator(y):
            return self
        check_not_one_hot(check_indicator_y(y, len(y) if hasattr(y, "__len__") else
                                            y.shape[0]))
        return self.replace(task=MULTILABEL)

    @classmethod
    def from_estimator(cls, learner) -> CampaignSpec:
        """The description of a learner, from its public parameters (``get_params``).

        Parameters the learner does not have keep their defaults; a learner with
        ``_validate_params`` (every scikit-learn estimator) is validated first. A model
        that is not a learner (no ``query_strategy``: a ``LogisticRegression``, a
        ``Pipeline``, a CNN) is what the default learner trains:
        ``ActiveLearningClassifier(model)``, or ``ActiveLearningRegressor(model)`` for a
        regressor. (Reading a model's parameters as a learner's gave the default CNN.)
        """
        if isinstance(learner, CampaignSpec):
            return learner
        if not callable(getattr(learner, "get_params", None)):
            raise TypeError(
                "a campaign needs a learner (such as skal.ActiveLearningClassifier) or a "
                f"CampaignSpec, got {type(learner).__name__}."
            )
        from sklearn.base import is_regressor  # lazy: import skal stays light

        if "query_strategy" not in learner.get_params(deep=False):
            return cls.from_estimator(as_learner(learner))
        validate = getattr(learner, "_validate_params", None)
        if validate is not None:
            validate()  # scikit-learn's parameter constraints of the learner
        params = learner.get_params(deep=False)
        known = {f.name: params[f.name] for f in fields(cls) if f.name in params}
        known["task"] = REGRESSION if is_regressor(learner) else CLASSIFICATION
        return cls(**known)

    def replace(self, **changes) -> CampaignSpec:
        """A copy with some fields changed."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f"CampaignSpec has no fields {sorted(unknown)}.")
        return type(self)(**{**self.params(), **changes})

    def params(self) -> dict:
        """The fields as a dict (the learner parameters they came from, and ``task``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def learner_params(self) -> dict:
        """The learner parameters: :meth:`params` without ``task`` (the learner's class)."""
        return {k: v for k, v in self.params().items() if k != "task"}


def as_learner(model):
    """``model`` if it is a learner (it has a ``query_strategy`` parameter), else the
    default learner around it: ``ActiveLearningClassifier(model)``, or
    ``ActiveLearningRegressor(model)`` for a regressor."""
    if "query_strategy" in model.get_params(deep=False):
        return model
    from sklearn.base import is_regressor

    from skal import ActiveLearningClassifier, ActiveLearningRegressor  # they import this

    return (ActiveLearningRegressor if is_regressor(model) else ActiveLearningClassifier)(model)
