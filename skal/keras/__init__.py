"""Keras models for skal, through SciKeras; importing this package imports TensorFlow.

``import skal`` does not import TensorFlow; ``import skal.keras`` (or building a
:class:`CNNClassifier`) does. This package is the only part of skal that touches Keras
internals or works around SciKeras 0.13, so that the wrapper can be swapped without
touching the rest. Its modules, by job:

* ``_wrapper`` -- :class:`KerasClassifier`: SciKeras' fixes and tags, batched prediction,
  the fast forward pass, :meth:`~KerasClassifier.embed`;
* ``_tf_compat`` -- process-level TensorFlow workarounds (logs, op determinism, seeds);
* ``_conventions`` -- Keras conventions checked at the boundary: targets vs. loss
  (one-hot or integer labels), and class probabilities (not NaN; logits refused at
  ``fit``, or softmaxed for a loss compiled with ``from_logits=True``);
* ``_reuse`` -- reusing a traced training step between fits from scratch;
* ``_mc_dropout`` -- stochastic (MC-dropout) forward passes with hashed masks;
* ``_saving`` -- the fitted network in Keras' native format;
* ``_cnn`` -- :class:`CNNClassifier` (its network's shape from the data's own shape:
  :func:`network_input_shape`), :class:`RandomCircularShift`, and the convolutional body
  it shares with :class:`CNNRegressor`;
* ``_regressor`` -- :class:`KerasRegressor`: SciKeras' regressor with the classifier's
  fixes (tags, batched prediction, dtype cast, training-step floor), :meth:`embed` and
  MC-dropout :meth:`~KerasRegressor.predict_samples`;
* ``_cnn_regressor`` -- :class:`CNNRegressor`.

What skal asks of an estimator
------------------------------
Any scikit-learn classifier works (``fit``, ``predict_proba``, ``classes_``). skal uses
these methods when an estimator (or a Pipeline's last step) has them, and never asks
whether it is a Keras model, nor reads its private attributes:

``embed(X, *, return_proba=False)``
    Features of each sample (``(n, dim)``), and optionally the class probabilities of the
    same pass. Needed by the ``coreset``, ``badge`` and ``diverse_margin`` strategies.
``predict_proba_samples(X, n_samples, *, random_state)``
    ``n_samples`` stochastic passes (``(n_samples, n, n_classes)``), reproducible for a seed
    and independent of batching. Needed by the MC-dropout strategies and the default
    committee.
``predict_samples(X, n_samples, *, random_state)``
    A regressor's stochastic passes (``(n_samples, n)``): the MC-dropout source of
    ``query_strategy="variance"``.
``fit(X, y, *, X_unlabeled=None, consistency=None)``
    Train on unlabeled samples too (``X_unlabeled``, rows like ``X``'s), as a
    :class:`skal.semi_supervised.ConsistencyTraining` (``consistency``) says. The two named
    parameters of ``fit`` are the declaration, found as scikit-learn finds
    ``sample_weight`` (:func:`sklearn.utils.validation.has_fit_parameter`): needed by
    ``semi_supervised="consistency"``, which refuses an estimator without them (a Pipeline
    included) before the first label is asked for.
``reuse_model_from(previous) -> bool``
    Called on a fresh clone before a fit from scratch, with the discarded estimator of the
    previous round: the clone may train ``previous``'s already compiled network (reset to the
    clone's own initial state) instead of tracing a new one. Results are identical; it
    returns whether the network was taken over.
``save_fitted(path)`` and ``load_fitted(path, X, y, *, custom_objects=None) -> self``
    Write the fitted network natively (no pickle), and make an unfitted clone the saved
    estimator again from that file and the training data. ``learner.save`` stores such an
    estimator only if its class is in :data:`SAVABLE_ESTIMATORS`, under that name:
    ``skal.load`` rebuilds it from the name and its JSON parameters, and never imports or
    calls code named in a file.

:class:`KerasClassifier` and :class:`CNNClassifier` implement all of them, and keep every
prediction two-dimensional (SciKeras squeezes one sample's probabilities);
:class:`KerasRegressor` and :class:`CNNRegressor` implement those that read no class.
"""

from types import MappingProxyType

from skal.keras import _tf_compat

_tf_compat.quiet_tensorflow_logs()  # before the imports below load TensorFlow

from skal.keras._cnn import (  # noqa: E402
    CNNClassifier,
    RandomCircularShift,
    infer_input_shape,
    network_input_shape,
)
from skal.keras._cnn_regressor import CNNRegressor  # noqa: E402
from skal.keras._regressor import KerasRegressor  # noqa: E402
from skal.keras._saving import attach_fitted_model  # noqa: E402
from skal.keras._wrapper import KerasClassifier  # noqa: E402

#: The estimator classes ``skal.load`` may rebuild, by the name a save file gives: an
#: allow-list, so that loading never imports or calls code a file names.
SAVABLE_ESTIMATORS = MappingProxyType(
    {"CNNClassifier": CNNClassifier, "KerasClassifier": KerasClassifier,
     "CNNRegressor": CNNRegressor, "KerasRegressor": KerasRegressor}
)

__all__ = [
    "SAVABLE_ESTIMATORS",
    "CNNClassifier",
    "CNNRegressor",
    "KerasClassifier",
    "KerasRegressor",
    "RandomCircularShift",
    "attach_fitted_model",
    "infer_input_shape",
    "network_input_shape",
]

# Public names belong to this package, where they are documented; pickles and saved Keras
# configs keep naming skal.keras.<name>, as before the package was split.
for _public in (CNNClassifier, CNNRegressor, KerasClassifier, KerasRegressor,
                RandomCircularShift, attach_fitted_model, infer_input_shape,
                network_input_shape):
    _public.__module__ = __name__
del _public
