"""
===================================================
Choosing a strategy with GridSearchCV, by its curve
===================================================

An :class:`skal.ActiveLearningClassifier` with ``n_queries > 0`` is "a model at a labeling
budget": its ``fit(X, y)`` runs a whole simulated campaign in which ``y`` plays the oracle.
So scikit-learn's ``GridSearchCV`` can compare query strategies, with cross-validation.

An ordinary scorer would score only each campaign's *final* model.
:func:`skal.metrics.make_curve_scorer` scores the model of every round on the held-out fold
and reduces the learning curve to its normalised area (AULC): the strategy that gets good
*early* wins. ``kind="curve"`` also records every round's score in ``cv_results_``, which
:meth:`skal.plotting.ActiveLearningCurveDisplay.from_cv_results` plots without running any
campaign again.

A logistic regression keeps the example fast; a :class:`skal.CNNClassifier` goes in the
same place.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skal import ActiveLearningClassifier
from skal.metrics import make_curve_scorer
from skal.plotting import ActiveLearningCurveDisplay

X, y = load_digits(return_X_y=True)
X, y = X[:600] / 16, y[:600]

learner = ActiveLearningClassifier(
    LogisticRegression(max_iter=200), n_queries=4, n_instances=10, initial_size=10,
    random_state=0,
    store_round_estimators=True,  # the curve scorer scores each round's model
)
search = GridSearchCV(
    learner,
    {"query_strategy": ["random", "margin", "auto"]},
    scoring=make_curve_scorer(kind="curve"),  # "aulc" and every round's score
    refit="aulc",
    cv=2,
).fit(X, y)

for params, aulc in zip(search.cv_results_["params"],
                        search.cv_results_["mean_test_aulc"], strict=True):
    print(f"{params['query_strategy']:>8}: AULC {aulc:.3f}")
print("best:", search.best_params_)

# %%
# The curves behind the ranking: the mean over the two folds, with one standard
# deviation as a band.
ActiveLearningCurveDisplay.from_cv_results(
    search.cv_results_, candidates=range(3), score_name="Accuracy",
    title="Digits: strategies ranked by AULC (2-fold)")
plt.show()

# %%
# ``make_curve_scorer(kind="labels_to_target", target=0.9)`` ranks by the labels needed to
# reach 90% instead, and ``make_curve_scorer(f1_score, average="macro")`` uses another
# metric. Put ``n_instances`` or ``semi_supervised`` in the grid to tune them too; with
# ``max_labels`` every candidate stops at the same budget.
