"""
====================================================
A CNN on CIFAR-shaped images: the loop, step by step
====================================================

The active-learning loop a practitioner writes around a Keras CNN, on 32x32 colour images
(CIFAR-10's shape). The images are synthetic so that the example runs offline in seconds:
three classes of coloured shapes on noise. Swap in ``keras.datasets.cifar10.load_data()``
and a larger network for the real thing; nothing else changes.

The loop is scikit-learn's ``fit`` on the labels you have, then ``query`` (the pool indices
the model wants labeled, most informative first) and ``teach`` (their labels, from your
oracle) as often as the budget allows. Here the "oracle" is the known ``y`` of the pool.
"""

# %%
# Synthetic CIFAR-shaped data
# ---------------------------
# Four classes: a red square, a red bar, a green square, a green bar (a bar lies or stands),
# each at a random place and brightness, on noise: colour alone does not tell the class.
# Shape ``(n, 32, 32, 3)``, like CIFAR-10.
import matplotlib.pyplot as plt
import numpy as np

from skal import ActiveLearningClassifier, CNNClassifier
from skal.plotting import ActiveLearningCurveDisplay

rng = np.random.default_rng(0)


def make_images(n, rng):
    X = rng.normal(0.3, 0.12, size=(n, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=n)
    for img, label in zip(X, y, strict=True):
        r, c = rng.integers(6, 14, size=2)
        h, w = (8, 8) if label % 2 == 0 else [(3, 14), (14, 3)][rng.integers(2)]
        img[r : r + h, c : c + w, label // 2] += rng.uniform(0.3, 0.7)
    return np.clip(X, 0, 1), y


X_pool, y_pool = make_images(240, rng)
X_test, y_test = make_images(120, rng)

fig, axes = plt.subplots(1, 8, figsize=(10, 1.7))
for ax, img, label in zip(axes, X_pool, y_pool, strict=False):
    ax.imshow(img)
    ax.set_title(f"class {label}")
    ax.axis("off")

# %%
# A tiny CNN inside the learner
# -----------------------------
# :class:`skal.CNNClassifier` builds a small 2-D CNN from the array's own shape (here
# ``32x32x3``); ``filters``, ``dense_units`` and ``epochs`` are kept tiny for the gallery.
# ``min_train_steps`` guarantees enough gradient steps while the labeled set is small.
# ``teach`` trains the network again from scratch on every label so far
# (``warm_start=True`` fine-tunes it instead, for ``finetune_epochs``).


def make_learner(strategy):
    """The learner: a tiny CNN asking by ``strategy``."""
    cnn = CNNClassifier(filters=(8,), dense_units=16, epochs=3, min_train_steps=100,
                        learning_rate=2e-3, random_state=0)
    return ActiveLearningClassifier(cnn, query_strategy=strategy, random_state=0)


# %%
# The loop: fit, query, teach
# ---------------------------
# Start from 15 labels; ask 20 more per round. ``query`` returns indices into the pool it
# is given; the samples already labeled are removed from the pool here, as an annotation
# tool would do.
learner = make_learner("margin")
labeled = np.arange(15)
learner.fit(X_pool[labeled], y_pool[labeled])
n_labeled, scores = [len(labeled)], [learner.score(X_test, y_test)]
for _ in range(3):
    unlabeled = np.setdiff1d(np.arange(len(X_pool)), labeled)
    idx = unlabeled[learner.query(X_pool[unlabeled], n_instances=20)]
    learner.teach(X_pool[idx], y_pool[idx])  # the oracle: a person, here y_pool
    labeled = np.concatenate([labeled, idx])
    n_labeled.append(len(labeled))
    scores.append(learner.score(X_test, y_test))
print("labels:", n_labeled, "test accuracy:", [f"{s:.2f}" for s in scores])

# %%
# The learning curve
# ------------------
# :class:`skal.plotting.ActiveLearningCurveDisplay` draws the test accuracy against the
# labels, with the curve's area (AULC: the mean accuracy over the budget) in the legend,
# and a reference: the same CNN trained on all 240 labels of the pool.
full = make_learner("margin").estimator.fit(X_pool, y_pool).score(X_test, y_test)
ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores, strategy_names="margin",
                           score_name="Test accuracy").plot(
    reference_score=full, reference_label="All 240 labels",
    title="32x32x3 images, tiny CNN")
plt.show()

# %%
# The same campaign in one call: ``ActiveLearningClassifier(..., n_queries=3,
# n_instances=15).fit(X_pool, y_pool)`` runs it with ``y_pool`` as the oracle (a simulation),
# and a Keras model of your own goes in through :class:`skal.KerasClassifier` (see the user
# guide's page on Keras models).
