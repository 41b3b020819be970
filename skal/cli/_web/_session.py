"""The labeling page's state on the server: who labels which sample, on one :class:`Campaign`.

Every browser page is a *client*. A client is handed its own batch from
:meth:`Campaign.next_batch` (so two pages never see the same sample), answers go to
:meth:`Campaign.answer` (the journal first), and after each batch of answers the model is
retrained in the background with :meth:`Campaign.refit` while people keep labeling; when the
new model is ready, samples handed out but not yet sent to a page are handed back, so the
next ones come from the newest model.
"""

from __future__ import annotations

import secrets
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from skal._pool import take_rows
from skal.cli._data import parse_label
from skal.cli._keys import class_keys
from skal.cli._kinds import (
    enough_to_fit,
    label_counts_of,
    learner_of,
    number_guess,
    parse_number,
    set_guess,
)
from skal.cli._team import ADJUDICATED, OVERLAP, TeamAnswers, in_overlap
from skal.io.journal import check_annotator

__all__ = ["LabelSession"]

#: A client that has not called for this many seconds is dropped and its samples handed back.
CLIENT_TIMEOUT_S = 600.0
#: How many answers the history shows (labels and skips, newest first).
RECENT = 12


class SessionError(ValueError):
    """A request the session refuses; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def plain(value):
    """A label as JSON has it (numpy scalars to Python)."""
    return value.item() if isinstance(value, np.generic) else value


def _counts(labels, classes) -> list:
    """``[[class, labels of it], ...]``: the classes in their order, then any other label."""
    counts: dict = {}
    for v in labels:
        counts[repr(v)] = counts.get(repr(v), 0) + 1
    order = list(classes) + sorted({v for v in labels if v not in classes}, key=str)
    return [[c, counts.get(repr(c), 0)] for c in order]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class _Client:
    def __init__(self, annotator: str | None = None) -> None:
        self.annotator = annotator  # who answers on this page (None: the session's default)
        self.ready: list[tuple[int, object]] = []  # handed out, not yet sent: (index, handout)
        self.sent: dict[int, object] = {}  # sent to the page, not yet answered
        self.seen = time.monotonic()


class LabelSession:
    """Labeling by several people at once, over one campaign.

    Parameters
    ----------
    campaign : skal.Campaign
        Its learner gives the strategy, ``n_instances`` (the batch size) and
        ``initial_size`` (labels before the first model).
    display : Display
        How samples are drawn (see :func:`choose_display`).
    classes : list or None
        The allowed labels; ``None`` allows any label (new ones become buttons).
    names : list of str or None
        A file name per sample (image folders).
    holdout : (X, y) or None
        Validation data: an accuracy per refit for the learning curve.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import ActiveLearningClassifier, Campaign
    >>> from skal.cli._web._render import choose_display
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearningClassifier(LogisticRegression(max_iter=200), n_instances=5,
    ...                                    initial_size=5, random_state=0)
    >>> session = LabelSession(Campaign(learner, X / 16), choose_display(64), list(range(10)))
    >>> a, b = session.hello()["client"], session.hello()["client"]
    >>> first, second = session.next_samples(a, 3), session.next_samples(b, 3)
    >>> {s["index"] for s in first} & {s["index"] for s in second}
    set()
    >>> _ = session.answer(a, first[0]["index"], int(y[first[0]["index"]]))
    >>> session.state()["n_labeled"]
    1
    """

    def __init__(self, campaign, display, classes=None, *, names=None, holdout=None,
                 overlap: float = 0.0, annotator: str | None = None, save=None) -> None:
        self.campaign, self.display, self.names, self.holdout = campaign, display, names, holdout
        self.task = campaign.spec.task  # a number (regression) or a set of labels: _kinds
        self.fixed_classes = classes is not None or self.task != "classification"
        known = [plain(v) for v in campaign.labels_.tolist()] if self.task == \
            "classification" else []
        self.classes = list(classes) if classes is not None else sorted(set(known), key=str)
        self.batch_size = int(campaign.spec.n_instances)
        self.initial_size = int(campaign.spec.initial_size)
        self.budget = campaign.spec.max_labels
        self.curve: list[list] = []
        self.model_version = 0
        self._version = 0  # bumped on every change; pages drop replies older than one shown
        self._instance = secrets.token_hex(8)  # versions restart with the server
        self._clients: dict[str, _Client] = {}
        self._lock = threading.RLock()  # clients; always taken before the campaign's lock
        self._query_lock = threading.Lock()  # one next_batch at a time
        self._since_fit = 0
        self._future = None
        self._thumbs: OrderedDict[int, str | None] = OrderedDict()
        self._refit_error: dict | None = None  # the last retraining's failure, until one works
        self._watched = None  # the refit future whose outcome is recorded
        self._prefetch = ThreadPoolExecutor(1, thread_name_prefix="skal-web-query")
        journal = campaign.journal_
        self.team = TeamAnswers(journal.records() if journal is not None else ())
        self._rows = None if campaign.keys is None else {k: i for i, k in
                                                          enumerate(campaign.keys)}
        self._recent: OrderedDict[int, None] = OrderedDict(
            (self._row(sid), None) for sid in list(self.team.current)[-RECENT:])
        self._passed: set = set()  # (sample, person) second opinions skipped
        self.finished: dict | None = None
        self.on_finish = None  # called once the finish button's final fit and save are done
        self.configure(overlap=overlap, annotator=annotator, save=save)
        campaign.callbacks.append(self._on_fit)
        self._maybe_refit(force=True)

    # ------------------------------------------------------------------ clients

    def hello(self, annotator=None) -> dict:
        """Register a new page (of ``annotator``, or the session's default name); its id,
        the name, the classes and their keys, and the state."""
        name = self._name(annotator)
        client = secrets.token_urlsafe(12)
        with self._lock:
            self._drop_idle()
            self._clients[client] = _Client(name)
        return {"client": client, "annotator": name or "", "named": annotator is not None,
                "overlap": self.overlap, "n_samples": len(self.campaign.X),
                "kind": self.display.kind,
                "target": {"regression": "number", "multilabel": "set"}.get(self.task, "class"),
                "batch_size": self.batch_size, "strategy": self.campaign.strategy_name,
                "fixed_classes": self.fixed_classes, **self._classes(), "state": self.state()}

    def configure(self, *, overlap: float = 0.0, annotator: str | None = None,
                  save=None) -> None:
        """The team's settings: the ``overlap`` fraction shown to a second person, the name
        of pages that give none (``annotator``), where the finish button saves (``save``)."""
        if not 0.0 <= float(overlap) <= 1.0:
            raise ValueError(f"overlap must be in [0, 1], got {overlap!r}.")
        with self._lock:
            self.overlap, self.save_path = float(overlap), save
            self.annotator = None if annotator is None else check_annotator(annotator)
            self._waiting = [self._row(sid) for sid in self.team.by
                             if self._wants_second(sid)]

    def _name(self, annotator) -> str | None:
        if annotator is None or annotator == "":
            return self.annotator
        try:
            return check_annotator(annotator, "the annotator name (?annotator=)")
        except (TypeError, ValueError) as exc:
            raise SessionError(str(exc)) from None

    def rename(self, client, annotator) -> dict:
        """A page's person gives (or changes) their name; their next answers carry it."""
        try:
            name = check_annotator(annotator, "the annotator name")
        except (TypeError, ValueError) as exc:
            raise SessionError(str(exc)) from None
        with self._lock:
            c = self._client(client)
            c.annotator = name  # samples this page holds as a second opinion stay its own
            for i in [i for i, why in c.sent.items()
                      if why == OVERLAP and (name or "") in self._people(i)]:
                del c.sent[i]  # ... unless the new name answered them already
                self._waiting.append(i)
        return {"annotator": name or ""}

    def _row(self, sid) -> int:
        return sid if self._rows is None else self._rows[sid]

    def _sid(self, i: int):
        return i if self._rows is None else self.campaign.keys[i]

    def _people(self, i: int) -> list:
        return self.team.people(self._sid(i))

    def _wants_second(self, sid) -> bool:
        """A sample in the overlap fraction, labeled by exactly one person so far."""
        if not self.overlap or sid in self.team.adjudicated:
            return False
        labeled = [w for w, v in self.team.by.get(sid, {}).items() if v is not None]
        return len(labeled) == 1 and in_overlap(sid, self.overlap)

    def _client(self, client) -> _Client:
        found = self._clients.get(client) if isinstance(client, str) else None
        if found is None:
            raise SessionError("unknown page: reload it", 409)
        found.seen = time.monotonic()
        return found

    def _drop_idle(self) -> None:
        now = time.monotonic()
        for cid in [c for c, v in self._clients.items() if now - v.seen > CLIENT_TIMEOUT_S]:
            self.release(cid)

    def release(self, client) -> None:
        """A page closed: hand back every sample it held unanswered."""
        with self._lock:
            found = self._clients.pop(client, None)
            if found is not None:
                for i in [i for i, _ in found.ready] + list(found.sent):
                    if found.sent.get(i) == OVERLAP:
                        self._waiting.append(i)  # a second opinion still wanted
                    else:
                        self.campaign.release(i)

    def _owner(self, index: int) -> str | None:
        for cid, c in self._clients.items():
            if index in c.sent or any(i == index for i, _ in c.ready):
                return cid
        return None

    # ------------------------------------------------------------------ handing out

    def next_samples(self, client, n: int) -> list[dict]:
        """Up to ``n`` new samples for a page, each with why it was chosen and the guess."""
        n = max(1, min(int(n), 20))
        with self._lock:
            self._client(client)
        if self.finished is not None:
            return []
        picked = self._second_opinions(client, n)
        if self._budget_left() <= 0:
            return self._payloads(picked)
        while True:
            with self._lock:
                c = self._client(client)
                while c.ready and len(picked) < n:
                    i, why = c.ready.pop(0)
                    c.sent[i] = why
                    picked.append((i, why))
            if len(picked) >= n or not self._fill(client):
                break
        self._prefetch.submit(self._top_up, client)
        return self._payloads(picked)

    def _second_opinions(self, client, n: int) -> list:
        """Samples of the overlap waiting for a second person: this page's, if its person
        has not answered them (never twice to the same person)."""
        picked = []
        with self._lock:
            c = self._client(client)
            for i in list(self._waiting):
                if len(picked) >= n:
                    break
                if ((c.annotator or "") not in self._people(i) and self._owner(i) is None
                        and (i, c.annotator) not in self._passed):
                    self._waiting.remove(i)
                    c.sent[i] = OVERLAP
                    picked.append((i, OVERLAP))
        return picked

    def _fill(self, client) -> int:
        """Hand this client a new batch from the newest model (one query at a time); the
        number of samples it has ready."""
        with self._query_lock:
            with self._lock:
                c = self._clients.get(client)
                if c is None or c.ready:
                    return 0 if c is None else len(c.ready)
            batch = self.campaign.next_batch(self.batch_size)
            with self._lock:
                if self._clients.get(client) is not c:  # the page left meanwhile
                    for i in batch.tolist():
                        self.campaign.release(i)
                    return 0
                for i in batch.tolist():
                    if self._owner(i) is None:
                        c.ready.append((i, self.campaign.handout(i)))
                    else:  # an undone sample: owned by its page, not handed out twice
                        self.campaign.release(i)
                return len(c.ready)

    def _top_up(self, client) -> None:
        try:
            with self._lock:
                c = self._clients.get(client)
                empty = c is not None and not c.ready
            if empty and self._budget_left() > 0:
                self._fill(client)
        except Exception as exc:  # pragma: no cover - logged, the next request retries
            print(f"skal label --web: query failed: {exc!r}", file=sys.stderr, flush=True)

    def _budget_left(self) -> float:
        if self.budget is None:
            return float("inf")
        return self.budget - len(self.campaign.labeled_indices_) - len(
            self.campaign.skipped_indices_)

    def sample(self, client, index) -> dict:
        """An answered (or skipped) sample again, to relabel it."""
        i = self._index(index)
        with self._lock:
            self._client(client)
            if i not in self._answered():
                raise SessionError(f"sample {i} has no answer to change", 409)
        return self._payloads([(i, None)])[0]

    def _payloads(self, picked) -> list[dict]:
        if not picked:
            return []
        raw = take_rows(self.campaign.X, [i for i, _ in picked])  # a table stays a DataFrame
        guesses = self._guesses(raw)
        answered = self._answered()
        out = []
        for k, (i, why) in enumerate(picked):
            item = {"index": i, **self.display.sample(raw, k, i), "why": self._why(why, guesses[k]),
                    "guess": guesses[k], "name": self.names[i] if self.names else None}
            if i in answered and why != OVERLAP:  # a second opinion is not shown the first
                item["answer"] = answered[i]
            out.append(item)
        return out

    def _guesses(self, rows) -> list:
        """Per row: ``[[class, p], [class, p]]`` (the two likeliest), ``[[value, std or
        None]]`` for a number, ``[[label, p], ...]`` of every label for a set; or None."""
        estimator = self.campaign.estimator_
        if estimator is None:
            return [None] * len(rows)
        try:
            if self.task == "regression":
                return [[[round(m, 6), None if s is None else round(s, 6)]]
                        for m, s in number_guess(estimator, rows)]
            if self.task == "multilabel":
                return [[[c, round(float(p), 4)] for c, p in zip(self.classes, row)]
                        for row in set_guess(estimator, rows)]
            proba = np.asarray(estimator.predict_proba(rows))
        except Exception as exc:  # noqa: BLE001 - no guess is better than no sample
            print(f"skal label --web: no guess: {exc!r}", file=sys.stderr, flush=True)
            return [None] * len(rows)
        classes = [plain(c) for c in estimator.classes_.tolist()]
        out = []
        for p in proba:
            order = np.argsort(-p, kind="stable")[:2]
            out.append([[classes[j], round(float(p[j]), 4)] for j in order])
        return out

    def _why(self, handout, guess) -> dict:
        if handout is None:
            return {"reason": "relabel", "text": "answered before: choose a new label"}
        if handout == OVERLAP:
            return {"reason": OVERLAP, "text": "second opinion: another person labeled this "
                    "sample too (their answer is hidden), for the team's agreement"}
        reason = handout.reason
        if reason == "initial":
            labels = self.campaign.labels_
            if self.campaign.estimator_ is not None:
                why = "chosen before the first model; the model is ready now"
            elif len(labels) >= self.initial_size and enough_to_fit(self.task, labels):
                why = "the first model is training…"
            else:
                why = (f"no model yet: it needs {max(self.initial_size, 2)} labels of two "
                       "classes")
            text = f"random sample of {handout.n_candidates:,} ({why})"
        elif reason == "given":
            text = "undone answer: label it again"
        else:
            text = f"{_ordinal(handout.rank)} pick of {handout.n_candidates:,} by {reason}"
            if handout.score is not None:
                text += f" (score {handout.score:.3g}"
                if guess and len(guess) > 1 and self.task == "classification":
                    text += f"; {guess[0][1]:.2f} vs {guess[1][1]:.2f}"
                text += ")"
        return {"reason": reason, "round": handout.round, "rank": handout.rank,
                "n_candidates": handout.n_candidates, "score": handout.score, "text": text}

    # ------------------------------------------------------------------ answers

    def _index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise SessionError("index must be an integer")
        if not 0 <= index < len(self.campaign.X):
            raise SessionError(f"index {index} is outside the pool")
        return index

    def _label(self, label):
        if label is None:
            return None
        if self.task != "classification":
            return self._kind_label(label)
        if isinstance(label, str) and not self.fixed_classes:
            label = parse_label(label)
        if isinstance(label, bool) or not isinstance(label, int | str) or (
                isinstance(label, str) and not 0 < len(label) <= 100):
            raise SessionError("a label is an integer or a short string")
        if self.fixed_classes and label not in self.classes:
            raise SessionError(f"{label!r} is not one of the classes")
        if label == -1:  # the campaign reads -1 as "no label": it would be a silent skip
            raise SessionError("-1 marks an unlabeled sample and is not a label: use skip")
        return label

    def _kind_label(self, label):
        """A number (a finite JSON number), or a set: one 0/1 per class."""
        if self.task == "regression":
            if isinstance(label, str) or not isinstance(label, int | float):
                raise SessionError("a regression answer is a number (JSON), or null to skip")
            try:
                return parse_number(label)
            except ValueError as exc:
                raise SessionError(str(exc)) from None
        n = len(self.classes)
        if (not isinstance(label, list) or len(label) != n
                or any(type(v) is not int or v not in (0, 1) for v in label)):
            raise SessionError(f"a multi-label answer is a list of {n} 0/1 values, one per "
                               "label ([0, ...] for none of these), or null to skip")
        return tuple(label)

    def _answered(self) -> dict:
        c = self.campaign
        out = {int(i): plain(v) for i, v in zip(c.labeled_indices_.tolist(), c.labels_.tolist())}
        out.update((int(i), None) for i in c.skipped_indices_.tolist())
        return out

    def answer(self, client, index, label) -> dict:
        """Record an answer (``None`` = skip) in the journal, then reply with the state.

        A second opinion (a sample of the overlap) that is skipped is not recorded: the
        first person's label stays, and the sample waits for another person.
        """
        i, label = self._index(index), self._label(label)
        with self._lock:
            c = self._client(client)
            owner = self._owner(i)
            if owner not in (None, client) or (owner is None and i not in self._answered()):
                raise SessionError(f"sample {i} is not handed to this page", 409)
            self._refuse_adjudicated(i)
            second = c.sent.get(i) == OVERLAP
            if second and label is None:
                del c.sent[i]
                self._passed.add((i, c.annotator))
                return self.state()
            self._record(c, i, label, OVERLAP if second else None)
            c.sent.pop(i, None)
            self._since_fit += 1
        self._maybe_refit()
        return self.state()

    def _record(self, c: _Client, i: int, label, reason) -> None:
        """``campaign.answer`` under the page's name (the journal first), then the team's
        view: who answered, the overlap waiting list, the history."""
        journal = self.campaign.journal_
        try:  # the campaign's gate: a label of another kind is refused, nothing written
            if journal is None:
                self.campaign.answer(i, label, reason=reason)
            else:
                with journal.answering_as(c.annotator):
                    self.campaign.answer(i, label, reason=reason)  # committed on return
        except (TypeError, ValueError) as exc:
            raise SessionError(f"answer refused: {exc}") from None
        sid = self._sid(i)
        self.team.add(sid, label, c.annotator, adjudicated=reason == ADJUDICATED)
        if i in self._waiting:
            self._waiting.remove(i)
        if self._wants_second(sid):
            self._waiting.append(i)
        self._recent.pop(i, None)
        self._recent[i] = None
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        self._version += 1
        if self.task == "classification" and label is not None and label not in self.classes:
            self.classes.append(label)

    def _refuse_adjudicated(self, i: int) -> None:
        who = self.team.adjudicated.get(self._sid(i))
        if who is not None:
            raise SessionError(
                f"sample {i} was adjudicated{' by ' + who if who else ''}: that answer trains "
                "the model; change it from the team view (adjudicate it again)", 409)

    def adjudicate(self, client, index, label) -> dict:
        """An adjudicator's answer to a sample (a conflict): it trains the model from now
        on, whatever was answered before. Replies with the team's stats."""
        i, label = self._index(index), self._label(label)
        if label is None:
            raise SessionError("an adjudication is a label, not a skip")
        with self._lock:
            c = self._client(client)
            if not self._people(i):
                raise SessionError(f"sample {i} has no answers to adjudicate", 409)
            self._record(c, i, label, ADJUDICATED)
            for other in self._clients.values():  # a second opinion is not needed now
                if other.sent.get(i) == OVERLAP:
                    del other.sent[i]
            self._since_fit += 1
        self._maybe_refit()
        return self.stats()

    def undo(self, client, index) -> dict:
        """Take back an answer; the sample comes back to this page to be answered again."""
        i = self._index(index)
        with self._lock:
            c = self._client(client)
            if i not in self._answered():
                raise SessionError(f"sample {i} has no answer to undo", 409)
            if self._owner(i) not in (None, client):
                raise SessionError(f"sample {i} is handed to another page", 409)
            self._refuse_adjudicated(i)
            journal = self.campaign.journal_
            if journal is None:
                self.campaign.undo(i)
            else:
                with journal.answering_as(c.annotator):
                    self.campaign.undo(i)
            self.team.undo(self._sid(i))  # nobody's answer counts: it is asked again
            if i in self._waiting:
                self._waiting.remove(i)
            self._recent.pop(i, None)
            self._version += 1
            c.sent[i] = None
        payload = self._payloads([(i, None)])[0]
        payload["why"] = {"reason": "undo", "text": "undone: label it again"}
        return {"sample": payload, "state": self.state()}

    # ------------------------------------------------------------------ model

    def _training(self) -> bool:
        return self._future is not None and not self._future.done()

    def _maybe_refit(self, force: bool = False) -> None:
        """Retrain in the background: first with ``initial_size`` labels of two classes,
        then after each ``batch_size`` answers."""
        labels = self.campaign.labels_
        if len(labels) < self.initial_size or not enough_to_fit(self.task, labels):
            return
        with self._lock:
            first = self.campaign.estimator_ is None and not self._training()
            if not (force or first or self._since_fit >= self.batch_size):
                return
            self._since_fit = 0
            self._future = future = self.campaign.refit(background=True)
            self._version += 1
            if future is self._watched:  # a refit already running takes these answers too
                return
            self._watched = future
        future.add_done_callback(self._refit_done)

    def _refit_done(self, future) -> None:
        """A background refit ended: a failure is logged and shown on every page (the
        previous model keeps serving) until a later refit succeeds."""
        exc = None if future.cancelled() else future.exception()
        if exc is None:
            return
        print(f"skal label --web: retraining failed: {exc!r}", file=sys.stderr, flush=True)
        with self._lock:
            self._refit_error = {
                "message": f"{type(exc).__name__}: {exc}"[:1000],
                "n_labeled": len(self.campaign.labeled_indices_),
            }
            self._version += 1

    def _on_fit(self, campaign) -> None:
        row = campaign.history_[-1]
        point = None
        if self.holdout is not None:
            try:
                score = float(campaign.estimator_.score(*self.holdout))
                point = [row["n_labeled"], round(score, 4)]
            except Exception as exc:  # noqa: BLE001 - a bad holdout must not stop labeling
                print(f"skal label --web: holdout score failed: {exc!r}", file=sys.stderr)
        with self._lock:
            if point is not None:
                self.curve.append(point)
            self._refit_error = None
            self.model_version += 1
            self._version += 1
            for c in self._clients.values():  # the next samples come from the new model
                for i, _ in c.ready:
                    campaign.release(i)
                c.ready.clear()

    def _classes(self) -> dict:
        classes = list(self.classes)
        return {"classes": classes, "keys": class_keys(classes)}

    def state(self) -> dict:
        """Progress: labels, skips, budget, round, model, learning curve, recent answers
        (``recent``: ``[index, label, thumbnail, name]``, newest first; the name is the
        sample's key, an id value or a file name, None where the key is the index).

        ``version`` grows with every answer, undo and fit of this server ``instance``:
        replies to requests that ran at the same time can arrive out of order, and a page
        shows none older than one it has shown. ``refit_error`` is None, or why the last
        retraining failed (``message``) and at how many labels (``n_labeled``): the model
        of ``model_labels`` labels keeps serving, answers keep being taken, and the next
        batch of answers retries. ``stopping`` is the progress of each stopping criterion
        after the last fit (``skal label --stop``; empty without one) and ``can_stop`` the
        reason of the one that says labeling can stop (None until then): the page says so,
        and labeling goes on for as long as the person likes.
        """
        c = self.campaign
        with self._lock:  # one consistent snapshot per version
            version = self._version
            labeled, labels = c.labeled_indices_.tolist(), c.labels_.tolist()
            n_skipped, history = len(c.skipped_indices_), list(c.history_)
            training, curve = self._training(), list(self.curve)
            model_version, classes = self.model_version, self._classes()
            refit_error = None if self._refit_error is None else dict(self._refit_error)
            stopping = list(history[-1].get("stopping", ())) if history else []
            can_stop = c.stop_reason_ if stopping else None
            answered = self._answered()
            recent = [[i, answered[i]] for i in reversed(self._recent) if i in answered]
            finished = self.finished
        for item in recent:  # labels and skips, newest first: a skip is relabeled from here
            item.append(self._thumbnail(item[0]))
            item.append(self.names[item[0]] if self.names else None)  # its key, shown
        return {
            "instance": self._instance, "version": version,
            "n_labeled": len(labeled), "n_skipped": n_skipped,
            "n_samples": len(c.X), "budget": self.budget, "round": len(history),
            "model_labels": history[-1]["n_labeled"] if history else 0,
            "model_version": model_version, "training": training, "refit_error": refit_error,
            "stopping": stopping, "can_stop": can_stop,
            "curve": curve, "recent": recent, **classes,
            "class_counts": self._class_counts(labels, classes["classes"]),
            "finished": finished,
        }

    def _class_counts(self, labels, classes) -> list:
        """Labels per class; samples per label of a set; none for numbers."""
        if self.task == "regression":
            return []
        if self.task == "multilabel":
            return label_counts_of(labels, classes)
        return _counts(labels, classes)

    # ------------------------------------------------------------------ team, results

    def stats(self) -> dict:
        """The team view: answers per person, agreement per pair and per class (Cohen's
        kappa), the conflicts to adjudicate (with each person's label) and the rule."""
        with self._lock:
            agreement = self.team.agreement()
            conflicts = self.team.conflicts()
            counts: dict = {}
            for answers in self.team.by.values():
                for who in answers:
                    counts[who] = counts.get(who, 0) + 1
            waiting = len(self._waiting)
        items = []
        for conflict in conflicts:
            i = self._row(conflict["sample"])
            items.append({"index": i, "sample": conflict["sample"],
                          "name": self.names[i] if self.names else None,
                          "answers": conflict["answers"], "thumbnail": self._thumbnail(i)})
        return {"overlap": self.overlap, "waiting": waiting,
                "annotators": agreement["annotators"], "pairs": agreement["pairs"],
                "per_class": agreement["classes"],
                "answers": [[who, n] for who, n in sorted(counts.items())],
                "conflicts": items, "classes": list(self.classes),
                "n_adjudicated": len(self.team.adjudicated)}

    def finish(self, client) -> dict:
        """The finish button: no more samples are handed out; the model is refit once on
        every answer and saved (``--save``); where the journal and the save are."""
        with self._lock:
            self._client(client)
            if self.finished is not None:
                return self.finished
            self.finished = {"journal": None, "saved": None, "model": None}
        try:
            self.campaign.wait()
        except Exception:  # noqa: BLE001 - logged already; the final fit says more
            pass
        labels = self.campaign.labels_.tolist()
        journal = self.campaign.journal_
        out = {"journal": None if journal is None else journal.path, "saved": None,
               "n_labeled": len(labels), "n_skipped": len(self.campaign.skipped_indices_)}
        try:
            self.campaign.refit()
            out["model"] = f"trained on {len(labels)} labels"
            if self.save_path:
                out["saved"] = str(learner_of(self.campaign).save(self.save_path))
        except (TypeError, ValueError) as exc:
            out["model"] = f"not saved: {exc}"[:500]
        with self._lock:
            self.finished = out
            self._version += 1
        if self.on_finish is not None:
            self.on_finish()
        return out

    def export(self, fmt) -> bytes:
        """The journal's answers as ``skal export`` writes them (csv, json or parquet)."""
        from skal.cli._export import FORMATS, export_bytes

        if fmt not in FORMATS:
            raise SessionError(f"format must be one of {', '.join(FORMATS)}")
        journal = self.campaign.journal_
        if journal is None:
            raise SessionError("this session has no journal to export", 409)
        try:
            return export_bytes(journal, fmt)
        except ValueError as exc:
            raise SessionError(str(exc)) from None

    def _thumbnail(self, index: int):
        with self._lock:
            if index in self._thumbs:
                self._thumbs.move_to_end(index)
                return self._thumbs[index]
        thumb = self.display.thumbnail(take_rows(self.campaign.X, index))
        with self._lock:
            self._thumbs[index] = thumb
            while len(self._thumbs) > 256:
                self._thumbs.popitem(last=False)
        return thumb

    def close(self) -> None:
        """Stop the query thread and wait for a running refit."""
        self._prefetch.shutdown(wait=False, cancel_futures=True)
        try:
            self.campaign.wait()
        except Exception:  # noqa: BLE001 - already logged
            pass

