"""A learner's saved state, checked: against the save's own parts and against the model.

:mod:`skal._persistence` maps a learner to and from plain data; this module says what that
data must look like when it comes back from a file -- the parameters of ``params.json``, the
arrays of ``state.npz`` (names, dtypes, shapes, and their agreement: as many labels as
samples, the classes of the labels, indices within the pool, ...), the loaded model
(features, classes, output width) and the models of a campaign's rounds (at most one per
fit, each on a prefix of the labeled set) -- and refuses anything else with
``ValueError("... is not a readable skal save: <what>.")``. It never imports the learner: it
checks the class given."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from skal._labels import CLASSIFICATION, REGRESSION, UNLABELED, unlabeled_mask
from skal.io._archive import from_json, read_json, unreadable
from skal.io._bounded import short
from skal.strategies import resolve_strategy

__all__ = ["NOT_SAVED", "SavedState", "check_model", "check_parameters", "check_round_models",
           "check_state", "estimator_params_problem", "round_labels", "savable_estimators",
           "semi_supervised_from_spec", "semi_supervised_spec"]

NOT_SAVED = ("estimator", "oracle", "journal", "stopping")  # given again to load()
_SPEC_KEYS = ("class", "params", "dropped")
_HISTORY_KEYS = {"round": int, "n_labeled": int, "query_time": (int, float),
                 "fit_time": (int, float)}
_HISTORY_DEFAULTS = {"n_pseudo_labeled": 0}  # optional keys (int), absent from older saves
# state.npz: name -> (dtype kinds, ndim; None: 2 or more). feature_names_in is optional.
_STATE = {
    "X_labeled": ("biuf", None), "y_labeled": ("biufU", 1), "labeled_indices": ("iu", 1),
    "labeled_round": ("iu", 1), "queried": ("iu", 1), "queried_sizes": ("iu", 1),
    "classes": ("biufU", 1), "seed": ("iu", 0), "n_features_in": ("iu", 0),
    "history_json": ("U", 0), "feature_names_in": ("U", 1),
}
_KINDS = {"biuf": "numbers", "biufU": "numbers or strings", "iu": "integers", "U": "strings"}

# The constraints of the saved estimators' parameters (skal.keras has none to ask: it checks
# a few at fit time), as a file may give them: JSON values. Model-building code (model,
# build_fn) and callbacks are never JSON, so a save holds None (or nothing) for them.
_COUNT = Interval(Integral, 1, None, closed="left")
_ESTIMATOR_CONSTRAINTS = {
    # skal.KerasClassifier, and the SciKeras parameters it takes
    "model": [None], "build_fn": [None], "callbacks": [None],
    "epochs": [_COUNT], "batch_size": [_COUNT, None], "validation_batch_size": [_COUNT, None],
    "predict_batch_size": [_COUNT], "finetune_epochs": [_COUNT, None],
    "min_train_steps": [_COUNT, None],
    "verbose": [Interval(Integral, 0, 2, closed="both"), StrOptions({"auto"})],
    "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both"), None],
    "warm_start": ["boolean"], "shuffle": ["boolean"], "run_eagerly": ["boolean"],
    "validation_split": [Interval(Real, 0, 1, closed="left")],
    "embedding_layer": [str, None], "optimizer": [str, None],
    "loss": [str, list, dict, None], "metrics": [str, list, dict, None],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    # skal.CNNClassifier
    "input_shape": [tuple, list, None], "filters": [tuple, list], "kernel_size": [_COUNT],
    "dense_units": [_COUNT], "dropout": [Interval(Real, 0, 1, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "shift_augment": [Interval(Integral, 0, None, closed="left")],
}
_ROUTED = {"callbacks"}  # SciKeras routes these prefixes too (besides its _routing_prefixes)


class SavedState(NamedTuple):
    """The arrays of state.npz, checked, as the learner's attributes take them."""

    X: np.ndarray
    y: np.ndarray
    labeled_indices: np.ndarray
    labeled_round: np.ndarray
    queried: list
    classes: np.ndarray
    seed: int
    n_features: int
    history: list
    feature_names: np.ndarray | None


def savable_estimators():
    """The allow-list of estimator classes a save may name (importing it imports Keras)."""
    from skal.keras import SAVABLE_ESTIMATORS

    return SAVABLE_ESTIMATORS


def check_parameters(cls, parameters: dict, path, overridden) -> tuple[Any, dict]:
    """The estimator spec and the learner's parameters of params.json, checked."""
    def bad(why):
        return unreadable(path, f"params.json: {why}")

    extra = sorted(set(parameters) - {"estimator", "learner", "task"})
    if extra or "learner" not in parameters:
        raise bad(f"unexpected keys {short(extra)}" if extra else "no learner parameters")
    spec, saved = parameters.get("estimator"), parameters["learner"]
    check_spec(spec, path)
    if not isinstance(saved, dict):
        raise bad(f"the learner parameters are {short(saved)}, not an object")
    unknown = sorted(set(saved) - set(cls().get_params(deep=False)) | set(saved) & {*NOT_SAVED})
    if unknown:
        raise bad(f"unknown learner parameters {short(unknown)}")
    try:
        values = {name: from_json(value) for name, value in saved.items()}
        if isinstance(values.get("semi_supervised"), dict):
            values["semi_supervised"] = semi_supervised_from_spec(values["semi_supervised"])
        cls(**values)._validate_params()
        strategy = values.get("query_strategy")
        if isinstance(strategy, str) and "query_strategy" not in overridden:
            resolve_strategy(strategy)
    except (TypeError, ValueError) as exc:  # InvalidParameterError is both
        raise bad(str(exc).rstrip(".")) from None
    return spec, values


def semi_supervised_spec(option) -> dict:
    """A skal semi-supervised option as plain data, ``{"class": name, "params": {...}}``."""
    from skal.semi_supervised import SEMI_SUPERVISED

    if type(option) not in SEMI_SUPERVISED.values():
        raise TypeError(
            f"save() can store semi_supervised as a name or one of skal's options "
            f"({', '.join(c.__name__ for c in SEMI_SUPERVISED.values())}), got "
            f"{type(option).__name__}; pass semi_supervised= to skal.load() instead."
        )
    return {"class": type(option).__name__, "params": option.get_params()}


def semi_supervised_from_spec(spec):
    """The option :func:`semi_supervised_spec` stored; ValueError for anything else."""
    from skal.semi_supervised import SEMI_SUPERVISED

    classes = {c.__name__: c for c in SEMI_SUPERVISED.values()}
    if set(spec) != {"class", "params"} or spec["class"] not in classes \
            or not isinstance(spec["params"], dict):
        raise ValueError(f"semi_supervised is {short(spec)}, not a skal option")
    option = classes[spec["class"]](**spec["params"])  # unknown params: a TypeError
    option._validate_params()
    return option


def check_spec(spec, path) -> None:
    """The estimator spec of params.json: None, or an allow-listed class and its params
    (checked by :func:`estimator_params_problem`)."""
    if spec is None:
        return
    name = spec.get("class") if isinstance(spec, dict) else None
    if not isinstance(name, str) or name not in savable_estimators():
        raise unreadable(path, f"params.json: unknown estimator {short(spec)}")
    params, dropped = spec.get("params", {}), spec.get("dropped", [])
    if set(spec) - set(_SPEC_KEYS):
        why = f"unexpected keys {short(sorted(set(spec) - set(_SPEC_KEYS)))}"
    elif not isinstance(params, dict):
        why = f"params are {short(params)}, not an object"
    elif not isinstance(dropped, list) or not all(isinstance(d, str) for d in dropped):
        why = f"dropped is {short(dropped)}, not a list of names"
    else:
        cls = savable_estimators()[name]
        try:
            problem = estimator_params_problem(cls, {k: from_json(v) for k, v in params.items()})
        except ValueError as exc:  # a value from_json cannot decode
            problem = str(exc)
        if problem is None:
            return
        raise unreadable(path, f"params.json: the estimator's parameters do not fit "
                               f"{cls.__name__} ({problem})")
    raise unreadable(path, f"params.json: the estimator's {why}")


def estimator_params_problem(cls, params: dict) -> str | None:
    """What is wrong with ``params`` (decoded) as the parameters of ``cls``; None if nothing.

    A parameter must be one of ``cls``'s (as a default instance lists them), a routed one
    (``model__units``, ``optimizer__learning_rate``, ...: SciKeras' prefixes) or -- for a
    :class:`~skal.KerasClassifier`, whose model-building function takes any keyword -- a
    name that is no attribute of the class; and its value must fit the parameter's
    constraints (:data:`_ESTIMATOR_CONSTRAINTS`: an ``epochs`` of -5, a ``dropout`` of 1.5
    or a bool for a count are refused). Save and load ask the same.
    """
    known = set(cls().get_params(deep=False))
    prefixes = set(getattr(cls, "_routing_prefixes", ())) | _ROUTED
    free = cls.__name__ in ("KerasClassifier", "KerasRegressor")  # model function keywords

    def allowed(name) -> bool:
        head, sep, rest = name.partition("__")
        if sep:
            return head in prefixes and bool(rest)
        return name in known or (free and name.isidentifier() and not name.startswith("_")
                                 and not hasattr(cls, name))

    unknown = sorted(name for name in params if not allowed(name))
    if unknown:
        return f"unknown parameters {short(unknown)}, not parameters of {cls.__name__}"
    constraints = {k: c for k, c in _ESTIMATOR_CONSTRAINTS.items() if k in params}
    for name, allowed_values in constraints.items():
        counts = any(isinstance(c, Interval) and c.type is Integral for c in allowed_values)
        if counts and isinstance(params[name], bool):
            return (f"The {name!r} parameter of {cls.__name__} must be an int, not the bool "
                    f"{params[name]!r}")
    try:
        validate_parameter_constraints(constraints, params, caller_name=cls.__name__)
    except InvalidParameterError as exc:
        return str(exc).rstrip(".")
    for name in ("filters", "input_shape"):
        value = params.get(name)
        if value is None:
            continue
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            return f"{name} is {short(value)}, not a tuple of positive ints"
        if name == "input_shape" and len(value) not in (2, 3):
            return f"input_shape is {short(value)}, not (length, channels) or (height, width, " \
                   "channels)"
    return None


def check_state(arrays: dict[str, np.ndarray], path, task: str = CLASSIFICATION
                ) -> SavedState:
    """state.npz's arrays, checked: names, dtypes, shapes, and against each other.

    ``task``: a classifier's labels and classes agree (two or more); a regressor's labels
    are finite numbers (``-1`` among them) and it has no classes."""
    def bad(why):
        return unreadable(path, f"state.npz: {why}")

    missing = [name for name in _STATE if name not in arrays and name != "feature_names_in"]
    if missing:
        raise bad(f"lacks {missing}")
    extra = sorted(set(arrays) - set(_STATE))
    if extra:
        raise bad(f"unexpected arrays {short(extra)}")
    for name, array in arrays.items():
        kinds, ndim = _STATE[name]
        if array.dtype.kind not in kinds:
            raise bad(f"{name} has dtype {array.dtype}, not {_KINDS[kinds]}")
        if array.ndim != ndim if ndim is not None else array.ndim < 2:
            want = f"{ndim} dimensions" if ndim is not None else "2 or more dimensions"
            raise bad(f"{name} has shape {array.shape}, not {want}")
    X, y, classes = arrays["X_labeled"], arrays["y_labeled"], arrays["classes"]
    n_features, seed = int(arrays["n_features_in"]), int(arrays["seed"])
    if len(X) != len(y):
        raise bad(f"X_labeled has {len(X)} samples but y_labeled has {len(y)} labels")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise bad("X_labeled holds NaN or infinity")
    _check_labels(y, classes, task, bad)
    if n_features != X.shape[1]:
        raise bad(f"n_features_in is {n_features} but X_labeled has {X.shape[1]} features")
    if seed < 0:
        raise bad(f"seed is {seed}, not a seed (>= 0)")
    rounds, labeled = arrays["labeled_round"], arrays["labeled_indices"]
    n_pool = len(rounds)
    queried, sizes = arrays["queried"], arrays["queried_sizes"]
    for name, idx in (("labeled_indices", labeled), ("queried", queried)):
        if idx.size and (idx.min() < 0 or idx.max() >= n_pool):
            raise bad(f"{name} are not all rows of labeled_round's {n_pool} samples")
    if rounds.size and rounds.min() < -1:
        raise bad(f"labeled_round holds {rounds.min()}, below -1 (never labeled)")
    if len(np.unique(labeled)) != len(labeled) or len(labeled) > len(y):
        raise bad(f"labeled_indices ({len(labeled)}) repeat samples or outnumber y_labeled")
    if labeled.size and (rounds[labeled] < 0).any():
        raise bad("labeled_round marks samples of labeled_indices as never labeled")
    if (sizes < 0).any() or sum(sizes.tolist()) != len(queried):
        raise bad(f"queried_sizes {short(sizes.tolist())} do not split the {len(queried)} "
                  "queried indices")
    history = _check_history(arrays["history_json"].item(), bad)
    names = arrays.get("feature_names_in")
    if names is not None and len(names) != n_features:
        raise bad(f"feature_names_in has {len(names)} names for {n_features} features")
    batches = np.split(queried.astype(np.intp), np.cumsum(sizes)[:-1]) if len(sizes) else []
    return SavedState(X, y, labeled, rounds, list(batches), classes, seed, n_features,
                      history, names)


def _check_labels(y: np.ndarray, classes: np.ndarray, task: str, bad) -> None:
    """A classifier's labels are its two or more classes; a regressor's are finite numbers
    and it has no classes."""
    if task == REGRESSION:
        if y.dtype.kind not in "biuf" or not np.isfinite(y.astype(np.float64)).all():
            raise bad("y_labeled of a regressor holds strings, NaN or infinity, not targets")
        if len(classes):
            raise bad(f"classes {short(classes.tolist())}: a regressor has none")
        return
    if unlabeled_mask(y).any():
        raise bad(f"y_labeled holds {UNLABELED} (the marker of unlabeled samples)")
    if len(classes) < 2:
        raise bad(f"classes {short(classes.tolist())}: a classifier has two or more")
    if not _same_values(np.unique(y), classes):
        raise bad(f"classes {short(classes.tolist())} are not the classes of y_labeled "
                  f"{short(np.unique(y).tolist())}")


def _check_history(text: str, bad) -> list:
    try:
        history = read_json(text, "history_json")
    except ValueError as exc:
        raise bad(str(exc)) from None
    if not isinstance(history, list) or not history:
        raise bad(f"history_json is {short(history)}, not a list of fits")
    for i, row in enumerate(history):
        if not isinstance(row, dict):
            raise bad(f"history_json[{i}] is {short(row)}, not an object")
        for key, default in _HISTORY_DEFAULTS.items():
            row.setdefault(key, default)
        for key, kind in {**_HISTORY_KEYS, **dict.fromkeys(_HISTORY_DEFAULTS, int)}.items():
            if isinstance(row.get(key), bool) or not isinstance(row.get(key), kind):
                raise bad(f"history_json[{i}][{key!r}] is {short(row.get(key))}, not a number")
    return history


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Same labels: both strings or both numbers, equal one by one."""
    a, b = np.asarray(np.asarray(a).tolist()), np.asarray(np.asarray(b).tolist())
    return (a.shape == b.shape and (a.dtype.kind == "U") == (b.dtype.kind == "U")
            and bool(np.all(a == b)))


def check_model(estimator, state: SavedState, path, *, round_: int | None = None) -> None:
    """The loaded model agrees with the saved state: features, classes, output width.

    ``round_``: the model is that round's, trained on the first labels of the state (see
    :func:`round_labels`), and must have their classes.
    """
    where = "the model" if round_ is None else f"the model of round {round_}"

    def bad(why):
        return unreadable(path, f"{where} does not match the saved state: {why}")

    expected = state.classes if round_ is None else \
        np.unique(round_labels(state, round_)[1])
    n_features = getattr(estimator, "n_features_in_", state.n_features)
    if n_features != state.n_features:
        raise bad(f"it takes {n_features} features, the state has {state.n_features}")
    if not len(state.classes):  # a regressor's (check_state): one value per sample
        try:
            shape = np.shape(estimator.predict(state.X[:1]))
        except Exception as exc:  # whatever the estimator raises: the sample does not fit
            raise bad(f"it cannot predict a saved sample ({type(exc).__name__}: {exc})"
                      ) from None
        if shape != (1,):
            raise bad(f"it predicts shape {shape} for one sample, not one value")
        return
    classes = getattr(estimator, "classes_", None)
    if classes is not None and not _same_values(classes, expected):
        raise bad(f"its classes {short(np.asarray(classes).tolist())} are not the saved "
                  f"{short(expected.tolist())}")
    try:
        width = np.shape(estimator.predict_proba(state.X[:1]))[-1]
    except Exception as exc:  # whatever the estimator raises: the sample does not fit
        raise bad(f"it cannot predict a saved sample ({type(exc).__name__}: {exc})") from None
    if width != len(expected):
        raise bad(f"it gives {width} class probabilities for {len(expected)} classes")


def round_labels(state: SavedState, round_: int) -> tuple[np.ndarray, np.ndarray]:
    """The labeled samples the model of ``round_`` was trained on: the first ``n_labeled``
    of its history row (pseudo-labeled pool rows aside)."""
    n = state.history[round_]["n_labeled"]
    return state.X[:n], state.y[:n]


def check_round_models(n_rounds: int, state: SavedState, path, *, every_fit: bool) -> None:
    """A save's round models fit its history, both ways, each on saved labels.

    The round models are those of the first ``n_rounds`` fits, in order: never more than the
    history has rows and, where the learner kept one for every fit (``every_fit``: it was
    saved with ``store_round_estimators=True``, and is not loaded with ``False``), exactly
    as many -- so that a round model removed from the file is refused, as one added is.
    Saved with ``store_round_estimators=False``, a learner may hold those of its first fits
    only (kept before it was turned off). Each was trained on a prefix of the labeled set
    that holds a label.
    """
    n_fits = len(state.history)
    if n_rounds > n_fits:
        raise unreadable(path, f"{n_rounds} round models, but history_json records "
                               f"{n_fits} fits")
    if every_fit and n_rounds != n_fits:
        raise unreadable(
            path, f"{n_rounds} round models, but store_round_estimators=True keeps one per "
                  f"fit and history_json records {n_fits} fits (round models removed? pass "
                  "store_round_estimators=False to load() to take the ones there are)"
        )
    for r, row in enumerate(state.history[:n_rounds]):
        if not 1 <= row["n_labeled"] <= len(state.y):
            raise unreadable(
                path, f"history_json[{r}]['n_labeled'] is {row['n_labeled']}, not 1 to "
                      f"{len(state.y)} (the saved labels the model of round {r} was trained on)"
            )
