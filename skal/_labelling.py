"""Labels in a campaign: the oracle, the label journal, and the initial labelled set.

The active learner's campaign loop (``skal._campaign.run_campaign``) asks a ``reveal``
function for labels; this module builds it. ``reveal`` answers from ``y`` where it is known,
asks the oracle otherwise, and records every new answer in the journal as soon as it is
given, so no label is lost when a session stops.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from skal._campaign import StopLabelling, initial_indices

UNLABELED = -1


def unlabeled_mask(y: np.ndarray) -> np.ndarray:
    """Where ``y`` is ``-1`` (unlabelled), whatever its dtype."""
    if y.dtype.kind in "iuf":
        return y == UNLABELED
    if y.dtype.kind == "O":
        return np.array([isinstance(v, Real) and v == UNLABELED for v in y], dtype=bool)
    return np.zeros(len(y), dtype=bool)


def clean_label(label):
    """An oracle's answer as a plain Python label, None for a skip (None, -1 or NaN)."""
    if isinstance(label, np.generic):
        label = label.item()
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return None
    if isinstance(label, Real) and not isinstance(label, bool) and label == UNLABELED:
        return None
    return label


def ask_oracle(oracle, X_batch, indices) -> list:
    labels = (oracle.label if hasattr(oracle, "label") else oracle)(X_batch, indices)
    labels = list(np.asarray(labels, dtype=object).reshape(-1)) if labels is not None else []
    if len(labels) != len(indices):
        raise ValueError(
            f"the oracle returned {len(labels)} labels for a batch of {len(indices)} samples; "
            "it must return one label (or -1/None to skip) per sample."
        )
    return labels


def plain_labels(labels: np.ndarray) -> np.ndarray:
    """An object array of same-typed labels as a plain array (ints stay ints)."""
    if labels.dtype != object or not len(labels):
        return labels
    values = labels.tolist()
    return np.asarray(values) if len({type(v) for v in values}) == 1 else labels


def with_labels(y: np.ndarray, ids, labels) -> np.ndarray:
    """A copy of ``y`` with ``labels`` at ``ids``, in a dtype that holds both."""
    if not len(ids):
        return y
    new = np.asarray(labels)
    same_kind = (y.dtype.kind in "iuf" and new.dtype.kind in "iu") or (
        y.dtype.kind == new.dtype.kind and new.dtype.kind in "fU"
    )
    if same_kind:
        out = y.astype(np.result_type(y.dtype, new.dtype))
        out[np.asarray(ids, dtype=np.intp)] = new
        return out
    out = y.astype(object)
    values = np.empty(len(labels), dtype=object)
    values[:] = list(labels)
    out[np.asarray(ids, dtype=np.intp)] = values
    return out


def merge_journal(y, journal, keys=None):
    """``y`` with the journal's labels, the rows it labels (in labelling order), and
    the rows it skipped (and ``y`` does not label)."""
    rows = None if keys is None else {k: i for i, k in enumerate(keys)}
    n = len(y)
    ids, labels, skips = [], [], []
    for sid, label in journal.labels().items():
        if isinstance(sid, str):
            if rows is None or sid not in rows:
                raise ValueError(
                    f"label journal {journal.path!r} holds sample id {sid!r}, a user key "
                    + ("that is not among keys" if rows is not None else
                       "; pass keys= (one per pool sample) to "
                       "ActiveLearningClassifier.from_journal to map keys to pool rows")
                    + "."
                )
            i = rows[sid]
        elif not 0 <= sid < n:
            raise ValueError(
                f"label journal {journal.path!r} holds sample id {sid}, outside this pool "
                f"of {n} samples."
            )
        else:
            i = sid
        if clean_label(label) is None:
            skips.append(i)
        else:
            ids.append(i)
            labels.append(label)
    y = with_labels(y, ids, labels)
    skipped = np.asarray(skips, dtype=np.intp)
    skipped = skipped[unlabeled_mask(y[skipped])] if len(skipped) else skipped
    return y, np.asarray(ids, dtype=np.intp), skipped


def start_campaign(
    X, y, unlabeled, journal_ids, skipped, journal, *, oracle, initial_size, n_instances,
    n_queries, seed, strategy_name,
):
    """The reveal function of a campaign, its initial set (labelled), and its rounds.

    Samples known from the journal are all in the initial set; the rest of it is drawn
    (stratified) among samples known from ``y`` or, when too few, at random among the
    others for the oracle to label. ``reveal`` remembers every answer and records each
    new one in the journal as soon as it is given.
    """
    n = len(y)
    round0 = journal.n_rounds if journal is not None else 0
    known = ~unlabeled
    in_journal = np.zeros(n, dtype=bool)
    in_journal[journal_ids] = True
    excluded = np.zeros(n, dtype=bool)
    excluded[skipped] = True
    cache: dict[int, object] = {}

    def record(ids, labels, round_, scores):
        if journal is not None and len(ids):
            journal.append(
                [int(i) for i in ids],
                [UNLABELED if lab is None else lab for lab in labels],
                round=round0 + round_,
                strategy="initial" if round_ == 0 else strategy_name,
                scores=scores,
            )

    def reveal(indices, round=0, scores=None):  # noqa: A002 -- run_campaign's keyword
        indices = np.asarray(indices, dtype=np.intp)
        labels: list = [None] * len(indices)

        def scores_of(ks):
            return None if scores is None else [scores[k] for k in ks]

        given, ask = [], []
        for k, i in enumerate(indices.tolist()):
            if i in cache:
                labels[k] = cache[i]
            elif known[i]:
                labels[k] = cache[i] = y[i]
                if not in_journal[i]:
                    given.append(k)
            else:
                ask.append(k)
        record(indices[given], [labels[k] for k in given], round, scores_of(given))
        if not ask:
            return labels
        if oracle is None:  # pragma: no cover -- excluded by _fit's checks
            raise RuntimeError("a campaign without oracle met an unlabelled sample.")
        if hasattr(oracle, "label_one"):  # one at a time: each answer recorded at once
            for k in ask:
                i = int(indices[k])
                try:
                    label = clean_label(oracle.label_one(X[i], i))
                except StopLabelling:
                    raise StopLabelling(labels) from None
                labels[k] = cache[i] = label
                if label is not None:
                    y[i] = label
                record([i], [label], round, scores_of([k]))
            return labels
        stop = None
        try:
            answers = ask_oracle(oracle, X[indices[ask]], indices[ask])
        except StopLabelling as exc:
            stop = exc
            answers = list(exc.labels) if exc.labels is not None else []
            answers = (answers + [None] * len(ask))[: len(ask)]
        done = []
        for k, answer in zip(ask, answers):
            label = clean_label(answer)
            if stop is not None and label is None:
                continue  # not answered before the stop
            i = int(indices[k])
            labels[k] = cache[i] = label
            if label is not None:
                y[i] = label
            done.append(k)
        record(indices[done], [labels[k] for k in done], round, scores_of(done))
        if stop is not None:
            raise StopLabelling(labels)
        return labels

    if isinstance(initial_size, Integral):
        size = int(initial_size)
    else:
        size = max(1, math.ceil(float(initial_size) * n))
    from_journal = journal_ids
    from_y = np.flatnonzero(known & ~in_journal & ~excluded)
    need = size - len(from_journal)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xA12]))
    if need <= 0:
        initial = from_journal
    elif len(from_y) >= need:
        draw = initial_indices(
            plain_labels(y[from_y]), need, np.random.SeedSequence([seed, 0xA11])
        )
        initial = np.concatenate([from_journal, from_y[draw]])
    elif oracle is None:
        raise ValueError(
            f"initial_size={initial_size!r} asks for {size} initial labels but "
            f"there are only {len(from_journal) + len(from_y)} labelled samples."
        )
    else:
        pool = np.flatnonzero(~known & ~excluded)
        extra = rng.choice(pool, size=min(need - len(from_y), len(pool)), replace=False)
        initial = np.concatenate([from_journal, from_y, extra])
    initial = initial.astype(np.intp)

    stopped = False
    try:
        reveal(initial, round=0)
    except StopLabelling:
        stopped = True
        initial = np.array([i for i in initial.tolist() if i in cache], dtype=np.intp)

    def n_classes(indices):
        return len({cache[i] for i in indices.tolist() if cache[i] is not None})

    if oracle is not None:
        while not stopped and n_classes(initial) < 2:  # ask more until two classes
            pool = np.flatnonzero(~known & ~excluded)
            pool = pool[~np.isin(pool, np.fromiter(cache, dtype=np.intp))]
            if not len(pool):
                break
            extra = rng.choice(pool, size=min(n_instances, len(pool)), replace=False)
            try:
                reveal(extra, round=0)
            except StopLabelling:
                stopped = True
            answered = [i for i in extra.tolist() if i in cache]
            initial = np.concatenate([initial, np.asarray(answered, dtype=np.intp)])
        if n_classes(initial) < 2:
            raise ValueError(
                f"the initial set has labels of {n_classes(initial)} class(es) only "
                f"({len(initial)} samples asked"
                + (", then the oracle stopped" if stopped else "")
                + "); a classifier needs at least two classes: label more samples."
            )
    return reveal, initial, 0 if stopped else n_queries
