"""ActiveLearningClassifier on real models: LogisticRegression for speed, the CNN where it
matters (Keras-specific behaviour, Pipelines, GridSearchCV)."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from skal import ActiveLearningClassifier, Campaign
from skal.strategies import UncertaintySampling, entropy, margin


def logreg():
    return LogisticRegression(max_iter=300)


def test_fit_without_queries_ignores_unlabeled(digits_xy):
    X, y = digits_xy
    y_partial = y.copy()
    y_partial[200:] = -1
    learner = ActiveLearningClassifier(logreg()).fit(X, y_partial)
    ref = logreg().fit(X[:200], y[:200])
    np.testing.assert_allclose(learner.predict_proba(X), ref.predict_proba(X))
    assert learner.n_labeled_ == 200
    np.testing.assert_array_equal(learner.labeled_indices_, np.arange(200))
    assert (learner.labeled_round_[200:] == -1).all() and (learner.labeled_round_[:200] == 0).all()


def test_campaign_records_and_trains_on_exactly_revealed_labels(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(
        logreg(), n_queries=4, n_instances=7, initial_size=20, random_state=0
    ).fit(X, y)
    assert learner.n_labeled_ == 20 + 4 * 7
    assert len(learner.queried_indices_) == 4
    assert all(len(q) == 7 for q in learner.queried_indices_)
    idx = learner.labeled_indices_
    assert len(np.unique(idx)) == len(idx)
    np.testing.assert_array_equal(idx[20:], np.concatenate(learner.queried_indices_))
    # the initial set looks at no label: permuted labels, the same first 20 samples
    permuted = np.random.default_rng(1).permutation(10)[y]
    again = ActiveLearningClassifier(
        logreg(), n_queries=0, n_instances=7, initial_size=20, random_state=0
    ).set_params(n_queries=1).fit(X, permuted)
    np.testing.assert_array_equal(again.labeled_indices_[:20], idx[:20])
    stratified = ActiveLearningClassifier(  # the paper protocol peeks: one of each class
        logreg(), n_queries=1, initial_size=20, random_state=0, initial_selection="stratified"
    ).fit(X, y)
    assert set(y[stratified.labeled_indices_[:20]]) == set(range(10))
    ref = logreg().fit(X[idx], y[idx])
    np.testing.assert_allclose(learner.predict_proba(X), ref.predict_proba(X))
    np.testing.assert_array_equal(learner.X_labeled_, X[idx])
    assert [h["round"] for h in learner.history_] == [0, 1, 2, 3, 4]
    assert (learner.labeled_round_[idx[20:27]] == 1).all()


def test_initial_size_fraction(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(logreg(), n_queries=1, initial_size=0.05, random_state=0)
    learner.fit(X, y)
    assert learner.history_[0]["n_labeled"] == int(np.ceil(0.05 * len(X)))


def test_queries_follow_the_strategy(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(logreg(), query_strategy="margin").fit(X[:100], y[:100])
    pool = X[100:]
    idx, scores = learner.query(pool, 15, return_scores=True)
    expected = np.round(margin(learner.predict_proba(pool)), 9)  # strategies round to 1e-9
    assert len(np.unique(idx)) == 15
    np.testing.assert_allclose(scores, expected[idx])
    assert np.all(np.diff(scores) <= 0)  # most informative first
    assert scores[-1] >= np.sort(expected)[-15]
    obj = ActiveLearningClassifier(logreg(), query_strategy=UncertaintySampling("margin"))
    np.testing.assert_array_equal(obj.fit(X[:100], y[:100]).query(pool, 15), idx)


def test_query_returns_whole_small_pool(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(logreg()).fit(X[:100], y[:100])
    idx = learner.query(X[100:104], 10)
    assert sorted(idx) == [0, 1, 2, 3]


def test_callable_strategy(digits_xy):
    X, y = digits_xy

    def first_ones(estimator, X_pool, n_instances, random_state):
        return np.arange(n_instances)

    learner = ActiveLearningClassifier(logreg(), query_strategy=first_ones).fit(X[:100], y[:100])
    np.testing.assert_array_equal(learner.query(X[100:], 3), [0, 1, 2])

    def bad(estimator, X_pool, n_instances, random_state):
        return np.array([0, 0, 1])

    learner.set_params(query_strategy=bad)
    with pytest.raises(ValueError, match="distinct"):
        learner.query(X[100:], 3)


def test_same_random_state_same_queries(digits_xy):
    X, y = digits_xy
    for strategy in ("random", "entropy"):
        runs = [
            ActiveLearningClassifier(
                logreg(), query_strategy=strategy, n_queries=3, initial_size=15, random_state=7
            ).fit(X, y).labeled_indices_
            for _ in range(2)
        ]
        np.testing.assert_array_equal(*runs)
    other = ActiveLearningClassifier(
        logreg(), query_strategy="random", n_queries=3, initial_size=15, random_state=8
    ).fit(X, y)
    assert not np.array_equal(other.labeled_indices_, runs[0])


def test_teach_grows_labeled_set_and_learns_new_class(digits_xy):
    X, y = digits_xy
    mask = y < 5
    learner = ActiveLearningClassifier(logreg()).fit(X[mask][:100], y[mask][:100])
    np.testing.assert_array_equal(learner.classes_, np.arange(5))
    new = np.flatnonzero(~mask)[:50]
    learner.teach(X[new], y[new])
    assert learner.n_labeled_ == 150
    np.testing.assert_array_equal(learner.classes_, np.arange(10))
    assert learner.predict_proba(X[:3]).shape == (3, 10)
    np.testing.assert_array_equal(learner.y_labeled_[:100], y[mask][:100])
    assert learner.history_[-1]["n_labeled"] == 150


def test_failed_teach_leaves_learner_untouched(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(logreg()).fit(X[:100], y[:100])
    before = (learner.X_labeled_.copy(), learner.y_labeled_.copy(), learner.predict_proba(X))
    bad_calls = [
        (X[:3], y[:2], "samples"),
        (X[:3], np.array([1, -1, 2]), "-1"),
        (X[:3, :10], y[:3], "features"),
        (np.where(np.eye(3, 64) > 0, np.nan, X[:3]), y[:3], "NaN"),
    ]
    for Xb, yb, match in bad_calls:
        with pytest.raises(ValueError, match=match):
            learner.teach(Xb, yb)
        np.testing.assert_array_equal(learner.X_labeled_, before[0])
        np.testing.assert_array_equal(learner.y_labeled_, before[1])
        np.testing.assert_array_equal(learner.predict_proba(X), before[2])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"query_strategy": "nope"}, "query_strategy"),
        ({"query_strategy": 3}, "query_strategy"),
        ({"n_instances": 0}, "n_instances"),
        ({"n_queries": -1}, "n_queries"),
        ({"initial_size": 0}, "initial_size"),
        ({"initial_size": 5000, "n_queries": 1}, "initial_size"),
        ({"pool_batch_size": 0}, "pool_batch_size"),
        ({"estimator": "svm"}, "estimator"),
        ({"store_round_estimators": "yes"}, "store_round_estimators"),
        ({"store_round_estimators": None}, "store_round_estimators"),
        ({"semi_supervised": "spreading"}, "semi_supervised"),
    ],
)
def test_bad_parameters_name_themselves(digits_xy, params, match):
    X, y = digits_xy
    with pytest.raises((ValueError, TypeError), match=match):
        ActiveLearningClassifier(logreg(), **params).fit(X, y)


def test_bad_inputs(digits_xy):
    X, y = digits_xy
    with pytest.raises(NotFittedError):
        ActiveLearningClassifier(logreg()).query(X)
    learner = ActiveLearningClassifier(logreg()).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="features"):
        learner.query(X[:, :10])
    with pytest.raises(ValueError, match="empty"):
        learner.query(X[:0])
    from scipy import sparse

    with pytest.raises(TypeError, match="sparse matrix.*toarray"):
        learner.query(sparse.csr_matrix(X[100:]))
    X_nan = X[100:].copy()
    X_nan[3, 3] = np.inf
    with pytest.raises(ValueError, match="infinity|X_pool"):
        learner.query(X_nan)
    with pytest.raises(ValueError, match="n_instances"):
        learner.query(X, 0)
    with pytest.raises(ValueError, match="NaN"):
        ActiveLearningClassifier(logreg()).fit(np.where(X > 0.5, np.nan, X), y)
    with pytest.raises(ValueError, match="one class"):
        ActiveLearningClassifier(logreg()).fit(X[y == 1], y[y == 1])
    y_partial = y.copy()
    y_partial[5] = -1
    with pytest.raises(ValueError, match="-1"):
        ActiveLearningClassifier(logreg(), n_queries=2).fit(X, y_partial)
    no_proba = ActiveLearningClassifier(SVC()).fit(X[:100], y[:100])
    with pytest.raises(TypeError, match="predict_proba.*CalibratedClassifierCV"):
        no_proba.query(X[100:])
    # no MC passes: a committee of bootstrap clones instead (test_strategies.py)
    committee = ActiveLearningClassifier(logreg(), query_strategy="vote_entropy").fit(X[:100],
                                                                                      y[:100])
    assert len(committee.query(X[100:], 4)) == 4
    assert len(no_proba.set_params(query_strategy="random").query(X[100:], 4)) == 4


def test_pool_as_iterable_of_chunks(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(logreg(), pool_batch_size=50).fit(X[:100], y[:100])
    full = learner.query(X[100:], 20)
    chunks = (X[i : i + 77] for i in range(100, len(X), 77))
    np.testing.assert_array_equal(learner.query(chunks, 20), full)


def test_clone_and_pickle(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(logreg(), query_strategy="margin", n_queries=2,
                                       random_state=0)
    cloned = clone(learner)
    assert cloned.get_params()["query_strategy"] == "margin"
    learner.fit(X, y)
    restored = pickle.loads(pickle.dumps(learner))
    np.testing.assert_array_equal(restored.query(X), learner.query(X))


def test_learner_last_step_of_pipeline(digits_xy):
    X, y = digits_xy
    pipe = make_pipeline(
        MinMaxScaler(), ActiveLearningClassifier(logreg(), n_queries=3, initial_size=30)
    )
    pipe.set_params(activelearningclassifier__random_state=0)
    pipe.fit(X * 16, y)
    assert pipe[-1].n_labeled_ == 60
    assert pipe.score(X * 16, y) > 0.7


def test_cross_val_score_is_stratified_for_the_learner(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(logreg(), n_queries=2, initial_size=30, random_state=0)
    scores = cross_val_score(learner, X, y, cv=3)
    manual = [
        clone(learner).fit(X[tr], y[tr]).score(X[te], y[te])
        for tr, te in StratifiedKFold(3).split(X, y)
    ]
    np.testing.assert_allclose(scores, manual)


# ---------------------------------------------------------------- with the Keras CNN
def test_cnn_campaign_warm_start_and_teach(make_cnn, digits):
    X_tr, X_te, y_tr, y_te = digits
    learner = ActiveLearningClassifier(
        make_cnn(), n_queries=2, n_instances=10, initial_size=20, warm_start=True, random_state=0
    ).fit(X_tr, y_tr)
    model = learner.estimator_.model_
    idx = learner.query(X_te, 5)
    np.testing.assert_array_equal(idx, learner.query(X_te, 5))  # query is a pure function
    learner.teach(X_te[idx], y_te[idx])
    assert learner.estimator_.model_ is model  # fine-tuned, not rebuilt
    assert learner.n_labeled_ == 45
    assert learner.predict_proba(X_te).shape == (len(X_te), len(learner.classes_))


def test_cnn_campaign_reuses_the_network_without_changing_results(make_cnn, digits):
    X_tr, X_te, y_tr, _ = digits
    learner = ActiveLearningClassifier(
        make_cnn(), n_queries=3, n_instances=15, initial_size=40, random_state=0
    )
    models = []
    campaign = Campaign(
        learner, X_tr, y_tr, callbacks=[lambda c: models.append(c.estimator_.model_)]
    )
    learner = ActiveLearningClassifier.from_campaign(campaign.run())
    assert len(models) == 4 and all(m is models[0] for m in models)  # traced once
    labeled = learner.labeled_indices_
    fresh = clone(make_cnn()).fit(X_tr[labeled], y_tr[labeled])
    np.testing.assert_array_equal(learner.predict_proba(X_te), fresh.predict_proba(X_te))


def test_cnn_around_pipeline_and_nested_params(make_cnn, digits):
    X_tr, X_te, y_tr, y_te = digits
    learner = ActiveLearningClassifier(
        make_pipeline(MinMaxScaler(), make_cnn()), query_strategy="entropy", n_queries=1,
        initial_size=30, random_state=0,
    )
    learner.set_params(estimator__cnnclassifier__epochs=2)
    assert learner.get_params()["estimator__cnnclassifier__epochs"] == 2
    learner.fit(X_tr * 16, y_tr)
    assert learner.estimator_[-1].epochs == 2
    idx, scores = learner.query(X_te * 16, 5, return_scores=True)
    expected = entropy(learner.predict_proba(X_te * 16))
    np.testing.assert_allclose(scores, expected[idx], rtol=1e-5)


def test_grid_search_over_query_strategy_with_cnn(make_cnn, digits):
    X_tr, _, y_tr, _ = digits
    X, y = X_tr[:300], y_tr[:300]  # 2 folds of 150: each campaign 40 -> 60 labels
    learner = ActiveLearningClassifier(
        make_cnn(epochs=2), n_queries=1, n_instances=20, initial_size=40, random_state=0
    )
    grid = {"query_strategy": ["random", "entropy", "margin", "least_confident"]}
    search = GridSearchCV(learner, grid, cv=2).fit(X, y)
    assert search.best_params_["query_strategy"] in grid["query_strategy"]
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert search.best_estimator_.n_labeled_ == 60
    # each candidate's score is exactly what fitting that learner on the fold gives
    tr, te = next(StratifiedKFold(2).split(X, y))
    margin_learner = clone(learner).set_params(query_strategy="margin").fit(X[tr], y[tr])
    assert search.cv_results_["split0_test_score"][2] == pytest.approx(
        margin_learner.score(X[te], y[te])
    )


def test_teach_is_the_campaigns_answer_and_refit(digits_xy):
    from skal import PseudoLabels

    X, y = digits_xy
    partial = np.r_[y[:40], [-1] * 260]
    learner = ActiveLearningClassifier(
        logreg(), semi_supervised=PseudoLabels(threshold=0.5), query_strategy="auto",
        random_state=0,
    ).fit(X[:300], partial)
    assert learner.history_[-1]["n_pseudo_labeled"] == 0  # the first fit has no model yet
    idx = learner.query(X[300:400], 5)
    learner.teach(X[300:400][idx], y[300:400][idx])
    assert learner.history_[-1]["n_pseudo_labeled"] > 0  # teach honours semi_supervised
    campaign = learner.campaign_
    assert learner.n_labeled_ == 45 and len(campaign.X) == 305  # the pool grew
    np.testing.assert_array_equal(learner.X_labeled_[-5:], X[300:400][idx])
    assert learner.estimator_ is campaign.estimator_  # read, not copied
    assert learner.history_ is campaign.history_


def test_teach_records_the_strategy_the_campaign_records(digits_xy, tmp_path):
    from skal import LabelJournal

    X, y = digits_xy
    path = tmp_path / "j.sqlite"
    learner = ActiveLearningClassifier(
        logreg(), query_strategy="auto", n_queries=1, initial_size=20, random_state=0,
        journal=path,
    ).fit(X[:300], y[:300])
    idx, scores = learner.query(X[:300], 3, return_scores=True)
    learner.teach(X[idx], y[idx], sample_ids=idx, scores=scores)
    with LabelJournal(path) as journal:
        records = journal.records()
    assert {r["strategy"] for r in records[20:30]} == {"auto:probcover"}  # fit's round
    name = learner.campaign_.strategy_name  # auto's choice of the teach's query
    assert name.startswith("auto:") and {r["strategy"] for r in records[-3:]} == {name}


# (how y marks the unlabeled rows; what cross_val_score's default stratified split does:
# None = scores the labeled rows only, or the error scikit-learn's splitter raises first)
MARKERS = [
    ("-1", lambda y: np.where(np.arange(len(y)) % 3 == 0, -1, y), None),
    ("NaN", lambda y: np.where(np.arange(len(y)) % 3 == 0, np.nan, y.astype(float)),
     "Input y contains NaN"),
    ("None", lambda y: np.array([None if i % 3 == 0 else f"c{v}" for i, v in enumerate(y)],
                                dtype=object), None),
    ("pd.NA", lambda y: __import__("pandas").Series(
        [__import__("pandas").NA if i % 3 == 0 else f"c{v}" for i, v in enumerate(y)],
        dtype=object), None),
]


@pytest.mark.parametrize("name, mark, default_refusal", MARKERS, ids=[m[0] for m in MARKERS])
def test_cross_validation_never_scores_an_unlabeled_row(digits_xy, name, mark,
                                                        default_refusal):
    from sklearn.model_selection import cross_val_score

    from skal.model_selection import LabeledTestSplit

    X, y = digits_xy
    X, y = X[:300], y[:300]
    y_marked = mark(y)
    labeled = np.flatnonzero(np.arange(300) % 3 != 0)
    learner = ActiveLearningClassifier(logreg())
    if default_refusal is None:
        default = cross_val_score(learner, X, y_marked, cv=3)  # the learner's score
        assert np.all(default > 0.8)  # a marker scored as a class would give ~0.6
    else:
        with pytest.raises(ValueError, match=default_refusal):
            cross_val_score(learner, X, y_marked, cv=3, error_score="raise")
    split = LabeledTestSplit(cv=3)
    for train, test in split.split(X, y_marked):
        assert set(test) <= set(labeled) and set(np.arange(300)) - set(labeled) <= set(train)
    scored = cross_val_score(learner, X, y_marked, cv=split, scoring="accuracy")
    assert np.all(scored > 0.8) and split.get_n_splits() == 3
    fitted = learner.fit(X[labeled], np.asarray(y_marked, dtype=object)[labeled].tolist())
    assert fitted.score(X, y_marked) == fitted.score(X[labeled], np.asarray(y_marked)[labeled])
    with pytest.raises(ValueError, match="no labeled rows to score"):
        fitted.score(X[:1], np.asarray(y_marked)[:1])


def test_a_modal_query_function_is_accepted_as_it_is(digits_xy):
    X, y = digits_xy

    def margin_sampling(classifier, X, n_instances=1, random_tie_break=False, **kwargs):
        """modAL.uncertainty.margin_sampling's signature and answer, as modAL 0.4 has them."""
        proba = np.sort(classifier.predict_proba(X, **kwargs), axis=1)
        idx = np.argsort(proba[:, -1] - proba[:, -2], kind="stable")[:n_instances]
        return idx, X[idx]

    learner = ActiveLearningClassifier(logreg(), query_strategy=margin_sampling)
    learner.fit(X[:100], y[:100])
    theirs = learner.query(X[100:], 5)
    ours = learner.set_params(query_strategy="margin").query(X[100:], 5)
    np.testing.assert_array_equal(theirs, ours)


def test_a_trained_model_queries_before_any_fit_on_labels(digits_xy):
    from sklearn.frozen import FrozenEstimator

    X, y = digits_xy
    trained = logreg().fit(X[:300], y[:300])
    before = trained.coef_.copy()
    learner = ActiveLearningClassifier(FrozenEstimator(trained), query_strategy="margin")
    learner.fit(X[300:], np.full(len(X) - 300, -1))  # no label: the model as it is
    assert learner.n_labeled_ == 0 and learner.history_[0]["prefit"] is True
    np.testing.assert_array_equal(learner.predict(X[:50]), trained.predict(X[:50]))
    idx = learner.query(X[300:], 5)  # chosen by the trained model
    margin = np.diff(np.sort(trained.predict_proba(X[300:]), axis=1)[:, -2:], axis=1).ravel()
    np.testing.assert_array_equal(idx, np.argsort(margin, kind="stable")[:5])
    learner.teach(X[300:][idx], y[300:][idx])
    assert learner.n_labeled_ == 5
    np.testing.assert_array_equal(trained.coef_, before)  # the user's model is not changed

    warm = ActiveLearningClassifier(logreg().fit(X[:300], y[:300]), warm_start=True)
    warm.fit(X[300:], np.full(len(X) - 300, -1))
    assert warm.query(X[300:], 3).shape == (3,)
    with pytest.raises(ValueError, match="start_from needs a fitted estimator"):
        from skal import Campaign

        Campaign(warm, X).start_from(logreg())


def _readme_loop(X, y, y_known, strategy, rounds=6):
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=300), query_strategy=strategy,
                                       random_state=0).fit(X, y_known)
    asked = []
    for _ in range(rounds):
        idx = learner.query(X, n_instances=10)
        asked += idx.tolist()
        learner.teach(X[idx], y[idx])
    return learner, asked


@pytest.mark.parametrize("strategy", ["random", "margin", "auto"])
def test_the_readme_loop_never_asks_a_labeled_row_nor_copies_one(digits_xy, strategy):
    # query(X) returned labeled rows and teach(X[idx]) appended copies of pool rows:
    # n_labeled_ overcounted and the copies trained twice.
    X, y = digits_xy[0][:300], digits_xy[1][:300]
    y_known = np.full(300, -1)
    y_known[:30] = y[:30]
    learner, asked = _readme_loop(X, y, y_known, strategy)
    assert len(set(asked)) == len(asked) == 60 and not set(asked) & set(range(30))
    assert learner.n_labeled_ == 90 and len(learner.campaign_.X) == 300
    assert sorted(learner.labeled_indices_.tolist()) == sorted([*range(30), *asked])


def test_teach_answers_pool_rows_in_place_and_adds_new_ones(digits_xy):
    X, y = digits_xy[0][:300], digits_xy[1][:300]
    y_known = np.full(300, -1)
    y_known[:30] = y[:30]
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=300), query_strategy="margin",
                                       random_state=0).fit(X[:250], y_known[:250])
    new = X[250:253]  # not in the pool: they join it
    learner.teach(np.vstack([X[40:42], new]), y[[40, 41, 250, 251, 252]])
    assert learner.labeled_indices_[-5:].tolist() == [40, 41, 250, 251, 252]
    assert len(learner.campaign_.X) == 253
    learner.teach(X[40:41], [(y[40] + 1) % 10])  # a labeled row again: relabeled
    assert learner.n_labeled_ == 35 and len(learner.campaign_.X) == 253
    assert learner.y_labeled_[learner.labeled_indices_.tolist().index(40)] == (y[40] + 1) % 10
    assert 40 not in learner.query(X[:250], n_instances=250).tolist()
    assert len(learner.query(X[:250], n_instances=250)) == 250 - 35 + 3
