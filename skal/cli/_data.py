"""Pools, label files and holdout sets for the labeling front ends (``skal label``)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

__all__ = ["IMAGE_SUFFIXES", "load_holdout", "load_labels", "load_pool", "parse_label"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: Pillow modes of greyscale images (one channel, or one and alpha). Every other mode (RGB,
#: RGBA, palette, CMYK, YCbCr ...) is a colour image.
GREYSCALE_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


def parse_label(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def load_pool(path: str | Path, image_size: tuple[int, ...] | None = None):
    """Read a pool: ``(X as flat float rows, sample shape to display or None, names)``.

    Parameters
    ----------
    path : str or Path
        A ``.npy``/``.npz`` file or a folder of PNG/JPEG images.
    image_size : (width, height) or None
        Resize folder images to this size.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Float rows; folder images are scaled to [0, 1], channels last.
    shape : tuple of int or None
        The shape of one sample as an image, when it is one: ``(height, width)`` for a
        greyscale folder, ``(height, width, 3)`` for a colour one, ``X.shape[1:]`` of an
        array of more than two dimensions.
    names : list of str or None
        File names, for a folder pool.

    Notes
    -----
    A folder's images are read in file-name order. When every image is greyscale (Pillow
    modes in :data:`GREYSCALE_MODES`) they stay one channel, ``(height, width)``; when any is
    in colour, all are converted to RGB, ``(height, width, 3)`` (greyscale ones get three
    equal channels, an alpha channel is dropped), so a colour folder keeps its colours and a
    mixed one has one shape.
    """
    path = Path(path)
    if path.is_dir():
        return _load_image_folder(path, image_size)
    if not path.exists():
        raise ValueError(f"no pool at {str(path)!r}")
    if path.suffix.lower() == ".npy":
        X = _np_load(path)
    elif path.suffix.lower() == ".npz":
        with _np_load(path) as npz:
            if "X" in npz.files:
                X = npz["X"]
            elif len(npz.files) == 1:
                X = npz[npz.files[0]]
            else:
                raise ValueError(f"{path} has arrays {npz.files}; name the pool array 'X'")
    else:
        raise ValueError(f"{path}: the pool must be a .npy or .npz file or a folder of images")
    X = np.asarray(X)
    if X.ndim < 2 or len(X) == 0 or X.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: the pool must be a non-empty numeric array of samples, got shape "
            f"{X.shape} and dtype {X.dtype}"
        )
    shape = X.shape[1:] if X.ndim > 2 else None
    X = X.reshape(len(X), -1)
    if X.dtype.kind != "f":
        X = X.astype(np.float32)
    return X, shape, None


def _np_load(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc


def _load_image_folder(folder: Path, image_size):
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        raise ValueError("a folder of images needs Pillow: pip install pillow") from None
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder} holds no .png/.jpg/.jpeg image")
    mode = "L"
    for f in files:  # Image.open reads the header only
        try:
            with Image.open(f) as im:
                if im.mode not in GREYSCALE_MODES:
                    mode = "RGB"
                    break
        except OSError as exc:
            raise ValueError(f"cannot read {f}: {exc}") from exc
    rows, size = [], None
    for f in files:
        with Image.open(f) as im:
            im = im.convert(mode)
            if image_size is not None:
                im = im.resize(tuple(image_size[:2]))
            if size is None:
                size = im.size
            elif im.size != size:
                raise ValueError(
                    f"{f.name} is {im.size[0]}x{im.size[1]} but {files[0].name} is "
                    f"{size[0]}x{size[1]}; use --image-size WxH to resize them all"
                )
            rows.append(np.asarray(im, dtype=np.float32).reshape(-1) / 255.0)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    return np.stack(rows), shape, [f.name for f in files]


def load_labels(path: str | Path, n: int, names: list[str] | None):
    """Initial labels: ``(pool indices, labels)`` from a CSV (id,label) or a .npy (-1 = none)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        y = np.asarray(_np_load(path))
        if y.shape != (n,):
            raise ValueError(f"{path} has shape {y.shape}; expected ({n},), -1 for unlabeled")
        keep = ~((y == -1) if y.dtype.kind in "iuf" else np.zeros(n, dtype=bool))
        return np.flatnonzero(keep).tolist(), y[keep].tolist()
    rows_of = {name: i for i, name in enumerate(names)} if names else {}
    ids, labels = [], []
    with open(path, newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise ValueError(f"{path}:{lineno}: expected 'id,label', got {row!r}")
            key, label = row[0].strip(), row[1].strip()
            if key in rows_of:
                i = rows_of[key]
            else:
                try:
                    i = int(key)
                except ValueError:
                    if lineno == 1:
                        continue  # a header
                    raise ValueError(f"{path}:{lineno}: unknown sample id {key!r}") from None
            if not 0 <= i < n:
                raise ValueError(f"{path}:{lineno}: sample id {i} is outside the pool (0..{n - 1})")
            if label in ("", "-1"):
                continue
            ids.append(i)
            labels.append(parse_label(label))
    return ids, labels


def load_holdout(path: str, n_features: int):
    with _np_load(Path(path)) as npz:
        if "X" not in npz.files or "y" not in npz.files:
            raise ValueError(f"{path}: the holdout needs arrays 'X' and 'y', has {npz.files}")
        X, y = np.asarray(npz["X"]), np.asarray(npz["y"])
    X = X.reshape(len(X), -1).astype(np.float32)
    if X.shape[1] != n_features or len(y) != len(X):
        raise ValueError(
            f"{path}: holdout X has shape {X.shape} and y {y.shape}; samples must have "
            f"{n_features} features, one label each"
        )
    return X, y


def answer_imported(campaign, imported) -> None:
    """The labels of a ``--labels`` file, ``(ids, labels, source)`` or None, as answers of
    the campaign (recorded as ``"labels-file"``) for the samples it has no answer for."""
    if imported is None:
        return
    ids, labels, source = imported
    asked = set(campaign.labeled_indices_.tolist()) | set(campaign.skipped_indices_.tolist())
    new = [(i, lab) for i, lab in zip(ids, labels) if i not in asked]
    if not new:
        return
    journal = campaign.journal_
    quiet = getattr(journal, "quiet", None)
    if quiet is not None:  # a file's labels are not acknowledged one by one
        journal.quiet = True
    try:
        campaign.answer([i for i, _ in new], [lab for _, lab in new], reason="labels-file")
    finally:
        if quiet is not None:
            journal.quiet = quiet
    print(f"imported {len(new)} labels from {source}", flush=True)
