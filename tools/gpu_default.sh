#!/usr/bin/env bash
# The four-task default model (configs/default.pbtxt) trained with `device: CUDA` on a lent GPU machine, which has
# CUDA but neither Bazel, nor Debian's packages, nor this machine's data, and takes at most 64 MiB of carried files
# (speech's 650 MB feature cache is built there instead):
#
#   tools/gpu_default.sh pack DIR   here: DIR/default_gpu.tar.xz (≈ 61 MiB) holding onemodel with its libraries
#                                   (portable build), espeak-ng with its libraries and voices, the asterisk
#                                   recordings and their transcripts, the Fashion-MNIST files and the translation
#                                   cache (data_cache/translation; `onemodel prepare-data translation` builds it)
#   tools/gpu_default.sh run DIR    there (e.g. `run` with carry [DIR]): unpack into /tmp, build the speech cache,
#                                   train the default config on the GPU and evaluate every task on its whole test
#                                   split; logs and the evaluation in $OUT (default DIR/out)
set -uo pipefail
cd "$(dirname "$0")/.."

pack() {
  local dir=$1 stage
  stage=$(mktemp -d)
  [[ -s data_cache/translation/subwords.model ]] || { echo "gpu_default: data_cache/translation is missing"; exit 1; }
  bash tools/gpu_check.sh tools "$stage/bundle" || exit 1
  mkdir -p "$stage/data_cache" "$stage/fashion" "$stage/speech/bin" "$stage/speech/lib"
  cp -r data_cache/translation "$stage/data_cache/"
  # Decompressed: xz packs the raw images tighter than their gzip files (the reader takes either under the name).
  for f in /usr/share/datasets/fashion-mnist/*-ubyte.gz; do gzip -dc "$f" > "$stage/fashion/${f##*/}"; done
  local espeak
  espeak=$(command -v espeak-ng) || { echo "gpu_default: espeak-ng is missing (apt-get install espeak-ng)"; exit 1; }
  cp -L "$espeak" "$stage/speech/bin/"
  bash tools/gpu_check.sh copy-libs "$espeak" "$stage/speech/lib"
  cp -rL /usr/lib/x86_64-linux-gnu/espeak-ng-data "$stage/speech/"
  cp -rL /usr/share/asterisk/sounds/en "$stage/speech/recordings"
  cp /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz "$stage/speech/"
  mkdir -p "$dir"
  tar -C "$stage" -cf - . | xz -T0 -9 > "$dir/default_gpu.tar.xz" || exit 1
  rm -rf "$stage"
  echo "gpu_default: $dir/default_gpu.tar.xz ($(du -h "$dir/default_gpu.tar.xz" | cut -f1))"
}

run() {
  local dir=$1 out=${OUT:-$1/out} work=/tmp/gpu_default
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu_default: no CUDA device here (run it on the GPU machine)"
    exit 1
  fi
  mkdir -p "$out"
  rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xJf "$dir/default_gpu.tar.xz" || exit 1
  local log="$out/default_gpu.log"
  nvidia-smi -L | tee "$log"
  local b=$work/bundle start
  export LD_LIBRARY_PATH="$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  start=$(date +%s)
  echo "== prepare-data speech" | tee -a "$log"
  (cd "$work" && PATH="$work/speech/bin:$PATH" LD_LIBRARY_PATH="$work/speech/lib:$LD_LIBRARY_PATH" \
    ESPEAK_DATA_PATH="$work/speech" "$b/bin/onemodel" prepare-data speech --out data_cache \
    --real-dir "$work/speech/recordings" --transcripts "$work/speech/core-sounds-en.txt.gz" --phonemes) 2>&1 | tee -a "$log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1
  echo "== prepare-data: $(( $(date +%s) - start )) s" | tee -a "$log"
  # The default config as it is, on the GPU, reading Fashion-MNIST from the unpacked files.
  sed -e 's|^threads: 2$|threads: 2\ndevice: CUDA|' \
      -e "s|name: \"fashion_mnist\"|name: \"fashion_mnist\" data_dir: \"$work/fashion\"|" \
      -e "s|name: \"caption_fashion\"|name: \"caption_fashion\" data_dir: \"$work/fashion\"|" \
      configs/default.pbtxt > "$out/default_cuda.pbtxt"
  grep -q "device: CUDA" "$out/default_cuda.pbtxt" || { echo "gpu_default: configs/default.pbtxt has no 'threads: 2' line"; exit 1; }
  start=$(date +%s)
  (cd "$work" && "$b/bin/onemodel" train --config "$out/default_cuda.pbtxt" --run "$work/run") 2>&1 |
    grep -v '^    @' | tee -a "$log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || exit 1
  echo "== train: $(( $(date +%s) - start )) s" | tee -a "$log"
  (cd "$work" && "$b/bin/onemodel" eval --checkpoint "$work/run" --out "$out/eval") 2>&1 | grep -v '^    @' | tee -a "$log"
  echo "== train + eval: $(( $(date +%s) - start )) s" | tee -a "$log"
}

case "${1:-}" in
  pack) pack "${2:?pack DIR}" ;;
  run) run "${2:?run DIR}" ;;
  *) echo "usage: tools/gpu_default.sh [pack DIR | run DIR]"; exit 2 ;;
esac
