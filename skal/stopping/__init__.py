"""When to stop labeling: stopping criteria a campaign checks after every fit.

A criterion looks at the newest model's predictions on a *stop set* (a fixed random sample
of the pool, the same every round; no label needed) and says whether labeling can stop, and
how close it is. Give one or several to a learner (``stopping=``) or to
:class:`skal.Campaign` through it: after each fit, the campaign records every criterion's
progress in its ``history_`` (``"stopping"``), and the first one that says stop ends
:meth:`~skal.Campaign.run` with its reason as ``stop_reason_``. Front ends show the
progress (``skal label``).

Built-in criteria:

* :class:`StabilizingPredictions` (Bloodgood & Vijay-Shanker 2009): successive models agree
  on the stop set (Cohen's kappa >= ``threshold``) for ``window`` rounds in a row;
* :class:`OverallUncertainty` (Zhu et al. 2008): the mean normalised entropy of the model's
  predictions on the stop set is below ``threshold``;
* :class:`MaxUncertainty` (Zhu et al. 2008, max-confidence): the most uncertain sample of the
  stop set is below ``threshold``.

A criterion of your own: a :class:`StoppingCriterion` subclass with ``check``.
"""

from skal.stopping._base import StoppingCriterion, StopSignal, resolve_stopping
from skal.stopping._criteria import MaxUncertainty, OverallUncertainty, StabilizingPredictions

__all__ = [
    "MaxUncertainty",
    "OverallUncertainty",
    "StabilizingPredictions",
    "StopSignal",
    "StoppingCriterion",
    "resolve_stopping",
]
