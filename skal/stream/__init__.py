"""Stream-based active learning: ask for a sample's label as it arrives, on a budget.

Samples come one at a time (or in small batches); for each, a *selector* decides at once
whether to ask for its label, under a labeling budget: a fraction of the stream, in
(0, 1]. Give :meth:`StreamSelector.decide` a fitted model (any classifier with
``predict_proba``, a fitted :class:`skal.ActiveLearningClassifier` or a
:class:`skal.Campaign`) and the samples that arrived; it answers with one bool each and
counts what it spent.

Built-in selectors (Žliobaitė et al. 2014, "Active learning with drifting streaming
data"), by name in :data:`SELECTORS`:

* :class:`RandomSelection` (``"random"``): each sample with probability ``budget``;
* :class:`FixedUncertainty` (``"fixed_uncertainty"``): the model's confidence at or below
  a fixed threshold;
* :class:`VariableUncertainty` (``"variable_uncertainty"``): below a threshold that
  adapts so that the budget is spent;
* :class:`RandomizedVariableUncertainty` (``"randomized_variable_uncertainty"``): the
  same threshold with a random factor;
* :class:`Split` (``"split"``): a share of the stream at random, the rest by variable
  uncertainty.

:func:`simulate_stream` evaluates a selector on a labeled stream: a
:class:`skal.Campaign` holds the labels and refits, and the :class:`StreamResult` has
the learning curves against samples seen and labels spent.

A selector of your own: a :class:`StreamSelector` subclass with ``want_label``.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from skal.stream import VariableUncertainty
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2))
>>> model = LogisticRegression().fit(X[:20], X[:20, 0] > 0)
>>> selector = VariableUncertainty(budget=0.1)
>>> for x in X[20:]:                      # one sample at a time, as it arrives
...     if selector.decide(model, x)[0]:
...         pass                          # ask for its label here
>>> selector.n_seen_, selector.n_asked_ <= 0.1 * 180 + 10
(180, True)
"""

from skal.stream._base import StreamSelector
from skal.stream._registry import SELECTORS, resolve_selector
from skal.stream._selectors import (
    FixedUncertainty,
    RandomizedVariableUncertainty,
    RandomSelection,
    Split,
    VariableUncertainty,
)
from skal.stream._simulate import StreamResult, simulate_stream

__all__ = [
    "SELECTORS",
    "FixedUncertainty",
    "RandomSelection",
    "RandomizedVariableUncertainty",
    "Split",
    "StreamResult",
    "StreamSelector",
    "VariableUncertainty",
    "resolve_selector",
    "simulate_stream",
]
