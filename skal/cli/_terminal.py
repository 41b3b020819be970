"""The terminal's labeling loop: a Campaign driven step by step, one sample and one key at a time.

Each sample is shown with the model's guess and answered with one line: a class (its name,
its number key when classes have longer names, or ``#k``), a number (``--target number``,
:class:`NumberKeys`), the labels that apply separated by spaces or commas (``--target set``,
:class:`SetKeys`; ``-`` for none of them), Enter or ``s`` to skip, ``u`` to
undo the last answer (again and again: it walks back; the sample is asked again), ``q`` to
quit at once. Every answer and undo is in the journal (under the session's annotator) before
the next sample is shown.

Rounds: random samples until ``initial_size`` labels of two classes, then the first model
trains (the person waits: it chooses the next batch). After that, each batch is chosen by the
newest finished model and the batch just answered retrains in the background meanwhile. A
retraining takes exactly the answers before it: an answer typed while it still runs waits for
it, so a session piped on stdin is reproducible. ``q`` starts no retraining.
"""

from __future__ import annotations

import sys
import threading
from contextlib import nullcontext

import numpy as np

from skal._pool import take_rows
from skal.cli._data import parse_label
from skal.cli._keys import class_keys
from skal.cli._kinds import NONE_WORDS, enough_to_fit, number_guess, parse_number, set_guess
from skal.oracles import safe_text

__all__ = ["KEYS_HELP", "Keys", "NumberKeys", "SetKeys", "TerminalLabeling", "guess_text"]

KEYS_HELP = "Enter/s skip, u undo, q quit"
QUIT, SKIP, UNDO = ("q", "quit", "exit"), ("", "s", "skip"), ("u", "undo")
MAX_LABEL = 100  # characters of a label typed without --classes
SHOWN_CLASSES = 12  # classes listed in the prompt
SLOW_S = 0.5  # a wait for the retraining this long is said on screen
_TWO = {"regression": "a number", "multilabel": "two different sets of labels"}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _cut(text: str, n: int = 40) -> str:
    text = safe_text(text)
    return text if len(text) <= n else text[: n - 1] + "…"


class Keys:
    """What a typed line means.

    :meth:`read` returns ``("label", value)``, ``("skip", None)``, ``("undo", None)``,
    ``("quit", None)`` or ``("bad", a short help line)``. With classes, a label is typed as
    the class's name, its number key (``1``-``9``, ``0``, as on the web page, when classes
    have longer names and none is named like a key) or its position ``#k``; without classes,
    any short printable text (integers read as integers).

    Examples
    --------
    >>> keys = Keys(["pos", "neg"])
    >>> keys.read("2"), keys.read("neg"), keys.read("#0"), keys.read("u")
    (('label', 'neg'), ('label', 'neg'), ('label', 'pos'), ('undo', None))
    >>> keys.read("maybe")[0]
    'bad'
    """

    noun = "label"  # what the prompt asks for

    def __init__(self, classes=None) -> None:
        self.classes = None if classes is None else [_plain(c) for c in classes]
        self.keys: dict[str, object] = {}
        if self.classes:
            names = [str(c) for c in self.classes]
            keys = class_keys(self.classes)
            if keys != [n.lower() for n in names] and not set(keys) & set(names):
                self.keys = {k: c for k, c in zip(keys, self.classes) if k}

    def hint(self) -> str:
        """The classes as the prompt lists them (``" [1 pos, 2 neg]"``), or ``""``."""
        if self.classes is None:
            return ""
        by_class = {repr(c): k for k, c in self.keys.items()}
        shown = [f"{by_class[repr(c)]} {safe_text(c)}" if repr(c) in by_class else safe_text(c)
                 for c in self.classes[:SHOWN_CLASSES]]
        more = ", ..." if len(self.classes) > SHOWN_CLASSES else ""
        return f" [{', '.join(shown)}{more}]"

    def read(self, line: str):
        """The meaning of one typed line (see the class)."""
        text = line.strip()
        low = text.lower()
        for kind, words in (("quit", QUIT), ("skip", SKIP), ("undo", UNDO)):
            if low in words:
                return kind, None
        label = self._label(text)
        if isinstance(label, tuple):
            return label
        if isinstance(label, int) and not isinstance(label, bool) and label == -1:
            return "bad", "-1 marks an unlabeled sample, it is not a label: type s to skip"
        return "label", label

    def _label(self, text: str):
        """The label typed, or ``("bad", why)``."""
        if self.classes is None:
            if not text.isprintable() or len(text) > MAX_LABEL:
                return "bad", (f"'{_cut(text, 24)}' is not a label: a label is up to "
                               f"{MAX_LABEL} printable characters; or {KEYS_HELP}")
            return parse_label(text)
        for c in self.classes:
            if str(c) == text:
                return c
        if text in self.keys:
            return self.keys[text]
        if text.startswith("#") and text[1:].isdigit() and int(text[1:]) < len(self.classes):
            return self.classes[int(text[1:])]
        return "bad", f"'{_cut(text)}' is not one of the classes{self.hint()}; or {KEYS_HELP}"


class NumberKeys(Keys):
    """A typed line as a regression target: a finite number (``-1`` included), or skip,
    undo, quit; ``nan``, ``inf``, ``1e999`` and text are refused with a one-line help.

    Examples
    --------
    >>> keys = NumberKeys()
    >>> keys.read("-1"), keys.read(" 2.5e1 "), keys.read("s"), keys.read("nan")[0]
    (('label', -1.0), ('label', 25.0), ('skip', None), 'bad')
    """

    noun = "number"

    def __init__(self) -> None:
        super().__init__(None)

    def hint(self) -> str:
        return ""

    def read(self, line: str):
        text = line.strip()
        for kind, words in (("quit", QUIT), ("skip", SKIP), ("undo", UNDO)):
            if text.lower() in words:
                return kind, None
        try:
            return "label", parse_number(text)
        except ValueError as exc:
            return "bad", f"{_cut(str(exc).split(':')[0], 80)}: type a number; or {KEYS_HELP}"


class SetKeys(Keys):
    """A typed line as a set of labels among ``classes``: their names, number keys or
    ``#k``, separated by spaces or commas (``1 3``, ``cat,dog``); ``-`` or ``none`` for none
    of them, which is an answer and not a skip (Enter). The answer is the 0/1 row.

    Examples
    --------
    >>> keys = SetKeys(["cat", "dog", "bird"])
    >>> keys.read("1 3"), keys.read("dog,cat"), keys.read("-"), keys.read("")
    (('label', (1, 0, 1)), ('label', (1, 1, 0)), ('label', (0, 0, 0)), ('skip', None))
    >>> keys.read("1 1")[0], keys.read("fish")[0]
    ('bad', 'bad')
    """

    noun = "labels (several: 1 3 or a,b; - for none)"

    def read(self, line: str):
        text = line.strip()
        for kind, words in (("quit", QUIT), ("skip", SKIP), ("undo", UNDO)):
            if text.lower() in words:
                return kind, None
        if text.lower() in NONE_WORDS:
            return "label", (0,) * len(self.classes)
        chosen: list[int] = []
        for token in text.replace(",", " ").split():
            label = self._label(token)
            if isinstance(label, tuple):  # ("bad", why)
                return "bad", (f"'{_cut(token)}' is not one of the labels{self.hint()}; type "
                               f"several separated by spaces, - for none; or {KEYS_HELP}")
            j = next(k for k, c in enumerate(self.classes) if repr(c) == repr(label))
            if j in chosen:
                return "bad", (f"'{_cut(token)}' names {safe_text(label)} twice: give each "
                               f"label once; or {KEYS_HELP}")
            chosen.append(j)
        return "label", tuple(int(j in chosen) for j in range(len(self.classes)))


def guess_text(estimator, row, task: str = "classification", classes=None) -> str:
    """The model's guess for one sample (its two likeliest classes), as the prompt shows it.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = LogisticRegression().fit([[0.0], [1.0]], ["neg", "pos"])
    >>> guess_text(model, [[5.0]]), guess_text(None, [[5.0]])
    ('guess: pos (0.88), then neg (0.12)', 'no model yet')
    """
    if estimator is None:
        return "no model yet"
    if task != "classification":
        return _kind_guess(estimator, row, task, classes)
    try:
        proba = np.asarray(estimator.predict_proba(row), dtype=float)[0]
        classes = [_plain(c) for c in estimator.classes_]
    except Exception as exc:  # noqa: BLE001 - the sample is shown without a guess
        return f"no guess: {type(exc).__name__}"
    order = np.argsort(-proba, kind="stable")[:2]
    return "guess: " + ", then ".join(f"{safe_text(classes[j])} ({proba[j]:.2f})" for j in order)


def _kind_guess(estimator, row, task: str, classes) -> str:
    """A regressor's guess (``guess: 3.2 ± 0.4``) or a multi-label model's (the labels
    likelier than not, with their probabilities, or none of them)."""
    try:
        if task == "regression":
            value, std = number_guess(estimator, row)[0]
            return f"guess: {value:.4g}" + ("" if std is None else f" ± {std:.2g}")
        proba = set_guess(estimator, row)[0]
    except Exception as exc:  # noqa: BLE001 - the sample is shown without a guess
        return f"no guess: {type(exc).__name__}"
    names = list(classes or range(len(proba)))
    likely = [f"{safe_text(names[j])} ({p:.2f})" for j, p in enumerate(proba) if p >= 0.5]
    return "guess: " + (", ".join(likely) if likely else "none of these")


class TerminalLabeling:
    """One person labeling at the terminal, over a :class:`skal.Campaign` step by step.

    Parameters
    ----------
    campaign : skal.Campaign
        Its journal records every answer and undo; its ``spec`` gives the batch size,
        ``initial_size`` and ``max_labels``.
    show : callable
        ``show(index)``: the text of a pool sample (an image, a record, a text).
    keys : Keys
        What a typed line means.
    annotator : str or None
        Recorded with every answer and undo (``journal.answering_as``).
    rounds : int
        Batches chosen by a model in this session (the initial set aside).
    names : list of str or None
        A name per sample, shown in its header.
    started : bool
        The first model was trained elsewhere (``--model``): it keeps choosing while the
        answers are of one class.
    """

    def __init__(self, campaign, *, show, keys: Keys, annotator=None, rounds: int,
                 names=None, started: bool = False, input=None, output=None) -> None:  # noqa: A002
        self.campaign, self.show, self.keys = campaign, show, keys
        self.annotator, self.rounds, self.names, self.started = annotator, rounds, names, started
        self.input = sys.stdin if input is None else input
        self.output = sys.stdout if output is None else output
        self.answered: list[int] = []  # this session's answers, the newest last: what u undoes
        self.future = None  # the background retraining
        self.dirty = False  # answers or undos no retraining has been asked for
        self._notes: list[str] = []
        self._notes_lock = threading.Lock()
        spec = campaign.spec
        n = len(campaign.X)
        size = spec.initial_size
        self.initial_size = size if isinstance(size, int) else max(1, int(np.ceil(size * n)))
        self.batch_size, self.budget = spec.n_instances, spec.max_labels

    # ------------------------------------------------------------------ output

    def note(self, line: str) -> None:
        """Queue a line (a retraining's progress, from any thread) for the next pause."""
        with self._notes_lock:
            self._notes.append(line)

    def say(self, text: str) -> None:
        """Print the queued notes, then ``text``."""
        with self._notes_lock:
            notes, self._notes = self._notes, []
        self.output.write("".join(f"{line}\n" for line in notes) + (f"{text}\n" if text else ""))
        self.output.flush()

    # ------------------------------------------------------------------ the session

    def run(self) -> str:
        """Ask until the rounds, the budget or the pool end, or the person quits: why it ended
        (``"stopped"`` for ``q``, ``"done"``, ``"max_labels"``, ``"pool exhausted"``, or a
        stopping criterion's reason)."""
        if (self.campaign.estimator_ is None and self.budget is not None
                and self.initial_size > self.budget):
            raise ValueError(f"--initial-size {self.initial_size} asks for more labels than "
                             f"--max-labels {self.budget}; lower one or raise the other.")
        why = self._initial_set()
        for _ in range(self.rounds):
            if why is not None:
                break
            why = self._round()
        return why or "done"

    def _initial_set(self) -> str | None:
        """Random samples until ``initial_size`` labels of two classes, then the first fit."""
        c, told = self.campaign, False
        while c.estimator_ is None:
            labels = c.labels_
            need = self.initial_size - len(labels)
            if need <= 0 and enough_to_fit(c.spec.task, labels):
                c.refit()  # the person waits: this model chooses the next batch
                self.dirty = False
                self.say("")
                return None
            if not told:
                self.say(f"no model yet: it trains once {self.initial_size} answers hold "
                         f"{_TWO.get(c.spec.task, 'labels of two classes')}, then guesses "
                         "each sample's answer")
                told = True
            why = self._batch(need if need > 0 else self.batch_size)
            if why is not None:
                return why
        return None

    def _round(self) -> str | None:
        """One batch chosen by the newest finished model, answered while the last batch's
        answers retrain it; why the session ends, or None."""
        self._settle()
        if self.campaign.stop_reason_:  # a stopping criterion (--stop) after the last fit
            return self.campaign.stop_reason_
        return self._batch(self.batch_size, retrain=True)

    def _batch(self, n: int, *, retrain: bool = False) -> str | None:
        if self.budget is not None:
            n = min(n, self.budget - self.campaign.n_answered_)
            if n <= 0:
                return "max_labels"
        batch = self.campaign.next_batch(n)
        if not len(batch):
            return "pool exhausted"
        if retrain:
            self._retrain()
        return None if self._ask_batch([int(i) for i in batch]) else "stopped"

    def _ask_batch(self, queue: list[int]) -> bool:
        """Ask each sample of a batch (an undone one first); False when the person quits."""
        while queue:
            i = queue[0]
            kind, value = self._read(i)
            if kind == "quit":
                return False
            if kind == "undo":
                back = self._undo()
                if back is not None:
                    queue.insert(0, back)
            elif self._answer(i, value):
                queue.pop(0)
        return True

    def _read(self, i: int) -> tuple:
        """Show sample ``i``, then a prompt with its guess; read lines until one means
        something."""
        name = ""
        if self.names is not None and 0 <= i < len(self.names):
            name = f" ({safe_text(self.names[i])})"
        self.say(f"\nsample {i}{name}\n{self.show(i)}")
        guess = guess_text(self.campaign.estimator_, take_rows(self.campaign.X, [i]),
                           self.campaign.spec.task, self.keys.classes)
        while True:
            self.output.write(f"{self.keys.noun}{self.keys.hint()} ({KEYS_HELP}; {guess}): ")
            self.output.flush()
            line = self.input.readline()
            if not line:  # end of input: quit
                self.say("")
                return "quit", None
            if not _isatty(self.input):  # piped answers are not echoed: keep it readable
                self.output.write(_cut(line.strip(), 200) + "\n")
            kind, value = self.keys.read(line)
            if kind != "bad":
                return kind, value
            self.say(value)

    # ------------------------------------------------------------------ answers

    def _journaled(self, write) -> None:
        """``write()`` once the running retraining is done (it takes exactly the answers
        before it), as the session's annotator."""
        self._settle()
        journal = self.campaign.journal_
        with nullcontext() if journal is None else journal.answering_as(self.annotator):
            write()
        self.dirty = True

    def _answer(self, i: int, label) -> bool:
        """Record an answer (None: a skip); False when the campaign refuses the label."""
        if label is not None:
            try:  # the campaign's gate: a label of another kind than the answers so far
                self.campaign.check_answers([label])
            except (TypeError, ValueError) as exc:
                self.say(f"answer refused: {_cut(str(exc).split(';')[0], 100)}")
                return False
        self._journaled(lambda: self.campaign.answer(i, label))
        self.answered.append(i)
        return True

    def _undo(self) -> int | None:
        """Take back this session's last answer; the sample to ask again, or None."""
        if not self.answered:
            self.say(f"nothing to undo: no answer of this session is left ({KEYS_HELP})")
            return None
        i = self.answered.pop()
        self._journaled(lambda: self.campaign.undo(i))
        return i

    # ------------------------------------------------------------------ retraining

    def _retrain(self) -> None:
        """Retrain in the background on the answers so far, if there are new ones."""
        if not self.dirty:
            return
        labels = self.campaign.labels_
        if not enough_to_fit(self.campaign.spec.task, labels):
            self.say(f"{len(labels)} answers of one class so far: the starting model keeps "
                     "choosing until a second class is answered" if self.started else
                     "the answers hold one class: no retraining until a second is answered")
            return
        self.future = self.campaign.refit(background=True)
        self.dirty = False

    def _settle(self, *, quiet: bool = False) -> None:
        """Wait for the background retraining; a failure is said, the last model kept."""
        future, self.future = self.future, None
        if future is None:
            return
        try:
            try:
                future.result(timeout=None if quiet else SLOW_S)
            except TimeoutError:
                self.say("(the model is still retraining on the last batch...)")
                future.result()
        except Exception as exc:  # noqa: BLE001 - the previous model keeps choosing
            self.say(f"retraining failed, the previous model keeps choosing: {exc!r}")

    def finish(self, why: str, *, save: bool) -> None:
        """End the session: the last batch's retraining awaited; after ``q`` none, except
        once when ``save`` needs a model with every answer."""
        running = self.future is not None and not self.future.done()
        if why != "stopped":
            self._retrain()
            self._settle()
        elif save and self.campaign.estimator_ is not None and self.dirty:
            self.say(f"retraining once on {len(self.campaign.labels_)} labels, for --save")
            self._retrain()
            self._settle(quiet=True)
        elif save and running:
            self.say("waiting for the retraining in progress, for --save")
            self._settle(quiet=True)
        elif running:
            self.say("quit: no new retraining (the one already running ends before exit)")
        self.say("")


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
