#!/usr/bin/env bash
# Runs a Python reference check (args: SCRIPT TOOL): the script feeds pairs to our tool and compares its
# output with the reference package's (sacrebleu, jiwer; PyPI, pinned in tools/setup.sh).
set -euo pipefail
python="${ONEMODEL_PYTHON:?ONEMODEL_PYTHON is not set: run tools/setup.sh (tools/test.sh does)}"
"$python" "$1" "$2" "$TEST_TMPDIR"
