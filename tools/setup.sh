#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian 12 machine for onemodel: the Debian packages the build
# and data need, and a Python environment with the pinned reference packages the interop tests use.
# Prints the Python path last (tools/test.sh passes it to the tests as ONEMODEL_PYTHON).
set -euo pipefail

DEBIAN_PACKAGES=(
  bazel-bootstrap
  libgoogle-glog-dev libabsl-dev libprotobuf-dev protobuf-compiler libgtest-dev
  libopenblas-dev libopenblas0-openmp
  libopenmpi-dev openmpi-bin slurmctld slurmd slurm-client munge
  nlohmann-json3-dev zlib1g-dev libpng-dev libsentencepiece-dev libfftw3-dev
  dataset-fashion-mnist trans-de-en dict-freedict-eng-deu dict-freedict-deu-eng
  espeak-ng asterisk-core-sounds-en-wav tuxpaint-stamps-default
  python3-venv
)
# Reference packages for tests (PyPI), pinned.
PYTHON_PACKAGES=(numpy==1.26.4 safetensors==0.4.5 tensorboard==2.18.0 sacrebleu==2.4.3 jiwer==3.0.4)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    "${missing[@]}" >&2
fi

venv="${ONEMODEL_VENV:-$HOME/.cache/onemodel/venv}"
stamp="$venv/.onemodel-packages"
if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "${PYTHON_PACKAGES[*]}" ]]; then
  echo "setup: making the Python environment $venv (${PYTHON_PACKAGES[*]})" >&2
  # Prefer Debian's python3 (python3-venv is installed above); any python3 with venv works.
  python=/usr/bin/python3
  [[ -x $python ]] || python=$(command -v python3)
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}" >&2
  echo "${PYTHON_PACKAGES[*]}" > "$stamp"
fi
echo "$venv/bin/python"
