#!/usr/bin/env bash
set -euo pipefail
python="${ONEMODEL_PYTHON:?ONEMODEL_PYTHON is not set: run tools/setup.sh (tools/test.sh does)}"
here="${TEST_SRCDIR}/${TEST_WORKSPACE}/tasks/metrics"
"$python" "$here/error_rate_test.py" "$here/error_rate_tool" "$TEST_TMPDIR"
