"""The answers of the front ends beyond one class: a number (regression) or a set of labels.

``skal label --target number`` asks for a finite number per sample (an
:class:`~skal.ActiveLearningRegressor` campaign); ``--target set`` for the labels that apply
among ``--classes`` (a multi-label campaign: the answer is a tuple of 0/1, one per class,
``(0, 0, 0)`` being "none of these", which is not a skip). This module reads a typed number
or set, says when a campaign has enough answers for its first model, and turns a model's
prediction into the guess a person is shown.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CLASS", "NUMBER", "SET", "TARGETS", "campaign_learner", "enough_to_fit",
           "label_counts_of", "learner_of", "number_guess", "parse_number", "set_guess",
           "set_text"]

CLASS, NUMBER, SET = "class", "number", "set"
TARGETS = (CLASS, NUMBER, SET)  # --target
NONE_WORDS = ("-", "none")  # a set answer that is "none of these"


def parse_number(text) -> float:
    """A typed regression target as a finite float; ValueError saying what is wrong.

    Examples
    --------
    >>> parse_number(" -1.5 "), parse_number("2e3")
    (-1.5, 2000.0)
    >>> parse_number("1e999")
    Traceback (most recent call last):
    ...
    ValueError: '1e999' is not a finite number (too large, or inf/nan): type a number such as 3.5
    """
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a number: type a number such as 3.5")
    if isinstance(text, int | float):
        value = float(text)
        shown = repr(text)
    else:
        shown = repr(str(text).strip()[:40])
        try:
            if "_" in str(text):  # float() takes 1_000; a person's typo more likely
                raise ValueError
            value = float(str(text).strip())
        except ValueError:
            raise ValueError(f"{shown} is not a number: type a number such as 3.5") from None
    if not math.isfinite(value):
        raise ValueError(f"{shown} is not a finite number (too large, or inf/nan): type a "
                         "number such as 3.5")
    return value


def enough_to_fit(task: str, labels) -> bool:
    """Whether a campaign's answers can train its first model: a target for regression, two
    different label sets for multi-label, two classes otherwise."""
    labels = np.asarray(labels)
    if not len(labels):
        return False
    if task == "regression":
        return True
    if task == "multilabel":
        return labels.ndim == 2 and len(np.unique(labels, axis=0)) >= 2
    return len(set(labels.tolist())) >= 2


def label_counts_of(labels, classes) -> list:
    """``[[class name, samples with it], ...]`` of a multi-label campaign's 0/1 labels."""
    labels = np.asarray(labels)
    sums = labels.sum(axis=0).tolist() if labels.ndim == 2 and len(labels) else []
    return [[c, int(sums[j]) if j < len(sums) else 0] for j, c in enumerate(classes)]


def set_text(row, classes) -> str:
    """A 0/1 row as the names of its labels (``"a, c"``), ``"none of these"`` when empty."""
    names = [str(classes[j]) if j < len(classes) else f"#{j}"
             for j, v in enumerate(row) if v]
    return ", ".join(names) if names else "none of these"


def number_guess(estimator, rows) -> list:
    """``[[prediction, std or None], ...]``: a regressor's guesses (with ``return_std`` where
    its predict takes it: a Gaussian process, BayesianRidge, a Pipeline ending in one)."""
    try:
        mean, std = estimator.predict(rows, return_std=True)
        std = np.asarray(std, dtype=float).reshape(-1).tolist()
    except (TypeError, ValueError, AttributeError):
        mean, std = estimator.predict(rows), None
    mean = np.asarray(mean, dtype=float).reshape(-1).tolist()
    return [[m, None if std is None else s] for m, s in zip(mean, std or [None] * len(mean))]


def set_guess(estimator, rows) -> np.ndarray:
    """The probability of each label, ``(n_rows, n_labels)``, of a multi-label model."""
    from skal.strategies import label_probabilities

    return np.asarray(label_probabilities(estimator, rows), dtype=float)


def campaign_learner(learner, target: str):
    """What a session's :class:`skal.Campaign` is opened with: the learner, or for
    ``--target set`` its spec with the multi-label task (nothing in an empty journal says
    the answers are sets)."""
    if target != SET:
        return learner
    from skal.campaign import CampaignSpec

    return CampaignSpec.from_estimator(learner).replace(task="multilabel")


def learner_of(campaign):
    """The fitted learner of a session's campaign, for ``--save``: a regressor's for
    numbers, else a classifier's."""
    from skal import ActiveLearningClassifier, ActiveLearningRegressor

    cls = ActiveLearningRegressor if campaign.spec.task == "regression" else \
        ActiveLearningClassifier
    return cls.from_campaign(campaign)
