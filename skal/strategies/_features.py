"""What deep strategies need from a model: MC-dropout passes, probabilities, class counts,
and the committee of bootstrap clones that stands in for MC passes on any other model.

The final step of a Pipeline, embeddings and the features of any classifier
(:func:`features_of`, :class:`InputFeatures`) come from :mod:`skal._model_steps`, shared
with the pseudo-labelers, and are re-exported here for the strategies.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from skal._model_steps import (
    NUMBERS_ALTERNATIVE,
    InputFeatures,
    embed,
    features_of,
    final_step,
    has_method,
    last_step,
)
from skal._pool import is_frame, take_rows

__all__ = [
    "DEFAULT_MEMBERS",
    "NUMBERS_ALTERNATIVE",
    "InputFeatures",
    "embed",
    "features_of",
    "fit_committee",
    "final_step",
    "has_method",
    "last_step",
    "mc_scores",
    "member_scores",
    "n_classes",
    "predict_proba_2d",
    "proba_samples",
    "query_seed",
]

#: Members of the committee of bootstrap clones that stands in for MC-dropout passes when
#: the model has no ``predict_proba_samples``: 5 fits of the model per query, the size that
#: the error of a missing method has named since (``Committee(n_members=5)``).
DEFAULT_MEMBERS = 5


def proba_samples(estimator, X, n_samples: int, random_state, *, strategy: str | None = None):
    """``n_samples`` stochastic (MC-dropout) class-probability passes over ``X``.

    Calls ``estimator.predict_proba_samples(X, n_samples, random_state=...)`` -- on the last
    step of a Pipeline, with ``X`` transformed through the others.

    Returns
    -------
    proba_samples : ndarray of shape (n_samples, n, n_classes)
        Float64.

    Raises
    ------
    TypeError
        If the (final) estimator cannot do stochastic forward passes.
    """
    model, Xt = final_step(estimator, X)
    if not hasattr(model, "predict_proba_samples"):
        raise TypeError(stochastic_error(model, strategy))
    samples = model.predict_proba_samples(Xt, n_samples, random_state=random_state)
    samples = np.asarray(samples, dtype=np.float64)
    return samples.reshape(samples.shape[0], len(Xt), -1)


def mc_scores(estimator, X, *, measure, n_samples: int, seed: int, strategy=None):
    """``measure`` of ``n_samples`` MC-dropout passes over ``X`` with dropout seed ``seed``.

    One seed for a whole query: every chunk (in memory or a dask block on a worker) gets the
    same dropout masks for the same sample.
    """
    return measure(proba_samples(estimator, X, n_samples, seed, strategy=strategy))


def predict_proba_2d(estimator, X) -> np.ndarray:
    """``estimator.predict_proba(X)`` as (n, n_classes), also for one sample."""
    return np.asarray(estimator.predict_proba(X), dtype=np.float64).reshape(len(X), -1)


def stochastic_error(model, strategy: str | None) -> str:
    """The message of the TypeError for a model without stochastic forward passes."""
    who = f"query_strategy={strategy!r}" if strategy else "This query strategy"
    return (
        f"{who} needs stochastic (MC-dropout) forward passes, but {type(model).__name__} "
        "cannot do them (it has no predict_proba_samples method). Use skal.CNNClassifier "
        "or skal.KerasClassifier with a Dropout layer; with any classifier, a committee of "
        "bootstrap clones (skal.strategies.Committee(n_members=5)), or a strategy that "
        "needs only predict_proba (e.g. 'entropy')."
    )


def n_classes(estimator, y_labeled=None) -> int | None:
    """The number of classes: the estimator's ``classes_``, else the distinct labels so far.

    None when neither tells (no ``classes_`` and no label yet).
    """
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        return len(classes)
    if y_labeled is not None and len(y_labeled):
        return len(set(np.asarray(y_labeled, dtype=object).tolist()))
    return None


def query_seed(random_state) -> int:
    """One 32-bit seed for a whole query, from an int, None or a Generator."""
    return int(np.random.default_rng(random_state).integers(2**32))


# ---------------------------------------------------------------- committees
def _set_random_states(estimator, seed: int) -> None:
    """Give every ``random_state`` parameter (nested ones too) the seed."""
    params = estimator.get_params(deep=True)
    keys = [k for k in params if k == "random_state" or k.endswith("__random_state")]
    if keys:
        estimator.set_params(**dict.fromkeys(keys, seed))


def _stratified_bootstrap(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bootstrap resample drawn within each class: every class keeps its count."""
    parts = [
        rng.choice(members, size=len(members), replace=True)
        for members in (np.flatnonzero(y == c) for c in np.unique(y))
    ]
    return rng.permutation(np.concatenate(parts))


def member_scores(estimator, X, *, measure, members, classes) -> np.ndarray:
    """``measure`` of the fitted members' predictions of ``X``, aligned on ``classes``."""
    stack = np.zeros((len(members), len(X), len(classes)))
    for m, member in enumerate(members):
        cols = np.searchsorted(classes, last_step(member).classes_)
        stack[m][:, cols] = predict_proba_2d(member, X)
    return measure(stack)


def fit_committee(templates, context, seed: int, *, bootstrap: bool = True, who: str):
    """Clones of ``templates`` fitted on the query's labeled set: (members, classes).

    Each member gets its own ``random_state`` (nested ones too) and, with ``bootstrap``, a
    bootstrap resample of the labeled set drawn within each class; all from ``seed``. A
    DataFrame labeled set stays one (a ``ColumnTransformer`` selects columns by name).
    """
    X_labeled, y_labeled = context.X_labeled, context.y_labeled
    if X_labeled is None or y_labeled is None or len(X_labeled) == 0:
        raise ValueError(
            f"{who} fits a committee on the labeled set, but the query context has no "
            "X_labeled/y_labeled: ActiveLearningClassifier passes them; called directly, "
            "give context=QueryContext(X_labeled=..., y_labeled=...), or use a model with "
            "MC passes (skal.CNNClassifier)."
        )
    X_labeled = X_labeled if is_frame(X_labeled) else np.asarray(X_labeled)
    y_labeled = np.asarray(y_labeled)
    if len(X_labeled) != len(y_labeled):
        raise ValueError(
            f"X_labeled has {len(X_labeled)} samples but y_labeled has {len(y_labeled)}."
        )
    seeds = np.random.SeedSequence(seed).generate_state(len(templates) + 1)
    rng = np.random.default_rng(seeds[-1])
    classes = np.unique(y_labeled)
    members = []
    for template, member_seed in zip(templates, seeds[:-1]):
        member = clone(template)
        if member is template:  # a FrozenEstimator: its clone is itself, fit does nothing
            raise TypeError(
                f"{who} fits a committee of clones of {type(template).__name__}, which cannot "
                "be refitted (it is its own clone), so every member would be the same model; "
                "use a strategy that needs only predict_proba (e.g. query_strategy='margin'), "
                "or a model with MC passes (skal.CNNClassifier)."
            )
        _set_random_states(member, int(member_seed) & 0x7FFFFFFF)
        rows = _stratified_bootstrap(y_labeled, rng) if bootstrap else np.arange(len(y_labeled))
        members.append(member.fit(take_rows(X_labeled, rows), y_labeled[rows]))
    return members, classes
