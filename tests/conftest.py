import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def digits():
    from skal.datasets import load_digits_split

    return load_digits_split(random_state=0)


@pytest.fixture(scope="session")
def digits_xy():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def tiny_cnn(**kw):
    """A CNN small enough for tests: one conv block, few epochs."""
    from skal import CNNClassifier

    params = dict(filters=(8,), dense_units=16, epochs=3, batch_size=64, random_state=0,
                  min_train_steps=None)
    params.update(kw)
    return CNNClassifier(**params)


@pytest.fixture
def make_cnn():
    return tiny_cnn
