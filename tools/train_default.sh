#!/usr/bin/env bash
# The main job (README): set-up, then train the default model on the embedded default config and
# evaluate it. Until the multi-task trainer lands this is the engine demo on Fashion-MNIST.
# Extra arguments go to `onemodel`, e.g. --out runs/demo to keep the trained parameters.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh > /dev/null
exec bazel run //tools:onemodel -- fmnist-demo --config configs/fmnist_demo.pbtxt "$@" \
  2> >(grep -v -E '^[0-9.]+: src/main/tools/' >&2)
