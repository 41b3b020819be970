"""Every registered strategy on any classifier: a table of strategy name x model, each cell a
short campaign that runs or an error that names the option that makes it run; a grid search
over every name on a DataFrame + ColumnTransformer + RandomForest pipeline; and the features
a model without ``embed`` is seen through (what its Pipeline's last step sees).

The CNN row of the table (a Keras model with ``embed`` and MC-dropout passes) is
``test_grid_search_over_every_strategy_name_with_cnn`` and
``test_campaign_runs_with_every_deep_strategy`` in test_strategies_deep.py: every name, a
campaign each, errors raised -- not repeated here, where every cell costs a fit.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skal import ActiveLearningClassifier
from skal.strategies import QueryContext, names_for_task, resolve_strategy, select_batch

NAMES = names_for_task("classification")  # regression and multi-label names: their tests
# Strategies that read a vector per sample (embeddings or features) rather than only the
# model's probabilities: a bare model given strings cannot give them one.
READ_FEATURES = ["badge", "coreset", "density", "diverse_margin", "probcover", "typiclust"]
NEEDS_A_PIPELINE = "Pipeline whose first steps turn them into numbers"


def city_frame(n=200, seed=0):
    """Two numeric columns and a string column; three string classes, one per city-ish."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["lyon", "paris", "nice"], n)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    y = np.where(city == "lyon", "north", np.where(a + b > 0, "east", "west"))
    return pd.DataFrame({"a": a, "b": b, "city": city}), y


def forest_pipeline():
    encode = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                                ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])])
    return Pipeline([("encode", encode),
                     ("forest", RandomForestClassifier(n_estimators=10, random_state=0))])


@pytest.fixture(scope="module")
def rows(digits_xy):
    """model name -> (a fresh model, X, y)."""
    X, y = digits_xy
    frame, labels = city_frame()
    return {
        "pipeline_forest": (forest_pipeline, frame, labels),
        "logreg": (lambda: LogisticRegression(max_iter=200), X[:200], y[:200]),
    }


def campaign(model, name, X, y):
    learner = ActiveLearningClassifier(model, query_strategy=name, n_queries=1, n_instances=5,
                                       initial_size=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class with a single initial label
        return learner.fit(X, y)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("model", ["pipeline_forest", "logreg"])
def test_every_strategy_runs_a_campaign_on_any_classifier(rows, model, name):
    make, X, y = rows[model]
    learner = campaign(make(), name, X, y)
    assert learner.n_labeled_ == 25
    assert [len(np.unique(q)) for q in learner.queried_indices_] == [5]


@pytest.mark.parametrize("name", [*READ_FEATURES, "entropy", "vote_entropy", "bald"])
def test_a_model_that_takes_strings_itself_runs_or_names_the_pipeline(name):
    # HistGradientBoosting reads the category column itself: the probabilities are there
    # (and so are its bootstrap clones), but not a vector per sample -- the strategies that
    # need one name the Pipeline that gives it
    frame, y = city_frame(80)
    frame = frame.astype({"city": "category"})
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features="from_dtype")
    if name in READ_FEATURES:
        with pytest.raises(ValueError, match=f"must be numbers.*{NEEDS_A_PIPELINE}"):
            campaign(model, name, frame, y)
    else:
        assert campaign(model, name, frame, y).n_labeled_ == 25


def test_auto_at_a_low_budget_checks_its_embedding_through_the_pipeline():
    # 2 labels per class (< 3): the cold start, whose embedding check reads the features
    frame, y = city_frame()
    labeled = np.concatenate([np.flatnonzero(y == c)[:2] for c in np.unique(y)])
    pipe = forest_pipeline().fit(frame.iloc[labeled], y[labeled])
    auto = resolve_strategy("auto")
    idx, _ = select_batch(auto, pipe, frame, 5, QueryContext(
        random_state=0, X_labeled=frame.iloc[labeled], y_labeled=y[labeled]))
    assert auto.last_choice_ in ("probcover", "random") and len(np.unique(idx)) == 5


def test_grid_search_over_every_name_on_a_dataframe_pipeline():
    frame, y = city_frame(160)
    learner = ActiveLearningClassifier(forest_pipeline(), n_queries=1, n_instances=5,
                                       initial_size=20, random_state=0)
    search = GridSearchCV(learner, {"query_strategy": NAMES}, cv=2, error_score="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(frame, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == len(NAMES) and not np.isnan(scores).any()


@pytest.mark.parametrize("name", ["vote_entropy", "kl_divergence", "bald", "variation_ratios",
                                  "mc_entropy"])
def test_a_frozen_model_has_no_committee_and_says_what_runs(digits_xy, name):
    # its clones are itself: 5 equal members would agree everywhere (a batch of the first rows)
    from sklearn.frozen import FrozenEstimator

    X, y = digits_xy
    frozen = FrozenEstimator(LogisticRegression(max_iter=200).fit(X[:100], y[:100]))
    context = QueryContext(random_state=0, X_labeled=X[:100], y_labeled=y[:100])
    with pytest.raises(TypeError, match="cannot be refitted.*query_strategy='margin'"):
        select_batch(resolve_strategy(name), frozen, X[100:300], 5, context)


# ---------------------------------------------------------------- what they see
@pytest.mark.parametrize("name", READ_FEATURES)
def test_a_pipeline_without_embed_is_seen_through_its_preprocessing(name):
    # a one-hot encoded string column: the batch of the same model on the encoded numbers
    frame, y = city_frame(150)
    encode = ColumnTransformer([("cat", OneHotEncoder(), ["city"])], remainder="passthrough")
    pipe = Pipeline([("encode", encode), ("model", LogisticRegression())])
    numbers = np.column_stack([pd.get_dummies(frame["city"]).to_numpy(float),
                               frame[["a", "b"]].to_numpy()])
    labeled = np.arange(30)
    pipe.fit(frame.iloc[labeled], y[labeled])
    plain = LogisticRegression().fit(numbers[labeled], y[labeled])
    np.testing.assert_allclose(pipe[:-1].transform(frame), numbers)
    got = select_batch(resolve_strategy(name), pipe, frame.iloc[30:], 6,
                       QueryContext(random_state=1, X_labeled=frame.iloc[labeled],
                                    y_labeled=y[labeled]))
    expected = select_batch(resolve_strategy(name), plain, numbers[30:], 6,
                            QueryContext(random_state=1, X_labeled=numbers[labeled],
                                         y_labeled=y[labeled]))
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1])


def test_coreset_before_any_fit(digits_xy):
    # zero labels: a bare model's raw features need no fit; a Pipeline's preprocessing does
    from sklearn.base import clone

    X, _ = digits_xy
    idx, _ = select_batch(resolve_strategy("coreset"), LogisticRegression(), X[:200], 5,
                          QueryContext())
    assert len(np.unique(idx)) == 5
    frame, _ = city_frame()
    with pytest.raises(ValueError, match="not fitted yet.*query_strategy='typiclust' or "
                                         "'probcover'"):
        select_batch(resolve_strategy("coreset"), clone(forest_pipeline()), frame, 5,
                     QueryContext())


@pytest.mark.parametrize("name", NAMES)
def test_every_strategy_asks_at_the_end_of_a_small_pool(name):
    # 8 samples, 6 answered (2-3 a class): "auto"'s embedding check built a 10-neighbour
    # graph on 8 points, a raw scikit-learn error.
    from sklearn.datasets import load_iris

    from skal import Campaign

    X, y = load_iris(return_X_y=True)
    rows = [0, 1, 50, 51, 100, 101, 2, 52]
    campaign = Campaign(ActiveLearningClassifier(LogisticRegression(max_iter=300),
                                                 query_strategy=name, random_state=0), X[rows])
    campaign.answer(np.arange(6), y[rows][:6])
    campaign.refit()
    assert sorted(campaign.next_batch(2).tolist()) == [6, 7]
