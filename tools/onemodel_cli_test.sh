#!/usr/bin/env bash
# The onemodel CLI as a user meets it: usage errors; a tiny real multi-task run (Fashion-MNIST + both
# translation directions) with checkpoints, inspect and a two-checkpoint eval (table, JSON, PNG); and every kind
# of bad input named in its error: unknown config field, missing data directory, unregistered task, unknown
# task option, a checkpoint of another model shape, a corrupt tensor file, an unknown task to evaluate.
set -uo pipefail
bin="${TEST_SRCDIR}/${TEST_WORKSPACE}/tools/onemodel"
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
check() {  # check NAME command...
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

expect "no command" 2 "usage: onemodel" -- "$bin"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$bin" frobnicate
expect "unknown flag" 2 "unknown flag --conf" -- "$bin" train --conf x
expect "missing config" 1 "/nonexistent.pbtxt: cannot open config" -- "$bin" train --config /nonexistent.pbtxt
expect "task list" 0 "translate_en_de" -- "$bin" tasks
expect "help" 0 "usage: onemodel" -- "$bin" eval --help

# The translation cache from Debian's trans-de-en, with a small subword vocabulary.
expect "prepare-data translation" 0 "wrote .*/translation" -- "$bin" prepare-data translation --out "$tmp/cache" --vocab 600
check "translation manifest and splits" grep -q '"package": "trans-de-en"' "$tmp/cache/translation/manifest.json"
check "subword model" test -s "$tmp/cache/translation/subwords.model"
expect "prepare-data missing source" 1 "/nonexistent/de-en: cannot open" -- \
  "$bin" prepare-data translation --out "$tmp/cache2" --source /nonexistent/de-en

# Speech: a real-recordings folder with two good files (copies of the Debian recordings) and the bad kinds of audio
# under names the transcripts list: each bad one reported and skipped, the good ones kept; --strict stops.
real="$tmp/real"
mkdir -p "$real/digits"
cp /usr/share/asterisk/sounds/en/digits/1.wav /usr/share/asterisk/sounds/en/digits/7.wav "$real/digits/"
/usr/bin/env python3 - "$real/digits" <<'PY'
import sys, wave
d = sys.argv[1]
for name, channels, width in (("2", 1, 1), ("3", 2, 2)):  # 8-bit; stereo
    with wave.open(f"{d}/{name}.wav", "wb") as w:
        w.setnchannels(channels); w.setsampwidth(width); w.setframerate(8000); w.writeframes(b"\x10\x20" * 800)
open(f"{d}/4.wav", "wb").close()  # empty
open(f"{d}/5.wav", "wb").write(open(f"{d}/1.wav", "rb").read()[:30])  # truncated header
PY
expect "prepare-data speech skips bad audio" 0 "skipped .*digits/2.wav: 8-bit samples" -- \
  "$bin" prepare-data speech --out "$tmp/cache" --train 48 --dev 8 --real-dir "$real" --phonemes --threads 2
for bad in "3.wav: 2 channels" "4.wav: empty file" "5.wav: truncated"; do
  check "reported: $bad" grep -q "digits/$bad" "$tmp/last_output"
done
check "the good recordings are kept" test "$(cut -f3 "$tmp/cache/speech/real.tsv" | tr '\n' ' ')" = "one seven "
check "training utterances carry their phonemes (--phonemes)" \
  bash -c "cut -f4 '$tmp/cache/speech/train.tsv' | grep -c . | grep -qx 48"
check "the manifest lists the skipped files" test "$(grep -c 'digits/[2-5].wav' "$tmp/cache/speech/manifest.json")" -eq 4
expect "prepare-data speech --strict stops at bad audio" 1 "digits/2.wav: 8-bit samples; expected 16-bit" -- \
  "$bin" prepare-data speech --out "$tmp/cache_strict" --train 8 --dev 8 --real-dir "$real" --strict
check "--strict leaves nothing behind" test -z "$(ls -A "$tmp/cache_strict" 2>/dev/null)"

tiny() {  # tiny DIM [extra task lines]
  cat <<PB
name: "tiny"
threads: 1
optimizer { lr: 3e-3 ema_decay: 0.99 }
train { max_steps: 12 log_every: 4 checkpoint_every: 6 eval_every: 12 }
model {
  dim: $1 heads: 2 image_channels: 4 audio_frame_stride: 4
  encoder_moe { num_experts: 4 hidden: 32 }
  decoder_moe { num_experts: 4 hidden: 32 layer: HIERARCHICAL groups: 2 outer_router { top_k: 1 } }
}
tasks { name: "fashion_mnist" batch_size: 8 eval_examples: 50 max_length: 24 options { key: "output" value: "text" } options { key: "vocab_dir" value: "$tmp/cache/translation" } }
tasks { name: "translate_de_en" data_dir: "$tmp/cache/translation" batch_size: 8 eval_examples: 8 max_length: 12 }
tasks { name: "translate_en_de" data_dir: "$tmp/cache/translation" batch_size: 8 eval_examples: 8 beam_size: 2 max_length: 12 }
tasks { name: "caption_fashion" batch_size: 8 eval_examples: 8 max_length: 96 options { key: "vocab_dir" value: "$tmp/cache/translation" } }
tasks { name: "speech_recognition" data_dir: "$tmp/cache/speech" batch_size: 8 eval_examples: 4 max_length: 12 beam_size: 2 options { key: "vocab_dir" value: "$tmp/cache/translation" } options { key: "mel_warp" value: "0.1" } options { key: "ctc_weight" value: "0.3" } options { key: "decode_ctc_weight" value: "0.4" } options { key: "phoneme_ctc_weight" value: "0.2" } }
PB
}
tiny 32 > "$tmp/tiny.pbtxt"
expect "train" 0 "step 12/12 \| [a-z_]+ [0-9.]+.*tok/s \| lr .* \| ETA .*encoder experts cv" -- \
  "$bin" train --config "$tmp/tiny.pbtxt" --run "$tmp/run"
expect "train evaluates" 0 "eval  step 12  translate_en_de: bleu" -- cat "$tmp/last_output"
expect "train evaluates text classification" 0 "eval  step 12  fashion_mnist: accuracy [0-9.]+  \(50 examples" -- cat "$tmp/last_output"
expect "text classification shows an image" 0 "image 0 => .*  \(reference: an? [a-z -]+\)" -- cat "$tmp/last_output"
expect "train evaluates captions" 0 "eval  step 12  caption_fashion: exact_match [0-9.]+  item_accuracy [0-9.]+  bleu" -- cat "$tmp/last_output"
expect "train evaluates speech" 0 "eval  step 12  speech_recognition: wer [0-9.]+  cer [0-9.]+  real_wer [0-9.]+  real_cer [0-9.]+  real_digits_wer [0-9.]+  wer_[a-z]+ [0-9.]+" -- cat "$tmp/last_output"
expect "train ends with the time by task" 0 "translate_de_en +[0-9.]+ %  [0-9]+ x [0-9.]+ ms" -- cat "$tmp/last_output"
expect "and by part of the step" 0 "update +[0-9.]+ %  12 x [0-9.]+ ms" -- cat "$tmp/last_output"
check "checkpoints" test -d "$tmp/run/ckpt-6" -a -d "$tmp/run/ckpt-12"
check "metrics" grep -q '"loss/fashion_mnist"' "$tmp/run/metrics.jsonl"
check "metrics: time per batch" grep -q '"ms_per_batch/translate_de_en"' "$tmp/run/metrics.jsonl"
expect "profile" 0 "onemodel profile: 3 steps of" -- "$bin" profile --config "$tmp/tiny.pbtxt" --steps 3 --top 4
expect "profile: time by op" 0 "backward  MatMul" -- cat "$tmp/last_output"
expect "profile: largest by output shape" 0 "the 4 largest by output shape" -- cat "$tmp/last_output"
expect "profile: no run dir left" 0 "^0$" -- bash -c "grep -o 'scratch run dir [^)]*' '$tmp/last_output' | \
  cut -d' ' -f4 | xargs -r ls -d 2>/dev/null | wc -l"
expect "profile: steps" 2 "--steps >= 1" -- "$bin" profile --config "$tmp/tiny.pbtxt" --steps 0
expect "profile: one task" 0 "translate_en_de +[0-9.]+ %  2 x" -- \
  "$bin" profile --config "$tmp/tiny.pbtxt" --steps 2 --top 0 --tasks translate_en_de
expect "profile: only that task" 1 "^$" -- grep -E "^  (fashion_mnist|speech_recognition) " "$tmp/last_output"
expect "profile: a task the config does not train" 1 "trains no task 'speech' \(it trains fashion_mnist, " -- \
  "$bin" profile --config "$tmp/tiny.pbtxt" --tasks speech
expect "train again resumes and stops" 0 "resuming from .*ckpt-12" -- "$bin" train --config "$tmp/tiny.pbtxt" --run "$tmp/run"
expect "inspect" 0 "step 12" -- "$bin" inspect "$tmp/run"
expect "inspect parts" 0 "encoder +[0-9]+" -- cat "$tmp/last_output"
expect "inspect expert load" 0 "encoder experts' share of routed tokens" -- cat "$tmp/last_output"
expect "inspect weight average" 0 "moving average of the weights: 12 updates, optimizer.ema_decay 0.99" -- \
  cat "$tmp/last_output"
expect "eval two checkpoints" 0 "fashion_mnist accuracy +translate_de_en bleu +translate_en_de bleu +caption_fashion exact_match +speech_recognition wer" -- \
  "$bin" eval --checkpoint "$tmp/run/ckpt-6" --checkpoint "$tmp/run" --examples 8 --out "$tmp/eval"
expect "eval reads the weight average" 0 "run/ckpt-12: evaluating the moving average of its weights" -- \
  cat "$tmp/last_output"
expect "eval table rows" 0 "run/ckpt-12 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+" -- cat "$tmp/last_output"
check "eval json" grep -q '"headline": "bleu"' "$tmp/eval/eval.json"
check "eval png" bash -c "head -c 8 '$tmp/eval/eval.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
# The same checkpoint decoding speech through its phoneme head and the training transcripts' lexicon
# (the decoding options live in the checkpoint's config).
cp -r "$tmp/run/ckpt-12" "$tmp/ckpt-12-lexicon"
sed -i '0,/key: "phoneme_ctc_weight"/s//key: "decode"\n      value: "lexicon"\n    }\n    options {\n      key: "missing_boundary_cost"\n      value: "1"\n    }\n    options {\n      key: "lexicon_beam"\n      value: "64"\n    }\n    options {\n      key: "phoneme_ctc_weight"/' \
  "$tmp/ckpt-12-lexicon/manifest.pbtxt"
check "the lexicon's decoding is configured" grep -q '"lexicon"' "$tmp/ckpt-12-lexicon/manifest.pbtxt"
check "words may follow without a boundary" grep -q '"missing_boundary_cost"' "$tmp/ckpt-12-lexicon/manifest.pbtxt"
check "the search's beam is configured" grep -q '"lexicon_beam"' "$tmp/ckpt-12-lexicon/manifest.pbtxt"
expect "eval decodes speech with the lexicon" 0 "ckpt-12-lexicon +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+" -- \
  "$bin" eval --checkpoint "$tmp/ckpt-12-lexicon" --examples 8 --out "$tmp/eval_lexicon"
expect "eval unknown task" 1 "--tasks: .* has no task 'parsing'" -- \
  "$bin" eval --checkpoint "$tmp/run" --tasks parsing --out "$tmp/eval"

# Bad input, each named in the error.
printf 'seed: 1\ntrain { max_step: 2 }\n' > "$tmp/unknown_field.pbtxt"
expect "unknown config field" 1 "unknown_field.pbtxt:2:.*max_step" -- "$bin" train --config "$tmp/unknown_field.pbtxt"
# bad_config NAME SED_EXPR PATTERN: training the tiny config edited by SED_EXPR fails, its error matching PATTERN.
bad_config() {
  local file="$tmp/${1// /_}"
  sed "$2" "$tmp/tiny.pbtxt" > "$file.pbtxt"
  expect "$1" 1 "$3" -- "$bin" train --config "$file.pbtxt" --run "${file}_run"
}
bad_config "missing data directory" 's|name: "fashion_mnist" |name: "fashion_mnist" data_dir: "/nonexistent/fmnist" |' \
  "tasks\[0\].data_dir: /nonexistent/fmnist is not a directory"
bad_config "unknown image classification output" 's|value: "text"|value: "words"|' \
  'tasks\[0\].options\[output\]: "words" is neither "class" nor "text"'
bad_config "a vocabulary for class output" 's|key: "output" value: "text"|key: "output" value: "class"|' \
  'tasks\[0\].options\[vocab_dir\]: only text output \(option output "text"\) has a vocabulary'
bad_config "class names longer than max_length" 's|eval_examples: 50 max_length: 24|eval_examples: 50 max_length: 3|' \
  'tasks\[0\].max_length: 3 would cut class names \(the longest, "[a-z -]+", is [0-9]+ subwords with its end of sentence\)'
bad_config "negative missing-boundary cost" 's|key: "phoneme_ctc_weight" value: "0.2"|key: "phoneme_ctc_weight" value: "0.2" } options { key: "missing_boundary_cost" value: "-1"|' \
  'tasks\[4\].options\[missing_boundary_cost\]: "-1" is not a number >= 0'
bad_config "lexicon beam of 0" 's|key: "phoneme_ctc_weight" value: "0.2"|key: "phoneme_ctc_weight" value: "0.2" } options { key: "lexicon_beam" value: "0"|' \
  'tasks\[4\].options\[lexicon_beam\]: "0" is not a whole number >= 1'
bad_config "unregistered task" 's|name: "translate_de_en"|name: "translate_de_fr"|' \
  "tasks\[1\].name: 'translate_de_fr' is not a registered task"
bad_config "unknown task option" 's|eval_examples: 50 |eval_examples: 50 options { key: "colour" value: "red" } |' \
  "tasks\[0\].options: unknown key 'colour'"
bad_config "bad ctc_weight" 's|value: "0.3"|value: "lots"|' \
  'tasks\[4\].options\[ctc_weight\]: "lots" is not a number >= 0'
bad_config "decode_ctc_weight over 1" 's|value: "0.4"|value: "1.5"|' \
  'tasks\[4\].options\[decode_ctc_weight\]: "1.5" is not a number >= 0 and <= 1'
bad_config "mel_warp over 0.5" 's|value: "0.1"|value: "0.7"|' \
  'tasks\[4\]\.options\[mel_warp\]: "0.7" is not a number >= 0 and <= 0.5'
bad_config "audio_frame_stride neither 4 nor 8" 's|audio_frame_stride: 4|audio_frame_stride: 2|' \
  'model.audio_frame_stride: 2 must be 4 or 8'
bad_config "bad phoneme_ctc_weight" 's|value: "0.2"|value: "-1"|' \
  'tasks\[4\].options\[phoneme_ctc_weight\]: "-1" is not a number >= 0'
# A speech cache without phonemes (built without --phonemes, or before the column existed) cannot train the
# phoneme CTC loss.
cp -r "$tmp/cache/speech" "$tmp/cache/speech_v1"
cut -f1-3 "$tmp/cache/speech/train.tsv" > "$tmp/cache/speech_v1/train.tsv"
bad_config "phoneme CTC without phonemes" 's|speech"|speech_v1"|' \
  "speech_v1/train.tsv: an utterance without phonemes .*needs a cache built by .onemodel prepare-data speech --phonemes."
bad_config "lexicon decoding without phonemes" 's|key: "phoneme_ctc_weight" value: "0.2"|key: "decode" value: "lexicon"|' \
  'tasks\[4\].options\[decode\]: decoding with the lexicon needs options\[phoneme_ctc_weight\] > 0'
bad_config "unknown speech decoding" 's|value: "0.2" }|value: "0.2" } options { key: "decode" value: "words" }|' \
  'tasks\[4\].options\[decode\]: "words" is neither "subwords" nor "lexicon"'
bad_config "no attention decoder with subword decoding" \
  's|value: "0.2" }|value: "0.2" } options { key: "attention_decoder" value: "false" }|' \
  'tasks\[4\].options\[attention_decoder\]: without the attention decoder speech decodes with options\[decode\] = "lexicon"'
bad_config "joint decoding without a CTC loss" 's|key: "ctc_weight" value: "0.3"|key: "ctc_weight" value: "0"|' \
  'tasks\[4\].options\[decode_ctc_weight\]: decoding with the CTC output needs options\[ctc_weight\] > 0'
bad_config "negative length_penalty" 's|beam_size: 2 max_length: 12|beam_size: 2 length_penalty: -1 max_length: 12|' \
  'config field tasks\[2\].length_penalty must be in \[0, 10\], got -1'
bad_config "missing stamps directory" \
  's|max_length: 96 options {|max_length: 96 options { key: "real_dir" value: "/nonexistent/stamps" } options {|' \
  "tasks\[3\].options\[real_dir\]: /nonexistent/stamps: no such directory"
bad_config "captions longer than max_length" 's|eval_examples: 8 max_length: 96 options|eval_examples: 8 max_length: 8 options|' \
  "tasks\[3\].max_length: 8 would cut captions \(the longest is [0-9]+ subwords with its end of sentence\)"
tiny 48 > "$tmp/wider.pbtxt"
sed -i 's/max_steps: 12/max_steps: 24/' "$tmp/wider.pbtxt"
expect "checkpoint of another shape" 1 "ckpt-12.*\[32\].*\[48\]|ckpt-12.*\[48\].*\[32\]" -- \
  "$bin" train --config "$tmp/wider.pbtxt" --run "$tmp/run"
cp -r "$tmp/run" "$tmp/run_corrupt"
python_flip='import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-5]^=0x10; open(p,"wb").write(b)'
/usr/bin/env python3 -c "$python_flip" "$tmp/run_corrupt/ckpt-12/params.safetensors"
expect "corrupt tensor file" 1 "params.safetensors.*CRC-32C" -- \
  "$bin" eval --checkpoint "$tmp/run_corrupt" --out "$tmp/eval2"

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
