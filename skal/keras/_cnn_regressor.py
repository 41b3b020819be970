"""CNNRegressor: the small convolutional network of CNNClassifier with a linear output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from skal.keras._cnn import ConvolutionalNetwork
from skal.keras._regressor import KerasRegressor

__all__ = ["CNNRegressor"]


class CNNRegressor(ConvolutionalNetwork, KerasRegressor):
    """A small convolutional network for images or signals, as a scikit-learn regressor.

    :class:`skal.CNNClassifier`'s network -- the same input shapes, convolution blocks,
    ``"embedding"`` layer and dropout (so :meth:`predict_samples` gives MC-dropout passes)
    -- ending in a linear unit per target, trained with the mean squared error.

    Parameters
    ----------
    input_shape : tuple of int or None, default=None
        As in :class:`skal.CNNClassifier`: ``None`` takes it from the training data.
    filters : tuple of int, default=(32, 64)
        Filters of each convolution block.
    kernel_size : int, default=3
        Convolution kernel size.
    dense_units : int, default=128
        Width of the embedding layer.
    dropout : float, default=0.25
        Dropout rate after the convolutions and after the embedding.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    shift_augment : int, default=0
        Training-time circular shifts (see :class:`skal.keras.RandomCircularShift`).
    epochs : int, default=25
        Training epochs per ``fit``.
    batch_size : int, default=32
        Training batch size.
    predict_batch_size : int, default=1024
        Prediction batch size.
    random_state : int or None, default=None
        Seeds initialisation, shuffling and dropout.
    verbose : int, default=0
        Keras verbosity.
    embedding_layer : str, default="embedding"
        Layer whose output :meth:`embed` returns.
    finetune_epochs : int or None, default=5
        Epochs of a warm-started fit.
    min_train_steps : int or None, default=200
        A fit from scratch trains at least this many gradient steps.
    **kwargs
        SciKeras pass-through parameters (``loss`` replaces ``"mse"``, ``warm_start``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from skal import CNNRegressor
    >>> X = np.random.default_rng(0).random((40, 16), dtype=np.float32)
    >>> cnn = CNNRegressor(filters=(4,), dense_units=8, epochs=1, min_train_steps=None,
    ...                    random_state=0).fit(X, X.mean(axis=1))
    >>> cnn.predict(X[:3]).shape, cnn.embed(X[:3]).shape
    ((3,), (3, 8))
    """

    def __init__(
        self,
        input_shape: Sequence[int] | None = None,
        *,
        filters: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        dense_units: int = 128,
        dropout: float = 0.25,
        learning_rate: float = 1e-3,
        shift_augment: int = 0,
        epochs: int = 25,
        batch_size: int = 32,
        predict_batch_size: int = 1024,
        random_state: int | None = None,
        verbose: int = 0,
        embedding_layer: str | None = "embedding",
        finetune_epochs: int | None = 5,
        min_train_steps: int | None = 200,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            predict_batch_size=predict_batch_size, embedding_layer=embedding_layer,
            finetune_epochs=finetune_epochs, min_train_steps=min_train_steps, epochs=epochs,
            batch_size=batch_size, random_state=random_state, verbose=verbose, **kwargs,
        )
        self.input_shape = input_shape
        self.filters = filters
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.shift_augment = shift_augment

    def _keras_build_fn(self, meta: dict[str, Any]) -> keras.Model:
        inputs, x = self._convolutional_body(meta)
        n_outputs = max(1, int(meta.get("n_outputs_", 1) or 1))
        outputs = keras.layers.Dense(n_outputs, name="target")(x)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate),
            loss="mse" if self.loss is None else self.loss,
        )
        return model
