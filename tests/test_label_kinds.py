"""`skal label --target number|set` at the terminal: numbers typed (a bad number refused, nothing
written), label sets typed (empty set vs skip), undo, resume after a stop, export; bad numbers,
sets and options table-driven, each with its clear message; a regressor of your own."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from test_terminal import label, records

from skal.cli import main
from skal.cli._export import export_rows
from skal.cli._terminal import NumberKeys, SetKeys

NUMBER = ["--target", "number", "--model", "linear", "--batch-size", "3", "--initial-size", "3",
          "--color", "none"]
SET = ["--target", "set", "--classes", "cat,dog,bird", "--batch-size", "3",
       "--initial-size", "3", "--color", "none"]


@pytest.fixture
def pool(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(14, 3))
    path = tmp_path / "pool.npy"
    np.save(path, X)
    truth = np.round(X @ [1.0, 2.0, -1.0] * 10, 2)
    return path, truth


def current(path) -> dict:
    return {r["sample"]: r["label"] for r in export_rows(records(path)[0], current_only=True)}


# ----------------------------------------------------------------------------- numbers


def test_numbers_bad_ones_refused_undo_resume_and_export(pool, monkeypatch, capsys):
    path, truth = pool
    script = ["T", "nan", "T", "inf", "1e999", "abc", "-1", "T", "u", "T", "s", "T", "q"]
    status, out, _, typist = label(monkeypatch, capsys, [path, *NUMBER], truth, script)
    assert status == 0, out
    assert out.count("is not a finite number") == 3 and "'abc' is not a number" in out
    assert "guess: " in out and " ± " in out  # BayesianRidge's prediction and its spread
    shown = typist.shown
    undone, skipped = shown[7], shown[10]
    assert shown[9] == undone  # u, typed at the next sample: the last answer is asked again
    expected = {i: float(truth[i]) for i in (shown[0], shown[2], shown[6], undone, shown[11])}
    expected[skipped], expected[shown[6]] = None, -1.0  # -1 is a number, not a skip
    assert current(path) == expected  # exactly the acknowledged numbers (and the skip)
    assert [r["status"] for r in export_rows(records(path)[0])].count("undone") == 1

    # resume: nothing answered is asked again, the numbers are kept
    status, out, _, typist = label(monkeypatch, capsys, [path, *NUMBER], truth, ["T", "T", "q"])
    assert status == 0 and "(6 samples answered so far)" in out
    assert not set(typist.shown) & set(expected)
    expected.update({i: float(truth[i]) for i in typist.shown[:2]})  # the third: q
    assert current(path) == expected


@pytest.mark.parametrize("line, fragment", [
    ("nan", "is not a finite number"), ("-inf", "is not a finite number"),
    ("1e999", "is not a finite number"), ("Infinity", "is not a finite number"),
    ("abc", "is not a number"), ("1_000", "is not a number"), ("3 4", "is not a number"),
    ("0x10", "is not a number"),
])
def test_bad_numbers_get_one_line_of_help(line, fragment):
    kind, why = NumberKeys().read(line)
    assert kind == "bad" and fragment in why and "\n" not in why


def test_a_regressor_of_your_own_and_a_classifier_refused(pool, tmp_path, monkeypatch, capsys):
    path, truth = pool
    (tmp_path / "kinds_models.py").write_text(
        "def gp():\n    from sklearn.gaussian_process import GaussianProcessRegressor\n"
        "    return GaussianProcessRegressor()\n"
        "def learner():\n    from sklearn.linear_model import Ridge\n"
        "    from skal import ActiveLearningRegressor\n"
        "    return ActiveLearningRegressor(Ridge(), query_strategy='random', n_instances=2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("kinds_models", None)
    args = [path, *NUMBER, "--model", "kinds_models:gp"]
    status, out, _, _ = label(monkeypatch, capsys, args, truth, ["T"] * 4 + ["q"])
    assert status == 0 and "guess: " in out and " ± " in out  # the GP's return_std
    args = [path, "--target", "number", "--model", "kinds_models:learner", "--initial-size",
            "2", "--journal", tmp_path / "j2.sqlite", "--color", "none"]
    status, out, _, _ = label(monkeypatch, capsys, args, truth, ["T"] * 6 + ["q"])
    assert status == 0 and "round 1: 4 labels" in out  # the learner's own batch of two


def test_numbers_with_save_give_a_regressor_that_loads(pool, monkeypatch, capsys, tmp_path):
    from skal import ActiveLearningRegressor, CNNRegressor, load

    path, truth = pool
    args = [path, "--target", "number", "--model", "cnn", "--epochs", "1", "--batch-size", "3",
            "--initial-size", "3", "--color", "none", "--save", tmp_path / "m.skal"]
    status, out, err, typist = label(monkeypatch, capsys, args, truth, ["T"] * 6 + ["q"])
    assert status == 0, err
    learner = load(tmp_path / "m.skal")
    assert type(learner) is ActiveLearningRegressor and type(learner.estimator_) is CNNRegressor
    assert sorted(learner.y_labeled_.tolist()) == sorted(truth[typist.shown[:6]].tolist())


# ----------------------------------------------------------------------------- label sets


def test_label_sets_none_differs_from_skip_undo_resume_and_export(pool, monkeypatch, capsys):
    path, truth = pool
    script = ["1 3", "cat,dog", "-", "fish", "1 1", "", "bird", "u", "2", "q"]
    status, out, _, typist = label(monkeypatch, capsys, [path, *SET], truth, script)
    assert status == 0, out
    assert "'fish' is not one of the labels" in out and "names cat twice" in out
    shown = typist.shown
    assert shown[8] == shown[6] != shown[7]  # u, typed at the next sample: asked again
    expected = {shown[0]: (1, 0, 1), shown[1]: (1, 1, 0), shown[2]: (0, 0, 0),
                shown[5]: None, shown[8]: (0, 1, 0)}
    assert current(path) == expected  # "none of these" is an answer, Enter a skip
    assert records(path)[1][shown[2]] == (0, 0, 0) and records(path)[1][shown[5]] == -1
    assert "guess: " in out  # a model on three different sets

    status, out, _, typist = label(monkeypatch, capsys, [path, *SET], truth, ["3", "q"])
    assert status == 0 and "(5 samples answered so far)" in out
    assert typist.shown[0] not in expected
    expected[typist.shown[0]] = (0, 0, 1)
    assert current(path) == expected


@pytest.mark.parametrize("line, fragment", [
    ("fish", "'fish' is not one of the labels"), ("1 1", "names cat twice"),
    ("cat 1", "names cat twice"), ("#9", "'#9' is not one of the labels"),
    ("1;2", "'1;2' is not one of the labels"), ("4", "'4' is not one of the labels"),
])
def test_bad_label_sets_get_one_line_of_help(line, fragment):
    kind, why = SetKeys(["cat", "dog", "bird"]).read(line)
    assert kind == "bad" and fragment in why and "\n" not in why


@pytest.mark.parametrize("extra, fragment", [
    (["--target", "number", "--classes", "a,b"], "--classes names classes, but --target number"),
    (["--target", "set"], "--target set needs --classes"),
    (["--target", "set", "--classes", "a,b,a"], "names a label twice"),
    (["--target", "number", "--model", "logreg"], "for --target number use --model linear"),
    (["--target", "number", "--model", "linear", "--save", "m.skal"],
     "this session's model is sklearn.linear_model._bayes.BayesianRidge"),
    (["--target", "set", "--classes", "a,b", "--model", "cnn"], "for --target set use"),
    (["--target", "number", "--stop", "stable"], "--stop reads class probabilities"),
    (["--model", "sklearn.linear_model:BayesianRidge"], "is a class"),
])
def test_bad_target_options_are_refused_naming_the_fix(pool, monkeypatch, capsys, extra,
                                                         fragment):
    path, truth = pool
    status, _, err, _ = label(monkeypatch, capsys, [path, "--color", "none", *extra], truth, [])
    assert status == 2 and fragment in err, err


def test_a_regressor_without_target_number_is_refused(pool, tmp_path, monkeypatch, capsys):
    path, truth = pool
    (tmp_path / "kinds_reg.py").write_text(
        "def ridge():\n    from sklearn.linear_model import Ridge\n    return Ridge()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    status, _, err, _ = label(monkeypatch, capsys, [path, "--model", "kinds_reg:ridge"],
                              truth, [])
    assert status == 2 and "Ridge is a regressor: add --target number" in err
    assert main(["label", str(path), "--model", "kinds_reg:ridge", "--target", "set",
                 "--classes", "a,b"]) == 2
