#!/usr/bin/env bash
# onemodel and Python's reference `safetensors` package read each other's files.
set -euo pipefail
python="${ONEMODEL_PYTHON:-}"
if [[ -z "$python" ]]; then
  echo "ONEMODEL_PYTHON is not set: run tools/setup.sh (tools/test.sh does) to make the Python env" >&2
  exit 1
fi
here="${TEST_SRCDIR}/${TEST_WORKSPACE}/core"
dir="${TEST_TMPDIR}"
"$here/safetensors_interop_tool" write "$dir/ours.safetensors"
"$python" "$here/safetensors_interop.py" "$dir/ours.safetensors" "$dir/theirs.safetensors"
"$here/safetensors_interop_tool" check "$dir/theirs.safetensors"
