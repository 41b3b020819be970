"""The pool of a labeling session, from what a codebase holds: tables, text, images, arrays.

One loader, :func:`open_pool`, serves both front ends (``skal label`` in the terminal and
``--web``). A :class:`Pool` holds what the model reads (``X``: float rows of an array or an
image folder, a DataFrame of a table's feature columns, a one-column DataFrame of texts),
what a person is shown (a table's chosen columns, a text), the journal's key of each sample
(a row index, an ``--id-column`` value, a file name). Everything read from a file is data:
nothing from a pool is ever run, and the front ends escape what they show of it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skal.cli._data import IMAGE_SUFFIXES, load_pool
from skal.oracles import safe_text

__all__ = ["TABLE_SUFFIXES", "TEXT_LIMIT", "VALUE_LIMIT", "Pool", "open_pool", "terminal_text"]

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
#: Characters of one text sent to the page (a longer one says how much is not shown).
TEXT_LIMIT = 200_000
#: Characters of one table cell sent to the page.
VALUE_LIMIT = 5_000
#: Characters of a text, and of one cell, shown at the terminal.
TERMINAL_TEXT = 1_500
TERMINAL_VALUE = 200
TERMINAL_LINES = 30
#: Column names listed in an error message about a missing column.
LISTED = 20


@dataclass
class Pool:
    """A pool as the front ends use it.

    Attributes
    ----------
    X : ndarray or DataFrame
        What the model reads: float rows (arrays, image folders), a table's feature
        columns, or the texts as a one-column DataFrame (column ``text_column``).
    kind : {"array", "images", "table", "text"}
    source : str
        Where it was read from.
    keys : list of str or None
        The journal's id of each sample (``--id-column`` values, a text folder's file
        names); None: the row index is the id.
    names : list of str or None
        A name shown with each sample (file names, ``--id-column`` values).
    shape : tuple of int or None
        The image shape of one sample.
    shown : DataFrame or None
        The columns shown of a table or text pool (all of a table by default).
    text_column : str or None
        The column of ``X`` that holds the text of a text pool.
    """

    X: Any
    kind: str
    source: str
    keys: list | None = None
    names: list | None = None
    shape: tuple | None = None
    shown: Any = None
    text_column: str | None = None

    def __len__(self) -> int:
        return len(self.X)

    def record(self, i: int, limit: int = VALUE_LIMIT) -> list[list[str]]:
        """The shown columns of sample ``i`` as ``[name, value]`` text pairs, each value
        cut at ``limit`` characters (missing values as an empty string)."""
        if self.shown is None:
            return []
        row = self.shown.iloc[int(i)]
        return [[str(name), _cut(_cell(value), limit)] for name, value in row.items()]

    def text(self, i: int) -> str | None:
        """The text of sample ``i`` of a text pool (else None), whole."""
        if self.text_column is None:
            return None
        return str(self.X[self.text_column].iloc[int(i)])

    def fingerprint(self) -> str:
        from skal.io.journal import pool_fingerprint

        return pool_fingerprint(self.X)  # what the campaign checks the journal against


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover - a table pool imported it
        pass
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


# ------------------------------------------------------------------------------ loading


def open_pool(path, *, columns=None, features=None, text_column=None, id_column=None,
              image_size=None) -> Pool:
    """Read the pool at ``path``; a ``ValueError`` that names the option and the fix.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.tsv``/``.parquet`` table, a folder of ``.txt`` files or of PNG/JPEG
        images, or a ``.npy``/``.npz`` array.
    columns, features : str or None
        Comma-separated column names of a table: shown to the person (default: all), and
        read by the model (default: all but ``id_column`` and a ``text_column``).
    text_column : str or None
        The column of a table that holds a text: the pool is that text.
    id_column : str or None
        The column of a table whose values are the samples' keys in the journal.
    image_size : (width, height) or None
        Resize the images of a folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text("id,age,city\\na7,31,Oslo\\nb2,,Lima\\n")
    >>> pool = open_pool(folder / "t.csv", id_column="id")
    >>> pool.kind, list(pool.X.columns), pool.keys, pool.record(1)
    ('table', ['age', 'city'], ['a7', 'b2'], [['id', 'b2'], ['age', ''], ['city', 'Lima']])
    """
    path = Path(path)
    table_options = {"--columns": columns, "--features": features,
                     "--text-column": text_column, "--id-column": id_column}
    is_table = path.suffix.lower() in TABLE_SUFFIXES and not path.is_dir()
    if not is_table:
        given = [name for name, value in table_options.items() if value]
        if given:
            raise ValueError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} "
                             f"to a table pool (.csv, .tsv, .parquet); {path} is not one")
    if is_table:
        if not path.exists():
            raise ValueError(f"no pool at {str(path)!r}")
        return _table_pool(path, columns, features, text_column, id_column)
    if path.is_dir() and not any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
        if any(p.suffix.lower() == ".txt" for p in path.iterdir()):
            return _text_folder(path)
        raise ValueError(f"{path} holds no .png/.jpg/.jpeg image and no .txt file")
    if not path.is_dir() and path.exists() and path.suffix.lower() not in (".npy", ".npz"):
        raise ValueError(f"{path}: a pool is a .csv, .tsv, .parquet, .npy or .npz file or a "
                         "folder of images or .txt files")
    X, shape, names = load_pool(path, image_size)
    return Pool(X, "images" if names is not None else "array", str(path), names=names,
                shape=shape)


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas comes with the web and test extras
        raise ValueError("a table pool needs pandas: pip install pandas") from None
    return pd


def read_table(path: Path, id_column: str | None = None):
    """A CSV/TSV (UTF-8) or Parquet file as a DataFrame with string column names; a CSV's
    ``id_column`` as written (text: pandas would read ``005`` as the number 5)."""
    pd = _pandas()
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401 - pandas' Parquet engine
        except ImportError:
            raise ValueError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow "
                             "(or save the table as CSV)") from None
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {path} as Parquet: {exc}") from None
    else:
        frame = _read_csv(pd, path, None if id_column is None else {id_column: str})
    frame.columns = [str(c) for c in frame.columns]
    if len(frame) == 0:
        raise ValueError(f"{path} holds no rows (a header at most): nothing to label")
    return frame.reset_index(drop=True)


def _read_csv(pd, path: Path, dtype=None):
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8", encoding_errors="strict",
                           dtype=dtype)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                         f"position {exc.start}): save it as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: a table pool needs a header line and rows") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise ValueError(f"cannot read {path} as {'TSV' if sep == chr(9) else 'CSV'}: "
                         f"{exc}") from None


def _column_list(text: str | None, frame, option: str) -> list[str] | None:
    """The columns named by ``option`` (comma-separated), checked against the table."""
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise ValueError(f"{option} names no column")
    for name in names:
        _check_column(name, frame, option)
    return names


def _check_column(name: str, frame, option: str) -> str:
    if name not in frame.columns:
        listed = ", ".join(repr(c) for c in list(frame.columns)[:LISTED])
        more = ", ..." if len(frame.columns) > LISTED else ""
        raise ValueError(f"{option}: the table has no column {name!r}; its columns are "
                         f"{listed}{more}")
    return name


def _table_pool(path: Path, columns, features, text_column, id_column) -> Pool:
    frame = read_table(path, id_column)
    keys = _keys(frame, id_column) if id_column else None
    shown = _column_list(columns, frame, "--columns")
    if text_column:
        _check_column(text_column, frame, "--text-column")
        if features:
            raise ValueError("--features and --text-column: a text pool's model reads the "
                             "text; leave out --features (or --text-column for a table)")
        texts = frame[text_column].map(_cell).astype(object)
        X = _pandas().DataFrame({text_column: texts})
        shown = [c for c in (shown or ([id_column] if id_column else [])) if c != text_column]
        return Pool(X, "text", str(path), keys=keys, names=keys,
                    shown=frame[shown] if shown else None, text_column=text_column)
    used = _column_list(features, frame, "--features")
    if used is None:
        used = [c for c in frame.columns if c != id_column]
    if not used:
        raise ValueError(f"{path}: no feature column left for the model: name them with "
                         "--features")
    return Pool(frame[used], "table", str(path), keys=keys, names=keys,
                shown=frame[shown or list(frame.columns)])


def _keys(frame, id_column: str) -> list[str]:
    _check_column(id_column, frame, "--id-column")
    values = frame[id_column]
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise ValueError(f"--id-column {id_column!r}: row {row} has no value; every sample "
                         "needs a key")
    keys = [_cell(v) for v in values.tolist()]
    seen: dict[str, int] = {}
    for row, key in enumerate(keys):
        if key == "":
            raise ValueError(f"--id-column {id_column!r}: row {row} has an empty key")
        if key in seen:
            raise ValueError(f"--id-column {id_column!r}: the key {safe_text(key)!r} is on rows "
                             f"{seen[key]} and {row}; keys must be unique")
        seen[key] = row
    return keys


def _text_folder(folder: Path) -> Pool:
    pd = _pandas()
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".txt" and p.is_file())
    texts = []
    for f in files:
        data = f.read_bytes()
        try:
            texts.append(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError(f"{f} is not UTF-8 text (byte {data[exc.start]:#04x} at position "
                             f"{exc.start}): save it as UTF-8") from None
    names = [f.name for f in files]
    X = pd.DataFrame({"text": pd.Series(texts, dtype=object)})
    return Pool(X, "text", str(folder), keys=names, names=names, text_column="text")


# ------------------------------------------------------------------------------ terminal


def terminal_text(pool: Pool, i: int, width: int = 100) -> str:
    """What the terminal shows of sample ``i`` of a table or text pool: ``column: value``
    lines, then the text wrapped at ``width`` and cut at ``TERMINAL_TEXT`` characters or
    ``TERMINAL_LINES`` lines;
    control characters escaped (:func:`skal.oracles.safe_text`)."""
    lines = [f"  {safe_text(name)}: {safe_text(value)}"
             for name, value in pool.record(i, TERMINAL_VALUE)]
    text = pool.text(i)
    if text is not None:
        body = []
        for paragraph in text[:TERMINAL_TEXT].splitlines() or [""]:
            body.extend(textwrap.wrap(safe_text(paragraph), width - 2) or [""])
        lines.extend("  " + line for line in body[:TERMINAL_LINES])
        if len(text) > TERMINAL_TEXT or len(body) > TERMINAL_LINES:
            lines.append(f"  … (cut: {len(text):,} characters in all; skal label --web shows "
                         "the whole text)")
    return "\n".join(lines)
