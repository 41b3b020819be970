"""What a learner keeps on disk: save files, the label journal, pickles.

:class:`PersistenceMixin` maps a fitted :class:`~skal.ActiveLearningClassifier` to plain data
(parameters as JSON, state as numpy arrays, the network through the estimator's
``save_fitted``) for :mod:`skal.io._archive`, which knows the file format and nothing of the
learner, and :func:`load_learner` maps it back, checking (with :mod:`skal._saved_state`) the
state against itself and against the loaded model. This module never imports the learner: it
works on ``self`` or the class it is given. Keras is asked only through the estimator
protocol of :mod:`skal.keras` (``save_fitted``, ``load_fitted``, ``SAVABLE_ESTIMATORS``).
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.utils.validation import check_is_fitted

from skal._labels import CLASSIFICATION, REGRESSION, plain_labels
from skal._saved_state import (
    NOT_SAVED,
    SavedState,
    check_model,
    check_parameters,
    check_round_models,
    check_state,
    estimator_params_problem,
    round_labels,
    savable_estimators,
    semi_supervised_spec,
)
from skal.campaign import Campaign, CampaignSpec
from skal.io._archive import NotJSON, from_json, read_save, to_json, unreadable, write_save
from skal.io._bounded import short
from skal.io.journal import LabelJournal

__all__ = ["PersistenceMixin", "load_learner"]

# The estimator a save without an estimator spec was fitted with (the learner's
# estimator=None), by the task of the campaign: the tasks a save may hold.
_DEFAULT_ESTIMATOR = {CLASSIFICATION: "CNNClassifier", REGRESSION: "CNNRegressor"}


class PersistenceMixin:
    """Mixin of the learner: :meth:`save`, :meth:`from_journal`, its journal, pickling.

    Works on its host's public surface: scikit-learn's parameter API, ``_check_X(X,
    reset=)`` and the fitted ``campaign_`` (:class:`skal.Campaign`), whose state it saves and
    restores.
    """

    def _journal_handle(self) -> LabelJournal | None:
        """The open journal, opened from a path once; a campaign checks it against its pool
        (see ``skal._answers.open_journal``)."""
        journal = self.journal
        if journal is None or isinstance(journal, LabelJournal):
            return journal
        cached = self.__dict__.get("_journal")
        if cached is None or cached.closed or cached.path != os.fspath(journal):
            self._journal = LabelJournal(journal, read_only=False)  # the learner writes
        return self._journal

    @classmethod
    def from_journal(cls, journal, X_pool, /, *, keys=None, **params):
        """Rebuild a learner from a label journal and the pool it was recorded on.

        The learner is fitted on exactly the journal's labeled samples (the last label of
        each; skipped samples are left out), so it has the same labeled set and classes as
        the learner or labeling session that wrote the journal. It keeps the journal, so
        labels taught next are recorded in it too.

        Parameters
        ----------
        journal : str, path-like or LabelJournal
            The journal.
        X_pool : array-like of shape (n_samples, n_features)
            The pool the journal's sample ids refer to. Its fingerprint must match the one
            stored in the journal.
        keys : array-like of shape (n_samples,) or None, default=None
            The user key of each pool sample, for journals whose sample ids are keys
            (strings) rather than pool indices.
        **params
            Parameters of the learner (``estimator``, ``query_strategy``, ...). Its
            ``journal`` is the given journal unless ``journal=`` says otherwise (``None``:
            record nothing from now on).

        Returns
        -------
        learner : ActiveLearningClassifier
            Fitted; ``labeled_indices_`` are the journal's samples as pool rows, in
            first-labeled order, and ``labeled_round_`` their recorded rounds.

        Raises
        ------
        ValueError
            If the journal was recorded on another pool (fingerprint mismatch), holds ids
            that are not rows of ``X_pool``, or labels fewer than two classes.
        FileNotFoundError
            If there is no journal at the given path.
        """
        if journal is None:
            raise ValueError("journal must be a path or a LabelJournal, got None.")
        keep = params.pop("journal", journal)
        learner = cls(**params, journal=journal)
        learner._validate_params()
        if not isinstance(journal, LabelJournal) and not os.path.isfile(journal):
            raise FileNotFoundError(
                f"no label journal at {os.fspath(journal)!r}: from_journal rebuilds a learner "
                "from an existing journal (a new one is created by fit(..., journal=...))."
            )
        X = learner._check_X(np.asarray(X_pool) if isinstance(X_pool, list) else X_pool,
                             reset=True)
        campaign = Campaign(learner, X, journal=learner._journal_handle(), keys=keys)
        campaign.refit()
        learner.campaign_ = campaign
        if keep is not journal:
            learner.journal = keep
        return learner

    def save(self, path) -> os.PathLike:
        """Save the fitted learner to one file, without pickle; see :func:`skal.load`.

        The file (a zip archive) holds ``params.json`` (the learner's parameters and the
        estimator's, as JSON), ``state.npz`` (labeled set, history, seed, classes), the
        Keras model in Keras' native ``.keras`` format and, if the learner kept them
        (``store_round_estimators=True``), the model of every round of its campaign in the
        same format (``round_estimators_``). It is written to a temporary file in
        the same folder, flushed to disk, then renamed over ``path``: a crash during
        ``save`` leaves any previous save at ``path`` intact.

        Parameters
        ----------
        path : str or path-like
            The file to write (``.skal`` is a good suffix).

        Returns
        -------
        path : pathlib.Path
            The file written.

        Raises
        ------
        TypeError
            If the estimator is not a :class:`skal.KerasClassifier` (e.g.
            :class:`skal.CNNClassifier`), or ``query_strategy`` is not a registered name:
            only those can be described without pickle.
        ValueError
            If the labeled set, the network or the round models are larger than a save may
            hold (see the limits in ``skal.io._archive``), a round model was not trained
            on the labels its ``history_`` row says (then :func:`skal.load` could not
            rebuild it), ``store_round_estimators`` is True but ``round_estimators_`` does not
            hold one model per ``history_`` row (it was set after fitting, or models were
            removed: :func:`skal.load` checks the count), or the estimator's parameters do
            not fit its class (an unknown one, or a value out of range).
        """
        check_is_fitted(self)
        task = self.campaign_.spec.task
        if task not in _DEFAULT_ESTIMATOR:
            raise TypeError(
                f"save() stores classification and regression campaigns; this one is "
                f"{task}. Keep its labels in a LabelJournal (journal=) and rebuild it with "
                f"{type(self).__name__}.from_journal, or pickle the learner (joblib.dump)."
            )
        parameters = {"estimator": self._estimator_spec(), "learner": self._learner_params(),
                      "task": task}
        spec = parameters["estimator"]
        if spec is not None:  # what load() would refuse is not written
            cls = savable_estimators()[spec["class"]]
            problem = estimator_params_problem(
                cls, {k: from_json(v) for k, v in spec["params"].items()})
            if problem is not None:
                raise ValueError(f"save() cannot store the estimator: its parameters do not "
                                 f"fit {cls.__name__} ({problem}); skal.load would refuse "
                                 "them.")
        rounds = [model.save_fitted for model in self._round_models()]
        return write_save(path, parameters, self._state_arrays(), self.estimator_.save_fitted,
                          rounds)

    def __sklearn_clone__(self):
        if self.journal is not None:
            raise TypeError(
                "this learner has a journal, which records one person's labeling campaign; "
                "scikit-learn's clone (used by cross-validation, GridSearchCV and "
                "skal.evaluation) would make every copy write into that same journal. Use "
                "journal=None for model selection and keep the journal for the learner you "
                "label with."
            )
        return super().__sklearn_clone__()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_journal", None)  # an open SQLite connection; reopened from the path
        return state

    # ------------------------------------------------------------------ to plain data
    def _estimator_spec(self) -> dict | None:
        cls = type(self.estimator_)
        saved_name = _saved_name(self.estimator_)
        if saved_name is None:
            raise TypeError(
                f"save() stores Keras estimators only (skal.CNNClassifier, skal.KerasClassifier, "
                f"skal.CNNRegressor, skal.KerasRegressor), in Keras' native format; this "
                f"learner's estimator is {cls.__module__}.{cls.__qualname__}. Refusing to "
                "pickle it: keep its labels in a LabelJournal and rebuild it with "
                f"{type(self).__name__}.from_journal instead."
            )
        if self.estimator is None:
            return None
        params, dropped = {}, []
        for name, value in self.estimator.get_params(deep=False).items():
            try:
                params[name] = to_json(value)
            except NotJSON:
                dropped.append(name)
        return {"class": saved_name, "params": params, "dropped": dropped}

    def _round_models(self) -> list:
        """``round_estimators_``, each checked: savable, and loadable from its labels."""
        models = list(getattr(self, "round_estimators_", None) or [])
        if len(models) > len(self.history_):
            raise ValueError(f"round_estimators_ holds {len(models)} models but history_ "
                             f"records {len(self.history_)} fits.")
        for r, model in enumerate(models):
            if _saved_name(model) is None or type(model) is not type(self.estimator_):
                raise TypeError(
                    f"save() stores round models of the estimator's class "
                    f"{type(self.estimator_).__name__} only; round_estimators_[{r}] is "
                    f"{type(model).__module__}.{type(model).__qualname__}."
                )
            # load() rebuilds it from the first n labels: they must give it its classes
            n = self.history_[r]["n_labeled"]
            theirs = np.unique(plain_labels(np.asarray(self.y_labeled_)[:n])).tolist()
            its = np.asarray(getattr(model, "classes_", theirs)).tolist()
            if not 1 <= n <= len(self.y_labeled_) or its != theirs:
                raise ValueError(
                    f"save() cannot store round_estimators_[{r}]: it was not trained on the "
                    f"first {n} labels (its history_ row's n_labeled; its classes {its}, "
                    f"theirs {theirs})."
                )
        if self.store_round_estimators and len(models) != len(self.history_):
            raise ValueError(
                f"store_round_estimators is True but round_estimators_ holds {len(models)} "
                f"models for the {len(self.history_)} fits of history_ (one per fit; "
                "skal.load checks the count): set store_round_estimators=False to save the "
                "round models of the first fits there are, or fit again."
            )
        return models

    def _learner_params(self) -> dict:
        out = {}
        for name, value in self.get_params(deep=False).items():
            if name in NOT_SAVED:
                continue
            if name == "query_strategy" and not isinstance(value, str):
                raise TypeError(
                    f"save() needs query_strategy to be a registered name (a str), got "
                    f"{type(value).__name__}; a strategy object or callable cannot be stored "
                    "without pickle. Save with a name, or pass query_strategy= to skal.load()."
                )
            if name == "semi_supervised" and not (value is None or isinstance(value, bool | str)):
                value = semi_supervised_spec(value)
            if name == "random_state" and not (value is None or isinstance(value, int)):
                value = None  # a RandomState object: the derived seed is saved in state.npz
            try:
                out[name] = to_json(value)
            except NotJSON:
                raise TypeError(
                    f"save() cannot store the learner parameter {name}={value!r} as JSON."
                ) from None
        return out

    def _state_arrays(self) -> dict[str, np.ndarray]:
        task = self.campaign_.spec.task
        queried = list(getattr(self, "queried_indices_", []))
        state = {
            "X_labeled": np.asarray(self.X_labeled_),
            "y_labeled": _labels_array("y_labeled_", self.y_labeled_),
            "labeled_indices": np.asarray(self.labeled_indices_, dtype=np.int64),
            "labeled_round": np.asarray(self.labeled_round_, dtype=np.int64),
            "queried": (
                np.concatenate([np.asarray(q, dtype=np.int64) for q in queried])
                if queried else np.empty(0, dtype=np.int64)
            ),
            "queried_sizes": np.asarray([len(q) for q in queried], dtype=np.int64),
            "classes": np.empty(0) if task == REGRESSION else
            _labels_array("classes_", self.classes_),
            "seed": np.asarray(self.campaign_.seed_, dtype=np.int64),
            "n_features_in": np.asarray(self.n_features_in_, dtype=np.int64),
            "history_json": np.asarray(json.dumps(self.history_, default=float)),
        }
        if state["X_labeled"].dtype.kind not in "biuf":
            raise TypeError(
                f"save() stores numeric samples; X_labeled_ is {state['X_labeled'].dtype}."
            )
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            state["feature_names_in"] = np.asarray(names, dtype=str)
        return state

    def _restore(self, estimator, state: SavedState, rounds: list) -> None:
        """Become the saved learner: ``estimator`` and ``rounds`` (loaded), the ``state``.

        Its campaign's pool is the labeled set (the unlabeled pool is not saved), answered
        in the saved order and rounds; the learner keeps the saved pool indices of its
        rows, so ``labeled_indices_``, ``labeled_round_`` and ``queried_indices_`` read as
        saved (a skipped sample, whose row is not saved, drops out of the latter)."""
        self.n_features_in_ = state.n_features
        if state.feature_names is not None:
            self.feature_names_in_ = state.feature_names.astype(object)
        X = state.X
        if state.feature_names is not None:
            import pandas as pd  # a DataFrame was fitted: pandas is there

            X = pd.DataFrame(X, columns=list(state.feature_names))
        # the journal (if given again) was recorded on the whole pool, not on this one
        campaign = Campaign(CampaignSpec.from_estimator(self).replace(journal=None), X)
        labeled = state.labeled_indices.astype(np.intp)
        row = {int(i): r for r, i in enumerate(labeled.tolist())}
        queried = [np.asarray([row[i] for i in q.tolist() if i in row], dtype=np.intp)
                   for q in state.queried]
        campaign.restore(
            estimator, state.y, labeled_round=state.labeled_round[labeled],
            history=state.history, round_estimators=rounds, queried_indices=queried,
            seed=state.seed,
        )
        self._adopt(campaign, pool_ids=labeled, n_pool=len(state.labeled_round))


def _saved_name(fitted) -> str | None:
    """The allow-listed name of ``fitted``'s class, None if it cannot be saved natively."""
    if not callable(getattr(fitted, "save_fitted", None)):
        return None  # checked first: refusing a LogisticRegression imports no TensorFlow
    cls = type(fitted)
    return cls.__name__ if savable_estimators().get(cls.__name__) is cls else None


def _labels_array(name: str, values) -> np.ndarray:
    values = plain_labels(np.asarray(values))
    if values.dtype == object and not len(values):
        values = np.empty(0, dtype=np.int64)
    if values.dtype.kind not in "biufU":
        raise TypeError(
            f"save() stores labels that are numbers or strings; {name} has dtype "
            f"{values.dtype}."
        )
    return values


# --------------------------------------------------------------------------- from plain data


def load_learner(learners: dict, path, *, custom_objects: dict | None = None, **params):
    """A fitted learner from a save file, of the class ``learners`` gives for the task the
    file names (classification when it names none: older saves); see :func:`skal.load`."""
    with read_save(path) as contents:
        task = contents.parameters.get("task", CLASSIFICATION)
        if not isinstance(task, str) or task not in learners:
            raise unreadable(path, f"params.json: the task {short(task)} is not one of "
                                   f"{sorted(learners)}")
        cls = learners[task]
        spec, saved = check_parameters(cls, contents.parameters, path, overridden=params)
        if spec is not None and is_regressor(savable_estimators()[spec["class"]]()) != \
                (task == REGRESSION):
            raise unreadable(path, f"params.json: the estimator {spec['class']} does not "
                                   f"fit a {task} save")
        state = check_state(contents.arrays, path, task)
        every_fit = saved.get("store_round_estimators") is True and \
            params.get("store_round_estimators", True) is not False
        check_round_models(len(contents.round_model_files), state, path, every_fit=every_fit)
        template = params.pop("estimator") if "estimator" in params else \
            _build_estimator(spec, path)
        learner = cls(estimator=template, **saved)
        unknown = set(params) - set(learner.get_params(deep=False))
        if unknown:
            raise TypeError(f"load() got unknown learner parameters {sorted(unknown)}.")
        learner.set_params(**params)
        learner._validate_params()
        if template is None:
            template = savable_estimators()[_DEFAULT_ESTIMATOR[task]]()
        estimator = _load_fitted(clone(template), contents.model_file, state.X, state.y,
                                 custom_objects, path, where="model.keras: ")
        check_model(estimator, state, path)
        rounds = []
        for r, file in enumerate(contents.round_model_files):
            X_r, y_r = round_labels(state, r)
            rounds.append(_load_fitted(clone(template), file, X_r, y_r, custom_objects, path,
                                       where=f"rounds/{r}.keras: "))
            check_model(rounds[-1], state, path, round_=r)
    learner._restore(estimator, state, rounds)
    return learner


def _build_estimator(spec: dict | None, path):
    if spec is None:
        return None
    cls = savable_estimators()[spec["class"]]
    try:
        estimator = cls(**{k: from_json(v) for k, v in spec.get("params", {}).items()})
    except (TypeError, ValueError) as exc:
        raise unreadable(
            path, f"params.json: the estimator's parameters do not fit {cls.__name__} ({exc})"
        ) from None
    dropped = spec.get("dropped", [])
    if dropped:
        warnings.warn(
            f"{cls.__name__} parameters {dropped} could not be stored as JSON and have their "
            "defaults after loading; predictions are unaffected, but pass estimator= to "
            "skal.load() to refit (teach) with them.",
            UserWarning,
            stacklevel=4,
        )
    return estimator


def _load_fitted(estimator, model_file: str, X, y, custom_objects, path, where=""):
    """``estimator`` (unfitted) made the saved one, by its ``load_fitted`` on ``X, y``."""
    if not callable(getattr(estimator, "load_fitted", None)):
        raise unreadable(
            path,
            f"the estimator {type(estimator).__name__} cannot load a saved network (it has no "
            "load_fitted method); pass an estimator= that can",
        )
    try:
        return estimator.load_fitted(model_file, X, y, custom_objects=custom_objects)
    except ValueError as exc:  # the file's network, or it does not fit the estimator
        raise unreadable(path, where + str(exc)) from exc


