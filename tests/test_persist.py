"""Labels are never lost (journal), learners are rebuilt from journals, saved and loaded."""

import copy
import io
import json
import os
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import skal
from skal import ActiveLearningClassifier, LabelJournal
from skal.io import _archive
from skal.oracles import ArrayOracle


@pytest.fixture(scope="module")
def small(digits_xy):
    X, y = digits_xy
    return X[:300], y[:300]


def logreg_learner(**kw):
    params = dict(query_strategy="entropy", n_queries=3, n_instances=10, initial_size=10,
                  random_state=0)
    params.update(kw)
    return ActiveLearningClassifier(LogisticRegression(max_iter=300), **params)


# --------------------------------------------------------------------------- journal


def test_every_label_of_a_campaign_is_journaled_as_answered(small, tmp_path):
    X, y = small
    path = tmp_path / "j.sqlite"

    class CheckingOracle:
        """Asked one sample at a time; each previous answer must already be on disk."""

        def __init__(self):
            self.answered = []

        def label_one(self, x, index):
            with LabelJournal(path) as other:  # a second connection sees committed data
                on_disk = other.labels()
            assert all(i in on_disk for i in self.answered)
            self.answered.append(index)
            return -1 if index % 5 == 0 else int(y[index])

        def label(self, X_batch, indices):  # pragma: no cover -- label_one is preferred
            raise AssertionError

    oracle = CheckingOracle()
    est = logreg_learner(oracle=oracle, journal=str(path)).fit(X, np.full(len(y), -1))
    with LabelJournal(path) as journal:
        labels = journal.labels()
        records = journal.records()
    assert set(labels) == set(oracle.answered)
    assert {i for i, lab in labels.items() if lab != -1} == set(est.labeled_indices_.tolist())
    assert all(labels[i] == y[i] for i in est.labeled_indices_)
    assert {r["strategy"] for r in records} == {"initial", "entropy"}
    assert {r["round"] for r in records} == {0, 1, 2, 3}
    assert all(r["score"] is not None for r in records if r["round"] > 0)


def test_teach_journals_before_refitting(small, tmp_path, monkeypatch):
    X, y = small
    path = tmp_path / "j.sqlite"
    est = logreg_learner(n_queries=0, journal=path).fit(X[:100], np.r_[y[:20], [-1] * 80])
    with LabelJournal(path) as journal:
        assert len(journal) == 20 and journal.records()[0]["strategy"] == "given"
    idx, scores = est.query(X[20:100], 5, return_scores=True)
    est.teach(X[20:100][idx], y[20:100][idx], sample_ids=idx + 20, scores=scores)
    with LabelJournal(path) as journal:
        last = journal.records()[-5:]
    assert [r["sample_id"] for r in last] == (idx + 20).tolist()
    assert [r["label"] for r in last] == y[20:100][idx].tolist()
    assert all(r["round"] == 1 and r["strategy"] == "entropy" for r in last)
    np.testing.assert_allclose([r["score"] for r in last], scores)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut during fit")

    monkeypatch.setattr(LogisticRegression, "fit", crash)  # whatever path the refit takes
    with pytest.raises(RuntimeError, match="power cut"):
        est.teach(X[[99]], y[[99]], sample_ids=[99])
    with LabelJournal(path) as journal:  # the label made it to disk before the crash
        assert journal.labels()[99] == y[99]
    assert est.n_labeled_ == 25  # the learner itself is unchanged


def test_teach_parameters_are_checked(small, tmp_path):
    X, y = small
    est = logreg_learner(n_queries=0, journal=tmp_path / "j.sqlite").fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="sample_ids"):
        est.teach(X[:2], y[:2])  # a journal needs ids
    with pytest.raises(ValueError, match="sample_ids"):
        est.teach(X[:2], y[:2], sample_ids=[1])
    with pytest.raises(TypeError, match="sample_ids"):
        est.teach(X[:2], y[:2], sample_ids=[0.5, 1.5])
    with pytest.raises(ValueError, match="scores"):
        est.teach(X[:2], y[:2], sample_ids=[0, 1], scores=[0.1])


def test_bad_journal_parameter(small):
    X, y = small
    with pytest.raises(ValueError, match="'journal' parameter"):
        logreg_learner(journal=3).fit(X, y)


def test_from_journal_rebuilds_the_labeled_set_and_refuses_another_pool(small, tmp_path):
    X, y = small
    path = tmp_path / "j.sqlite"
    truth = y.copy()
    truth[::3] = -1
    est = logreg_learner(oracle=ArrayOracle(truth), journal=path).fit(X, np.full(300, -1))
    rebuilt = ActiveLearningClassifier.from_journal(
        path, X, estimator=LogisticRegression(max_iter=300)
    )
    np.testing.assert_array_equal(rebuilt.labeled_indices_, est.labeled_indices_)
    np.testing.assert_array_equal(rebuilt.y_labeled_, est.y_labeled_)
    np.testing.assert_array_equal(rebuilt.X_labeled_, est.X_labeled_)
    np.testing.assert_array_equal(rebuilt.classes_, est.classes_)
    np.testing.assert_array_equal(
        rebuilt.labeled_round_[est.labeled_indices_], est.labeled_round_[est.labeled_indices_]
    )
    np.testing.assert_allclose(rebuilt.predict_proba(X), est.predict_proba(X), atol=1e-6)
    assert rebuilt.journal == path

    other = X.copy()
    other[0, 0] += 1
    with pytest.raises(ValueError, match="another pool"):
        ActiveLearningClassifier.from_journal(path, other)
    with pytest.raises(ValueError, match="another pool"):
        logreg_learner(oracle=ArrayOracle(truth), journal=path).fit(other, np.full(300, -1))


def test_fit_with_a_journal_resumes_without_asking_again(small, tmp_path):
    X, y = small
    path = tmp_path / "j.sqlite"
    first = logreg_learner(oracle=ArrayOracle(np.where(np.arange(300) % 7, y, -1)), journal=path)
    first.fit(X, np.full(300, -1))
    with LabelJournal(path) as journal:
        answered = set(journal.labels())
    oracle_calls = []

    def oracle(X_batch, indices):
        oracle_calls.extend(np.asarray(indices).tolist())
        return y[np.asarray(indices)]

    second = logreg_learner(oracle=oracle, journal=path, n_queries=2).fit(X, np.full(300, -1))
    assert not answered & set(oracle_calls)  # neither labels nor skips asked again
    assert set(first.labeled_indices_.tolist()) <= set(second.labeled_indices_.tolist())
    assert second.n_labeled_ == first.n_labeled_ + 20


def test_from_journal_with_user_keys(small, tmp_path):
    X, y = small
    keys = [f"img{i:03d}.png" for i in range(60)]
    path = tmp_path / "j.sqlite"
    with LabelJournal(path) as journal:
        journal.append([keys[i] for i in range(0, 60, 3)], y[0:60:3].tolist())
    rebuilt = ActiveLearningClassifier.from_journal(
        path, X[:60], keys=keys, estimator=LogisticRegression(max_iter=300), journal=None
    )
    np.testing.assert_array_equal(rebuilt.labeled_indices_, np.arange(0, 60, 3))
    assert rebuilt.journal is None
    rebuilt.teach(X[[1]], y[[1]], sample_ids=["img001.png"])  # no journal: ids are ignored
    with pytest.raises(ValueError, match="keys"):
        ActiveLearningClassifier.from_journal(path, X[:60])
    with pytest.raises(ValueError, match="keys has"):
        ActiveLearningClassifier.from_journal(path, X[:60], keys=keys[:5])


# --------------------------------------------------------------------------- save / load


@pytest.fixture(scope="module")
def fitted_cnn(digits):
    X_train, _, y_train, _ = digits
    X, y = X_train[:240], y_train[:240]
    cnn = skal.CNNClassifier(filters=(8,), dense_units=16, epochs=2, batch_size=64,
                             min_train_steps=None, random_state=0)  # tiny: tests/conftest.py
    est = ActiveLearningClassifier(
        cnn, query_strategy="margin", n_queries=1, n_instances=10,
        initial_size=30, random_state=0,
    ).fit(X, y)
    return est, X


@pytest.fixture
def saved(fitted_cnn, tmp_path):
    est, _ = fitted_cnn
    return est.save(tmp_path / "learner.skal")


def test_save_load_round_trip(fitted_cnn, saved):
    est, X = fitted_cnn
    loaded = skal.load(saved)
    assert loaded.get_params()["query_strategy"] == "margin"
    assert loaded.estimator.get_params() == est.estimator.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    pool = X[100:]
    np.testing.assert_array_equal(loaded.query(pool), est.query(pool))
    for name in ("X_labeled_", "y_labeled_", "labeled_indices_", "labeled_round_", "classes_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(est, name))
    assert loaded.history_ == est.history_ and loaded.campaign_.seed_ == est.campaign_.seed_
    assert [q.tolist() for q in loaded.queried_indices_] == [
        q.tolist() for q in est.queried_indices_
    ]
    # its campaign's pool is the labeled set (the rest of the pool is not saved)
    assert len(loaded.campaign_.X) == loaded.n_labeled_
    loaded.teach(pool[:3], np.array([0, 1, 2]))  # the loaded learner keeps learning
    assert loaded.n_labeled_ == est.n_labeled_ + 3
    n_pool = len(est.labeled_round_)  # taught samples are numbered on after the saved pool
    assert loaded.labeled_indices_[-3:].tolist() == [n_pool, n_pool + 1, n_pool + 2]
    assert len(loaded.labeled_round_) == n_pool + 3
    assert skal.load(saved, query_strategy="entropy").query_strategy == "entropy"


def test_save_load_with_shift_augmentation(digits, tmp_path):
    # The augmentation is a custom Keras layer: it must load with safe_mode on.
    X_train, _, y_train, _ = digits
    cnn = skal.CNNClassifier(filters=(8,), dense_units=16, epochs=2, batch_size=64,
                             shift_augment=1, random_state=0)
    est = ActiveLearningClassifier(cnn, n_queries=1, n_instances=10, initial_size=30,
                                   random_state=0).fit(X_train[:200], y_train[:200])
    loaded = skal.load(est.save(tmp_path / "aug.skal"))
    assert loaded.estimator.shift_augment == 1
    np.testing.assert_array_equal(loaded.predict_proba(X_train), est.predict_proba(X_train))
    loaded.teach(X_train[200:203], y_train[200:203])  # and trains again after loading
    assert loaded.n_labeled_ == est.n_labeled_ + 3


def test_save_is_atomic(fitted_cnn, saved, monkeypatch):
    est, X = fitted_cnn
    before = skal.load(saved).predict_proba(X[:20])

    def failing_save(estimator, path):
        with open(path, "wb") as fh:
            fh.write(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(type(est.estimator_), "save_fitted", failing_save)
    with pytest.raises(OSError, match="disk full"):
        est.save(saved)
    np.testing.assert_array_equal(skal.load(saved).predict_proba(X[:20]), before)
    assert os.listdir(saved.parent) == [saved.name]  # no temporary file left behind


KILLED_SAVE = """
import sys, time
from pathlib import Path
import numpy as np
from skal.io._archive import write_save

def write(file):
    Path(file).write_bytes(b"w" * 100_000)
    print("writing", flush=True)
    time.sleep(60)

write_save(sys.argv[1], {}, {"x": np.arange(3)}, write)
"""


@pytest.mark.skipif(not hasattr(os, "fork") or _archive.fcntl is None,
                    reason="POSIX: file locks and SIGKILL")
def test_a_killed_save_leaves_temporaries_the_next_save_removes(tmp_path):
    import fcntl
    import signal
    import subprocess
    import sys

    path = tmp_path / "learner.skal"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    left = []
    for _ in range(2):  # SIGKILL during save(), twice: the second removes what the first left
        child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline() == "writing\n", child.stderr.read()
        finally:
            child.send_signal(signal.SIGKILL)
            child.communicate(timeout=30)
        assert not set(left) & set(os.listdir(tmp_path))
        left = sorted(os.listdir(tmp_path))  # its temporary file and scratch folder
        assert len(left) == 2 and left[1] == left[0] + ".d", left
        assert left[0].startswith(".learner.skal.") and left[0].endswith(".tmp")
    # Beside them: a save in progress (its file locked), and what is not a save's temporary
    # of this path -- all kept.
    live = tmp_path / ".learner.skal.0123456789ab.tmp"
    keep = [live.name, live.name + ".d", ".other.skal.0123456789ab.tmp", ".learner.skal.tmp",
            ".learner.skal.notes.tmp", ".learner.skal.0123456789AB.tmp", "learner.skal.bak"]
    for name in keep:
        (tmp_path / name).mkdir() if name.endswith(".d") else (tmp_path / name).write_text("x")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        _archive.write_save(path, {}, {"x": np.arange(3)},
                            lambda file: zipfile.ZipFile(file, "w").close())
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, *keep])
    with _archive.read_save(path) as saved:
        assert saved.arrays["x"].tolist() == [0, 1, 2]


def _rewrite(src, dst, **members):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name in members:
                if members[name] is not None:
                    zout.writestr(name, members[name])
            else:
                zout.writestr(name, zin.read(name))
    return dst


def test_load_refuses_bad_files_clearly(saved, tmp_path):
    junk = tmp_path / "junk.skal"
    junk.write_bytes(b"not a skal file at all" * 10)
    data = saved.read_bytes()
    truncated = tmp_path / "truncated.skal"
    truncated.write_bytes(data[: len(data) // 2])
    header = json.loads(zipfile.ZipFile(saved).read("params.json"))
    header["format_version"] = 99
    cases = {
        "junk": (junk, "not a zip"),
        "truncated": (truncated, "truncated"),
        "other zip": (_rewrite(saved, tmp_path / "a.skal", **{"params.json": None}),
                      "not a skal save"),
        "other json": (_rewrite(saved, tmp_path / "b.skal", **{"params.json": "{}"}),
                       "does not describe"),
        "version": (_rewrite(saved, tmp_path / "c.skal", **{"params.json": json.dumps(header)}),
                    "format version 99"),
        "state": (_rewrite(saved, tmp_path / "d.skal", **{"state.npz": b"garbage"}),
                  "state.npz is damaged"),
        "no model": (_rewrite(saved, tmp_path / "e.skal", **{"model.keras": None}),
                     "incomplete"),
        "model": (_rewrite(saved, tmp_path / "f.skal", **{"model.keras": b"garbage"}),
                  "Keras model could not be loaded"),
    }
    for name, (path, match) in cases.items():
        with pytest.raises(ValueError, match=match) as info:
            skal.load(path)
        assert str(path) in str(info.value), name
    with pytest.raises(ValueError, match="directory"):
        skal.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        skal.load(tmp_path / "missing.skal")
    with pytest.raises(TypeError, match="unknown learner parameters"):
        skal.load(saved, colour="blue")


def test_save_refuses_what_it_cannot_describe(small, fitted_cnn, tmp_path):
    X, y = small
    est = logreg_learner(n_queries=0).fit(X, y)
    with pytest.raises(TypeError, match="Keras estimators only"):
        est.save(tmp_path / "lr.skal")
    cnn, _ = fitted_cnn
    cnn.set_params(query_strategy=lambda e, X, n, r: np.arange(n))
    try:
        with pytest.raises(TypeError, match="query_strategy"):
            cnn.save(tmp_path / "cnn.skal")
    finally:
        cnn.set_params(query_strategy="margin")
    assert not list(tmp_path.iterdir())


def test_save_names_only_allow_listed_classes(small, saved, tmp_path):
    # A subclass can save its network, but load could not rebuild it from a name: refused.
    X, y = small

    class MyCNN(skal.CNNClassifier):
        pass

    est = ActiveLearningClassifier(
        MyCNN(filters=(4,), dense_units=8, epochs=1, min_train_steps=None, random_state=0),
        n_queries=0, random_state=0,
    ).fit(X[:60], y[:60])
    with pytest.raises(TypeError, match="Keras estimators only"):
        est.save(tmp_path / "sub.skal")
    assert not (tmp_path / "sub.skal").exists()
    # Load never looks a class up beyond the allow-list, whatever the file names.
    header = json.loads(zipfile.ZipFile(saved).read("params.json"))
    for name in ("LogisticRegression", "os.system", "__init__", ["CNNClassifier"], None):
        header["estimator"]["class"] = name
        bad = _rewrite(saved, tmp_path / "bad.skal", **{"params.json": json.dumps(header)})
        with pytest.raises(ValueError, match="unknown estimator"):
            skal.load(bad)
    # An estimator= that cannot load a saved network is refused clearly.
    with pytest.raises(ValueError, match="cannot load a saved network"):
        skal.load(saved, estimator=LogisticRegression())


def test_learner_with_journal_instance_pickles(small, tmp_path):
    import pickle

    from sklearn.base import clone

    X, y = small
    journal = LabelJournal(tmp_path / "shared.sqlite")
    learner = logreg_learner(n_queries=0, journal=journal)
    with pytest.raises(TypeError, match="journal"):
        clone(learner)  # every clone would write into the same journal
    twin = learner.fit(X[:65], np.r_[y[:60], [-1] * 5])  # 60..64 left to teach
    assert len(journal) == 60
    restored = pickle.loads(pickle.dumps(twin))
    assert restored.journal is not journal and restored.journal.path == journal.path
    assert restored.journal.labels() == journal.labels()  # reopened at the same path
    restored.teach(X[60:65], y[60:65], sample_ids=list(range(60, 65)))
    assert len(journal) == 65  # written through the reopened handle, seen by the first
    journal.close()
    assert pickle.loads(pickle.dumps(journal)).closed


def test_save_never_writes_what_load_refuses(fitted_cnn, tmp_path, monkeypatch):
    est, X = fitted_cnn
    monkeypatch.setattr(_archive, "MAX_STATE_BYTES", 1000)
    with pytest.raises(ValueError, match="more than a skal save may hold"):
        est.save(tmp_path / "big.skal")
    assert not list(tmp_path.iterdir())
    monkeypatch.undo()
    # A state that compresses beyond the ratio guard is stored uncompressed, and loads.
    monkeypatch.setattr(_archive, "RATIO_FREE_BYTES", 0)
    monkeypatch.setattr(_archive, "MAX_COMPRESSION_RATIO", 1)
    path = est.save(tmp_path / "stored.skal")
    assert zipfile.ZipFile(path).getinfo("state.npz").compress_type == zipfile.ZIP_STORED
    np.testing.assert_array_equal(skal.load(path).predict_proba(X[:5]), est.predict_proba(X[:5]))


def test_saves_of_earlier_writers_still_load(fitted_cnn, saved, tmp_path):
    # Files written before a parameter existed, without "dropped", without feature names,
    # without n_pseudo_labeled in the history and without round models.
    est, X = fitted_cnn
    parts = _parts(saved)
    assert not parts.rounds
    for name in ("pool_batch_size", "semi_supervised", "store_round_estimators"):
        del parts.header["learner"][name]
    del parts.header["estimator"]["dropped"]
    parts.state.pop("feature_names_in", None)
    rows = json.loads(str(parts.state["history_json"]))
    parts.state["history_json"] = np.asarray(json.dumps(
        [{k: v for k, v in row.items() if k != "n_pseudo_labeled"} for row in rows]))
    loaded = skal.load(parts.write(tmp_path / "old.skal"))
    assert loaded.pool_batch_size == ActiveLearningClassifier().pool_batch_size
    assert loaded.store_round_estimators is False and loaded.round_estimators_ == []
    assert [row["n_pseudo_labeled"] for row in loaded.history_] == [0] * len(rows)
    np.testing.assert_array_equal(loaded.predict_proba(X[:5]), est.predict_proba(X[:5]))


# --------------------------------------------------------------------------- round models


@pytest.fixture(scope="module")
def rounds_cnn(digits):
    # initial_size=5: the first rounds know fewer classes than the last (rebuilt from the
    # first n_labeled labels on load).
    X_train, _, y_train, _ = digits
    X, y = X_train[:240], y_train[:240]
    cnn = skal.CNNClassifier(filters=(8,), dense_units=16, epochs=2, batch_size=64,
                             min_train_steps=None, random_state=0)
    est = ActiveLearningClassifier(
        cnn, query_strategy="margin", n_queries=2, n_instances=10, initial_size=5,
        random_state=0, store_round_estimators=True,
    ).fit(X, y)
    assert len(est.round_estimators_) == len(est.history_) == 3
    assert len(est.round_estimators_[0].classes_) < len(est.classes_)
    return est, X


def _same_round_models(loaded, est, X):
    assert len(loaded.round_estimators_) == len(est.round_estimators_)
    for mine, theirs in zip(loaded.round_estimators_, est.round_estimators_, strict=True):
        np.testing.assert_array_equal(mine.classes_, theirs.classes_)
        np.testing.assert_allclose(mine.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


def test_round_models_are_saved_and_loaded(rounds_cnn, tmp_path):
    est, X = rounds_cnn
    path = est.save(tmp_path / "rounds.skal")
    assert zipfile.ZipFile(path).namelist() == [
        "params.json", "state.npz", "model.keras",
        "rounds/0.keras", "rounds/1.keras", "rounds/2.keras",
    ]
    loaded = skal.load(path)
    assert loaded.store_round_estimators is True and loaded.history_ == est.history_
    _same_round_models(loaded, est, X[:60])
    np.testing.assert_allclose(loaded.predict_proba(X), est.predict_proba(X), atol=1e-6)
    loaded.teach(X[:2], est.y_labeled_[:2])  # teach's fit keeps its round model too
    assert len(loaded.history_) == 4 and len(loaded.round_estimators_) == 4
    del loaded.campaign_.round_estimators_[3]  # a fit without its round model:
    with pytest.raises(ValueError, match="holds 3 models for the 4 fits"):
        loaded.save(tmp_path / "taught.skal")  # not with store_round_estimators=True ...
    assert not (tmp_path / "taught.skal").exists()
    loaded.set_params(store_round_estimators=False)  # ... but the first fits' models, saved
    again = skal.load(loaded.save(tmp_path / "taught.skal"))  # with False, still load
    assert len(again.history_) == 4 and len(again.round_estimators_) == 3
    assert again.store_round_estimators is False
    _same_round_models(again, est, X[:20])


def test_a_learner_without_round_models_loads_none(fitted_cnn, saved):
    est, _ = fitted_cnn
    assert est.round_estimators_ == []
    assert not [n for n in zipfile.ZipFile(saved).namelist() if n.startswith("rounds/")]
    assert skal.load(saved).round_estimators_ == []


def test_round_models_survive_pickling(rounds_cnn):
    import pickle

    est, X = rounds_cnn
    restored = pickle.loads(pickle.dumps(est))
    _same_round_models(restored, est, X[:60])


def test_save_refuses_round_models_it_could_not_load(rounds_cnn, small, tmp_path, monkeypatch):
    est, _ = rounds_cnn
    X, y = small

    def saving(**changes):
        twin = copy.copy(est)  # shares the fitted models; only the changed attributes differ
        twin.campaign_ = copy.copy(est.campaign_)
        for name, value in changes.items():
            setattr(twin.campaign_, name, value)
        return twin.save(tmp_path / "refused.skal")

    models = est.round_estimators_
    with pytest.raises(TypeError, match=r"round_estimators_\[1\] is sklearn"):
        saving(round_estimators_=[models[0], LogisticRegression().fit(X, y)])
    with pytest.raises(ValueError, match="4 models but history_ records 3 fits"):
        saving(round_estimators_=[*models, models[0]])
    rows = [dict(row) for row in est.history_]
    rows[0]["n_labeled"] = 2  # round 0 was trained on 5 labels of 5 classes
    with pytest.raises(ValueError, match=r"round_estimators_\[0\]: it was not trained on"):
        saving(history_=rows)
    monkeypatch.setattr(_archive, "MAX_ROUND_MODELS", 2)
    with pytest.raises(ValueError, match="3 round models are more than"):
        saving()
    monkeypatch.undo()
    monkeypatch.setattr(_archive, "MAX_ROUND_MODELS_BYTES", 1000)
    with pytest.raises(ValueError, match="the round models would take"):
        saving()
    assert not list(tmp_path.iterdir())  # nothing written, nothing left behind


# --------------------------------------------------------------------------- malformed saves
# Each row of MALFORMED damages a valid save in one way; skal.load must refuse the result with
# "'<path>' is not a readable skal save: <what>." containing the row's fragment -- never a raw
# TypeError, KeyError, RecursionError or MemoryError. To add a case, add a row.


@dataclass
class Parts:
    """A valid save taken apart. A row changes one thing; ``write`` puts the file together."""

    header: dict  # params.json, parsed
    state: dict  # state.npz's arrays
    model: bytes  # model.keras
    rounds: list = field(default_factory=list)  # rounds/<r>.keras, round 0 first
    members: dict = field(default_factory=dict)  # name -> bytes, writer(zf, name) or None
    raw: bytes | None = None  # the whole file, verbatim
    patch: Callable[[bytes], bytes] | None = None  # applied to the finished file
    limits: dict = field(default_factory=dict)  # skal.io._archive constants to lower

    def write(self, path):
        if self.raw is not None:
            path.write_bytes(self.raw)
            return path
        built = {"params.json": json.dumps(self.header).encode(), "state.npz": _npz(self.state),
                 "model.keras": self.model,
                 **{f"rounds/{r}.keras": model for r, model in enumerate(self.rounds)}}
        with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            warnings.simplefilter("ignore")  # duplicate names, on purpose
            for name in [*built, *(n for n in self.members if n not in built)]:
                value = self.members.get(name, built.get(name))
                if callable(value):
                    value(zf, name)
                elif value is not None:
                    zf.writestr(name, value)
        if self.patch is not None:
            path.write_bytes(self.patch(path.read_bytes()))
        return path


def _parts(path) -> Parts:
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("params.json"))
        with np.load(io.BytesIO(zf.read("state.npz")), allow_pickle=False) as npz:
            state = {k: npz[k] for k in npz.files}
        rounds = sorted((n for n in zf.namelist() if n.startswith("rounds/")),
                        key=lambda n: int(n[len("rounds/"):-len(".keras")]))
        return Parts(header, state, zf.read("model.keras"), [zf.read(n) for n in rounds])


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def _npz(state: dict) -> bytes:
    """``state`` as an npz; a value that is bytes is taken as the member's raw .npy file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, value in state.items():
            member = name if name.endswith((".npy", ".txt")) else f"{name}.npy"
            zf.writestr(member, value if isinstance(value, bytes) else _npy(value))
    return buffer.getvalue()


def _npy_header(descr: str, shape: tuple, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def zeros(n_bytes: int, method=zipfile.ZIP_DEFLATED):
    """A member of ``n_bytes`` zeros, streamed (so that a bomb costs the test no memory)."""
    def write(zf, name):
        info = zipfile.ZipInfo(name)
        info.compress_type = method
        with zf.open(info, "w", force_zip64=True) as fh:
            for start in range(0, n_bytes, 1 << 20):
                fh.write(bytes(min(1 << 20, n_bytes - start)))
    return write


def twice(data: bytes):
    return lambda zf, name: (zf.writestr(name, data), zf.writestr(name, data))


def stored(data: bytes):
    return lambda zf, name: zf.writestr(name, data, zipfile.ZIP_STORED)


def _central_record(data: bytes, name: str) -> int:
    """Offset of ``name``'s record in the zip's central directory."""
    pos = zipfile.ZipFile(io.BytesIO(data)).start_dir
    while True:
        pos = data.index(b"PK\x01\x02", pos)
        length = int.from_bytes(data[pos + 28: pos + 30], "little")
        if data[pos + 46: pos + 46 + length] == name.encode():
            return pos
        pos += 4


def declare(name: str, size: int):
    """A patch: the central directory declares ``size`` uncompressed bytes for ``name``."""
    def patch(data: bytes) -> bytes:
        at = _central_record(data, name) + 24
        return data[:at] + size.to_bytes(4, "little") + data[at + 4:]
    return patch


def set_flags(name: str, flags: int):
    def patch(data: bytes) -> bytes:
        at = _central_record(data, name) + 8
        return data[:at] + flags.to_bytes(2, "little") + data[at + 2:]
    return patch


def flip_byte(name: str):
    """A patch: one byte in the middle of ``name``'s compressed data is flipped."""
    def patch(data: bytes) -> bytes:
        info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
        local = info.header_offset
        start = local + 30 + int.from_bytes(data[local + 26: local + 28], "little") + \
            int.from_bytes(data[local + 28: local + 30], "little")
        at = start + info.compress_size // 2
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
    return patch


def learner(**values):
    return lambda p: p.header["learner"].update(values)


def spec(**values):
    return lambda p: p.header["estimator"].update(values)


def estimator_params(**values):
    return lambda p: p.header["estimator"]["params"].update(values)


def state(**values):
    return lambda p: p.state.update({k: v(p.state) if callable(v) else v
                                     for k, v in values.items()})


def history(text: str):
    return state(history_json=np.asarray(text))


def params_json(text: str | bytes):
    return lambda p: p.members.update({"params.json": text})


def drop(*names):
    return lambda p: p.members.update(dict.fromkeys(names))


def set_attr(name, value):
    return lambda p: setattr(p, name, value)


def pop_state(name):
    return lambda p: p.state.pop(name)


def member(name, value):
    """The archive member ``name`` made ``value``: bytes, a writer(zf, name) or None."""
    return lambda p: p.members.update({name: value})


def history_row(i, **values):
    def corrupt(p):
        rows = json.loads(str(p.state["history_json"]))
        rows[i].update(values)
        p.state["history_json"] = np.asarray(json.dumps(rows))
    return corrupt


def add_round(p):
    p.rounds.append(p.rounds[0])


def keras_zip(members: dict) -> bytes:
    """A zip (the container of a .keras file) of ``members``: name -> bytes or a writer."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # duplicate names, on purpose
        for name, value in members.items():
            if callable(value):
                value(zf, name)
            else:
                zf.writestr(name, value)
    return buffer.getvalue()


def keras_archive(which, members=None, *, patch=None, keep=True):
    """A row: the Keras archive ``which`` ("model" or a round number) rebuilt.

    ``members`` (name -> bytes, a writer or None to drop) replace or join its members (all
    of them if ``keep`` is False); ``patch`` is applied to the rebuilt archive's bytes.
    """
    def corrupt(p):
        data = p.model if which == "model" else p.rounds[which]
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            current = {n: zf.read(n) for n in zf.namelist()} if keep else {}
        current.update(members or {})
        built = keras_zip({k: v for k, v in current.items() if v is not None})
        built = patch(built) if patch is not None else built
        if which == "model":
            p.model = built
        else:
            p.rounds[which] = built
    return corrupt


def limited(row, **limits):
    """``row``, with skal.io._archive's limits lowered (and the round models left out)."""
    def corrupt(p):
        row(p)
        p.limits.update(limits)
        p.rounds.clear()
    return corrupt


_PAD = " " * (2 << 20)  # 2 MiB of spaces: deflates to ~2 KiB
_HEAD = '{"format": "skal-learner", "format_version": 1, "skal_version": "0.1.0", '
MALFORMED = [
    # --- the file and the zip archive
    ("not a zip", set_attr("raw", b"not a skal file at all" * 10), "not a zip archive"),
    ("empty file", set_attr("raw", b""), "not a zip archive"),
    ("truncated", set_attr("patch", lambda b: b[: len(b) // 2]), "truncated"),
    ("tail cut off", set_attr("patch", lambda b: b[:-30]), "not a zip archive"),
    ("bit flip in state.npz", set_attr("patch", flip_byte("state.npz")), "state.npz is damaged"),
    ("declared size too small", set_attr("patch", declare("params.json", 10)),
     "params.json is damaged"),
    ("declared size too large", set_attr("patch", declare("params.json", 900_000)),
     "params.json holds"),
    ("encrypted member", set_attr("patch", set_flags("state.npz", 1)), "encrypted"),
    ("member twice", lambda p: p.members.update({"params.json": twice(b"{}")}), "twice"),
    ("extra member", lambda p: p.members.update({"evil.py": b"import os"}),
     "unexpected members ['evil.py']"),
    ("no params.json", drop("params.json"), "no params.json inside"),
    ("no state.npz", drop("state.npz"), "incomplete: ['state.npz'] missing"),
    ("no model", drop("model.keras"), "incomplete: ['model.keras'] missing"),
    # --- sizes: bombs and oversized members
    ("params.json zip bomb", params_json(_HEAD[:-2] + _PAD + "}"),
     "params.json declares 2097"),
    ("params.json oversized, stored", lambda p: p.members.update(
        {"params.json": stored((_HEAD[:-2] + " " * (1 << 20) + "}").encode())}),
     "over the limit of 1048576"),
    ("state.npz zip bomb", lambda p: p.members.update({"state.npz": zeros(65 << 20)}),
     "state.npz inflates"),
    ("model zip bomb", lambda p: p.members.update({"model.keras": zeros(65 << 20)}),
     "model.keras inflates"),
    ("state.npz over its limit", lambda p: p.limits.update(MAX_STATE_BYTES=1000),
     "over the limit of 1000"),
    ("model over its limit", lambda p: p.limits.update(MAX_MODEL_BYTES=1000),
     "model.keras declares"),
    # --- params.json
    ("params.json not JSON", params_json(b"{not json"), "params.json is not valid JSON"),
    ("params.json not UTF-8", params_json(b"\xff\xfe{}"), "params.json is not valid JSON"),
    ("deeply nested JSON", params_json(_HEAD + '"x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
     "nests 100001 levels deep"),
    ("5000-digit integer", params_json(_HEAD + '"x": ' + "9" * 5000 + "}"), "not valid JSON"),
    ("params.json a list", params_json("[1, 2]"), "does not describe a skal learner"),
    ("wrong format", lambda p: p.header.update(format="zip"), "does not describe"),
    ("format_version a string", lambda p: p.header.update(format_version="1"),
     "format_version is '1', not an integer"),
    ("format_version a bool", lambda p: p.header.update(format_version=True),
     "format_version is True"),
    ("skal_version a number", lambda p: p.header.update(skal_version=3),
     "skal_version is 3, not a string"),
    ("unexpected header key", lambda p: p.header.update(extra=1), "unexpected keys ['extra']"),
    ("no learner parameters", lambda p: p.header.pop("learner"), "no learner parameters"),
    ("unknown task", lambda p: p.header.update(task="clustering"),
     "the task 'clustering' is not one of ['classification', 'regression']"),
    ("task a list", lambda p: p.header.update(task=["regression"]), "the task ['regression']"),
    ("a classifier's save named regression", lambda p: p.header.update(task="regression"),
     "the estimator CNNClassifier does not fit a regression save"),
    ("learner parameters a list", lambda p: p.header.update(learner=[1]),
     "the learner parameters are [1], not an object"),
    ("unknown learner parameter", learner(colour="blue"), "unknown learner parameters"),
    ("journal smuggled in", learner(journal="/tmp/other.sqlite"), "['journal']"),
    ("learner parameter of the wrong type", learner(n_instances="ten"),
     "'n_instances' parameter"),
    ("learner parameter out of range", learner(initial_size=-3), "'initial_size' parameter"),
    ("unknown strategy name", learner(query_strategy="telepathy"), "telepathy"),
    ("tag of the wrong type", learner(random_state={"__tuple__": 5}),
     "unexpected JSON object"),
    ("unknown tag", learner(random_state={"__pickle__": "..."}), "unexpected JSON object"),
    ("bad float tag", learner(random_state={"__float__": "1e400"}), "unexpected JSON object"),
    ("semi_supervised not a skal option",
     learner(semi_supervised={"__dict__": {"class": "os.system", "params": {"__dict__": {}}}}),
     "semi_supervised is {'class': 'os.system'"),
    ("semi_supervised option with unknown params",
     learner(semi_supervised={"__dict__": {"class": "ConsistencyTraining",
                                           "params": {"__dict__": {"colour": 1}}}}),
     "unexpected keyword argument 'colour'"),
    ("semi_supervised option out of range",
     learner(semi_supervised={"__dict__": {"class": "ConsistencyTraining",
                                           "params": {"__dict__": {"epochs": 0}}}}),
     "'epochs' parameter of ConsistencyTraining"),
    ("semi_supervised object with extra keys",
     learner(semi_supervised={"__dict__": {"class": "PseudoLabels", "params": {"__dict__": {}},
                                           "code": "x"}}), "not a skal option"),
    ("estimator a list", lambda p: p.header.update(estimator=["CNNClassifier"]),
     "unknown estimator"),
    ("estimator not allow-listed", spec(**{"class": "os.system"}), "unknown estimator"),
    ("estimator params a list", spec(params=[1]), "params are [1], not an object"),
    ("estimator dropped not names", spec(dropped=[1]), "dropped is [1], not a list of names"),
    ("estimator unexpected key", spec(module="os"), "unexpected keys ['module']"),
    ("estimator param not decodable", lambda p: p.header["estimator"]["params"].update(
        epochs={"x": 1}), "unexpected JSON object"),
    # --- the estimator's parameters, against its class (as save() checks them)
    ("estimator epochs negative", estimator_params(epochs=-5),
     "params.json: the estimator's parameters do not fit CNNClassifier (The 'epochs' "
     "parameter of CNNClassifier must be an int in the range [1, inf). Got -5 instead)"),
    ("estimator epochs a bool", estimator_params(epochs=True),
     "'epochs' parameter of CNNClassifier must be an int, not the bool True"),
    ("estimator epochs a string", estimator_params(epochs="25"), "'epochs' parameter"),
    ("estimator epochs a float", estimator_params(epochs=2.5), "'epochs' parameter"),
    ("estimator unknown parameter", estimator_params(colour="blue"),
     "unknown parameters ['colour'], not parameters of CNNClassifier"),
    ("estimator parameter shadowing a method", estimator_params(predict_proba=1),
     "unknown parameters ['predict_proba']"),
    ("estimator parameter of an unknown route", estimator_params(evil__x=1),
     "unknown parameters ['evil__x']"),
    ("estimator routed parameter without a name", estimator_params(model__=1),
     "unknown parameters ['model__']"),
    ("estimator batch_size zero", estimator_params(batch_size=0), "'batch_size' parameter"),
    ("estimator predict_batch_size negative", estimator_params(predict_batch_size=-1),
     "'predict_batch_size' parameter"),
    ("estimator finetune_epochs zero", estimator_params(finetune_epochs=0),
     "'finetune_epochs' parameter"),
    ("estimator min_train_steps a bool", estimator_params(min_train_steps=False),
     "'min_train_steps' parameter of CNNClassifier must be an int, not the bool False"),
    ("estimator dropout 1.5", estimator_params(dropout=1.5), "'dropout' parameter"),
    ("estimator learning_rate zero", estimator_params(learning_rate=0.0),
     "'learning_rate' parameter"),
    ("estimator learning_rate infinite", estimator_params(learning_rate={"__float__": "inf"}),
     "'learning_rate' parameter"),
    ("estimator shift_augment negative", estimator_params(shift_augment=-1),
     "'shift_augment' parameter"),
    ("estimator kernel_size zero", estimator_params(kernel_size=0), "'kernel_size' parameter"),
    ("estimator filters negative", estimator_params(filters={"__tuple__": [8, -1]}),
     "filters is (8, -1), not a tuple of positive ints"),
    ("estimator filters a string", estimator_params(filters="abc"), "'filters' parameter"),
    ("estimator input_shape of zeros", estimator_params(input_shape={"__tuple__": [0, 8]}),
     "input_shape is (0, 8), not a tuple of positive ints"),
    ("estimator input_shape 4-D", estimator_params(input_shape={"__tuple__": [8, 8, 1, 1]}),
     "input_shape is (8, 8, 1, 1), not (length, channels)"),
    ("estimator random_state negative", estimator_params(random_state=-1),
     "'random_state' parameter"),
    ("estimator verbose unknown", estimator_params(verbose="loud"), "'verbose' parameter"),
    ("estimator validation_split 1", estimator_params(validation_split=1.0),
     "'validation_split' parameter"),
    ("estimator shuffle a number", estimator_params(shuffle=2), "'shuffle' parameter"),
    ("estimator model named", estimator_params(model="os.system"), "'model' parameter"),
    ("estimator callbacks named", estimator_params(callbacks=["os.system"]),
     "'callbacks' parameter"),
    # --- state.npz: arrays
    ("state.npz garbage", lambda p: p.members.update({"state.npz": b"garbage"}),
     "state.npz is damaged"),
    ("state.npz holds a text file", state(**{"readme.txt": b"hi"}), "not a .npy array"),
    ("missing array", pop_state("seed"), "lacks ['seed']"),
    ("extra array", state(evil=np.zeros(3)), "unexpected arrays ['evil']"),
    ("object array", state(y_labeled=lambda s: s["y_labeled"].astype(object)),
     "objects (unreadable without pickle)"),
    ("complex samples", state(X_labeled=lambda s: s["X_labeled"].astype(complex)),
     "dtype complex128"),
    ("byte-string classes", state(classes=lambda s: s["classes"].astype("S2")), "dtype |S2"),
    ("float indices", state(labeled_indices=lambda s: s["labeled_indices"].astype(float)),
     "labeled_indices has dtype float64, not integers"),
    ("seed not a scalar", state(seed=np.array([1, 2])), "seed has shape (2,), not 0 dimensions"),
    ("samples 1-D", state(X_labeled=lambda s: s["X_labeled"][:, 0]), "not 2 or more dimensions"),
    ("history not a string", state(history_json=np.asarray(3)), "history_json has dtype int"),
    ("npy header garbage", state(seed=b"\x93NUMPY garbage"), "no readable array header"),
    ("npy negative dimension", state(seed=_npy_header("<i8", (-1,))), "negative dimension"),
    ("npy shape larger than its data", state(seed=_npy_header("<f8", (10**12,), bytes(8))),
     "its header declares shape (1000000000000,)"),
    ("npy data cut short", state(X_labeled=lambda s: _npy(s["X_labeled"])[:-8]),
     "bytes of data but its header declares"),
    # --- state.npz: consistency
    ("fewer labels than samples", state(y_labeled=lambda s: s["y_labeled"][:-1]),
     "but y_labeled has"),
    ("NaN in the samples", state(X_labeled=lambda s: np.where(s["X_labeled"] > 0.5, np.nan,
                                                            s["X_labeled"])), "NaN"),
    ("an unlabeled marker among the labels", state(
        y_labeled=lambda s: np.r_[s["y_labeled"][:-1], -1],
        classes=lambda s: np.unique(np.r_[s["y_labeled"][:-1], -1])), "holds -1"),
    ("n_features_in disagrees", state(n_features_in=np.asarray(65)),
     "n_features_in is 65 but X_labeled has 64 features"),
    ("a class missing", state(classes=lambda s: s["classes"][:-1]),
     "are not the classes of y_labeled"),
    ("classes as strings", state(classes=lambda s: s["classes"].astype(str)),
     "are not the classes of y_labeled"),
    ("one class", state(y_labeled=lambda s: np.zeros_like(s["y_labeled"]),
                        classes=np.array([0])), "a classifier has two or more"),
    ("negative seed", state(seed=np.asarray(-1)), "seed is -1"),
    ("labeled index past the pool", state(
        labeled_indices=lambda s: np.r_[s["labeled_indices"][:-1], len(s["labeled_round"])]),
     "labeled_indices are not all rows"),
    ("negative labeled index", state(labeled_indices=lambda s: -s["labeled_indices"] - 1),
     "labeled_indices are not all rows"),
    ("queried index past the pool", state(queried=lambda s: s["queried"] + 10**6),
     "queried are not all rows"),
    ("round below -1", state(labeled_round=lambda s: np.full_like(s["labeled_round"], -2)),
     "below -1"),
    ("labeled sample never labeled", state(
        labeled_round=lambda s: np.full_like(s["labeled_round"], -1)), "never labeled"),
    ("labeled index repeated", state(
        labeled_indices=lambda s: np.r_[s["labeled_indices"][:-1], s["labeled_indices"][0]]),
     "repeat samples"),
    ("negative batch size", state(queried_sizes=lambda s: -s["queried_sizes"]),
     "do not split"),
    ("batch sizes not summing", state(queried_sizes=lambda s: s["queried_sizes"] + 1),
     "do not split"),
    ("history not JSON", history("[{"), "history_json is not valid JSON"),
    ("history nested deeply", history("[" * 1000 + "]" * 1000), "nests 1000 levels"),
    ("history not a list", history('{"round": 0}'), "not a list of fits"),
    ("history empty", history("[]"), "not a list of fits"),
    ("history row not an object", history("[3]"), "history_json[0] is 3, not an object"),
    ("history row lacks a key", history('[{"round": 0, "n_labeled": 3, "query_time": 0}]'),
     "['fit_time'] is None"),
    ("history count a bool", history(
        '[{"round": true, "n_labeled": 3, "query_time": 0, "fit_time": 0}]'),
     "['round'] is True"),
    ("feature names of another width", state(feature_names_in=np.array(["a", "b", "c"])),
     "feature_names_in has 3 names for 64 features"),
    # --- round models: names, numbering, sizes
    ("round name climbing out", member("rounds/../x.keras", b"x"),
     "unexpected members ['rounds/../x.keras']"),
    ("round name not a number", member("rounds/abc.keras", b"x"),
     "unexpected members ['rounds/abc.keras']"),
    ("round number with a leading zero", member("rounds/01.keras", b"x"),
     "unexpected members ['rounds/01.keras']"),
    ("negative round number", member("rounds/-1.keras", b"x"), "unexpected members"),
    ("round in a subfolder", member("rounds/0/0.keras", b"x"), "unexpected members"),
    ("absolute round name", member("/rounds/0.keras", b"x"), "unexpected members"),
    ("round folder entry", member("rounds/", b""), "unexpected members ['rounds/']"),
    ("round model of another suffix", member("rounds/0.h5", b"x"), "unexpected members"),
    ("round 0 missing", member("rounds/0.keras", None),
     "incomplete: rounds/0.keras missing (the round models are numbered [1, 2])"),
    ("round numbers with a gap", member("rounds/1.keras", None), "rounds/1.keras missing"),
    ("round number past the others", member("rounds/7.keras", b"x"), "rounds/3.keras missing"),
    ("round model twice", member("rounds/1.keras", twice(b"x")), "holds ['rounds/1.keras'] twice"),
    ("too many round models", set_attr("limits", {"MAX_ROUND_MODELS": 2}),
     "3 round models, more than the limit of 2"),
    ("round models over their limit", set_attr("limits", {"MAX_ROUND_MODELS_BYTES": 1000}),
     "the round models declare"),
    ("round model over the model limit", lambda p: (
        p.limits.update(MAX_MODEL_BYTES=max(map(len, [p.model, *p.rounds])) + 1),
        p.rounds.append(p.model * 2)),
     "rounds/3.keras declares"),
    ("round model encrypted", set_attr("patch", set_flags("rounds/1.keras", 1)),
     "rounds/1.keras is encrypted"),
    ("round model zip bomb", member("rounds/2.keras", zeros(65 << 20)),
     "rounds/2.keras inflates"),
    ("round models bombing together", lambda p: p.members.update(
        {f"rounds/{r}.keras": zeros(22 << 20) for r in range(3)}),
     "the round models inflate"),
    # --- round models against the history
    ("more round models than fits", add_round, "4 round models, but history_json records 3"),
    ("all round models removed", lambda p: p.rounds.clear(),
     "0 round models, but store_round_estimators=True keeps one per fit and history_json "
     "records 3 fits"),
    ("last round model removed", lambda p: p.rounds.pop(),
     "2 round models, but store_round_estimators=True keeps one per fit"),
    ("round model on more labels than saved", history_row(0, n_labeled=10**6),
     "history_json[0]['n_labeled'] is 1000000, not 1 to 25 (the saved labels the model of "
     "round 0 was trained on)"),
    ("round model on no labels", history_row(1, n_labeled=0),
     "history_json[1]['n_labeled'] is 0"),
    ("n_pseudo_labeled a string", history_row(2, n_pseudo_labeled="3"),
     "history_json[2]['n_pseudo_labeled'] is '3', not a number"),
    ("n_pseudo_labeled a bool", history_row(0, n_pseudo_labeled=False), "is False"),
    # --- the model, and the state against it
    ("model garbage", lambda p: p.members.update({"model.keras": b"garbage"}),
     "Keras model could not be loaded"),
    ("fewer classes than the model", state(y_labeled=lambda s: s["y_labeled"] % 3,
                                           classes=np.arange(3)), "does not match the CNN"),
    ("fewer features than the model", state(X_labeled=lambda s: s["X_labeled"][:, :-1],
                                            n_features_in=np.asarray(63)), "does not match"),
    ("round model garbage", member("rounds/1.keras", b"garbage"),
     "rounds/1.keras: the Keras model could not be loaded"),
    ("round models in reverse order", lambda p: p.rounds.reverse(),
     "rounds/0.keras: the Keras model does not match"),
    ("round model on fewer labels than it knows", history_row(0, n_labeled=2),
     "rounds/0.keras: the Keras model does not match"),
    # --- the Keras archives inside (model.keras, rounds/N.keras), checked before Keras reads
    ("model not a zip archive", lambda p: setattr(p, "model", b"garbage"),
     "model.keras: the Keras model could not be loaded: it is not a zip archive"),
    ("round model not a zip archive", lambda p: p.rounds.__setitem__(1, b"garbage"),
     "rounds/1.keras: the Keras model could not be loaded: it is not a zip archive"),
    ("model cut short", lambda p: setattr(p, "model", p.model[: len(p.model) // 2]),
     "model.keras: the Keras model could not be loaded: it is not a zip archive"),
    ("model inner zip bomb", keras_archive("model", {"config.json": zeros(65 << 20)}),
     "model.keras/config.json inflates"),
    ("round model inner zip bomb", keras_archive(2, {"config.json": zeros(65 << 20)}),
     "rounds/2.keras/config.json inflates"),
    ("model members bombing together", keras_archive(
        "model", {f"assets/{i}": zeros(22 << 20) for i in range(3)}),
     "the members of model.keras inflate"),
    ("model member over the model limit", limited(keras_archive(
        "model", {"config.json": bytes(3000)}, keep=False), MAX_MODEL_BYTES=2500),
     "model.keras/config.json declares 3000 bytes, over the limit of 2500"),
    ("model members over the model limit together", limited(keras_archive(
        "model", {"a": bytes(2000), "b": bytes(2000)}, keep=False), MAX_MODEL_BYTES=3000),
     "the members of model.keras declare 4000 bytes together, over the limit of 3000"),
    ("model member encrypted", keras_archive(
        "model", patch=set_flags("model.weights.h5", 1)), "model.keras/model.weights.h5 is "
     "encrypted"),
    ("model member twice", keras_archive("model", {"config.json": twice(b"{}")}),
     "model.keras holds ['config.json'] twice"),
    ("model of too many members", set_attr("limits", {"MAX_MODEL_MEMBERS": 2}),
     "model.keras holds 3 members, more than the limit of 2"),
    ("model central directory too large", limited(keras_archive(
        "model", {"x" * 3000: b""}), MAX_MODEL_MEMBERS=3),
     "model.keras declares a central directory of"),
    ("save central directory too large", lambda p: (
        p.members.update({"y" * 4000: b""}), p.limits.update(MAX_ROUND_MODELS=0)),
     "the file declares a central directory of"),
]


@pytest.fixture(scope="module")
def valid_save(rounds_cnn, tmp_path_factory):
    est, _ = rounds_cnn
    return _parts(est.save(tmp_path_factory.mktemp("valid") / "learner.skal"))


@pytest.mark.parametrize(
    "corrupt, fragment", [pytest.param(c, f, id=name) for name, c, f in MALFORMED]
)
def test_malformed_saves_are_refused_clearly(valid_save, tmp_path, monkeypatch, corrupt,
                                             fragment):
    parts = copy.deepcopy(valid_save)
    corrupt(parts)
    path = parts.write(tmp_path / "bad.skal")
    for name, value in parts.limits.items():
        monkeypatch.setattr(_archive, name, value)
    with pytest.raises(ValueError) as info:
        skal.load(path)
    message = str(info.value)
    assert message.startswith(f"{str(path)!r} is not a readable skal save: "), message
    assert fragment in message, message


def test_the_valid_save_of_the_table_loads(valid_save, tmp_path):
    loaded = skal.load(copy.deepcopy(valid_save).write(tmp_path / "good.skal"))
    assert len(loaded.round_estimators_) == len(valid_save.rounds) == 3


def test_round_models_are_checked_against_the_history_both_ways(valid_save, tmp_path):
    # Saved with store_round_estimators=True: one round model per fit, neither fewer ...
    none = copy.deepcopy(valid_save)
    none.rounds.clear()
    path = none.write(tmp_path / "none.skal")
    with pytest.raises(ValueError, match="0 round models, but store_round_estimators=True"):
        skal.load(path)
    # ... unless the caller takes the ones there are, saying it does not keep them all
    loaded = skal.load(path, store_round_estimators=False)
    assert loaded.round_estimators_ == [] and loaded.store_round_estimators is False
    # Saved with False: the models of the first fits (kept before it was turned off) load.
    first = copy.deepcopy(valid_save)
    first.header["learner"]["store_round_estimators"] = False
    first.rounds.pop()
    assert len(skal.load(first.write(tmp_path / "first.skal")).round_estimators_) == 2
    first.rounds.extend([first.rounds[0]] * 2)  # but never more than fits
    with pytest.raises(ValueError, match="4 round models, but history_json records 3"):
        skal.load(first.write(tmp_path / "more.skal"), store_round_estimators=False)


def test_save_refuses_estimator_parameters_load_would_refuse(fitted_cnn, tmp_path):
    est, X = fitted_cnn
    params = est.estimator.get_params(deep=False)
    twin = copy.copy(est)  # shares the fitted campaign; only its estimator parameter differs
    for changes, match in [({"colour": "blue"}, r"unknown parameters \['colour'\]"),
                           ({"epochs": -5}, "'epochs' parameter of CNNClassifier"),
                           ({"dropout": 1.0}, "'dropout' parameter")]:
        twin.estimator = skal.CNNClassifier(**{**params, **changes})
        with pytest.raises(ValueError, match="save\\(\\) cannot store the estimator") as info:
            twin.save(tmp_path / "refused.skal")
        assert info.match(match)
    assert not list(tmp_path.iterdir())  # nothing written, nothing left behind
    # routed parameters (SciKeras' prefixes) are parameters: saved and loaded
    twin.estimator = skal.CNNClassifier(**params, optimizer__weight_decay=0.01)
    loaded = skal.load(twin.save(tmp_path / "routed.skal"))
    assert loaded.estimator.get_params()["optimizer__weight_decay"] == 0.01
    np.testing.assert_array_equal(loaded.predict_proba(X[:5]), est.predict_proba(X[:5]))


# (class name, parameters as load() decodes them, what is wrong or None)
ESTIMATOR_PARAMS = [
    ("KerasClassifier", {"hidden_units": 16, "model__layers": 2}, None),  # model keywords
    ("KerasClassifier", {"epochs": 3, "batch_size": None, "verbose": "auto"}, None),
    ("KerasClassifier", {"predict_proba": 1}, "unknown parameters ['predict_proba']"),
    ("KerasClassifier", {"_build_keras_model": 1}, "unknown parameters"),
    ("KerasClassifier", {"not an identifier": 1}, "unknown parameters"),
    ("KerasClassifier", {"epochs": 0}, "'epochs' parameter of KerasClassifier"),
    ("KerasClassifier", {"model": "os.system"}, "'model' parameter"),
    ("CNNClassifier", {"hidden_units": 16}, "unknown parameters ['hidden_units']"),
    ("CNNClassifier", {"filters": [8, 16], "input_shape": (8, 8, 1)}, None),
    ("CNNClassifier", {"filters": (), "dropout": 0.0, "shift_augment": 0}, None),
    ("CNNClassifier", {"filters": (8, True)}, "filters is (8, True), not a tuple of positive"),
]


@pytest.mark.parametrize("name, params, problem", ESTIMATOR_PARAMS)
def test_estimator_parameters_are_checked_against_their_class(name, params, problem):
    from skal._saved_state import estimator_params_problem
    from skal.keras import SAVABLE_ESTIMATORS

    found = estimator_params_problem(SAVABLE_ESTIMATORS[name], params)
    assert found is None if problem is None else problem in found, found


def test_load_fitted_names_a_file_that_is_not_a_keras_archive(tmp_path):
    X, y = np.zeros((4, 16), dtype=np.float32), np.array([0, 1, 0, 1])
    garbage = tmp_path / "model.keras"
    garbage.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a zip archive") as info:
        skal.CNNClassifier().load_fitted(garbage, X, y)
    assert str(garbage) in str(info.value) and "File not found" not in str(info.value)
    with pytest.raises(FileNotFoundError, match="no Keras model file"):
        skal.CNNClassifier().load_fitted(tmp_path / "missing.keras", X, y)


def _options():
    from skal.semi_supervised import ConsistencyTraining, LabelSpreadingPseudoLabels, PseudoLabels

    return {
        "name": lambda: "consistency",
        "PseudoLabels": lambda: PseudoLabels(threshold=0.9),
        "LabelSpreadingPseudoLabels": lambda: LabelSpreadingPseudoLabels(embedding="tsne",
                                                                         max_ratio=30.0),
        "ConsistencyTraining": lambda: ConsistencyTraining(epochs=3, max_pool=50),
    }


@pytest.mark.parametrize("make", _options().values(), ids=_options())
def test_semi_supervised_options_are_saved_as_plain_data(small, tmp_path, make):
    X, y = small
    fitted = ActiveLearningClassifier(
        skal.CNNClassifier(filters=(8,), dense_units=16, epochs=2, random_state=0),
        semi_supervised=make(), random_state=0).fit(X[:60], y[:60])
    back = skal.load(fitted.save(tmp_path / "l.skal"))
    assert repr(back.semi_supervised) == repr(make())
    np.testing.assert_allclose(back.predict_proba(X[:20]), fitted.predict_proba(X[:20]),
                               atol=1e-6)


def test_a_semi_supervised_object_of_another_class_is_refused_with_the_fix(small, tmp_path):
    from skal.semi_supervised import PseudoLabels

    class MyPseudoLabels(PseudoLabels):
        pass

    X, y = small
    fitted = ActiveLearningClassifier(
        skal.CNNClassifier(filters=(8,), dense_units=16, epochs=2, random_state=0),
        semi_supervised=MyPseudoLabels(), random_state=0).fit(X[:60], y[:60])
    with pytest.raises(TypeError, match="got MyPseudoLabels; pass semi_supervised= to "
                                        "skal.load"):
        fitted.save(tmp_path / "l.skal")


# --------------------------------------------------------------------------- a regressor's save


@pytest.fixture(scope="module")
def fitted_regressor(digits):
    X_train, _, y_train, _ = digits
    X, y = X_train[:200], y_train[:200].astype(float) / 9  # a digit's value, as a target
    cnn = skal.CNNRegressor(filters=(4,), dense_units=8, epochs=2, batch_size=64,
                            min_train_steps=None, random_state=0)
    est = skal.ActiveLearningRegressor(
        cnn, n_queries=2, n_instances=5, initial_size=10, random_state=0,
        store_round_estimators=True,
    ).fit(X, y)
    return est, X, y


def test_a_regressor_saves_and_loads_as_the_classifier_does(fitted_regressor, tmp_path):
    est, X, y = fitted_regressor
    loaded = skal.load(est.save(tmp_path / "regressor.skal"))
    assert type(loaded) is skal.ActiveLearningRegressor
    assert type(loaded.estimator_) is skal.CNNRegressor
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    for name in ("X_labeled_", "y_labeled_", "labeled_indices_", "labeled_round_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(est, name))
    assert loaded.history_ == est.history_ and len(loaded.round_estimators_) == 3
    for theirs, ours in zip(loaded.round_estimators_, est.round_estimators_, strict=True):
        np.testing.assert_array_equal(theirs.predict(X[:20]), ours.predict(X[:20]))
    pool = X[150:]
    np.testing.assert_array_equal(loaded.query(pool), est.query(pool))
    loaded.teach(pool[:2], [-1.0, 0.5])  # -1 is a target like any other for a regressor
    assert loaded.n_labeled_ == est.n_labeled_ + 2


def test_a_regressor_save_is_refused_where_load_could_not_rebuild_it(small, tmp_path):
    from sklearn.linear_model import BayesianRidge
    from sklearn.multiclass import OneVsRestClassifier

    X, y = small
    ridge = skal.ActiveLearningRegressor(BayesianRidge(), n_queries=0).fit(X, y.astype(float))
    with pytest.raises(TypeError, match="ActiveLearningRegressor.from_journal"):
        ridge.save(tmp_path / "ridge.skal")
    sets = np.c_[y % 2, y > 4].astype(int)  # two labels a sample: a multi-label campaign
    multilabel = ActiveLearningClassifier(OneVsRestClassifier(LogisticRegression()),
                                          n_queries=0).fit(X, sets)
    with pytest.raises(TypeError, match="classification and regression campaigns"):
        multilabel.save(tmp_path / "sets.skal")
    assert not list(tmp_path.iterdir())


REGRESSION_MALFORMED = [
    # (id, corruption of a valid regressor save, fragment of the ValueError)
    ("string targets", state(y_labeled=lambda s: s["y_labeled"].astype(str)),
     "holds strings, NaN or infinity"),
    ("a NaN target", state(y_labeled=lambda s: np.r_[np.nan, s["y_labeled"][1:]]),
     "holds strings, NaN or infinity"),
    ("an infinite target", state(y_labeled=lambda s: np.r_[np.inf, s["y_labeled"][1:]]),
     "holds strings, NaN or infinity"),
    ("classes in a regressor's state", state(classes=np.array([0.0, 1.0])),
     "a regressor has none"),
    ("named a classification", lambda p: p.header.update(task="classification"),
     "the estimator CNNRegressor does not fit a classification save"),
    ("named a classification, the default estimator",
     lambda p: p.header.update(task="classification", estimator=None),
     "a classifier has two or more"),
    ("a classifier's estimator", spec(**{"class": "CNNClassifier"}),
     "the estimator CNNClassifier does not fit a regression save"),
]


@pytest.mark.parametrize("corrupt, fragment", [pytest.param(c, f, id=name)
                                                for name, c, f in REGRESSION_MALFORMED])
def test_malformed_regressor_saves_are_refused_clearly(fitted_regressor, tmp_path, corrupt,
                                                       fragment):
    est, _, _ = fitted_regressor
    parts = _parts(est.save(tmp_path / "good.skal"))
    corrupt(parts)
    path = parts.write(tmp_path / "bad.skal")
    with pytest.raises(ValueError) as info:
        skal.load(path)
    message = str(info.value)
    assert message.startswith(f"{str(path)!r} is not a readable skal save: "), message
    assert fragment in message, message
