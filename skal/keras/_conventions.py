"""Keras conventions skal relies on, checked where a Keras model meets scikit-learn data.

* Targets and loss (:func:`targets_for_loss`): ``categorical_crossentropy`` wants one-hot
  targets, ``sparse_categorical_crossentropy`` integer labels. SciKeras one-hot-encodes
  integer labels only when the *wrapper's* ``loss`` parameter names the categorical loss, so
  a model compiled with it inside its build function, given integer labels, failed with a
  Keras shape error; one-hot ``y`` with a sparse loss failed the same way. Integer labels are
  now one-hot-encoded for a model compiled with the categorical loss, and one-hot ``y`` with a
  sparse loss is a ValueError that says what to do. One-hot ``y`` with the categorical loss
  works as in SciKeras (``predict`` returns one-hot rows).
* Probabilities (:func:`check_probabilities`): skal ranks samples by ``predict_proba``, so a
  model whose last layer outputs logits (``Dense(n_classes)`` with no activation, trained
  with ``from_logits=True``) would have its logits ranked as probabilities. Every
  probability skal's wrappers return is checked -- finite, not negative, rows summing to 1
  -- in a few vectorised operations, and a ValueError says how to fix the model.
* Logits (:func:`output_activation`): a model compiled with a cross-entropy loss with
  ``from_logits=True`` says its outputs are logits; skal applies the activation the loss
  applies (softmax for categorical losses, sigmoid for binary ones) to the network's output
  before anything reads it as probabilities. Any other model's outputs must be
  probabilities, checked at ``fit`` on a few training rows before training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PROBA_SUM_TOLERANCE", "activate", "check_probabilities", "loss_kind",
           "output_activation", "targets_for_loss"]

#: Largest ``|row sum - 1|`` accepted for float32 (and float64) probabilities; float16
#: outputs get 16 of their machine epsilons (about 0.016). Logits almost never pass.
PROBA_SUM_TOLERANCE = 1e-3

_ROW_SUM_TYPES = ("binary", "multiclass", "multiclass-onehot")


def loss_kind(loss: Any) -> str | None:
    """``"categorical"``, ``"sparse"`` (categorical cross-entropy on one-hot or integer
    targets) or ``None`` (another loss, several losses, or one not recognised)."""
    if loss is None or isinstance(loss, list | tuple | dict):
        return None
    from scikeras.utils import loss_name

    try:
        name = loss_name(loss)
    except Exception:  # an unknown string or custom loss: not ours to judge
        return None
    return {"categorical_crossentropy": "categorical",
            "sparse_categorical_crossentropy": "sparse"}.get(name)


def _from_logits(loss: Any) -> bool:
    try:
        return bool(loss.get_config().get("from_logits", False))
    except Exception:
        return False


#: The activation each cross-entropy loss applies to logits with ``from_logits=True``.
_LOGITS_ACTIVATIONS = {
    "sparse_categorical_crossentropy": "softmax",
    "categorical_crossentropy": "softmax",
    "categorical_focal_crossentropy": "softmax",
    "binary_crossentropy": "sigmoid",
    "binary_focal_crossentropy": "sigmoid",
}


def output_activation(model: Any) -> str | None:
    """``"softmax"`` or ``"sigmoid"`` when ``model`` is compiled with a cross-entropy loss
    with ``from_logits=True`` (its outputs are logits), else ``None``."""
    loss = getattr(model, "loss", None)
    if loss is None or isinstance(loss, str | list | tuple | dict) or not _from_logits(loss):
        return None
    from scikeras.utils import loss_name

    try:
        return _LOGITS_ACTIVATIONS.get(loss_name(loss))
    except Exception:
        return None


def activate(raw: np.ndarray, activation: str | None) -> np.ndarray:
    """``raw`` network outputs through ``activation`` (see :func:`output_activation`)."""
    if activation is None or not isinstance(raw, np.ndarray) or raw.size == 0:
        return raw
    from scipy import special

    if activation == "sigmoid":
        return special.expit(raw)
    return special.softmax(raw, axis=-1)


def targets_for_loss(estimator, y):
    """Encoded targets ``y`` in the form the compiled loss of ``estimator.model_`` expects.

    Integer (ordinal) targets of a model compiled with categorical cross-entropy and one
    output per class become one-hot rows; one-hot targets with a sparse loss raise a
    ValueError. Anything else is returned unchanged (the same object).
    """
    model = estimator.model_
    kind = loss_kind(getattr(model, "loss", None))
    if kind is None or not isinstance(y, np.ndarray):
        return y
    target_type = target_type_of(estimator)
    n_classes = getattr(estimator, "n_classes_", None)
    if kind == "sparse" and y.ndim == 2 and y.shape[1] > 1 and \
            target_type == "multilabel-indicator":
        raise ValueError(
            f"y is multi-label (shape {y.shape}, rows with several 1s or none), but "
            f"{type(estimator).__name__}'s model is compiled with loss="
            f"{_loss_repr(model.loss)}, which takes one integer class per sample. For one "
            "class per row pass y.argmax(axis=1); for several labels a sample end the model "
            "with one sigmoid output per label and train with loss='binary_crossentropy'."
        )
    if kind == "sparse" and y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(
            f"y is one-hot encoded (shape {y.shape}), but {type(estimator).__name__}'s model "
            f"is compiled with loss={_loss_repr(model.loss)}, which takes integer class "
            "labels. Pass integer labels (y.argmax(axis=1)), or train with "
            "loss='categorical_crossentropy' (the wrapper's loss parameter, or your model's "
            "compile), which takes one-hot rows."
        )
    if (
        kind == "categorical"
        and target_type in ("binary", "multiclass")
        and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1))
        and n_classes is not None
        and n_classes > 1
    ):
        outputs = getattr(model, "outputs", None) or []
        width = outputs[0].shape[-1] if len(outputs) == 1 else None
        if width != n_classes:
            raise ValueError(
                f"{type(estimator).__name__}'s model is compiled with loss="
                f"{_loss_repr(model.loss)}, which needs one output per class, but its output "
                f"has shape {tuple(outputs[0].shape) if len(outputs) == 1 else '?'} for "
                f"{n_classes} classes. End the model with "
                f"Dense({n_classes}, activation='softmax')."
            )
        codes = y.reshape(-1).astype(np.intp)
        return np.eye(n_classes, dtype=y.dtype)[codes]
    return y


def target_type_of(estimator) -> str | None:
    """``estimator``'s target type once fitted: SciKeras' when its encoder knows it."""
    # SciKeras' encoder knows one-hot targets ("multiclass-onehot") from multi-label ones;
    # sklearn's type_of_target, kept in target_type_, calls both "multilabel-indicator".
    encoder = getattr(estimator, "target_encoder_", None)
    return getattr(encoder, "_target_type", None) or getattr(estimator, "target_type_", None)


def _loss_repr(loss: Any) -> str:
    if isinstance(loss, str):
        return repr(loss)
    from scikeras.utils import loss_name

    try:
        return repr(loss_name(loss))
    except Exception:
        return repr(loss)


def check_probabilities(estimator, proba: np.ndarray) -> None:
    """Raise a ValueError unless ``proba`` (n_samples, n_classes) holds probabilities.

    Always: finite, not negative. Single-label targets (binary, multiclass, one-hot):
    each row sums to 1 within :data:`PROBA_SUM_TOLERANCE`. Multi-label targets: at most 1.
    """
    if proba.size == 0 or proba.dtype.kind not in "fiu":
        return
    name = type(estimator).__name__
    finite = np.isfinite(proba)
    if not finite.all():
        bad_rows = int((~finite).any(axis=1).sum())
        raise ValueError(
            f"{name}'s Keras model output NaN or infinite values for {bad_rows} of "
            f"{len(proba)} samples: training diverged (try a lower learning rate, or "
            "scale the inputs) or the samples hold NaN/inf."
        )
    eps = np.finfo(proba.dtype).eps if proba.dtype.kind == "f" else 0.0
    tol = max(PROBA_SUM_TOLERANCE, 16 * eps)
    low = proba.min()
    problem = None
    if low < 0:
        problem = f"values as low as {low:.4g}"
    elif target_type_of(estimator) in _ROW_SUM_TYPES:
        sums = proba.sum(axis=1)
        lo, hi = sums.min(), sums.max()
        if lo < 1 - tol or hi > 1 + tol:
            problem = f"rows summing to {lo:.4g} .. {hi:.4g} instead of 1"
    elif proba.max() > 1 + tol:
        problem = f"values as high as {proba.max():.4g}"
    if problem is None:
        return
    loss = getattr(getattr(estimator, "model_", None), "loss", None)
    logits_note = (
        f" It was compiled with from_logits=True, but with loss={_loss_repr(loss)}, whose "
        "activation skal does not know: give the model a softmax output and drop "
        "from_logits, or train with a cross-entropy loss (sparse_categorical_crossentropy, "
        "categorical_crossentropy, binary_crossentropy) with from_logits=True."
        if _from_logits(loss) else
        " Or keep the logits and compile the model with a from_logits=True loss, e.g. "
        "keras.losses.SparseCategoricalCrossentropy(from_logits=True): skal then applies "
        "the softmax to its outputs."
    )
    raise ValueError(
        f"{name}'s Keras model does not output class probabilities ({problem}): its last "
        "layer probably outputs logits, e.g. Dense(n_classes) with no activation. skal "
        "ranks samples by predict_proba, so give the last layer activation='softmax' (or add "
        "keras.layers.Softmax() after it; activation='sigmoid' for one binary output)."
        + logits_note
    )
