"""`skal label` at the terminal, driven by typed keys: `u` walks back (the journal records each
retraction, the sample is asked again, export and resume agree), the model's guess once a model
exists, `q` quits without another retraining (and refits once for --save), bad keys give a short
help line and write nothing -- table-driven -- never a traceback."""

from __future__ import annotations

import io
import re
import sys

import numpy as np
import pytest

from skal import LabelJournal
from skal.cli import main
from skal.cli._export import export_rows

FAST = ["--model", "logreg", "--classes", "0,1,2", "--batch-size", "4", "--initial-size", "4",
        "--color", "none"]
FREE = ["--model", "logreg", "--color", "none"]  # no --classes: any label
ROUND = re.compile(r"^round \d+: (\d+) labels", flags=re.M)


@pytest.fixture
def pool(tmp_path, digits_xy):
    X, y = digits_xy
    keep = np.flatnonzero(y < 3)[:24]
    path = tmp_path / "pool.npy"
    np.save(path, X[keep])
    return path, y[keep]


class Typist(io.StringIO):
    """stdin typing a script, one line per prompt (then the end of input): ``"T"`` is the
    true label of the sample shown last; ``shown`` records that sample for every line."""

    def __init__(self, truth, script):
        super().__init__()
        self.truth, self.script, self.shown = truth, list(script), []

    def readline(self, *args):
        if not self.script:
            return ""
        i = int(re.findall(r"^sample (\d+)", sys.stdout.getvalue(), flags=re.M)[-1])
        self.shown.append(i)
        key = self.script.pop(0)
        return f"{self.truth[i]}\n" if key == "T" else f"{key}\n"


def label(monkeypatch, capsys, args, truth, script):
    """``skal label ARGS`` in this process, typing ``script``: (status, out, err, typist)."""
    typist = Typist(truth, script)
    monkeypatch.setattr(sys, "stdin", typist)
    status = main(["label", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err, typist


def records(path):
    with LabelJournal(f"{path}.journal.sqlite") as journal:
        return journal.records(), journal.labels()


# ----------------------------------------------------------------------------- undo


def test_u_walks_back_the_journal_records_it_and_the_samples_come_back(pool, monkeypatch,
                                                                      capsys):
    path, truth = pool
    script = ["T"] * 4 + ["T", "T", "u", "u", "u"] + ["T"] * 5
    status, out, _, typist = label(monkeypatch, capsys, [path, *FAST, "--rounds", "1",
                                                          "--annotator", "ana"], truth, script)
    assert status == 0, out
    first, batch = typist.shown[:4], typist.shown[4:7]  # the initial set, then a batch
    b1, b2, _ = batch
    # u at the 3rd sample of the batch takes back its 2nd, then its 1st, then the initial
    # set's last answer (across the retraining): each is asked again, newest undone first
    assert typist.shown[7:] == [b2, b1, first[-1], b1, b2, *typist.shown[12:]]
    assert len(typist.shown) == 14 and len(set(typist.shown)) == 8
    assert out.count("undone sample") == 3
    recs, labels = records(path)
    undos = [(r["sample_id"], r["strategy"], r["annotator"]) for r in recs if r["label"] is None]
    assert undos == [(b2, "undo", "ana"), (b1, "undo", "ana"), (first[-1], "undo", "ana")]
    assert labels == {i: truth[i] for i in set(typist.shown)}
    rows = export_rows(recs)  # the export agrees: the undone answers, then the current ones
    assert sorted(r["sample"] for r in rows if r["status"] == "undone") == sorted(
        [b1, b2, first[-1]])
    assert {r["sample"]: r["label"] for r in rows if r["current"]} == labels
    assert ROUND.findall(out) == ["4", "8"]  # the retraining after the batch has all 8

    status, out, _, again = label(monkeypatch, capsys, [path, *FAST, "--rounds", "1"], truth,
                                  ["T"] * 4)
    assert status == 0 and not set(again.shown) & set(labels)  # resume asks nothing twice
    assert ROUND.findall(out) == ["8", "12"]


def test_u_with_nothing_to_undo_and_u_across_an_earlier_session(pool, monkeypatch, capsys):
    path, truth = pool
    _, out, _, typist = label(monkeypatch, capsys, [path, *FAST], truth, ["u", "T", "q"])
    assert "nothing to undo" in out and typist.shown[0] == typist.shown[1]
    # a new session undoes only its own answers: the first one's answer stays
    _, out, _, _ = label(monkeypatch, capsys, [path, *FAST], truth, ["u", "q"])
    assert "nothing to undo" in out and len(records(path)[1]) == 1


# ----------------------------------------------------------------------------- the guess


def test_the_guess_appears_once_there_is_a_model(pool, monkeypatch, capsys):
    path, truth = pool
    status, out, _, _ = label(monkeypatch, capsys, [path, *FAST], truth, ["T"] * 6 + ["q"])
    assert status == 0
    before, after = out.split("round 0: 4 labels")
    assert "no model yet: it trains once 4 answers hold labels of two classes" in before
    assert before.count("q quit; no model yet): ") == 4  # in the prompt of each sample
    guesses = re.findall(r"q quit; guess: (\d) \(([01]\.\d\d)\), then (\d) "
                         r"\(([01]\.\d\d)\)\): ", after)
    assert len(guesses) == 3 and "no model yet" not in after
    assert all(float(p) >= float(q) for _, p, _, q in guesses)


# ----------------------------------------------------------------------------- q


def test_q_quits_without_another_retraining_and_resume_goes_on(pool, monkeypatch, capsys):
    path, truth = pool
    status, out, _, _ = label(monkeypatch, capsys, [path, *FAST], truth, ["T"] * 6 + ["q"])
    assert status == 0 and "stopped:" in out and "run the same command" in out
    assert ROUND.findall(out) == ["4"]  # the first model only: q fits nothing
    assert len(records(path)[1]) == 6  # every acknowledged answer is in the journal
    assert len(re.findall(r"^saved sample", out, flags=re.M)) == 6
    before = set(records(path)[1])

    status, out, _, typist = label(monkeypatch, capsys, [path, *FAST, "--rounds", "2"], truth,
                                   ["T"] * 8)
    assert status == 0 and "done:" in out
    assert ROUND.findall(out) == ["6", "10", "14"]
    assert not set(typist.shown) & before  # nothing answered before q is asked again
    assert len(records(path)[1]) == 14


def test_q_with_save_retrains_once_on_every_answer(pool, monkeypatch, capsys, tmp_path):
    from skal import load

    path, truth = pool
    cnn = [*FAST, "--model", "cnn", "--epochs", "1", "--image-shape", "8x8"]
    status, out, err, _ = label(monkeypatch, capsys,
                                [path, *cnn, "--save", tmp_path / "m.skal"], truth,
                                ["T"] * 6 + ["q"])
    assert "retraining once on 6 labels, for --save" in out
    assert ROUND.findall(out) == ["4", "6"]  # exactly one more fit, on all six answers
    assert status == 0, err
    assert load(tmp_path / "m.skal").n_labeled_ == len(records(path)[1]) == 6


FACTORIES = """
from skal import ActiveLearningClassifier
from skal.keras import CNNClassifier
from skal.strategies import ScoreStrategy

class Least(ScoreStrategy):
    def score(self, estimator, X, rng):
        return 1 - estimator.predict_proba(X).max(axis=1)

def strategy_object():  # a CNN, which a save holds, and a strategy object, which it cannot
    return ActiveLearningClassifier(CNNClassifier(), query_strategy=Least())

def cnn():
    return CNNClassifier()
"""

# (what, pool, extra options, fragment of the error)
UNSAVABLE = [
    ("terminal, logreg", "npy", [],
     "this session's model is sklearn.linear_model._logistic.LogisticRegression"),
    ("web, logreg", "npy", ["--web", "--no-browser"], "model is sklearn.linear_model"),
    ("a strategy object", "npy", ["--model", "savecheck:strategy_object"],
     "query_strategy is a Least, not a strategy name"),
    ("a table of words", "csv", ["--model", "savecheck:cnn"],
     "the samples of this table pool are not all numbers"),
]


@pytest.mark.parametrize("kind, extra, fragment", [r[1:] for r in UNSAVABLE],
                         ids=[r[0] for r in UNSAVABLE])
def test_save_is_checked_before_the_first_sample(pool, monkeypatch, capsys, tmp_path, kind,
                                                 extra, fragment):
    path, truth = pool
    (tmp_path / "savecheck.py").write_text(FACTORIES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "savecheck", raising=False)
    if kind == "csv":
        path = tmp_path / "t.csv"
        path.write_text("x,city\n" + "".join(f"{k},c{k % 3}\n" for k in range(12)))
    status, out, err, typist = label(monkeypatch, capsys,
                                     [path, *FAST, *extra, "--save", tmp_path / "m.skal"],
                                     truth, ["T"] * 6)
    assert status == 2 and err.startswith("skal label: error: --save ")
    assert fragment in err and "Keras" in err and "--model cnn" in err, err
    assert typist.shown == [] and "sample" not in out and "labeling page" not in out
    assert not (tmp_path / "m.skal").exists()


# ----------------------------------------------------------------------------- bad keys

# (what, extra options, keys typed before the bad one, the bad line, fragment of the help)
BAD_KEYS = [
    ("not a class", FAST, [], "7", "'7' is not one of the classes [0, 1, 2]"),
    ("position past the classes", FAST, [], "#3", "is not one of the classes"),
    ("an arrow key", FAST, [], "\x1b[A", "'\\x1b[A' is not one of the classes"),
    ("a huge line", FAST, [], "x" * 5000, "…' is not one of the classes"),
    ("minus one", FAST, [], "-1", "is not one of the classes"),
    ("nothing to undo", FAST, [], "u", "nothing to undo: no answer of this session is left"),
    ("free: minus one", FREE, [], "-1", "-1 marks an unlabeled sample"),
    ("free: a bell", FREE, [], "a\x07b", "up to 100 printable characters"),
    ("free: too long", FREE, [], "y" * 101, "up to 100 printable characters"),
    ("free: a string after numbers", FREE, ["1"], "cat", "answer refused:"),
]


@pytest.mark.parametrize("extra, before, bad, fragment", [r[1:] for r in BAD_KEYS],
                         ids=[r[0] for r in BAD_KEYS])
def test_bad_keys_give_a_short_help_line_and_write_nothing(pool, monkeypatch, capsys, extra,
                                                         before, bad, fragment):
    path, truth = pool
    status, out, _, typist = label(monkeypatch, capsys, [path, *extra], truth,
                                   [*before, bad, "T"])
    assert status == 0
    help_line = next(line for line in out.splitlines() if fragment in line)
    assert len(help_line) < 120 and "\x1b" not in out and "\x07" not in out
    assert typist.shown[-1] == typist.shown[-2]  # the same sample is asked again
    labels = records(path)[1]
    assert len(labels) == len(before) + 1 and labels[typist.shown[-1]] == truth[
        typist.shown[-1]]
