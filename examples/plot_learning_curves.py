"""
=========================================
Learning curves: how many labels it saves
=========================================

:func:`skal.evaluation.active_learning_curve` runs a learner's campaign on the training
part of every cross-validation split (its ``y`` plays the oracle) and scores the model of
every round on the held-out part. :class:`skal.plotting.ActiveLearningCurveDisplay` plots
the mean curve with a band of one standard deviation over the splits, a marker at every
round, each curve's AULC and the labels it needs to reach a target in the legend, and a
reference line: the same model trained on *every* label of the pool, the score active
learning tries to reach with fewer.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skal import ActiveLearningClassifier
from skal.evaluation import active_learning_curve
from skal.metrics import labels_to_reach
from skal.plotting import ActiveLearningCurveDisplay

X, y = load_digits(return_X_y=True)
X, y = X[:600] / 16, y[:600]
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
model = LogisticRegression(max_iter=200)

results = {}
for strategy in ["random", "margin"]:
    learner = ActiveLearningClassifier(model, query_strategy=strategy, n_queries=5,
                                       n_instances=10, initial_size=20, random_state=0)
    results[strategy] = active_learning_curve(learner, X, y, cv=cv)

# The reference: the model on every label of each training split.
full = cross_val_score(model, X, y, cv=cv).mean()

# %%
# ``results[name]`` is ``(n_labeled, scores)`` with ``scores`` of shape
# ``(n_rounds, n_splits)``: plain arrays, to summarise as you like.
for name, (n_labeled, scores) in results.items():
    needed = labels_to_reach(n_labeled, scores.mean(axis=1), target=0.85)
    print(f"{name:>6}: labels to 85% {needed:g}; final {scores[-1].mean():.3f}")

display = ActiveLearningCurveDisplay.from_results(
    results, score_name="Accuracy", reference_score=full,
    reference_label="All labels", target=0.85,
    title="Digits, logistic regression, 3 splits")
plt.show()

# %%
# ``display.aulc_`` holds the areas the legend shows; ``scoring="balanced_accuracy"`` (or
# any scorer, several at once as a list) changes what is measured, and
# ``scoring="per_class_recall"`` gives each class's recall, for imbalanced pools.
print({name: round(a, 3) for name, a in display.aulc_.items()})
