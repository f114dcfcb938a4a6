#!/usr/bin/env bash
# TensorBoard's own reader (PyPI tensorboard) reads the event file we write.
set -euo pipefail
python="${ONEMODEL_PYTHON:?ONEMODEL_PYTHON is not set: run tools/setup.sh (tools/test.sh does)}"
here="${TEST_SRCDIR}/${TEST_WORKSPACE}/train"
event_file=$("$here/metrics_writer_tool" "$TEST_TMPDIR/run")
"$python" "$here/metrics_writer_test.py" "$event_file" "$TEST_TMPDIR/run/metrics.jsonl"
