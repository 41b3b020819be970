"""The data and habits of existing codebases: label types, budgets, journals, terminals.

Each table is one kind of input; a row is what a user passes and what must happen -- a
clear error (type and message fragment) or a correct result. Add a row for a new case.
"""

import io
import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score

from skal import ActiveLearningClassifier, Campaign, LabelJournal
from skal.oracles import TerminalOracle


@pytest.fixture(scope="module")
def data(digits_xy):
    X, y = digits_xy
    return X[:200], y[:200]


def learner(**kw):
    params = dict(n_instances=10, initial_size=10, random_state=0)
    params.update(kw)
    return ActiveLearningClassifier(LogisticRegression(max_iter=300), **params)


NAMES = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                  "nine"])


def as_object(values):
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def with_gaps(y, marker, every=3):
    """``y`` (strings) as an object array with ``marker`` at every ``every``-th sample."""
    out = as_object(NAMES[y])
    out[::every] = marker
    return out


# ----------------------------------------------------------------------------- label types
# (make y from the digit labels, expected: "ok" with the number of labeled samples, or an
# (error type, message) pair)
LABELS = [
    ("object y, None marks unlabeled", lambda y: with_gaps(y, None), "ok"),
    ("object y, NaN marks unlabeled", lambda y: with_gaps(y, float("nan")), "ok"),
    ("object y, pd.NA marks unlabeled", lambda y: with_gaps(y, pd.NA), "ok"),
    ("object y, int -1 marks unlabeled", lambda y: with_gaps(y, -1), "ok"),
    ("pandas Series of str with None",
     lambda y: pd.Series(with_gaps(y, None)), "ok"),
    ("list with -1 markers keeps its types", lambda y: list(with_gaps(y, -1)), "ok"),
    ("float y, NaN marks unlabeled",
     lambda y: np.where(np.arange(len(y)) % 3 == 0, np.nan, y.astype(float)), "ok"),
    ("int y, -1 marks unlabeled", lambda y: np.where(np.arange(len(y)) % 3 == 0, -1, y), "ok"),
    ("str array with '-1'", lambda y: np.where(np.arange(len(y)) % 3 == 0, "-1", NAMES[y]),
     (ValueError, "contains '-1'")),
    ("-1/1 task looks one-class", lambda y: np.where(y % 2 == 0, -1, 1),
     (ValueError, "only -1 and 1")),
    ("mixed int and str classes", lambda y: as_object([*NAMES[y[:100]], *y[100:].tolist()]),
     (ValueError, "mixes label types")),
    ("2-D y of classes", lambda y: np.c_[y, y],
     (ValueError, "multi-label answer is a row of 0/1")),
    ("one-hot y", lambda y: np.eye(10)[y], (ValueError, r"one-hot .* y.argmax\(axis=1\)")),
    ("one-hot y of floats", lambda y: np.eye(10, dtype=np.float32)[y],
     (ValueError, "one-hot")),
    ("multi-label y not of 0/1", lambda y: (np.c_[y % 2, y % 3, y > 4]).astype(int),
     (ValueError, "multi-label answer is a row of 0/1")),
    ("a column vector y", lambda y: np.where(np.arange(len(y)) % 3 == 0, -1, y)[:, None], "ok"),
    ("y of another length", lambda y: y[:-1], (ValueError, "labels but X has")),
    ("bool y", lambda y: y == 0, (TypeError, r"y holds booleans.* y\.astype\(int\)")),
    ("object y of bools, None marks unlabeled",
     lambda y: np.where(np.arange(len(y)) % 3 == 0, None, as_object((y == 0).tolist())),
     (TypeError, "y holds booleans")),
]


@pytest.mark.parametrize("name, make_y, expected", LABELS, ids=[row[0] for row in LABELS])
def test_label_types(data, name, make_y, expected):
    X, y = data
    y_user = make_y(y)
    if expected != "ok":
        error, match = expected
        with pytest.raises(error, match=match):
            learner().fit(X, y_user)
        return
    fitted = learner().fit(X, y_user)
    known = np.arange(len(y)) % 3 != 0
    assert fitted.n_labeled_ == known.sum()
    np.testing.assert_array_equal(fitted.labeled_indices_, np.flatnonzero(known))
    truth = y if np.asarray(fitted.classes_).dtype.kind in "iuf" else NAMES[y]
    np.testing.assert_array_equal(fitted.y_labeled_, truth[known])
    assert set(np.asarray(fitted.predict(X[:20])).tolist()) <= set(truth.tolist())


def test_string_classes_in_a_simulated_campaign(data):
    X, y = data
    fitted = learner(n_queries=3).fit(X, NAMES[y])
    assert fitted.n_labeled_ == 40
    assert fitted.classes_.dtype.kind == "U"
    np.testing.assert_array_equal(fitted.y_labeled_, NAMES[y][fitted.labeled_indices_])


TEACH = [
    ("string labels on a number learner", ["cat", "dog"],
     (TypeError, "'cat' is a str but this campaign's classes are integers")),
    ("a None label", [None, 3], (ValueError, "unlabeled marker")),
    ("-1 label", [-1, 3], (ValueError, "unlabeled marker")),
    ("too many labels", [1, 2, 3], (ValueError, "labels but X has")),
]


@pytest.mark.parametrize("name, labels, expected", TEACH, ids=[row[0] for row in TEACH])
def test_teach_refuses_labels_that_do_not_fit(data, name, labels, expected):
    X, y = data
    fitted = learner().fit(X[:100], y[:100])
    before = (fitted.n_labeled_, fitted.y_labeled_.dtype)
    error, match = expected
    with pytest.raises(error, match=match):
        fitted.teach(X[100:102], labels)
    assert (fitted.n_labeled_, fitted.y_labeled_.dtype) == before


# ----------------------------------------------------------------------------- the answer gate
# (the label a sender gives on a campaign of integer classes; expected error type and message)
BAD_ANSWERS = [
    ("a new string class", "zz", TypeError, "'zz'.* is a str but this campaign's classes"),
    ("a non-integral float", 2.5, TypeError, "is a float but .* integers"),
    ("an integral float", 3.0, TypeError, r"answer an int \(3, not 3.0\)"),
    ("a bool", True, TypeError, "is a bool; a label is a class name"),
    ("a numpy bool", np.bool_(False), TypeError, "is a bool"),
    ("infinity", float("inf"), ValueError, "not a class"),
    ("a dict", {"a": 1}, TypeError, "is a dict"),
    ("bytes", b"3", TypeError, "is a bytes"),
]
# how the answer is sent: (name, send(campaign, learner fitted on the same pool, label))
SENDERS = [
    ("Campaign.answer", lambda c, lrn, lab: c.answer(150, lab)),
    ("an oracle", lambda c, lrn, lab: Campaign(
        learner(), c.X, oracle=lambda Xb, idx: [lab] * len(idx), journal=c.journal_).run(1)),
    ("an oracle one at a time", lambda c, lrn, lab: Campaign(
        learner(), c.X, oracle=OneAtATime(lab), journal=c.journal_).run(1)),
    ("teach", lambda c, lrn, lab: lrn.teach(c.X[[150]], np.array([lab], dtype=object),
                                             sample_ids=[150])),
]


class OneAtATime:
    def __init__(self, label):
        self.label = label

    def label_one(self, x, index):
        return self.label


@pytest.mark.parametrize("sender, send", SENDERS, ids=[r[0] for r in SENDERS])
@pytest.mark.parametrize("name, label, error, match", BAD_ANSWERS,
                         ids=[r[0] for r in BAD_ANSWERS])
def test_no_answer_of_another_kind_reaches_the_journal(data, tmp_path, sender, send, name,
                                                       label, error, match):
    X, y = data
    path = tmp_path / "j.sqlite"
    fitted = learner(journal=path).fit(X, np.r_[y[:20], [-1] * 180])  # 20 ints journaled
    campaign = fitted.campaign_
    with pytest.raises(error, match=match):
        send(campaign, fitted, label)
    with LabelJournal(path) as journal:  # nothing of it written: the journal still loads
        assert sorted(journal.labels()) == list(range(20))
    assert len(campaign.labeled_indices_) == 20
    resumed = Campaign(learner(), X, journal=str(path))
    resumed.answer(150, 3)  # and the campaign goes on
    assert resumed.refit() is not None and len(resumed.labeled_indices_) == 21


def test_a_string_campaign_refuses_numbers_and_a_float_one_takes_ints(data):
    X, y = data
    words = Campaign(learner(), X)
    words.answer(np.arange(10), NAMES[y[:10]])
    with pytest.raises(TypeError, match="classes are strings"):
        words.answer(11, 7)
    floats = Campaign(learner(), X, np.r_[y[:10].astype(float), [np.nan] * 190])
    floats.answer(11, 7)  # ints are numbers of a float campaign: no retyping needed
    assert floats.refit() is not None


def test_a_poisoned_journal_names_its_row_at_open(data, tmp_path):
    X, _ = data
    path = tmp_path / "j.sqlite"
    with LabelJournal(path) as journal:  # written by hand, past the gate
        journal.append([0, 1, 2], [0, 1, "zz"])
    with pytest.raises(ValueError, match=r"j.sqlite.* holds the answer 'zz' for sample 2"):
        Campaign(learner(), X, journal=str(path))


# (keys=, expected error type and message)
BAD_KEYS = [
    ("duplicate keys", lambda n: ["a"] * n, ValueError, "keys must be unique: 'a' is the key "
     "of rows 0 and 1"),
    ("int keys", lambda n: list(range(n)), TypeError, "keys must be strings"),
    ("too few keys", lambda n: [f"k{i}" for i in range(n - 1)], ValueError, "keys has 199"),
    ("empty key", lambda n: [""] + [f"k{i}" for i in range(n - 1)], ValueError, "empty"),
]


@pytest.mark.parametrize("name, make, error, match", BAD_KEYS, ids=[r[0] for r in BAD_KEYS])
def test_keys_name_one_row_each(data, tmp_path, name, make, error, match):
    X, _ = data
    with pytest.raises(error, match=match):
        Campaign(learner(), X, journal=str(tmp_path / "j.sqlite"), keys=make(len(X)))


# ----------------------------------------------------------------------------- oracles, budgets
def test_with_an_oracle_every_given_label_trains_the_first_model(data):
    X, y = data
    y_part = np.full(len(y), -1)
    y_part[:25] = y[:25]
    fitted = learner(n_queries=2, oracle=lambda Xb, idx: y[np.asarray(idx)]).fit(X, y_part)
    assert fitted.history_[0]["n_labeled"] == 25  # not initial_size=10
    assert set(range(25)) <= set(fitted.labeled_indices_.tolist())


def test_max_labels_caps_a_campaign_and_its_resumes(data, tmp_path):
    X, y = data
    journal = tmp_path / "budget.sqlite"
    asked = []

    def oracle(X_batch, indices):
        asked.extend(indices)
        return y[np.asarray(indices)]

    unknown = np.full(len(y), -1)
    first = learner(n_queries=2, max_labels=45, oracle=oracle, journal=str(journal))
    first.fit(X, unknown)
    assert first.n_labeled_ == 30  # stopped by n_queries
    second = learner(n_queries=100, max_labels=45, oracle=oracle, journal=str(journal))
    second.fit(X, unknown)
    assert second.n_labeled_ == 45 and len(asked) == 45  # the resume stops at the budget
    third = learner(n_queries=100, max_labels=45, oracle=oracle, journal=str(journal))
    third.fit(X, unknown)
    assert len(asked) == 45  # nothing more asked
    campaign = Campaign(learner(max_labels=45), X, y).run(n_queries=100)
    assert campaign.stop_reason_ == "max_labels"
    assert [row["n_labeled"] for row in campaign.history_][-2:] == [40, 45]  # last batch cut


def test_max_labels_below_the_initial_set_is_an_error(data):
    X, y = data
    with pytest.raises(ValueError, match="max_labels"):
        learner(n_queries=3, initial_size=20, max_labels=10).fit(X, y)
    with pytest.raises(ValueError, match="max_labels"):
        learner(max_labels=0).fit(X, y)


def test_grid_search_over_batch_size_at_a_fixed_budget(data):
    X, y = data
    search = GridSearchCV(
        learner(n_queries=1000, max_labels=40, query_strategy="margin"),
        {"n_instances": [5, 15]}, cv=2,
    ).fit(X, y)
    assert search.best_estimator_.n_labeled_ == 40


# ----------------------------------------------------------------------------- journals
def test_a_journal_learner_refuses_to_be_cloned_for_model_selection(data, tmp_path):
    X, y = data
    for journal in (str(tmp_path / "j.sqlite"), LabelJournal(tmp_path / "k.sqlite")):
        with_journal = learner(n_queries=2, journal=journal)
        with pytest.raises(TypeError, match="journal"):
            clone(with_journal)
        with pytest.raises(TypeError, match="journal=None for model selection"):
            cross_val_score(with_journal, X, y, cv=2)
        with pytest.raises(TypeError, match="journal"):
            GridSearchCV(with_journal, {"n_instances": [5, 10]}, cv=2).fit(X, y)
    assert not os.path.exists(tmp_path / "j.sqlite")  # refused before anything was written


TEACH_IDS = [
    ("id outside the pool", lambda X: (X[:2], [5, 10**6]), "outside the journal's pool"),
    ("negative id", lambda X: (X[:2], [-1, 0]), "outside the journal's pool"),
    ("id of another row", lambda X: (X[:2], [0, 2]), "do not match the rows"),
    ("ids of shuffled rows", lambda X: (X[[1, 0]], [0, 1]), "do not match the rows"),
    ("key in an index journal", lambda X: (X[:1], ["a"]), "not keys"),
]


@pytest.mark.parametrize("name, make, match", TEACH_IDS, ids=[row[0] for row in TEACH_IDS])
def test_teach_checks_sample_ids_before_writing_the_journal(data, tmp_path, name, make, match):
    X, y = data
    path = tmp_path / "ids.sqlite"
    fitted = learner(journal=str(path)).fit(X, np.where(np.arange(len(y)) < 50, y, -1))
    with LabelJournal(path) as journal:
        n_records = len(journal)
    rows, ids = make(X)
    with pytest.raises(ValueError, match=match):
        fitted.teach(rows, y[:len(ids)], sample_ids=ids)
    with LabelJournal(path) as journal:
        assert len(journal) == n_records  # nothing poisoned the journal
    fitted.teach(X[[60, 61]], y[[60, 61]], sample_ids=[60, 61])  # the right ids still work
    assert fitted.n_labeled_ == 52


def test_from_journal_on_a_missing_file_is_an_error(data, tmp_path):
    X, _ = data
    with pytest.raises(FileNotFoundError, match="no label journal"):
        ActiveLearningClassifier.from_journal(str(tmp_path / "typo.sqlite"), X)
    assert not os.path.exists(tmp_path / "typo.sqlite")


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr to make a file read-only")
def test_a_read_only_journal_is_read_but_refused_to_a_campaign(tmp_path):
    path = tmp_path / "ro.sqlite"
    with LabelJournal(path) as journal:
        journal.append([1], [2])
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("this file system does not support immutable files")
    try:
        with pytest.raises(PermissionError, match="cannot be written"):
            LabelJournal(path, read_only=False)  # what a labeling session opens
        with LabelJournal(path) as journal:  # reading needs no write access
            assert journal.labels() == {1: 2}
            with pytest.raises(PermissionError, match="opened read-only"):
                journal.append([3], [4])
        with pytest.raises(PermissionError, match="cannot be written"):
            Campaign(learner(), np.zeros((5, 2)), journal=str(path))  # refused at open
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


# ----------------------------------------------------------------------------- terminal
HOSTILE = ["a\x1b[2Jb", "tab\there", "bell\x07", "rtl\u202eexe.png", "nl\nname"]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_terminal_never_prints_control_characters_from_the_pool(text):
    out = io.StringIO()
    oracle = TerminalOracle(classes=[text, "b"], input=io.StringIO("b\n"), output=out,
                            names=[text], feature_names=[text, "f1"])
    assert oracle.label_one(np.array([0.5, 1.0]), 0) == "b"
    shown = out.getvalue()
    assert not any(c in shown for c in "\x1b\x07\u202e\t")
    assert text.encode("unicode_escape").decode("ascii") in shown


# ----------------------------------------------------------------------------- DataFrames
@pytest.fixture(scope="module")
def frame(data):
    X, y = data
    df = pd.DataFrame(X[:, :16], columns=[f"px{j}" for j in range(16)])
    df["kind"] = np.where(np.arange(len(X)) % 2, "odd", "even")  # a categorical column
    return df, y


def column_learner(**kw):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    columns = make_column_transformer(
        (OneHotEncoder(), ["kind"]), ("passthrough", [f"px{j}" for j in range(16)])
    )
    params = dict(n_instances=10, initial_size=20, random_state=0, query_strategy="margin")
    params.update(kw)
    return ActiveLearningClassifier(
        make_pipeline(columns, LogisticRegression(max_iter=500)), **params
    )


def test_a_dataframe_reaches_a_column_transformer_by_name(frame, tmp_path):
    df, y = frame
    learner_ = column_learner(n_queries=3).fit(df, y)
    assert list(learner_.feature_names_in_) == list(df.columns)
    assert isinstance(learner_.X_labeled_, pd.DataFrame) and learner_.n_labeled_ == 50
    idx = learner_.query(df, 5)
    assert len(idx) == 5
    np.testing.assert_array_equal(idx, learner_.query(df, 5, return_scores=True)[0])
    learner_.teach(df.iloc[idx], y[idx])
    assert learner_.n_labeled_ == 55 and isinstance(learner_.X_labeled_, pd.DataFrame)
    assert learner_.predict(df.iloc[:3]).shape == (3,)
    # the same campaign on an array of the same values picks the same samples
    campaign = Campaign(column_learner(), df, y, journal=str(tmp_path / "df.sqlite")).run(2)
    resumed = Campaign(column_learner(), df, journal=str(tmp_path / "df.sqlite"))
    assert sorted(resumed.labeled_indices_) == sorted(campaign.labeled_indices_)


FRAME_POOLS = [
    ("reordered columns", lambda df: df[df.columns[::-1]], "feature names"),
    ("renamed column", lambda df: df.rename(columns={"px0": "pixel0"}), "feature names"),
    ("missing column", lambda df: df.drop(columns="px3"), "feature names|features"),
]


@pytest.mark.parametrize("name, change, match", FRAME_POOLS, ids=[r[0] for r in FRAME_POOLS])
def test_query_teach_predict_check_feature_names(frame, name, change, match):
    df, y = frame
    learner_ = column_learner().fit(df.iloc[:60], y[:60])
    other = change(df.iloc[60:])
    for call in (lambda: learner_.query(other, 5), lambda: learner_.predict(other),
                 lambda: learner_.teach(other.iloc[:2], y[60:62])):
        with pytest.raises(ValueError, match=match):
            call()
    assert learner_.n_labeled_ == 60


def test_a_journal_on_a_dataframe_pool_refuses_another_frame(frame, tmp_path):
    df, y = frame
    path = str(tmp_path / "frame.sqlite")
    Campaign(column_learner(), df, y, journal=path).run(1)
    changed = df.copy()
    changed.loc[5, "kind"] = "odd" if changed.loc[5, "kind"] == "even" else "even"
    with pytest.raises(ValueError, match="another pool"):
        Campaign(column_learner(), changed, y, journal=path)


# ----------------------------------------------------------------------------- pool shapes
# (make the pool from X, expected: "ok" with the pool it must query alike, or an (error
# type, message) pair); checked before any strategy reads the pool, through the learner and
# through its campaign
POOL_SHAPES = [
    ("too few features", lambda X: X[:, :10],
     (ValueError, "X_pool has 10 features per sample, but the learner was fitted on 64")),
    ("one 1-D sample", lambda X: X[150],
     (ValueError, r"X_pool must be 2-D.* shape \(64,\).* x\.reshape\(1, -1\)")),
    ("a 3-D array of chunks", lambda X: X.reshape(2, 100, 64),
     (ValueError, r"samples of shape \(100, 64\) \(6400 features each\)")),
    ("a list of 2-D chunks", lambda X: [X[:120], X[120:]], ("ok", lambda X: iter([X[:120],
                                                                                  X[120:]]))),
    ("a tuple of 2-D chunks", lambda X: (X[:120], X[120:]), ("ok", lambda X: iter([X[:120],
                                                                                   X[120:]]))),
    ("a list of rows", lambda X: X.tolist(), ("ok", lambda X: X)),
    ("a list of chunks too narrow", lambda X: [X[:120, :10], X[120:, :10]],
     (ValueError, "X_pool has 10 features per sample")),
]


@pytest.mark.parametrize("strategy", ["auto", "margin", "probcover", "random"])
@pytest.mark.parametrize("name, make, expected", POOL_SHAPES, ids=[r[0] for r in POOL_SHAPES])
def test_a_pool_of_another_shape_is_named_before_any_strategy_runs(data, strategy, name, make,
                                                                    expected):
    # "auto" (at 20 labels: ProbCover's embedding) reported scikit-learn's "X has 64
    # features, but StandardScaler is expecting 10", of a scaler the user never made.
    X, y = data
    fitted = learner(query_strategy=strategy).fit(X, np.r_[y[:20], [-1] * 180])
    what, detail = expected
    if what == "ok":
        np.testing.assert_array_equal(fitted.query(make(X), 5), fitted.query(detail(X), 5))
        return
    for query in (fitted.query, fitted.campaign_.query):
        with pytest.raises(what, match=detail):
            query(make(X), 5)


# ----------------------------------------------------------------------------- images
IMAGE_POOLS = [
    # (shape of one sample to fit on, shape of one pool sample, expected)
    ((8, 8, 1), (64,), "ok"),
    ((64,), (8, 8, 1), "ok"),
    ((8, 8), (64,), "ok"),
    ((4, 4, 3), (48,), "ok"),
    ((4, 4, 3), (4, 4, 3), "ok"),
    ((8, 8, 1), (63,), (ValueError, "63 features")),
    ((4, 4, 3), (4, 4, 2), (ValueError, "32 features")),
]


@pytest.mark.parametrize("fit_shape, pool_shape, expected", IMAGE_POOLS)
def test_a_cnn_learner_takes_flat_and_shaped_samples_alike(make_cnn, data, fit_shape,
                                                            pool_shape, expected):
    X, y = data
    size = int(np.prod(fit_shape))
    rng = np.random.default_rng(0)
    X_fit = np.resize(X, (len(X), size)).reshape(len(X), *fit_shape).astype(np.float32)
    fitted = ActiveLearningClassifier(make_cnn(epochs=1), random_state=0).fit(X_fit[:80], y[:80])
    assert fitted.n_features_in_ == size
    pool = rng.random((30, *pool_shape)).astype(np.float32)
    if expected != "ok":
        error, match = expected
        for call in (lambda: fitted.query(pool, 3), lambda: fitted.predict(pool)):
            with pytest.raises(error, match=match):
                call()
        return
    idx = fitted.query(pool, 3)
    same = fitted.query(pool.reshape(30, *fit_shape), 3)  # the same samples, shaped as in fit
    np.testing.assert_array_equal(idx, same)
    shaped = pool.reshape(30, *fit_shape)
    np.testing.assert_array_equal(fitted.predict(pool), fitted.predict(shaped))
    fitted.teach(pool[idx], y[:3])
    assert fitted.n_labeled_ == 83
