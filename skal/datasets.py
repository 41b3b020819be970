"""Data that ships or is generated offline: scikit-learn's digits, and MNIST-1D."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits as _sk_load_digits
from sklearn.model_selection import train_test_split

__all__ = ["load_digits_split", "make_mnist1d"]


def load_digits_split(*, test_size: float = 0.3, random_state: int = 0):
    """scikit-learn's bundled 8x8 digits, scaled to [0, 1] and split stratified.

    Parameters
    ----------
    test_size : float, default=0.3
        Fraction held out for testing.
    random_state : int, default=0
        Seeds the split.

    Returns
    -------
    X_train, X_test : ndarray of shape (n, 64), float32
    y_train, y_test : ndarray of shape (n,), int

    Examples
    --------
    >>> from skal.datasets import load_digits_split
    >>> X_train, X_test, y_train, y_test = load_digits_split(test_size=0.3, random_state=0)
    >>> X_train.shape, X_test.shape, X_train.dtype
    ((1257, 64), (540, 64), dtype('float32'))
    >>> float(X_train.min()), float(X_train.max()), len(set(y_train))
    (0.0, 1.0, 10)
    """
    X, y = _sk_load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=random_state)


def make_mnist1d(*, n_train: int = 4000, n_test: int = 1000, seed: int = 42):
    """MNIST-1D (Greydanus 2020), generated offline with the ``mnist1d`` package.

    Parameters
    ----------
    n_train, n_test : int
        Samples in each part.
    seed : int, default=42
        Generator seed.

    Returns
    -------
    X_train, X_test : ndarray of shape (n, 40), float32
    y_train, y_test : ndarray of shape (n,), int

    Examples
    --------
    The mnist1d package comes with the ``bench`` extra (``pip install 'skal[bench]'``), not
    with ``make test``'s, so the doctest skips these lines:

    >>> from skal.datasets import make_mnist1d
    >>> X_train, X_test, y_train, y_test = make_mnist1d(  # doctest: +SKIP
    ...     n_train=20, n_test=10, seed=0)
    >>> X_train.shape, X_test.shape, X_train.dtype, y_train.shape  # doctest: +SKIP
    ((20, 40), (10, 40), dtype('float32'), (20,))
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:  # pragma: no cover - depends on the bench extra
        raise ImportError("MNIST-1D needs the mnist1d package: pip install 'skal[bench]'") from exc
    args = get_dataset_args()
    args.num_samples = n_train + n_test
    args.train_split = n_train / (n_train + n_test)
    args.seed = seed
    data = make_dataset(args)  # generates in memory; never downloads
    X_train = np.asarray(data["x"], dtype=np.float32)
    X_test = np.asarray(data["x_test"], dtype=np.float32)
    return X_train, X_test, np.asarray(data["y"]), np.asarray(data["y_test"])
