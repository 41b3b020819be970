"""Reusing a Keras model's traced training step across fits from scratch.

A fit from scratch builds a new Keras model, and Keras then traces its training step again
(~0.9 s for the default CNN, a third of a digits round). When an older model has the same
layers, variable shapes and compile settings, the fresh model's initial state (weights,
optimizer slots, dropout and augmentation seeds) is copied into the old one and the old one
is trained instead: training is exactly that of the fresh model, without the retrace.
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["TracedModelReuse", "reset_into"]

# Parameters that change how a network is trained or used, never the network or its compile
# settings: two estimators that differ only in these can share one traced model.
_TRAINING_ONLY = frozenset({
    "random_state", "epochs", "batch_size", "validation_batch_size", "validation_split",
    "shuffle", "class_weight", "verbose", "callbacks", "warm_start", "predict_batch_size",
    "embedding_layer", "finetune_epochs", "min_train_steps",
})
_TRAINING_ONLY_PREFIXES = ("fit__", "predict__", "callbacks__")


class TracedModelReuse:
    """Mixin of :class:`~skal.keras.KerasClassifier`: a fit from scratch reuses a traced model.

    The model is the estimator's own previous one (a cold refit) or one handed over with
    :meth:`reuse_model_from`. Needs SciKeras' ``_build_keras_model`` further down the MRO.
    """

    def _build_keras_model(self) -> keras.Model:
        """Build a new model; hand back an identical old one, reset to the new one's state.

        The old model is the one taken over with :meth:`reuse_model_from`, else this
        estimator's own previous ``model_``.
        """
        fresh = super()._build_keras_model()
        donor = self.__dict__.pop("_donor_model", None)
        if donor is None:
            donor = self.__dict__.get("model_")
        if donor is not None and donor is not fresh and reset_into(donor, fresh):
            return donor
        return fresh

    def reuse_model_from(self, previous: Any) -> bool:
        """Take over ``previous``'s compiled network for this estimator's next fit from scratch.

        The next fit from scratch builds this estimator's network as usual, copies its fresh
        initial state (weights, optimizer slots, dropout and augmentation seeds) into
        ``previous``'s Keras model, and trains that one: Keras does not trace the training
        step again, and results are identical to a rebuild. ``previous`` must be discarded
        by the caller: its model now belongs to this estimator.

        Parameters
        ----------
        previous : object
            A fitted estimator of exactly this class, typically the previous round's.

        Returns
        -------
        reused : bool
            True when ``previous``'s model was taken over. False, and nothing changes, when
            ``previous`` is not an estimator of this class, is not fitted (no traced training
            step), or has parameters that build another network or compile it differently
            (training-only parameters such as ``epochs`` or ``random_state`` may differ).
            Data that change the network's shape (a new class) still make the next fit
            build a new one: the network itself is compared again before it is reused.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.base import clone
        >>> from skal import CNNClassifier
        >>> X = np.random.default_rng(0).random((40, 16), dtype=np.float32)
        >>> y = np.arange(40) % 2
        >>> first = CNNClassifier(filters=(4,), dense_units=8, epochs=1,
        ...                       min_train_steps=None, random_state=0).fit(X, y)
        >>> second = clone(first)
        >>> second.reuse_model_from(first)  # first is not used after this
        True
        >>> second.fit(X, y).model_ is first.model_  # the same, already traced network
        True
        >>> rebuilt = clone(second).fit(X, y)
        >>> bool(np.array_equal(second.predict_proba(X), rebuilt.predict_proba(X)))
        True
        >>> clone(second).set_params(dense_units=16).reuse_model_from(second)
        False
        """
        model = getattr(previous, "model_", None)
        if (
            type(previous) is not type(self)
            or model is None
            or not _has_traced_training_step(model)
            or not _same_network_params(self, previous)
        ):
            return False
        self._donor_model = model
        return True


def reset_into(old: keras.Model, fresh: keras.Model) -> bool:
    """Give ``old`` the exact initial state of ``fresh`` when both are the same network.

    Returns False (and changes nothing) unless ``old`` has a traced training step and both
    models have the same class, layers (configs up to names), variables and compile settings.
    """
    if (
        type(old) is not type(fresh)
        or not _has_traced_training_step(old)
        or not getattr(fresh, "compiled", False)
        or fresh.optimizer is None
        or type(old.optimizer) is not type(fresh.optimizer)
        or not _same_variables(old.variables, fresh.variables)
        or _architecture(old) != _architecture(fresh)
        or _compile_settings(old) != _compile_settings(fresh)
    ):
        return False
    fresh.optimizer.build(fresh.trainable_variables)
    if not _same_variables(old.optimizer.variables, fresh.optimizer.variables):
        return False
    for target, source in zip(old.variables, fresh.variables):
        target.assign(source)
    for target, source in zip(old.optimizer.variables, fresh.optimizer.variables):
        target.assign(source)
    old.stop_training = False
    return True


def _has_traced_training_step(model) -> bool:
    return (
        getattr(model, "train_function", None) is not None
        and getattr(model, "compiled", False)
        and model.optimizer is not None
        and model.optimizer.built
    )


def _network_params(estimator) -> dict[str, Any]:
    return {
        name: value
        for name, value in estimator.get_params(deep=False).items()
        if name not in _TRAINING_ONLY and not name.startswith(_TRAINING_ONLY_PREFIXES)
    }


def _same_network_params(a, b) -> bool:
    pa, pb = _network_params(a), _network_params(b)
    return pa.keys() == pb.keys() and all(_same_value(pa[k], pb[k]) for k in pa)


def _same_value(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # arrays and the like: no single truth value, so "different"
        return False


def _architecture(model) -> list:
    layers = []
    for layer in model._flatten_layers(include_self=False):
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        layers.append((type(layer), repr(config)))
    return layers


def _compile_settings(model) -> str:
    config = model.get_compile_config() or {}
    optimizer = dict(config.get("optimizer") or {})
    optimizer["config"] = {k: v for k, v in (optimizer.get("config") or {}).items()
                           if k != "name"}
    return repr({**config, "optimizer": optimizer})


def _same_variables(a, b) -> bool:
    return len(a) == len(b) and all(
        tuple(u.shape) == tuple(v.shape) and u.dtype == v.dtype for u, v in zip(a, b)
    )
