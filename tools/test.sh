#!/usr/bin/env bash
# The test command (README; CI runs exactly this): set-up, the CUDA build check, then every test.
# Ends with one line "N passed, N failed" counting test targets.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(tools/setup.sh)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Debian's Bazel prints the sandbox's debug lines; they hide the real output.
sandbox_noise='^[0-9.]+: src/main/tools/'

# GPU code must never rot: compile and link it wherever the CUDA toolkit exists (no GPU needed).
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "== bazel build --config=cuda //... (compile and link only)"
  if ! bazel build --config=cuda //... > "$log" 2>&1; then
    grep -v -E "$sandbox_noise" "$log" | tail -40
    echo "CUDA build failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

echo "== bazel test //..."
set +e
bazel test --test_env=ONEMODEL_PYTHON="$python" //... "$@" 2>&1 | grep -v -E "$sandbox_noise" | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "$log" || true)
failed=$(grep -cE '^//\S+\s+(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|INCOMPLETE)' "$log" || true)
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi  # e.g. the build broke before any test ran
echo "$passed passed, $failed failed"
exit $status
