"""How a campaign's pool grows with a stream: seconds to add n samples one at a time.

A stream (``skal.stream.simulate_stream``, ``learner.teach`` of new samples) adds every
arriving sample to the campaign's pool with ``Campaign.add_samples``. Until December 2026
each call copied the whole pool, so n arrivals cost O(n²): 20,000 samples of 64 features
took 21.4 s of copying alone on this 2-core VM. The pool now grows into spare rows
(``skal._pool.append_rows``). No model is fitted here: this is the bookkeeping only.

``python benchmarks/stream_growth.py [--sizes 5000,20000,100000] [--features 64]``:
prints a table, writes ``benchmarks/results/stream_growth.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def one_size(n: int, n_features: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    from skal import Campaign

    X = np.random.default_rng(0).random((n, n_features))
    campaign = Campaign(LogisticRegression(), X[:10])
    start = time.perf_counter()
    for i in range(10, n):
        campaign.add_samples(X[i:i + 1])
    seconds = time.perf_counter() - start
    assert np.array_equal(campaign.X, X)  # the pool is the stream, in order
    return {"n": n, "features": n_features, "seconds": seconds,
            "us_per_sample": 1e6 * seconds / (n - 10)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,100000")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--output", default=str(HERE / "results" / "stream_growth.json"))
    args = parser.parse_args(argv)
    rows = [one_size(int(n), args.features) for n in args.sizes.split(",")]
    print("| samples added one at a time | features | seconds | µs per sample |")
    print("|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['n']:,} | {row['features']} | {row['seconds']:.2f} | "
              f"{row['us_per_sample']:.0f} |")
    Path(args.output).write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
