"""MNIST-1D: which pool training brings skal to half the best peer's labels?

The standard MNIST-1D protocol (100 initial labels, +100 a round, the data set's own CNN
training) run to 600 labels only: the best peer (modAL entropy) needs 1140 labels to random's
accuracy at 2000 (0.946), so half is 570, and a setting that gets there must reach 0.946 by
500-600 labels. Trial columns beside ``label_efficiency.py``'s ``+model_spreading``
(``LabelSpreadingPseudoLabels(embedding="model")``: 3 pseudo-labels per label, 10 neighbours):

* ``+model_spreading2`` / ``6`` / ``10``: 2, 6 or 10 pseudo-labels per label;
* ``+model_spreading_k20``: 20 neighbours in the graph;

and ``label_efficiency.py``'s ``+consistency`` (``ConsistencyTraining(epochs=450)``).

Usage (the ``label_efficiency.py`` options; results in
``results/mnist1d_spreading_trials.json``, campaigns in its ``_runs.jsonl``)::

    python benchmarks/mnist1d_spreading_trials.py --jobs 2 --strategies \\
        random,vote_entropy+consistency,random+consistency,vote_entropy+model_spreading,\\
        vote_entropy+model_spreading2,vote_entropy+model_spreading6,\\
        vote_entropy+model_spreading10,vote_entropy+model_spreading_k20,\\
        badge+model_spreading,diverse_margin+model_spreading

(``--summarize`` with the same list rebuilds the committed summary from the runs file.)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import label_efficiency as le  # noqa: E402

BUDGET = 600
TARGET = 0.946  # random's mean accuracy at 2000 labels in the full run (label_efficiency.json)
TRIALS = {
    "+model_spreading2": {"max_ratio": 2.0},
    "+model_spreading6": {"max_ratio": 6.0},
    "+model_spreading10": {"max_ratio": 10.0},
    "+model_spreading_k20": {"n_neighbors": 20},
}

# At import, so the spawned campaign processes see the same columns and budget.
le.DATASETS["mnist1d"].update(budget=BUDGET, targets=[TARGET])
le.POOL_TRAINING.update({suffix: ("label_spreading", {"embedding": "model", **options})
                         for suffix, options in TRIALS.items()})
# The longest suffix first: "+model_spreading2" must not be read as "...2" + "+model_spreading".
le.POOL_TRAINING = dict(sorted(le.POOL_TRAINING.items(), key=lambda kv: -len(kv[0])))

if __name__ == "__main__":
    argv = sys.argv[1:]
    defaults = ["--datasets", "mnist1d", "--peers", "",
                "--output", str(HERE / "results" / "mnist1d_spreading_trials.json")]
    sys.exit(le.main(defaults + argv))
