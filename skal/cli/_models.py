"""The model of a labeling session: by name, a saved learner, or a factory of your own.

``--model`` is ``cnn``, ``logreg``, ``linear``, ``auto`` (the default: the CNN for images and
arrays, a numeric + categorical pipeline for a table, TF-IDF + logistic regression for text),
the path of a learner saved with :meth:`skal.ActiveLearningClassifier.save` (read with
:func:`skal.load`, which runs no code from the file), or ``package.module:function``: an
importable function called with no argument that returns an estimator or an
:class:`~skal.ActiveLearningClassifier`. **Importing a factory runs its code, by design**:
name only modules you trust. A fitted model (a save's, a fitted estimator or learner) is the
campaign's starting point (:meth:`skal.Campaign.start_from`): it chooses the first samples,
and the first retraining is on the answers.

``--target number`` makes the session an :class:`~skal.ActiveLearningRegressor` (default
models end in ``BayesianRidge``, whose ``return_std`` the "variance" strategy reads; text in a
``Ridge``, its variance from bootstrap clones; arrays and images in :class:`skal.CNNRegressor`),
``--target set`` a multi-label :class:`~skal.ActiveLearningClassifier` (default models end in
``OneVsRestClassifier(LogisticRegression)``).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skal.cli._kinds import CLASS, NUMBER, SET
from skal.oracles import safe_text

__all__ = ["CAMPAIGN_DEFAULTS", "NAMES", "PoolTfidf", "PoolVectors", "default_model",
           "session_learner", "table_model", "text_model"]

NAMES = ("auto", "cnn", "logreg", "linear")
#: ``skal label``'s campaign options and their defaults; a learner of your own keeps its
#: settings except for the options given other values on the command line.
CAMPAIGN_DEFAULTS = {"batch_size": 10, "initial_size": 10, "strategy": None,
                     "max_labels": None, "seed": 0, "stop": None}
#: option -> the learner parameter it sets
PARAMS = {"batch_size": "n_instances", "initial_size": "initial_size",
          "strategy": "query_strategy", "max_labels": "max_labels", "seed": "random_state",
          "stop": "stopping"}
#: --target -> the default strategy (None: --strategy not given)
STRATEGIES = {CLASS: "auto", NUMBER: "variance", SET: "auto"}


def _fail(value: str, why: str) -> ValueError:
    return ValueError(f"--model {safe_text(value)!r}: {why}")


def default_model(name: str, pool, *, epochs: int = 15, seed: int = 0, target: str = CLASS):
    """The estimator ``--model cnn|logreg|linear|auto`` names for ``pool`` (a
    :class:`Pool`) and the ``--target`` kind (a class, a number, a set of labels)."""
    _check_name(name, pool, target)
    if pool.kind == "text":
        return text_model(pool.text_column, pool.X[pool.text_column],
                          final=None if target == CLASS else final_step(target, sparse=True))
    if pool.kind == "table":
        return table_model(pool.X, final=None if target == CLASS else final_step(target))
    if name in ("logreg", "linear") or target == SET:
        return final_step(target)
    shape = pool.shape if pool.shape and len(pool.shape) in (2, 3) else None
    input_shape = None if shape is None else ((*shape, 1) if len(shape) == 2 else shape)
    if target == NUMBER:
        from skal.keras import CNNRegressor

        return CNNRegressor(input_shape=input_shape, epochs=epochs, random_state=seed)
    from skal.keras import CNNClassifier

    return CNNClassifier(input_shape=input_shape, epochs=epochs, random_state=seed)


def _check_name(name: str, pool, target: str) -> None:
    """Names that do not fit the pool or the target, refused with the ones that do."""
    if name == "cnn" and pool.kind in ("text", "table"):
        what = "a text pool's default is TF-IDF +" if pool.kind == "text" else \
            "a table's default is a numeric + categorical pipeline and"
        raise _fail(name, f"the CNN reads images; {what} a linear model (--model auto or "
                          "linear)")
    if name == "cnn" and target == SET:
        raise _fail(name, "the CNN gives one class per sample; for --target set use --model "
                          "auto or linear (one logistic regression per label), or a factory "
                          "of a sigmoid network")
    if name == "logreg" and target == NUMBER:
        raise _fail(name, "a logistic regression predicts classes; for --target number use "
                          "--model linear (BayesianRidge) or auto")


def final_step(target: str, *, sparse: bool = False):
    """The last step of a default model: a logistic regression for a class, BayesianRidge
    for a number (Ridge on sparse TF-IDF rows), one logistic regression per label for a
    set."""
    from sklearn.linear_model import BayesianRidge, LogisticRegression, Ridge

    if target == NUMBER:
        return Ridge() if sparse else BayesianRidge()
    if target == SET:
        from sklearn.multiclass import OneVsRestClassifier

        return OneVsRestClassifier(LogisticRegression(max_iter=1000))
    return LogisticRegression(max_iter=1000)


def text_model(column: str, texts=None, final=None):
    """TF-IDF of words and word pairs, then a logistic regression (or ``final``), on a text
    column.

    With the pool's ``texts``, the vocabulary and weights are fitted on the whole pool once
    (no labels are read) and its rows computed once (:class:`PoolTfidf`): a query or a
    retraining then looks rows up instead of tokenizing thousands of texts again.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=1, max_features=100_000,
                            sublinear_tf=True, strip_accents="unicode")
    vectors = None if texts is None else PoolVectors(tfidf, texts)
    return make_pipeline(PoolTfidf(column, tfidf, vectors),
                         final or LogisticRegression(max_iter=1000, C=10.0))


class PoolVectors:
    """The TF-IDF rows of a pool's texts, computed once and shared by every copy of the
    model (a copy, as each retraining makes, is the same object: the rows never change)."""

    def __init__(self, vectorizer, texts) -> None:
        from sklearn.base import clone as clone_estimator

        texts = [str(t) for t in texts]
        self.vectorizer = clone_estimator(vectorizer)
        self.matrix = self.vectorizer.fit_transform(texts).tocsr()
        self.rows: dict[str, int] = {}
        for i, text in enumerate(texts):
            self.rows.setdefault(text, i)

    def __deepcopy__(self, memo):
        return self

    def transform(self, texts):
        from scipy import sparse

        texts = [str(t) for t in texts]
        rows = [self.rows.get(t, -1) for t in texts]
        missing = [k for k, r in enumerate(rows) if r < 0]
        if not missing:
            return self.matrix[rows]
        new = self.vectorizer.transform([texts[k] for k in missing]).tocsr()
        parts = [self.matrix[r] if r >= 0 else None for r in rows]
        for j, k in enumerate(missing):
            parts[k] = new[j]
        return sparse.vstack(parts, format="csr")


class PoolTfidf(TransformerMixin, BaseEstimator):
    """The TF-IDF step of the default text model: a DataFrame's ``column`` of texts to rows.

    Parameters
    ----------
    column : str
        The column of texts.
    vectorizer : TfidfVectorizer
        Fitted on the texts ``fit`` sees, when ``vectors`` is None.
    vectors : PoolVectors or None
        The pool's rows, computed once: ``fit`` is then a no-op and ``transform`` a lookup.
    """

    def __init__(self, column="text", vectorizer=None, vectors=None) -> None:
        self.column, self.vectorizer, self.vectors = column, vectorizer, vectors

    def _texts(self, X):
        return X[self.column].tolist() if hasattr(X, "columns") else list(X)

    def fit(self, X, y=None):
        if self.vectors is None:
            self.vectorizer_ = clone(self.vectorizer).fit(self._texts(X))
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        if self.vectors is not None:
            return self.vectors.transform(self._texts(X))
        return self.vectorizer_.transform(self._texts(X))


def table_model(frame, final=None):
    """Numbers imputed and scaled, other columns one-hot (the 20 most frequent values of
    each), then a logistic regression (or ``final``; its input is dense)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = [c for c in frame.columns
               if frame[c].dtype.kind in "iuf" and frame[c].dtype.kind != "b"]
    others = [c for c in frame.columns if c not in numbers]
    steps = []
    if numbers:
        steps.append(("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numbers))
    if others:
        steps.append(("categories", make_pipeline(
            _AsText(), SimpleImputer(strategy="constant", fill_value="(missing)"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20)), others))
    if final is None:
        return make_pipeline(ColumnTransformer(steps), LogisticRegression(max_iter=1000))
    return make_pipeline(ColumnTransformer(steps, sparse_threshold=0.0), final)


def _as_text(X):
    """Categories as strings (a column of numbers and words, or of booleans, is one kind);
    missing values stay missing for the imputer."""
    import pandas as pd

    frame = pd.DataFrame(X)
    return frame.apply(lambda col: col.map(lambda v: v if pd.isna(v) else str(v))).astype(object)


def _AsText():  # noqa: N802 - reads as the step it makes
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(_as_text, feature_names_out="one-to-one")


# ------------------------------------------------------------------------------ your own


def session_learner(args, pool):
    """``(learner, start)``: the session's :class:`~skal.ActiveLearningClassifier` (an
    :class:`~skal.ActiveLearningRegressor` for ``--target number``) and the fitted model it
    starts from (None: the first model is fitted on answers)."""
    from skal import ActiveLearningClassifier, ActiveLearningRegressor

    value, target = str(args.model), getattr(args, "target", CLASS)
    kind = ActiveLearningRegressor if target == NUMBER else ActiveLearningClassifier
    params = {PARAMS[name]: getattr(args, name, default)
              for name, default in CAMPAIGN_DEFAULTS.items()}
    params["stopping"] = _stopping(params["stopping"])
    params["query_strategy"] = params["query_strategy"] or STRATEGIES[target]
    if value in NAMES:
        estimator = default_model(value, pool, epochs=args.epochs, seed=args.seed,
                                  target=target)
        return kind(estimator, **params), None
    made = _load_save(value) if _looks_like_file(value) else _call_factory(value, target)
    _check_target(value, made, target)
    if isinstance(made, ActiveLearningClassifier | ActiveLearningRegressor):
        learner, start = _from_learner(made, args)
    else:
        learner, start = kind(clone(made), **params), _fitted(made)
    _check_fits_pool(value, start, pool)
    return learner, start


def _check_target(value: str, made, target: str) -> None:
    """A regressor for ``--target number`` only, a classifier otherwise."""
    from sklearn.base import is_regressor

    if is_regressor(made) and target != NUMBER:
        raise _fail(value, f"{type(made).__name__} is a regressor: add --target number to "
                           "label numbers (or return a classifier)")
    if target == NUMBER and not is_regressor(made):
        raise _fail(value, f"{type(made).__name__} is not a regressor, but --target number "
                           "asks for numbers: return a regressor or an "
                           "ActiveLearningRegressor (or drop --target number)")


def _stopping(name):
    """``--stop``'s criterion (see skal.stopping), or None."""
    if name is None:
        return None
    from skal.stopping import OverallUncertainty, StabilizingPredictions

    return {"stable": StabilizingPredictions, "confident": OverallUncertainty}[name]()


def _looks_like_file(value: str) -> bool:
    path = Path(value)
    return path.exists() or ":" not in value or path.suffix.lower() == ".skal"


def _load_save(value: str):
    import skal

    path = Path(value)
    if not path.exists():
        raise _fail(value, f"no such file, and not a name ({', '.join(NAMES)}) or a factory "
                           "package.module:function")
    if path.is_dir():
        raise _fail(value, "is a folder; give a file saved with learner.save(PATH)")
    try:
        return skal.load(path)
    except (ValueError, TypeError, OSError) as exc:
        raise _fail(value, f"not a saved skal learner ({exc}); save one with "
                           "ActiveLearningClassifier.save, or give a name or a factory "
                           "package.module:function") from None


def _call_factory(value: str, target: str = CLASS):
    """Import ``package.module:function`` (its code runs) and call the function."""
    module_name, _, attr = value.rpartition(":")
    if not module_name or not attr or not all(p.isidentifier() for p in
                                              [*module_name.split("."), *attr.split(".")]):
        raise _fail(value, "a factory is package.module:function (dotted Python names)")
    if os.getcwd() not in sys.path:  # as `python -m` would: modules beside you are found
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _fail(value, f"cannot import {module_name}: {exc} (is it installed, or in the "
                           "current folder?)") from None
    except Exception as exc:  # noqa: BLE001 - the user's module failed: say where
        raise _fail(value, f"importing {module_name} raised {type(exc).__name__}: {exc}") \
            from None
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise _fail(value, f"{module_name} has no {attr}")
    if isinstance(factory, type) or not callable(factory):
        what = "a class" if isinstance(factory, type) else "not callable"
        raise _fail(value, f"{attr} is {what}; name a function that returns an estimator or "
                           "a learner")
    try:
        made = factory()
    except Exception as exc:  # noqa: BLE001 - the user's function failed: say so
        raise _fail(value, f"{attr}() raised {type(exc).__name__}: {exc}") from None
    return _check_estimator(value, made, target)


def _check_estimator(value: str, made, target: str = CLASS):
    if isinstance(made, type):
        raise _fail(value, f"returned the class {made.__name__}, not an estimator: return "
                           f"{made.__name__}(...)")
    if not hasattr(made, "fit") or not hasattr(made, "get_params"):
        raise _fail(value, f"returned {type(made).__name__}, which is not a scikit-learn "
                           "estimator (no fit/get_params); return a classifier or an "
                           "ActiveLearningClassifier")
    _check_target(value, made, target)
    if target != NUMBER and not hasattr(made, "predict_proba"):
        raise _fail(value, f"{type(made).__name__} has no predict_proba: the strategies and "
                           "the model's guess need class probabilities (e.g. "
                           "SVC(probability=True))")
    return made


def _fitted(estimator):
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return None
    return estimator


def _from_learner(made, args):
    """A learner's own settings, the options changed on the command line over them, and
    its fitted model as the start."""
    params = made.get_params(deep=False)
    if params["estimator"] is not None:  # None: the learner's default model (the CNN)
        params["estimator"] = clone(params["estimator"])
    params.update(journal=None, oracle=None)
    for name, default in CAMPAIGN_DEFAULTS.items():
        given = getattr(args, name, default)
        if given != default:
            params[PARAMS[name]] = _stopping(given) if name == "stop" else given
    start = made.__dict__.get("campaign_")
    return type(made)(**params), None if start is None else start.estimator_


def _check_fits_pool(value: str, start, pool) -> None:
    """A starting model reads the pool's features: their number, or a table's names."""
    if start is None:
        return
    names = getattr(start, "feature_names_in_", None)
    columns = list(getattr(pool.X, "columns", []))
    if names is not None and columns and list(names) != columns:
        missing = [str(n) for n in names if n not in columns][:5]
        raise _fail(value, f"the model was trained on columns {list(map(str, names))[:8]} but "
                           f"the pool gives {columns[:8]}"
                           + (f" (missing: {missing})" if missing else "")
                           + "; choose them with --features or --text-column")
    n = getattr(start, "n_features_in_", None)
    if n is not None and not columns and int(n) != pool.X.shape[1]:
        raise _fail(value, f"the model reads {n} features but the pool's samples have "
                           f"{pool.X.shape[1]}")
