"""The ``skal`` command really runs: ``skal demo`` at a tiny budget, ``skal label`` with the CNN.

Both run in-process through :func:`skal.cli.main`; ``skal label`` reads its answers from a
piped ``sys.stdin`` (as when answers are piped at the terminal).
"""

import io
import json
import re
import sys

import numpy as np
import pytest

import skal
from skal import ActiveLearningClassifier, CNNClassifier, LabelJournal
from skal.cli import main

ASKED = re.compile(r"^sample (\d+)", flags=re.M)
SAVED = re.compile(r"^saved sample (\d+): (\S+)", flags=re.M)
ROUND = re.compile(r"^round (\d+): (\d+) labels", flags=re.M)


def test_demo_runs_at_a_tiny_budget(tmp_path, capsys):
    rc = main([
        "demo", "--seeds", "1", "--strategies", "random,margin", "--n-queries", "1",
        "--n-instances", "10", "--initial-size", "20", "--epochs", "2",
        "--output", str(tmp_path), "--quiet",
    ])
    assert rc == 0
    out = capsys.readouterr().out
    saved = json.loads((tmp_path / "demo_results.json").read_text())
    assert saved["dataset"] == "digits" and saved["seeds"] == 1
    results = saved["results"]
    assert list(results) == ["random", "margin"]
    for name, res in results.items():
        assert res["n_labeled"] == [20, 30], name
        scores = np.asarray(res["scores"])
        assert scores.shape == (2, 1)  # (rounds + 1, seeds)
        assert np.all((scores >= 0) & (scores <= 1))
        np.testing.assert_allclose(res["mean"], scores.mean(axis=1))
        assert res["std"] == [0.0, 0.0]  # one seed
        assert 0 <= res["aulc"] <= 1
        # a 2-epoch CNN (with the default floor of gradient steps) beats chance (0.1)
        assert scores[-1, 0] > 0.2, (name, scores)
    # the same initial 20 labels for both strategies: the same first score
    assert results["random"]["scores"][0] == results["margin"]["scores"][0]
    # the printed table: a header naming both strategies, one row per label count, AULC
    assert "Test accuracy" in out
    assert re.search(r"^labels \|\s+random \|\s+margin$", out, flags=re.M), out
    for n in (20, 30):
        row = re.search(rf"^\s*{n} \|\s+([\d.]+) \|\s+([\d.]+)$", out, flags=re.M)
        assert row, out
        i = [20, 30].index(n)
        assert float(row.group(1)) == pytest.approx(results["random"]["mean"][i], abs=5e-4)
        assert float(row.group(2)) == pytest.approx(results["margin"]["mean"][i], abs=5e-4)
    assert re.search(r"^\s*AULC \|", out, flags=re.M)
    assert "demo_results.json" in out


def test_demo_columns_may_train_on_the_pool(tmp_path, capsys):
    from skal.cli._demo import DEMO_STRATEGIES, _learner_options

    # random, the default, and the best pool training measured on digits
    assert DEMO_STRATEGIES == ("random", "auto", "auto+tsne_spreading")
    assert main(["demo", "--strategies", "random,margin+magic", "--output", str(tmp_path)]) == 2
    assert "after '+' comes one of" in capsys.readouterr().err
    rc = main(["demo", "--seeds", "1", "--strategies", "margin+label_spreading",
               "--n-queries", "1", "--n-instances", "10", "--initial-size", "20",
               "--epochs", "1", "--output", str(tmp_path), "--quiet"])
    assert rc == 0
    results = json.loads((tmp_path / "demo_results.json").read_text())["results"]
    assert list(results) == ["margin+label_spreading"]
    # the preset is the t-SNE spreading measured best on digits (a campaign with it:
    # test_semi_supervised.py's t-SNE tests; a demo run here would cost a t-SNE map)
    spreading = _learner_options("auto+tsne_spreading")["semi_supervised"]
    assert (spreading.embedding, spreading.max_ratio, spreading.max_pseudo_labels) == (
        "tsne", 30.0, 1000)


@pytest.fixture
def image_pool(tmp_path, digits_xy):
    """60 digits of classes 0-2 as (60, 8, 8) images in a .npy file."""
    X, y = digits_xy
    keep = np.flatnonzero(y < 3)[:60]
    path = tmp_path / "pool.npy"
    np.save(path, X[keep].reshape(-1, 8, 8))
    return path


def _session(path, answers, monkeypatch, capsys, *extra):
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{a}\n" for a in answers)))
    rc = main([
        "label", str(path), "--classes", "0,1,2", "--batch-size", "5", "--initial-size", "5",
        "--rounds", "1", "--epochs", "1", "--color", "none", *extra,
    ])
    return rc, capsys.readouterr().out


def test_label_with_the_cnn_from_piped_answers_and_resume(image_pool, monkeypatch, capsys):
    journal = str(image_pool) + ".journal.sqlite"
    answers = ["0", "1", "2"] * 10
    rc, out = _session(image_pool, answers, monkeypatch, capsys)
    assert rc == 0, out
    asked = [int(i) for i in ASKED.findall(out)]
    saved = [(int(i), lab) for i, lab in SAVED.findall(out)]
    # 5 initial labels, then one round of 5 queried by the CNN
    assert len(asked) == len(set(asked)) == 10, out
    assert saved == [(i, repr(int(a))) for i, a in zip(asked, answers)]
    rounds = [(int(r), int(n)) for r, n in ROUND.findall(out)]
    assert rounds == [(0, 5), (1, 10)], out
    assert "50 samples never asked" in out
    with LabelJournal(journal) as j:
        first = j.labels()
    assert first == {i: int(a) for i, a in zip(asked, answers)}

    # the same command again resumes: nothing answered is asked again
    saved_model = image_pool.parent / "learner.skal"
    rc, out = _session(image_pool, ["2", "1", "0"] * 10, monkeypatch, capsys,
                       "--save", str(saved_model))
    assert rc == 0, out
    asked2 = [int(i) for i in ASKED.findall(out)]
    assert len(asked2) == len(set(asked2)) == 5, out  # one round, the initial set is known
    assert not set(asked2) & set(first)
    assert "(10 samples answered so far)" in out
    rounds = [(int(r), int(n)) for r, n in ROUND.findall(out)]
    assert rounds[-1][1] == 15, out
    with LabelJournal(journal) as j:
        second = j.labels()
    assert len(second) == 15 and {i: second[i] for i in first} == first
    assert [second[i] for i in asked2] == [2, 1, 0, 2, 1]

    # the model of the session was the CNN (only a Keras learner can be saved), trained on
    # the 15 journal labels
    learner = skal.load(saved_model)
    assert isinstance(learner, ActiveLearningClassifier)
    assert isinstance(learner.estimator_, CNNClassifier)
    assert learner.n_labeled_ == 15
    assert set(learner.classes_) == {0, 1, 2}
    proba = learner.predict_proba(np.load(image_pool).reshape(60, -1))
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_label_shows_the_stopping_progress(image_pool, monkeypatch, capsys):
    rc, out = _session(image_pool, ["0", "1", "2"] * 10, monkeypatch, capsys,
                       "--model", "logreg", "--stop", "stable")
    assert rc == 0, out
    assert "round 0: 5 labels, 0 skipped, predictions stable for 0 of 3 rounds" in out
    assert "round 1: 10 labels, 0 skipped, predictions stable for " in out
    with pytest.raises(SystemExit):
        main(["label", str(image_pool), "--stop", "never"])
    assert "invalid choice: 'never'" in capsys.readouterr().err
