"""Query strategies without Keras: the scoring functions on hand-computed values, stub
models that make each strategy's defining property visible, and bad options."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from skal import ActiveLearningClassifier
from skal.strategies import (
    BADGE,
    STRATEGIES,
    Committee,
    CoreSet,
    DiverseMiniBatch,
    InformationDensity,
    MCDropoutSampling,
    UncertaintySampling,
    bald,
    entropy,
    get_strategy,
    kl_divergence,
    least_confident,
    margin,
    mc_entropy,
    variation_ratios,
    vote_entropy,
)
from skal.strategies._features import embed

LN2 = np.log(2)


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
    whole = strategy(model, pool, 10, 7, pool_batch_size=100)
    chunked = strategy(model, pool, 10, 7, pool_batch_size=6)
    np.testing.assert_array_equal(whole, chunked)
    assert len(set(model.seeds_)) == 1  # every chunk of both queries got the same seed
    strategy(model, pool, 10, 8)
    assert len(set(model.seeds_)) == 2


def clusters(centers, n_per, spread, rng):
    return np.concatenate([c + spread * rng.standard_normal((n_per, 2)) for c in centers])


def test_coreset_covers_separated_clusters_that_entropy_ignores():
    rng = np.random.default_rng(0)
    labelled = np.array([[-6.0, 0.0], [6.0, 0.0]])
    model = EmbeddingLogReg().fit(labelled, [0, 1])
    # five separated clusters; the one on the decision boundary x=0 is the most uncertain
    centers = np.array([[0.0, 0.0], [-10.0, 10.0], [10.0, 10.0], [-10.0, -10.0], [10.0, -10.0]])
    pool = clusters(centers, 30, 0.3, rng)
    which = np.repeat(np.arange(5), 30)
    top = UncertaintySampling("entropy")(model, pool, 5)
    assert set(which[top]) == {0}  # all five from the boundary cluster
    core = CoreSet()(model, pool, 5, X_labeled=labelled)
    assert set(which[core]) == {0, 1, 2, 3, 4}  # one per cluster
    idx, scores = CoreSet()(model, pool, 5, X_labeled=labelled, return_scores=True)
    np.testing.assert_array_equal(idx, core)
    assert np.all(np.diff(scores) <= 0)  # max-min distances only shrink
    # without a labelled set the first centre is the pool's mean
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
    assert n_duplicates(CoreSet()(model, pool, k, X_labeled=np.zeros((1, 2)))) == 0
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
    idx, scores = DiverseMiniBatch()(model, pool, 5, 0, return_scores=True)
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
    idx, scores = BADGE()(model, X, 6, 0, return_scores=True)
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
        idx, scores = InformationDensity("margin", beta=beta)(
            model, X, 50, pool_batch_size=7, return_scores=True
        )
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
    _, scores = same(learner.estimator_, X[300:], 5, 0, X_labeled=learner.X_labeled_,
                     y_labeled=learner.y_labeled_, return_scores=True)
    np.testing.assert_array_equal(scores, 0)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("strategy", ["bald", "variation_ratios", "mc_entropy", "vote_entropy",
                                      "kl_divergence"])
def test_mc_strategies_reject_models_without_stochastic_passes(digits_xy, strategy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100),
                                       query_strategy=strategy).fit(X[:100], y[:100])
    with pytest.raises(TypeError, match=f"query_strategy='{strategy}'.*predict_proba_samples"):
        learner.query(X[100:])
    direct = get_strategy(strategy)
    with pytest.raises(TypeError, match="query_strategy=.*stochastic"):
        direct(learner.estimator_, X[100:], 5, 0)


@pytest.mark.parametrize("strategy", ["coreset", "badge", "diverse_margin"])
def test_embedding_strategies_reject_models_without_embeddings(digits_xy, strategy):
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100),
                                       query_strategy=strategy).fit(X[:100], y[:100])
    with pytest.raises(TypeError, match=f"query_strategy='{strategy}'.*embed"):
        learner.query(X[100:])
    with pytest.raises(TypeError, match="query_strategy=.*embed"):
        get_strategy(strategy)(learner.estimator_, X[100:], 5, 0)
    with pytest.raises(TypeError, match="embed"):
        embed(learner.estimator_, X[:5])


@pytest.mark.parametrize(
    "strategy, match",
    [
        (MCDropoutSampling("nope"), "measure"),
        (MCDropoutSampling(n_samples=1), "n_samples"),
        (MCDropoutSampling(n_samples="20"), "n_samples"),
        (Committee("bald"), "measure"),
        (Committee(n_members=1), "n_members"),
        (Committee(n_members=2.5), "n_members"),
        (Committee(bootstrap="yes"), "bootstrap"),
        (Committee(n_samples=0), "n_samples"),
        (Committee(estimators=GaussianNB()), "estimators"),
        (Committee(estimators=[GaussianNB()]), "estimators"),
        (Committee(estimators=[GaussianNB(), "svm"]), "estimators"),
        (InformationDensity("bald"), "measure"),
        (InformationDensity(beta=-1), "beta"),
        (InformationDensity(beta="high"), "beta"),
        (DiverseMiniBatch("bald"), "measure"),
        (DiverseMiniBatch(prefilter=0), "prefilter"),
        (DiverseMiniBatch(prefilter=2.5), "prefilter"),
    ],
)
def test_bad_strategy_options_name_themselves(digits_xy, strategy, match):
    X, y = digits_xy
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=100), query_strategy=strategy)
    with pytest.raises((ValueError, TypeError), match=match):
        learner.fit(X[:100], y[:100])  # at fit, before any model is trained
    with pytest.raises((ValueError, TypeError), match=match):
        strategy(EmbeddingLogReg().fit(X[:100], y[:100]), X[100:], 5, 0,
                 X_labeled=X[:100], y_labeled=y[:100])


def test_explicit_committee_needs_the_labelled_set(digits_xy):
    X, y = digits_xy
    model = LogisticRegression(max_iter=100).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="y_labeled"):
        Committee(n_members=2)(model, X[100:], 5, 0, X_labeled=X[:100])


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
            "coreset", "badge", "density", "diverse_margin"}
    assert set(STRATEGIES) == deep | {"entropy", "margin", "least_confident", "random"}
    for name in deep:
        a, b = get_strategy(name), get_strategy(name)
        assert a is not b
        assert "References" in type(a).__doc__
    for fn in (bald, variation_ratios, mc_entropy, vote_entropy, kl_divergence):
        assert "References" in fn.__doc__ or "Gal et al." in fn.__doc__
