"""
==============================================
MC-dropout BALD: what the network disagrees on
==============================================

Bayesian active learning by disagreement (BALD; Gal et al. 2017) asks for the samples on
which the network's stochastic forward passes -- dropout left on at prediction -- agree
least: the mutual information between the prediction and the weights. It separates
*epistemic* uncertainty (the model does not know yet: labels help) from *aleatoric*
uncertainty (the sample is ambiguous: labels help little), which plain entropy mixes.

:class:`skal.CNNClassifier` has dropout and ``predict_proba_samples(X, n_samples)``;
``query_strategy="bald"`` is :class:`skal.strategies.MCDropoutSampling` with its defaults,
and the measures are public functions of the passes.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skal import ActiveLearningClassifier, CNNClassifier
from skal.datasets import load_digits_split
from skal.strategies import MCDropoutSampling, bald, entropy

X_train, X_test, y_train, y_test = load_digits_split()
X_pool, y_pool = X_train[:500], y_train[:500]

cnn = CNNClassifier(filters=(16,), dense_units=32, dropout=0.3, epochs=3,
                    min_train_steps=150, learning_rate=3e-3, random_state=0)
learner = ActiveLearningClassifier(
    cnn, query_strategy=MCDropoutSampling("bald", n_samples=10),
    n_queries=2, n_instances=20, initial_size=20, random_state=0,
).fit(X_pool, y_pool)  # a simulated campaign: y_pool answers
print("labels:", learner.n_labeled_, "test accuracy:", round(learner.score(X_test, y_test), 3))

# %%
# The measures, on the passes
# ---------------------------
# ``predict_proba_samples`` returns ``(n_samples, n_pool, n_classes)``: one prediction per
# dropout mask. BALD is the entropy of the mean prediction minus the mean entropy of the
# passes; a sample with high entropy but low BALD is ambiguous to every pass alike.
passes = learner.estimator_.predict_proba_samples(X_pool, n_samples=10)
scores_bald = bald(passes)
scores_entropy = entropy(passes.mean(axis=0))

unlabeled = np.setdiff1d(np.arange(len(X_pool)), learner.labeled_indices_)
batch = learner.query(X_pool[unlabeled], n_instances=8)

fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(scores_entropy[unlabeled], scores_bald[unlabeled], s=8, alpha=0.5,
           label="pool")
ax.scatter(scores_entropy[unlabeled][batch], scores_bald[unlabeled][batch], s=30,
           color="C3", label="next batch (BALD)")
ax.set_xlabel("Entropy of the mean prediction")
ax.set_ylabel("BALD (mutual information)")
ax.set_title("What BALD asks for")
ax.legend()

# %%
# The next batch, as images
fig, axes = plt.subplots(1, 8, figsize=(8, 1.4))
for ax, i in zip(axes, unlabeled[batch], strict=True):
    ax.imshow(X_pool[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"y={y_pool[i]}", fontsize=8)
    ax.axis("off")
plt.show()

# %%
# ``"variation_ratios"`` and ``"mc_entropy"`` are the other MC-dropout measures;
# ``"vote_entropy"`` and ``"kl_divergence"`` treat the passes as a committee. With a model
# that has no dropout (a scikit-learn classifier), the same names use five bootstrap
# clones of it instead.
