"""What a meta-estimator passes on to its fitted estimator: predict and the like."""

from __future__ import annotations

from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["DelegationMixin"]


def _estimator_has(attr: str):
    """Check the fitted estimator if there is one, else the unfitted one."""

    def check(self) -> bool:
        if hasattr(self, "estimator_"):
            getattr(self.estimator_, attr)
        elif self.estimator is not None:
            getattr(self.estimator, attr)
        return True  # the default CNN has predict_proba

    return check


class DelegationMixin:
    """``predict``, ``predict_proba``, ``predict_log_proba`` and ``decision_function`` of the
    fitted ``estimator_``, on ``X`` checked as in ``fit`` (the class's ``_check_X``); each
    method exists only where the estimator has it."""

    def _delegate(self, method: str, X):
        check_is_fitted(self)
        return getattr(self.estimator_, method)(self._check_X(X))

    def predict(self, X):
        """Predict classes with the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted classes.
        """
        return self._delegate("predict", X)

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
            Columns follow ``classes_``.
        """
        return self._delegate("predict_proba", X)

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
