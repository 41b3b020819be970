"""Labels are never lost (journal), learners are rebuilt from journals, saved and loaded."""

import json
import os
import zipfile

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import skal
from skal import ActiveLearningClassifier, LabelJournal
from skal.oracles import ArrayOracle


@pytest.fixture(scope="module")
def small(digits_xy):
    X, y = digits_xy
    return X[:300], y[:300]


def logreg_learner(**kw):
    params = dict(n_queries=3, n_instances=10, initial_size=10, random_state=0)
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
                             random_state=0)
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
    assert loaded.history_ == est.history_ and loaded._seed == est._seed
    assert [q.tolist() for q in loaded.queried_indices_] == [
        q.tolist() for q in est.queried_indices_
    ]
    loaded.teach(pool[:3], np.array([0, 1, 2]))  # the loaded learner keeps learning
    assert loaded.n_labeled_ == est.n_labeled_ + 3
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


def test_learner_with_journal_instance_clones_and_pickles(small, tmp_path):
    import pickle

    from sklearn.base import clone

    X, y = small
    journal = LabelJournal(tmp_path / "shared.sqlite")
    learner = logreg_learner(n_queries=0, journal=journal)
    twin = clone(learner)
    assert twin.journal is journal  # clones share the file handle, like an open file
    twin.fit(X[:60], y[:60])
    assert len(journal) == 60
    restored = pickle.loads(pickle.dumps(twin))
    assert restored.journal is not journal and restored.journal.path == journal.path
    assert restored.journal.labels() == journal.labels()  # reopened at the same path
    restored.teach(X[60:65], y[60:65], sample_ids=list(range(60, 65)))
    assert len(journal) == 65  # written through the reopened handle, seen by the first
    journal.close()
    assert pickle.loads(pickle.dumps(journal)).closed
