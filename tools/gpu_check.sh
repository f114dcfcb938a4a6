#!/usr/bin/env bash
# The one prepared GPU check: every GPU test and GPU benchmark, one summary at the end.
#
#   tools/gpu_check.sh                 build with --config=cuda, then run (a machine with Bazel and a GPU)
#   tools/gpu_check.sh bundle DIR      build here and collect the binaries and their shared libraries in DIR
#                                      (onemodel too, for training runs there: DIR/bin/onemodel with DIR/lib)
#   tools/gpu_check.sh run DIR         run a bundle (the lent GPU machines have CUDA but no Bazel or Debian libs)
#   tools/gpu_check.sh tools DIR       a bundle of onemodel alone (training runs: tools/gpu_default.sh)
#   tools/gpu_check.sh copy-libs BIN DIR   BIN's shared libraries into DIR, as a bundle holds them
#
# Without a GPU it prints "SKIPPED: no CUDA device" and exits 0. Save a real run's log under docs/gpu/.
set -uo pipefail
cd "$(dirname "$0")/.."

GPU_TESTS=(core/cuda_ops_test moe/moe_cuda_test model/multimodel_cuda_test train/trainer_cuda_test
           distributed/nccl_communicator_test)
GPU_BENCHES=(core/cuda_ops_bench moe/moe_cuda_bench)
TOOLS=(tools/onemodel)
EVERYTHING=("${GPU_TESTS[@]}" "${GPU_BENCHES[@]}" "${TOOLS[@]}")

# Every shared library of $1 into $2 except glibc's own (the target's must match its loader) and the CUDA toolkit's
# (too large to carry, libnccl's 218 MB included; the GPU machine has its own in /usr/local/cuda, on the binaries'
# run path).
copy_libs() {
  ldd "$1" | awk '/=> \//{print $3}' | grep -v -E '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
    grep -v -E '/usr/local/cuda' | xargs -r -I{} cp -L {} "$2/"
}

# bundle DIR BINARY...: the binaries (bazel-bin paths) built with --config=cuda, with their libraries, into DIR.
bundle() {
  local dir=$1
  shift
  local binaries=("$@") targets=()
  for t in "${binaries[@]}"; do targets+=("//${t%/*}:${t##*/}"); done
  # Portable code (AVX2) since the GPU machine's CPU may differ from this one.
  bazel build --config=cuda --config=portable "${targets[@]}" 2>&1 | grep -v -E '^[0-9.]+: src/main/tools/' | tail -3
  [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "gpu_check: CUDA build failed"; exit 1; }
  rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib" "$dir/data"
  for t in "${binaries[@]}"; do
    cp "bazel-bin/$t" "$dir/bin/"
    copy_libs "bazel-bin/$t" "$dir/lib"
  done
  # onemodel opens SentencePiece's shim at run time, from beside its binary (DIR/data).
  local shim=bazel-bin/tools/onemodel.runfiles/onemodel/data/libonemodel_sentencepiece.so
  cp -L "$shim" "$dir/data/"
  copy_libs "$shim" "$dir/lib"
  echo "gpu_check: bundle in $dir ($(du -sh "$dir" | cut -f1))"
}

run() {
  local dir=$1
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "SKIPPED: no CUDA device"
    exit 0
  fi
  echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi -L | head -1)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  export LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # NCCL and cuDNN are not in every toolkit folder; PyTorch's wheels carry them (nvidia/nccl/lib, nvidia/cudnn/lib).
  local wheel_libs
  wheel_libs=$(python3 -c 'import nvidia, os; print(":".join(os.path.join(p, s, "lib") for p in nvidia.__path__
    for s in ("nccl", "cudnn") if os.path.isdir(os.path.join(p, s, "lib"))))' 2>/dev/null)
  [[ -n "$wheel_libs" ]] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$wheel_libs"
  local passed=0 failed=0 skipped=0 names=()
  for t in "${GPU_TESTS[@]}"; do
    echo "== test ${t##*/}"
    local missing
    missing=$(ldd "$dir/bin/${t##*/}" | awk '/not found/{print $1}' | tr '\n' ' ')
    if [[ -n "$missing" ]]; then
      echo "SKIPPED: this machine lacks ${missing}"
      skipped=$((skipped + 1))
    elif "$dir/bin/${t##*/}"; then passed=$((passed + 1)); else failed=$((failed + 1)); names+=("${t##*/}"); fi
  done
  for b in "${GPU_BENCHES[@]}"; do
    echo "== bench ${b##*/}"
    if "$dir/bin/${b##*/}"; then passed=$((passed + 1)); else failed=$((failed + 1)); names+=("${b##*/}"); fi
  done
  echo "gpu_check summary: ${passed} passed, ${failed} failed ${names[*]:+(${names[*]}) }${skipped} skipped"
  [[ $failed -eq 0 ]]
}

case "${1:-all}" in
  bundle) bundle "${2:?bundle DIR}" "${EVERYTHING[@]}" ;;
  tools) bundle "${2:?tools DIR}" "${TOOLS[@]}" ;;
  copy-libs) copy_libs "${2:?copy-libs BINARY DIR}" "${3:?copy-libs BINARY DIR}" ;;
  run) run "${2:?run DIR}" ;;
  all)
    if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
      echo "SKIPPED: no CUDA device"
      exit 0
    fi
    bundle .gpu_bundle "${EVERYTHING[@]}" && run .gpu_bundle ;;
  *) echo "usage: tools/gpu_check.sh [bundle DIR | run DIR | tools DIR | copy-libs BINARY DIR]"; exit 2 ;;
esac
