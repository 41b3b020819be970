"""The labeled validation set of a labeling session (``skal label --holdout``), for any pool.

An array or image pool's holdout is a ``.npz`` of arrays ``X`` and ``y``
(:func:`skal.cli._data.load_holdout`). A table or text pool's holdout is a table
(``.csv``/``.tsv``/``.parquet``, read as the pool is) holding the columns the model reads --
the pool's feature columns, or its text column (``text`` for a folder of ``.txt`` files) --
and a label column (``label``, or ``--holdout-label-column``); other columns are ignored.
Every mismatch is a ``ValueError`` naming the option, the file and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skal.cli._data import load_holdout
from skal.cli._pools import TABLE_SUFFIXES, read_table

__all__ = ["LABEL_COLUMN", "open_holdout"]

#: The holdout table's label column when ``--holdout-label-column`` is not given.
LABEL_COLUMN = "label"
LISTED = 8  # column names listed in a message


def open_holdout(path, pool, *, label_column=None, classes=None):
    """``(X, y)`` of the holdout at ``path`` for ``pool`` (a :class:`~skal.cli._pools.Pool`).

    Parameters
    ----------
    path : str or Path
        A ``.npz`` (array and image pools) or a table (table and text pools).
    pool : Pool
        The session's pool: the holdout gives what its model reads.
    label_column : str or None
        The table's label column (default ``"label"``); only for a table or text pool.
    classes : list or None
        The session's ``--classes``: every holdout label must be one (and takes its type).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skal.cli._pools import open_pool
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "p.csv").write_text("id,age\\na,31\\nb,40\\n")
    >>> _ = (folder / "h.csv").write_text("age,label,note\\n33,old,x\\n20,young,y\\n")
    >>> X, y = open_holdout(folder / "h.csv", open_pool(folder / "p.csv", id_column="id"))
    >>> list(X.columns), y.tolist()
    (['age'], ['old', 'young'])
    """
    if pool.kind not in ("table", "text"):
        if label_column is not None:
            raise ValueError("--holdout-label-column names a column of a table pool's holdout; "
                             f"this {pool.kind} pool's holdout is a .npz of arrays X and y")
        if Path(path).suffix.lower() != ".npz":
            raise ValueError(f"--holdout {path}: the holdout of an array or image pool is a "
                             ".npz of arrays X and y (a table holdout is for a table or text "
                             "pool)")
        return load_holdout(str(path), pool.X.shape[1])
    path, label = Path(path), label_column or LABEL_COLUMN
    needed = [str(c) for c in pool.X.columns]  # the feature columns, or the text column
    what = f"the {'text column' if pool.kind == 'text' else 'columns'} {_listed(needed)}"
    if path.suffix.lower() not in TABLE_SUFFIXES or path.is_dir():
        raise ValueError(f"--holdout {path}: a {pool.kind} pool's holdout is a table (.csv, "
                         f".tsv, .parquet) with {what} and a label column {label!r}")
    if not path.exists():
        raise ValueError(f"--holdout: no file at {str(path)!r}")
    frame = read_table(path)
    if label in needed:
        raise ValueError(f"--holdout-label-column {label!r} is a column the model reads; "
                         "name the holdout's label column")
    missing = [c for c in [*needed, label] if c not in frame.columns]
    if missing:
        fix = (" (name the label column with --holdout-label-column)" if label in missing
               else "")
        raise ValueError(f"--holdout {path}: it has no column {_listed(missing)}{fix}; a "
                         f"{pool.kind} pool's holdout holds {what} and the label column "
                         f"{label!r}; its columns are {_listed(list(frame.columns))}")
    return _rows(frame, pool, needed, path), _labels(frame[label], label, path, classes)


def _rows(frame, pool, needed, path):
    """The holdout's model columns, read as the pool's: texts as text, numbers as numbers."""
    X = frame[needed].copy()
    if pool.kind == "text":
        import pandas as pd

        column = needed[0]
        X[column] = X[column].map(lambda v: "" if pd.isna(v) else str(v)).astype(object)
        return X
    for column in needed:
        if pool.X[column].dtype.kind in "biuf" and X[column].dtype.kind not in "biuf":
            row = _first_non_number(X[column])
            raise ValueError(f"--holdout {path}: the column {column!r} holds numbers in the "
                             f"pool but {X[column].iloc[row]!r} on row {row} of the holdout")
    return X


def _first_non_number(values) -> int:
    import pandas as pd

    bad = pd.to_numeric(values, errors="coerce").isna() & values.notna()
    return int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0


def _labels(values, label, path, classes):
    """The label column as a 1-D array; missing labels and labels outside ``classes``
    refused."""
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise ValueError(f"--holdout {path}: row {row} has no {label!r}; every holdout row "
                         "needs its label")
    y = [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]
    if classes is None:
        return np.asarray(y)
    by_text = {str(c): c for c in classes}
    for row, v in enumerate(y):
        if str(v) not in by_text:
            raise ValueError(f"--holdout {path}: row {row} has the label {str(v)!r}, not one "
                             f"of --classes {_listed(list(by_text))}")
    return np.asarray([by_text[str(v)] for v in y])


def _listed(names) -> str:
    shown = ", ".join(repr(str(n)) for n in names[:LISTED])
    return shown + (", ..." if len(names) > LISTED else "")
