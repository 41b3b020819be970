"""Labeling as a team: who answered what, agreement (Cohen's kappa), conflicts, overlap.

Everything here reads a journal's records (``LabelJournal.records()``), so it is the same
after a restart. A sample's *answers* are the latest answer of each person since the
sample's last undo; a skip is no opinion (it neither agrees nor conflicts).

The training rule: the model trains on each sample's **current** answer, the latest one in
the journal -- and once a sample is **adjudicated** (an answer recorded with the reason
``"adjudicated"``), that answer stays current: the labeling page refuses other answers to it
(an adjudicator may adjudicate it again). A conflict is a sample whose answers (of different
people) are different labels and that was not adjudicated since.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import warnings

import numpy as np

from skal.io.journal import check_annotator

__all__ = ["ADJUDICATED", "OVERLAP", "TeamAnswers", "annotator_arg", "default_annotator",
           "fraction_arg", "kappa", "in_overlap"]

ADJUDICATED = "adjudicated"  # the reason recorded with an adjudicator's answer
OVERLAP = "overlap"  # the reason of a second person's answer
FALLBACK = "terminal"


def default_annotator() -> str:
    """The OS user name when it is a valid annotator name, else ``"terminal"``."""
    try:
        return check_annotator(getpass.getuser())
    except Exception:  # noqa: BLE001 - no user name, or one a name may not be
        return FALLBACK


def annotator_arg(text: str) -> str:
    """argparse type of ``--annotator``."""
    try:
        return check_annotator(text, "--annotator")
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def fraction_arg(text: str) -> float:
    """argparse type of ``--overlap``: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"--overlap is the fraction of samples shown to a second person, a number in "
            f"[0, 1] (e.g. 0.2), got {text!r}")
    return value


def in_overlap(sample_id, fraction: float) -> bool:
    """Whether a sample is one of the ``fraction`` also shown to a second person: a fixed
    draw per sample id (the same after a restart).

    Examples
    --------
    >>> sum(in_overlap(i, 0.25) for i in range(1000)), in_overlap(5, 0.0), in_overlap(5, 1.0)
    (271, False, True)
    """
    digest = hashlib.sha256(repr(sample_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64 < fraction


def kappa(a, b) -> tuple[float | None, bool]:
    """Cohen's kappa of two people's labels of the same samples, and whether it is defined.

    Undefined cases, as skal reports them: no shared sample -> ``(None, False)``; both
    people gave one and the same class to every shared sample (chance agreement is 1, so
    kappa is 0/0) -> ``(1.0, False)``: full agreement, flagged as without chance
    correction.

    Examples
    --------
    >>> kappa([0, 1, 1, 0], [0, 1, 0, 0])
    (0.5, True)
    >>> kappa(["cat", "cat"], ["cat", "cat"]), kappa([], [])
    ((1.0, False), (None, False))
    """
    from sklearn.metrics import cohen_kappa_score

    if not len(a):
        return None, False
    a, b = [str(v) for v in a], [str(v) for v in b]
    if len(set(a) | set(b)) == 1:
        return 1.0, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(a, b))
    return (round(value, 4), True) if np.isfinite(value) else (None, False)


def _is_skip(label) -> bool:
    return label is None or (not isinstance(label, bool) and label == -1)


class TeamAnswers:
    """Each sample's answers per person, its adjudication and its current answer.

    Built from a journal's records, then kept up to date with :meth:`add` and
    :meth:`undo` as answers come in.

    Examples
    --------
    >>> team = TeamAnswers()
    >>> team.add(7, "cat", "ana"); team.add(7, "dog", "ben"); team.add(8, "cat", "ana")
    >>> team.conflicts()
    [{'sample': 7, 'answers': [['ana', 'cat'], ['ben', 'dog']]}]
    >>> team.add(7, "dog", "cleo", adjudicated=True)
    >>> team.conflicts(), team.current[7]
    ([], 'dog')
    """

    def __init__(self, records=()) -> None:
        self.by: dict = {}  # sample id -> {annotator (or ""): label or None for a skip}
        self.current: dict = {}  # sample id -> current label (None: skipped)
        self.adjudicated: dict = {}  # sample id -> the adjudicator
        for rec in records:
            if rec["label"] is None:
                self.undo(rec["sample_id"])
            else:
                self.add(rec["sample_id"], rec["label"], rec.get("annotator"),
                         adjudicated=rec.get("strategy") == ADJUDICATED)

    def add(self, sid, label, annotator, *, adjudicated: bool = False) -> None:
        label = None if _is_skip(label) else label
        answers = self.by.setdefault(sid, {})
        answers.pop(annotator or "", None)  # a person's latest answer goes last
        answers[annotator or ""] = label
        self.current[sid] = label
        if adjudicated:
            self.adjudicated[sid] = annotator or ""

    def undo(self, sid) -> None:
        """A retraction: the sample counts as never answered, by anybody."""
        self.by.pop(sid, None)
        self.current.pop(sid, None)
        self.adjudicated.pop(sid, None)

    def people(self, sid) -> list[str]:
        return list(self.by.get(sid, {}))

    def conflicts(self) -> list[dict]:
        """Samples whose people gave different labels, not adjudicated since."""
        out = []
        for sid, answers in self.by.items():
            labels = {repr(v) for who, v in answers.items() if v is not None}
            if len(labels) > 1 and sid not in self.adjudicated:
                out.append({"sample": sid, "answers": [[who, v] for who, v in answers.items()
                                                       if v is not None]})
        return out

    def agreement(self) -> dict:
        """Per pair of people (shared samples, share of equal labels, kappa) and per class
        (kappa of "this class or not", over every pair's shared samples)."""
        names = sorted({w for answers in self.by.values() for w in answers if w})
        pairs, everything = [], []
        for k, a in enumerate(names):
            for b in names[k + 1:]:
                shared = [(ans[a], ans[b]) for ans in self.by.values()
                          if ans.get(a) is not None and ans.get(b) is not None]
                everything += shared
                value, defined = kappa([x for x, _ in shared], [y for _, y in shared])
                agree = float(np.mean([x == y for x, y in shared])) if shared else None
                pairs.append({"a": a, "b": b, "n": len(shared), "kappa": value,
                              "defined": defined,
                              "agreement": None if agree is None else round(agree, 4)})
        labels = {repr(v): v for pair in everything for v in pair}
        classes = []
        for key in sorted(labels):
            c = labels[key]
            value, defined = kappa([x == c for x, _ in everything],
                                   [y == c for _, y in everything])
            classes.append({"class": c, "n": sum(c in pair for pair in everything),
                            "kappa": value, "defined": defined})
        return {"annotators": names, "pairs": pairs, "classes": classes}
