"""The SQLite file under a label journal: header check, schema, meta table, encodings."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "as_list", "check_sqlite_header", "create_schema", "encode_id", "encode_label",
    "encode_score", "get_meta", "set_meta", "to_array",
]

SCHEMA_VERSION = 1
FORMAT = "skal-label-journal"
APPLICATION_ID = 0x736B616C  # "skal", stored in the SQLite header
SQLITE_MAGIC = b"SQLite format 3\x00"


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
        "score REAL)"
    )
    conn.execute("CREATE INDEX labels_sample_id ON labels (sample_id)")
    set_meta(conn, "format", FORMAT)
    set_meta(conn, "schema_version", str(SCHEMA_VERSION))
    set_meta(conn, "created", repr(time.time()))


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
    return json.dumps(sample_id)


def encode_label(label: Any) -> str:
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


def encode_score(score: Any) -> float | None:
    if score is None:
        return None
    value = float(score)
    return None if math.isnan(value) else value


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
