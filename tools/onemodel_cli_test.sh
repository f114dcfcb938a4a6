#!/usr/bin/env bash
# The onemodel CLI as a user meets it: usage errors, bad configs and data named in errors, and a short
# real run of the demo that writes a checkpoint readable by the engine.
set -uo pipefail
bin="${TEST_SRCDIR}/${TEST_WORKSPACE}/tools/onemodel"
config="${TEST_SRCDIR}/${TEST_WORKSPACE}/configs/fmnist_demo.pbtxt"
tmp="${TEST_TMPDIR}"
failures=0

# expect NAME EXPECTED_EXIT PATTERN -- command...
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out
  out=$("$@" 2>&1)
  local got=$?
  printf '%s\n' "$out" > "$tmp/last_output"
  if [[ $got -ne $want ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $got (want $want), output:"
    printf '%s\n' "$out" | tail -n 5
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

expect "no command" 2 "usage: onemodel" -- "$bin"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$bin" frobnicate
expect "unknown flag" 2 "unknown flag --conf" -- "$bin" fmnist-demo --conf x
expect "missing config" 1 "/nonexistent.pbtxt: cannot open config" -- "$bin" fmnist-demo --config /nonexistent.pbtxt

printf 'seed: 1\ntrain { batch_size: 8 epoch: 2 }\n' > "$tmp/unknown_field.pbtxt"
expect "unknown config field" 1 "unknown_field.pbtxt:2:.*epoch" -- "$bin" fmnist-demo --config "$tmp/unknown_field.pbtxt"

printf 'fmnist_demo { data_dir: "/nonexistent/fmnist" }\n' > "$tmp/no_data.pbtxt"
expect "missing data" 1 "/nonexistent/fmnist/train-images-idx3-ubyte.gz: cannot open" -- \
  "$bin" fmnist-demo --config "$tmp/no_data.pbtxt"

printf 'optimizer { lr: -1 }\n' > "$tmp/bad_lr.pbtxt"
expect "bad value" 1 "optimizer.lr must be > 0" -- "$bin" fmnist-demo --config "$tmp/bad_lr.pbtxt"

# A short real run: 30 steps of the shipped config, then a checkpoint.
grep -v '^train' "$config" > "$tmp/short.pbtxt"
printf 'train { batch_size: 64 epochs: 1 log_every: 10 max_steps: 30 }\n' >> "$tmp/short.pbtxt"
expect "short run" 0 "step +30/30 .*loss [0-9.]+.*img/s.*ETA" -- "$bin" fmnist-demo --config "$tmp/short.pbtxt" --out "$tmp"
expect "short run accuracy line" 0 "fmnist-demo: test accuracy 0\.[0-9]+" -- cat "$tmp/last_output"
[[ -s "$tmp/model.safetensors" ]] && echo "ok   checkpoint written" || { echo "FAIL checkpoint missing"; failures=$((failures + 1)); }

# The translation data cache from Debian's trans-de-en.
expect "prepare-data translation" 0 "wrote .*/translation" -- "$bin" prepare-data translation --out "$tmp/cache"
grep -q '"package": "trans-de-en"' "$tmp/cache/translation/manifest.json" && [[ -s "$tmp/cache/translation/test.tsv" ]] &&
  echo "ok   translation manifest and splits" || { echo "FAIL translation cache"; failures=$((failures + 1)); }
expect "prepare-data missing source" 1 "/nonexistent/de-en: cannot open" -- \
  "$bin" prepare-data translation --out "$tmp/cache2" --source /nonexistent/de-en

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
