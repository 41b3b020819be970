"""How one pool sample looks on the labeling page: a PNG, a line plot, a record or a text.

Everything here is a pure function of the pool's rows; nothing reads a path or a request.
Images are rendered in memory (Pillow) and scaled up by whole pixels (nearest neighbour),
so an 8x8 digit stays sharp and colour images keep their colours. A table's or a text's
values are sent as JSON strings, which the page puts in with ``textContent``: never HTML.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np

__all__ = ["Display", "RecordDisplay", "choose_display", "png_data_url", "pool_display",
           "value_range"]

#: Samples with fewer features than this and no image shape are shown as a table.
MIN_SIGNAL_LENGTH = 24
#: Largest number of points of a signal sent to the page (longer ones are thinned).
MAX_SIGNAL_POINTS = 2000


class Display:
    """How to show the rows of one pool: as images, signals or tables.

    Parameters
    ----------
    kind : {"image", "signal", "table"}
        The kind of picture.
    shape : tuple of int or None
        ``(height, width)`` or ``(height, width, channels)`` of an image.
    lo, hi : float
        The pool's value range, mapped to black and white.
    feature_names : list of str or None
        Names of a table's rows (``"feature 0"`` ... when None).

    Examples
    --------
    >>> import numpy as np
    >>> d = Display("table", None, 0.0, 1.0)
    >>> d.payload(np.array([0.5, 2.0]))
    {'kind': 'table', 'table': [['feature 0', '0.5'], ['feature 1', '2']]}
    """

    def __init__(self, kind, shape, lo, hi, feature_names=None) -> None:
        self.kind, self.shape, self.lo, self.hi = kind, shape, float(lo), float(hi)
        self.feature_names = feature_names

    def payload(self, row, *, size: int = 320) -> dict:
        """The JSON-ready picture of one row: an image URL, signal values or table rows."""
        row = np.asarray(row, dtype=np.float64).reshape(-1)
        if self.kind == "image":
            url, (height, width) = png_data_url(row, self.shape, self.lo, self.hi, size=size)
            return {"kind": "image", "image": url, "width": width, "height": height}
        if self.kind == "signal":
            step = max(1, math.ceil(len(row) / MAX_SIGNAL_POINTS))
            values = np.nan_to_num(row[::step]).round(6).tolist()
            return {"kind": "signal", "signal": values, "step": step}
        names = self.feature_names or [f"feature {j}" for j in range(len(row))]
        return {"kind": "table",
                "table": [[str(name), f"{value:.6g}"] for name, value in zip(names, row)]}

    def sample(self, rows, k: int, index: int) -> dict:
        """The payload of row ``k`` of ``rows`` (pool sample ``index``)."""
        return self.payload(rows[k])

    def thumbnail(self, row) -> str | None:
        """A small PNG data URL of an image row (None for signals and tables)."""
        if self.kind != "image":
            return None
        return png_data_url(row, self.shape, self.lo, self.hi, size=48)[0]


class RecordDisplay:
    """How to show the samples of a table or text pool: ``column: value`` rows (a table's
    chosen columns) and, for text, the text, long ones scrollable in the page.

    Parameters
    ----------
    pool : skal.cli._pools.Pool
        A pool of kind ``"table"`` or ``"text"``; its ``record(i)`` and ``text(i)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skal.cli._pools import Pool
    >>> X = pd.DataFrame({"text": ["<b>hi</b>"]})
    >>> RecordDisplay(Pool(X, "text", "-", text_column="text")).sample(X, 0, 0)
    {'kind': 'text', 'record': [], 'text': '<b>hi</b>'}
    """

    def __init__(self, pool) -> None:
        self.pool = pool
        self.kind = "text" if pool.kind == "text" else "record"

    def sample(self, rows, k: int, index: int) -> dict:
        """The payload of pool sample ``index`` (its record and text, cut to what a page
        shows: ``TEXT_LIMIT`` characters of text, ``VALUE_LIMIT`` of a cell)."""
        from skal.cli._pools import TEXT_LIMIT

        out = {"kind": self.kind, "record": self.pool.record(index)}
        if self.kind == "text":
            text = self.pool.text(index)
            out["text"] = text[:TEXT_LIMIT]
            if len(text) > TEXT_LIMIT:
                out["more"] = len(text) - TEXT_LIMIT
        return out

    def thumbnail(self, row) -> None:
        """No picture: the recent answers show the sample's number."""
        return None


def pool_display(pool) -> RecordDisplay | None:
    """The display of a table or text pool; None for arrays and images (see
    :func:`choose_display`)."""
    if pool is None or pool.kind not in ("table", "text"):
        return None
    return RecordDisplay(pool)


def choose_display(n_features: int, shape=None, *, lo: float = 0.0, hi: float = 1.0) -> Display:
    """Decide how to show a pool's samples.

    An image shape (from the pool's array, an image folder or ``--image-shape``) gives
    images; flat rows of a square number of features (at least 4x4) are square greyscale
    images, as :class:`skal.CNNClassifier` reads them; other rows of at least
    ``MIN_SIGNAL_LENGTH`` features are 1-D signals, shorter ones a table.

    Examples
    --------
    >>> choose_display(64).kind, choose_display(64).shape
    ('image', (8, 8))
    >>> choose_display(40).kind, choose_display(5).kind, choose_display(12, (2, 2, 3)).shape
    ('signal', 'table', (2, 2, 3))
    """
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if math.prod(shape) == n_features:
            if len(shape) == 2 and min(shape) > 1:
                return Display("image", shape, lo, hi)
            if len(shape) == 3 and shape[2] in (1, 3, 4):
                return Display("image", shape, lo, hi)
    side = math.isqrt(n_features)
    if side >= 4 and side * side == n_features:
        return Display("image", (side, side), lo, hi)
    if n_features >= MIN_SIGNAL_LENGTH:
        return Display("signal", None, lo, hi)
    return Display("table", None, lo, hi)


def value_range(X) -> tuple[float, float]:
    """The range mapped to black..white: [0, 1] or [0, 255] when the pool fits, else its own.

    Examples
    --------
    >>> import numpy as np
    >>> value_range(np.array([[0.0, 0.5]])), value_range(np.array([[3.0, 200.0]]))
    ((0.0, 1.0), (0.0, 255.0))
    """
    lo, hi = float(np.nanmin(X)), float(np.nanmax(X))
    if lo >= 0 and hi <= 1:
        return 0.0, 1.0
    if lo >= 0 and hi <= 255:
        return 0.0, 255.0
    return lo, hi if hi > lo else lo + 1.0


def png_data_url(row, shape, lo, hi, *, size: int = 320):
    """A ``data:image/png`` URL of one image row, scaled up by whole pixels to about ``size``.

    Returns the URL and the ``(height, width)`` of the scaled image.

    Examples
    --------
    >>> import numpy as np
    >>> url, hw = png_data_url(np.linspace(0, 1, 12), (2, 2, 3), 0.0, 1.0, size=8)
    >>> url.startswith("data:image/png;base64,"), hw
    (True, (8, 8))
    """
    from PIL import Image

    pixels = np.asarray(row, dtype=np.float64).reshape(shape)
    pixels = np.clip((np.nan_to_num(pixels) - lo) / (hi - lo) * 255.0, 0, 255)
    pixels = pixels.round().astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    factor = max(1, size // max(pixels.shape[:2]))
    if factor > 1:
        pixels = np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, "PNG", compress_level=1)
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return url, pixels.shape[:2]
