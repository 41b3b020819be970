"""CampaignSpec: what a learner asks of its campaign, as one immutable description."""

from __future__ import annotations

from dataclasses import dataclass, fields

from skal._pool import DEFAULT_POOL_BATCH_SIZE

__all__ = ["CampaignSpec"]


@dataclass(frozen=True)
class CampaignSpec:
    """What a campaign trains, how it chooses, how it starts and when it stops.

    A :class:`skal.Campaign` reads its options from this description only, never from a
    learner's attributes one by one. A learner hands one over through its public parameters
    (:meth:`from_estimator`); the fields are the learner parameters of the same names (see
    :class:`skal.ActiveLearningClassifier` for what each means), already validated by the
    learner's ``_parameter_constraints``.

    Parameters
    ----------
    estimator : estimator or None
        The model to train (``None``: :class:`skal.CNNClassifier`).
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

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier
    >>> from skal.campaign import CampaignSpec
    >>> spec = CampaignSpec.from_estimator(
    ...     ActiveLearningClassifier(LogisticRegression(), n_instances=5, max_labels=50))
    >>> spec.n_instances, spec.max_labels, spec.query_strategy
    (5, 50, 'entropy')
    >>> spec.replace(n_instances=8).n_instances
    8
    """

    estimator: object = None
    query_strategy: object = "entropy"
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

    @classmethod
    def from_estimator(cls, learner) -> CampaignSpec:
        """The description of a learner, from its public parameters (``get_params``).

        Parameters the learner does not have keep their defaults; a learner with
        ``_validate_params`` (every scikit-learn estimator) is validated first.
        """
        if isinstance(learner, CampaignSpec):
            return learner
        if not callable(getattr(learner, "get_params", None)):
            raise TypeError(
                "a campaign needs a learner (such as skal.ActiveLearningClassifier) or a "
                f"CampaignSpec, got {type(learner).__name__}."
            )
        validate = getattr(learner, "_validate_params", None)
        if validate is not None:
            validate()  # scikit-learn's parameter constraints of the learner
        params = learner.get_params(deep=False)
        return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})

    def replace(self, **changes) -> CampaignSpec:
        """A copy with some fields changed."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f"CampaignSpec has no fields {sorted(unknown)}.")
        return type(self)(**{**self.params(), **changes})

    def params(self) -> dict:
        """The fields as a dict (the learner parameters they came from)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
