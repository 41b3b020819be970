"""Consistency training on the unlabeled pool (FixMatch), for skal's Keras wrappers.

Each training step takes a batch of labeled samples and ``unlabeled_batch_ratio`` times as
many unlabeled ones. The network, in inference mode, labels the plain unlabeled batch; where
its top probability reaches ``threshold`` that class becomes the target of the same samples
strongly perturbed -- Gaussian noise on the inputs, and the network's own training-mode
layers (dropout, ``shift_augment``) -- so the network learns to give a sample and its
perturbed copies one class (Sohn et al. 2020). Labeled loss: the compiled one.

The loop replaces ``model.fit`` (which has no place for a second, unlabeled stream); the
wrapper calls it from ``_fit_keras_model`` when ``fit`` is given ``X_unlabeled``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

__all__ = ["check_unlabeled", "encode_unlabeled", "fit_consistency"]


def fit_consistency(estimator, X, y, sample_weight, epochs: int, X_unlabeled, options) -> None:
    """Train ``estimator.model_`` on ``(X, y)`` and ``X_unlabeled`` (all encoded arrays).

    ``epochs`` count passes over the labeled set (the wrapper's ``fit`` plans them from
    ``options.epochs``). The history (``history_``) holds per epoch the labeled loss
    (``loss``), the unlabeled one (``unlabeled_loss``) and the share of unlabeled samples
    above the threshold (``confident_fraction``).
    """
    import keras
    import tensorflow as tf

    model = estimator.model_
    batch = int(getattr(estimator, "fit__batch_size", estimator.batch_size) or 32)
    n, n_unlabeled = len(X), len(X_unlabeled)
    per_epoch = max(1, math.ceil(n / batch))
    u_batch = min(n_unlabeled, int(options.unlabeled_batch_ratio) * batch)
    seed = estimator.random_state if isinstance(estimator.random_state, int) else None
    rng = np.random.default_rng(seed)
    noise = keras.random.SeedGenerator(seed)
    scale = float(options.noise) * float(np.std(X_unlabeled))
    binary = model.outputs[0].shape[-1] == 1
    weight, threshold = float(options.weight), float(options.threshold)
    dtype = model.inputs[0].dtype

    def unlabeled_loss(xu):
        plain = tf.stop_gradient(model(xu, training=False))
        if binary:
            confidence = tf.maximum(plain[:, 0], 1.0 - plain[:, 0])
            target = tf.cast(plain >= 0.5, plain.dtype)
        else:
            confidence = tf.reduce_max(plain, axis=1)
            target = tf.argmax(plain, axis=1)
        mask = tf.cast(confidence >= threshold, tf.float32)
        strong = xu + keras.random.normal(tf.shape(xu), stddev=scale, seed=noise, dtype=xu.dtype)
        out = model(strong, training=True)
        losses = (keras.losses.binary_crossentropy(target, out) if binary
                  else keras.losses.sparse_categorical_crossentropy(target, out))
        return tf.reduce_mean(mask * tf.cast(losses, tf.float32)), tf.reduce_mean(mask)

    @tf.function(reduce_retracing=True)
    def step(xl, yl, wl, xu):
        with tf.GradientTape() as tape:
            pl = model(xl, training=True)
            labeled = model.compute_loss(x=xl, y=yl, y_pred=pl, sample_weight=wl)
            unlabeled, confident = unlabeled_loss(xu)
            loss = labeled + weight * unlabeled
        grads = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return labeled, unlabeled, confident

    X = np.asarray(X, dtype=dtype)
    X_unlabeled = np.asarray(X_unlabeled, dtype=dtype)
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float32)
    history = defaultdict(list)
    for _ in range(epochs):
        order = rng.permutation(n)
        sums = np.zeros(3)
        for k in range(per_epoch):
            rows = order[k * batch:(k + 1) * batch]
            u_rows = rng.choice(n_unlabeled, u_batch, replace=False)
            w = None if weights is None else weights[rows]
            sums += [float(v) for v in step(X[rows], y[rows], w, X_unlabeled[u_rows])]
        for key, total in zip(("loss", "unlabeled_loss", "confident_fraction"), sums,
                              strict=True):
            history[key].append(total / per_epoch)
    estimator.history_ = history


def check_unlabeled(estimator, X_unlabeled, consistency):
    """``(X_unlabeled, options)`` for a fit, or None; bad combinations are errors."""
    from skal.semi_supervised import ConsistencyTraining

    if X_unlabeled is None:
        if consistency is not None:
            raise ValueError("consistency= needs X_unlabeled=: the unlabeled samples to "
                             "train on.")
        return None
    if consistency is None:
        consistency = ConsistencyTraining()
    if not isinstance(consistency, ConsistencyTraining):
        raise TypeError(f"consistency must be a skal.semi_supervised.ConsistencyTraining or "
                        f"None, got {type(consistency).__name__}.")
    consistency._validate_params()
    if hasattr(X_unlabeled, "toarray"):
        raise TypeError("X_unlabeled is a sparse matrix; give a dense array.")
    split = getattr(estimator, "fit__validation_split", estimator.validation_split)
    class_weight = getattr(estimator, "fit__class_weight", estimator.class_weight)
    if split or class_weight or getattr(estimator, "callbacks", None):
        raise ValueError("fit with X_unlabeled runs its own training loop, which has no "
                         "validation_split, class_weight or callbacks; set them to None for "
                         "it (weigh samples with fit's sample_weight).")
    return X_unlabeled, consistency


def encode_unlabeled(estimator, X_unlabeled) -> np.ndarray:
    """The unlabeled samples as the network's input rows, checked like ``X`` and finite;
    none gives an empty array (a plain fit)."""
    if hasattr(X_unlabeled, "__len__") and len(X_unlabeled) == 0:
        return np.empty((0,))
    raw = np.asarray(X_unlabeled)
    if raw.dtype.kind == "f" and raw.ndim >= 1:
        bad = ~np.isfinite(raw.reshape(len(raw), -1)).all(axis=1)
        if bad.any():
            raise ValueError(f"X_unlabeled has {int(bad.sum())} sample(s) with NaN or infinite "
                             "values; impute or drop them first.")
    try:
        encoded = np.asarray(estimator._encode_X(X_unlabeled))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"X_unlabeled: {exc}") from None
    if encoded.dtype.kind not in "biuf":
        raise ValueError(f"X_unlabeled must hold numbers, got dtype {encoded.dtype}.")
    return encoded
