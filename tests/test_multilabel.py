"""Multi-label classification: a 0/1 indicator y, its answers, journal, strategies, models."""

import sqlite3

import numpy as np
import pytest

from skal.io import LabelJournal
from skal.strategies._multilabel import (
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
