"""Query strategies without Keras: the scoring functions on hand-computed values, stub
models that make each strategy's defining property visible, bad options (all caught by
resolve_strategy), select_batch with user callables, and the package's structure."""

import ast
import dataclasses
import doctest
import importlib
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import skal.strategies
from skal import ActiveLearningClassifier
from skal.strategies import (
    BADGE,
    STRATEGIES,
    AutoStrategy,
    Committee,
    CoreSet,
    DiverseMiniBatch,
    GreedySampling,
    InformationDensity,
    MCDropoutSampling,
    MultilabelUncertainty,
    ProbCover,
    QueryContext,
    QueryStrategy,
    RandomSampling,
    RareClassSampling,
    TypiClust,
    UncertaintySampling,
    VarianceSampling,
    bald,
    entropy,
    get_strategy,
    kl_divergence,
    least_confident,
    margin,
    mc_entropy,
    resolve_strategy,
    select_batch,
    variation_ratios,
    vote_entropy,
)
from skal.strategies._features import embed

LN2 = np.log(2)


def ask(strategy, model, pool, n, seed=None, **context):
    """(indices, scores) of a strategy (name or object), as the learner asks for them."""
    context = QueryContext(random_state=seed, **context)
    return select_batch(resolve_strategy(strategy), model, pool, n, context)


# ---------------------------------------------------------------- scoring functions
def test_uncertainty_functions_on_hand_computed_values():
    proba = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.6, 0.3, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(least_confident(proba), [0, 0.5, 0.4, 2 / 3])
    np.testing.assert_allclose(margin(proba), [0, 1, 0.7, 1])
    h = -(0.6 * np.log(0.6) + 0.3 * np.log(0.3) + 0.1 * np.log(0.1))
    np.testing.assert_allclose(entropy(proba), [0, LN2, h, np.log(3)])


def test_mc_measures_on_hand_built_stacks():
    # sample 0: passes agree and are sure; 1: agree on 0.5/0.5 (aleatoric);
    # 2: passes sure but disagree half and half (epistemic); 3: 3 votes for class 0, 1 for 1
    stack = np.array([
        [[1, 0], [0.5, 0.5], [1, 0], [0.9, 0.1]],
        [[1, 0], [0.5, 0.5], [0, 1], [0.8, 0.2]],
        [[1, 0], [0.5, 0.5], [1, 0], [0.7, 0.3]],
        [[1, 0], [0.5, 0.5], [0, 1], [0.2, 0.8]],
    ], dtype=float)  # (T=4, n=4, C=2)
    mean3 = np.array([0.65, 0.35])
    h_mean3 = -(mean3 * np.log(mean3)).sum()
    h_each3 = [-(p * np.log(p)).sum() for p in ([0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8])]
    np.testing.assert_allclose(mc_entropy(stack), [0, LN2, LN2, h_mean3])
    np.testing.assert_allclose(bald(stack), [0, 0, LN2, h_mean3 - np.mean(h_each3)], atol=1e-12)
    np.testing.assert_allclose(variation_ratios(stack), [0, 0, 0.5, 0.25])
    np.testing.assert_allclose(vote_entropy(stack)[[0, 2, 3]],
                               [0, LN2, -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))])
    # the mean KL to the consensus is the mutual information
    np.testing.assert_allclose(kl_divergence(stack), bald(stack), atol=1e-12)


def test_bald_tells_epistemic_from_aleatoric_where_entropy_cannot():
    rng = np.random.default_rng(0)
    T, n = 30, 50
    # epistemic: each pass is confident, but passes disagree (the weights are uncertain)
    p = rng.uniform(0.85, 1.0, size=(T, n))
    flip = rng.random((T, n)) < 0.5
    epistemic = np.stack([np.where(flip, p, 1 - p), np.where(flip, 1 - p, p)], axis=-1)
    # aleatoric: every pass says 0.5/0.5 (the label itself is noisy)
    aleatoric = np.full((T, n, 2), 0.5)
    stack = np.concatenate([epistemic, aleatoric], axis=1)
    b, h = bald(stack), mc_entropy(stack)
    assert b[:n].min() > 0.3 and np.abs(b[n:]).max() < 1e-12
    assert h[:n].min() > 0.5 and h[n:].min() > 0.69  # entropy: high for both
    # through the strategy, on a stub model that returns these passes
    pool = np.arange(2 * n, dtype=float)[:, None]
    model = StubMC(stack)
    idx = MCDropoutSampling("bald")(model, pool, 10, 0)
    assert (idx < n).all()
    idx_h = MCDropoutSampling("mc_entropy")(model, pool, 10, 0)
    assert (idx_h >= n).all()  # 0.5/0.5 has the highest entropy: the noisy points win


def test_score_functions_reject_bad_shapes():
    with pytest.raises(ValueError, match="proba_samples"):
        bald(np.ones((3, 2)))
    with pytest.raises(ValueError, match="proba_samples"):
        vote_entropy(np.ones((0, 3, 2)))
    with pytest.raises(ValueError, match="proba"):
        entropy(np.ones(3))


# ---------------------------------------------------------------- stub models
class StubMC(BaseEstimator):
    """predict_proba_samples returns fixed passes for samples identified by X[:, 0]."""

    def __init__(self, stack):
        self.stack = stack

    def predict_proba(self, X):
        return self.stack.mean(0)[X[:, 0].astype(int)]

    def predict_proba_samples(self, X, n_samples, random_state=None):
        self.seeds_ = [*getattr(self, "seeds_", []), random_state]
        return self.stack[:n_samples, X[:, 0].astype(int)]


class EmbeddingLogReg(LogisticRegression):
    """A user's model with embeddings: the features themselves."""

    def embed(self, X, return_proba=False):
        X = np.asarray(X, dtype=float)
        return (X, self.predict_proba(X)) if return_proba else X


def test_mc_dropout_uses_one_seed_per_query_whatever_the_chunking():
    stack = np.random.default_rng(0).dirichlet([1, 1, 1], size=(5, 40))
    model = StubMC(stack)
    pool = np.arange(40, dtype=float)[:, None]
    strategy = MCDropoutSampling("variation_ratios", n_samples=5)
    whole = strategy(model, pool, 10, context=QueryContext(random_state=7, pool_batch_size=100))
    chunked = strategy(model, pool, 10, context=QueryContext(random_state=7, pool_batch_size=6))
    np.testing.assert_array_equal(whole, chunked)
    assert len(set(model.seeds_)) == 1  # every chunk of both queries got the same seed
    strategy(model, pool, 10, 8)
    assert len(set(model.seeds_)) == 2


def clusters(centers, n_per, spread, rng):
    return np.concatenate([c + spread * rng.standard_normal((n_per, 2)) for c in centers])


def test_coreset_covers_separated_clusters_that_entropy_ignores():
    rng = np.random.default_rng(0)
    labeled = np.array([[-6.0, 0.0], [6.0, 0.0]])
    model = EmbeddingLogReg().fit(labeled, [0, 1])
    # five separated clusters; the one on the decision boundary x=0 is the most uncertain
    centers = np.array([[0.0, 0.0], [-10.0, 10.0], [10.0, 10.0], [-10.0, -10.0], [10.0, -10.0]])
    pool = clusters(centers, 30, 0.3, rng)
    which = np.repeat(np.arange(5), 30)
    top = UncertaintySampling("entropy")(model, pool, 5)
    assert set(which[top]) == {0}  # all five from the boundary cluster
    core = CoreSet()(model, pool, 5, context=QueryContext(X_labeled=labeled))
    assert set(which[core]) == {0, 1, 2, 3, 4}  # one per cluster
    idx, scores = ask(CoreSet(), model, pool, 5, X_labeled=labeled, pool_batch_size=7)
    np.testing.assert_array_equal(idx, core)
    assert np.all(np.diff(scores) <= 0)  # max-min distances only shrink
    # without a labeled set the first centre is the pool's mean
    assert len(np.unique(CoreSet()(model, pool, 5))) == 5


def test_badge_and_coreset_avoid_duplicates_that_top_k_takes():
    rng = np.random.default_rng(1)
    model = EmbeddingLogReg().fit(np.array([[-3.0, 0], [3.0, 0]]), [0, 1])
    spread = rng.uniform([-0.5, -4], [0.5, 4], size=(40, 2))
    pool = np.concatenate([spread, np.repeat(spread[:3], 15, axis=0)])  # 3 points x 16 copies

    def n_duplicates(idx):
        return len(idx) - len(np.unique(pool[idx].round(9), axis=0))

    k = 10
    assert n_duplicates(UncertaintySampling("entropy")(model, pool, k)) >= 5
    assert n_duplicates(ask(CoreSet(), model, pool, k, X_labeled=np.zeros((1, 2)))[0]) == 0
    for seed in range(3):
        assert n_duplicates(BADGE()(model, pool, k, seed)) == 0


def test_diverse_mini_batch_spreads_the_uncertain_over_clusters_where_margin_does_not():
    rng = np.random.default_rng(3)
    model = EmbeddingLogReg().fit(np.array([[-3.0, 0], [3.0, 0]]), [0, 1])
    # five groups along the decision boundary x=0; group 0 sits on it, the others just off
    ys = [0.0, -20.0, -10.0, 10.0, 20.0]
    pool = np.concatenate([
        np.column_stack([(0.0 if g == 0 else 0.3) + 0.01 * rng.standard_normal(30),
                         y + 0.3 * rng.standard_normal(30)])
        for g, y in enumerate(ys)])
    group = np.repeat(np.arange(5), 30)
    assert set(group[UncertaintySampling("margin")(model, pool, 5)]) == {0}
    idx, scores = ask(DiverseMiniBatch(), model, pool, 5, 0)
    assert set(group[idx]) == {0, 1, 2, 3, 4}  # one per group
    assert np.all(np.diff(scores) <= 0)  # most uncertain first
    np.testing.assert_allclose(scores, margin(model.predict_proba(pool[idx])), atol=1e-9)
    np.testing.assert_array_equal(DiverseMiniBatch()(model, pool, 5, 0), idx)
    # prefilter=1 is plain top-k margin sampling
    np.testing.assert_array_equal(DiverseMiniBatch(prefilter=1)(model, pool, 7, 0),
                                  UncertaintySampling("margin")(model, pool, 7))
    # fewer distinct candidates than places: the rest go to the most uncertain, no repeats
    dup = np.repeat(pool[:2], 20, axis=0)
    picked = DiverseMiniBatch()(model, dup, 6, 0)
    assert len(np.unique(picked)) == 6
    assert sorted(DiverseMiniBatch()(model, pool, 500, 0)) == list(range(150))


def test_badge_matches_explicit_gradient_embeddings():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 3))
    model = EmbeddingLogReg().fit(X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0))
    idx, scores = ask(BADGE(), model, X, 6, 0)
    p = model.predict_proba(X)
    g = (p - np.eye(3)[p.argmax(1)])[:, :, None] * X[:, None, :]
    g = g.reshape(len(X), -1)
    norms = (g**2).sum(1)
    assert idx[0] == np.argmax(norms)
    assert scores[0] == pytest.approx(norms[idx[0]])
    d2 = ((g[:, None] - g[idx[:3]][None]) ** 2).sum(-1).min(1)
    assert scores[3] == pytest.approx(d2[idx[3]])
    np.testing.assert_array_equal(BADGE()(model, X, 6, 0), idx)
    assert not np.array_equal(BADGE()(model, X, 6, 1), idx)
    assert sorted(BADGE()(model, X, 100, 0)) == list(range(60))


def test_information_density_equals_brute_force_and_prefers_dense_regions():
    rng = np.random.default_rng(3)
    model = LogisticRegression().fit(np.array([[0.0, 1], [1, 0]]), [0, 1])
    X = np.abs(rng.standard_normal((50, 2)))
    for beta in (0.0, 1.0, 2.5):
        idx, scores = ask(InformationDensity("margin", beta=beta), model, X, 50,
                          pool_batch_size=7)
        unit = X / np.linalg.norm(X, axis=1, keepdims=True)
        expected = margin(model.predict_proba(X)) * (unit @ unit.T).mean(1) ** beta
        np.testing.assert_allclose(scores, expected[idx], atol=1e-9)
    # an outlier exactly on the boundary vs a dense cluster slightly off it
    cluster = np.array([1.0, 0.6]) + 0.01 * rng.standard_normal((30, 2))
    pool = np.concatenate([[[1.0, 1.0]], cluster, [[0.0, 1.0]]])
    assert UncertaintySampling("entropy")(model, pool, 1)[0] == 0
    assert InformationDensity(beta=3)(model, pool, 1)[0] != 0
    chunks = (pool[i : i + 5] for i in range(0, len(pool), 5))  # one-shot iterable
    np.testing.assert_array_equal(
        InformationDensity(beta=3)(model, chunks, 10), InformationDensity(beta=3)(model, pool, 10)
    )


def test_explicit_committees_with_sklearn_models(digits_xy):
    X, y = digits_xy
    strategy = Committee("vote_entropy", n_members=3)
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=200), query_strategy=strategy, n_queries=2,
        n_instances=5, initial_size=30, random_state=0,
    ).fit(X[:300], y[:300])
    assert learner.n_labeled_ == 40
    idx = learner.query(X[300:], 8)
    np.testing.assert_array_equal(idx, learner.query(X[300:], 8))
    mixed = Committee(
        "kl_divergence",
        estimators=[GaussianNB(), DecisionTreeClassifier(random_state=0),
                    LogisticRegression(max_iter=200)],
        bootstrap=False,
    )
    idx, scores = learner.set_params(query_strategy=mixed).query(X[300:], 8, return_scores=True)
    assert len(np.unique(idx)) == 8 and np.all(np.diff(scores) <= 0)
    # members agreeing everywhere: zero disagreement
    same = Committee(estimators=[LogisticRegression(max_iter=200)] * 2, bootstrap=False)
    _, scores = ask(same, learner.estimator_, X[300:], 5, 0, X_labeled=learner.X_labeled_,
                    y_labeled=learner.y_labeled_)
    np.testing.assert_array_equal(scores, 0)


# ---------------------------------------------------------------- any classifier
@pytest.mark.parametrize("strategy, committee", [
    ("vote_entropy", Committee("vote_entropy", n_members=5)),
    ("kl_divergence", Committee("kl_divergence", n_members=5)),
    # BALD of a committee is its mutual information: the mean KL to the consensus
    ("bald", Committee("kl_divergence", n_members=5)),
])
def test_mc_strategies_use_a_bootstrap_committee_without_stochastic_passes(digits_xy, strategy,
                                                                            committee):
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100),
                                       query_strategy=strategy).fit(X[:100], y[:100])
    context = dict(X_labeled=learner.X_labeled_, y_labeled=learner.y_labeled_)
    idx, scores = ask(strategy, learner.estimator_, X[100:300], 8, 3, **context)
    expected, expected_scores = ask(committee, learner.estimator_, X[100:300], 8, 3, **context)
    np.testing.assert_array_equal(idx, expected)  # Committee(n_members=5)'s very members
    np.testing.assert_allclose(scores, expected_scores, atol=1e-8)
    assert scores.min() > 0  # the clones disagree there
    assert len(learner.query(X[100:300], 5)) == 5
    # called directly, without a labeled set to fit the clones on: the error says what to give
    with pytest.raises(ValueError, match="QueryContext\\(X_labeled=.*y_labeled=.*CNNClassifier"):
        get_strategy(strategy)(learner.estimator_, X[100:], 5, 0)


def test_mc_measures_of_a_committee_without_stochastic_passes(digits_xy):
    # variation ratios and mc_entropy: the same measures of the 5 clones' predictions
    X, y = digits_xy
    model = LogisticRegression(max_iter=100).fit(X[:100], y[:100])
    context = QueryContext(random_state=3, X_labeled=X[:100], y_labeled=y[:100])
    from skal.strategies._features import fit_committee, member_scores, query_seed

    members, classes = fit_committee([model] * 5, context, query_seed(3), who="test")
    for name, measure in [("variation_ratios", variation_ratios), ("mc_entropy", mc_entropy)]:
        scores = member_scores(model, X[100:300], measure=measure, members=members,
                               classes=classes)
        idx, got = select_batch(resolve_strategy(name), model, X[100:300], 6, context)
        np.testing.assert_allclose(got, np.sort(np.round(scores, 9))[::-1][:6])
        assert set(idx) <= set(np.flatnonzero(np.round(scores, 9) >= got[-1]))


@pytest.mark.parametrize("strategy", ["coreset", "badge", "diverse_margin"])
def test_embedding_strategies_use_the_features_without_embed(digits_xy, strategy):
    # without embed, the raw features are the embedding: the batch of a model whose embed
    # returns its input
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100),
                                       query_strategy=strategy).fit(X[:100], y[:100])
    context = dict(X_labeled=X[:100], y_labeled=y[:100])
    embedded = EmbeddingLogReg(max_iter=100).fit(X[:100], y[:100])
    idx, scores = ask(strategy, learner.estimator_, X[100:400], 8, 5, **context)
    expected, expected_scores = ask(strategy, embedded, X[100:400], 8, 5, **context)
    np.testing.assert_array_equal(idx, expected)
    # float32 digits: the model's probabilities of float32 features differ in the 7th digit
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)
    assert len(learner.query(X[100:], 5)) == 5
    # a Pipeline: the features its last step sees (the scaled ones)
    scaler = StandardScaler().fit(X[:100])
    piped = make_pipeline(scaler, LogisticRegression(max_iter=100)).fit(X[:100], y[:100])
    bare = EmbeddingLogReg(max_iter=100).fit(scaler.transform(X[:100]), y[:100])
    idx, _ = ask(strategy, piped, X[100:400], 8, 5, **context)
    expected, _ = ask(strategy, bare, scaler.transform(X[100:400]), 8, 5,
                      X_labeled=scaler.transform(X[:100]), y_labeled=y[:100])
    np.testing.assert_array_equal(idx, expected)
    with pytest.raises(TypeError, match="embed"):  # embed itself still needs embed
        embed(learner.estimator_, X[:5])


# Every option of every built-in strategy, each wrong in every way it can be: wrong type,
# out of range, bad string. (class, option, bad value)
BAD_OPTIONS = [
    (UncertaintySampling, "measure", "entropyy"),
    (UncertaintySampling, "measure", "bald"),
    (UncertaintySampling, "measure", 3),
    (UncertaintySampling, "measure", None),
    (MCDropoutSampling, "measure", "nope"),
    (MCDropoutSampling, "measure", "entropy"),
    (MCDropoutSampling, "measure", ["bald"]),
    (MCDropoutSampling, "n_samples", 1),
    (MCDropoutSampling, "n_samples", -5),
    (MCDropoutSampling, "n_samples", "20"),
    (MCDropoutSampling, "n_samples", 2.5),
    (MCDropoutSampling, "n_samples", 20.0),
    (MCDropoutSampling, "n_samples", True),
    (MCDropoutSampling, "n_samples", None),
    (Committee, "measure", "bald"),
    (Committee, "measure", "vote-entropy"),
    (Committee, "measure", 0),
    (Committee, "estimators", GaussianNB()),
    (Committee, "estimators", []),
    (Committee, "estimators", [GaussianNB()]),
    (Committee, "estimators", [GaussianNB(), "svm"]),
    (Committee, "estimators", [GaussianNB(), SVC()]),  # no predict_proba
    (Committee, "estimators", (GaussianNB(), GaussianNB())),
    (Committee, "estimators", "svm"),
    (Committee, "n_members", 1),
    (Committee, "n_members", 0),
    (Committee, "n_members", 2.5),
    (Committee, "n_members", "3"),
    (Committee, "bootstrap", "yes"),
    (Committee, "bootstrap", None),
    (Committee, "bootstrap", 1.0),
    (Committee, "n_samples", 0),
    (Committee, "n_samples", 1),
    (Committee, "n_samples", "20"),
    (Committee, "n_samples", 3.5),
    (InformationDensity, "measure", "bald"),
    (InformationDensity, "measure", 1),
    (InformationDensity, "beta", -1),
    (InformationDensity, "beta", -1e-9),
    (InformationDensity, "beta", np.inf),
    (InformationDensity, "beta", np.nan),
    (InformationDensity, "beta", "high"),
    (InformationDensity, "beta", None),
    (DiverseMiniBatch, "measure", "bald"),
    (DiverseMiniBatch, "measure", "Margin"),
    (DiverseMiniBatch, "measure", None),
    (DiverseMiniBatch, "prefilter", 0),
    (DiverseMiniBatch, "prefilter", -1),
    (DiverseMiniBatch, "prefilter", 2.5),
    (DiverseMiniBatch, "prefilter", "10"),
    (TypiClust, "embedding", "foo"),
    (TypiClust, "embedding", "PCA"),
    (TypiClust, "embedding", None),
    (TypiClust, "n_neighbors", 0),
    (TypiClust, "n_neighbors", 2.5),
    (TypiClust, "n_neighbors", "20"),
    (TypiClust, "max_candidates", 0),
    (TypiClust, "max_candidates", -1),
    (TypiClust, "max_candidates", 1e4),
    (TypiClust, "max_candidates", None),
    (ProbCover, "delta", -1),
    (ProbCover, "delta", 0),
    (ProbCover, "delta", np.inf),
    (ProbCover, "delta", np.nan),
    (ProbCover, "delta", "Auto"),
    (ProbCover, "delta", None),
    (ProbCover, "purity", 0),
    (ProbCover, "purity", 1),
    (ProbCover, "purity", 1.5),
    (ProbCover, "purity", "high"),
    (ProbCover, "embedding", "foo"),
    (ProbCover, "embedding", 1),
    (ProbCover, "max_candidates", 0),
    (ProbCover, "max_candidates", 100.0),
    (AutoStrategy, "low_budget_per_class", -1),
    (AutoStrategy, "low_budget_per_class", np.inf),
    (AutoStrategy, "low_budget_per_class", np.nan),
    (AutoStrategy, "low_budget_per_class", "10"),
    (AutoStrategy, "low_budget_per_class", None),
    (AutoStrategy, "min_skill", -0.1),
    (AutoStrategy, "min_skill", 1.01),
    (AutoStrategy, "min_skill", np.nan),
    (AutoStrategy, "min_skill", "0.3"),
    (AutoStrategy, "min_skill", None),
    (RareClassSampling, "measure", "bald"),
    (RareClassSampling, "measure", None),
    (RareClassSampling, "measure", 1),
    (MultilabelUncertainty, "measure", "entropy"),  # the single-label name
    (MultilabelUncertainty, "measure", 3),
    (VarianceSampling, "source", "sd"),
    (VarianceSampling, "source", None),
    (VarianceSampling, "n_samples", 1),
    (VarianceSampling, "n_samples", 2.5),
    (VarianceSampling, "n_members", 1),
    (VarianceSampling, "n_members", "5"),
    (GreedySampling, "space", "xyz"),
    (GreedySampling, "space", None),
]
STRATEGY_CLASSES = [UncertaintySampling, RandomSampling, MCDropoutSampling, Committee,
                    InformationDensity, CoreSet, BADGE, DiverseMiniBatch, TypiClust, ProbCover,
                    AutoStrategy, RareClassSampling, MultilabelUncertainty, VarianceSampling,
                    GreedySampling]


def test_the_bad_options_table_covers_every_option_of_every_strategy():
    assert {type(make()) for make in STRATEGIES.values()} == set(STRATEGY_CLASSES)
    for cls in STRATEGY_CLASSES:
        options = set(cls().get_params())
        assert options == set(cls._parameter_constraints)  # every option is constrained
        assert options == {opt for c, opt, _ in BAD_OPTIONS if c is cls}, cls


@pytest.mark.parametrize("cls, option, value", BAD_OPTIONS,
                         ids=[f"{c.__name__}-{o}-{v!r}" for c, o, v in BAD_OPTIONS])
def test_every_bad_strategy_option_fails_at_resolve_strategy(digits_xy, cls, option, value):
    X, y = digits_xy
    strategy = cls(**{option: value})
    with pytest.raises((ValueError, TypeError), match=f"'{option}' parameter of {cls.__name__}"):
        resolve_strategy(strategy)
    # a direct call validates the same way, before asking the model anything
    with pytest.raises((ValueError, TypeError), match=f"'{option}' parameter"):
        strategy(EmbeddingLogReg().fit(X[:100], y[:100]), X[100:], 5, 0)


@pytest.mark.parametrize("strategy", [UncertaintySampling("entropyy"), Committee(n_members=1),
                                      MCDropoutSampling(n_samples=1), DiverseMiniBatch("x")],
                         ids=repr)
def test_a_bad_strategy_option_fails_at_fit(digits_xy, strategy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100), query_strategy=strategy)
    with pytest.raises((ValueError, TypeError), match="parameter of"):
        learner.fit(X[:100], y[:100])  # at fit, before any model is trained


@pytest.mark.parametrize("strategy", [
    UncertaintySampling("least_confident"), RandomSampling(), CoreSet(), BADGE(),
    MCDropoutSampling("mc_entropy", n_samples=np.int64(2)),
    Committee("kl_divergence", estimators=[GaussianNB(), LogisticRegression()],
              bootstrap=np.bool_(False), n_samples=2),
    Committee(n_members=np.int32(3)), InformationDensity("margin", beta=0),
    InformationDensity(beta=np.float32(2.5)), DiverseMiniBatch("entropy", prefilter=1),
    TypiClust("raw", n_neighbors=np.int64(5), max_candidates=1), ProbCover(delta=0.5),
    ProbCover(np.float32(2), purity=0.5, embedding="model"), AutoStrategy(0),
    AutoStrategy(np.int64(3)), AutoStrategy(2.5), AutoStrategy(min_skill=np.float32(0.5)),
    AutoStrategy(min_skill=1), AutoStrategy(min_skill=0),
], ids=repr)
def test_good_strategy_options_resolve_to_the_object_itself(strategy):
    assert resolve_strategy(strategy) is strategy


def test_explicit_committee_needs_the_labeled_set(digits_xy):
    X, y = digits_xy
    model = LogisticRegression(max_iter=100).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="y_labeled"):
        ask(Committee(n_members=2), model, X[100:], 5, 0, X_labeled=X[:100])
    with pytest.raises(ValueError, match="y_labeled"):
        Committee(n_members=2)(model, X[100:], 5, 0)  # no context: no labeled set


def test_resolve_strategy_names_callables_and_other_values():
    assert get_strategy is resolve_strategy  # the former public name
    a, b = resolve_strategy("margin"), resolve_strategy("margin")
    assert a is not b and a.get_params() == {"measure": "margin"}

    def fn(estimator, X_pool, n_instances, random_state):
        return [0]

    assert resolve_strategy(fn) is fn
    with pytest.raises(ValueError, match="Unknown query_strategy='entropyy'.*'margin'"):
        resolve_strategy("entropyy")
    for bad in (3, None, ["entropy"]):
        with pytest.raises(TypeError, match="query_strategy must be"):
            resolve_strategy(bad)


def test_strategy_objects_clone_and_grid_search_cleanly():
    learner = ActiveLearningClassifier(query_strategy=MCDropoutSampling("bald", n_samples=10))
    params = learner.get_params()
    assert params["query_strategy__n_samples"] == 10
    learner.set_params(query_strategy__measure="variation_ratios")
    cloned = clone(learner)
    assert cloned.query_strategy is not learner.query_strategy
    assert cloned.query_strategy.get_params() == {"measure": "variation_ratios", "n_samples": 10}
    committee = clone(Committee(estimators=[GaussianNB(), GaussianNB()], n_members=None))
    assert len(committee.estimators) == 2


def test_strategy_options_grid_search_as_nested_params(digits_xy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=100), query_strategy=Committee(n_members=2), n_queries=1,
        n_instances=5, initial_size=20, random_state=0,
    )
    grid = {"query_strategy__measure": ["vote_entropy", "kl_divergence"],
            "query_strategy__bootstrap": [True, False]}
    search = GridSearchCV(learner, grid, cv=2, error_score="raise").fit(X[:200], y[:200])
    assert len(search.cv_results_["params"]) == 4
    assert learner.query_strategy.measure == "vote_entropy"  # the template is not changed
    assert search.best_estimator_.query_strategy.get_params()["n_members"] == 2


def test_registry_names_resolve_to_fresh_documented_strategies():
    deep = {"bald", "variation_ratios", "mc_entropy", "vote_entropy", "kl_divergence",
            "coreset", "badge", "density", "diverse_margin", "typiclust", "probcover", "auto",
            "rare_class", "variance", "greedy", "ml_entropy", "ml_binary_minimum", "ml_max_loss",
            "ml_mean_max_loss"}
    assert set(STRATEGIES) == deep | {"entropy", "margin", "least_confident", "random"}
    for name in deep:
        a, b = get_strategy(name), get_strategy(name)
        assert a is not b
        assert "References" in type(a).__doc__
    for fn in (bald, variation_ratios, mc_entropy, vote_entropy, kl_divergence):
        assert "References" in fn.__doc__ or "Gal et al." in fn.__doc__


# ---------------------------------------------------------------- select_batch and callables
@pytest.fixture(scope="module")
def logreg(digits_xy):
    X, y = digits_xy
    return LogisticRegression(max_iter=200).fit(X[:100], y[:100])


def test_a_callable_with_context_gets_what_built_in_strategies_get(digits_xy, logreg):
    X, y = digits_xy
    seen = {}

    def keyword_only(estimator, X_pool, n_instances, random_state, *, context):
        seen["keyword_only"] = (X_pool, random_state, context)
        return np.arange(n_instances)[::-1]

    def with_kwargs(estimator, X_pool, n_instances, random_state, **kwargs):
        seen["with_kwargs"] = kwargs["context"]
        return [1, 0]

    def plain(estimator, X_pool, n_instances, random_state):
        seen["plain"] = random_state
        return (3,)

    context = QueryContext(random_state=11, X_labeled=X[:100], y_labeled=y[:100],
                           pool_batch_size=7, check_chunk=lambda c: c.astype(np.float64))
    idx, scores = select_batch(keyword_only, logreg, X[100:], 3, context)
    np.testing.assert_array_equal(idx, [2, 1, 0])
    assert idx.dtype == np.intp and scores.dtype == float and np.isnan(scores).all()
    pool_seen, seed_seen, context_seen = seen["keyword_only"]
    assert seed_seen == 11 and context_seen is context
    assert context_seen.X_labeled is context.X_labeled and context_seen.pool_batch_size == 7
    assert pool_seen.dtype == np.float64  # the pool went through check_chunk
    np.testing.assert_array_equal(select_batch(with_kwargs, logreg, X[100:], 2, context)[0],
                                  [1, 0])
    assert seen["with_kwargs"] is context
    np.testing.assert_array_equal(select_batch(plain, logreg, X[100:], 2, context)[0], [3])
    assert seen["plain"] == 11


def test_a_callable_sees_the_checked_pool_as_one_array(digits_xy, logreg):
    X, _ = digits_xy

    def first_rows(estimator, X_pool, n_instances, random_state):
        assert isinstance(X_pool, np.ndarray) and X_pool.shape == (30, 64)
        return np.arange(n_instances)

    chunks = (X[100:130][i : i + 7] for i in range(0, 30, 7))
    idx, _ = select_batch(first_rows, logreg, chunks, 2, QueryContext())
    np.testing.assert_array_equal(idx, [0, 1])

    def wrong_width(chunk):
        raise ValueError("X_pool has 64 features, but the learner was fitted with 10")

    with pytest.raises(ValueError, match="features"):
        select_batch(first_rows, logreg, X[100:130], 2, QueryContext(check_chunk=wrong_width))


def test_a_modal_style_answer_is_accepted_and_other_tuples_are_explained(digits_xy, logreg):
    X, _ = digits_xy

    def modal_like(estimator, X_pool, n_instances, random_state):
        idx = np.argsort(-entropy(estimator.predict_proba(X_pool)), kind="stable")[:n_instances]
        return idx, X_pool[idx]

    idx, _ = select_batch(modal_like, logreg, X[100:], 4, QueryContext())
    np.testing.assert_array_equal(idx, ask("entropy", logreg, X[100:], 4)[0])

    def scores_and_samples(estimator, X_pool, n_instances, random_state):
        return np.ones(n_instances), X_pool[:n_instances]

    with pytest.raises(TypeError, match="modAL.*lambda"):
        select_batch(scores_and_samples, logreg, X[100:], 4, QueryContext())


@pytest.mark.parametrize("answer, error, match", [
    ([], ValueError, "returned no index"),
    (np.array([], dtype=int), ValueError, "returned no index"),
    (None, TypeError, "returned None"),
    ([0.0, 1.0], TypeError, "float64 indices"),
    ([True, False], TypeError, "bool indices"),
    (["0"], TypeError, "indices; expected integers"),
    ([1, 1], ValueError, "distinct"),
    ([0, 1, 2, 3, 4, 5], ValueError, "at most 5"),
    ([0, 50], ValueError, "outside X_pool.*50"),
    ([-1], ValueError, "outside X_pool"),
], ids=repr)
def test_a_callables_bad_answer_is_an_error(digits_xy, logreg, answer, error, match):
    X, _ = digits_xy

    def answer_with(estimator, X_pool, n_instances, random_state):
        return answer

    with pytest.raises(error, match=f"query_strategy=answer_with.*{match}|{match}"):
        select_batch(answer_with, logreg, X[100:150], 5, QueryContext())
    with pytest.raises(error, match=f"query_strategy='mine'.*{match}|{match}"):
        select_batch(answer_with, logreg, X[100:150], 5, QueryContext(), name="mine")


def test_select_batch_checks_the_methods_a_strategy_requires(digits_xy, logreg):
    X, y = digits_xy
    no_proba = SVC().fit(X[:100], y[:100])
    for name in ("badge", "diverse_margin", "bald", "vote_entropy", "density"):
        with pytest.raises(TypeError, match=f"query_strategy='{name}' needs the estimator's "
                                            "predict_proba\\(\\), which SVC.*probability=True"):
            select_batch(resolve_strategy(name), no_proba, X[100:], 5, QueryContext(), name=name)
    with pytest.raises(TypeError, match="query_strategy=UncertaintySampling.*predict_proba"):
        select_batch(UncertaintySampling(), no_proba, X[100:], 5, QueryContext())
    # a Pipeline: its last step is asked
    piped = make_pipeline(StandardScaler(), EmbeddingLogReg()).fit(X[:100], y[:100])
    idx, _ = select_batch(CoreSet(), piped, X[100:], 5, QueryContext(X_labeled=X[:100]))
    assert len(np.unique(idx)) == 5
    # a callable requires nothing; an explicit committee needs no method of the estimator
    assert len(select_batch(lambda e, X, n, r: [0], no_proba, X[100:], 5, QueryContext())[0])
    committee = Committee(estimators=[GaussianNB(), GaussianNB()])
    assert len(ask(committee, no_proba, X[100:], 5, X_labeled=X[:100], y_labeled=y[:100])[0])


def test_select_batch_rejects_bad_n_instances(digits_xy, logreg):
    X, _ = digits_xy
    for bad in (0, -1, 2.0, True, None):
        with pytest.raises(ValueError, match="n_instances"):
            select_batch(UncertaintySampling(), logreg, X[100:], bad, QueryContext())


def test_query_context_is_frozen_and_checked():
    context = QueryContext(random_state=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.random_state = 4
    for bad in (0, -2, 1.5, True, "10"):
        with pytest.raises(ValueError, match="pool_batch_size"):
            QueryContext(pool_batch_size=bad)
    with pytest.raises(TypeError, match="check_chunk"):
        QueryContext(check_chunk="no")


def test_calling_a_strategy_object_returns_indices_only(digits_xy, logreg):
    X, _ = digits_xy
    idx = UncertaintySampling("margin")(logreg, X[100:], 5, 0)
    np.testing.assert_array_equal(idx, ask("margin", logreg, X[100:], 5, 0)[0])
    context = QueryContext(random_state=0, pool_batch_size=9)
    np.testing.assert_array_equal(RandomSampling()(logreg, X[100:], 5, context=context),
                                  RandomSampling()(logreg, X[100:], 5, 0))
    with pytest.raises(TypeError, match="context.random_state"):
        RandomSampling()(logreg, X[100:], 5, 1, context=context)


def test_a_user_subclass_gets_the_protocol(digits_xy, logreg):
    from numbers import Integral

    from sklearn.utils._param_validation import Interval

    X, y = digits_xy

    class EveryKth(QueryStrategy):
        _parameter_constraints = {"k": [Interval(Integral, 1, None, closed="left")]}
        requires = ("predict_proba",)

        def __init__(self, k=2):
            self.k = k

        def select(self, estimator, X_pool, n_instances, context):
            idx = np.arange(0, len(X_pool), self.k)[:n_instances]
            return idx, np.full(len(idx), len(context.X_labeled), dtype=float)

    idx, scores = ask(EveryKth(3), logreg, X[100:], 4, X_labeled=X[:100])
    np.testing.assert_array_equal(idx, [0, 3, 6, 9])
    np.testing.assert_array_equal(scores, 100)
    with pytest.raises(ValueError, match="'k' parameter of EveryKth"):
        resolve_strategy(EveryKth(0))
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100),
                                       query_strategy=EveryKth(5)).fit(X[:100], y[:100])
    np.testing.assert_array_equal(learner.query(X[100:], 3), [0, 5, 10])
    with pytest.raises(NotImplementedError, match="select"):
        ask(QueryStrategy(), logreg, X[100:], 3)


# ---------------------------------------------------------------- the package's structure
STRATEGIES_DIR = Path(skal.strategies.__file__).parent
SHARED = {"_base", "_features", "_measures"}  # what strategy modules may import from


def test_strategy_modules_are_private_and_import_only_shared_helpers():
    modules = sorted(STRATEGIES_DIR.glob("*.py"))
    assert {p.stem for p in modules} >= {"__init__", *SHARED, "_registry", "_uncertainty",
                                         "_bayesian", "_committee", "_diversity", "_density",
                                         "_random", "_typical", "_auto"}
    for path in modules:
        assert path.stem == "__init__" or path.stem.startswith("_"), path
        text = path.read_text()  # a module's size follows its job: no line cap
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):  # code lines, docstring excluded
                body = node.body[1:] if ast.get_docstring(node) else node.body
                assert node.end_lineno - body[0].lineno + 1 <= 60, (path, node.name)
            # _auto composes the other strategies, as the registry names them
            if path.stem in ("__init__", "_registry", "_auto") or not isinstance(
                node, ast.ImportFrom
            ):
                continue
            if (node.module or "").startswith("skal.strategies."):
                assert node.module.rsplit(".", 1)[1] in SHARED, (path, node.module)


def test_the_package_is_the_public_surface():
    for name in skal.strategies.__all__:
        obj = getattr(skal.strategies, name)
        if not isinstance(obj, (dict, tuple, str)):  # the registry's tables, AUTO_SUMMARY
            assert obj.__module__.startswith("skal.strategies._"), name
            assert obj.__doc__, name
    for name in ("QueryContext", "QueryStrategy", "resolve_strategy", "select_batch"):
        assert "Examples\n    --------" in getattr(skal.strategies, name).__doc__


@pytest.mark.parametrize("module", ["_base", "_registry", "_uncertainty", "_committee",
                                    "_density"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"skal.strategies.{module}")
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(mod, optionflags=flags, verbose=False)
    assert result.failed == 0 and result.attempted > 0
