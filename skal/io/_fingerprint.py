"""Fingerprints of a pool: one for the whole pool, one 64-bit digest per row.

A journal stores its pool's fingerprint and refuses another pool; a learner keeps the row
digests so that ``teach(..., sample_ids=...)`` can check each row is the pool's row.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

__all__ = ["pool_fingerprint", "row_digests"]

_DEFAULT_CHUNK_BYTES = 8 * 2**20


def pool_fingerprint(X: Any, *, chunk_bytes: int = _DEFAULT_CHUNK_BYTES) -> str:
    """Return a stable fingerprint of a pool array: its dtype, shape and content hash.

    The array is hashed block by block (whole rows, about ``chunk_bytes`` at a time), so a
    ``np.memmap`` larger than memory can be fingerprinted. The result depends only on the
    logical content -- not on the memory layout (C/Fortran order, strides) or on whether the
    array is a memmap -- and is identical across processes and platforms with the same dtype.

    Parameters
    ----------
    X : array-like
        A numpy array or ``np.memmap`` of any shape and any non-object dtype. Other objects
        with ``shape``, ``dtype`` and row slicing (e.g. h5py datasets) work too, and so does a
        pandas DataFrame (column names, dtypes and values, any column types); anything else
        is converted with :func:`numpy.asarray`.
    chunk_bytes : int, default=8 MiB
        Approximate size of each block read and hashed. Does not change the result.

    Returns
    -------
    str
        ``"<dtype>:<shape>:<hex>"``, e.g. ``"float64:1797x64:9f3c...``", where ``<hex>`` is a
        128-bit BLAKE2b digest of the dtype description, the shape and the raw bytes.

    Raises
    ------
    TypeError
        If the dtype holds Python objects, whose bytes are pointers and not content.
    ValueError
        If ``chunk_bytes`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> pool_fingerprint(np.zeros((3, 2)))[:12]
    'float64:3x2:'
    """
    if chunk_bytes <= 0:
        raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes!r}.")
    if _is_frame(X):
        h = hashlib.blake2b(digest_size=16)
        h.update(f"skal-frame-v1|{[str(c) for c in X.columns]!r}|{list(map(str, X.dtypes))!r}|"
                 .encode())
        h.update(row_digests(X).tobytes())
        return f"frame:{X.shape[0]}x{X.shape[1]}:{h.hexdigest()}"
    if not (hasattr(X, "shape") and hasattr(X, "dtype") and hasattr(X, "__getitem__")):
        X = np.asarray(X)
    dtype = np.dtype(X.dtype)
    shape = tuple(int(s) for s in X.shape)
    if dtype.hasobject:
        raise TypeError(
            "pool_fingerprint cannot hash an object-dtype array (its bytes are pointers); "
            "convert the pool to a numeric or fixed-width string dtype first."
        )
    shape_str = "x".join(map(str, shape)) if shape else "scalar"

    h = hashlib.blake2b(digest_size=16)
    header = f"skal-pool-v1|{np.lib.format.dtype_to_descr(dtype)!r}|{shape!r}|"
    h.update(header.encode())
    if not shape:
        h.update(_as_bytes(np.asarray(X[()], dtype=dtype)))
    else:
        row_bytes = dtype.itemsize * math.prod(shape[1:])
        rows_per_block = max(1, chunk_bytes // max(1, row_bytes))
        for start in range(0, shape[0], rows_per_block):
            block = np.asarray(X[start : start + rows_per_block], dtype=dtype)
            h.update(_as_bytes(block))
    return f"{dtype.name}:{shape_str}:{h.hexdigest()}"


def row_digests(X: Any, *, dtype=None, chunk_bytes: int = _DEFAULT_CHUNK_BYTES) -> np.ndarray:
    """A 64-bit digest of each row of ``X``, to check that a row is the pool's row ``i``.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Rows of any numeric dtype; read block by block like :func:`pool_fingerprint`.
    dtype : numpy dtype or None, default=None
        Digest the rows as this dtype (the pool's), each block cast as it is read: a row
        given as float64 matches the same row of a float32 pool. Ignored for DataFrames.

    Returns
    -------
    ndarray of uint64, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> (row_digests(X[1:]) == row_digests(X)[1:]).all()
    np.True_
    """
    if _is_frame(X):  # pandas hashes each row's values, whatever the column types
        from pandas.util import hash_pandas_object

        return hash_pandas_object(X, index=False).to_numpy(dtype=np.uint64)
    X = X if hasattr(X, "shape") and hasattr(X, "dtype") else np.asarray(X)
    n = X.shape[0]
    dtype = X.dtype if dtype is None else np.dtype(dtype)
    row_bytes = max(1, int(np.prod(X.shape[1:], dtype=np.int64)) * dtype.itemsize)
    step = max(1, chunk_bytes // row_bytes)
    out = np.empty(n, dtype=np.uint64)
    for start in range(0, n, step):
        block = np.ascontiguousarray(np.asarray(X[start : start + step]), dtype=dtype)
        flat = block.reshape(len(block), -1).view(np.uint8)
        for k, row in enumerate(flat):
            digest = hashlib.blake2b(row.tobytes(), digest_size=8).digest()
            out[start + k] = int.from_bytes(digest, "little")
    return out


def _is_frame(X) -> bool:
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _as_bytes(block: np.ndarray) -> memoryview:
    # C-order bytes of the block, whatever its layout; uint8 view so any dtype is a buffer.
    flat = np.ascontiguousarray(block).reshape(-1)
    return memoryview(flat.view(np.uint8))
