"""Who answers a batch: ``y`` where it knows the label, else the oracle, journal first."""

from __future__ import annotations

import numpy as np

from skal._answers import Answers
from skal._labels import REGRESSION, check_two_classes, plain_labels, unlabeled_mask
from skal._pool import take_rows
from skal._sampling import EXTRA_SALT, INITIAL_SALT, initial_indices, n_initial
from skal.exceptions import StopLabeling

__all__ = ["ask", "ask_initial", "check_answerable", "known_mask"]


def known_mask(y, n: int, task: str = "classification") -> np.ndarray:
    """Where ``y`` (or None) knows a sample's label."""
    return np.zeros(n, dtype=bool) if y is None else ~unlabeled_mask(y, task=task)


def ask(answers: Answers, indices: np.ndarray, *, X, y, oracle, round_: int, strategy: str,
        scores=None) -> bool:
    """Get and record the answers for ``indices``; True when the oracle stopped.

    Each answer is written to the journal as soon as it is given (one at a time for an
    oracle with ``label_one``); they count, in batch order, once the batch is done or
    stopped, so a stopped batch keeps what was answered.
    """
    known = known_mask(y, len(X), answers.task)
    given = [k for k, i in enumerate(indices.tolist()) if known[i]]
    asked = [k for k, i in enumerate(indices.tolist()) if not known[i]]
    got: dict[int, object] = {k: y[indices[k]] for k in given}

    def write(ks):
        answers.write(indices[ks], [got[k] for k in ks], round_=round_, strategy=strategy,
                      scores=None if scores is None else [scores[k] for k in ks])

    write(given)
    stopped = False
    if asked:
        stopped = _ask_oracle(oracle, X, indices, asked, got, write, answers.clean)
    done = [k for k in range(len(indices)) if k in got]
    answers.remember(indices[done], [answers.clean(got[k]) for k in done], round_)
    return stopped


def _ask_oracle(oracle, X, indices, asked, got, write, clean_label) -> bool:
    if hasattr(oracle, "label_one"):  # one at a time: each answer recorded at once
        for k in asked:
            i = int(indices[k])
            try:
                got[k] = clean_label(oracle.label_one(take_rows(X, i), i))
            except StopLabeling:
                return True
            write([k])
        return False
    stopped = False
    try:
        labels = _oracle_labels(oracle, take_rows(X, indices[asked]), indices[asked])
    except StopLabeling as exc:
        stopped = True
        labels = list(exc.labels) if exc.labels is not None else []
        labels = (labels + [None] * len(asked))[: len(asked)]
    done = []
    for k, value in zip(asked, labels):
        label = clean_label(value)
        if stopped and label is None:
            continue  # not answered before the stop
        got[k] = label
        done.append(k)
    write(done)
    return stopped


def _oracle_labels(oracle, X_batch, indices) -> list:
    """One label per sample from an oracle (a callable or an object with ``label``)."""
    labels = (oracle.label if hasattr(oracle, "label") else oracle)(X_batch, indices)
    labels = list(np.asarray(labels, dtype=object).reshape(-1)) if labels is not None else []
    if len(labels) != len(indices):
        raise ValueError(
            f"the oracle returned {len(labels)} labels for a batch of {len(indices)} samples; "
            "it must return one label (or -1/None to skip) per sample."
        )
    return labels


def ask_initial(answers: Answers, *, X, y, oracle, initial_size, n_instances: int,
                seed: int, selection: str = "random") -> bool:
    """Answer a campaign's initial set; True when the oracle stopped.

    Samples answered already (a resumed journal) count towards ``initial_size``. The rest
    is drawn without looking at a label (``selection="random"``: uniformly among the
    samples nobody answered) -- except with ``selection="stratified"``, which in a
    simulation draws at least one sample per class of ``y`` (it peeks at the labels; for
    reproducing papers that do). With an oracle, every label ``y`` knows counts at once as
    given, and the oracle labels random others when they are fewer than ``initial_size``.
    Either way, more random samples are asked until two classes are seen (a classification
    campaign's; a regression campaign's initial set is random, never stratified).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, EXTRA_SALT]))
    initial = _initial_set(answers, y, len(X), initial_size, seed, selection, rng,
                           with_oracle=oracle is not None, task=answers.task)

    def ask_initial_batch(indices) -> bool:
        return ask(answers, indices.astype(np.intp), X=X, y=y, oracle=oracle, round_=0,
                   strategy="initial")

    def n_classes() -> int:  # distinct classes, or distinct label sets (multi-label)
        labels = answers.labels()
        return len(np.unique(labels, axis=0)) if labels.ndim == 2 else len(set(labels.tolist()))

    stopped = ask_initial_batch(initial)
    if answers.task == REGRESSION:
        return stopped
    while not stopped and n_classes() < 2:  # ask more until two classes
        unasked = ~answers.asked_mask()
        pool = np.flatnonzero(unasked & ~known_mask(y, len(X), answers.task)
                              if oracle is not None
                              else unasked)
        if not len(pool):
            break
        stopped = ask_initial_batch(rng.choice(pool, size=min(n_instances, len(pool)),
                                               replace=False))
    if n_classes() < 2:
        raise ValueError(
            f"the initial set has labels of {n_classes()} class(es) only "
            f"({int(answers.asked_mask().sum())} samples asked"
            + (", then the oracle stopped" if stopped else "")
            + "); a classifier needs at least two classes: label more samples."
        )
    return stopped


def _initial_set(answers: Answers, y, n: int, initial_size, seed: int, selection: str, rng,
                 *, with_oracle: bool, task: str) -> np.ndarray:
    """The samples asked first (before ``ask_initial``'s search for a second class)."""
    answered = answers.labeled_indices()
    from_y = np.flatnonzero(known_mask(y, n, task) & ~answers.asked_mask())
    size = n_initial(initial_size, n)
    need = size - len(answered)
    if with_oracle:  # labels already paid for all count: the rest the oracle labels
        if need <= len(from_y):
            return from_y
        pool = np.flatnonzero(~known_mask(y, n, task) & ~answers.asked_mask())
        extra = rng.choice(pool, size=min(need - len(from_y), len(pool)), replace=False)
        return np.concatenate([from_y, extra])
    if need <= 0:
        return np.empty(0, dtype=np.intp)
    if len(from_y) < need:
        raise ValueError(
            f"initial_size={initial_size!r} asks for {size} initial labels but there are "
            f"only {len(answered) + len(from_y)} labeled samples."
        )
    seeds = np.random.SeedSequence([seed, INITIAL_SALT])
    if selection == "stratified":  # peeks at y: only when asked for
        return from_y[initial_indices(plain_labels(y[from_y]), need, seeds)]
    return np.random.default_rng(seeds).choice(from_y, size=need, replace=False)


def check_answerable(y, oracle, asked: np.ndarray, task: str = "classification") -> None:
    """Raise unless someone can answer a campaign: ``y`` complete (a simulation) or an oracle.

    ``asked`` marks the samples already answered (a journal's), which need no answer.
    """
    if oracle is not None:
        return
    if y is None:
        raise ValueError(
            "Campaign.run needs y (a simulation) or an oracle to answer; without them, "
            "drive it with next_batch/answer/refit."
        )
    missing = unlabeled_mask(y, task=task)
    if (missing & ~asked).any():
        raise ValueError(
            ("y contains NaN (unlabeled) but" if task == REGRESSION else
             "y contains -1 (unlabeled) but")
            + " a campaign without an oracle is a simulation "
            "in which y is the oracle: every sample needs its label (or pass an oracle= "
            "to label them)."
        )
    if task != REGRESSION:
        check_two_classes(y[~missing])
