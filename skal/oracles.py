"""Oracles: who answers the labels an active learner asks for.

An oracle is either a callable ``oracle(X_batch, indices) -> labels`` or an object with a
``label(X_batch, indices)`` method; it returns one label per sample, ``-1`` or ``None`` for a
sample it skips (skipped samples are neither trained on nor asked again). An oracle may raise
:class:`StopLabeling` to end the session. An object may also define
``label_one(x, index)``; the learner then asks one sample at a time and records each answer
in its journal before asking the next one (a person's answers are never lost).

* :class:`ArrayOracle` reads labels from an array -- what a simulation uses.
* :class:`TerminalOracle` asks a person at the terminal; it shows each sample (small images
  as Unicode half-blocks in colour, other rows as text) and reads the answer.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

from skal import exceptions
from skal._params import check_count
from skal.exceptions import StopLabeling

__all__ = ["ArrayOracle", "StopLabeling", "TerminalOracle", "render_image", "safe_text"]

_COLORS = ("auto", "truecolor", "256", "none")
_ASCII_RAMP = " .:-=+*#%@"


class ArrayOracle:
    """Labels read from an array: ``y[indices]``; ``-1`` in ``y`` means "skip".

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        A label for every sample of the pool the learner is fitted on (``-1`` for samples
        the oracle does not know).

    Examples
    --------
    >>> import numpy as np
    >>> oracle = ArrayOracle([0, 1, -1])
    >>> oracle.label(np.zeros((2, 3)), [2, 1]).tolist()
    [-1, 1]
    """

    def __init__(self, y: Any) -> None:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"ArrayOracle needs a 1-D array of labels, got shape {y.shape}.")
        self.y = y

    def label(self, X_batch: Any, indices: Sequence[int]) -> np.ndarray:
        """Labels of the samples at ``indices`` (``X_batch`` is not looked at).

        Parameters
        ----------
        X_batch : array-like of shape (n_batch, ...)
            The samples (unused).
        indices : sequence of int
            Their indices in the pool.

        Returns
        -------
        labels : ndarray of shape (n_batch,)
        """
        idx = np.asarray(indices, dtype=np.intp)
        if len(idx) and (idx.min() < 0 or idx.max() >= len(self.y)):
            raise IndexError(
                f"ArrayOracle knows {len(self.y)} labels but was asked for index "
                f"{int(idx.max() if idx.max() >= len(self.y) else idx.min())}."
            )
        return self.y[idx]

    __call__ = label

    def __repr__(self) -> str:
        return f"ArrayOracle(<{len(self.y)} labels>)"


class TerminalOracle:
    """Ask a person for each label, at a terminal (or any pair of text streams).

    Each sample is shown -- as a small picture drawn with Unicode half-blocks (``▀``, two
    pixels per character, 24-bit or 256 colours) when it is image-shaped, else as a row of
    feature values -- and the answer is read from ``input``, one line per sample:

    * a label (checked against ``classes`` when given; ints are parsed as ints),
    * an empty line or ``s`` to skip the sample (it is not asked again),
    * ``q`` (or end of input) to stop: :class:`StopLabeling` is raised.

    Parameters
    ----------
    classes : sequence or None, default=None
        Allowed labels. An answer not among them is refused and asked again. With
        ``classes``, an answer may also be the class's position, ``#0``, ``#1`` ...
    input : text stream or None, default=None
        Where answers are read from; ``None`` means ``sys.stdin``.
    output : text stream or None, default=None
        Where samples and prompts are written; ``None`` means ``sys.stdout``.
    image_shape : tuple of int or None, default=None
        ``(height, width)`` or ``(height, width, channels)`` to show flat samples as images.
        ``None`` shows 2-D samples (and 3-D with 1, 3 or 4 channels) as images, flat samples
        whose length is a square of at least 16 as square grey images, others as text.
    color : {"auto", "truecolor", "256", "none"}, default="auto"
        Colour mode of images: 24-bit, the 256-colour palette, or plain characters.
        ``"auto"`` is truecolor when ``$COLORTERM`` says so, else 256 colours.
    max_width : int, default=64
        Widest image drawn, in characters; larger images are shrunk.
    feature_names : sequence of str or None, default=None
        Names shown for the values of tabular samples.
    names : sequence of str or None, default=None
        A name per pool sample (e.g. its file name), shown in each sample's header line.

    Attributes
    ----------
    stopped : bool
        Whether the person asked to stop.
    n_answered : int
        Samples answered so far (skips included).

    Examples
    --------
    Answers read from a text stream instead of a person (the second sample is skipped with an
    empty line):

    >>> import io
    >>> import numpy as np
    >>> from skal.oracles import TerminalOracle
    >>> screen = io.StringIO()
    >>> oracle = TerminalOracle(classes=["cat", "dog"], input=io.StringIO("dog\\n\\n"),
    ...                         output=screen, feature_names=["weight", "height"])
    >>> oracle(np.array([[4.2, 0.3], [30.0, 0.6]]), [7, 12])
    ['dog', None]
    >>> oracle.n_answered, oracle.stopped
    (2, False)
    >>> print(screen.getvalue().strip())
    sample 7 [1/2]
    weight=4.2  height=0.3
    label [cat, dog] (Enter/s skip, q quit): dog
    <BLANKLINE>
    sample 12 [2/2]
    weight=30  height=0.6
    label [cat, dog] (Enter/s skip, q quit):
    """

    def __init__(
        self,
        classes: Sequence[Any] | None = None,
        *,
        input: TextIO | None = None,  # noqa: A002 -- mirrors the builtin's meaning
        output: TextIO | None = None,
        image_shape: Sequence[int] | None = None,
        color: str = "auto",
        max_width: int = 64,
        feature_names: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        if color not in _COLORS:
            raise ValueError(f"color must be one of {_COLORS}, got {color!r}.")
        check_count(max_width, "max_width", low=2, caller="TerminalOracle")
        if image_shape is not None:
            image_shape = tuple(int(d) for d in image_shape)
            if len(image_shape) not in (2, 3) or min(image_shape) < 1:
                raise ValueError(
                    f"image_shape must be (height, width) or (height, width, channels), "
                    f"got {image_shape!r}."
                )
        if classes is not None:
            classes = list(classes)
            if not classes:
                raise ValueError("classes must not be empty; use None to accept any label.")
        self.classes = classes
        self.input = input
        self.output = output
        self.image_shape = image_shape
        self.color = color
        self.max_width = max_width
        self.feature_names = feature_names
        self.names = names
        self.stopped = False
        self.n_answered = 0

    # ------------------------------------------------------------------ protocol
    def label(self, X_batch: Any, indices: Sequence[int]) -> list[Any]:
        """Ask for the label of each sample of a batch, in order.

        Parameters
        ----------
        X_batch : array-like of shape (n_batch, ...)
            The samples to show.
        indices : sequence of int
            Their indices in the pool (shown, and used to look up ``names``).

        Returns
        -------
        labels : list
            One label per sample, ``None`` for a skipped one.

        Raises
        ------
        StopLabeling
            When the person types ``q`` or the input ends; its ``labels`` holds the answers
            given for this batch (``None`` for the rest).
        """
        answers: list[Any] = []
        for pos, (x, index) in enumerate(zip(X_batch, indices)):
            try:
                answers.append(self.label_one(x, index, position=(pos + 1, len(indices))))
            except StopLabeling:
                raise StopLabeling(answers + [None] * (len(indices) - len(answers))) from None
        return answers

    __call__ = label

    def label_one(self, x: Any, index: int, *, position: tuple[int, int] | None = None) -> Any:
        """Show one sample and read its label.

        Parameters
        ----------
        x : array-like
            The sample.
        index : int
            Its index in the pool.
        position : (int, int) or None, default=None
            Its position in the batch, shown in the header.

        Returns
        -------
        label : object or None
            The answer, ``None`` for a skip.

        Raises
        ------
        StopLabeling
            When the person types ``q`` or the input ends.
        """
        out = self.output if self.output is not None else sys.stdout
        inp = self.input if self.input is not None else sys.stdin
        if self.stopped:
            raise StopLabeling()
        name = ""
        if self.names is not None and 0 <= int(index) < len(self.names):
            name = f" ({safe_text(self.names[int(index)])})"
        where = f" [{position[0]}/{position[1]}]" if position else ""
        out.write(f"\nsample {int(index)}{name}{where}\n")
        out.write(self.render(x) + "\n")
        hint = self._classes_hint()
        while True:
            out.write(f"label{hint} (Enter/s skip, q quit): ")
            out.flush()
            line = inp.readline()
            if not line:  # end of input
                out.write("\n")
                self.stopped = True
                raise StopLabeling()
            answer = line.strip()
            if not _isatty(inp):  # piped answers are not echoed: keep the transcript readable
                out.write(safe_text(answer) + "\n")
            if answer.lower() in ("q", "quit", "exit"):
                self.stopped = True
                raise StopLabeling()
            if answer.lower() in ("", "s", "skip"):
                self.n_answered += 1
                return None
            label, error = self._parse(answer)
            if error is None:
                self.n_answered += 1
                return label
            out.write(f"{safe_text(error)}\n")

    # ------------------------------------------------------------------ helpers
    def _classes_hint(self) -> str:
        if self.classes is None:
            return ""
        shown = ", ".join(safe_text(c) for c in self.classes[:12])
        more = ", ..." if len(self.classes) > 12 else ""
        return f" [{shown}{more}]"

    def _parse(self, answer: str) -> tuple[Any, str | None]:
        if self.classes is None:
            try:
                return int(answer), None
            except ValueError:
                return answer, None
        for c in self.classes:
            if str(c) == answer:
                return (c.item() if isinstance(c, np.generic) else c), None
        if answer.startswith("#") and answer[1:].isdigit():
            pos = int(answer[1:])
            if pos < len(self.classes):
                c = self.classes[pos]
                return (c.item() if isinstance(c, np.generic) else c), None
        return None, f"{answer!r} is not one of the classes{self._classes_hint()}; try again."

    def render(self, x: Any) -> str:
        """The text shown for one sample: an image or a row of values.

        Parameters
        ----------
        x : array-like
            The sample.

        Returns
        -------
        str
        """
        x = np.asarray(x)
        image = self._as_image(x)
        if image is not None:
            return render_image(image, color=self._color_mode(), max_width=self.max_width)
        return _render_row(x.reshape(-1), self.feature_names)

    def _as_image(self, x: np.ndarray) -> np.ndarray | None:
        if x.dtype.kind not in "iufb":
            return None
        if self.image_shape is not None:
            if math.prod(self.image_shape) != x.size:
                return None
            return x.reshape(self.image_shape)
        if x.ndim == 2 and min(x.shape) > 1:
            return x
        if x.ndim == 3 and x.shape[2] in (1, 3, 4):
            return x
        if x.ndim == 1:
            side = math.isqrt(x.size)
            if side >= 4 and side * side == x.size:
                return x.reshape(side, side)
        return None

    def _color_mode(self) -> str:
        if self.color != "auto":
            return self.color
        if os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
            return "truecolor"
        return "256"

    def __repr__(self) -> str:
        return f"TerminalOracle(classes={self.classes!r})"


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def render_image(image: Any, *, color: str = "truecolor", max_width: int = 64) -> str:
    """Draw a small image with Unicode half-blocks, two pixel rows per text line.

    Each character is ``▀`` with the upper pixel as foreground colour and the lower pixel as
    background colour. Intensities are scaled to the image's own range.

    Parameters
    ----------
    image : array-like of shape (height, width) or (height, width, channels)
        Grey (1 channel), RGB (3) or RGBA (4, alpha ignored) pixels of any numeric range.
    color : {"truecolor", "256", "none"}, default="truecolor"
        24-bit colour escapes, the 256-colour palette, or plain characters without colour.
    max_width : int, default=64
        Images wider than this many characters are shrunk (by block averaging).

    Returns
    -------
    str
        Lines of text, each ending with a colour reset.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.oracles import render_image
    >>> image = np.add.outer(np.arange(4), np.arange(8))  # a diagonal gradient, 4 x 8 pixels
    >>> print(render_image(image, color="none"))  # two pixel rows per line
     .:-=+*#
    :-=+*#%@
    >>> render_image(image)[:30]  # 24-bit colour escapes
    '\\x1b[38;2;0;0;0m\\x1b[48;2;26;26;26m▀'
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3:
        img = img[:, :, :3]
    if img.ndim not in (2, 3) or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"render_image needs an (h, w) or (h, w, c) image, got {img.shape}.")
    factor = max(1, math.ceil(img.shape[1] / max_width))
    if factor > 1:
        h, w = (img.shape[0] // factor) * factor, (img.shape[1] // factor) * factor
        img = img[:h, :w].reshape(h // factor, factor, w // factor, factor, *img.shape[2:])
        img = img.mean(axis=(1, 3))
    finite = np.isfinite(img)
    low = img[finite].min() if finite.any() else 0.0
    high = img[finite].max() if finite.any() else 0.0
    scaled = np.where(finite, img - low, 0.0) / (high - low if high > low else 1.0)
    rgb = np.round(scaled * 255).astype(int)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    if len(rgb) % 2:
        rgb = np.concatenate([rgb, np.zeros((1, *rgb.shape[1:]), dtype=int)])
    lines = []
    for top, bottom in zip(rgb[0::2], rgb[1::2]):
        if color == "none":
            mean = (top.mean(axis=1) + bottom.mean(axis=1)) / 2
            chars = (mean / 256 * len(_ASCII_RAMP)).astype(int).clip(0, len(_ASCII_RAMP) - 1)
            lines.append("".join(_ASCII_RAMP[c] for c in chars))
            continue
        cells = []
        for t, b in zip(top, bottom):
            if color == "truecolor":
                cells.append(f"\x1b[38;2;{t[0]};{t[1]};{t[2]}m\x1b[48;2;{b[0]};{b[1]};{b[2]}m▀")
            else:
                cells.append(f"\x1b[38;5;{_xterm256(t)}m\x1b[48;5;{_xterm256(b)}m▀")
        lines.append("".join(cells) + "\x1b[0m")
    return "\n".join(lines)


def _xterm256(rgb: np.ndarray) -> int:
    r, g, b = (int(v) for v in rgb)
    if r == g == b:  # the 24-step grey ramp, with black and white from the cube
        if r < 8:
            return 16
        if r > 246:
            return 231
        return 232 + round((r - 8) / 247 * 24)
    return 16 + 36 * round(r / 255 * 5) + 6 * round(g / 255 * 5) + round(b / 255 * 5)


def safe_text(value) -> str:
    """``str(value)`` with every control or format character escaped, for a terminal.

    A file name, feature name or class name can hold escape sequences that would move the
    cursor, recolour or retitle the annotator's terminal; they are shown as ``\\x1b``-style
    escapes instead.

    Examples
    --------
    >>> print(safe_text("cat\\x1b[2Jdog"))
    cat\\x1b[2Jdog
    """
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def _render_row(x: np.ndarray, feature_names: Sequence[str] | None, limit: int = 24) -> str:
    names = list(feature_names) if feature_names is not None else None
    parts = []
    for j, v in enumerate(x[:limit]):
        name = safe_text(names[j]) if names is not None and j < len(names) else f"x{j}"
        value = f"{v:.4g}" if isinstance(v, float | np.floating) else safe_text(v)
        parts.append(f"{name}={value}")
    more = f" ... ({len(x) - limit} more)" if len(x) > limit else ""
    return "  ".join(parts) + more


def __getattr__(name: str):
    if name == "StopLabelling":  # the skal 0.1 name, deprecated
        return getattr(exceptions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
