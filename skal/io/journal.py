"""An append-only, crash-safe label journal in SQLite, and a fingerprint for pool arrays.

Every call to :meth:`LabelJournal.append` is one SQLite transaction, committed in WAL mode with
``synchronous=FULL``: when the call returns, the labels are on disk and survive the process
being killed (or the machine losing power). A campaign can therefore be resumed from the
journal alone, and :func:`pool_fingerprint` lets the journal refuse to be replayed against a
different pool than the one it was recorded on.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, Self

import numpy as np

__all__ = ["LabelJournal", "pool_fingerprint", "row_digests"]

SCHEMA_VERSION = 1
_FORMAT = "skal-label-journal"
_APPLICATION_ID = 0x736B616C  # "skal", stored in the SQLite header
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DEFAULT_CHUNK_BYTES = 8 * 2**20

SampleId = int | str
Label = int | float | str | bool


# --------------------------------------------------------------------------- fingerprint


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


def row_digests(X: Any, *, chunk_bytes: int = _DEFAULT_CHUNK_BYTES) -> np.ndarray:
    """A 64-bit digest of each row of ``X``, to check that a row is the pool's row ``i``.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Rows of any numeric dtype; read block by block like :func:`pool_fingerprint`.

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
    row_bytes = max(1, int(np.prod(X.shape[1:], dtype=np.int64)) * X.dtype.itemsize)
    step = max(1, chunk_bytes // row_bytes)
    out = np.empty(n, dtype=np.uint64)
    for start in range(0, n, step):
        block = np.ascontiguousarray(np.asarray(X[start : start + step]))
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


# --------------------------------------------------------------------------- encoding


def _encode_id(sample_id: Any) -> str:
    if isinstance(sample_id, np.generic):
        sample_id = sample_id.item()
    if isinstance(sample_id, bool) or not isinstance(sample_id, int | str):
        raise TypeError(
            f"sample ids must be int (pool index) or str (user key), "
            f"got {type(sample_id).__name__}: {sample_id!r}."
        )
    return json.dumps(sample_id)


def _encode_label(label: Any) -> str:
    if isinstance(label, np.generic):
        label = label.item()
    if not isinstance(label, int | float | str):  # bool is an int
        raise TypeError(
            f"labels must be int, float, str or bool scalars, "
            f"got {type(label).__name__}: {label!r}."
        )
    if isinstance(label, float) and not math.isfinite(label):
        raise ValueError(f"labels must be finite, got {label!r}.")
    return json.dumps(label)


def _encode_score(score: Any) -> float | None:
    if score is None:
        return None
    value = float(score)
    return None if math.isnan(value) else value


def _as_list(values: Any) -> list[Any]:
    # A lone scalar (including a str, which would otherwise iterate by character) is one item.
    if isinstance(values, np.ndarray) and values.ndim == 0:
        return [values[()]]
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return [values]
    return list(values)


def _to_array(values: Sequence[Any]) -> np.ndarray:
    if not values:
        return np.empty(0, dtype=np.int64)
    if len({type(v) for v in values}) > 1:  # mixed types: keep each value as it is
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
        return out
    return np.asarray(values)


# --------------------------------------------------------------------------- journal


class LabelJournal:
    """Append-only label journal in a SQLite file, durable on every append.

    Each :meth:`append` is one transaction, committed in WAL mode with ``synchronous=FULL``:
    once it returns, the labels survive a crash or ``SIGKILL`` of the process. Several
    connections (threads or processes) may open the same journal; writers are serialised by
    SQLite and readers see every committed append. Relabeling a sample appends a new record;
    the last label wins in :meth:`labels` and :meth:`to_arrays`.

    Sample ids are ``int`` (pool indices) or ``str`` (user keys); labels are ``int``, ``float``,
    ``str`` or ``bool`` (numpy scalars are converted). Both are stored JSON-encoded, so they
    come back with their original Python type.

    Parameters
    ----------
    path : str or os.PathLike
        The journal file, created (with its tables) if missing. Keep it on a local disk:
        SQLite's WAL mode does not work on network file systems.
    pool_fingerprint : str, optional
        Fingerprint of the pool the labels refer to (see :func:`pool_fingerprint`). Stored
        when the journal has none yet; refused if the journal already holds a different one.

    Attributes
    ----------
    path : str
        The journal file.

    Raises
    ------
    ValueError
        If ``path`` exists but is not a skal label journal (not SQLite, or SQLite without the
        journal's tables), if its schema version is unknown, or if it was recorded on a pool
        with a different fingerprint.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.sqlite")
    >>> with LabelJournal(path) as journal:
    ...     journal.append([3, 7], ["cat", "dog"], round=0, strategy="margin")
    ...     journal.append([3], ["bird"], round=1)
    ...     journal.labels()
    {3: 'bird', 7: 'dog'}
    """

    def __init__(self, path: str | os.PathLike[str], *, pool_fingerprint: str | None = None):
        self.path = os.fspath(path)
        self._conn: sqlite3.Connection | None = None
        # One connection shared by the threads of a labeling server; calls are serialised.
        self._lock = threading.RLock()
        _check_sqlite_header(self.path)
        try:
            conn = sqlite3.connect(
                self.path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise ValueError(f"cannot open label journal {self.path!r}: {exc}") from exc
        try:
            self._init_schema(conn, pool_fingerprint)
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.OperationalError as exc:  # e.g. locked or read-only: not a format problem
            conn.close()
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise PermissionError(
                    f"label journal {self.path!r} cannot be written ({exc}); answers could "
                    "not be recorded. Make the file and its folder writable, or pass another "
                    "journal path."
                ) from exc
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ValueError(
                f"{self.path!r} is not a skal label journal (SQLite error: {exc})."
            ) from exc
        except BaseException:
            conn.close()
            raise
        self.journal_mode: str = str(mode).lower()
        self._conn = conn

    # ------------------------------------------------------------------ setup

    def _init_schema(self, conn: sqlite3.Connection, fingerprint: str | None) -> None:
        # Validate before changing anything, so a foreign database is left untouched; the
        # write lock makes concurrent first opens create the tables exactly once.
        conn.execute("BEGIN IMMEDIATE")
        try:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if not row[0].startswith("sqlite_")
            }
            if not tables:
                _create_schema(conn)
            else:
                self._check_schema(conn, tables)
                # Probe that the file takes writes now, not at the first answer (lost then).
                conn.execute("UPDATE meta SET value = value WHERE key = 'format'")
            stored = _get_meta(conn, "pool_fingerprint")
            if fingerprint is not None:
                if stored is None:
                    _set_meta(conn, "pool_fingerprint", str(fingerprint))
                elif stored != fingerprint:
                    raise ValueError(
                        f"label journal {self.path!r} belongs to another pool: it was recorded "
                        f"on pool {stored!r}, but this pool's fingerprint is {fingerprint!r}."
                    )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _check_schema(self, conn: sqlite3.Connection, tables: set[str]) -> None:
        not_journal = (
            f"{self.path!r} is an SQLite database but not a skal label journal "
            f"(tables: {sorted(tables)}); refusing to use it."
        )
        if not {"meta", "labels"} <= tables:
            raise ValueError(not_journal)
        try:
            fmt = _get_meta(conn, "format")
            version = _get_meta(conn, "schema_version")
        except sqlite3.DatabaseError as exc:
            raise ValueError(not_journal) from exc
        if fmt != _FORMAT or version is None:
            raise ValueError(not_journal)
        if version != str(SCHEMA_VERSION):
            raise ValueError(
                f"label journal {self.path!r} has schema version {version}, but this skal "
                f"reads version {SCHEMA_VERSION}; upgrade skal to read it."
            )

    # ------------------------------------------------------------------ writing

    def append(
        self,
        sample_ids: Iterable[SampleId] | SampleId,
        labels: Iterable[Label] | Label,
        *,
        round: int | None = None,
        strategy: str | None = None,
        scores: Iterable[float | None] | None = None,
    ) -> None:
        """Record labels for samples, durably, in one transaction.

        Parameters
        ----------
        sample_ids : sequence of int or str
            Pool indices or user keys of the labeled samples. A single id is accepted.
        labels : sequence of int, float, str or bool
            One label per sample (numpy scalars are converted to Python scalars).
        round : int, optional
            The active-learning round the labels were queried in.
        strategy : str, optional
            Name of the query strategy that selected the samples.
        scores : sequence of float, optional
            The strategy's score for each sample (``None``/NaN stored as NULL).

        Raises
        ------
        ValueError
            If ``labels`` or ``scores`` does not have one entry per sample id, if ``round``
            is negative, or if a float label is not finite.
        TypeError
            If an id, label, ``round`` or ``strategy`` has an unsupported type.
        """
        conn = self._connection()
        ids = [_encode_id(s) for s in _as_list(sample_ids)]
        labs = [_encode_label(v) for v in _as_list(labels)]
        if len(labs) != len(ids):
            raise ValueError(
                f"labels has {len(labs)} entries but sample_ids has {len(ids)}; "
                "give one label per sample id."
            )
        if scores is None:
            scs: list[float | None] = [None] * len(ids)
        else:
            scs = [_encode_score(s) for s in _as_list(scores)]
            if len(scs) != len(ids):
                raise ValueError(
                    f"scores has {len(scs)} entries but sample_ids has {len(ids)}; "
                    "give one score per sample id (or scores=None)."
                )
        if round is not None:
            if isinstance(round, np.integer):
                round = int(round)
            if isinstance(round, bool) or not isinstance(round, int):
                raise TypeError(f"round must be an int or None, got {round!r}.")
            if round < 0:
                raise ValueError(f"round must be >= 0, got {round}.")
        if strategy is not None and not isinstance(strategy, str):
            raise TypeError(f"strategy must be a str or None, got {strategy!r}.")
        if not ids:
            return
        self._insert(conn, ids, labs, round, strategy, scs)

    def retract(self, sample_ids: Iterable[SampleId] | SampleId, *, round: int | None = None):
        """Take labels back, durably: the samples count as never answered (an undo).

        The journal stays append-only: a retraction is a record whose label is ``None``.
        :meth:`labels` leaves such samples out until they are labeled again.

        Parameters
        ----------
        sample_ids : sequence of int or str
            The samples whose label (or skip) is taken back. A single id is accepted.
        round : int, optional
            The round in which the answer was taken back.

        Examples
        --------
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "labels.sqlite")
        >>> with LabelJournal(path) as journal:
        ...     journal.append([3, 7], ["cat", "dog"])
        ...     journal.retract(3)
        ...     journal.labels()
        {7: 'dog'}
        """
        conn = self._connection()
        ids = [_encode_id(s) for s in _as_list(sample_ids)]
        if ids:
            self._insert(conn, ids, ["null"] * len(ids), round, "undo", [None] * len(ids))

    def _insert(self, conn, ids, labs, round, strategy, scs) -> None:  # noqa: A002
        now = time.time()
        rows = [(i, lab, now, round, strategy, s) for i, lab, s in zip(ids, labs, scs, strict=True)]
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO labels (sample_id, label, timestamp, round, strategy, score) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ reading

    def records(self) -> list[dict[str, Any]]:
        """Every appended record, in append order.

        Returns
        -------
        list of dict
            Keys ``seq``, ``sample_id``, ``label``, ``timestamp``, ``round``, ``strategy``
            and ``score``; ids and labels have their original Python types (``label`` is
            ``None`` for a retraction, see :meth:`retract`).
        """
        with self._lock:
            cur = self._connection().execute(
                "SELECT seq, sample_id, label, timestamp, round, strategy, score "
                "FROM labels ORDER BY seq"
            ).fetchall()
        return [
            {
                "seq": seq,
                "sample_id": json.loads(sid),
                "label": json.loads(lab),
                "timestamp": ts,
                "round": rnd,
                "strategy": strat,
                "score": score,
            }
            for seq, sid, lab, ts, rnd, strat, score in cur
        ]

    def labels(self) -> dict[SampleId, Label]:
        """The current label of every labeled sample.

        Returns
        -------
        dict
            ``{sample_id: label}`` in first-labeled order; when a sample was relabeled,
            its last label wins.
        """
        out: dict[SampleId, Label] = {}
        with self._lock:
            rows = self._connection().execute(
                "SELECT sample_id, label FROM labels ORDER BY seq"
            ).fetchall()
        for sid, lab in rows:
            key, value = json.loads(sid), json.loads(lab)
            if value is None:  # retracted: answered again later, it comes back at the end
                out.pop(key, None)
            else:
                out[key] = value
        return out

    def labeled_ids(self) -> list[SampleId]:
        """Distinct labeled sample ids, in first-labeled order.

        Returns
        -------
        list of int or str
        """
        return list(self.labels())

    def to_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The current labels as arrays, ready for indexing a pool and fitting.

        Returns
        -------
        ids : ndarray
            Distinct sample ids in first-labeled order (int64 for pool indices, a string
            array for keys, object dtype if types are mixed; empty int64 if no labels).
        labels : ndarray
            The last label of each sample, aligned with ``ids``.
        """
        current = self.labels()
        return _to_array(list(current)), _to_array(list(current.values()))

    def __len__(self) -> int:
        """Number of records appended (relabels count; see :meth:`labeled_ids`)."""
        return int(self._connection().execute("SELECT COUNT(*) FROM labels").fetchone()[0])

    @property
    def n_rounds(self) -> int:
        """Highest recorded ``round`` plus one; 0 if no record has a round."""
        top = self._connection().execute("SELECT MAX(round) FROM labels").fetchone()[0]
        return 0 if top is None else int(top) + 1

    @property
    def fingerprint(self) -> str | None:
        """Fingerprint of the pool this journal belongs to, or None if none was given."""
        return _get_meta(self._connection(), "pool_fingerprint")

    @property
    def created(self) -> float:
        """Creation time of the journal, in seconds since the epoch."""
        return float(_get_meta(self._connection(), "created") or "nan")

    # ------------------------------------------------------------------ lifecycle

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._conn is None

    def close(self) -> None:
        """Close the connection. Safe to call more than once."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __deepcopy__(self, memo: dict) -> Self:
        # A handle on a file, like an open file object: copies (scikit-learn's ``clone`` of
        # a learner with ``journal=LabelJournal(...)``) share it rather than fork the file.
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "closed": self.closed}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickling reopens the journal at its path (the connection itself cannot travel).
        if state["closed"]:
            self.path, self._conn, self.journal_mode = state["path"], None, ""
            self._lock = threading.RLock()
        else:
            self.__init__(state["path"])

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} records"
        return f"LabelJournal({self.path!r}, {state})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"label journal {self.path!r} is closed.")
        return self._conn


# --------------------------------------------------------------------------- helpers


def _check_sqlite_header(path: str) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except IsADirectoryError as exc:
        raise ValueError(f"{path!r} is a directory, not a skal label journal.") from exc
    if head and head != _SQLITE_MAGIC:  # an empty file is a fresh SQLite database
        raise ValueError(f"{path!r} is not a skal label journal (not an SQLite database).")


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA application_id={_APPLICATION_ID}")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(
        "CREATE TABLE labels ("
        "seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "sample_id TEXT NOT NULL, "
        "label TEXT NOT NULL, "
        "timestamp REAL NOT NULL, "
        "round INTEGER, "
        "strategy TEXT, "
        "score REAL)"
    )
    conn.execute("CREATE INDEX labels_sample_id ON labels (sample_id)")
    _set_meta(conn, "format", _FORMAT)
    _set_meta(conn, "schema_version", str(SCHEMA_VERSION))
    _set_meta(conn, "created", repr(time.time()))


def _get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
