"""scikit-learn's own API checks on the learner, around a fast LogisticRegression."""

from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from skal import ActiveLearningClassifier

LEARNERS = [
    ActiveLearningClassifier(LogisticRegression(max_iter=200)),
    ActiveLearningClassifier(
        LogisticRegression(max_iter=200), n_queries=2, n_instances=3, initial_size=0.3
    ),
]


def expected_failed_checks(learner):
    return {
        # The check trains on labels {-1, 1}; -1 marks unlabeled samples (scikit-learn's
        # semi-supervised convention), so only one class is left. scikit-learn exempts its
        # own SelfTrainingClassifier from this check by name.
        "check_classifiers_classes": "-1 means unlabeled, as in SelfTrainingClassifier",
    }


@parametrize_with_checks(LEARNERS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
