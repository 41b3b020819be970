"""Cold-start strategies (TypiClust, ProbCover) and "auto", on real pools: well-separated
Gaussian blobs, digits, DataFrames and memmaps; bad options in a table."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier, Campaign
from skal.strategies import (
    AutoStrategy,
    DiverseMiniBatch,
    ProbCover,
    QueryContext,
    RandomSampling,
    TypiClust,
    UncertaintySampling,
    resolve_strategy,
    select_batch,
)
from skal.strategies._auto import model_skill

N_BLOBS, PER_BLOB, DIM = 5, 40, 10
COLD = [TypiClust(), ProbCover()]


class EmbeddingLogReg(LogisticRegression):
    """A user's model with embeddings: the features themselves."""

    def embed(self, X, return_proba=False):
        X = np.asarray(X, dtype=float)
        return (X, self.predict_proba(X)) if return_proba else X


@pytest.fixture(scope="module")
def blobs():
    """Five blobs of 40 in 10-D, centres 20 apart (unit spread), shuffled."""
    rng = np.random.default_rng(0)
    centres = 20 * rng.standard_normal((N_BLOBS, DIM))
    X = np.repeat(centres, PER_BLOB, axis=0) + rng.standard_normal((N_BLOBS * PER_BLOB, DIM))
    blob = np.repeat(np.arange(N_BLOBS), PER_BLOB)
    order = rng.permutation(len(X))
    X, blob = X[order], blob[order]
    model = LogisticRegression().fit(X, blob)  # any fitted classifier: 5 classes
    return X, blob, centres, model


def clone_fit(model, X, y):
    return clone(model).fit(X, y)


def ask(strategy, model, X, n, seed=0, **context):
    return select_batch(resolve_strategy(strategy), model, X, n,
                        QueryContext(random_state=seed, **context))


@pytest.mark.parametrize("strategy", COLD, ids=repr)
def test_one_pick_per_blob_near_its_centre(blobs, strategy):
    X, blob, centres, model = blobs
    idx, scores = ask(strategy, model, X, N_BLOBS)
    assert sorted(blob[idx].tolist()) == list(range(N_BLOBS))  # every blob covered once
    assert len(scores) == N_BLOBS and np.isfinite(scores).all()
    if isinstance(strategy, TypiClust):
        # the most typical sample: among the quarter of its blob nearest the true centre
        for i in idx:
            d = np.linalg.norm(X[blob == blob[i]] - centres[blob[i]], axis=1)
            assert np.linalg.norm(X[i] - centres[blob[i]]) <= np.quantile(d, 0.25)
    else:
        assert np.all(np.diff(scores) <= 0)  # newly covered: non-increasing
        assert scores.sum() >= 0.9 * len(X)  # the 5 balls cover (nearly) the whole pool


@pytest.mark.parametrize("strategy", COLD, ids=repr)
def test_blobs_already_labeled_are_skipped(blobs, strategy):
    X, blob, _, model = blobs
    labeled = np.flatnonzero(blob <= 1)[[0, 1, -1]]  # samples of blobs 0 and 1
    idx, _ = ask(strategy, model, X, 3, X_labeled=X[labeled], y_labeled=blob[labeled])
    assert sorted(blob[idx].tolist()) == [2, 3, 4]
    assert not set(idx) & set(labeled.tolist())  # the labeled rows are not in the pool here


@pytest.mark.parametrize("strategy", COLD, ids=repr)
def test_same_seed_same_batch_whatever_the_chunking(blobs, strategy):
    X, _, _, model = blobs
    idx, scores = ask(strategy, model, X, 12, seed=3)
    for size in (1, 7, 64):
        again = ask(strategy, model, X, 12, seed=3, pool_batch_size=size)
        np.testing.assert_array_equal(again[0], idx)
        np.testing.assert_allclose(again[1], scores)
    chunks = (X[i : i + 9] for i in range(0, len(X), 9))  # a one-shot iterable
    np.testing.assert_array_equal(ask(strategy, model, chunks, 12, seed=3)[0], idx)
    assert len(np.unique(idx)) == 12


@pytest.mark.parametrize("strategy", COLD, ids=repr)
def test_dataframe_and_memmap_pools_give_the_array_batch(blobs, strategy, tmp_path):
    X, _, _, model = blobs
    expected = ask(strategy, model, X, 6, seed=1)[0]
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(DIM)])
    np.testing.assert_array_equal(ask(strategy, model, frame, 6, seed=1)[0], expected)
    mm = np.memmap(tmp_path / "pool.dat", dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.memmap(tmp_path / "pool.dat", dtype=np.float64, mode="r", shape=X.shape)
    np.testing.assert_array_equal(ask(strategy, model, ro, 6, seed=1, pool_batch_size=50)[0],
                                  expected)


@pytest.mark.parametrize("cls", [TypiClust, ProbCover])
def test_max_candidates_subsamples_the_pool_with_the_seed(blobs, cls):
    X, _, _, model = blobs
    strategy = cls(max_candidates=30)
    a, b = ask(strategy, model, X, 40, seed=0)[0], ask(strategy, model, X, 40, seed=1)[0]
    assert len(a) == len(np.unique(a)) == 30  # only the 30 candidates can be picked
    np.testing.assert_array_equal(ask(strategy, model, X, 40, seed=0, pool_batch_size=7)[0], a)
    assert set(a) != set(b)  # another seed, another subsample
    # the whole pool when it is smaller than the batch: each sample once
    idx, _ = ask(cls(), model, X[:17], 50)
    assert sorted(idx.tolist()) == list(range(17))
    assert len(ask(cls(), model, X[:1], 5)[0]) == 1


def test_the_three_embeddings(blobs):
    X, blob, _, _ = blobs
    model = EmbeddingLogReg().fit(X, blob)
    for embedding in ("pca", "raw", "model"):
        for cls in (TypiClust, ProbCover):
            idx, _ = ask(cls(embedding=embedding), model, X, N_BLOBS)
            assert sorted(blob[idx].tolist()) == list(range(N_BLOBS)), (cls, embedding)
    # a model without embed: "model" is what it sees, here the raw features
    plain = LogisticRegression().fit(X, blob)
    for cls in (TypiClust, ProbCover):
        assert cls().requires == () == cls(embedding="model").requires
        np.testing.assert_array_equal(ask(cls(embedding="model"), plain, X, 7)[0],
                                      ask(cls(embedding="raw"), plain, X, 7)[0])


def test_features_that_are_not_numbers_are_explained(blobs):
    X, blob, _, model = blobs
    frame = pd.DataFrame({"colour": ["red", "blue"] * 10, "size": np.arange(20.0)})
    for strategy in COLD:
        with pytest.raises(ValueError, match="raw features, which must be numbers.*Pipeline "
                                             "whose first steps turn them into numbers.*'model'"):
            ask(strategy, model, frame, 3)


def city_frame(blobs):
    """The blobs as a DataFrame whose first coordinate is a string column ('c<blob>') and
    a Pipeline that one-hot encodes it; and the same numbers as an array."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, blob, _, _ = blobs
    frame = pd.DataFrame(X[:, 1:], columns=[f"x{j}" for j in range(1, DIM)])
    frame.insert(0, "city", [f"c{b}" for b in blob])
    encode = ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough",
                               sparse_threshold=1.0)  # a sparse output: densified
    numbers = np.column_stack([np.eye(N_BLOBS)[blob], X[:, 1:]])
    return frame, Pipeline([("encode", encode), ("model", LogisticRegression())]), numbers


@pytest.mark.parametrize("strategy", COLD, ids=repr)
def test_a_string_column_is_read_through_the_pipelines_preprocessing(blobs, strategy):
    _, blob, _, _ = blobs
    frame, pipe, numbers = city_frame(blobs)
    plain = LogisticRegression().fit(numbers, blob)
    expected = ask(strategy, plain, numbers, N_BLOBS + 2, X_labeled=numbers[:3])
    # fitted: its ColumnTransformer's output, which is the numbers
    pipe.fit(frame, blob)
    got = ask(strategy, pipe, frame, N_BLOBS + 2, X_labeled=frame.iloc[:3])
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1])
    # not fitted yet (a query before the first fit): its preprocessing is fitted without
    # labels on the pool, so the same batch (as an unfitted model's: no classes known)
    from sklearn.base import clone

    np.testing.assert_array_equal(ask(strategy, clone(pipe), frame, N_BLOBS + 2)[0],
                                  ask(strategy, LogisticRegression(), numbers, N_BLOBS + 2)[0])
    # through a learner, in a short campaign
    learner = ActiveLearningClassifier(clone(pipe), query_strategy=strategy, n_queries=1,
                                       n_instances=5, initial_size=10, random_state=0)
    assert learner.fit(frame, blob).n_labeled_ == 15


def test_a_preprocessing_that_needs_labels_is_explained(blobs):
    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import TargetEncoder

    frame, _, _ = city_frame(blobs)
    pipe = make_pipeline(ColumnTransformer([("city", TargetEncoder(), ["city"])],
                                           remainder="passthrough"), LogisticRegression())
    for strategy in COLD:
        with pytest.raises(ValueError, match="not fitted yet and cannot be fitted without "
                                             "labels.*fit the learner first"):
            ask(strategy, clone(pipe), frame, 3)


NOT_FINITE = [np.nan, np.inf, -np.inf]  # a value one sample of the pool holds


@pytest.mark.parametrize("value", NOT_FINITE)
@pytest.mark.parametrize("strategy", COLD, ids=repr)
def test_a_pool_with_nan_or_infinity_is_explained(blobs, strategy, value):
    X, _, _, model = blobs
    bad = X.copy()
    bad[7, 3] = value
    with pytest.raises(ValueError, match="must be finite, but 1 sample.*impute"):
        ask(strategy, model, bad, 3)


# (class, option, bad value): each fails at resolve_strategy, naming the option
BAD_OPTIONS = [
    (TypiClust, "embedding", "foo"),
    (TypiClust, "max_candidates", 0),
    (TypiClust, "n_neighbors", 0),
    (ProbCover, "delta", -1),
    (ProbCover, "delta", 0),
    (ProbCover, "delta", "big"),
    (ProbCover, "purity", 1.0),
    (ProbCover, "embedding", "foo"),
    (ProbCover, "max_candidates", 0),
    (AutoStrategy, "low_budget_per_class", -1),
    (AutoStrategy, "min_skill", -0.1),
    (AutoStrategy, "min_skill", 1.5),
    (AutoStrategy, "min_skill", "0.3"),
]


@pytest.mark.parametrize("cls, option, value", BAD_OPTIONS,
                         ids=[f"{c.__name__}-{o}-{v!r}" for c, o, v in BAD_OPTIONS])
def test_a_bad_option_fails_at_fit_naming_it(digits_xy, cls, option, value):
    X, y = digits_xy
    strategy = cls(**{option: value})
    with pytest.raises(ValueError, match=f"'{option}' parameter of {cls.__name__}"):
        resolve_strategy(strategy)
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100),
                                       query_strategy=strategy, n_queries=1)
    with pytest.raises(ValueError, match=f"'{option}' parameter of {cls.__name__}"):
        learner.fit(X[:100], y[:100])


# ------------------------------------------------------------------------ auto
@pytest.mark.parametrize("model_cls, warm", [(LogisticRegression, "margin"),
                                             (EmbeddingLogReg, "diverse_margin")])
def test_auto_switches_exactly_at_the_threshold(blobs, model_cls, warm):
    X, blob, _, _ = blobs
    model = model_cls().fit(X, blob)  # 5 classes: 3 per class -> ProbCover below 15 labels
    auto = AutoStrategy()
    components = {"probcover": ProbCover(), "margin": UncertaintySampling("margin"),
                  "diverse_margin": DiverseMiniBatch()}
    for n_labels, expected in [(0, "probcover"), (14, "probcover"), (15, warm), (16, warm)]:
        context = dict(X_labeled=X[:n_labels], y_labeled=blob[:n_labels])
        idx, _ = ask(auto, model, X[n_labels:], 5, seed=2, **context)
        assert auto.last_choice_ == expected, n_labels
        assert auto.choose(model, QueryContext(**context))[0] == expected
        np.testing.assert_array_equal(
            idx, ask(components[expected], model, X[n_labels:], 5, seed=2, **context)[0])
    # no label and no classes_ known: the budget is low; 0 per class: never ProbCover
    assert auto.choose(None, QueryContext())[0] == "probcover"
    assert AutoStrategy(0).choose(model, QueryContext())[0] == warm


@pytest.mark.parametrize("name", ["typiclust", "probcover", "auto"])
def test_end_to_end_in_a_learner_on_digits(digits_xy, name):
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=1000), query_strategy=name,
                                       n_queries=3, random_state=0)
    learner.fit(X[:600], y[:600])
    assert learner.n_labeled_ == 10 + 3 * 10
    assert learner.score(X[600:], y[600:]) > 0.5
    idx = learner.query(X[600:], 10)
    assert len(np.unique(idx)) == 10
    np.testing.assert_array_equal(learner.query(X[600:], 10), idx)  # same seed, same batch


def test_auto_in_a_campaign_reports_its_component(digits_xy, tmp_path):
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=1000), query_strategy="auto",
                                       n_instances=10, initial_size=10, random_state=0)
    journal = tmp_path / "labels.db"
    campaign = Campaign(learner, X[:600], y[:600], journal=journal)
    campaign.run(n_queries=1)  # 10 labels, 10 classes
    assert campaign.strategy.last_choice_ == "probcover"
    campaign.run(n_queries=1)  # 20 labels: still below 3 per class
    assert campaign.strategy.last_choice_ == "probcover"
    campaign.run(n_queries=1)  # 30 labels: the threshold
    assert campaign.strategy.last_choice_ == "margin"  # LogisticRegression has no embed
    # The journal names the component that picked each label (whose scores it keeps).
    rounds = {r["round"]: r["strategy"] for r in campaign.journal_.records()}
    assert rounds == {0: "initial", 1: "auto:probcover", 2: "auto:probcover",
                      3: "auto:margin"}
    batch = campaign.next_batch(5)  # a hand-out says it too
    assert campaign.handout(batch[0]).reason == "auto:margin"


def test_auto_falls_back_to_random_when_the_embedding_ignores_the_classes(blobs):
    X, blob, _, _ = blobs
    model = LogisticRegression().fit(X, blob)
    auto = AutoStrategy(low_budget_per_class=100)  # stay in the low regime
    labeled = np.arange(0, len(X), max(1, len(X) // 12))[:12]
    follows = QueryContext(random_state=0, X_labeled=X[labeled], y_labeled=blob[labeled])
    assert auto.choose(model, follows, X)[0] == "probcover"
    noise = np.tile(np.arange(2), 6)  # two labels that cut across every blob
    ignores = QueryContext(random_state=0, X_labeled=X[labeled], y_labeled=noise)
    assert auto.choose(model, ignores, X)[0] == "random"
    idx, _ = ask(auto, model, X, 5, seed=3, X_labeled=X[labeled], y_labeled=noise)
    assert auto.last_choice_ == "random"
    np.testing.assert_array_equal(
        idx, ask(RandomSampling(), model, X, 5, seed=3, X_labeled=X[labeled],
                 y_labeled=noise)[0])
    assert auto.choose(model, ignores)[0] == "probcover"  # no pool given: not checked
    # A class with a single label (as random initial sets have) is left out of the check
    # instead of skipping it: the other labels still show the embedding ignores them.
    lone = np.append(noise, 2)
    with_lone = QueryContext(random_state=0, X_labeled=X[np.append(labeled, 0)],
                             y_labeled=lone)
    assert auto.choose(model, with_lone, X)[0] == "random"


def _noisy_blobs(blobs, n_labels, seed=0):
    """The blobs' first n_labels rows with labels drawn at random: nothing to learn."""
    X, blob, _, _ = blobs
    return X, np.random.default_rng(seed).integers(0, N_BLOBS, n_labels)


def test_auto_trusts_uncertainty_only_from_a_model_with_skill(blobs):
    X, blob, _, _ = blobs
    model = LogisticRegression()
    # real labels: a skilled model from the first check on (3 per class = 15 labels)
    auto = AutoStrategy()
    context = QueryContext(random_state=0, X_labeled=X[:40], y_labeled=blob[:40])
    fitted = clone_fit(model, X[:40], blob[:40])
    idx, _ = select_batch(auto, fitted, X[40:], 5, context)
    assert auto.last_choice_ == "margin" and list(auto.skill_) == [15]
    assert auto.skill_[15] > 0.5  # 10 labels for 5 classes: a fold may miss one
    np.testing.assert_array_equal(
        idx, ask(UncertaintySampling("margin"), fitted, X[40:], 5, X_labeled=X[:40],
                 y_labeled=blob[:40])[0])
    # labels that the features do not predict: checked on 15 and 30 labels, never trusted,
    # so the batch is random sampling's
    _, noise = _noisy_blobs(blobs, 40)
    fitted = clone_fit(model, X[:40], noise)
    context = QueryContext(random_state=0, X_labeled=X[:40], y_labeled=noise)
    idx, _ = select_batch(auto, fitted, X[40:], 5, context)
    assert auto.last_choice_ == "random" and list(auto.skill_) == [15, 30]
    assert max(auto.skill_.values()) < 0.25
    np.testing.assert_array_equal(
        idx, ask(RandomSampling(), fitted, X[40:], 5, X_labeled=X[:40], y_labeled=noise)[0])
    # min_skill=0 trusts every model and checks nothing
    trusting = AutoStrategy(min_skill=0)
    assert trusting.choose(fitted, context)[0] == "margin"
    assert not hasattr(trusting, "skill_")


def test_auto_skill_is_a_function_of_the_labels_prefix(blobs):
    """Once a prefix shows skill the model stays trusted, whenever the check runs: a resumed
    campaign (a fresh strategy) asks what the uninterrupted one asked."""
    X, blob, _, _ = blobs
    _, noise = _noisy_blobs(blobs, 60, seed=1)
    y = np.concatenate([blob[:15], noise[15:]])  # 15 good labels, then 45 random ones
    fitted = clone_fit(LogisticRegression(), X[:60], y)
    context = QueryContext(random_state=0, X_labeled=X[:60], y_labeled=y)
    first, resumed = AutoStrategy(), AutoStrategy()
    assert first.choose(fitted, context)[0] == "margin"
    assert list(first.skill_) == [15]  # trusted on the first prefix: no later check
    assert resumed.choose(fitted, context)[0] == "margin" and resumed.skill_ == first.skill_
    # the same labels in another order: the prefix of 15 is noisy now, and so are 30 and 60
    late = np.concatenate([noise[15:], blob[:15]])
    context = QueryContext(random_state=0, X_labeled=np.vstack([X[15:60], X[:15]]),
                           y_labeled=late)
    assert AutoStrategy().choose(fitted, context)[0] == "random"


@pytest.mark.parametrize("model, why", [
    (FrozenEstimator(LogisticRegression().fit(np.eye(5), np.arange(5))), "frozen"),
    (LogisticRegression(), "one class"),
])
def test_model_skill_says_none_where_it_cannot_tell(blobs, model, why):
    X, blob, _, _ = blobs
    y = np.zeros(15, dtype=int) if why == "one class" else blob[:15]
    X15 = X[:15] if why == "one class" else np.eye(5)[blob[:15]]
    assert model_skill(model, X15, y) is None


# ------------------------------------------------------------------------ options count
@pytest.fixture(scope="module")
def digits300(digits_xy):
    X, y = digits_xy
    return X[:300], LogisticRegression(max_iter=200).fit(X[:50], y[:50])


def test_probcover_delta_is_the_ball_radius(digits300):
    # delta is in the PCA embedding's units, where digits' rows are ~3 apart
    X, model = digits300
    _, huge = ask(ProbCover(delta=100.0), model, X, 5)
    assert huge.tolist() == [len(X), 0, 0, 0, 0]  # one ball covers the whole pool
    _, small = ask(ProbCover(delta=3.0), model, X, 5)
    assert 1 < small[0] < 20 and np.all(small > 0)  # each ball a handful of rows


def test_probcover_purity_sets_the_automatic_radius(digits300):
    # a higher share of pure balls needs a smaller radius: fewer rows per ball
    X, model = digits300
    first = [ask(ProbCover(purity=p), model, X, 3)[1][0] for p in (0.5, 0.95, 0.99)]
    assert np.all(np.diff(first) < 0), first


def test_the_skill_cache_is_bounded_and_keyed_by_model_and_labels(blobs, monkeypatch):
    from skal.strategies import _auto

    X, blob, _, _ = blobs
    monkeypatch.setattr(_auto, "_SKILLS", {})
    monkeypatch.setattr(_auto, "_SKILLS_KEPT", 3)
    first = _auto._cached_skill(LogisticRegression(), X[:15], blob[:15])
    assert first == model_skill(LogisticRegression(), X[:15], blob[:15])
    # another model on the same labels is another entry, not the first one's answer
    other = _auto._cached_skill(LogisticRegression(C=1e-4), X[:15], blob[:15])
    assert other != first and len(_auto._SKILLS) == 2
    for m in range(16, 20):  # four other prefixes: the oldest entries make way
        _auto._cached_skill(LogisticRegression(), X[:m], blob[:m])
    assert len(_auto._SKILLS) == 3
