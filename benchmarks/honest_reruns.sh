#!/bin/bash
# #32 honest reruns, one after another, one core; resumable (runs files are keyed).
cd "$(dirname "$0")/.."
P=".venv/bin/python benchmarks/label_efficiency.py --initial random --jobs 1 --threads 1"
R=benchmarks/results
nice -n 5 $P --datasets digits --strategies random,auto,diverse_margin,diverse_margin+tsne_spreading --peers modal_margin --output $R/label_efficiency_honest.json
nice -n 5 $P --low --datasets mnist1d --epochs 25 --cnn-params '{"shift_augment": 0}' --strategies random,auto --peers '' --output $R/mnist1d_default_cnn_low_honest.json
nice -n 5 $P --low --datasets mnist1d --strategies random,auto,auto+consistency --peers modal_margin --output $R/label_efficiency_low_mnist1d_honest.json
nice -n 5 $P --datasets mnist1d --epochs 25 --cnn-params '{"shift_augment": 0}' --strategies random,auto --peers '' --output $R/mnist1d_default_cnn_honest.json
nice -n 5 $P --datasets mnist1d --strategies random,auto,vote_entropy --peers modal_entropy --output $R/label_efficiency_mnist1d_honest.json
