"""Cross-validation that never scores an unlabeled sample: test folds of labeled rows only."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import check_cv

from skal._labels import check_y, unlabeled_mask

__all__ = ["LabeledTestSplit"]


class LabeledTestSplit:
    """Split the labeled rows with ``cv``; every unlabeled row goes to every training fold.

    With a partly unlabeled ``y`` (``-1``, ``None``, NaN or ``pd.NA`` marking unlabeled
    samples), scikit-learn's splitters put unlabeled rows into test folds, where a scorer
    would count the marker as a class (numeric ``y``) or fail inside the metric (``None``).
    This splitter tests on labeled rows only and keeps the unlabeled ones where they help:
    in training, as the pool of ``semi_supervised`` training and of ``n_queries`` campaigns
    with an oracle. Use it as the ``cv`` of ``cross_val_score``, ``cross_validate`` or
    ``GridSearchCV`` with any scorer. (The learner's own ``score`` also leaves unlabeled rows
    out, so the default scoring is right with any splitter.)

    Parameters
    ----------
    cv : int, cross-validation generator or None, default=5
        How the labeled rows are split, as scikit-learn's ``cv`` (an int means stratified
        k-fold, as for classifiers).

    Examples
    --------
    >>> import numpy as np
    >>> from skal.model_selection import LabeledTestSplit
    >>> y = np.array([0, 1, -1, 0, 1, -1, 0, 1])
    >>> for train, test in LabeledTestSplit(cv=2).split(np.zeros((8, 1)), y):
    ...     print(train, test)
    [2 4 5 6 7] [0 1 3]
    [0 1 2 3 5] [4 6 7]
    """

    def __init__(self, cv=5) -> None:
        self.cv = cv

    def split(self, X, y, groups=None):
        """Training and test indices of each split; test indices are labeled rows only."""
        if y is None:
            raise ValueError("LabeledTestSplit needs y: it splits the labeled rows of y.")
        y = check_y(y, len(y))
        unlabeled = unlabeled_mask(y)
        labeled = np.flatnonzero(~unlabeled)
        if not len(labeled):
            raise ValueError("y has no labeled rows to test on.")
        inner = check_cv(self.cv, y[labeled], classifier=True)
        sub_groups = None if groups is None else np.asarray(groups)[labeled]
        for train, test in inner.split(np.zeros((len(labeled), 1)), y[labeled], sub_groups):
            yield np.sort(np.r_[labeled[train], np.flatnonzero(unlabeled)]), labeled[test]

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of splits of ``cv``."""
        if isinstance(self.cv, int) or self.cv is None:
            return 5 if self.cv is None else int(self.cv)
        return self.cv.get_n_splits(X, y, groups)

    def __repr__(self) -> str:
        return f"LabeledTestSplit(cv={self.cv!r})"
