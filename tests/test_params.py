"""A bool is never taken for a count: every int parameter of every public estimator refuses it.

The rows are found from the estimators' ``_parameter_constraints``, so a new count parameter
is covered without a new row; ``KNOWN`` checks that the discovery finds the ones we know.
"""

import inspect
from numbers import Integral

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval

import skal.semi_supervised as semi
import skal.strategies as strategies
from skal import ActiveLearningClassifier


def count_parameters(cls) -> list[str]:
    """Parameters that take an integer interval and no boolean."""
    found = []
    for name, constraints in getattr(cls, "_parameter_constraints", {}).items():
        takes_int = any(isinstance(c, Interval) and c.type is Integral for c in constraints)
        takes_bool = any(c is bool or c == "boolean" for c in constraints)
        if takes_int and not takes_bool:
            found.append(name)
    return found


def public_classes(module):
    return [getattr(module, n) for n in module.__all__ if inspect.isclass(getattr(module, n))]


# (role in the learner, class): the strategy and semi_supervised objects go into a learner.
ROWS = (
    [("learner", ActiveLearningClassifier, p) for p in count_parameters(ActiveLearningClassifier)]
    + [("query_strategy", c, p) for c in public_classes(strategies) for p in count_parameters(c)]
    + [("semi_supervised", c, p) for c in public_classes(semi) for p in count_parameters(c)]
)
KNOWN = {("ActiveLearningClassifier", "n_instances"), ("ActiveLearningClassifier", "max_labels"),
         ("TypiClust", "n_neighbors"), ("Committee", "n_members"), ("PseudoLabels", "max_pool"),
         ("LabelSpreadingPseudoLabels", "n_components"),
         ("LabelSpreadingPseudoLabels", "max_pseudo_labels")}


def test_the_rows_cover_the_known_count_parameters():
    assert KNOWN <= {(cls.__name__, p) for _, cls, p in ROWS}


def learner_with(role, cls, param, value):
    options = {"initial_size": 20, "random_state": 0}
    if role == "learner":
        options[param] = value
    else:
        options[role] = cls(**{param: value})
    return ActiveLearningClassifier(LogisticRegression(max_iter=200), **options)


@pytest.mark.parametrize("value", [True, False, np.True_])
@pytest.mark.parametrize(("role", "cls", "param"), ROWS,
                         ids=[f"{c.__name__}.{p}" for _, c, p in ROWS])
def test_a_bool_is_refused_for_a_count(role, cls, param, value):
    X, y = load_digits(return_X_y=True)
    message = rf"'{param}' parameter of {cls.__name__} must be an int"
    with pytest.raises(ValueError, match=message):
        learner_with(role, cls, param, value).fit(X[:200], y[:200])


def test_numpy_integers_are_still_counts():
    X, y = load_digits(return_X_y=True)
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=200), n_instances=np.int64(7), n_queries=np.int32(1),
        initial_size=np.int64(20), random_state=0,
        query_strategy=strategies.TypiClust(n_neighbors=np.int64(5)),
        semi_supervised=semi.LabelSpreadingPseudoLabels(n_components=np.int64(8)),
    ).fit(X[:300], y[:300])
    assert learner.n_labeled_ == 27
