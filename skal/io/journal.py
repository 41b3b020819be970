"""An append-only, crash-safe label journal in SQLite, and a fingerprint for pool arrays.

Every call to :meth:`LabelJournal.append` is one SQLite transaction, committed in WAL mode with
``synchronous=FULL``: when the call returns, the labels are on disk and survive the process
being killed (or the machine losing power). A campaign can therefore be resumed from the
journal alone, and :func:`pool_fingerprint` lets the journal refuse to be replayed against a
different pool than the one it was recorded on.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import numpy as np

from skal.io._fingerprint import pool_fingerprint, row_digests
from skal.io._sqlite import (
    ANNOTATOR,
    COLUMNS,
    FORMAT,
    READABLE_VERSIONS,
    add_annotator_column,
    as_list,
    bad_record,
    check_annotator,
    check_sqlite_header,
    create_schema,
    decode_record,
    decode_value,
    encode_id,
    encode_label,
    encode_score,
    get_meta,
    set_meta,
    to_array,
)

__all__ = [
    "JournalNotFoundError", "JournalNotWritableError", "LabelJournal", "check_annotator",
    "pool_fingerprint", "row_digests",
]


SampleId = int | str
Label = int | float | str | bool

_READONLY, _CANTOPEN = 8, 14  # SQLite's primary result codes for "cannot write here"


class JournalNotFoundError(FileNotFoundError, ValueError):
    """A journal that is not there, or whose folder is not: names the path and the folder.

    Also a ``ValueError``, as every other refusal of :class:`LabelJournal` at open.

    Examples
    --------
    >>> import os, tempfile
    >>> from skal.io import JournalNotFoundError, LabelJournal
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.sqlite")
    >>> LabelJournal(path, read_only=True)
    Traceback (most recent call last):
        ...
    skal.io.journal.JournalNotFoundError: no label journal at '...labels.sqlite'.
    >>> issubclass(JournalNotFoundError, FileNotFoundError), issubclass(JournalNotFoundError,
    ...                                                                  ValueError)
    (True, True)
    """


class JournalNotWritableError(PermissionError, ValueError):
    """A journal that cannot be written: its file or folder is read-only. Names the cause.

    Raised when a journal that cannot be written is created, opened with
    ``read_only=False``, or appended to. Also a ``ValueError``.

    Examples
    --------
    An empty file opened read-only holds no journal, and may not become one:

    >>> import os, tempfile
    >>> from skal.io import JournalNotWritableError, LabelJournal
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.sqlite")
    >>> open(path, "w").close()
    >>> try:
    ...     LabelJournal(path, read_only=True)
    ... except JournalNotWritableError as err:
    ...     print(str(err))
    label journal '...labels.sqlite' is empty (no journal yet) and cannot be written (...
    >>> issubclass(JournalNotWritableError, PermissionError), issubclass(
    ...     JournalNotWritableError, ValueError)
    (True, True)
    """


def _cannot_write(exc: sqlite3.Error) -> bool:
    """Whether SQLite failed because it may not write (not a lock, not a damaged file)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_READONLY, _CANTOPEN)
    text = str(exc)
    return "readonly" in text or "read-only" in text or "unable to open" in text


def _why_not_writable(path: str, exc: BaseException | None = None) -> str:
    """Why ``path`` cannot be written, in words: the file, its folder, or SQLite's reason."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(path):
        try:
            with open(path, "r+b"):  # opened for writing, nothing written
                pass
        except OSError as err:
            return f"the file does not take writes: {err.strerror or err}"
    probe = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.probe")
    try:  # SQLite creates its -wal, -shm (or rollback journal) files beside the journal
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as err:
        return f"its folder {folder!r} does not take new files: {err.strerror or err}"
    os.close(fd)
    os.remove(probe)
    return f"SQLite: {exc}" if exc is not None else "reason unknown"


def _check_folder(path: str) -> None:
    """A journal's folder exists and is a folder (SQLite would say "unable to open")."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise JournalNotFoundError(
            f"cannot open label journal {path!r}: its folder {folder!r} does not exist; "
            "create the folder first, or pass another journal path."
        )
    if not os.path.isdir(folder):
        raise JournalNotFoundError(
            f"cannot open label journal {path!r}: {folder!r} is a file, not a folder."
        )


# --------------------------------------------------------------------------- journal


class LabelJournal:
    """Append-only label journal in a SQLite file, durable on every append.

    Each :meth:`append` is one transaction, committed in WAL mode with ``synchronous=FULL``:
    once it returns, the labels survive a crash or ``SIGKILL`` of the process. Several
    connections (threads or processes) may open the same journal; writers are serialised by
    SQLite and readers see every committed append. Relabeling a sample appends a new record;
    the last label wins in :meth:`labels` and :meth:`to_arrays`.

    Sample ids are ``int`` (pool indices) or ``str`` (user keys); labels are ``int``, ``float``,
    ``str`` or ``bool`` (numpy scalars are converted), or -- one sample's answer in a
    multi-label campaign -- a tuple of 0/1 ints, one per label (stored as
    ``{"multilabel": [0, 1, 1]}``; ``(0, 0, 0)`` is "none of these", not a skip). Both are
    stored JSON-encoded, so they come back with their original Python type. Reading is
    strict: a record that is not as
    :meth:`append` writes it (a sample id ``'abc'``, not JSON, or ``'7.9'``, a float; a label
    ``'{{{'`` or ``NaN``) is a ``ValueError`` naming the journal and the record's ``seq`` --
    never skipped, never converted (``7.9`` is not sample 7), so that a damaged journal is
    repaired by someone who knows what the record meant rather than replayed wrongly.

    A journal that cannot be written (a read-only file, or a folder that takes no new files)
    is opened read-only: it reads as any other, and :meth:`append` and :meth:`retract` raise
    :class:`JournalNotWritableError` saying why. Pass ``read_only=False`` to have that
    refused at open instead (a labeling session, which will write every answer).

    Parameters
    ----------
    path : str or os.PathLike
        The journal file, created (with its tables) if missing. Keep it on a local disk:
        SQLite's WAL mode does not work on network file systems.
    pool_fingerprint : str, optional
        Fingerprint of the pool the labels refer to (see :func:`pool_fingerprint`). Stored
        when the journal has none yet (if it can be written); refused if the journal already
        holds a different one.
    read_only : bool or None, default=None
        ``None``: open for appends where the journal can be written, else read-only.
        ``True``: read-only (never writes, not even the fingerprint). ``False``: for appends,
        refused with :class:`JournalNotWritableError` if it cannot be written.

    Attributes
    ----------
    path : str
        The journal file.
    read_only : bool
        Whether the journal was opened read-only (then appends are refused).
    journal_mode : str
        SQLite's journal mode of the connection (``"wal"`` when open for appends).

    Raises
    ------
    ValueError
        If ``path`` exists but is not a skal label journal (not SQLite, or SQLite without the
        journal's tables), if its schema version is unknown, or if it was recorded on a pool
        with a different fingerprint.
    JournalNotFoundError
        If the journal's folder does not exist (or is a file), or, with ``read_only=True``,
        there is no journal at ``path``. A ``FileNotFoundError`` and a ``ValueError``.
    JournalNotWritableError
        If the journal must be created (or ``read_only=False``) and cannot be written: names
        the file or folder and the cause. A ``PermissionError`` and a ``ValueError``.

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

    def __init__(self, path: str | os.PathLike[str], *, pool_fingerprint: str | None = None,
                 read_only: bool | None = None):
        self.path = os.fspath(path)
        self._conn: sqlite3.Connection | None = None
        # One connection shared by the threads of a labeling server; calls are serialised.
        self._lock = threading.RLock()
        self._requested = read_only
        self._annotator: str | None = None
        self._local = threading.local()  # the annotator of answers written by this thread
        self._has_annotator = True  # False: a version-1 journal opened read-only
        self.read_only: bool = bool(read_only)
        self._why_read_only = "it was opened with read_only=True"
        _check_folder(self.path)
        check_sqlite_header(self.path)
        if read_only:
            conn = self._open_read_only(pool_fingerprint)
        else:
            try:
                conn = self._open_writable(pool_fingerprint)
            except sqlite3.Error as exc:
                if not _cannot_write(exc):
                    raise
                why = _why_not_writable(self.path, exc)
                if read_only is False or not self._holds_a_journal():
                    what = "created" if not self._holds_a_journal() else "written"
                    raise JournalNotWritableError(
                        f"label journal {self.path!r} cannot be {what} ({why}); answers could "
                        "not be recorded. Make the file and its folder writable, or pass "
                        "another journal path."
                    ) from exc
                self._why_read_only = why
                conn = self._open_read_only(pool_fingerprint)
                self.read_only = True
        self.journal_mode: str = str(
            conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        self._conn = conn

    def _holds_a_journal(self) -> bool:
        try:
            return os.path.getsize(self.path) > 0
        except OSError:
            return False

    def _connect(self, target: str, **kwargs) -> sqlite3.Connection:
        return sqlite3.connect(target, timeout=60.0, isolation_level=None,
                               check_same_thread=False, **kwargs)

    def _open_writable(self, fingerprint: str | None) -> sqlite3.Connection:
        """The journal opened for appends (created if missing), WAL mode, full sync."""
        conn = self._connect(self.path)
        try:
            self._init_schema(conn, fingerprint)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError):  # locked, read-only, ...
                raise
            raise ValueError(
                f"{self.path!r} is not a skal label journal (SQLite error: {exc})."
            ) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_read_only(self, fingerprint: str | None) -> sqlite3.Connection:
        """The journal opened for reading only: it exists and holds a journal.

        SQLite reads a WAL-mode file through its ``-shm`` index, which it creates beside the
        file; in a folder that takes no new files (and no ``-shm`` there), the file is read
        as ``immutable`` -- unless a ``-wal`` file holds appends not yet copied into it,
        which could not be read that way: then this is a clear error.
        """
        if not self._holds_a_journal():
            if not os.path.exists(self.path):
                raise JournalNotFoundError(f"no label journal at {self.path!r}.")
            raise JournalNotWritableError(
                f"label journal {self.path!r} is empty (no journal yet) and cannot be "
                f"written ({self._why_read_only}); pass a journal path that can be written."
            )
        uri = "file:" + quote(os.path.abspath(self.path), safe="/") + "?mode=ro"
        conn = None
        try:
            conn = self._connect(uri, uri=True)
            tables = self._tables(conn)
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            if not _cannot_write(exc):
                raise
            wal = self.path + "-wal"
            if os.path.exists(wal) and os.path.getsize(wal) > 0:
                raise JournalNotWritableError(
                    f"label journal {self.path!r} cannot be read: its write-ahead log {wal!r} "
                    "holds appends not yet copied into the file, and SQLite needs to write "
                    f"its index beside it to read them ({_why_not_writable(self.path, exc)}). "
                    "Make the folder writable and open the journal again."
                ) from exc
            conn = self._connect(uri + "&immutable=1", uri=True)  # no -wal: the file is all
            tables = self._tables(conn)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise ValueError(
                f"{self.path!r} is not a skal label journal (SQLite error: {exc})."
            ) from exc
        try:
            self._check_schema(conn, tables)
            stored = get_meta(conn, "pool_fingerprint")
            if fingerprint is not None and stored is not None and stored != fingerprint:
                raise ValueError(
                    f"label journal {self.path!r} belongs to another pool: it was recorded "
                    f"on pool {stored!r}, but this pool's fingerprint is {fingerprint!r}."
                )
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _tables(conn: sqlite3.Connection) -> set[str]:
        return {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not row[0].startswith("sqlite_")
        }

    # ------------------------------------------------------------------ setup

    def _init_schema(self, conn: sqlite3.Connection, fingerprint: str | None) -> None:
        # Validate before changing anything, so a foreign database is left untouched; the
        # write lock makes concurrent first opens create the tables exactly once.
        conn.execute("BEGIN IMMEDIATE")
        try:
            tables = self._tables(conn)
            if not tables:
                create_schema(conn)
            else:
                self._check_schema(conn, tables)
                # Probe that the file takes writes now, not at the first answer (lost then).
                conn.execute("UPDATE meta SET value = value WHERE key = 'format'")
                if not self._has_annotator:  # version 1: gains the annotator column
                    add_annotator_column(conn)
                    self._has_annotator = True
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
        if version not in READABLE_VERSIONS:
            raise ValueError(
                f"label journal {self.path!r} has schema version {version}, but this skal "
                f"reads versions {', '.join(READABLE_VERSIONS)}; upgrade skal to read it."
            )
        columns = {row[1] for row in conn.execute("PRAGMA table_info(labels)")}
        if not set(COLUMNS) <= columns:
            raise ValueError(
                f"{self.path!r} is not a skal label journal: its labels table lacks the "
                f"columns {sorted(set(COLUMNS) - columns)}; refusing to use it."
            )
        self._has_annotator = ANNOTATOR in columns

    # ------------------------------------------------------------------ writing

    def append(
        self,
        sample_ids: Iterable[SampleId] | SampleId,
        labels: Iterable[Label] | Label,
        *,
        round: int | None = None,
        strategy: str | None = None,
        scores: Iterable[float | None] | None = None,
        annotator: str | None = None,
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
        annotator : str, optional
            Who gave the labels (see :func:`check_annotator`); ``None`` means the name set
            by :meth:`answering_as` in this thread, else :attr:`annotator`.

        Raises
        ------
        ValueError
            If ``labels`` or ``scores`` does not have one entry per sample id, if ``round``
            is negative, or if a float label is not finite.
        TypeError
            If an id, label, ``round`` or ``strategy`` has an unsupported type.
        JournalNotWritableError
            If the journal was opened read-only (see :attr:`read_only`); nothing is written.
        """
        conn = self._writable_connection()
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
        who = self._who(annotator)
        if not ids:
            return
        self._insert(conn, ids, labs, round, strategy, scs, who)

    def retract(self, sample_ids: Iterable[SampleId] | SampleId, *, round: int | None = None,
                annotator: str | None = None):
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
        conn = self._writable_connection()
        ids = [encode_id(s) for s in as_list(sample_ids)]
        who = self._who(annotator)
        if ids:
            self._insert(conn, ids, ["null"] * len(ids), round, "undo", [None] * len(ids), who)

    # ------------------------------------------------------------------ annotators

    @property
    def annotator(self) -> str | None:
        """The name recorded with answers that name nobody else (None: no name).

        A terminal session sets it once (``skal label --annotator``); a server with several
        people names each answer's author with :meth:`answering_as`.
        """
        return self._annotator

    @annotator.setter
    def annotator(self, name: str | None) -> None:
        self._annotator = None if name is None else check_annotator(name)

    @contextmanager
    def answering_as(self, name: str | None) -> Iterator[None]:
        """Within the block, answers this thread writes are recorded as ``name``'s.

        Front ends that answer through a :class:`skal.Campaign` (which writes the journal
        in the calling thread) name the person this way.

        Examples
        --------
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "labels.sqlite")
        >>> with LabelJournal(path) as journal:
        ...     with journal.answering_as("ana"):
        ...         journal.append(3, "cat")
        ...     journal.append(4, "dog", annotator="ben")
        ...     [r["annotator"] for r in journal.records()]
        ['ana', 'ben']
        """
        name = None if name is None else check_annotator(name)
        before = getattr(self._local, "name", None)
        self._local.name = name
        try:
            yield
        finally:
            self._local.name = before

    def _who(self, annotator: str | None) -> str | None:
        if annotator is not None:
            return check_annotator(annotator)
        local = getattr(self._local, "name", None)
        return local if local is not None else self._annotator

    def _insert(self, conn, ids, labs, round, strategy, scs, who=None) -> None:  # noqa: A002
        now = time.time()
        rows = [(i, lab, now, round, strategy, s, who)
                for i, lab, s in zip(ids, labs, scs, strict=True)]
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO labels (sample_id, label, timestamp, round, strategy, score, "
                    "annotator) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
            Keys ``seq``, ``sample_id``, ``label``, ``timestamp``, ``round``, ``strategy``,
            ``score`` and ``annotator`` (None when unnamed, and in journals written before
            annotators were recorded); ids and labels have their original Python types
            (``label`` is ``None`` for a retraction, see :meth:`retract`).

        Raises
        ------
        ValueError
            If a record is not as :meth:`append` writes it (a sample id that is not an int
            or str, a label that is not a finite number, str or bool, a round that is not an
            int >= 0, ...): the error names the journal and the record's ``seq``. Nothing is
            skipped or converted (a sample id ``7.9`` is not sample 7).
        """
        who = ANNOTATOR if self._has_annotator else "NULL"
        with self._lock:
            rows = self._connection().execute(
                f"SELECT {', '.join(COLUMNS)}, {who} FROM labels ORDER BY seq"
            ).fetchall()
        return [decode_record(self.path, row) for row in rows]

    def labels(self) -> dict[SampleId, Label]:
        """The current label of every labeled sample.

        Returns
        -------
        dict
            ``{sample_id: label}`` in first-labeled order; when a sample was relabeled,
            its last label wins.

        Raises
        ------
        ValueError
            If a record's sample id or label is not as :meth:`append` writes it (see
            :meth:`records`).
        """
        out: dict[SampleId, Label] = {}
        with self._lock:
            rows = self._connection().execute(
                "SELECT seq, sample_id, label FROM labels ORDER BY seq"
            ).fetchall()
        for seq, sid, lab in rows:
            key = decode_value(self.path, seq, "sample_id", sid)
            value = decode_value(self.path, seq, "label", lab)
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
        with self._lock:
            conn = self._connection()
            bad = conn.execute(
                "SELECT seq, round FROM labels WHERE round IS NOT NULL AND "
                "(typeof(round) != 'integer' OR round < 0) ORDER BY seq LIMIT 1"
            ).fetchone()
            if bad is not None:
                decode_value(self.path, bad[0], "round", bad[1])  # raises, naming the row
            top = conn.execute("SELECT MAX(round) FROM labels").fetchone()[0]
        return 0 if top is None else int(top) + 1

    @property
    def fingerprint(self) -> str | None:
        """Fingerprint of the pool this journal belongs to, or None if none was given."""
        return get_meta(self._connection(), "pool_fingerprint")

    @property
    def created(self) -> float:
        """Creation time of the journal, in seconds since the epoch."""
        value = get_meta(self._connection(), "created")
        try:
            return float("nan" if value is None else value)
        except (TypeError, ValueError):
            raise bad_record(self.path, "meta", "created", value,
                             "is not a time (seconds since the epoch)") from None

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
        return {"path": self.path, "closed": self.closed, "read_only": self._requested,
                "annotator": self._annotator}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickling reopens the journal at its path (the connection itself cannot travel).
        if state["closed"]:
            self.path, self._conn, self.journal_mode = state["path"], None, ""
            self._lock = threading.RLock()
            self._requested = state.get("read_only")
            self.read_only, self._why_read_only = bool(self._requested), "it was closed"
            self._local, self._has_annotator = threading.local(), True
        else:
            self.__init__(state["path"], read_only=state.get("read_only"))
        self._annotator = state.get("annotator")

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} records"
        if self.read_only and not self.closed:
            state += ", read-only"
        return f"LabelJournal({self.path!r}, {state})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"label journal {self.path!r} is closed.")
        return self._conn

    def _writable_connection(self) -> sqlite3.Connection:
        conn = self._connection()
        if self.read_only:
            raise JournalNotWritableError(
                f"label journal {self.path!r} was opened read-only ({self._why_read_only}); "
                "answers cannot be recorded in it. Make the file and its folder writable and "
                "open it again, or pass another journal path."
            )
        return conn
