"""MC-dropout: stochastic forward passes with hashed, batch-independent dropout masks."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["MCDropout", "StochasticPasses"]

_M32 = 0xFFFFFFFF


class StochasticPasses:
    """Mixin of skal's Keras wrappers: raw network outputs of MC-dropout passes.

    Needs of its host: ``model_``, ``initialized_``, ``_encode_X`` and
    ``_check_predict_batch_size``. :class:`MCDropout` (classifiers) decodes them into
    probabilities; ``skal.keras.KerasRegressor`` into targets (``predict_samples``).
    """

    def _stochastic_passes(self, X, n_samples, random_state) -> list[np.ndarray]:
        """``n_samples`` raw outputs of the network with hashed dropout masks (see
        :meth:`MCDropout.predict_proba_samples` for how the masks are drawn)."""
        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        if n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        if not self.initialized_:
            check_is_fitted(self, "model_")
        n_layers, fn = self._mc_dropout_fn()
        X = self._encode_X(X)
        X = np.ascontiguousarray(X, dtype=self.model_.inputs[0].dtype)
        keys = _row_keys(X)
        seed = _seed_of(random_state)
        bs = self._check_predict_batch_size()
        n_out = int(np.prod(self.model_.outputs[0].shape[1:]))
        passes = []
        for t in range(int(n_samples)):
            salts = np.random.SeedSequence([seed, t]).generate_state(n_layers).astype(np.int64)
            passes.append(_one_pass(fn, X, keys, salts, bs, n_out))
        return passes

    def _mc_dropout_fn(self):
        """``(n_dropout_layers, f)``, ``f(x, row_keys, salts)`` one stochastic pass.

        A concrete ``tf.function`` traced once per model and cached on the Keras model (so
        pickling the estimator never meets it).
        """
        model = self.model_
        cached = model.__dict__.get("_skal_mc_dropout_fn")
        if cached is not None:
            return cached
        layers = _dropout_layers(model)
        if not layers:
            raise ValueError(
                f"{type(self).__name__}'s Keras model has no Dropout layer with rate > 0, so "
                "stochastic (MC-dropout) passes would all be identical; add dropout to the "
                "model."
            )
        inputs = getattr(model, "inputs", None)
        if not inputs or len(inputs) != 1 or len(model.outputs) != 1:
            raise ValueError("predict_proba_samples needs a model with one input and one output.")
        fn = _trace_stochastic_pass(model, layers)
        object.__setattr__(model, "_skal_mc_dropout_fn", (len(layers), fn))
        return len(layers), fn


class MCDropout(StochasticPasses):
    """Mixin of :class:`~skal.keras.KerasClassifier`: :meth:`predict_proba_samples`.

    Needs of its host, besides :class:`StochasticPasses`': ``_decode_proba`` (raw network
    output to probabilities of shape (n_samples, n_classes)).
    """

    def predict_proba_samples(self, X, n_samples: int = 20, *, random_state=None) -> np.ndarray:
        """Stochastic forward passes with dropout active (MC dropout, Gal et al. 2017).

        Every ``Dropout`` layer of the model (and its subclasses, e.g. ``SpatialDropout2D``)
        drops units as in training, while every other layer runs in inference mode (batch
        normalisation uses its moving statistics, so a sample's output does not depend on
        the other samples of its batch).

        The dropout masks are not drawn from Keras' random state: the mask of a sample in
        pass ``t`` is a hash of ``(random_state, t, layer, the sample's values)``. So the same
        ``random_state`` gives the same passes, a sample gets the same masks whatever the
        batch or chunk it is scored in (chunked pool scoring equals whole-pool scoring), and
        no global random state is read or changed.

        Parameters
        ----------
        X : array-like of shape (n_pool, n_features)
            Samples.
        n_samples : int, default=20
            Number of stochastic passes ``T``.
        random_state : int, RandomState instance, Generator or None, default=None
            Seeds the dropout masks, so the same seed gives the same passes; ``None`` draws
            a fresh seed.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_pool, n_classes)
            Class probabilities of each pass.

        References
        ----------
        Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian Active Learning with Image
        Data. ICML.
        """
        passes = self._stochastic_passes(X, n_samples, random_state)
        return np.stack([self._decode_proba(raw) for raw in passes])


def _dropout_layers(model) -> list:
    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.Dropout) and float(layer.rate) > 0
    ]


def _trace_stochastic_pass(model, layers):
    """The concrete function of one pass: while tracing, each Dropout layer's ``call`` is
    swapped for :func:`_hashed_dropout`; the swap is undone at once."""
    import tensorflow as tf

    inputs = model.inputs
    spec = tf.TensorSpec((None, *inputs[0].shape[1:]), dtype=inputs[0].dtype)

    def one_pass(x, keys, salts):
        for i, layer in enumerate(layers):
            object.__setattr__(layer, "call", _hashed_dropout(layer, keys, salts[i]))
        try:
            return model(x, training=False)
        finally:
            for layer in layers:
                object.__delattr__(layer, "call")

    return tf.function(one_pass, autograph=False).get_concrete_function(
        spec, tf.TensorSpec((None,), tf.int64), tf.TensorSpec((len(layers),), tf.int64)
    )


def _one_pass(fn, X: np.ndarray, keys: np.ndarray, salts: np.ndarray, bs: int,
              n_out: int) -> np.ndarray:
    """Raw network output of one stochastic pass over ``X``, in batches of ``bs``."""
    parts = [
        np.asarray(fn(X[i : i + bs], keys[i : i + bs], salts))
        for i in range(0, len(X), bs)
    ]
    return np.concatenate(parts) if parts else np.empty((0, n_out))


def _mix32(h, xor=np.bitwise_xor, rshift=np.right_shift, band=np.bitwise_and):
    """A 32-bit integer hash (T. Mueller's), in int64 arithmetic.

    Numpy by default; pass ``tf.bitwise`` ops for TensorFlow int64 tensors. Multipliers
    below 2**31 keep every product under 2**63, so no backend relies on overflow, and int64
    ops have kernels on every device.
    """
    h = band(xor(h, rshift(h, 16)) * 0x45D9F3B, _M32)
    h = band(xor(h, rshift(h, 16)) * 0x45D9F3B, _M32)
    return xor(h, rshift(h, 16))


def _row_keys(X: np.ndarray) -> np.ndarray:
    """One 32-bit key per sample, a hash of its values (identical rows, identical keys)."""
    flat = np.ascontiguousarray(X).reshape(len(X), -1)
    words = flat.view(np.uint8)
    if words.shape[1] % 4 == 0:
        words = words.view(np.uint32)
    mult = np.random.default_rng(0x5CA1).integers(1, 2**63, size=words.shape[1], dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = (words.astype(np.uint64) * (mult | np.uint64(1))).sum(axis=1, dtype=np.uint64)
    h = ((h >> np.uint64(32)) ^ h) & np.uint64(_M32)
    return _mix32(h.astype(np.int64))


def _seed_of(random_state) -> int:
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, int | np.integer) and not isinstance(random_state, bool):
        return int(random_state) & _M32
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _noise_shape(layer, inputs, tf):
    """The dropout mask's shape for ``inputs``, as an int32 tensor."""
    shape = tf.shape(inputs)
    if hasattr(layer, "_get_noise_shape"):  # spatial dropout: one mask per channel
        noise = tf.stack([shape[i] if d is None else d for i, d in enumerate(
            layer._get_noise_shape(inputs))])
    elif layer.noise_shape is not None:
        noise = tf.stack([shape[i] if d is None else tf.constant(d, tf.int32)
                          for i, d in enumerate(layer.noise_shape)])
    else:
        noise = shape
    return tf.cast(noise, tf.int32)


def _hashed_dropout(layer, keys, salt):
    """A replacement ``call`` for a Dropout layer: inverted dropout with hashed masks.

    The mask of element ``j`` of a sample with key ``k`` is ``hash(hash(k ^ salt) + j)``
    compared with the rate: a pure function of the sample, the pass and the layer.
    """
    import tensorflow as tf

    rate = float(layer.rate)

    def call(inputs, training=False):
        noise = _noise_shape(layer, inputs, tf)
        n_elem = tf.cast(tf.reduce_prod(noise[1:]), tf.int64)
        ops = dict(
            xor=tf.bitwise.bitwise_xor, rshift=tf.bitwise.right_shift, band=tf.bitwise.bitwise_and
        )
        row = _mix32(ops["xor"](keys, salt), **ops)[:, None]
        counter = tf.range(n_elem, dtype=tf.int64)[None, :] * 0x9E3779B1
        h = _mix32(ops["band"](row + counter, _M32), **ops)
        uniform = tf.cast(tf.bitwise.right_shift(h, 8), tf.float32) * (1.0 / (1 << 24))
        keep = tf.reshape(tf.cast(uniform >= rate, inputs.dtype), noise)
        return inputs * keep / tf.cast(1.0 - rate, inputs.dtype)

    return call
