import os
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier, Campaign, LabelJournal
from skal._sampling import initial_indices


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(st.integers(1, 30), min_size=2, max_size=8),
    size=st.integers(1, 60),
    seed=st.integers(0, 1000),
)
def test_initial_set_is_stratified(counts, size, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    if size > len(y):
        with pytest.raises(ValueError, match="initial_size"):
            initial_indices(y, size, seed)
        return
    idx = initial_indices(y, size, seed)
    assert len(idx) == size and len(np.unique(idx)) == size
    present = set(y[idx])
    assert len(present) == min(size, len(counts))  # one per class where possible
    np.testing.assert_array_equal(idx, initial_indices(y, size, seed))


@pytest.fixture(scope="module")
def data(digits_xy):
    X, y = digits_xy
    return X[:300], y[:300]


def learner(**kw):
    params = dict(n_instances=10, initial_size=20, random_state=0, query_strategy="margin")
    params.update(kw)
    return ActiveLearningClassifier(LogisticRegression(max_iter=300), **params)


def test_run_is_what_fit_does(data):
    X, y = data
    campaign = Campaign(learner(), X, y).run(n_queries=4)
    fitted = learner(n_queries=4).fit(X, y)
    np.testing.assert_array_equal(campaign.labeled_indices_, fitted.labeled_indices_)
    np.testing.assert_array_equal(campaign.labels_, y[campaign.labeled_indices_])
    assert [r["n_labeled"] for r in campaign.history_] == [20, 30, 40, 50, 60]
    assert campaign.stop_reason_ == "n_queries"
    assert len(campaign.queried_indices_) == 4 and len(campaign.query_scores_) == 4
    # the history is plain data
    keys = {"round", "n_labeled", "n_pseudo_labeled", "query_time", "fit_time", "class_counts"}
    assert all(set(row) == keys for row in campaign.history_)
    for row in campaign.history_:  # the class counts of the labels of each fit
        labels = y[campaign.labeled_indices_[: row["n_labeled"]]]
        assert row["class_counts"] == [[c, int((labels == c).sum())] for c in np.unique(labels)]


def test_skipped_samples_are_not_trained_on_nor_asked_again(data):
    X, y = data
    asked = []

    def oracle(X_batch, indices):
        asked.extend(int(i) for i in indices)
        return [-1 if i % 5 == 0 else y[i] for i in indices]

    campaign = Campaign(learner(n_instances=40), X, oracle=oracle).run(n_queries=20)
    assert campaign.stop_reason_ == "pool exhausted"
    assert len(asked) == len(set(asked)) == len(X)  # nobody asked twice; pool exhausted
    assert not any(i % 5 == 0 for i in campaign.labeled_indices_)
    assert set(campaign.skipped_indices_.tolist()) == set(range(0, len(X), 5))
    np.testing.assert_array_equal(campaign.labels_, y[campaign.labeled_indices_])


def test_oracle_stop_ends_the_run_after_one_last_fit(data):
    X, y = data
    from skal.exceptions import StopLabeling

    calls = []

    def oracle(X_batch, indices):
        calls.append(list(indices))
        if len(calls) == 3:
            raise StopLabeling([y[indices[0]]])
        return y[np.asarray(indices)]

    campaign = Campaign(learner(), X, oracle=oracle).run(n_queries=10)
    assert campaign.stop_reason_ == "oracle stopped"
    assert len(campaign.labeled_indices_) == 20 + 10 + 1
    assert campaign.history_[-1]["n_labeled"] == 31


def test_next_batch_never_hands_out_a_sample_twice(data):
    X, y = data
    campaign = Campaign(learner(), X)
    first = campaign.next_batch(20)  # before any model: random
    second = campaign.next_batch(20)
    assert len(set(first) | set(second)) == 40
    campaign.answer(first, y[first])
    campaign.refit()
    batches = [campaign.next_batch(15) for _ in range(3)]  # the model's choices now
    handed = np.concatenate([first, second, *batches])
    assert len(np.unique(handed)) == len(handed)
    campaign.release(int(second[0]))  # handed back unanswered: may come again
    again = np.concatenate([campaign.next_batch(200) for _ in range(3)])
    assert int(second[0]) in again.tolist()
    assert not set(again.tolist()) & set(first.tolist())  # answered: never again
    assert len(campaign.next_batch(5)) == 0  # nothing left


def test_step_wise_answers_train_the_model_and_undo_takes_them_back(data, tmp_path):
    X, y = data
    path = tmp_path / "j.sqlite"
    campaign = Campaign(learner(), X, journal=str(path))
    batch = campaign.next_batch(30)
    for i in batch:
        campaign.answer(int(i), y[i])
    campaign.answer(int(batch[0]), None)  # relabel as a skip
    model = campaign.refit()
    assert campaign.estimator_ is model
    assert campaign.history_[-1]["n_labeled"] == 29
    campaign.undo(int(batch[1]))
    campaign.undo(int(batch[0]))  # a skip can be taken back too
    assert int(batch[1]) not in campaign.labeled_indices_.tolist()
    assert int(batch[0]) not in campaign.skipped_indices_.tolist()
    with pytest.raises(ValueError, match="no answer to undo"):
        campaign.undo(int(batch[1]))
    with LabelJournal(path) as journal:
        assert set(journal.labels()) == set(batch[2:].tolist())
        assert [r["label"] for r in journal.records()][-2:] == [None, None]
    # a new campaign on the journal resumes with exactly these answers
    resumed = Campaign(learner(), X, journal=str(path))
    assert sorted(resumed.labeled_indices_.tolist()) == sorted(batch[2:].tolist())
    assert int(batch[1]) in np.concatenate([resumed.next_batch(150), resumed.next_batch(150)])


class GatedLogisticRegression(LogisticRegression):
    """A real logistic regression whose fit waits until the test opens the gate."""

    gate = threading.Event()
    started = threading.Event()

    def fit(self, X, y, sample_weight=None):
        type(self).started.set()
        assert type(self).gate.wait(30), "the test never opened the gate"
        return super().fit(X, y, sample_weight)


def test_answers_during_a_background_refit_are_kept_and_used(data):
    X, y = data
    gated = ActiveLearningClassifier(
        GatedLogisticRegression(max_iter=300), query_strategy="margin", random_state=0
    )
    campaign = Campaign(gated, X)
    first = campaign.next_batch(20)
    campaign.answer(first, y[first])
    GatedLogisticRegression.gate.clear()
    GatedLogisticRegression.started.clear()
    future = campaign.refit(background=True)
    assert GatedLogisticRegression.started.wait(10)
    more = campaign.next_batch(10)  # no model yet: random, still never a handed-out one
    assert not set(more) & set(first)
    campaign.answer(more, y[more])  # answers arrive while the refit runs
    assert campaign.refit(background=True) is future  # queued behind the running one
    GatedLogisticRegression.gate.set()
    campaign.wait(30)
    assert future.done() and future.exception() is None
    assert len(campaign.labeled_indices_) == 30
    assert campaign.history_[-1]["n_labeled"] == 30  # the follow-up refit saw every answer
    assert campaign.estimator_ is not None
    # the next batch is the newest model's choice: what that model's query picks
    batch = campaign.next_batch(10)
    rest = np.setdiff1d(np.arange(len(X)), campaign.labeled_indices_)
    fitted = ActiveLearningClassifier.from_campaign(campaign)
    np.testing.assert_array_equal(batch, rest[fitted.query(X[rest], 10)])


def test_a_queued_refit_without_new_answers_does_not_run_again(data):
    X, y = data
    gated = ActiveLearningClassifier(GatedLogisticRegression(max_iter=300), random_state=0)
    campaign = Campaign(gated, X)
    batch = campaign.next_batch(20)
    campaign.answer(batch, y[batch])
    GatedLogisticRegression.gate.clear()
    GatedLogisticRegression.started.clear()
    future = campaign.refit(background=True)
    assert GatedLogisticRegression.started.wait(10)
    assert campaign.refit(background=True) is future  # asked again, but nothing new
    GatedLogisticRegression.gate.set()
    campaign.wait(30)
    assert len(campaign.history_) == 1


_KILLED_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from skal import ActiveLearningClassifier, Campaign

    X, y = load_digits(return_X_y=True)
    campaign = Campaign(ActiveLearningClassifier(LogisticRegression(), random_state=0),
                        X[:300], journal=sys.argv[1])
    while True:
        for i in campaign.next_batch(5):
            if len(campaign.labeled_indices_) > 3:  # a poisoned answer: refused, unwritten
                try:
                    campaign.answer(299, "zz")
                except TypeError:
                    pass
            campaign.answer(int(i), int(y[i]))
            print(int(i), flush=True)  # reported only once the journal has it
    """
)


def test_kill_and_resume_through_the_journal_loses_nothing(tmp_path):
    path = tmp_path / "killed.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    reported = [int(proc.stdout.readline()) for _ in range(23)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    X_all = load_digits().data[:300]  # the writer's pool
    resumed = Campaign(learner(), X_all, journal=str(path))  # no poisoned row to trip on
    assert set(reported) <= set(resumed.labeled_indices_.tolist())
    assert resumed.refit() is not None
    assert not set(resumed.next_batch(300).tolist()) & set(reported)  # none asked again


BAD_STEPS = [
    # (what to call, error type, message)
    (lambda c: c.next_batch(0), ValueError, r"'n' parameter of Campaign.next_batch .* \[1"),
    (lambda c: c.next_batch("5"), ValueError, "'n' parameter of Campaign.next_batch"),
    (lambda c: c.next_batch(True), ValueError, "not the bool"),
    (lambda c: c.answer(-1, 0), ValueError, "outside the pool"),
    (lambda c: c.answer(10**9, 0), ValueError, "outside the pool"),
    (lambda c: c.answer(1.5, 0), TypeError, "pool index"),
    (lambda c: c.answer("3", 0), TypeError, "pool index"),
    (lambda c: c.answer([1, 2], [0]), ValueError, "1 entries for 2 indices"),
    (lambda c: c.answer([[1, 2]], [0, 1]), TypeError, "1-D"),
    (lambda c: c.answer([42, 42], [0, 1]), ValueError, "index 42 is given twice in one call"),
    (lambda c: c.undo(3), ValueError, "no answer to undo"),
    (lambda c: c.run(n_queries=-1), ValueError, "n_queries"),
    (lambda c: c.run(n_queries=1.5), ValueError, "n_queries"),
    (lambda c: c.run(), ValueError, "needs y .* or an oracle"),
    (lambda c: c.refit(), ValueError, "no labels"),
    (lambda c: ActiveLearningClassifier.from_campaign(c), ValueError, "no fitted model"),
    (lambda c: ActiveLearningClassifier.from_campaign("c"), TypeError, "skal.Campaign"),
]


@pytest.mark.parametrize("call, error, match", BAD_STEPS)
def test_bad_step_wise_use_is_a_clear_error(data, call, error, match):
    X, _ = data
    with pytest.raises(error, match=match):
        call(Campaign(learner(), X))


BAD_CAMPAIGNS = [
    # (Campaign arguments besides the learner, error type, message)
    (lambda X, y: (X, y[:-1]), ValueError, "y has 299 labels but X has 300"),
    (lambda X, y: (X[:0], None), ValueError, "0 sample"),
    (lambda X, y: (np.where(X == 0, np.nan, X), None), ValueError, "NaN"),
    (lambda X, y: (X, np.r_[y[:-1], -1]), ValueError, "every sample needs its label"),
    (lambda X, y: (X, np.zeros(len(y))), ValueError, "two classes"),
]


@pytest.mark.parametrize("args, error, match", BAD_CAMPAIGNS)
def test_bad_campaign_inputs_are_clear_errors(data, args, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        Campaign(learner(), *args(X, y)).run(1)


def test_a_bad_strategy_option_fails_when_the_campaign_is_made(data):
    from skal.strategies import UncertaintySampling

    X, y = data
    with pytest.raises(ValueError, match="measure"):
        Campaign(learner(query_strategy=UncertaintySampling("entropyy")), X, y)


def test_the_old_stop_name_still_stops_a_campaign_with_a_deprecation_warning(data):
    X, y = data
    with pytest.warns(FutureWarning, match="StopLabeling"):
        from skal.oracles import StopLabelling

    def oracle(X_batch, indices):
        raise StopLabelling([y[indices[0]]] + [None] * (len(indices) - 1))

    campaign = Campaign(learner(), X, np.r_[y[:40], np.full(len(y) - 40, -1)], oracle=oracle)
    campaign.run(n_queries=5)
    assert campaign.stop_reason_ == "oracle stopped"


# ---------------------------------------------------------------- one state (issue 30)


def test_from_campaign_takes_over_a_journal_campaign(data, tmp_path):
    X, y = data
    path = tmp_path / "j.sqlite"
    campaign = Campaign(learner(journal=str(path)), X, y).run(n_queries=1)
    fitted = ActiveLearningClassifier.from_campaign(campaign)  # no clone: no refusal
    assert fitted.campaign_ is campaign and fitted.n_labeled_ == 30
    idx = fitted.query(X, 3)
    fitted.teach(X[idx], y[idx], sample_ids=idx)  # through the same journal
    with LabelJournal(path) as journal:
        assert set(idx.tolist()) <= set(journal.labels())
    assert campaign.labeled_indices_[-3:].tolist() == idx.tolist()


def test_known_labels_of_a_partial_y_count_from_the_first_step(data):
    X, y = data
    partial = np.full(len(y), -1)
    known = np.arange(0, len(y), 10)  # 30 labels already given
    partial[known] = y[known]
    campaign = Campaign(learner(), X, partial)
    handed = campaign.next_batch(len(X))  # before any model: never a known sample
    assert not set(handed.tolist()) & set(known.tolist())
    assert len(handed) == len(X) - len(known)
    fresh = Campaign(learner(), X, partial)
    fresh.refit()  # the first step-wise refit trains on y's labels
    assert fresh.history_[0]["n_labeled"] == len(known)
    np.testing.assert_array_equal(np.sort(fresh.labeled_indices_), known)
    assert not set(fresh.next_batch(50).tolist()) & set(known.tolist())


def test_a_complete_y_stays_a_simulations_oracle_step_by_step(data):
    X, y = data
    campaign = Campaign(learner(), X, y)
    assert len(campaign.next_batch(20)) == 20 and len(campaign.labeled_indices_) == 0


@pytest.mark.parametrize("strategy", ["margin", "bald"])
def test_next_batch_is_safe_from_several_threads(data, strategy):
    X, y = data
    est = ActiveLearningClassifier(
        LogisticRegression(max_iter=300) if strategy == "margin" else None,
        query_strategy=strategy, initial_size=20, random_state=0,
    )
    if strategy == "bald":
        from skal import CNNClassifier

        est.set_params(estimator=CNNClassifier(epochs=2, random_state=0))
    campaign = Campaign(est, X[:200], y[:200])
    first = campaign.next_batch(20)
    campaign.answer(first, y[first])
    campaign.refit()
    barrier, batches, errors = threading.Barrier(4), [], []

    def take():
        barrier.wait()
        try:
            batches.append(campaign.next_batch(5))
        except Exception as exc:  # pragma: no cover -- the failure being tested
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    handed = np.concatenate(batches)
    assert len(handed) == 20 and len(np.unique(handed)) == 20


def test_a_callbacks_stop_labeling_ends_run_with_its_reason(data):
    X, y = data
    from skal.exceptions import StopLabeling

    def stop_at_40(campaign):
        if len(campaign.labeled_indices_) >= 40:
            raise StopLabeling(reason="enough labels")

    campaign = Campaign(learner(), X, y, callbacks=[stop_at_40]).run(n_queries=10)
    assert campaign.stop_reason_ == "enough labels"
    assert [r["n_labeled"] for r in campaign.history_] == [20, 30, 40]

    def stop(campaign):
        raise StopLabeling()

    assert Campaign(learner(), X, y, callbacks=[stop]).run(5).stop_reason_ == "callback stopped"


def test_the_campaign_reads_one_spec_of_the_learner(data):
    from skal.campaign import CampaignSpec

    X, y = data
    est = learner(max_labels=35)
    campaign = Campaign(est, X, y)
    assert campaign.spec == CampaignSpec.from_estimator(est)
    assert not hasattr(campaign, "learner")
    est.set_params(n_instances=99)  # the learner changes; the campaign's spec does not
    assert campaign.run(10).history_[-1]["n_labeled"] == 35
    with pytest.raises(AttributeError):
        campaign.spec.n_instances = 3  # immutable
    with pytest.raises(TypeError, match="CampaignSpec has no fields"):
        campaign.spec.replace(n_instance=3)
    with pytest.raises(TypeError, match="learner .* or a CampaignSpec"):
        Campaign("margin", X, y)


def test_a_pickled_campaign_goes_on(data):
    import pickle

    X, y = data
    campaign = Campaign(learner(), X, y).run(n_queries=1)
    again = pickle.loads(pickle.dumps(campaign))
    np.testing.assert_array_equal(again.next_batch(5), campaign.next_batch(5))
    assert len(again.run(1).history_) == 3


def test_a_random_initial_set_of_one_class_asks_on_until_a_second(data):
    X, y = data
    y_rare = np.where(np.arange(len(y)) < 4, 1, 0)  # 4 samples of class 1 in 300
    campaign = Campaign(learner(initial_size=3, n_instances=5), X, y_rare).run(n_queries=0)
    asked = campaign.labeled_indices_
    assert len(set(y_rare[asked])) == 2 and len(asked) > 3  # the search asked on
    assert campaign.history_[0]["n_labeled"] == len(asked)


@pytest.mark.parametrize("kind", ["pseudo_labels", "label_spreading", "consistency"])
def test_a_pool_training_campaigns_journal_holds_exactly_the_answers(data, tmp_path, kind,
                                                                      make_cnn):
    X, y = data
    path = tmp_path / "j.sqlite"
    est = learner(semi_supervised=kind, journal=str(path))
    from skal.semi_supervised import ConsistencyTraining, PseudoLabels

    if kind == "consistency":  # a network that trains on the pool itself
        est.set_params(estimator=make_cnn(epochs=1), semi_supervised=ConsistencyTraining(
            epochs=1))
    if kind == "pseudo_labels":  # confident enough to pseudo-label something
        est.set_params(semi_supervised=PseudoLabels(threshold=0.5))
    campaign = Campaign(est, X, y).run(n_queries=2)
    assert campaign.history_[-1]["n_pseudo_labeled"] > 0  # it did train on the pool
    with LabelJournal(path) as journal:
        journaled = journal.labels()
    assert sorted(journaled) == sorted(campaign.labeled_indices_.tolist())  # answers only
    assert all(journaled[i] == y[i] for i in journaled)


def test_a_journal_write_that_fails_leaves_the_answers_unchanged(data, tmp_path, monkeypatch):
    X, y = data
    campaign = Campaign(learner(), X, journal=str(tmp_path / "j.sqlite"))
    campaign.answer(np.arange(20), y[:20])

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(LabelJournal, "append", disk_full)
    with pytest.raises(OSError, match="No space"):
        campaign.answer(np.arange(20, 25), y[20:25])
    assert campaign.labeled_indices_.tolist() == list(range(20))  # counted only once on disk
    monkeypatch.undo()
    with LabelJournal(tmp_path / "j.sqlite") as journal:
        assert sorted(journal.labels()) == list(range(20))


def test_answers_teach_and_undo_record_who_gave_them(data, tmp_path):
    X, _ = data
    c = Campaign(learner(), X, journal=tmp_path / "labels.sqlite")
    c.answer([0, 1], [0, 1], annotator="ana")
    c.teach(2, 2, annotator="ben.lima")
    c.answer(3, 3)  # the journal's default: nobody named
    c.undo(0, annotator="ben.lima")
    rows = [(r["sample_id"], r["label"], r["annotator"]) for r in c.journal_.records()]
    assert rows == [(0, 0, "ana"), (1, 1, "ana"), (2, 2, "ben.lima"), (3, 3, None),
                    (0, None, "ben.lima")]
    assert c.labeled_indices_.tolist() == [1, 2, 3]


BAD_ANNOTATORS = [
    # (annotator, journal?, error type, message): nothing is recorded, in memory or on disk
    ("ana", False, ValueError, "campaign has none: pass journal="),
    ("", True, ValueError, "annotator is empty"),
    ("<b>", True, ValueError, "has the character '<'"),
    (" ana", True, ValueError, "starts or ends with a space"),
    ("a" * 41, True, ValueError, "41 characters"),
    (7, True, TypeError, "annotator must be a str"),
]


@pytest.mark.parametrize("annotator, journal, error, match", BAD_ANNOTATORS)
def test_a_bad_annotator_records_nothing(data, tmp_path, annotator, journal, error, match):
    X, _ = data
    c = Campaign(learner(), X, journal=tmp_path / "labels.sqlite" if journal else None)
    for call in (lambda: c.answer([0, 1], [0, 1], annotator=annotator),
                 lambda: c.teach([0, 1], [0, 1], annotator=annotator)):
        with pytest.raises(error, match=match):
            call()
    assert c.n_answered_ == 0
    assert c.journal_ is None or list(c.journal_.records()) == []


def _flatten(Z):
    return np.asarray(Z).reshape(len(Z), -1)


def _frame(X):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(X[:, :3], columns=["a", "b", "c"])


GROWING_POOLS = [
    # (id, pool rows, y of the first 20 or None, the estimator); samples arrive in chunks of
    # 1, 2 and 5, then one of 40: the pool must equal the concatenation, y gain blanks
    ("flat rows", lambda X: X, None, LogisticRegression),
    ("images (n, 8, 8)", lambda X: X.reshape(-1, 8, 8), None, None),
    ("string classes", lambda X: X, lambda y: np.array(list("abcdefghij"))[y], LogisticRegression),
    ("a DataFrame", _frame, lambda y: y, LogisticRegression),
]


@pytest.mark.parametrize("rows, y_of, make", [c[1:] for c in GROWING_POOLS],
                         ids=[c[0] for c in GROWING_POOLS])
def test_add_samples_grows_the_pool_as_a_concatenation(data, rows, y_of, make):
    import pickle

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = data
    pool = rows(X)
    est = LogisticRegression(max_iter=300) if make else make_pipeline(
        FunctionTransformer(_flatten),
        LogisticRegression(max_iter=300))
    c = Campaign(est, pool[:20], None if y_of is None else y_of(y[:20]))
    start, sizes = 20, [1, 2, 5, 1, 1, 40]
    for k, size in enumerate(sizes):
        new = pool[start:start + size]
        if k == 3:
            c = pickle.loads(pickle.dumps(c))  # a resumed campaign goes on adding
        ids = c.add_samples(new)
        assert ids.tolist() == list(range(start, start + size))
        start += size
    expected = pool[:start]
    if hasattr(expected, "columns"):
        assert c.X.equals(expected)
    else:
        np.testing.assert_array_equal(c.X, expected)
        assert c.X.shape == expected.shape and c.X.dtype == expected.dtype
    if y_of is not None:
        assert list(c.y[:20]) == list(y_of(y[:20])) and all(v is None for v in c.y[20:])
    c.answer(np.arange(start - 5, start), y_of(y[start - 5:start]) if y_of else y[start - 5:start])
    c.refit()
    assert c.labeled_indices_.tolist() == [*range(start - 5, start)]  # a complete y is an oracle
    assert type(c.estimator_).__name__ == type(est).__name__


def test_add_samples_one_at_a_time_does_not_copy_the_pool_each_time(data):
    # A stream adds one sample at a time: a copy of the pool each time was O(n^2).
    X, _ = data
    c = Campaign(LogisticRegression(), X[:10])
    copies = 0
    for i in range(10, 300):
        before = c.X
        c.add_samples(X[i:i + 1])
        copies += not np.shares_memory(before, c.X)
    np.testing.assert_array_equal(c.X, X)
    assert copies <= 12, copies  # the room grows by half when full: ~log1.5(300 / 10) times


def test_a_model_given_as_the_learner_is_what_the_campaign_trains(data):
    # Its parameters used to be read as a learner's: LogisticRegression() trained a CNN.
    from sklearn.linear_model import BayesianRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    for model, task, strategy in [
        (LogisticRegression(max_iter=300), "classification", "auto"),
        (make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)), "classification",
         "auto"),
        (BayesianRidge(), "regression", "variance"),
    ]:
        c = Campaign(model, X, y if task == "classification" else y.astype(float))
        assert (c.spec.estimator, c.spec.task, c.spec.query_strategy) == (model, task, strategy)
        c.run(1)
        assert type(c.estimator_) is type(model) and c.estimator_ is not model


def test_an_undone_label_of_y_stays_undone(data):
    # A partial y's labels were taken again at every step: undo lasted until next_batch.
    X, y = data
    given = np.where(np.arange(len(y)) % 25 == 0, y, -1)
    c = Campaign(learner(), X, given)
    c.refit()
    c.undo(0)
    c.next_batch(3)
    c.refit()
    assert 0 not in c.labeled_indices_.tolist() and 25 in c.labeled_indices_.tolist()


def test_y_that_differs_from_the_journal_warns_and_the_journal_counts(data, tmp_path):
    X, y = data
    path = tmp_path / "labels.sqlite"
    Campaign(learner(), X, journal=path).answer([0, 1, 2], [y[0], y[1], (y[2] + 1) % 10])
    given = np.full(len(y), -1)
    given[[2, 3]] = y[[2, 3]]  # sample 2: the journal says otherwise
    c = Campaign(learner(), X, given, journal=path)
    with pytest.warns(UserWarning, match=r"1 sample\(s\) another label .*sample 2: y"):
        c.refit()
    labels = dict(zip(c.labeled_indices_.tolist(), c.labels_.tolist()))
    assert labels == {0: y[0], 1: y[1], 2: (y[2] + 1) % 10, 3: y[3]}


def test_next_batch_hands_out_no_more_than_max_labels(data):
    X, _ = data
    c = Campaign(learner(max_labels=8), X)
    first = c.next_batch(5)
    assert len(first) == 5 and len(c.next_batch(20)) == 3  # 5 handed out, 3 left
    assert len(c.next_batch(1)) == 0
    c.answer(first, [0, 1, 2, 3, 4])
    assert len(c.next_batch(1)) == 0  # 8 answered or handed out: the budget is spent
