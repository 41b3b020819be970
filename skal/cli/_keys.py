"""The key a person presses for each class, the same in the terminal and the web page."""

from __future__ import annotations

__all__ = ["class_keys"]

LETTERS = "abcdefghijklmnopqrstuvwxyz"
KEY_ORDER = "1234567890"  # more classes than keys: typed by the first letters of their name


def class_keys(classes) -> list[str]:
    """The key of each class: itself when every class is one distinct character, else
    ``1``-``9``, ``0`` in order (and none past the tenth). Classes with longer names are
    also chosen by typing the first letters of their name (the page's prefix match).

    Examples
    --------
    >>> class_keys([0, 1, 2]), class_keys(["cat", "dog"]), class_keys(["b", "a"])
    (['0', '1', '2'], ['1', '2'], ['b', 'a'])
    """
    names = [str(c).lower() for c in classes]
    single = all(len(n) == 1 and n in KEY_ORDER + LETTERS for n in names)
    if single and len(set(names)) == len(names):
        return names
    return [KEY_ORDER[k] if k < len(KEY_ORDER) else "" for k in range(len(names))]
