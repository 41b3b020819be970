"""Save and load a fitted active learner without pickle.

A save is one zip file holding

* ``params.json`` -- the format name and version, skal's version, the learner's parameters
  and the estimator's (its class, from a fixed list, and its JSON-describable parameters);
* ``state.npz`` -- the labelled set, labelled indices and rounds, queried batches, history,
  seed, classes (read back with ``allow_pickle=False``);
* ``model.keras`` -- the trained network, written by the estimator's ``save_fitted`` and
  read back by its ``load_fitted`` (Keras' native format, loaded with ``safe_mode=True``:
  no Python code from the file is executed).

:meth:`ActiveLearningClassifier.save` writes it atomically: to a temporary file in the same
folder, flushed to disk, then renamed over the target, so a crash leaves the previous save
intact. Only estimators that save their network natively and whose class is in the
allow-list ``skal.keras.SAVABLE_ESTIMATORS`` (:class:`skal.CNNClassifier`,
:class:`skal.KerasClassifier`) can be saved this way; others are refused with a
``TypeError``. The estimator is asked through its methods (see :mod:`skal.keras`, "what
skal asks of an estimator"), never by module name.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import uuid
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT_VERSION", "load", "save_learner"]

FORMAT = "skal-learner"
FORMAT_VERSION = 1
_PARAMS, _STATE, _MODEL = "params.json", "state.npz", "model.keras"
# The estimator a save without an estimator spec was fitted with: the learner's estimator=None.
_DEFAULT_ESTIMATOR = "CNNClassifier"
_NOT_SAVED = ("estimator", "oracle", "journal")  # learner params given again to load()
_STATE_KEYS = (
    "X_labeled", "y_labeled", "labeled_indices", "labeled_round", "queried", "queried_sizes",
    "classes", "seed", "n_features_in", "history_json",
)


# --------------------------------------------------------------------------- JSON values


class _NotJSON(Exception):
    pass


def _to_json(value: Any) -> Any:
    """A JSON-able form of a parameter value; tuples are tagged to come back as tuples."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return {"__float__": repr(value)}
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _to_json(v) for k, v in value.items()}}
    raise _NotJSON(type(value).__name__)


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        if set(value) == {"__dict__"}:
            return {k: _from_json(v) for k, v in value["__dict__"].items()}
        raise ValueError(f"unexpected JSON object {value!r}")
    return value


# --------------------------------------------------------------------------- save


def _savable_estimators():
    """The allow-list of estimator classes a save may name (importing it imports Keras)."""
    from skal.keras import SAVABLE_ESTIMATORS

    return SAVABLE_ESTIMATORS


def _saved_name(fitted) -> str | None:
    """The allow-listed name of ``fitted``'s class, None if it cannot be saved natively."""
    if not callable(getattr(fitted, "save_fitted", None)):
        return None  # checked first: refusing a LogisticRegression imports no TensorFlow
    cls = type(fitted)
    return cls.__name__ if _savable_estimators().get(cls.__name__) is cls else None


def _estimator_spec(learner) -> dict | None:
    source = learner.estimator
    fitted = learner.estimator_
    cls = type(fitted)
    saved_name = _saved_name(fitted)
    if saved_name is None:
        raise TypeError(
            f"save() stores Keras estimators only (skal.CNNClassifier, skal.KerasClassifier), "
            f"in Keras' native format; this learner's estimator is {cls.__module__}."
            f"{cls.__qualname__}. Refusing to pickle it: keep its labels in a LabelJournal "
            "and rebuild it with ActiveLearningClassifier.from_journal instead."
        )
    if source is None:
        return None
    params, dropped = {}, []
    for name, value in source.get_params(deep=False).items():
        try:
            params[name] = _to_json(value)
        except _NotJSON:
            dropped.append(name)
    return {"class": saved_name, "params": params, "dropped": dropped}


def _learner_params(learner) -> dict:
    out = {}
    for name, value in learner.get_params(deep=False).items():
        if name in _NOT_SAVED:
            continue
        if name == "query_strategy" and not isinstance(value, str):
            raise TypeError(
                f"save() needs query_strategy to be a registered name (a str), got "
                f"{type(value).__name__}; a strategy object or callable cannot be stored "
                "without pickle. Save with a name, or pass query_strategy= to skal.load()."
            )
        if name == "random_state" and not (value is None or isinstance(value, int)):
            value = None  # a RandomState object: the derived seed is saved in state.npz
        try:
            out[name] = _to_json(value)
        except _NotJSON:
            raise TypeError(
                f"save() cannot store the learner parameter {name}={value!r} as JSON."
            ) from None
    return out


def _labels_array(name: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype == object:
        items = values.tolist()
        if len({type(v) for v in items}) <= 1:
            values = np.asarray(items) if items else np.empty(0, dtype=np.int64)
    if values.dtype.kind not in "biufU":
        raise TypeError(
            f"save() stores labels that are numbers or strings; {name} has dtype "
            f"{values.dtype}."
        )
    return values


def _state_arrays(learner) -> dict[str, np.ndarray]:
    queried = list(getattr(learner, "queried_indices_", []))
    state = {
        "X_labeled": np.asarray(learner.X_labeled_),
        "y_labeled": _labels_array("y_labeled_", learner.y_labeled_),
        "labeled_indices": np.asarray(learner.labeled_indices_, dtype=np.int64),
        "labeled_round": np.asarray(learner.labeled_round_, dtype=np.int64),
        "queried": (
            np.concatenate([np.asarray(q, dtype=np.int64) for q in queried])
            if queried else np.empty(0, dtype=np.int64)
        ),
        "queried_sizes": np.asarray([len(q) for q in queried], dtype=np.int64),
        "classes": _labels_array("classes_", learner.classes_),
        "seed": np.asarray(learner._seed, dtype=np.int64),
        "n_features_in": np.asarray(learner.n_features_in_, dtype=np.int64),
        "history_json": np.asarray(json.dumps(learner.history_, default=float)),
    }
    if state["X_labeled"].dtype.kind not in "biuf":
        raise TypeError(f"save() stores numeric samples; X_labeled_ is {state['X_labeled'].dtype}.")
    names = getattr(learner, "feature_names_in_", None)
    if names is not None:
        state["feature_names_in"] = np.asarray(names, dtype=str)
    return state


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_learner(learner, path: str | os.PathLike) -> Path:
    """Write a fitted learner to ``path``, atomically; see :meth:`ActiveLearningClassifier.save`.

    Parameters
    ----------
    learner : ActiveLearningClassifier
        A fitted learner with a Keras estimator.
    path : str or path-like
        The file to write.

    Returns
    -------
    pathlib.Path
    """
    from sklearn.utils.validation import check_is_fitted

    from skal import __version__

    check_is_fitted(learner)
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory; save() writes one file.")
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skal_version": __version__,
        "estimator": _estimator_spec(learner),
        "learner": _learner_params(learner),
    }
    state = _state_arrays(learner)
    folder = path.parent if str(path.parent) else Path(".")
    tmp = folder / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".skal-save-") as scratch:
            model_file = os.path.join(scratch, _MODEL)
            learner.estimator_.save_fitted(model_file)
            buffer = io.BytesIO()
            np.savez(buffer, **state)
            with open(tmp, "wb") as fh:
                with zipfile.ZipFile(fh, "w") as zf:
                    zf.writestr(_PARAMS, json.dumps(header, indent=2), zipfile.ZIP_DEFLATED)
                    zf.writestr(_STATE, buffer.getvalue(), zipfile.ZIP_DEFLATED)
                    zf.write(model_file, _MODEL, zipfile.ZIP_STORED)
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return path


# --------------------------------------------------------------------------- load


def _bad(path: Path, why: str) -> ValueError:
    return ValueError(f"{str(path)!r} is not a readable skal save: {why}.")


def _read_archive(path: Path) -> tuple[dict, dict[str, np.ndarray], bytes]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise _bad(path, "not a zip archive (not a skal save, or a truncated one)") from exc
    with zf:
        names = set(zf.namelist())
        if _PARAMS not in names:
            raise _bad(path, f"no {_PARAMS} inside (not a skal save)")
        try:
            header = json.loads(zf.read(_PARAMS))
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, OSError,
                EOFError) as exc:
            raise _bad(path, f"{_PARAMS} is damaged ({exc})") from exc
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise _bad(path, f"{_PARAMS} does not describe a skal learner")
        version = header.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r} is a skal save in format version {version!r} (written by skal "
                f"{header.get('skal_version', '?')}), but this skal "
                f"reads version {FORMAT_VERSION}."
            )
        missing = {_STATE, _MODEL} - names
        if missing:
            raise _bad(path, f"incomplete: {sorted(missing)} missing")
        try:
            bad_member = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _bad(path, f"damaged archive ({exc})") from exc
        if bad_member is not None:
            raise _bad(path, f"{bad_member} is corrupted (CRC mismatch)")
        try:
            with np.load(io.BytesIO(zf.read(_STATE)), allow_pickle=False) as npz:
                state = {k: npz[k] for k in npz.files}
        except Exception as exc:  # numpy raises many kinds here; none should escape raw
            raise _bad(path, f"{_STATE} is damaged ({type(exc).__name__}: {exc})") from exc
        absent = [k for k in _STATE_KEYS if k not in state]
        if absent:
            raise _bad(path, f"{_STATE} lacks {absent}")
        model_bytes = zf.read(_MODEL)
    return header, state, model_bytes


def _build_estimator(spec: dict | None, path: Path):
    if spec is None:
        return None
    name = spec.get("class") if isinstance(spec, dict) else None
    allowed = _savable_estimators()
    if not isinstance(name, str) or name not in allowed:
        raise _bad(path, f"unknown estimator {spec!r}")
    cls = allowed[name]
    try:
        params = {k: _from_json(v) for k, v in dict(spec.get("params", {})).items()}
        estimator = cls(**params)
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"the estimator's parameters do not fit {cls.__name__} ({exc})") from exc
    dropped = list(spec.get("dropped", []))
    if dropped:
        warnings.warn(
            f"{cls.__name__} parameters {dropped} could not be stored as JSON and have their "
            "defaults after loading; predictions are unaffected, but pass estimator= to "
            "skal.load() to refit (teach) with them.",
            UserWarning,
            stacklevel=3,
        )
    return estimator


def load(path: str | os.PathLike, *, custom_objects: dict | None = None, **params):
    """Load a learner saved with :meth:`ActiveLearningClassifier.save`.

    Nothing is unpickled and no code from the file runs: parameters are JSON, arrays are read
    with ``allow_pickle=False`` and the Keras model with ``safe_mode=True``. The loaded
    learner gives the same ``predict_proba`` as the saved one and, having the same seed and
    history, the same next ``query``.

    Parameters
    ----------
    path : str or path-like
        The saved file.
    custom_objects : dict or None, default=None
        Custom Keras layers or functions of your own model, as for
        ``keras.saving.load_model``.
    **params
        Learner parameters to set on the loaded learner, typically ``oracle=`` and
        ``journal=`` (never saved), ``query_strategy=`` (a callable or object), or
        ``estimator=`` (an unfitted estimator whose parameters replace the saved ones, e.g.
        a ``KerasClassifier`` with its model-building function; the saved network is kept).

    Returns
    -------
    learner : ActiveLearningClassifier
        The fitted learner.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a skal save, is truncated or damaged, or has another format
        version.
    """
    from sklearn.base import clone

    from skal._learner import ActiveLearningClassifier

    path = Path(path)
    if path.is_dir():
        raise _bad(path, "it is a directory")
    if not path.exists():
        raise FileNotFoundError(f"no skal save at {str(path)!r}.")
    header, state, model_bytes = _read_archive(path)
    try:
        learner_params = {k: _from_json(v) for k, v in dict(header["learner"]).items()}
        history = json.loads(str(state["history_json"]))
        seed = int(state["seed"])
        n_features = int(state["n_features_in"])
        sizes = state["queried_sizes"].astype(np.intp)
        queried = np.split(state["queried"].astype(np.intp), np.cumsum(sizes)[:-1])
        if not len(sizes):
            queried = []
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"inconsistent contents ({type(exc).__name__}: {exc})") from exc
    if "estimator" in params:
        spec_estimator = params.pop("estimator")
    else:
        spec_estimator = _build_estimator(header.get("estimator"), path)
    learner = ActiveLearningClassifier(estimator=spec_estimator, **learner_params)
    unknown = set(params) - set(learner.get_params(deep=False))
    if unknown:
        raise TypeError(f"load() got unknown learner parameters {sorted(unknown)}.")
    learner.set_params(**params)
    learner._validate_params()

    if spec_estimator is None:
        spec_estimator = _savable_estimators()[_DEFAULT_ESTIMATOR]()
    X_labeled, y_labeled = state["X_labeled"], state["y_labeled"]
    learner.estimator_ = _load_fitted(
        clone(spec_estimator), path, model_bytes, X_labeled, y_labeled, custom_objects
    )
    _restore_state(learner, state, queried, history, seed, n_features)
    return learner


def _restore_state(learner, state: dict, queried: list, history, seed: int, n_features: int):
    """Set the loaded learner's fitted attributes (its estimator_ is already set)."""
    learner.X_labeled_ = state["X_labeled"]
    learner.y_labeled_ = state["y_labeled"]
    learner.n_labeled_ = len(state["y_labeled"])
    learner.labeled_indices_ = state["labeled_indices"].astype(np.intp)
    learner.labeled_round_ = state["labeled_round"].astype(np.intp)
    learner.queried_indices_ = list(queried)
    learner.history_ = history
    learner.classes_ = state["classes"]
    learner.n_features_in_ = n_features
    if "feature_names_in" in state:
        learner.feature_names_in_ = state["feature_names_in"].astype(object)
    learner._seed = seed


def _load_fitted(estimator, path: Path, model_bytes: bytes, X, y, custom_objects: dict | None):
    """``estimator`` (unfitted) made the saved one, by its ``load_fitted``."""
    if not callable(getattr(estimator, "load_fitted", None)):
        raise _bad(
            path,
            f"the estimator {type(estimator).__name__} cannot load a saved network (it has no "
            "load_fitted method); pass an estimator= that can",
        )
    with tempfile.TemporaryDirectory(prefix="skal-load-") as scratch:
        model_file = os.path.join(scratch, _MODEL)
        with open(model_file, "wb") as fh:
            fh.write(model_bytes)
        try:
            return estimator.load_fitted(model_file, X, y, custom_objects=custom_objects)
        except ValueError as exc:  # the file's network, or it does not fit the estimator
            raise _bad(path, str(exc)) from exc
