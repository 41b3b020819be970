"""Multi-label classification: a 0/1 indicator y, its answers, journal, strategies, models."""

import sqlite3

import numpy as np
import pytest

from skal.io import LabelJournal
from skal.strategies import (
    binary_minimum,
    label_probabilities,
    max_loss,
    mean_label_entropy,
    mean_max_loss,
)

# --------------------------------------------------------------------------- measures
# Two labels, four samples: each measure puts another sample first (worked out by hand):
#   p = (.1, .9)  (.6, .05)  (.9, .7)  (.8, .2)
#   mean entropy   .325  .436  .468  .500             -> 3 2 1 0
#   binary min     1-.8=.2  1-.2=.8  1-.4=.6  1-.6=.4  -> 1 2 3 0
#   max loss (f = 2p-1, +1 on the most probable label, -1 elsewhere)
#                  .2+.2=.4  .8+.1=.9  .2+1.4=1.6  .4+.4=.8 -> 2 1 3 0
#   mean max loss (mean over the one-label hypotheses of max(0, 1 - c.f))
#                  1.3  1.05  1.0  1.1                -> 0 3 1 2
TABLE = np.array([[0.1, 0.9], [0.6, 0.05], [0.9, 0.7], [0.8, 0.2]])


def test_measures_by_hand():
    np.testing.assert_allclose(mean_label_entropy(TABLE), [0.3251, 0.4358, 0.4680, 0.5004],
                               atol=1e-4)
    np.testing.assert_allclose(binary_minimum(TABLE), [0.2, 0.8, 0.6, 0.4], atol=1e-12)
    np.testing.assert_allclose(max_loss(TABLE), [0.4, 0.9, 1.6, 0.8], atol=1e-12)
    np.testing.assert_allclose(mean_max_loss(TABLE), [1.3, 1.05, 1.0, 1.1], atol=1e-12)


def test_losses_match_modal_on_hard_predictions():
    # modAL feeds 2 * predict - 1 (margins of +-1); on 0/1 "probabilities" skal's measures
    # are exactly modAL's numbers: _SVM_loss of predictions [1, 0, 1] and [0, 0, 0]
    hard = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    # max loss: most certain label 0 -> c = [1, -1, -1]; f = [1, -1, 1]: 0 + 0 + 2
    #           row 2: c = [1, -1, -1], f = [-1, -1, -1]: 2 + 0 + 0
    np.testing.assert_allclose(max_loss(hard), [2.0, 2.0])
    # mean max loss: f @ (2I - 1) = 2 f_j - sum f: row 1: [1, -3, 1] -> [0, 4, 0] / 3
    np.testing.assert_allclose(mean_max_loss(hard), [4 / 3, 0.0])


@pytest.mark.parametrize("measure", [mean_label_entropy, binary_minimum, max_loss,
                                     mean_max_loss])
def test_measures_refuse_1d(measure):
    with pytest.raises(ValueError, match="2-D"):
        measure([0.2, 0.8])


# ----------------------------------------------------------- one place for predict_proba
def _multilabel_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)


def _models():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "multioutput": MultiOutputClassifier(LogisticRegression()),
        "one_vs_rest": OneVsRestClassifier(LogisticRegression()),
        "knn": KNeighborsClassifier(5),
        "forest": RandomForestClassifier(10, random_state=0),
        "pipeline": make_pipeline(StandardScaler(), KNeighborsClassifier(5)),
    }


@pytest.mark.parametrize("name", list(_models()))
def test_label_probabilities_of_every_format(name):
    X, Y = _multilabel_data()
    model = _models()[name].fit(X, Y)
    proba = label_probabilities(model, X)
    assert proba.shape == (len(X), 2)
    # the probability of "the label applies", not of "it does not": it follows Y
    assert ((proba > 0.5) == Y).mean() > 0.85


def test_label_probabilities_of_a_label_never_present():
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.neighbors import KNeighborsClassifier

    X, Y = _multilabel_data()
    Y[:, 1] = 0  # one column a single class: its block has one column, classes_ [0]
    model = MultiOutputClassifier(KNeighborsClassifier(3)).fit(X, Y)
    proba = label_probabilities(model, X)
    assert proba.shape == (len(X), 2) and (proba[:, 1] == 0).all()
    Y[:, 1] = 1  # always present: probability 1
    proba = label_probabilities(MultiOutputClassifier(KNeighborsClassifier(3)).fit(X, Y), X)
    assert (proba[:, 1] == 1).all()


# ------------------------------------------------------------------------------ journal
def test_journal_round_trip_of_label_sets(tmp_path):
    path = tmp_path / "j.sqlite"
    with LabelJournal(path) as j:
        j.append([0, 1, 2], [(1, 0, 1), (0, 0, 0), (np.int64(1), 1, 1)], round=0)
        j.append([3], [-1], round=1)  # a skip stays the int -1, not a label set
    with LabelJournal(path) as j:
        assert j.labels() == {0: (1, 0, 1), 1: (0, 0, 0), 2: (1, 1, 1), 3: -1}
        raw = sqlite3.connect(path)
        stored = [r[0] for r in raw.execute("SELECT label FROM labels ORDER BY seq")]
        raw.close()
    assert stored[:2] == ['{"multilabel": [1, 0, 1]}', '{"multilabel": [0, 0, 0]}']


@pytest.mark.parametrize("label, match", [
    ((), "one 0/1 entry per label"),
    ((0, 2), "row of 0/1 ints, got 2"),
    ((0, 1.0), "row of 0/1 ints, got 1.0"),
    ((True, 0), "row of 0/1 ints, got True"),
])
def test_journal_refuses_bad_label_sets(tmp_path, label, match):
    with LabelJournal(tmp_path / "j.sqlite") as j:
        with pytest.raises(ValueError, match=match):
            j.append([0], [label])
        assert len(j) == 0


@pytest.mark.parametrize("raw, why", [
    ('{"multilabel": [0, 2]}', "row of 0/1 ints"),
    ('{"multilabel": "01"}', "multi-label answer"),
    ('{"labels": [0, 1]}', "multi-label answer"),
    ('{"multilabel": []}', "one 0/1 entry per label"),
])
def test_damaged_label_sets_are_named(tmp_path, raw, why):
    path = tmp_path / "j.sqlite"
    with LabelJournal(path) as j:
        j.append([0], [(0, 1)])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE labels SET label = ?", (raw,))
    conn.commit()
    conn.close()
    with LabelJournal(path) as j, pytest.raises(ValueError, match=f"seq=1.*{why}"):
        j.labels()


# ------------------------------------------------------------------------ the learner
def _digits(n=400):
    from sklearn.datasets import load_digits

    X, digit = load_digits(return_X_y=True)
    Y = np.column_stack([digit % 2 == 0, digit > 4, np.isin(digit, (2, 3, 5, 7))]).astype(int)
    return X[:n] / 16.0, Y[:n]


def _ovr():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(LogisticRegression(max_iter=300))


def _learner(**kw):
    from skal import ActiveLearningClassifier

    kw = {"query_strategy": "ml_entropy", "n_queries": 2, "n_instances": 5,
          "initial_size": 20, "random_state": 0, **kw}
    estimator = kw.pop("estimator") if "estimator" in kw else _ovr()
    return ActiveLearningClassifier(estimator, **kw)


ML_NAMES = ["ml_entropy", "ml_binary_minimum", "ml_max_loss", "ml_mean_max_loss"]


@pytest.mark.parametrize("strategy", ML_NAMES + ["random", "entropy"])
def test_fit_campaign_with_indicator_y(strategy):
    X, Y = _digits()
    learner = _learner(query_strategy=strategy).fit(X, Y)
    assert learner.n_labeled_ == 30
    assert learner.y_labeled_.shape == (30, 3)
    np.testing.assert_array_equal(learner.y_labeled_, Y[learner.labeled_indices_])
    assert learner.predict(X).shape == (len(X), 3)
    proba = learner.predict_proba(X[:7])
    assert proba.shape == (7, 3) and ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2])
    assert learner.history_[-1]["class_counts"] == [
        [j, int(Y[learner.labeled_indices_, j].sum())] for j in range(3)]
    # same seed, same queries
    again = _learner(query_strategy=strategy).fit(X, Y)
    np.testing.assert_array_equal(again.labeled_indices_, learner.labeled_indices_)


def test_strategies_choose_differently_and_entropy_is_ml_entropy():
    X, Y = _digits()
    picked = {s: _learner(query_strategy=s).fit(X, Y).labeled_indices_.tolist()
              for s in ML_NAMES + ["random", "entropy"]}
    assert picked["entropy"] == picked["ml_entropy"]  # the default reads labels' entropy
    assert len({tuple(picked[s]) for s in ML_NAMES + ["random"]}) == 5


@pytest.mark.parametrize("make", ["multioutput", "one_vs_rest", "knn", "forest"])
def test_sklearn_multilabel_models(make):
    X, Y = _digits(300)
    learner = _learner(estimator=_models()[make], query_strategy="ml_max_loss").fit(X, Y)
    assert learner.predict_proba(X[:4]).shape == (4, 3)
    assert 0 <= learner.score(X, Y) <= 1


def test_score_is_subset_accuracy_on_labeled_rows():
    from sklearn.metrics import accuracy_score

    X, Y = _digits()
    learner = _learner().fit(X, Y)
    marked = Y.copy()
    marked[::2] = -1  # unlabeled rows are left out of the score
    expected = accuracy_score(Y[1::2], learner.predict(X[1::2]))
    assert learner.score(X, marked) == pytest.approx(expected)
    assert expected < accuracy_score(Y[1::2].ravel(), learner.predict(X[1::2]).ravel())


def test_query_and_teach_rows_and_sets():
    X, Y = _digits()
    marked = Y.astype(float)
    marked[20:] = np.nan  # unlabeled: whole rows of NaN
    learner = _learner(n_queries=0).fit(X, marked)
    assert learner.n_labeled_ == 20
    picked = learner.query(X[20:], 3) + 20
    learner.teach(X[picked[:2]], Y[picked[:2]])
    learner.teach(X[picked[2:]], [set(np.flatnonzero(Y[picked[2]]).tolist())])
    assert learner.n_labeled_ == 23
    np.testing.assert_array_equal(learner.y_labeled_[-3:], Y[picked])
    other = next(i for i in range(20, len(X)) if i not in picked)
    learner.teach(X[other:other + 1], [set()])  # "none of these" is a label set, not a skip
    assert learner.n_labeled_ == 24 and learner.y_labeled_[-1].tolist() == [0, 0, 0]
    assert learner.labeled_indices_[-1] == other  # a pool row is answered in place


def test_journal_records_label_sets_and_a_rerun_resumes(tmp_path):
    X, Y = _digits(200)
    path = tmp_path / "ml.sqlite"
    first = _learner(journal=path).fit(X, Y)
    with LabelJournal(path) as j:
        stored = j.labels()
    assert len(stored) == 30 and all(isinstance(v, tuple) for v in stored.values())
    assert stored == {int(i): tuple(Y[i].tolist()) for i in first.labeled_indices_}
    resumed = _learner(journal=path, n_queries=1).fit(X, Y)  # 30 recorded, then a round
    assert resumed.n_labeled_ == 35
    assert set(first.labeled_indices_) <= set(resumed.labeled_indices_)


def test_a_journal_of_the_other_kind_is_refused_naming_the_sample(tmp_path):
    from sklearn.linear_model import LogisticRegression

    from skal import ActiveLearningClassifier

    X, Y = _digits(200)
    single = tmp_path / "single.sqlite"
    ActiveLearningClassifier(LogisticRegression(max_iter=300), journal=single, n_queries=1,
                             initial_size=20, random_state=0).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"sample \d+.*multi-label"):
        _learner(journal=single).fit(X, Y)
    multi = tmp_path / "multi.sqlite"
    _learner(journal=multi, n_queries=1).fit(X, Y)
    with pytest.raises(ValueError, match=r"sample \d+.*tuple"):
        ActiveLearningClassifier(LogisticRegression(max_iter=300), journal=multi, n_queries=1,
                                 initial_size=20, random_state=0).fit(X, Y[:, 0])


def test_clone_and_grid_search_with_multilabel_scorers():
    from sklearn.base import clone
    from sklearn.metrics import hamming_loss, make_scorer
    from sklearn.model_selection import GridSearchCV, KFold

    X, Y = _digits(300)
    learner = _learner()
    assert clone(learner).get_params()["query_strategy"] == "ml_entropy"
    scoring = {"f1_micro": "f1_micro", "f1_samples": "f1_samples",
               "jaccard_samples": "jaccard_samples",
               "hamming": make_scorer(hamming_loss, greater_is_better=False)}
    search = GridSearchCV(learner, {"query_strategy": ["random", "ml_max_loss"]},
                          scoring=scoring, refit="f1_micro", cv=KFold(3), n_jobs=1)
    search.fit(X, Y)
    for name in scoring:
        scores = search.cv_results_[f"mean_test_{name}"]
        assert np.isfinite(scores).all()
    assert (search.cv_results_["mean_test_f1_micro"] > 0.5).all()
    assert search.best_estimator_.y_labeled_.shape[1] == 3


def _bad_y():
    X, Y = _digits(60)
    one_hot = np.eye(3, dtype=int)[np.arange(60) % 3]
    partly = Y.copy()
    partly[5, 0] = -1
    values = Y.copy()
    values[7, 1] = 2
    nan_row = Y.astype(float)
    nan_row[3, 2] = np.nan
    return X, {
        "one-hot": (one_hot, ValueError, r"one-hot.*argmax\(axis=1\).*task='multilabel'"),
        "partly marked": (partly, ValueError, r"row 5 is partly marked"),
        "not 0/1": (values, ValueError, r"row 7 holds 2"),
        "NaN in a labeled row": (nan_row, ValueError, r"row 3 is partly marked"),
        "wrong length": (Y[:50], ValueError, r"50 rows but X has 60"),
    }


@pytest.mark.parametrize("case", list(_bad_y()[1]))
def test_bad_indicator_y_is_refused(case):
    X, table = _bad_y()
    y, error, match = table[case]
    with pytest.raises(error, match=match):
        _learner().fit(X, y)


def test_one_hot_y_is_multilabel_when_asked():
    X, _ = _digits(90)
    one_hot = np.eye(3, dtype=int)[np.arange(90) % 3]
    from skal import ActiveLearningClassifier, Campaign
    from skal.campaign import CampaignSpec

    spec = CampaignSpec.from_estimator(_learner()).replace(task="multilabel")
    campaign = Campaign(spec, X, one_hot).run(1)
    learner = ActiveLearningClassifier.from_campaign(campaign)
    assert learner.predict(X[:2]).shape == (2, 3) and learner.n_labeled_ == 25


@pytest.mark.parametrize("y, error, match", [
    ([[1, 0]], ValueError, "has 2 entries; this campaign has 3 labels"),
    ([[1, 0, 2]], ValueError, "holds 2"),
    ([{0, 5}], ValueError, "names 5, which is not a label"),
    ([{"cat"}], ValueError, "names 'cat'"),
    (3, TypeError, "is a int, but this campaign is multi-label"),
    ([None], ValueError, "unlabeled marker"),
])
def test_bad_answers_are_refused_and_nothing_is_lost(y, error, match):
    X, Y = _digits(200)
    learner = _learner(n_queries=1).fit(X, Y)
    before = learner.y_labeled_.copy()
    with pytest.raises(error, match=match):
        learner.teach(X[:1], y)
    np.testing.assert_array_equal(learner.y_labeled_, before)


def test_strategies_refuse_the_other_task():
    from sklearn.linear_model import LogisticRegression

    from skal import ActiveLearningClassifier

    X, Y = _digits(200)
    with pytest.raises(ValueError, match=r"query_strategy='ml_max_loss'.*\['.*margin"):
        ActiveLearningClassifier(LogisticRegression(), query_strategy="ml_max_loss",
                                 n_queries=1, initial_size=20).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"query_strategy='margin'.*ml_entropy"):
        _learner(query_strategy="margin").fit(X, Y)


def test_options_that_read_classes_are_refused():
    X, Y = _digits(100)
    for option, value in [("initial_selection", "stratified"),
                          ("semi_supervised", "pseudo_labels")]:
        with pytest.raises(ValueError, match=f"{option}=.*multi-label"):
            _learner(**{option: value}).fit(X, Y)


def test_modal_multilabel_svm_example():
    """modAL's examples/multilabel_svm.py: two labels (x1 > 0, x2 > 0), one-vs-rest SVC,
    SVM binary minimum; ported to skal it runs a whole campaign."""
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    from skal import ActiveLearningClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    y = np.array([[int(x1 > 0), int(x2 > 0)] for x1, x2 in X])
    learner = ActiveLearningClassifier(
        OneVsRestClassifier(SVC(probability=True, random_state=0)),
        query_strategy="ml_binary_minimum", initial_size=10, n_instances=1, n_queries=10,
        random_state=0).fit(X, y)
    assert learner.n_labeled_ == 20
    # binary minimum asks near a boundary (an axis): closer than random samples are
    asked = X[learner.labeled_indices_[10:]]
    assert np.abs(asked).min(axis=1).mean() < np.abs(X).min(axis=1).mean()
    assert learner.score(X, y) > 0.8


def test_keras_sigmoid_network_gives_per_label_probabilities():
    keras = pytest.importorskip("keras")
    from skal.keras import KerasClassifier

    def build(meta):
        return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                                 keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(3, activation="sigmoid")])

    X, Y = _digits(120)
    network = KerasClassifier(build, loss="binary_crossentropy", epochs=3, verbose=0,
                              min_train_steps=None, random_state=0)
    learner = _learner(estimator=network, n_queries=1, query_strategy="ml_max_loss")
    learner.fit(X.astype("float32"), Y)
    proba = learner.predict_proba(X[:5].astype("float32"))
    assert proba.shape == (5, 3) and ((proba > 0) & (proba < 1)).all()
    assert learner.predict(X[:5].astype("float32")).shape == (5, 3)


def test_the_default_strategy_runs_a_multi_label_campaign_as_binary_minimum(digits_xy):
    # the learner's default query_strategy ("auto") is the measured best on multi-label y
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from skal import ActiveLearningClassifier

    X, y = digits_xy
    Y = np.c_[y % 2 == 0, y > 4, np.isin(y, [2, 3, 5, 7])].astype(int)[:300]

    def run(**kw):
        return ActiveLearningClassifier(OneVsRestClassifier(LogisticRegression(max_iter=300)),
                                        n_queries=2, random_state=0, **kw).fit(X[:300], Y)

    default = run()
    assert default.n_labeled_ == 30
    np.testing.assert_array_equal(default.labeled_indices_,
                                  run(query_strategy="ml_binary_minimum").labeled_indices_)
    assert not np.array_equal(default.labeled_indices_,
                              run(query_strategy="ml_entropy").labeled_indices_)
