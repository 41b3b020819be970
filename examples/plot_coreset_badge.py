"""
============================================
Batches that cover the pool: core-set, BADGE
============================================

Uncertainty sampling scores every sample on its own, so a batch of 20 can be 20 near
copies of the same confusing sample. Batch-aware strategies choose the batch as a whole:

* ``"coreset"`` (Sener & Savarese 2018): k-center greedy -- each next sample is the one
  farthest from everything labeled or chosen so far, in the model's embedding;
* ``"badge"`` (Ash et al. 2020): k-means++ seeding on the gradient embedding, so the
  batch is both uncertain (long gradients) and diverse (different directions);
* ``"diverse_margin"`` (Zhdanov 2019): the most uncertain by margin, clustered, the one
  nearest each centre.

For a network the embedding is its penultimate layer (``embed``); a scikit-learn model
without ``embed``, as here, is seen through its raw features (or a Pipeline's
preprocessing), which makes the picture easy to read in two dimensions.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier

X, y = make_blobs(n_samples=600, centers=[[-3, 0], [0, 2.5], [3, 0], [0, -2.5]],
                  cluster_std=1.1, random_state=0)
rng = np.random.default_rng(0)
labeled = rng.choice(len(X), size=12, replace=False)
y_partial = np.full(len(X), -1)  # -1 marks an unlabeled sample
y_partial[labeled] = y[labeled]

fig, axes = plt.subplots(1, 3, figsize=(11, 3.7), sharex=True, sharey=True)
for ax, strategy in zip(axes, ["margin", "coreset", "badge"], strict=True):
    learner = ActiveLearningClassifier(LogisticRegression(), query_strategy=strategy,
                                       random_state=0).fit(X, y_partial)
    batch = learner.query(X, n_instances=20)  # indices into X; labeled rows never come back
    assert not np.isin(batch, labeled).any()
    ax.scatter(X[:, 0], X[:, 1], c=y, s=6, alpha=0.3, cmap="viridis")
    ax.scatter(X[labeled, 0], X[labeled, 1], marker="s", s=30, color="k", label="labeled")
    ax.scatter(X[batch, 0], X[batch, 1], marker="*", s=90, color="C3", label="batch of 20")
    spread = np.mean(np.linalg.norm(X[batch][:, None] - X[batch][None], axis=-1))
    ax.set_title(f"{strategy}: mean distance {spread:.1f}")
axes[0].legend(loc="lower left", fontsize=8)
fig.suptitle("The same model, three ways to choose a batch of 20")
fig.tight_layout()
plt.show()

# %%
# Margin's batch sits on the decision boundaries, and bunches where boundaries meet;
# core-set's covers the whole pool, ignoring the model's uncertainty; BADGE's mixes the
# two: uncertain samples, spread out. Which is better is measured, not argued: on digits
# ``"diverse_margin"`` needed 0.28x random's labels for 95% accuracy, while core-set did
# not beat random on MNIST-1D (see the Benchmarks page).
