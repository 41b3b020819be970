"""Reading untrusted zip archives, ``.npy`` arrays and JSON within stated bounds.

Nothing here trusts a size a file declares: members are inflated in chunks and refused as
soon as they pass their limit (or inflate more than ``max_ratio`` times their compressed
size beyond ``ratio_free`` bytes: a zip bomb), an array's header is checked against its
data before anything is allocated, and JSON nesting is measured before it is parsed. Every
refusal is a ``ValueError`` naming the member and what is wrong with it.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["BoundedZip", "NotZip", "central_directory_size", "json_depth", "open_zip",
           "parse_json", "read_npz", "short"]

_CHUNK = 1 << 20
#: Bytes of central directory allowed per member: a record is 46 bytes plus its name, extra
#: field and comment; skal's and Keras' names are short. Python's zipfile parses the whole
#: directory into objects (~5x its size) when it opens an archive: bounded before that.
CD_BYTES_PER_MEMBER = 1024
_EOCD, _EOCD64, _LOCATOR64 = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def central_directory_size(fh, size: int) -> int | None:
    """The size of a zip's central directory as its end record declares it (what Python's
    zipfile reads and parses when it opens the archive); None where no end record is found
    (then zipfile refuses the file itself)."""
    tail_size = min(size, 22 + 0xFFFF)  # the end record, and a comment of up to 64 KiB
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = len(tail) - 22 if tail[-22:-18] == _EOCD else tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    (cd_size,) = struct.unpack("<I", tail[at + 12: at + 16])
    # zip64: a locator, and before it the zip64 end record, where zipfile reads the size
    end = size - len(tail) + at  # the end record's offset in the file
    if end >= 76:
        fh.seek(end - 76)
        record, locator = fh.read(56), fh.read(20)
        if locator[:4] == _LOCATOR64 and record[:4] == _EOCD64:
            (cd_size,) = struct.unpack("<Q", record[40:48])
    return cd_size


class NotZip(ValueError):
    """A file that is not a zip archive (the message says what zipfile found)."""


def open_zip(fh, size: int, what: str, max_members: int) -> zipfile.ZipFile:
    """``fh`` (``size`` bytes) opened as a zip, its central directory bounded.

    What zipfile parses when it opens the archive -- the central directory, into one object
    per member -- is refused beyond ``max_members`` members' worth (see
    :data:`CD_BYTES_PER_MEMBER`) before it is parsed; the caller counts the members. Raises
    :class:`NotZip` for a file that is not a zip archive, ``ValueError("<what> ...")`` for
    one whose directory is too large.
    """
    try:
        cd_size = central_directory_size(fh, size)
        fh.seek(0)
    except (OSError, struct.error, ValueError) as exc:
        raise NotZip(f"{what} is not a zip archive ({exc})") from None
    if cd_size is not None and cd_size > max_members * CD_BYTES_PER_MEMBER:
        raise ValueError(
            f"{what} declares a central directory of {cd_size} bytes, more than "
            f"{max_members * CD_BYTES_PER_MEMBER} for its limit of {max_members} members"
        )
    try:
        return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise NotZip(f"{what} is not a zip archive ({exc})") from None


class BoundedZip:
    """Reads the members of one zip archive (of ``size`` bytes), each within a byte limit."""

    def __init__(self, zf: zipfile.ZipFile, size: int, where: str, *, max_ratio: int,
                 ratio_free: int):
        self.zf, self.size, self.where = zf, size, where
        self.max_ratio, self.ratio_free = max_ratio, ratio_free

    def members(self) -> dict[str, zipfile.ZipInfo]:
        """The members by name; an archive naming one twice is refused."""
        infos = self.zf.infolist()
        names = [info.filename for info in infos]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            archive = f"{self.where.rstrip('/')} " if self.where else "the archive "
            raise ValueError(f"{archive}holds {short(twice)} twice")
        return dict(zip(names, infos))

    def check(self, info: zipfile.ZipInfo, limit: int) -> None:
        """Refuse a member by what it declares, before inflating anything."""
        name = self.where + info.filename
        if info.flag_bits & 0x1:
            raise ValueError(f"{name} is encrypted")
        if info.file_size > limit:
            raise ValueError(f"{name} declares {info.file_size} bytes, over the limit of {limit}")
        self._ratio(name, info, info.file_size)

    def check_together(self, infos: list[zipfile.ZipInfo], limit: int, what: str) -> None:
        """Refuse members by what they declare together: their total and its ratio.

        Each member is also refused on its own by :meth:`check`; this bounds what many
        members may cost together, each inflating less than ``ratio_free`` bytes.
        """
        declared = sum(info.file_size for info in infos)
        if declared > limit:
            raise ValueError(
                f"{what} declare {declared} bytes together, over the limit of {limit}"
            )
        packed = max(1, min(sum(info.compress_size for info in infos), self.size))
        if declared > self.ratio_free and declared > self.max_ratio * packed:
            raise ValueError(
                f"{what} inflate {declared // packed}-fold together from {packed} bytes, more "
                f"than {self.max_ratio}-fold (a zip bomb?)"
            )

    def _ratio(self, name: str, info: zipfile.ZipInfo, inflated: int) -> None:
        packed = max(1, min(info.compress_size, self.size))  # a forged size helps no one
        if inflated > self.ratio_free and inflated > self.max_ratio * packed:
            raise ValueError(
                f"{name} inflates {inflated // packed}-fold from {packed} bytes, more than "
                f"{self.max_ratio}-fold (a zip bomb?)"
            )

    def chunks(self, info: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
        """The member's bytes, refused as soon as they pass what it may hold."""
        self.check(info, limit)
        name, total, cap = self.where + info.filename, 0, min(limit, info.file_size)
        try:
            with self.zf.open(info) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > cap:
                        raise ValueError(
                            f"{name} inflates past {cap} bytes (it declares "
                            f"{info.file_size}, the limit is {limit})"
                        )
                    self._ratio(name, info, total)
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                NotImplementedError) as exc:
            raise ValueError(f"{name} is damaged ({type(exc).__name__}: {exc})") from None
        if total != info.file_size:
            raise ValueError(f"{name} holds {total} bytes but declares {info.file_size}")

    def read(self, info: zipfile.ZipInfo, limit: int) -> bytearray:
        """The member's bytes (see :meth:`chunks`)."""
        data = bytearray()
        for chunk in self.chunks(info, limit):
            data += chunk
        return data


def parse_npy(data: bytearray, name: str, kinds: str) -> np.ndarray:
    """A ``.npy`` file's array (a view of ``data``), its header checked against its data.

    Only dtypes of the kinds in ``kinds`` are accepted, never objects: nothing unpickles.
    """
    fmt = np.lib.format
    stream = io.BytesIO(data)
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError) as exc:
        raise ValueError(f"{name} has no readable array header ({exc})") from None
    if dtype.hasobject or dtype.kind not in kinds or not dtype.itemsize:
        what = "objects (unreadable without pickle)" if dtype.hasobject else f"dtype {dtype}"
        raise ValueError(f"{name} holds {what}; a save holds bool, int, float and str arrays")
    if any(d < 0 for d in shape):
        raise ValueError(f"{name} has a negative dimension in its shape {shape}")
    offset, size = stream.tell(), math.prod(shape)
    if len(data) - offset != size * dtype.itemsize:
        raise ValueError(
            f"{name} has {len(data) - offset} bytes of data but its header declares shape "
            f"{shape} of {dtype} ({size * dtype.itemsize} bytes)"
        )
    try:
        if size == 0:
            return np.zeros(shape, dtype=dtype)
        flat = np.frombuffer(data, dtype=dtype, count=size, offset=offset)
        return flat.reshape(shape, order="F" if fortran else "C")
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. more than 64 dimensions
        raise ValueError(f"{name} cannot be read ({exc})") from None


def read_npz(data: bytearray, where: str, limit: int, kinds: str, **ratio) -> dict:
    """An ``.npz`` archive (a zip of ``.npy`` files) as arrays, at most ``limit`` bytes."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise ValueError(f"{where} is damaged (not an npz archive: {exc})") from None
    arrays = {}
    with zf:
        reader = BoundedZip(zf, len(data), f"{where}/", **ratio)
        for name, info in reader.members().items():
            if not name.endswith(".npy"):
                raise ValueError(f"{where} holds {short(name)}, not a .npy array")
            raw = reader.read(info, limit)
            limit -= len(raw)
            arrays[name[:-4]] = parse_npy(raw, f"{where}/{name}", kinds)
    return arrays


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply ``text`` (JSON) nests arrays and objects, measured without parsing it."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode()
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    return int(np.cumsum(np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)).max())


def parse_json(text: str | bytes | bytearray, what: str, max_depth: int) -> Any:
    """``text`` parsed, nested at most ``max_depth`` deep; else ValueError("<what> ...")."""
    try:
        if not isinstance(text, str):
            text = bytes(text).decode("utf-8")
        depth = json_depth(text)
        if depth > max_depth:
            raise ValueError(f"it nests {depth} levels deep, more than {max_depth}")
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise ValueError(f"{what} is not valid JSON ({exc})") from None
