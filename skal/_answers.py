"""A campaign's answers: who was labeled (or skipped) when, written to the journal first."""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from skal._label_sets import label_sets_of, tidy_label_set
from skal._labels import (
    CLASSIFICATION,
    MULTILABEL,
    REGRESSION,
    UNLABELED,
    answer_kind,
    clean_label,
    plain_labels,
)
from skal._pool import append_rows, is_frame
from skal.io.journal import LabelJournal, pool_fingerprint, row_digests

__all__ = [
    "Answers", "Handout", "as_pairs", "check_sample_ids", "open_journal",
]


class Handout(NamedTuple):
    """A sample handed out and not yet answered: why it was chosen."""

    round: int
    reason: str  # "initial" (before any model), the strategy's name, or "given"
    score: float | None
    rank: int  # 1 = the query's first choice
    n_candidates: int


def open_journal(journal, X) -> LabelJournal | None:
    """The journal as an open :class:`LabelJournal`, checked against the pool ``X``."""
    if journal is None:
        return None
    fingerprint = pool_fingerprint(X)
    if not isinstance(journal, LabelJournal):  # a campaign writes: refused at open if it can't
        return LabelJournal(os.fspath(journal), pool_fingerprint=fingerprint, read_only=False)
    stored = journal.fingerprint
    if stored is None:  # record the pool, through a second short-lived connection
        LabelJournal(journal.path, pool_fingerprint=fingerprint).close()
    elif stored != fingerprint:
        raise ValueError(
            f"label journal {journal.path!r} belongs to another pool: it was recorded "
            f"on pool {stored!r}, but this pool's fingerprint is {fingerprint!r}."
        )
    return journal


def as_pairs(index, label, n: int, *, task: str = CLASSIFICATION) -> tuple[list[int], list]:
    """Pool indices and their cleaned labels (None = skip) from one or many of each."""
    idx = np.atleast_1d(np.asarray(index))
    if idx.ndim != 1 or (len(idx) and idx.dtype.kind not in "iu"):
        raise TypeError(
            f"index must be a pool index (int) or a 1-D array of them, got {index!r}."
        )
    if len(idx) and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"index {index!r} is outside the pool of {n} samples (0..{n - 1}).")
    if task == MULTILABEL:  # one answer is a row or a set: never flattened
        labels = [clean_label(v, task=task) for v in label_sets_of(label, len(idx))]
    elif label is None or np.ndim(label) == 0:
        labels = [clean_label(label, task=task)] * len(idx)
    else:
        labels = [clean_label(v, task=task) for v in np.asarray(label, dtype=object).reshape(-1)]
        if len(labels) != len(idx):
            raise ValueError(f"label has {len(labels)} entries for {len(idx)} indices.")
    indices = idx.astype(np.intp).tolist()
    first: dict[int, object] = {}
    for i, value in zip(indices, labels, strict=True):
        if first.setdefault(i, value) != value:  # which one was meant? never guessed
            raise ValueError(
                f"index {i} is given twice in one call, with the labels {first[i]!r} and "
                f"{value!r}: give a sample one label a call (answer it again to relabel it)."
            )
    return indices, labels


def check_sample_ids(sample_ids, X, pool) -> list | None:
    """The ids as a list, checked against the journal's pool (``{"digests", "dtype",
    "keys"}`` or None) before anything is written."""
    if sample_ids is None:
        return None
    ids = np.asarray(sample_ids)
    if ids.ndim != 1 or len(ids) != len(X):
        raise ValueError(
            f"sample_ids must give one id per sample: got shape {ids.shape} for {len(X)} "
            "samples."
        )
    if len(ids) and ids.dtype.kind not in "iuU":
        raise TypeError(
            f"sample_ids must be ints (pool indices) or strings (keys), got {ids.dtype}."
        )
    if pool is None or not len(ids):
        return ids.tolist()
    if ids.dtype.kind == "U":
        unknown = sorted(set(ids.tolist()) - set(pool["keys"] or ()))
        if unknown:
            raise ValueError(f"sample_ids {unknown[:5]} are not keys of the journal's pool.")
        rows = np.asarray([pool["keys"].index(k) for k in ids.tolist()], dtype=np.intp)
    else:
        rows = ids.astype(np.intp)
        bad = rows[(rows < 0) | (rows >= len(pool["digests"]))]
        if len(bad):
            raise ValueError(
                f"sample_ids {bad[:5].tolist()} are outside the journal's pool of "
                f"{len(pool['digests'])} samples (0..{len(pool['digests']) - 1})."
            )
    digests = row_digests(X, dtype=None if is_frame(X) else pool["dtype"])
    mismatch = np.flatnonzero(digests != pool["digests"][rows])
    if len(mismatch):
        raise ValueError(
            f"sample_ids do not match the rows taught: row {int(mismatch[0])} of X is not "
            f"sample {ids.tolist()[mismatch[0]]!r} of the journal's pool; nothing was recorded."
        )
    return ids.tolist()


def _check_keys(keys, n: int) -> list[str]:
    """One distinct, non-empty string key per pool row: a journal id names one sample."""
    keys = list(np.asarray(keys, dtype=object).reshape(-1).tolist())
    if len(keys) != n:
        raise ValueError(f"keys has {len(keys)} entries but the pool has {n} rows.")
    wrong = [k for k in keys if not isinstance(k, str)]
    if wrong:
        raise TypeError(
            f"keys must be strings (a journal reads an int id as a pool index), got "
            f"{type(wrong[0]).__name__} {wrong[0]!r}."
        )
    if "" in keys:
        raise ValueError(f"keys must not be empty: row {keys.index('')} has the key ''.")
    first: dict[str, int] = {}
    for row, key in enumerate(keys):
        if key in first:
            raise ValueError(
                f"keys must be unique: {key!r} is the key of rows {first[key]} and {row}; "
                "answers for both would land on one journal id."
            )
        first[key] = row
    return keys


class Answers:
    """Labels and skips of a pool's samples, in answer order, backed by a journal.

    ``write`` makes answers durable (journal), ``remember`` makes them count (memory);
    ``record`` does both, journal first, so an answer that counts is never lost. ``write``
    is also the one gate of answers: a label of another kind than the campaign's (see
    :func:`skal._labels.answer_kind`) is refused before anything is written.
    """

    def __init__(self, n: int, journal: LabelJournal | None = None, keys=None, *,
                 task: str = CLASSIFICATION) -> None:
        self.n = n
        self.task = task  # a regression journal writes targets as floats, a skip as int -1
        self.journal = journal
        self.keys = None
        if keys is not None:
            self.keys = _check_keys(keys, n)
        self._labels: dict[int, object] = {}
        self._skipped: dict[int, None] = {}  # an ordered set
        self.round_of = np.full(n, -1, dtype=np.intp)
        self._room = None  # spare entries after round_of for grow (_pool.append_rows)
        self.version = 0  # counts changes, so a refit can tell whether it has anything new
        self.kind: str | None = None  # of the labels: "int", "float" or "str"
        self.round0 = journal.n_rounds if journal is not None else 0
        if journal is not None:
            self._load()

    def _load(self) -> None:
        rows = None if self.keys is None else {k: i for i, k in enumerate(self.keys)}
        rounds = {}  # the journal round of each sample's last record
        for rec in self.journal.records():
            rounds[rec["sample_id"]] = rec["round"] or 0
        for sid, label in self.journal.labels().items():
            i = self._row_of(sid, rows)
            label = self._journaled(label)
            try:
                self.kind = answer_kind([label], self.kind, ids=[sid], task=self.task)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"label journal {self.journal.path!r} holds {exc} Its labels must all "
                    "be of one kind: relabel or undo that sample with a journal of the right "
                    "kind, or start a new journal."
                ) from None
            self.remember([i], [label], rounds.get(sid, 0) - self.round0)

    def _journaled(self, label):
        """A journal's label, cleaned: a regression journal's skip is the int -1 (its
        targets are written as floats, so -1.0 is a target)."""
        if self.task == REGRESSION and type(label) is int and label == UNLABELED:
            return None
        return self.clean(label)

    def clean(self, label):
        """One answer as the campaign's label (:func:`clean_label` for its task; a
        multi-label answer as its tuple of 0/1 ints)."""
        label = clean_label(label, task=self.task)
        return tidy_label_set(label, self.kind) if self.task == MULTILABEL else label

    def _row_of(self, sid, rows) -> int:
        where = f"label journal {self.journal.path!r} holds sample id {sid!r}"
        if isinstance(sid, str):
            if rows is None or sid not in rows:
                raise ValueError(
                    where + (", a user key that is not among keys." if rows is not None else
                             ", a user key; pass keys= (one per pool sample) to map keys to "
                             "pool rows.")
                )
            return rows[sid]
        if not 0 <= sid < self.n:
            raise ValueError(f"{where}, outside this pool of {self.n} samples.")
        return sid

    def _id(self, i: int):
        return int(i) if self.keys is None else self.keys[int(i)]

    # ------------------------------------------------------------------ writing
    def expect(self, labels) -> None:
        """Take the kind of labels known beforehand (``y``'s) as the campaign's."""
        self.kind = answer_kind([self.clean(v) for v in labels], self.kind, task=self.task)

    def check(self, labels, ids=None) -> None:
        """Raise for a label of another kind than the answers' so far (the one gate)."""
        answer_kind([self.clean(v) for v in labels], self.kind, ids=ids, task=self.task)

    def write(self, ids, labels, *, round_: int, strategy: str, scores=None) -> None:
        """Append answers to the journal (``None`` = skip), durably; memory unchanged.

        Raises ``TypeError``/``ValueError`` for a label that does not fit, writing nothing.
        """
        self.check(labels, ids=[self._id(i) for i in ids])
        if self.journal is None or not len(ids):
            return
        self.journal.append(
            [self._id(i) for i in ids],
            [UNLABELED if lab is None else float(lab) if self.task == REGRESSION else lab
             for lab in labels],
            round=self.round0 + round_, strategy=strategy, scores=scores,
        )

    def remember(self, ids, labels, round_: int) -> None:
        """Count answers in memory (``None`` = skip), in the given order."""
        self.kind = answer_kind(labels, self.kind, task=self.task)
        self.version += 1
        for i, label in zip(np.asarray(ids, dtype=np.intp).tolist(), labels):
            if label is None:
                self._labels.pop(i, None)
                self._skipped[i] = None
                self.round_of[i] = -1
            else:
                self._skipped.pop(i, None)
                self._labels[i] = label
                self.round_of[i] = self.round0 + round_

    def record(self, ids, labels, *, round_: int, strategy: str, scores=None) -> None:
        """``write`` then ``remember``."""
        labels = [self.clean(v) for v in labels]
        self.write(ids, labels, round_=round_, strategy=strategy, scores=scores)
        self.remember(ids, labels, round_)

    def retract(self, i: int, *, round_: int) -> None:
        """Take back sample ``i``'s answer, journal first."""
        if i not in self._labels and i not in self._skipped:
            raise ValueError(f"sample {i} has no answer to undo.")
        if self.journal is not None:
            self.journal.retract([self._id(i)], round=self.round0 + round_)
        self.version += 1
        self._labels.pop(i, None)
        self._skipped.pop(i, None)
        self.round_of[i] = -1

    def grow(self, k: int) -> None:
        """Make room for ``k`` new pool samples (no journal: its pool is fixed)."""
        if self.journal is not None or self.keys is not None:
            raise ValueError(
                "a campaign with a journal (or keys) has a fixed pool: answer its samples "
                "by pool index (sample_ids) instead of adding new ones."
            )
        self.n += k
        self.round_of, self._room = append_rows(
            self.round_of, np.full(k, -1, dtype=np.intp), self._room)

    def snapshot(self) -> tuple:
        """The in-memory answers, for :meth:`restore` (the journal is not rolled back)."""
        return dict(self._labels), dict(self._skipped), self.round_of.copy(), self.version

    def restore(self, snapshot: tuple) -> None:
        """Forget in memory what was answered after ``snapshot`` (samples added since stay,
        unanswered)."""
        self._labels, self._skipped, round_of, self.version = snapshot
        self.round_of = np.full(self.n, -1, dtype=np.intp)
        self.round_of[: len(round_of)] = round_of
        self.version += 1

    # ------------------------------------------------------------------ reading
    def labeled_indices(self) -> np.ndarray:
        return np.fromiter(self._labels, dtype=np.intp, count=len(self._labels))

    def labels(self) -> np.ndarray:
        return plain_labels(list(self._labels.values()))

    def skipped_indices(self) -> np.ndarray:
        return np.fromiter(self._skipped, dtype=np.intp, count=len(self._skipped))

    def asked_mask(self) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        mask[self.labeled_indices()] = True
        mask[self.skipped_indices()] = True
        return mask
