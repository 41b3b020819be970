"""What a meta-estimator passes on to its fitted estimator (predict and the like), and the
one check of ``X`` it does first."""

from __future__ import annotations

import numpy as np
from sklearn.base import is_regressor
from sklearn.utils import check_array
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from skal._pool import is_frame, n_features_of

__all__ = ["DelegationMixin"]


def _estimator_has(attr: str):
    """Check the fitted estimator if there is one, else the unfitted one."""

    def check(self) -> bool:
        if hasattr(self, "estimator_"):
            getattr(self.estimator_, attr)
        elif self.estimator is not None:
            getattr(self.estimator, attr)
        elif is_regressor(self) and attr != "predict":  # the default CNNRegressor predicts
            raise AttributeError(f"the default CNNRegressor has no {attr}")
        return True  # the default CNNClassifier has predict_proba

    return check


class DelegationMixin:
    """``predict``, ``predict_proba``, ``predict_log_proba`` and ``decision_function`` of the
    fitted ``estimator_``, on ``X`` checked as in ``fit`` (the class's ``_check_X``); each
    method exists only where the estimator has it."""

    def _check_X(self, X, *, reset: bool = False):
        """``X`` checked as scikit-learn checks it (feature count and names); a DataFrame
        reaches the estimator as it is, other input as an array of finite numbers. Samples
        with more axes (images) count their flat size as features, so flat rows and shaped
        samples of the same size are both accepted."""
        if is_frame(X):
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        shape = getattr(X, "shape", None)  # np.ndim would refuse some array-likes
        if (len(shape) if shape is not None else np.asarray(X).ndim) <= 2:
            X = validate_data(self, X, reset=reset, allow_nd=True, dtype=None,
                              ensure_all_finite=True)
        else:
            X = check_array(X, allow_nd=True, dtype=None, ensure_all_finite=True)
            n_flat = n_features_of(X)
            if reset:
                self.n_features_in_ = n_flat
                self.__dict__.pop("feature_names_in_", None)
            elif n_flat != self.n_features_in_:
                raise ValueError(
                    f"X has {n_flat} features (samples of shape {X.shape[1:]}), but "
                    f"{type(self).__name__} is expecting {self.n_features_in_} features as "
                    "input."
                )
        return X.astype(np.float64) if X.dtype.kind not in "iufb" else X

    def _delegate(self, method: str, X, **params):
        check_is_fitted(self)
        return getattr(self.estimator_, method)(self._check_X(X), **params)

    def predict(self, X, **predict_params):
        """Predict with the fitted estimator: classes, or a regressor's targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        **predict_params : dict
            Passed on to the fitted estimator's ``predict``, e.g. ``return_std=True`` for
            ``BayesianRidge`` or ``GaussianProcessRegressor``; an estimator that does not
            take one raises its own TypeError.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted classes or targets; with ``return_std=True``, the estimator's
            ``(y, y_std)``.
        """
        return self._delegate("predict", X, **predict_params)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. A multi-label learner (a 2-D 0/1 ``y``): the
            probability of each label, shape (n_samples, n_labels), whatever format the
            estimator gives it in (one array, or a list of one per label).
        """
        proba = self._delegate("predict_proba", X)
        if isinstance(proba, list | tuple):  # one (n, 2) block per label
            from skal.strategies import as_label_probabilities

            return as_label_probabilities(proba, self.estimator_)
        return proba

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return self._delegate("predict_log_proba", X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As returned by the estimator.
        """
        return self._delegate("decision_function", X)
