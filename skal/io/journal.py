"""An append-only, crash-safe label journal in SQLite, and a fingerprint for pool arrays.

Every call to :meth:`LabelJournal.append` is one SQLite transaction, committed in WAL mode with
``synchronous=FULL``: when the call returns, the labels are on disk and survive the process
being killed (or the machine losing power). A campaign can therefore be resumed from the
journal alone, and :func:`pool_fingerprint` lets the journal refuse to be replayed against a
different pool than the one it was recorded on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

import numpy as np

from skal.io._fingerprint import pool_fingerprint, row_digests
from skal.io._sqlite import (
    FORMAT,
    SCHEMA_VERSION,
    as_list,
    check_sqlite_header,
    create_schema,
    encode_id,
    encode_label,
    encode_score,
    get_meta,
    set_meta,
    to_array,
)

__all__ = ["LabelJournal", "pool_fingerprint", "row_digests"]


SampleId = int | str
Label = int | float | str | bool


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
        check_sqlite_header(self.path)
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
                create_schema(conn)
            else:
                self._check_schema(conn, tables)
                # Probe that the file takes writes now, not at the first answer (lost then).
                conn.execute("UPDATE meta SET value = value WHERE key = 'format'")
            stored = get_meta(conn, "pool_fingerprint")
            if fingerprint is not None:
                if stored is None:
                    set_meta(conn, "pool_fingerprint", str(fingerprint))
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
            fmt = get_meta(conn, "format")
            version = get_meta(conn, "schema_version")
        except sqlite3.DatabaseError as exc:
            raise ValueError(not_journal) from exc
        if fmt != FORMAT or version is None:
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
        ids = [encode_id(s) for s in as_list(sample_ids)]
        labs = [encode_label(v) for v in as_list(labels)]
        if len(labs) != len(ids):
            raise ValueError(
                f"labels has {len(labs)} entries but sample_ids has {len(ids)}; "
                "give one label per sample id."
            )
        if scores is None:
            scs: list[float | None] = [None] * len(ids)
        else:
            scs = [encode_score(s) for s in as_list(scores)]
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
        ids = [encode_id(s) for s in as_list(sample_ids)]
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
        return to_array(list(current)), to_array(list(current.values()))

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
        return get_meta(self._connection(), "pool_fingerprint")

    @property
    def created(self) -> float:
        """Creation time of the journal, in seconds since the epoch."""
        return float(get_meta(self._connection(), "created") or "nan")

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
