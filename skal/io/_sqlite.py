"""The SQLite file under a label journal: header check, schema, meta table, encodings.

Reading is strict: every record is decoded as :func:`encode_id` and :func:`encode_label`
wrote it, and a record that is not (a sample id that is not JSON, or JSON for a float, a
bool or a list; a label that is not a finite number, a string, a bool or a tagged multi-label
row ``{"multilabel": [0, 1, ...]}``; a round that is not a count ...) is a ``ValueError``
naming the journal and the record's ``seq``. Nothing is
guessed, skipped or converted: ``'7.9'`` is not sample 7.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ANNOTATOR", "COLUMNS", "MULTILABEL_TAG", "READABLE_VERSIONS", "add_annotator_column",
    "as_list", "bad_record", "check_annotator", "check_sqlite_header", "create_schema",
    "decode_id", "decode_label", "decode_record", "decode_value", "encode_id", "encode_label",
    "encode_score", "get_meta", "set_meta", "to_array",
]

#: Version 2 added the nullable ``annotator`` column; a version-1 journal is read as it is
#: (no annotators) and gains the column the first time it is opened for appends.
SCHEMA_VERSION = 2
READABLE_VERSIONS = ("1", "2")
FORMAT = "skal-label-journal"
APPLICATION_ID = 0x736B616C  # "skal", stored in the SQLite header
SQLITE_MAGIC = b"SQLite format 3\x00"
#: The columns of the labels table, in the order :func:`decode_record` takes them.
COLUMNS = ("seq", "sample_id", "label", "timestamp", "round", "strategy", "score")
#: Who gave an answer (schema version 2; NULL in older records and for unnamed answers).
ANNOTATOR = "annotator"
#: The longest annotator name, in characters.
MAX_ANNOTATOR = 40
_NAME_PUNCTUATION = set(" ._-@")


def check_sqlite_header(path: str) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except IsADirectoryError as exc:
        raise ValueError(f"{path!r} is a directory, not a skal label journal.") from exc
    if head and head != SQLITE_MAGIC:  # an empty file is a fresh SQLite database
        raise ValueError(f"{path!r} is not a skal label journal (not an SQLite database).")


def create_schema(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(
        "CREATE TABLE labels ("
        "seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "sample_id TEXT NOT NULL, "
        "label TEXT NOT NULL, "
        "timestamp REAL NOT NULL, "
        "round INTEGER, "
        "strategy TEXT, "
        "score REAL, "
        "annotator TEXT)"
    )
    conn.execute("CREATE INDEX labels_sample_id ON labels (sample_id)")
    set_meta(conn, "format", FORMAT)
    set_meta(conn, "schema_version", str(SCHEMA_VERSION))
    set_meta(conn, "created", repr(time.time()))


def add_annotator_column(conn: sqlite3.Connection) -> None:
    """Migrate a version-1 journal to version 2 (inside the caller's transaction): a
    nullable ``annotator`` column, NULL for every earlier record."""
    conn.execute("ALTER TABLE labels ADD COLUMN annotator TEXT")
    set_meta(conn, "schema_version", str(SCHEMA_VERSION))


def check_annotator(name: Any, what: str = "annotator") -> str:
    """An annotator's name, checked: 1 to 40 letters, digits, spaces, ``. _ - @``.

    ``what`` names where the name came from (an option, a link parameter) in the error.

    Examples
    --------
    >>> check_annotator("ana.lima")
    'ana.lima'
    >>> check_annotator("<b>")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: annotator '<b>' has the character '<': a name is 1 to 40 letters, ...
    """
    rule = ("a name is 1 to 40 letters, digits, spaces, '.', '_', '-' or '@' "
            "(e.g. ana or ana.lima)")
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__}: {rule}.")
    shown = repr(name) if len(name) <= 60 else repr(name[:57]) + "..."
    if not name.strip():
        raise ValueError(f"{what} is empty: {rule}.")
    if len(name) > MAX_ANNOTATOR:
        raise ValueError(f"{what} {shown} has {len(name)} characters: {rule}.")
    if name != name.strip():
        raise ValueError(f"{what} {shown} starts or ends with a space: {rule}.")
    for char in name:
        if not (char.isalnum() or char in _NAME_PUNCTUATION):
            raise ValueError(f"{what} {shown} has the character {char!r}: {rule}.")
    return name


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def encode_id(sample_id: Any) -> str:
    if isinstance(sample_id, np.generic):
        sample_id = sample_id.item()
    if isinstance(sample_id, bool) or not isinstance(sample_id, int | str):
        raise TypeError(
            f"sample ids must be int (pool index) or str (user key), "
            f"got {type(sample_id).__name__}: {sample_id!r}."
        )
    if isinstance(sample_id, int) and not 0 <= sample_id < 2**63:  # no campaign could read it
        raise ValueError(
            f"sample id {sample_id} is no pool index: an int id is a row of the pool (0, 1, "
            "...); give a user key as a str."
        )
    return json.dumps(sample_id)


#: The type tag of a multi-label answer (one sample's set of labels): ``{"multilabel":
#: [0, 1, 1]}``, the 0/1 row of the campaign's labels in their order.
MULTILABEL_TAG = "multilabel"


def encode_label(label: Any) -> str:
    """A label as JSON: an int, float, str or bool scalar, or a multi-label answer (a tuple
    of 0/1 ints, one per label; an empty set of labels is all 0s) behind its type tag."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, tuple):
        return json.dumps({MULTILABEL_TAG: _indicator_row(label)})
    if not isinstance(label, int | float | str):  # bool is an int
        raise TypeError(
            f"labels must be int, float, str or bool scalars, "
            f"got {type(label).__name__}: {label!r}."
        )
    if isinstance(label, float) and not math.isfinite(label):
        raise ValueError(f"labels must be finite, got {label!r}.")
    return json.dumps(label)


def encode_score(score: Any) -> float | None:
    if score is None:
        return None
    value = float(score)
    return None if math.isnan(value) else value


# --------------------------------------------------------------------------- reading


class _Bad(ValueError):
    """What is wrong with one value of a record (the caller names the journal and row)."""


def _json(raw: Any) -> Any:
    """The JSON value of a TEXT cell, as ``json.dumps`` wrote it; _Bad otherwise."""
    if raw is None:
        raise _Bad("is NULL, not JSON text")
    if not isinstance(raw, str):  # a BLOB, or a number stored without TEXT affinity
        kind = "binary data" if isinstance(raw, bytes) else f"an SQLite {type(raw).__name__}"
        raise _Bad(f"is {kind}, not JSON text")
    try:
        return json.loads(raw)
    except RecursionError:
        raise _Bad("nests too deeply to be JSON skal wrote") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of over 4300 digits
        raise _Bad(f"is not JSON ({exc})") from None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def decode_id(raw: Any) -> int | str:
    """A sample id as :func:`encode_id` wrote it: JSON for an int (not a bool) or a str."""
    value = _json(raw)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Bad(f"is JSON for a {_kind(value)}, not for an int (a pool index) or a str "
                   "(a user key)")
    return value


def _indicator_row(values: Any) -> list[int]:
    """A multi-label answer's 0/1 row as a list of ints; TypeError/ValueError if not."""
    row = [v.item() if isinstance(v, np.generic) else v for v in values]
    if not row:
        raise ValueError("a multi-label answer needs one 0/1 entry per label, got ().")
    bad = [v for v in row if type(v) is not int or v not in (0, 1)]
    if bad:
        raise ValueError(
            f"a multi-label answer is a row of 0/1 ints, got {bad[0]!r} in {tuple(row)!r}."
        )
    return row


def decode_label(raw: Any) -> int | float | str | bool | tuple | None:
    """A label as :func:`encode_label` wrote it (``None``: a retraction, see ``retract``; a
    tuple of 0/1 ints: a multi-label answer)."""
    value = _json(raw)
    if isinstance(value, dict):
        if set(value) != {MULTILABEL_TAG} or not isinstance(value[MULTILABEL_TAG], list):
            raise _Bad(f'is JSON for a dict, not for a multi-label answer '
                       f'{{"{MULTILABEL_TAG}": [0, 1, ...]}}')
        try:
            return tuple(_indicator_row(value[MULTILABEL_TAG]))
        except ValueError as exc:
            raise _Bad(str(exc).rstrip(".")) from None
    if value is not None and not isinstance(value, int | float | str):  # bool is an int
        raise _Bad(f"is JSON for a {_kind(value)}, not for an int, float, str or bool")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad("is not a finite number")
    return value


def _round(raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise _Bad("is not a round (an int >= 0, or NULL)")
    return raw


def _real(raw: Any, nullable: bool) -> float | None:
    if raw is None and nullable:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
        raise _Bad("is not a number" + (" (or NULL)" if nullable else ""))
    return float(raw)


def _text(raw: Any) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise _Bad("is not text (or NULL)")
    return raw


_DECODERS = {
    "sample_id": decode_id, "label": decode_label, "timestamp": lambda v: _real(v, False),
    "round": _round, "strategy": _text, "score": lambda v: _real(v, True),
    ANNOTATOR: _text,
}


def bad_record(path: str, seq: Any, column: str, raw: Any, why: str) -> ValueError:
    """The error for a record skal cannot read: names the journal, the record and the fix."""
    shown = repr(raw)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return ValueError(
        f"label journal {path!r}, record seq={seq}: its {column.replace('_', ' ')} {shown} "
        f"{why}. skal does not guess what a damaged record meant: correct or delete that "
        "record (e.g. with the sqlite3 shell), or start a new journal."
    )


def decode_value(path: str, seq: Any, column: str, raw: Any) -> Any:
    """One column of one record, decoded; ValueError naming the journal and row if not."""
    try:
        return _DECODERS[column](raw)
    except _Bad as exc:
        raise bad_record(path, seq, column, raw, str(exc)) from None


def decode_record(path: str, row: Sequence[Any]) -> dict[str, Any]:
    """A row of the labels table (the :data:`COLUMNS`, then :data:`ANNOTATOR`) as a record;
    ValueError if damaged."""
    seq = row[0]
    out = {"seq": seq}
    for column, raw in zip((*COLUMNS[1:], ANNOTATOR), row[1:], strict=True):
        out[column] = decode_value(path, seq, column, raw)
    return out


def as_list(values: Any) -> list[Any]:
    # A lone scalar (including a str, which would otherwise iterate by character) is one item.
    if isinstance(values, np.ndarray) and values.ndim == 0:
        return [values[()]]
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return [values]
    return list(values)


def to_array(values: Sequence[Any]) -> np.ndarray:
    if not values:
        return np.empty(0, dtype=np.int64)
    if len({type(v) for v in values}) > 1:  # mixed types: keep each value as it is
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
        return out
    return np.asarray(values)
