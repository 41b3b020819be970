"""Saving a fitted network in Keras' native format, and rebuilding an estimator around it.

No pickle and no model-building code: the network is written with ``model.save`` and read
with ``keras.saving.load_model(..., safe_mode=True)``, and SciKeras' fitted state (encoders,
``classes_``, ``n_features_in_``, ...) is rebuilt from the training data, without training.
"""

from __future__ import annotations

import os
import zipfile
from typing import Any

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["NativeSave", "attach_fitted_model"]


class NativeSave:
    """Mixin of the Keras wrappers (classifier and regressor): :meth:`save_fitted`,
    :meth:`load_fitted`.

    Needs of its host: SciKeras' ``model_``, ``initialized_`` and ``initialize``.
    """

    def save_fitted(self, path: str | os.PathLike) -> None:
        """Write the fitted network to ``path`` in Keras' native ``.keras`` format.

        Weights and optimizer state are saved; the estimator's parameters are not (keep
        ``get_params()``). :meth:`load_fitted` reads the file back.

        Parameters
        ----------
        path : str or path-like
            The file to write; its name must end in ``.keras``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from sklearn.base import clone
        >>> from skal import CNNClassifier
        >>> X = np.random.default_rng(0).random((40, 16), dtype=np.float32)
        >>> y = np.arange(40) % 2
        >>> cnn = CNNClassifier(filters=(4,), dense_units=8, epochs=1,
        ...                     min_train_steps=None, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     cnn.save_fitted(os.path.join(folder, "cnn.keras"))
        ...     loaded = clone(cnn).load_fitted(os.path.join(folder, "cnn.keras"), X, y)
        >>> bool(np.array_equal(loaded.predict_proba(X), cnn.predict_proba(X)))
        True
        """
        if not self.initialized_:
            check_is_fitted(self, "model_")
        self.model_.save(os.fspath(path))

    def load_fitted(
        self, path: str | os.PathLike, X, y, *, custom_objects: dict[str, Any] | None = None
    ):
        """Become the fitted estimator whose network :meth:`save_fitted` wrote to ``path``.

        Call it on an unfitted estimator with the parameters of the one that was saved (a
        clone of it). The network is loaded with ``safe_mode=True``, so no Python code from
        the file runs; ``X`` and ``y`` only rebuild SciKeras' encoders (classes, number of
        features, dtype): nothing is trained.

        Parameters
        ----------
        path : str or path-like
            A ``.keras`` file written by :meth:`save_fitted`.
        X, y : array-like
            The data the network was trained on (at least: the same features, every class).
        custom_objects : dict or None, default=None
            Custom Keras layers or functions of your own model, as for
            ``keras.saving.load_model`` (skal's own layers need none).

        Returns
        -------
        self : object
            This estimator, fitted: it predicts exactly as the saved one did. One forward
            pass on the first sample of ``X`` checks that the network fits the data.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        ValueError
            If the file cannot be loaded as a Keras model ("the Keras model could not be
            loaded ...": not a zip archive, as every ``.keras`` file is, or what Keras
            found wrong) or the network does not fit this estimator and data ("the Keras
            model does not match ...").

        Examples
        --------
        See :meth:`save_fitted`.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):  # Keras says "File not found" of a file it cannot read
            raise FileNotFoundError(f"no Keras model file at {path!r}.")
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"the Keras model could not be loaded: {path!r} is not a zip archive, as a "
                ".keras file written by save_fitted is (a damaged or foreign file)"
            )
        try:
            model = keras.saving.load_model(path, custom_objects=custom_objects, safe_mode=True)
        except Exception as exc:  # Keras raises anything from ValueError to KeyError here
            raise ValueError(
                f"the Keras model could not be loaded ({type(exc).__name__}: {exc}); a model "
                "with custom layers needs custom_objects="
            ) from exc
        try:
            attach_fitted_model(self, model, X, y)
            _check_network_fits(self, X, y)
        except Exception as exc:
            raise ValueError(
                f"the Keras model does not match the {type(self).__name__} and its data ({exc})"
            ) from exc
        return self


def _check_network_fits(estimator, X, y) -> None:
    """One forward pass: the network takes the data's samples, gives one output per class
    (a regressor: one value per target of ``y``).

    SciKeras' own check at ``initialize`` compares only the number of model outputs.
    """
    if not hasattr(estimator, "classes_"):  # a regressor
        out = np.shape(estimator.predict(np.asarray(X)[:1]))
        want = (1, *np.shape(y)[1:])
        if out != want:
            raise ValueError(f"it predicts an array of shape {out} for one sample, the data's "
                             f"targets need {want}")
        return
    n_out = estimator.predict_proba(np.asarray(X)[:1]).shape[1]
    n_classes = len(estimator.classes_)
    if n_out != n_classes:
        raise ValueError(f"it gives {n_out} class probabilities, the data have {n_classes} classes")


def attach_fitted_model(estimator, model: keras.Model, X, y):
    """Make an unfitted wrapper a fitted one around an already-trained Keras model.

    SciKeras' fitted state (target and feature encoders, ``classes_``, ``n_features_in_``,
    ``X_dtype_``, ...) is rebuilt with ``initialize(X, y)`` on the training data, but
    ``model`` takes the place of the freshly built network, weights and optimizer state
    included. No pickle, no model-building code runs. :meth:`NativeSave.load_fitted` is
    this, reading the model from a file.

    Parameters
    ----------
    estimator : KerasClassifier
        An unfitted wrapper with the parameters of the one that trained ``model``.
    model : keras.Model
        The trained (and compiled) Keras model.
    X, y : array-like
        The data the model was trained on (for the encoders; no training happens).

    Returns
    -------
    estimator : KerasClassifier
        ``estimator``, fitted.

    Examples
    --------
    A Keras model built (and trained, here not) outside the wrapper, made a fitted
    :class:`KerasClassifier` without training again:

    >>> import keras
    >>> import numpy as np
    >>> from skal.keras import KerasClassifier, attach_fitted_model
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, "softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy")
    >>> X, y = np.zeros((6, 4), dtype=np.float32), np.array([0, 1, 2, 0, 1, 2])
    >>> clf = attach_fitted_model(KerasClassifier(model), model, X, y)
    >>> clf.model_ is model, clf.classes_
    (True, array([0, 1, 2]))
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """
    estimator._build_keras_model = lambda: model  # shadows the method for this call only
    try:
        estimator.initialize(X, y)
    finally:
        del estimator._build_keras_model
    return estimator
