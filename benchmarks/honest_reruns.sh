#!/bin/bash
# #32 honest reruns still to finish, resumable (runs files are keyed by data set, seed, column
# and settings, threads included: keep --threads 1).
# Done: digits (both protocols), MNIST-1D with CNNClassifier() (both), MNIST-1D low with the
# tuned network (5 of 10 seeds for the auto columns), MNIST-1D standard with the tuned
# network (random, auto, vote_entropy, modAL entropy, variation_ratios + consistency).
cd "$(dirname "$0")/.."
P=".venv/bin/python benchmarks/label_efficiency.py --initial random --jobs 2 --threads 1"
R=benchmarks/results
# the remaining seeds of the low-budget auto columns (random and modAL margin have 10)
nice -n 5 $P --low --datasets mnist1d --strategies auto,auto+consistency --peers modal_margin --output $R/label_efficiency_low_mnist1d_honest.json
