#!/usr/bin/env bash
set -euo pipefail
python="${ONEMODEL_PYTHON:?ONEMODEL_PYTHON is not set: run tools/setup.sh (tools/test.sh does)}"
here="${TEST_SRCDIR}/${TEST_WORKSPACE}/tasks/metrics"
"$python" "$here/bleu_test.py" "$here/bleu_tool" "$TEST_TMPDIR"
