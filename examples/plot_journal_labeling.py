"""
===============================================
Labeling with a person: a journal, and resuming
===============================================

A real labeling session is a :class:`skal.Campaign` over a label journal: the campaign
hands out batches (``next_batch``), each answer goes to the journal *before* anything
else happens (``answer``; ``None`` skips a sample, ``undo`` takes an answer back), and the
model retrains when you ask (``refit``, also in a background thread while answers keep
coming). A crash loses nothing answered: a new campaign on the same journal resumes, and
never asks a sample twice. ``skal label`` (terminal) and ``skal label --web`` (browser)
are front ends on exactly this.

Here the "person" is simulated: a function that knows the true label, skips a sample now
and then, and once changes their mind.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier, Campaign
from skal.io import LabelJournal

X, y = load_digits(return_X_y=True)
X, y = X[:500] / 16, y[:500]
X_test, y_test = load_digits(return_X_y=True)
X_test, y_test = X_test[1200:] / 16, y_test[1200:]

learner = ActiveLearningClassifier(LogisticRegression(max_iter=200), query_strategy="margin",
                                   initial_size=10, random_state=0)
journal = Path(tempfile.mkdtemp()) / "digits.journal.sqlite"
rng = np.random.default_rng(0)


def person(i):
    """The simulated annotator: the true label, or None (skip) one time in ten."""
    return None if rng.random() < 0.1 else int(y[i])


# %%
# A first session: three batches of 10, then the process "crashes"
# ------------------------------------------------------------------
session = Campaign(learner, X, journal=journal)
accuracy = []
for _ in range(3):
    batch = session.next_batch(10)  # random before the first model, then by margin
    for i in batch:
        session.answer(int(i), person(i))
    session.refit()
    accuracy.append((session.n_answered_, session.wait().score(X_test, y_test)))
first = int(batch[0])
session.answer(first, (y[first] + 1) % 10)  # a slip ...
session.undo(first)  # ... taken back (the journal keeps both, the label is gone)
print("answered:", session.n_answered_, "skipped:", len(session.skipped_indices_))
del session  # nothing is saved on purpose: the journal already holds every answer

# %%
# A second session resumes from the journal
# -----------------------------------------
resumed = Campaign(learner, X, journal=journal)
print("resumed with", resumed.n_answered_, "answers")
asked_before = set(resumed.labeled_indices_) | set(resumed.skipped_indices_)
for _ in range(2):
    batch = resumed.next_batch(10)
    assert not asked_before & set(batch.tolist())  # never asked twice
    for i in batch:
        resumed.answer(int(i), person(i))
    resumed.refit()
    accuracy.append((resumed.n_answered_, resumed.wait().score(X_test, y_test)))

# %%
# The journal, read directly, and a fitted learner from the campaign
# -------------------------------------------------------------------
with LabelJournal(journal) as j:
    print(len(j.records()), "records;", len(j.labels()), "samples answered, skips included")
fitted = ActiveLearningClassifier.from_campaign(resumed)  # save, query, teach as usual

n, acc = zip(*accuracy, strict=True)
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(n, acc, marker="o")
ax.axvline(accuracy[2][0], color="0.5", linestyle=":", label="crash and resume")
ax.set_xlabel("Answers (skips included)")
ax.set_ylabel("Test accuracy")
ax.set_title("One labeling effort, two sessions")
ax.legend()
plt.show()
